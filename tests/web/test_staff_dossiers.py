"""The school's pages of a campaign through the Flask client: dashboard, list, one dossier with
only its changes, documents (preview, refuse with a reason, undo), send back, validate, bulk
validation; another establishment's dossier is a 404, a missing permission a 403."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers import audit
from engine.dossiers.models import Dossier, StoredFile
from engine.dossiers.services import change_state, save_answers
from engine.dossiers.states import Actor, DossierState

from conftest import MakeAccount, MakeDossier, MakeStaff, _csrf_token
from staffkit import StaffUser

StaffLogin = Callable[[StaffUser], TestResponse]
BASE = "/etablissement/0750001A"
PREFILL: dict[str, Any] = {"pupil": {"first_name": "Léa", "last_name": "Durand", "level": "5e",
                                     "division": "5A", "phone_mobile": "0612345678",
                                     "email": "lea@example.fr"}}


def _submitted(db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier,
               first_name: str, answers: dict[str, Any], uai: str = "0750001A") -> Dossier:
    account, _ = make_account()
    prefill = {"pupil": dict(PREFILL["pupil"], first_name=first_name)}
    dossier = make_dossier(account, first_name=first_name, last_name="Durand", prefill=prefill,
                           uai=uai)
    family = Actor.family(account.id)
    save_answers(db_session, dossier, dossier.row_version, answers, "eleve", family)
    change_state(db_session, dossier, dossier.row_version, DossierState.SUBMITTED, family)
    return dossier


def _png(db_session: Session, client: FlaskClient, dossier: Dossier) -> StoredFile:
    data = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(data, "PNG")
    storage = client.application.extensions["dossiersco"].storage
    stored = StoredFile(dossier_id=dossier.id, document_id="justificatif_domicile",
                        storage_key=storage.put(data.getvalue()), filename="facture.png",
                        sha256="0" * 64, size=len(data.getvalue()), mime_type="image/png")
    db_session.add(stored)
    db_session.commit()
    return stored


def _post(client: FlaskClient, path: str, page: str, **data: Any) -> TestResponse:
    return client.post(path, data={"csrf_token": _csrf_token(client, page), **data})


def _version(client: FlaskClient, page: str) -> str:
    match = re.search(r'name="row_version" value="(\d+)"', client.get(page).get_data(True))
    assert match
    return match.group(1)


def test_the_agent_sees_only_the_changes_and_reviews_the_dossier(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    changed = _submitted(db_session, make_account, make_dossier, "Léa",
                         {"telephone_eleve": "07 00 00 00 01", "email_eleve": "lea@example.fr"})
    same = _submitted(db_session, make_account, make_dossier, "Hugo",
                      {"telephone_eleve": "+33 6 12 34 56 78"})
    stored = _png(db_session, client, changed)
    staff_login(make_staff())
    dashboard = client.get(f"{BASE}/reinscription-2026/").get_data(as_text=True)
    assert "2</strong> dossiers envoyés" in dashboard
    listing = client.get(f"{BASE}/reinscription-2026/dossiers?modifie=1").get_data(True)
    assert "Léa" in listing and "Hugo" not in listing
    page = f"{BASE}/dossier/{changed.public_id}"
    view = client.get(page).get_data(as_text=True)
    section = view.split('id="modifications"')[1].split('id="documents"')[0]
    assert "Téléphone portable de l&#39;élève" in section and "07 00 00 00 01" in section
    assert "Adresse électronique" not in section  # the same e-mail is no change
    preview = client.get(f"{page}/documents/{stored.public_id}/apercu.png")
    assert preview.status_code == 200 and preview.mimetype == "image/png"
    refused = _post(client, f"{page}/documents/{stored.public_id}", page, decision="refused",
                    reason="illisible")
    assert refused.status_code == 302
    db_session.refresh(stored)
    assert (stored.review_status, stored.refusal_reason) == ("refused", "illisible")
    assert _post(client, f"{page}/documents/{stored.public_id}", page,
                 decision="bogus").status_code == 400
    sent = _post(client, f"{page}/renvoyer", page, row_version=_version(client, page),
                 message="Merci d'envoyer une facture lisible.", targets="justificatif_domicile")
    assert sent.status_code == 302
    db_session.refresh(changed)
    assert changed.state is DossierState.TO_CORRECT
    assert changed.correction_targets == ["justificatif_domicile"]
    # the unchanged dossier goes with the bulk validation, the other is not submitted any more
    bulk = f"{BASE}/reinscription-2026/dossiers/valider"
    assert "<strong>1</strong>" in client.get(bulk).get_data(as_text=True)
    assert _post(client, bulk, bulk).status_code == 302
    db_session.refresh(same)
    assert same.state is DossierState.VALIDATED
    # what the agent did, not each page they opened
    actions = [e.action for e in reversed(audit.entries(db_session))]
    assert actions == ["document_decided", "dossier_sent_back", "dossier_validated"]
    assert audit.verify_chain(db_session)[1] is None


def _changes_column(html: str, first_name: str) -> str:
    """The « Modifications » cell of the row of ``first_name`` in the list."""
    row = next(r for r in html.split("<tr>") if f"Durand {first_name}</a>" in r)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)  # ..., Modifications, Documents, Envoyé
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cells[-3])).strip()


def test_the_list_shows_a_family_s_save_on_the_next_request(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    """The families edit while the school lists: each listing shows the changes as saved."""
    account, _ = make_account()
    lea = make_dossier(account, first_name="Léa", last_name="Durand", prefill=PREFILL)
    family = Actor.family(account.id)
    save_answers(db_session, lea, lea.row_version, {"telephone_eleve": "07 00 00 00 01"},
                 "eleve", family)
    _submitted(db_session, make_account, make_dossier, "Hugo", {})
    staff_login(make_staff())
    url = f"{BASE}/reinscription-2026/dossiers"
    html = client.get(url).get_data(as_text=True)
    assert (_changes_column(html, "Léa"), _changes_column(html, "Hugo")) == ("1 champ", "—")
    save_answers(db_session, lea, lea.row_version, {"email_eleve": "autre@example.fr"}, "eleve",
                 family)
    assert _changes_column(client.get(url).get_data(as_text=True), "Léa") == "2 champs"
    save_answers(db_session, lea, lea.row_version, {"telephone_eleve": "06 12 34 56 78",
                                                    "email_eleve": "lea@example.fr"},
                 "eleve", family)
    assert _changes_column(client.get(url).get_data(as_text=True), "Léa") == "—"
    assert "Léa" not in client.get(f"{url}?modifie=1").get_data(as_text=True)


def test_a_stale_form_does_not_validate(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    dossier = _submitted(db_session, make_account, make_dossier, "Léa", {})
    staff_login(make_staff())
    page = f"{BASE}/dossier/{dossier.public_id}"
    old = int(_version(client, page)) - 1
    response = _post(client, f"{page}/valider", page, row_version=str(old))
    assert response.status_code == 302
    db_session.refresh(dossier)
    assert dossier.state is DossierState.SUBMITTED
    assert "modifié entre-temps" in client.get(page).get_data(as_text=True)


@pytest.mark.parametrize("role", ["lecture", "gestion", "infirmerie"])
def test_roles_without_review_cannot_act(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin,
        role: str) -> None:
    dossier = _submitted(db_session, make_account, make_dossier, "Léa", {})
    staff_login(make_staff(role=role))
    page = f"{BASE}/dossier/{dossier.public_id}"
    assert client.get(f"{BASE}/reinscription-2026/dossiers").status_code == 200
    assert client.get(page).status_code == (403 if role == "infirmerie" else 200)
    token = _csrf_token(client, f"{BASE}/reinscription-2026/dossiers")
    response = client.post(f"{page}/valider", data={"csrf_token": token,
                                                    "row_version": dossier.row_version})
    assert response.status_code == 403


def test_another_establishment_is_not_found(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    elsewhere = _submitted(db_session, make_account, make_dossier, "Léa", {}, uai="0690002B")
    staff_login(make_staff())
    assert client.get(f"/etablissement/0690002B/dossier/{elsewhere.public_id}").status_code == 404
    assert client.get(f"{BASE}/dossier/{elsewhere.public_id}").status_code == 404
    assert client.get("/etablissement/0690002B/reinscription-2026/").status_code == 404
    assert client.get(f"{BASE}/inconnue/").status_code == 404


def _trail(html: str) -> list[str]:
    nav = re.search(r'<nav class="breadcrumb"[^>]*>(.*?)</nav>', html, re.S)
    assert nav
    return [re.sub(r"<[^>]+>", "", link).strip() + (" (ici)" if "aria-current" in link else "")
            for link in re.findall(r"<a [^>]*>.*?</a>", nav.group(1), re.S)]


def test_the_trail_follows_where_the_page_is(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    """A campaign page's trail ends at the campaign; a page reached from the list goes
    through the dossiers; the page shown is marked."""
    dossier = _submitted(db_session, make_account, make_dossier, "Léa", {})
    staff_login(make_staff())
    campaign = f"{BASE}/reinscription-2026"
    title = _trail(client.get(f"{campaign}/").get_data(as_text=True))[1]
    assert title.endswith(" (ici)")
    title = title.removesuffix(" (ici)")
    assert _trail(client.get(f"{campaign}/statistiques").get_data(as_text=True)) == [
        "Accueil", title]
    assert _trail(client.get(f"{campaign}/dossiers").get_data(as_text=True)) == [
        "Accueil", title, "Dossiers (ici)"]
    assert _trail(client.get(f"{BASE}/dossier/{dossier.public_id}").get_data(as_text=True)) == [
        "Accueil", title, "Dossiers"]
