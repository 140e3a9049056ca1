"""Submitting a dossier over HTTP: the checks, frozen fees, one confirmation email per guardian
with the PDF, the read-only view, the satisfaction rating, "to correct" and confidential
guardian contacts."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.documents import add_files
from engine.dossiers.models import Dossier, FamilyAccount, SatisfactionRating
from engine.dossiers.services import change_state
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.versions import CampaignCache
from engine.jobs import Job, JobState, can_rerun
from engine.jobs.queue import UNQUEUED_MESSAGE
from engine.web.state import app_state

from .wizardkit import PAGES, PREFILL, VALID_PAGES, page_url, post_page, squash, text_of
from conftest import family_browser
from rediskit import PrivateRedis

Login = Callable[[str, str], TestResponse]
MakeAccount = Callable[..., tuple[FamilyAccount, str]]
MakeDossier = Callable[..., Dossier]

PDF = (Path(__file__).resolve().parents[2] / "campaigns" / "files" /
       "reglement-interieur.pdf").read_bytes()
#: asked of every family by the example campaign
REQUIRED_DOCUMENTS = ("attestation_assurance", "fiche_infirmerie", "reglement_interieur")
MOTHER_CONTACT = ("0612345678", "06 12 34 56 78", "+33612345678", "claire.martin@example.fr",
                  "12 rue des Lilas")


@pytest.fixture
def family(app: Flask, csrf_token: Callable[..., str], mother: tuple[FamilyAccount, str],
           dossier: Dossier) -> FlaskClient:
    return family_browser(app, *mother)


def _fill(client: FlaskClient, dossier: Dossier) -> None:
    for page_id in PAGES:
        assert post_page(client, dossier.public_id, page_id,
                         VALID_PAGES.get(page_id)).status_code == 302, page_id


def _upload(app: Flask, db_session: Session, dossier: Dossier) -> None:
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    for document_id in REQUIRED_DOCUMENTS:
        add_files(db_session, app_state(app).storage, campaign, dossier, document_id,
                  [(PDF, f"{document_id}.pdf")], None, today=app_state(app).settings.today)


def _submit(client: FlaskClient, dossier: Dossier, csrf_token: Callable[..., str]
            ) -> TestResponse:
    review = f"/dossier/{dossier.public_id}/recapitulatif"
    html = text_of(client.get(review))
    version = html.split('name="row_version" value="')[1].split('"')[0]
    return client.post(f"/dossier/{dossier.public_id}/envoyer",
                       data={"csrf_token": csrf_token(client, review), "row_version": version})


def _reload(db_session: Session, dossier: Dossier) -> Dossier:
    db_session.expire_all()
    found = db_session.get(Dossier, dossier.id)
    assert found is not None
    return found


def _mails(tmp_path: Path) -> list[EmailMessage]:
    folder = tmp_path / "mail"
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [message_from_bytes(f.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for f in files]


def _pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _attachment(message: EmailMessage) -> bytes:
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1
    content: bytes = parts[0].get_content()
    return content


# -- submission -----------------------------------------------------------------------------

def test_submission_freezes_fees_and_mails_each_guardian(
        app: Flask, family: FlaskClient, dossier: Dossier, db_session: Session,
        csrf_token: Callable[..., str], tmp_path: Path) -> None:
    _fill(family, dossier)
    _upload(app, db_session, dossier)
    review = squash(text_of(family.get(f"/dossier/{dossier.public_id}/recapitulatif")))
    assert "Quotient familial non renseigné → tranche D" in review
    assert "604,80 €" in review
    response = _submit(family, dossier, csrf_token)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dossier/{dossier.public_id}/confirmation")
    stored = _reload(db_session, dossier)
    assert stored.state is DossierState.SUBMITTED
    assert stored.computed["total"] == "604.80"
    assert [f["amount"] for f in stored.computed["fees"]] == ["604.80"]
    # the confirmed prefill is frozen with the answers
    assert [r["prenom"] for r in stored.answers["responsables"]] == ["Claire", "Paul"]
    confirmation = text_of(family.get(response.headers["Location"]))
    assert "Dossier envoyé" in confirmation
    mails = _mails(tmp_path)
    assert sorted(m["To"] for m in mails) == ["claire.martin@example.fr",
                                              "paul.durand@example.fr"]
    for mail in mails:
        body = mail.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert "Léa Martin" in text and "604,80" in text
        assert f"/dossier/{dossier.public_id}/recapitulatif" in text
        pdf = _attachment(mail)
        assert pdf.startswith(b"%PDF")
        assert "604,80" in _pdf_text(pdf)


def test_fees_stay_frozen_when_the_family_situation_changes_later(
        app: Flask, family: FlaskClient, dossier: Dossier, db_session: Session,
        csrf_token: Callable[..., str], make_dossier: MakeDossier,
        mother: tuple[FamilyAccount, str]) -> None:
    _fill(family, dossier)
    _upload(app, db_session, dossier)
    assert _submit(family, dossier, csrf_token).status_code == 302
    # an elder sibling enrolled afterwards makes Léa second of the family: -20 % live
    elder = make_dossier(mother[0], first_name="Hugo", prefill=PREFILL)
    elder.pupil.birth_date = date(2011, 1, 1)
    _reload(db_session, dossier).pupil.birth_date = date(2014, 3, 2)
    db_session.commit()
    hugo = squash(text_of(family.get(f"/dossier/{elder.public_id}/recapitulatif")))
    assert "Réduction fratrie" not in hugo
    review = squash(text_of(family.get(f"/dossier/{dossier.public_id}/recapitulatif")))
    assert "604,80 €" in review and "483,84" not in review
    assert "604,80" in _pdf_text(family.get(f"/dossier/{dossier.public_id}/"
                                            "recapitulatif.pdf").data)
    assert _reload(db_session, dossier).computed["total"] == "604.80"


def test_submission_refused_while_pages_or_documents_are_incomplete(
        app: Flask, family: FlaskClient, dossier: Dossier, db_session: Session,
        csrf_token: Callable[..., str], tmp_path: Path) -> None:
    response = _submit(family, dossier, csrf_token)
    assert response.status_code == 422
    html = squash(text_of(response))
    assert 'role="alert"' in html
    assert "« Vie scolaire » comporte" in html
    assert "« Validation » comporte" in html  # the attestations are not ticked
    assert "Fiche infirmerie : Ce document est obligatoire" in html
    _fill(family, dossier)
    response = _submit(family, dossier, csrf_token)
    assert response.status_code == 422
    assert "comporte" not in text_of(response)
    assert "Ce document est obligatoire" in text_of(response)
    assert _reload(db_session, dossier).state is DossierState.IN_PROGRESS
    assert _mails(tmp_path) == []


def test_mail_failure_never_loses_the_submission(
        make_app: Callable[..., Flask], dossier: Dossier, db_session: Session,
        csrf_token: Callable[..., str], mother: tuple[FamilyAccount, str],
        caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(mail_url="smtp://127.0.0.1:9")  # nothing listens on the discard port
    client = family_browser(app, *mother)
    _fill(client, dossier)
    _upload(app, db_session, dossier)
    with caplog.at_level(logging.WARNING):
        response = _submit(client, dossier, csrf_token)
    assert response.status_code == 302
    assert _reload(db_session, dossier).state is DossierState.SUBMITTED
    page = text_of(client.get(response.headers["Location"]))
    assert "Dossier envoyé" in page
    assert "le courriel de confirmation n&#39;a pas pu partir" in page
    assert "confirmation mail not sent" in caplog.text
    for secret in ("claire.martin@example.fr", "paul.durand@example.fr", "MARTIN", "Léa"):
        assert secret not in caplog.text


def test_a_submission_while_the_queue_is_down_is_kept_and_its_mail_can_be_sent_later(
        make_app: Callable[..., Flask], dossier: Dossier, db_session: Session,
        csrf_token: Callable[..., str], mother: tuple[FamilyAccount, str],
        private_redis: PrivateRedis) -> None:
    app = make_app(queue_url=private_redis.url, queue_immediate=False)
    client = family_browser(app, *mother)
    _fill(client, dossier)
    _upload(app, db_session, dossier)
    private_redis.stop()
    response = _submit(client, dossier, csrf_token)
    assert response.status_code == 302
    assert _reload(db_session, dossier).state is DossierState.SUBMITTED
    page = text_of(client.get(response.headers["Location"]))
    assert "le courriel de confirmation n&#39;a pas pu partir" in page
    jobs = app_state(app).jobs
    failed = db_session.scalars(select(Job)).one()
    assert failed.job_state is JobState.FAILED and failed.message == UNQUEUED_MESSAGE
    assert can_rerun(failed)
    private_redis.start()
    again = jobs.rerun(failed, requested_by=None)
    assert again.job_state is JobState.QUEUED and jobs.huey.pending_count() == 1


def test_submitted_dossier_is_read_only(app: Flask, family: FlaskClient, dossier: Dossier,
                                        db_session: Session,
                                        csrf_token: Callable[..., str]) -> None:
    _fill(family, dossier)
    _upload(app, db_session, dossier)
    html = text_of(family.get(page_url(dossier.public_id, "restauration")))
    _submit(family, dossier, csrf_token)
    before = dict(_reload(db_session, dossier).answers)
    assert family.get(f"/dossier/{dossier.public_id}").headers["Location"].endswith(
        f"/dossier/{dossier.public_id}/recapitulatif")
    assert family.get(page_url(dossier.public_id, "eleve")).status_code == 302
    late = post_page(family, dossier.public_id, "restauration", {"f-regime": "externe"},
                     html=html)
    assert late.status_code == 302
    assert _reload(db_session, dossier).answers == before
    summary = text_of(family.get(f"/dossier/{dossier.public_id}/recapitulatif"))
    assert "Envoyé au collège le" in summary
    assert "Envoyer le dossier" not in summary and "Modifier" not in summary
    pdf = family.get(f"/dossier/{dossier.public_id}/recapitulatif.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert "Demi-pensionnaire 4 jours" in _pdf_text(pdf.data)
    again = family.post(f"/dossier/{dossier.public_id}/envoyer", data={
        "csrf_token": csrf_token(family, f"/dossier/{dossier.public_id}/confirmation"),
        "row_version": "1"})
    assert again.status_code == 302
    assert _reload(db_session, dossier).state is DossierState.SUBMITTED


# -- after submission -----------------------------------------------------------------------

def test_satisfaction_rating_once_per_dossier(app: Flask, family: FlaskClient,
                                             dossier: Dossier, db_session: Session,
                                             csrf_token: Callable[..., str]) -> None:
    url = f"/dossier/{dossier.public_id}/avis"
    token = csrf_token(family, page_url(dossier.public_id, "eleve"))
    assert family.post(url, data={"csrf_token": token, "score": "5"}).status_code == 409
    _fill(family, dossier)
    _upload(app, db_session, dossier)
    _submit(family, dossier, csrf_token)
    confirmation = text_of(family.get(f"/dossier/{dossier.public_id}/confirmation"))
    assert 'name="score"' in confirmation
    for bad in ["0", "6", "", "cinq"]:
        response = family.post(url, data={"csrf_token": token, "score": bad})
        assert response.status_code == 422
        assert "Choisissez une note de 1 à 5." in text_of(response)
    long = family.post(url, data={"csrf_token": token, "score": "3", "comment": "x" * 2001})
    assert long.status_code == 422
    ok = family.post(url, data={"csrf_token": token, "score": "4",
                                "comment": "  Simple et rapide.  "})
    assert ok.status_code == 302
    family.post(url, data={"csrf_token": token, "score": "1"})
    ratings = db_session.query(SatisfactionRating).filter_by(dossier_id=dossier.id).all()
    assert [(r.score, r.comment) for r in ratings] == [(4, "Simple et rapide.")]
    assert "vous avez donné la note de 4 sur 5" in text_of(
        family.get(f"/dossier/{dossier.public_id}/confirmation"))


def test_dossier_sent_back_to_correct_opens_again(app: Flask, family: FlaskClient,
                                                  dossier: Dossier, db_session: Session,
                                                  csrf_token: Callable[..., str],
                                                  tmp_path: Path) -> None:
    _fill(family, dossier)
    _upload(app, db_session, dossier)
    _submit(family, dossier, csrf_token)
    stored = _reload(db_session, dossier)
    change_state(db_session, stored, stored.row_version, DossierState.TO_CORRECT,
                 Actor.staff(1), message="Le numéro du contact d'urgence est incomplet.")
    resumed = family.get(f"/dossier/{dossier.public_id}")
    assert resumed.status_code == 302 and "/etape/" in resumed.headers["Location"]
    page = text_of(family.get(page_url(dossier.public_id, "urgence")))
    assert "Le collège vous demande une correction" in page
    assert "Le numéro du contact d&#39;urgence est incomplet." in page
    assert post_page(family, dossier.public_id, "urgence",
                     {"f-contacts_urgence-0-telephone": "06 55 44 33 22"},
                     html=page).status_code == 302
    assert _submit(family, dossier, csrf_token).status_code == 302
    stored = _reload(db_session, dossier)
    assert stored.state is DossierState.SUBMITTED
    assert stored.correction_message is None
    assert stored.answers["contacts_urgence"][0]["telephone"] == "+33655443322"
    assert len(_mails(tmp_path)) == 4  # two guardians, two submissions


# -- confidential contact -------------------------------------------------------------------

def _assert_hidden(text: str, where: str) -> None:
    for secret in MOTHER_CONTACT:
        assert secret not in text, (secret, where)


def test_confidential_contact_never_reaches_the_other_guardian(
        app: Flask, make_dossier: MakeDossier, mother: tuple[FamilyAccount, str],
        father: tuple[FamilyAccount, str], db_session: Session,
        csrf_token: Callable[..., str], tmp_path: Path) -> None:
    dossier = make_dossier(mother[0], father[0], prefill=PREFILL, confidential=(1,))
    dad = family_browser(app, *father)
    for page_id in PAGES:
        html = text_of(dad.get(page_url(dossier.public_id, page_id)))
        _assert_hidden(html, page_id)  # markup and the embedded JSON alike
    famille = text_of(dad.get(page_url(dossier.public_id, "famille")))
    assert "Coordonnées confidentielles" in famille
    assert "0798765432" in famille or "07 98 76 54 32" in famille  # his own stay visible
    assert 'value="remove:responsables:0"' not in famille
    # his saves neither read nor erase her contact details
    for page_id in PAGES:
        assert post_page(dad, dossier.public_id, page_id,
                         VALID_PAGES.get(page_id)).status_code == 302, page_id
    answers = _reload(db_session, dossier).answers
    claire = answers["responsables"][0]
    assert claire["_key"] == "1001"
    assert claire["telephone_portable"] == "+33612345678"
    assert claire["email"] == "claire.martin@example.fr"
    assert claire["adresse"]["line1"] == "12 rue des Lilas"
    _assert_hidden(text_of(dad.get(f"/dossier/{dossier.public_id}/recapitulatif")), "review")
    _upload(app, db_session, dossier)
    assert _submit(dad, dossier, csrf_token).status_code == 302
    _assert_hidden(_pdf_text(dad.get(f"/dossier/{dossier.public_id}/recapitulatif.pdf").data),
                   "pdf")
    mails = {m["To"]: m for m in _mails(tmp_path)}
    _assert_hidden(_pdf_text(_attachment(mails["paul.durand@example.fr"])), "his mail")
    hers = _pdf_text(_attachment(mails["claire.martin@example.fr"]))
    assert "claire.martin@example.fr" in hers  # she sees her own details
    # and she sees them on the pages too
    mum = family_browser(app, *mother)
    assert "claire.martin@example.fr" in text_of(
        mum.get(f"/dossier/{dossier.public_id}/recapitulatif"))


def test_confirmation_gives_a_reference_next_steps_and_who_sent(
        app: Flask, family: FlaskClient, dossier: Dossier, db_session: Session,
        csrf_token: Callable[..., str], tmp_path: Path) -> None:
    """Issue 10, item 16: a number to quote, what happens next, who sent it (both guardians
    are told by mail), and the downloaded PDF named like the mailed one."""
    _fill(family, dossier)
    _upload(app, db_session, dossier)
    response = _submit(family, dossier, csrf_token)
    stored = _reload(db_session, dossier)
    page = squash(text_of(family.get(response.headers["Location"])))
    reference = f"{stored.submitted_at.year}-{stored.id:06d}"  # type: ignore[union-attr]
    assert f'Numéro de dossier : <strong class="reference">{reference}</strong>' in page
    assert "par Claire Martin" in page
    assert "Et maintenant ?" in page
    assert "Frais pour l'année : <strong>604,80 €</strong>" in page
    assert "Rien n'est à payer en ligne" in page
    assert f'href="/dossier/{dossier.public_id}/modeles/fiche_infirmerie"' in page
    mails = _mails(tmp_path)
    assert sorted(m["To"] for m in mails) == ["claire.martin@example.fr",
                                              "paul.durand@example.fr"]
    for mail in mails:
        body = mail.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert "par Claire Martin" in text and f"Numéro de dossier : {reference}" in text
    mailed = {p.get_filename() for m in mails for p in m.iter_attachments()}
    pdf = family.get(f"/dossier/{dossier.public_id}/recapitulatif.pdf")
    assert pdf.headers["Content-Disposition"] == f"attachment; filename={mailed.pop()}"
    assert mailed == set()
