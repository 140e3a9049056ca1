"""The loop between the school and the family over HTTP, with mails through a real SMTP server
on loopback: a refused document (mail sent by a job and logged, reason on the family's pages,
sent again "to review", an accepted file locked), a dossier sent back (mail, the school's
words as typed, the wizard on the targets with the message, resubmitted, "changed since" for
the agent; a relay down: the action stands, the mail is retried and logged as failed), an
upload on behalf of the family,
staff-only fields never shown to nor taken from the family, and the bulk value per MEF."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pypdf import PdfReader
from smtpkit import Inbox
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers import audit
from engine.dossiers.models import Dossier, FamilyAccount, SentMessage, StoredFile
from engine.dossiers.services import change_state, save_answers
from engine.dossiers.states import Actor, DossierState
from engine.jobs import Job, JobState
from engine.jobs.tasks import FAMILY_NOTICE
from engine.web.state import app_state

from conftest import MakeAccount, MakeDossier, MakeStaff, _csrf_token, family_browser
from staffkit import StaffUser

StaffLogin = Callable[[StaffUser], TestResponse]
BASE = "/etablissement/0750001A"

CAMPAIGN = """\
language: 1
id: boucle-2027
title: Réinscription boucle
establishment: {uai: "0750001A", name: Collège Jean Moulin, email: college@example.fr}
opens: "2020-01-01"
closes: "2099-12-31"
languages: [fr]
welcome: Bienvenue.
pages:
  - id: eleve
    title: Élève
    fields:
      - id: telephone
        type: text
        label: Téléphone de l'élève
        prefill: pupil.phone_mobile
      - id: remarque
        type: textarea
        label: Remarque pour le collège
  - id: pieces
    title: Pièces à joindre
    documents: true
  - id: college
    title: Décisions du collège
    fields:
      - id: note_secretariat
        type: textarea
        label: Note confidentielle du secrétariat
        staff_only: true
      - id: mef_destination
        type: text
        label: MEF de destination
        staff_only: true
      - id: dossier_complet
        type: boolean
        label: Dossier complet
        staff_only: true
documents:
  - id: justificatif
    label: Justificatif de domicile
    accept: [png, pdf]
    max_files: 1
