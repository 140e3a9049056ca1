"""The school corrects a value from the dossier's page: any field the family sees (locked ones
included), audited, diffed like a family change and shown as "corrigé par l'établissement" to
the school and to the family; health values by the infirmerie only, sealed; the family's newer
answer replaces the correction. Through plain forms (choosing the field is a GET, the
correction a POST), so the page works without a script; a value the browser's checks would
have refused is refused by the server (422, the typed value kept)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers import sealed
from engine.dossiers.models import AuditEntry, Dossier, FamilyAccount
from engine.dossiers.services import save_answers
from engine.dossiers.states import Actor
from engine.dossiers.versions import CampaignCache

from .wizardkit import PREFILL, page_url, post_page, squash, text_of
from conftest import EXAMPLE_CAMPAIGN, MakeStaff, _csrf_token
from staffkit import StaffUser

StaffLogin = Callable[[StaffUser], TestResponse]
Account = tuple[FamilyAccount, str]
BASE = "/etablissement/0750001A"


@pytest.fixture
def family(app: Flask, mother: Account) -> FlaskClient:
    """The mother's own browser (the agent uses ``client``)."""
    browser = app.test_client()
    token = _csrf_token(browser)
    browser.post("/connexion", data={"csrf_token": token, "login": mother[0].login,
                                     "code": mother[1]})
    return browser


def _correct(client: FlaskClient, dossier: Dossier, field: str, data: dict[str, str], *,
             health: bool = False, version: str | None = None) -> TestResponse:
    path = f"{BASE}/dossier/{dossier.public_id}{'/sante' if health else ''}/corriger"
    page = text_of(client.get(f"{path}?champ={field}"))
    found = re.search(r'name="row_version" value="(\d+)"', page)
    assert found, page[:2000]
    return client.post(path, data={"csrf_token": _csrf_token(client, f"{path}?champ={field}"),
                                   "row_version": version or found.group(1), "champ": field,
                                   **data})


def _fresh(db_session: Session, dossier: Dossier) -> Dossier:
    db_session.expire_all()
    found = db_session.get(Dossier, dossier.id)
    assert found is not None
    return found


