"""Personal data on the web: the public privacy notice of an establishment, « Mes données »
(JSON and PDF, the guardian's own data only, a confidential other guardian's contact left
out, their child's health answers in), and a whole family and staff journey whose log lines,
captured at DEBUG, hold none of the names, e-mails, phones, INE or health answers used."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers import audit
from engine.dossiers.models import AuditEntry, Dossier, FamilyAccount, StaffRole
from engine.dossiers.states import DossierState

from .wizardkit import PAGES, PREFILL, VALID_PAGES, page_url, post_page, text_of
from conftest import MakeStaff, family_browser
from staffkit import StaffUser

Account = tuple[FamilyAccount, str]
PDF = (Path(__file__).resolve().parents[2] / "campaigns" / "files" /
       "reglement-interieur.pdf").read_bytes()
REQUIRED_DOCUMENTS = ("attestation_assurance", "fiche_infirmerie", "reglement_interieur")
ALLERGY = "Arachides et kiwi"
#: the other guardian's contact details, confidential for the mother
FATHER_CONTACT = ("0798765432", "+33798765432", "paul.durand@example.fr", "8 quai Perrache")
#: every piece of personal data the journey types or the school imported
PERSONAL = ("Léa", "Claire", "Paul", "MARTIN", "DURAND", "Jeanne", "claire.martin@example.fr",
            "paul.durand@example.fr", "0612345678", "06 12 34 56 78", "+33612345678",
            "0798765432", "+33798765432", "06 11 22 33 44", "+33611223344", "070123456AB",
            "12 rue des Lilas", "8 quai Perrache", "Arachides", "2014-03-02", "02/03/2014")


def _download(client: FlaskClient, csrf_token: Callable[..., str], fmt: str) -> TestResponse:
    token = csrf_token(client, "/mes-donnees")
    response = client.post(f"/mes-donnees/{fmt}", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f"attachment; filename=mes-donnees.{fmt}"
    return response


def _fill(client: FlaskClient, dossier: Dossier, csrf_token: Callable[..., str]) -> None:
    for page_id in PAGES:
        changes = dict(VALID_PAGES.get(page_id, {}))
        if page_id == "sante":
            changes["f-allergies"] = ALLERGY
        assert post_page(client, dossier.public_id, page_id, changes).status_code == 302
    pieces = page_url(dossier.public_id, "pieces")
    for document_id in REQUIRED_DOCUMENTS:
        response = client.post(
            f"/dossier/{dossier.public_id}/documents/{document_id}/fichiers",
            data={"csrf_token": csrf_token(client, pieces),
                  "fichier": (io.BytesIO(PDF), f"{document_id}.pdf")},
            content_type="multipart/form-data")
        assert response.status_code == 303, document_id


def _pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# -- the notice -------------------------------------------------------------------------------

def test_the_privacy_notice_is_public_and_says_who_why_how_long(
        client: FlaskClient, dossier: Dossier) -> None:
    html = " ".join(text_of(client.get("/confidentialite/0750001A")).split())
    assert "Mme la principale du collège Jean Moulin" in html
    assert "dpd@ac-lyon.fr" in html
    # the example campaign closes on 30/06/2027 and keeps its data 365 days
    assert "clôture le 30/06/2027, dossiers, documents et comptes des familles supprimés " \
           "le 29/06/2028" in html
    assert "réservées à l'infirmerie" in html and "CNIL" in html
    # one establishment: the index is its notice; the footer of every page links to it
    assert "dpd@ac-lyon.fr" in text_of(client.get("/confidentialite"))
    assert 'href="/confidentialite"' in text_of(client.get("/connexion"))
    assert client.get("/confidentialite/0999999Z").status_code == 404


# -- « Mes données » --------------------------------------------------------------------------

@pytest.fixture
def confidential(make_dossier: Callable[..., Dossier], mother: Account,
                 father: Account) -> Dossier:
    """Léa's dossier, the father's contact details confidential to the mother."""
    return make_dossier(mother[0], father[0], prefill=PREFILL, confidential=(2,))


def test_my_data_holds_my_children_and_not_the_confidential_guardian(
        app: Flask, confidential: Dossier, mother: Account, make_account: Callable[..., Account],
        make_dossier: Callable[..., Dossier], csrf_token: Callable[..., str]) -> None:
    stranger, _ = make_account("Zoé Autre")
    make_dossier(stranger, first_name="Zéphyrine", last_name="Autre")
    mum = family_browser(app, *mother)
    _fill(mum, confidential, csrf_token)
    held = json.loads(_download(mum, csrf_token, "json").data)
    assert held["account"]["email"] == "claire.martin@example.fr"
    [dossier] = held["dossiers"]
    assert dossier["pupil"]["first_name"] == "Léa"
    assert dossier["imported"]["pupil"]["ine"] == "070123456AB"
    assert dossier["answers"]["allergies"] == ALLERGY  # her child's health data: hers to read
    assert {d["filename"] for d in dossier["documents"]} == {
        f"{d}.pdf" for d in REQUIRED_DOCUMENTS}
    assert dossier["purge_on"] == "2028-06-29"
    raw = json.dumps(held, ensure_ascii=False)
    for secret in FATHER_CONTACT:
        assert secret not in raw, secret
    assert "Zéphyrine" not in raw
    text = _pdf_text(_download(mum, csrf_token, "pdf").data)
    assert "Léa" in text and ALLERGY in text and "29/06/2028" in text
    for secret in FATHER_CONTACT:
        assert secret not in text, secret


def test_my_data_needs_a_login_a_post_and_the_token(app: Flask, client: FlaskClient,
                                                    confidential: Dossier, mother: Account,
                                                    csrf_token: Callable[..., str]) -> None:
    assert client.get("/mes-donnees").headers["Location"].startswith("/connexion")
    mum = family_browser(app, *mother)
    assert mum.get("/mes-donnees/json").status_code == 405
    assert mum.post("/mes-donnees/json").status_code == 400  # no CSRF token
    page = text_of(mum.get("/mes-donnees"))
    assert 'action="/mes-donnees/pdf"' in page and 'href="/mes-donnees"' in page


# -- logs ---------------------------------------------------------------------------------------

def _leaks(records: list[logging.LogRecord]) -> list[tuple[str, str]]:
    patterns = [(p, re.compile(rf"(?<!\w){re.escape(p)}(?!\w)", re.IGNORECASE))
                for p in PERSONAL]
    found = []
    for record in records:
        line = record.getMessage() + (f" {record.exc_text}" if record.exc_text else "")
        found += [(p, line[:300]) for p, pattern in patterns if pattern.search(line)]
    return found


def _staff_journey(client: FlaskClient, user: StaffUser, dossier: Dossier,
                   staff_login: Callable[[StaffUser], TestResponse],
                   csrf_token: Callable[..., str]) -> None:
    assert staff_login(user).status_code == 302
    base = "/etablissement/0750001A"
    assert client.get(f"{base}/reinscription-2026/dossiers?q=Martin").status_code == 200
    page = client.get(f"{base}/dossier/{dossier.public_id}")
    assert page.status_code == 200
    html = text_of(page)
    version = html.split('name="row_version" value="')[1].split('"')[0]
    download = re.search(rf"{base}/dossier/{dossier.public_id}/documents/[\w-]+(?=\")", html)
    assert download is not None
    assert client.get(download.group(0)).status_code == 200
    response = client.post(f"{base}/dossier/{dossier.public_id}/valider", data={
        "csrf_token": csrf_token(client, f"{base}/dossier/{dossier.public_id}"),
        "row_version": version})
    assert response.status_code in (302, 303), text_of(response)[:500]


def test_a_whole_journey_logs_no_personal_data(
        app: Flask, client: FlaskClient, dossier: Dossier, mother: Account, father: Account,
        db_session: Session, make_staff: MakeStaff, staff_login: Callable[[StaffUser], TestResponse],
        csrf_token: Callable[..., str], caplog: pytest.LogCaptureFixture) -> None:
    staff = make_staff(role=StaffRole.DIRECTION)
    caplog.set_level(logging.DEBUG)
    # a mistyped code, then the whole family side
    wrong = app.test_client()
    wrong.post("/connexion", data={"csrf_token": csrf_token(wrong),
                                   "login": "claire.martin@example.fr", "code": "WRONG-CODE"})
    mum = family_browser(app, *mother)
    _fill(mum, dossier, csrf_token)
    review = f"/dossier/{dossier.public_id}/recapitulatif"
    version = text_of(mum.get(review)).split('name="row_version" value="')[1].split('"')[0]
    assert mum.post(f"/dossier/{dossier.public_id}/envoyer", data={
        "csrf_token": csrf_token(mum, review), "row_version": version}).status_code == 302
    assert mum.get(f"{review}.pdf").status_code == 200
    _download(mum, csrf_token, "json")
    _download(mum, csrf_token, "pdf")
    dad = family_browser(app, *father)
    assert dad.get(review).status_code == 200
    # the school's side
    _staff_journey(client, staff, dossier, staff_login, csrf_token)
    db_session.expire_all()
    found = db_session.get(Dossier, dossier.id)
    assert found is not None and found.state is DossierState.VALIDATED
    # the scan itself finds a leak when there is one
    planted = logging.makeLogRecord({"msg": "login %s", "args": ("Claire.Martin@example.fr",)})
    assert _leaks([planted]) != []
    assert len(caplog.records) > 100  # DEBUG really was captured (huey, fpdf, markdown-it…)
    assert _leaks(caplog.records) == []
    # nor does the audit trail, which outlives the dossiers
    entries: list[Any] = [(e.action, e.data) for e in audit.entries(db_session, limit=1000)]
    assert entries and all(isinstance(e, AuditEntry) for e in audit.entries(db_session))
    raw = json.dumps(entries, ensure_ascii=False)
    assert [p for p in PERSONAL if p.lower() in raw.lower()] == []