"""
#: what no family response may hold: the staff-only fields' labels, ids and values
STAFF_ONLY_MARKS = ("Note confidentielle", "note_secretariat", "MEF de destination",
                    "mef_destination", "Dossier complet", "dossier_complet",
                    "Décisions du collège", "Élève à surveiller")


@pytest.fixture
def app(make_app: Callable[..., Flask], smtp: tuple[Inbox, int]) -> Flask:
    return make_app(mail_url=f"smtp://127.0.0.1:{smtp[1]}")


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


def _png(colour: str = "white") -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (300, 200), colour).save(data, "PNG")
    return data.getvalue()


def _dossier(make_account: MakeAccount, make_dossier: MakeDossier, first_name: str = "Léa",
             mef: str = "10010012110") -> tuple[Dossier, FamilyAccount, str]:
    account, code = make_account(email=f"parent.{first_name.lower()}@example.fr")
    dossier = make_dossier(account, first_name=first_name, source=CAMPAIGN, campaign="boucle",
                           prefill={"pupil": {"first_name": first_name, "last_name": "Martin",
                                              "phone_mobile": "0612345678", "mef_code": mef}})
    return dossier, account, code


def _submit(db_session: Session, dossier: Dossier, account: FamilyAccount,
            answers: dict[str, Any] | None = None) -> None:
    family = Actor.family(account.id)
    save_answers(db_session, dossier, dossier.row_version, answers or {"remarque": "RAS"},
                 "eleve", family)
    change_state(db_session, dossier, dossier.row_version, DossierState.SUBMITTED, family)


def _post(client: FlaskClient, path: str, page: str, **data: Any) -> TestResponse:
    return client.post(path, data={"csrf_token": _csrf_token(client, page), **data})


def _version(client: FlaskClient, page: str) -> str:
    match = re.search(r'name="row_version" value="(\d+)"', client.get(page).get_data(True))
    assert match
    return match.group(1)


def _logged(db_session: Session) -> list[tuple[str, str, str, int | None]]:
    """The messages log: (kind, address, status, job id) of each, oldest first."""
    db_session.expire_all()
    return [(m.kind, m.address, m.status, m.job_id)
            for m in db_session.scalars(select(SentMessage).order_by(SentMessage.id))]


def _files(db_session: Session, dossier: Dossier) -> list[StoredFile]:
    db_session.expire_all()
    return list(db_session.scalars(select(StoredFile).where(StoredFile.dossier_id == dossier.id)
                                   .order_by(StoredFile.id)))


def test_a_refused_document_is_mailed_shown_sent_again_and_an_accepted_one_is_locked(
        app: Flask, client: FlaskClient, db_session: Session, inbox: Inbox,
        make_account: MakeAccount, make_dossier: MakeDossier, make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    dossier, account, code = _dossier(make_account, make_dossier)
    family = family_browser(app, account, code)
    page = f"/dossier/{dossier.public_id}/etape/pieces"
    sent = family.post(f"/dossier/{dossier.public_id}/documents/justificatif/fichiers",
                       data={"csrf_token": _csrf_token(family, page), "page": "pieces",
                             "fichier": (io.BytesIO(_png()), "facture.png")})
    assert sent.status_code == 303
    _submit(db_session, dossier, account)
    (first,) = _files(db_session, dossier)

    agent = make_staff()
    staff_login(agent)
    view = f"{BASE}/dossier/{dossier.public_id}"
    refused = _post(client, f"{view}/documents/{first.public_id}", view, decision="refused",
                    reason="autre", note="La deuxième page manque.")
    assert refused.status_code == 302
    ((to, message),) = inbox.wait_for(1)
    assert to == ["parent.léa@example.fr"] or to == [account.email]
    text = message.get_content()
    assert "Justificatif de domicile" in text and "facture.png" in text
    assert "Autre raison" in text and "La deuxième page manque." in text
    assert f"/dossier/{dossier.public_id}/documents" in text
    # sent by a job of the queue, logged with the other messages to families
    job = db_session.scalars(select(Job)).one()
    assert (job.kind, job.job_state, job.requested_by_id) == (
        FAMILY_NOTICE, JobState.DONE, agent.account.id)
    assert _logged(db_session) == [("refusal", to[0], "sent", job.id)]
    log = client.get(f"{BASE}/boucle/messages").get_data(as_text=True)
    assert "Document refusé" in log and "Document à renvoyer pour le dossier de Léa" in log

    dashboard = family.get("/mes-dossiers").get_data(as_text=True)
    assert "Autre raison" in dashboard and "La deuxième page manque." in dashboard
    overview_url = f"/dossier/{dossier.public_id}/documents"
    overview = family.get(overview_url).get_data(as_text=True)
    assert "Refusé par le collège" in overview and "La deuxième page manque." in overview
    # the dossier is sent, yet the refused file can be replaced: the new one is to review
    replaced = family.post(f"/dossier/{dossier.public_id}/fichiers/{first.public_id}/remplacer",
                           data={"csrf_token": _csrf_token(family, overview_url),
                                 "retour": "documents",
                                 "fichier": (io.BytesIO(_png("grey")), "facture-2.png")})
    assert replaced.status_code == 303 and replaced.headers["Location"].startswith(overview_url)
    (second,) = _files(db_session, dossier)
    assert (second.filename, second.review_status) == ("facture-2.png", "to_review")
    db_session.refresh(dossier)
    assert dossier.state is DossierState.SUBMITTED

    # accepted: the family can neither replace nor delete it
    assert _post(client, f"{view}/documents/{second.public_id}", view,
                 decision="accepted").status_code == 302
    token = _csrf_token(family, overview_url)
    again = family.post(f"/dossier/{dossier.public_id}/fichiers/{second.public_id}/remplacer",
                        data={"csrf_token": token, "retour": "documents",
                              "fichier": (io.BytesIO(_png("black")), "autre.png")})
    # refused writes redirect back to the page, which says what was not saved (issue 10.12)
    assert again.status_code == 303
    assert "déjà accepté ce fichier" in family.get(again.location).get_data(as_text=True)
    deleted = family.post(f"/dossier/{dossier.public_id}/fichiers/{second.public_id}/supprimer",
                          data={"csrf_token": token})
    assert deleted.status_code == 303
    assert "déjà accepté ce fichier" in family.get(deleted.location,
                                                   follow_redirects=True).get_data(as_text=True)
    assert [(f.public_id, f.review_status) for f in _files(db_session, dossier)] == [
        (second.public_id, "accepted")]
    assert "Accepté par le collège" in family.get(overview_url).get_data(as_text=True)
    assert len(inbox.messages) == 1  # an acceptance sends nothing


def test_sent_back_the_wizard_opens_on_the_targets_and_the_agent_sees_what_changed_since(
        app: Flask, client: FlaskClient, db_session: Session, inbox: Inbox,
        make_account: MakeAccount, make_dossier: MakeDossier, make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    dossier, account, code = _dossier(make_account, make_dossier)
    _submit(db_session, dossier, account, {"remarque": "Rien à signaler"})
    staff_login(make_staff())
    view = f"{BASE}/dossier/{dossier.public_id}"
    # the school's words reach the family as typed: braces are no placeholders here
    sent = _post(client, f"{view}/renvoyer", view, row_version=_version(client, view),
                 message="Précisez la remarque {eleve} et joignez un justificatif {.",
                 targets=["remarque", "justificatif"])
    assert sent.status_code == 302
    ((to, message),) = inbox.wait_for(1)
    text = message.get_content()
    assert "Précisez la remarque {eleve} et joignez un justificatif {." in text
    assert [kind for kind, *_ in _logged(db_session)] == ["sent_back"]
    assert "- Remarque pour le collège" in text and "- Justificatif de domicile" in text

    family = family_browser(app, account, code)
    opened = family.get(f"/dossier/{dossier.public_id}")
    assert opened.headers["Location"].endswith(f"/dossier/{dossier.public_id}/etape/eleve")
    wizard = family.get(opened.headers["Location"]).get_data(as_text=True)
    assert "Précisez la remarque {eleve} et joignez un justificatif {." in wizard
    assert 'class="correction-target" id="corriger-remarque"' in wizard
    assert 'id="corriger-telephone"' not in wizard
    assert f"/dossier/{dossier.public_id}/etape/pieces" in wizard.split('id="correction"')[1]
    pieces = family.get(f"/dossier/{dossier.public_id}/etape/pieces").get_data(as_text=True)
    assert 'id="corriger-justificatif"' in pieces and "document--target" in pieces

    page = f"/dossier/{dossier.public_id}/etape/eleve"
    saved = family.post(page, data={"csrf_token": _csrf_token(family, page),
                                    "row_version": _version(family, page), "action": "save",
                                    "f-telephone": "0612345678",
                                    "f-remarque": "Il déménage en août."})
    assert saved.status_code == 302
    pieces_url = f"/dossier/{dossier.public_id}/etape/pieces"
    assert family.post(f"/dossier/{dossier.public_id}/documents/justificatif/fichiers", data={
        "csrf_token": _csrf_token(family, pieces_url), "page": "pieces",
        "fichier": (io.BytesIO(_png()), "facture.png")}).status_code == 303
    review = f"/dossier/{dossier.public_id}/recapitulatif"
    resubmitted = family.post(f"/dossier/{dossier.public_id}/envoyer", data={
        "csrf_token": _csrf_token(family, review), "row_version": _version(family, review)})
    assert resubmitted.status_code == 302, re.findall(r"<li>(.*?)</li>", resubmitted.get_data(True))
    db_session.refresh(dossier)
    assert dossier.state is DossierState.SUBMITTED

    agent = client.get(view).get_data(as_text=True)
    since = agent.split('id="depuis"')[1].split('id="modifications"')[0]
    assert "Remarque pour le collège" in since and "Il déménage en août." in since
    assert "Téléphone" not in since


def test_a_relay_down_neither_fails_the_action_nor_loses_the_mail(
        app: Flask, client: FlaskClient, db_session: Session, inbox: Inbox,
        make_account: MakeAccount, make_dossier: MakeDossier, make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    dossier, account, _code = _dossier(make_account, make_dossier)
    _submit(db_session, dossier, account)
    staff_login(make_staff())
    jobs = app_state(app).jobs
    jobs.settings = replace(jobs.settings, mail_url="smtp://127.0.0.1:9")
    view = f"{BASE}/dossier/{dossier.public_id}"
    sent = _post(client, f"{view}/renvoyer", view, row_version=_version(client, view),
                 message="Joignez un justificatif.")
    assert sent.status_code == 302
    assert "renvoyé à la famille pour correction" in client.get(view).get_data(as_text=True)
    db_session.refresh(dossier)
    assert dossier.state is DossierState.TO_CORRECT
    # retried per the mail policy (three more attempts), each attempt logged
    job = db_session.scalars(select(Job)).one()
    assert (job.job_state, job.attempts) == (JobState.FAILED, 4)
    assert job.message == "1 courriel(s) sur 1 n'ont pas pu partir."
    assert [(kind, status) for kind, _, status, _ in _logged(db_session)] == [
        ("sent_back", "failed")] * 4
    log = client.get(f"{BASE}/boucle/messages").get_data(as_text=True)
    assert "Dossier renvoyé pour correction" in log and "Échec" in log
    # the failed job is listed with the campaign's jobs, to be run again once the relay is up
    assert "Courriel aux familles après une décision du collège" in client.get(
        f"{BASE}/boucle/taches").get_data(as_text=True)
    assert not inbox.messages


def test_an_agent_uploads_a_document_on_behalf_of_thefamily_browser(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    dossier, account, _code = _dossier(make_account, make_dossier)
    _submit(db_session, dossier, account)
    change_state(db_session, dossier, dossier.row_version, DossierState.VALIDATED,
                 Actor.system())
    agent = make_staff()
    staff_login(agent)
    view = f"{BASE}/dossier/{dossier.public_id}"
    bad = client.post(f"{view}/deposer", data={
        "csrf_token": _csrf_token(client, view), "document": "justificatif",
        "fichier": (io.BytesIO(b"MZ\x90\x00 not an image"), "papier.png")})
    assert bad.status_code == 302 and _files(db_session, dossier) == []
    assert "papier.png" not in client.get(view).get_data(as_text=True)
    done = client.post(f"{view}/deposer", data={
        "csrf_token": _csrf_token(client, view), "document": "justificatif",
        "fichier": (io.BytesIO(_png()), "papier.png")})
    assert done.status_code == 302
    (stored,) = _files(db_session, dossier)
    assert stored.uploaded_by_staff_id == agent.account.id and stored.uploaded_by_id is None
    assert stored.review_status == "to_review"
    db_session.refresh(dossier)
    assert dossier.state is DossierState.VALIDATED
    entry = next(e for e in audit.entries(db_session) if e.action == "document_uploaded")
    assert entry.dossier_id == dossier.id and entry.data["files"] == [stored.public_id]
    assert "papier.png" in client.get(view).get_data(as_text=True)


def test_a_read_only_agent_can_neither_upload_nor_set_school_values(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    dossier, account, _code = _dossier(make_account, make_dossier)
    _submit(db_session, dossier, account)
    staff_login(make_staff(role="lecture"))
    view = f"{BASE}/dossier/{dossier.public_id}"
    token = _csrf_token(client, view)
    assert "Réservé à l&#39;établissement" not in client.get(view).get_data(as_text=True)
    assert client.post(f"{view}/deposer", data={
        "csrf_token": token, "document": "justificatif",
        "fichier": (io.BytesIO(_png()), "papier.png")}).status_code == 403
    assert client.post(f"{view}/champs/note_secretariat", data={
        "csrf_token": token, "row_version": "9", "f-note_secretariat": "x"}).status_code == 403
    assert client.get(f"{BASE}/boucle/dossiers/mef").status_code == 403


def _family_pages(family: FlaskClient, dossier: Dossier) -> dict[str, bytes]:
    base = f"/dossier/{dossier.public_id}"
    urls = [f"{base}/etape/eleve", f"{base}/etape/pieces", f"{base}/recapitulatif",
            f"{base}/documents", "/mes-dossiers"]
    return {url: family.get(url).get_data() for url in urls}


def test_staff_only_fields_never_reach_the_family_nor_come_from_it(
        app: Flask, client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    dossier, account, code = _dossier(make_account, make_dossier)
    family = family_browser(app, account, code)
    base = f"/dossier/{dossier.public_id}"
    assert family.get(f"{base}/etape/college").status_code == 404
    page = f"{base}/etape/eleve"
    posted = family.post(page, data={"csrf_token": _csrf_token(family, page),
                                     "row_version": _version(family, page), "action": "save",
                                     "f-remarque": "Bonjour", "f-note_secretariat": "pirate",
                                     "f-mef_destination": "99999999999"})
    assert posted.status_code == 302
    assert family.post(f"{base}/etape/college", data={
        "csrf_token": _csrf_token(family, page), "row_version": _version(family, page),
        "f-note_secretariat": "pirate"}).status_code == 404
    db_session.refresh(dossier)
    assert dossier.answers.get("remarque") == "Bonjour"
    assert not {"note_secretariat", "mef_destination"} & set(dossier.answers)

    staff_login(make_staff())
    view = f"{BASE}/dossier/{dossier.public_id}"
    agent = client.get(view).get_data(as_text=True)
    assert 'id="etablissement"' in agent and "Note confidentielle du secrétariat" in agent
    for field_id, value in (("note_secretariat", "Élève à surveiller"),
                            ("dossier_complet", "true"), ("mef_destination", "10110001110")):
        saved = _post(client, f"{view}/champs/{field_id}", view,
                      row_version=_version(client, view), **{f"f-{field_id}": value})
        assert saved.status_code == 302
    assert _post(client, f"{view}/champs/remarque", view, row_version=_version(client, view),
                 **{"f-remarque": "x"}).status_code == 404
    db_session.refresh(dossier)
    assert dossier.corrections == {"note_secretariat": "Élève à surveiller",
                                   "dossier_complet": True, "mef_destination": "10110001110"}
    assert "Élève à surveiller" in client.get(view).get_data(as_text=True)
    assert [e.action for e in audit.entries(db_session)].count("value_corrected") == 3

    for url, body in _family_pages(family, dossier).items():
        text = body.decode()
        for mark in STAFF_ONLY_MARKS:
            assert mark not in text, (url, mark)
    pdf = family.get(f"{base}/recapitulatif.pdf")
    assert pdf.status_code == 200
    content = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Remarque pour le collège" in content
    for mark in STAFF_ONLY_MARKS:
        assert mark not in content, mark


def test_one_value_for_every_pupil_of_an_origin_mef(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    fifth = [_dossier(make_account, make_dossier, name, "10010012110")[0]
             for name in ("Léa", "Hugo")]
    other, _account, _code = _dossier(make_account, make_dossier, "Nina", "10110001110")
    staff_login(make_staff())
    tool = f"{BASE}/boucle/dossiers/mef"
    assert tool in client.get(f"{BASE}/boucle/dossiers").get_data(as_text=True)
    listed = client.get(tool).get_data(as_text=True)
    assert "10010012110 (2 élèves)" in listed and "10110001110 (1 élève)" in listed
    counted = client.get(f"{tool}?origine=10010012110&champ=mef_destination").get_data(True)
    assert "<strong>2</strong> dossiers" in counted
    empty = _post(client, tool, tool, origine="10010012110", champ="mef_destination")
    assert empty.status_code == 302 and all(not d.corrections for d in fifth)
    done = _post(client, tool, tool, origine="10010012110", champ="mef_destination",
                 **{"f-mef_destination": "10110001110"})
    assert done.status_code == 302
    for dossier in (*fifth, other):
        db_session.refresh(dossier)
    assert [d.corrections.get("mef_destination") for d in fifth] == ["10110001110"] * 2
    assert "mef_destination" not in other.corrections
    entries = [e for e in audit.entries(db_session) if e.action == "value_corrected"]
    assert sorted(e.dossier_id for e in entries) == sorted(d.id for d in fifth)
    assert client.get(f"{BASE}/inconnue/dossiers/mef").status_code == 404