def test_a_locked_value_corrected_by_the_school_is_shown_so_to_both_sides(
        client: FlaskClient, family: FlaskClient, db_session: Session, dossier: Dossier,
        make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    page = text_of(client.get(f"{BASE}/dossier/{dossier.public_id}"))
    assert "Corriger une valeur" in page
    chooser = text_of(client.get(f"{BASE}/dossier/{dossier.public_id}/corriger?champ=nom"))
    assert "Valeur actuelle : <strong>MARTIN</strong>" in chooser
    assert "verrouillée pour la famille" in chooser
    # a staff-only field has its own form; health data is the infirmerie's
    assert 'value="mef_destination"' not in chooser and 'value="allergies"' not in chooser
    response = _correct(client, dossier, "nom", {"f-nom": "MARTIN-DURAND"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dossier/{dossier.public_id}")
    found = _fresh(db_session, dossier)
    assert found.corrections == {"nom": "MARTIN-DURAND"}
    assert found.answers.get("nom") is None  # apart from the family's answers
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "value_corrected")).one()
    assert entry.dossier_id == found.id and entry.data == {"fields": ["nom"]}
    # diffed like a family change: against what the school imported, with its author
    view = text_of(client.get(f"{BASE}/dossier/{dossier.public_id}"))
    changes = view[view.index('id="modifications"'):view.index('id="documents"')]
    assert "<del>MARTIN</del> → <ins>MARTIN-DURAND</ins>" in changes
    assert "Corrigé par l'établissement" in changes
    # the family reads the corrected value, marked, still locked
    wizard = text_of(family.get(page_url(dossier.public_id, "eleve")))
    assert "La valeur ci-dessous a été corrigée par l'établissement." in wizard
    assert 'value="MARTIN-DURAND" readonly' in wizard


def test_an_open_value_stays_corrected_until_the_family_answers_otherwise(
        client: FlaskClient, family: FlaskClient, db_session: Session, dossier: Dossier,
        make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    assert _correct(client, dossier, "telephone_eleve",
                    {"f-telephone_eleve": "06 11 22 33 44"}).status_code == 302
    corrected = _fresh(db_session, dossier).corrections["telephone_eleve"]
    wizard = text_of(family.get(page_url(dossier.public_id, "eleve")))
    assert 'id="corrige-telephone_eleve"' in wizard
    # the family goes through the page without touching it: the school's value and its
    # author stay
    assert post_page(family, dossier.public_id, "eleve").status_code == 302
    found = _fresh(db_session, dossier)
    assert found.corrections == {"telephone_eleve": corrected}
    assert "telephone_eleve" not in found.events[-1].data["fields"]
    # the family gives another number: its newer word replaces the correction
    assert post_page(family, dossier.public_id, "eleve",
                     {"f-telephone_eleve": "07 81 22 33 44"}).status_code == 302
    found = _fresh(db_session, dossier)
    assert found.corrections == {}
    assert found.answers["telephone_eleve"] != corrected
    assert 'id="corrige-telephone_eleve"' not in text_of(
        family.get(page_url(dossier.public_id, "eleve")))


def test_a_value_the_browser_would_refuse_is_refused_by_the_server(
        client: FlaskClient, db_session: Session, dossier: Dossier, make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    before = _fresh(db_session, dossier).row_version
    response = _correct(client, dossier, "telephone_eleve",
                        {"f-telephone_eleve": "pas un numéro"})
    assert response.status_code == 422
    page = text_of(response).replace("&#39;", "'")
    assert 'role="alert"' in page and "Téléphone portable de l'élève :" in page
    assert re.search(r'<input[^>]*name="f-telephone_eleve"[^>]*value="pas un numéro"', page)
    found = _fresh(db_session, dossier)
    assert found.corrections == {} and found.row_version == before


def test_refused_corrections(client: FlaskClient, db_session: Session, dossier: Dossier,
                             make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    path = f"{BASE}/dossier/{dossier.public_id}/corriger"
    token = _csrf_token(client, path)
    for field in ("mef_destination", "allergies", "responsables", "nope"):
        assert client.post(path, data={"csrf_token": token, "row_version": "1",
                                       "champ": field}).status_code == 400
    assert client.post(path, data={"row_version": "1", "champ": "nom",
                                   "f-nom": "X"}).status_code == 400  # no CSRF token
    # someone saved meanwhile: nothing written, the agent is told
    stale = _correct(client, dossier, "nom", {"f-nom": "X"}, version="99")
    assert stale.status_code == 302
    assert _fresh(db_session, dossier).corrections == {}
    assert client.get(f"{BASE}/dossier/{dossier.public_id}/sante/corriger").status_code == 403


def test_the_infirmerie_alone_corrects_a_health_value_which_stays_sealed(
        client: FlaskClient, db_session: Session, dossier: Dossier, make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    staff_login(make_staff(role="infirmerie"))
    assert client.get(f"{BASE}/dossier/{dossier.public_id}/corriger").status_code == 403
    chooser = text_of(client.get(f"{BASE}/dossier/{dossier.public_id}/sante/corriger"))
    assert 'value="allergies"' in chooser and 'value="nom"' not in chooser
    response = _correct(client, dossier, "allergies", {"f-allergies": "Arachide (PAI)"},
                        health=True)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dossier/{dossier.public_id}/sante")
    found = _fresh(db_session, dossier)
    assert found.corrections == {}
    assert sealed.health_answers(found)["allergies"] == "Arachide (PAI)"
    raw = db_session.execute(text("SELECT * FROM dossier WHERE id = :id"),
                             {"id": found.id}).mappings().one()
    assert "Arachide" not in " ".join(str(v) for v in raw.values())
    assert "Arachide (PAI)" in text_of(client.get(f"{BASE}/dossier/{dossier.public_id}/sante"))


# -- a field of a repeat's row (a guardian's phone in row 2) ---------------------------------

PHONE_2 = "responsables/1002/telephone_portable"


def test_a_guardians_phone_in_row_2_corrected_by_the_school_is_shown_so_to_both_sides(
        client: FlaskClient, family: FlaskClient, db_session: Session, dossier: Dossier,
        make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    chooser = text_of(client.get(f"{BASE}/dossier/{dossier.public_id}/corriger?champ={PHONE_2}"))
    assert '<optgroup label="Responsable légal 2">' in chooser
    assert f'<option value="{PHONE_2}" selected>' in chooser
    assert "Valeur actuelle : <strong>07 98 76 54 32</strong>" in chooser
    assert chooser.count('id="f-telephone_portable"') == 1
    assert '<label for="f-telephone_portable"' in chooser
    response = _correct(client, dossier, PHONE_2, {"f-telephone_portable": "07 81 22 33 44"})
    assert response.status_code == 302
    found = _fresh(db_session, dossier)
    assert found.answers == {}  # apart from the family's answers
    rows = found.corrections["responsables"]
    assert [r["_key"] for r in rows] == ["1001", "1002"]
    assert rows[0]["telephone_portable"] == "+33612345678"  # row 1 as imported
    assert rows[1]["telephone_portable"] == found.corrections[PHONE_2] == "+33781223344"
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "value_corrected")).one()
    assert entry.data == {"fields": ["responsables.telephone_portable"], "row": "1002"}
    assert "7812233" not in str(entry.data)  # no value in the audit trail
    # diffed like a family change, on that row's field, with when
    view = squash(text_of(client.get(f"{BASE}/dossier/{dossier.public_id}")))
    changes = view[view.index('id="modifications"'):view.index('id="documents"')]
    assert "Responsable légal 2<ul>" in changes and "Téléphone portable : " \
        "<del>07 98 76 54 32</del> → <ins>07 81 22 33 44</ins>" in changes
    assert re.search(r"\(corrigé par [^()]+ \(établissement\) le \d\d/\d\d/\d{4}\)", changes)
    assert f"?champ={PHONE_2}" in changes
    assert "Responsable légal 1" not in changes
    # the family reads it, marked on that row's field only, and in the récapitulatif
    wizard = squash(text_of(family.get(page_url(dossier.public_id, "famille"))))
    assert wizard.count("La valeur ci-dessous a été corrigée par l'établissement.") == 1
    marked = wizard.index("La valeur ci-dessous a été corrigée par l'établissement.")
    assert 'value="07 81 22 33 44"' in wizard[marked:marked + 1500]
    review = squash(text_of(family.get(f"/dossier/{dossier.public_id}/recapitulatif")))
    assert "07 81 22 33 44 <span class=\"hint corrected\">(corrigé par l'établissement)" in review
    assert review.count("(corrigé par l'établissement)") == 1


def test_the_familys_next_different_answer_replaces_that_cell_only(
        client: FlaskClient, family: FlaskClient, db_session: Session, dossier: Dossier,
        make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    assert _correct(client, dossier, PHONE_2,
                    {"f-telephone_portable": "07 81 22 33 44"}).status_code == 302
    # the family changes another value of the guardians: the corrected phone stays the
    # school's
    assert post_page(family, dossier.public_id, "famille",
                     {"f-responsables-0-email": "claire@example.org"}).status_code == 302
    found = _fresh(db_session, dossier)
    assert found.corrections[PHONE_2] == "+33781223344"
    assert found.corrections["responsables"][0]["email"] == "claire@example.org"
    assert found.answers["responsables"][0]["email"] == "claire@example.org"
    view = squash(text_of(client.get(f"{BASE}/dossier/{dossier.public_id}")))
    assert re.search(r"\(corrigé par [^()]+ \(établissement\) le ", view)
    # the family gives another number for that guardian: its newer word replaces the
    # correction, the email stays the family's
    assert post_page(family, dossier.public_id, "famille",
                     {"f-responsables-1-telephone_portable": "06 55 44 33 22"}
                     ).status_code == 302
    found = _fresh(db_session, dossier)
    assert found.corrections == {}
    assert found.answers["responsables"][1]["telephone_portable"] == "+33655443322"
    assert found.answers["responsables"][0]["email"] == "claire@example.org"
    assert "corrigée par l'établissement" not in text_of(
        family.get(page_url(dossier.public_id, "famille")))


def test_refused_row_corrections_write_nothing(
        client: FlaskClient, db_session: Session, dossier: Dossier,
        make_dossier: Callable[..., Dossier], make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    before = _fresh(db_session, dossier).row_version
    # a bad phone: the form again, with the typed value and a French message
    bad = _correct(client, dossier, PHONE_2, {"f-telephone_portable": "pas un numéro"})
    assert bad.status_code == 422
    page = text_of(bad).replace("&#39;", "'")
    assert 'role="alert"' in page and "Responsable légal 2 — Téléphone portable :" in page
    assert re.search(r'<input[^>]*name="f-telephone_portable"[^>]*value="pas un numéro"', page)
    # someone saved meanwhile
    stale = _correct(client, dossier, PHONE_2, {"f-telephone_portable": "07 81 22 33 44"},
                     version="99")
    assert stale.status_code == 302
    # a row the dossier does not hold, a field no repeat has
    path = f"{BASE}/dossier/{dossier.public_id}/corriger"
    token = _csrf_token(client, path)
    for champ, status in (("responsables/9999/telephone_portable", 404),
                          ("responsables/1002/nope", 400), ("nope/1002/nom", 400)):
        assert client.post(path, data={"csrf_token": token, "row_version": str(before),
                                       "champ": champ,
                                       "f-telephone_portable": "07 81 22 33 44"}
                           ).status_code == status, champ
    found = _fresh(db_session, dossier)
    assert found.corrections == {} and found.row_version == before
    # another establishment's agent: the dossier does not exist for them
    other = make_dossier(uai="0750002B")
    assert client.get(f"{BASE}/dossier/{other.public_id}/corriger?champ={PHONE_2}"
                      ).status_code == 404
    assert client.post(path.replace(dossier.public_id, other.public_id),
                       data={"csrf_token": token, "row_version": "1", "champ": PHONE_2,
                             "f-telephone_portable": "07 81 22 33 44"}).status_code == 404


def test_a_confidential_guardians_corrected_phone_stays_hidden_from_the_other_guardian(
        app: Flask, client: FlaskClient, family: FlaskClient, db_session: Session,
        make_dossier: Callable[..., Dossier], mother: Account, father: Account,
        make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    dossier = make_dossier(mother[0], father[0], prefill=PREFILL, confidential=(2,))
    staff_login(make_staff())
    assert _correct(client, dossier, PHONE_2,
                    {"f-telephone_portable": "07 81 22 33 44"}).status_code == 302
    # the mother (``family``) reads neither the number nor that it was corrected
    for path in (page_url(dossier.public_id, "famille"),
                 f"/dossier/{dossier.public_id}/recapitulatif"):
        page = text_of(family.get(path))
        assert "Coordonnées confidentielles" in page
        assert "81 22 33 44" not in page and "781223344" not in page, path
        assert "corrigé" not in page.replace("Corrigez", ""), path
    # her save puts the masked value back: the correction stays
    assert post_page(family, dossier.public_id, "famille").status_code == 302
    assert _fresh(db_session, dossier).corrections[PHONE_2] == "+33781223344"
    # the father reads his number, marked
    browser = app.test_client()
    browser.post("/connexion", data={"csrf_token": _csrf_token(browser),
                                     "login": father[0].login, "code": father[1]})
    page = text_of(browser.get(page_url(dossier.public_id, "famille")))
    assert 'value="07 81 22 33 44"' in page
    assert "La valeur ci-dessous a été corrigée par l'établissement." in page


def test_the_infirmerie_corrects_a_field_of_a_health_rows_sealed(
        client: FlaskClient, db_session: Session, make_dossier: Callable[..., Dossier],
        mother: Account, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    source = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace(
        "      - id: allergies\n", "      - id: vaccins\n        type: repeat\n"
        "        label: Vaccins\n        item_label: Vaccin\n        fields:\n"
        "          - id: vaccin\n            type: text\n            label: Vaccin\n"
        "      - id: allergies\n", 1)
    dossier = make_dossier(mother[0], prefill=PREFILL, source=source)
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    save_answers(db_session, dossier, dossier.row_version,
                 {"vaccins": [{"_key": "v1", "vaccin": "DTP"}]}, "sante",
                 Actor.family(mother[0].id), campaign=campaign)
    staff_login(make_staff(role="infirmerie"))
    response = _correct(client, dossier, "vaccins/v1/vaccin", {"f-vaccin": "DTPolio"},
                        health=True)
    assert response.status_code == 302
    found = _fresh(db_session, dossier)
    assert found.corrections == {}
    assert sealed.health_answers(found)["vaccins"] == [{"_key": "v1", "vaccin": "DTPolio"}]
