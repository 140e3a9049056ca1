"""Document uploads over HTTP: good and bad files, serving, access checks, CSRF, states."""

from __future__ import annotations

import hashlib
import html
import io
import os
import re
import secrets
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pytest
from dossiers.test_documents import EXE, image_bytes, javascript_pdf, pdf_bytes, truncated_jpeg
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.app import create_app
from engine.config import ROOT, Settings
from engine.dossiers.accounts import link_guardian
from engine.dossiers.models import Dossier, FamilyAccount, StoredFile
from engine.dossiers.services import (
    add_pupil,
    change_state,
    create_dossier,
    ensure_establishment,
)
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.versions import register_version
from engine.web.state import app_state

from conftest import BOTH_STORAGES

EXAMPLE = ROOT / "campaigns" / "college-jean-moulin.yaml"
PIECES = "pieces"


@dataclass
class Family:
    account: FamilyAccount
    code: str
    dossier: Dossier

    @property
    def base(self) -> str:
        return f"/dossier/{self.dossier.public_id}"


@pytest.fixture
def make_family(db_session: Session, make_account: Any) -> Callable[..., Family]:
    """A guardian and their child's dossier on the example campaign."""
    establishment = ensure_establishment(db_session, uai="0691234A", name="Collège Jean Moulin")
    version = register_version(db_session, establishment, slug="college-jean-moulin-2027",
                               title="Réinscription 2027-2028",
                               source=EXAMPLE.read_text(encoding="utf-8"))
    db_session.commit()

    def make(first_name: str = "Léa", answers: dict[str, Any] | None = None) -> Family:
        account, code = make_account(display_name=f"Parent de {first_name}")
        pupil = add_pupil(db_session, establishment, first_name=first_name, last_name="MARTIN",
                          eleve_id=secrets.token_hex(4))
        link_guardian(db_session, account, pupil, guardian_key="1")
        dossier = create_dossier(db_session, pupil, version, prefill={
            "pupil": {"first_name": first_name, "last_name": "MARTIN", "level": "5e"}})
        if answers:
            dossier.answers = answers
            db_session.commit()
        return Family(account, code, dossier)

    return make


@pytest.fixture
def family(make_family: Callable[..., Family], login: Callable[[str, str], TestResponse],
           ) -> Family:
    """A logged-in guardian."""
    made = make_family()
    assert login(made.account.login, made.code).status_code == 302
    return made


@pytest.fixture
def token(client: FlaskClient, family: Family, csrf_token: Callable[..., str]) -> str:
    return csrf_token(client, "/mes-dossiers")


def stored_count(db_session: Session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count(StoredFile.id))) or 0


def objects(app: Flask) -> list[str]:
    return sorted(o.key for o in app_state(app).storage.objects())


def upload(client: FlaskClient, family: Family, token: str | None, document_id: str,
           *files: tuple[bytes, str], page: str = PIECES) -> TestResponse:
    data: dict[str, Any] = {"page": page,
                            "fichier": [(io.BytesIO(d), name) for d, name in files]}
    if token is not None:
        data["csrf_token"] = token
    return client.post(f"{family.base}/documents/{document_id}/fichiers", data=data,
                       content_type="multipart/form-data")


def refused_page(client: FlaskClient, response: TestResponse, family: Family) -> str:
    """A refused write redirects back to the documents' page (no POST URL left in the address
    bar, issue 10 item 12): the text of that page."""
    assert response.status_code == 303, response.status_code
    assert response.headers["Location"].startswith(f"{family.base}/etape/{PIECES}")
    return client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)


def file_ids(db_session: Session, document_id: str | None = None) -> list[str]:
    db_session.expire_all()
    query = select(StoredFile.public_id).order_by(StoredFile.id)
    if document_id:
        query = query.where(StoredFile.document_id == document_id)
    return list(db_session.scalars(query))


# -- good files ------------------------------------------------------------------------------

@BOTH_STORAGES
def test_upload_redirects_to_the_wizard_page_and_lists_the_file(
        client: FlaskClient, family: Family, token: str, db_session: Session) -> None:
    response = upload(client, family, token, "attestation_assurance",
                      (pdf_bytes(), "assurance.pdf"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"{family.base}/etape/{PIECES}#document-attestation_assurance")
    (file_id,) = file_ids(db_session)
    page = client.get(f"{family.base}/etape/{PIECES}").get_data(as_text=True)
    assert "assurance.pdf" in page
    assert f"{family.base}/fichiers/{file_id}/apercu" in page
    assert f"{family.base}/fichiers/{file_id}/supprimer" in page


@BOTH_STORAGES
def test_recto_and_verso_in_one_request(client: FlaskClient, family: Family, token: str,
                                        db_session: Session, app: Flask) -> None:
    response = upload(client, family, token, "attestation_assurance",
                      (image_bytes(), "recto.jpg"), (image_bytes("PNG"), "verso.png"))
    assert response.status_code == 303
    assert len(file_ids(db_session, "attestation_assurance")) == 2
    assert len(objects(app)) == 2


@BOTH_STORAGES
def test_download_is_private_attachment_with_the_checked_type(
        client: FlaskClient, family: Family, token: str, db_session: Session) -> None:
    data = pdf_bytes()
    upload(client, family, token, "fiche_infirmerie", (data, "fiche infirmerie é.pdf"))
    (file_id,) = file_ids(db_session)
    response = client.get(f"{family.base}/fichiers/{file_id}")
    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''fiche_infirmerie_%C3%A9.pdf" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    assert "sandbox" in response.headers["Content-Security-Policy"]


@BOTH_STORAGES
def test_a_download_is_streamed_in_flat_memory(client: FlaskClient, family: Family,
                                               db_session: Session, app: Flask) -> None:
    """A 24 MB document goes out in chunks: the app never holds it whole, on either backend."""
    data = os.urandom(1024 * 1024) * 24
    key = app_state(app).storage.put(io.BytesIO(data))
    stored = StoredFile(dossier_id=family.dossier.id, document_id="attestation_assurance",
                        storage_key=key, filename="gros.pdf", sha256="0" * 64, size=len(data),
                        mime_type="application/pdf")
    db_session.add(stored)
    db_session.commit()
    tracemalloc.start()
    try:
        response = client.get(f"{family.base}/fichiers/{stored.public_id}", buffered=False)
        assert response.status_code == 200
        assert response.content_length == len(data)
        digest, received = hashlib.sha256(), 0
        for chunk in response.response:
            digest.update(chunk)
            received += len(chunk)
        response.close()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == len(data) and digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert peak < 8 * 1024 * 1024, peak


@BOTH_STORAGES
def test_thumbnails_of_a_photo_and_of_a_pdf(client: FlaskClient, family: Family, token: str,
                                            db_session: Session) -> None:
    upload(client, family, token, "attestation_assurance",
           (image_bytes(size=(1600, 1200)), "photo.jpg"), (pdf_bytes(), "scan.pdf"))
    photo, scan = file_ids(db_session)
    response = client.get(f"{family.base}/fichiers/{photo}/apercu")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "no-store" in response.headers["Cache-Control"]
    with Image.open(io.BytesIO(response.data)) as image:
        assert max(image.size) <= 320
    icon = client.get(f"{family.base}/fichiers/{scan}/apercu")
    assert icon.status_code == 200 and icon.mimetype == "image/png"


@BOTH_STORAGES
def test_replace_and_delete(client: FlaskClient, family: Family, token: str,
                            db_session: Session, app: Flask) -> None:
    upload(client, family, token, "fiche_infirmerie", (pdf_bytes("v1"), "v1.pdf"))
    (old,) = file_ids(db_session)
    response = client.post(f"{family.base}/fichiers/{old}/remplacer", data={
        "csrf_token": token, "page": PIECES, "fichier": (io.BytesIO(image_bytes()), "v2.jpg")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    (new,) = file_ids(db_session)
    assert new != old
    assert client.get(f"{family.base}/fichiers/{old}").status_code == 404
    assert len(objects(app)) == 1
    response = client.post(f"{family.base}/fichiers/{new}/supprimer",
                           data={"csrf_token": token, "page": PIECES})
    assert response.status_code == 303
    assert file_ids(db_session) == [] and objects(app) == []


def test_declared_date_is_saved_and_shown(client: FlaskClient, family: Family, token: str,
                                          db_session: Session) -> None:
    upload(client, family, token, "justificatif_domicile", (pdf_bytes(), "facture.pdf"))
    response = client.post(f"{family.base}/documents/justificatif_domicile/date",
                           data={"csrf_token": token, "page": PIECES, "date": "2000-01-01"})
    assert response.status_code == 303
    db_session.refresh(family.dossier)
    assert [d.document_date.isoformat() for d in family.dossier.documents  # type: ignore[union-attr]
            ] == ["2000-01-01"]
    refused = client.post(f"{family.base}/documents/justificatif_domicile/date",
                          data={"csrf_token": token, "page": PIECES, "date": "31/02/2027"})
    body = html.unescape(refused_page(client, refused, family))
    assert "Indiquez une date valide" in body
    # what was and was not saved, exactly
    assert "La date n'a pas été enregistrée pour « Justificatif de domicile » : " in body
    assert "Le fichier déjà envoyé pour ce document est conservé." in body
    assert "Le fichier n'a pas été enregistré" not in body


def test_campaign_template_is_served_to_the_family(client: FlaskClient, family: Family) -> None:
    response = client.get(f"{family.base}/modeles/fiche_infirmerie")
    assert response.status_code == 200
    assert response.data == (ROOT / "campaigns" / "files" / "fiche-infirmerie.pdf").read_bytes()
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    page = client.get(f"{family.base}/etape/{PIECES}").get_data(as_text=True)
    assert f'href="{family.base}/modeles/fiche_infirmerie"' in page
    for document_id in ("attestation_assurance", "inconnu", "..%2F..%2Fpyproject.toml"):
        assert client.get(f"{family.base}/modeles/{document_id}").status_code == 404


# -- bad files -------------------------------------------------------------------------------

@pytest.mark.parametrize(("files", "status", "message"), [
    ([(EXE, "attestation.pdf")], 415, "Ce type de fichier n'est pas accepté."),
    ([(javascript_pdf(), "attestation.pdf")], 422, "Ce PDF contient du code"),
    ([(truncated_jpeg(), "photo.jpg")], 422, "Cette image est illisible ou endommagée."),
    ([(b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024), "gros.pdf")], 413,
     "Le fichier dépasse la taille maximale de 5 Mo."),
    ([(pdf_bytes(), "a.pdf")] * 3, 422, "Ce document accepte au plus 2 fichier(s)"),
    ([], 400, "Choisissez un fichier à envoyer."),
])
@BOTH_STORAGES
def test_bad_files_get_a_french_message_next_to_the_document(
        client: FlaskClient, family: Family, token: str, db_session: Session, app: Flask,
        files: list[tuple[bytes, str]], status: int, message: str) -> None:
    response = upload(client, family, token, "attestation_assurance", *files)
    assert status >= 400  # the refusal's status (STATUS_OF_CODE), now answered by a redirect
    body = refused_page(client, response, family)
    block = re.search(r'id="document-attestation_assurance".*?</fieldset>', body, re.S)
    assert block is not None
    error = re.search(r'<p class="error-message" id="document-attestation_assurance-error"'
                      r'.*?</p>', block.group(0), re.S)
    assert error is not None and message in html.unescape(error.group(0))
    assert 'aria-describedby="document-attestation_assurance-hint ' \
           'document-attestation_assurance-error"' in block.group(0)
    # the way back: refused_page checked the family is back on the documents' page
    assert stored_count(db_session) == 0 and objects(app) == []


def test_too_many_files_counts_those_already_sent(client: FlaskClient, family: Family,
                                                  token: str, db_session: Session) -> None:
    for name in ("a.pdf", "b.pdf"):
        assert upload(client, family, token, "attestation_assurance",
                      (pdf_bytes(), name)).status_code == 303
    response = upload(client, family, token, "attestation_assurance", (pdf_bytes(), "c.pdf"))
    assert "Les 2 fichiers déjà envoyés pour ce document sont conservés." in html.unescape(
        refused_page(client, response, family))
    assert stored_count(db_session) == 2
    page = client.get(f"{family.base}/etape/{PIECES}").get_data(as_text=True)
    assert "Nombre maximal de fichiers atteint" in page


def test_request_over_the_global_limit_is_413(make_app: Callable[..., Flask],
                                              make_family: Callable[..., Family],
                                              db_session: Session,
                                              csrf_token: Callable[..., str]) -> None:
    app = make_app(max_request_bytes=1024 * 1024)
    client = app.test_client()
    made = make_family()
    client.post("/connexion", data={"csrf_token": csrf_token(client), "login": made.account.login,
                                    "code": made.code})
    token = csrf_token(client, "/mes-dossiers")
    response = upload(client, made, token, "attestation_assurance",
                      (b"%PDF" + b"0" * (2 * 1024 * 1024), "gros.pdf"))
    assert response.status_code == 303  # back to the document, the limits stated
    assert response.headers["Location"].endswith(
        f"{made.base}/etape/{PIECES}#document-attestation_assurance")
    body = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    block = re.search(r'id="document-attestation_assurance".*?</fieldset>', body, re.S)
    assert block is not None
    assert "L'envoi dépasse 1\u00a0Mo, la taille maximale d'un envoi." in block.group(0)
    assert "5\u00a0Mo au plus par fichier" in block.group(0)
    assert "Le fichier n'a pas été enregistré pour « " in body
    assert stored_count(db_session) == 0


# -- access checks, CSRF, states -------------------------------------------------------------

def test_another_family_gets_404_everywhere(
        client: FlaskClient, make_family: Callable[..., Family], family: Family, token: str,
        db_session: Session, login: Callable[[str, str], TestResponse],
        csrf_token: Callable[..., str]) -> None:
    other = make_family("Noé")
    # the other family uploads a file of their own
    other_client = client.application.test_client()
    other_client.post("/connexion", data={"csrf_token": csrf_token(other_client),
                                          "login": other.account.login, "code": other.code})
    other_token = csrf_token(other_client, "/mes-dossiers")
    assert upload(other_client, other, other_token, "fiche_infirmerie",
                  (pdf_bytes(), "secret.pdf")).status_code == 303
    (theirs,) = file_ids(db_session)
    upload(client, family, token, "fiche_infirmerie", (pdf_bytes(), "mine.pdf"))
    mine = [i for i in file_ids(db_session) if i != theirs][0]
    random_id = secrets.token_urlsafe(16)
    post = {"csrf_token": token, "page": PIECES, "date": "2027-01-01"}
    probes = [
        # their dossier, through my session
        ("post", f"{other.base}/documents/fiche_infirmerie/fichiers"),
        ("post", f"{other.base}/documents/justificatif_domicile/date"),
        ("get", f"{other.base}/fichiers/{theirs}"),
        ("get", f"{other.base}/fichiers/{theirs}/apercu"),
        ("post", f"{other.base}/fichiers/{theirs}/supprimer"),
        ("post", f"{other.base}/fichiers/{theirs}/remplacer"),
        ("get", f"{other.base}/modeles/fiche_infirmerie"),
        # their file id under my dossier
        ("get", f"{family.base}/fichiers/{theirs}"),
        ("get", f"{family.base}/fichiers/{theirs}/apercu"),
        ("post", f"{family.base}/fichiers/{theirs}/supprimer"),
        ("post", f"{family.base}/fichiers/{theirs}/remplacer"),
        # my file id under their dossier
        ("get", f"{other.base}/fichiers/{mine}"),
        # random and malformed ids
        ("get", f"{family.base}/fichiers/{random_id}"),
        ("get", f"{family.base}/fichiers/{random_id}/apercu"),
        ("post", f"{family.base}/fichiers/{random_id}/supprimer"),
        ("get", f"/dossier/{random_id}/fichiers/{mine}"),
        ("post", f"/dossier/{random_id}/documents/fiche_infirmerie/fichiers"),
        ("get", f"{family.base}/fichiers/..%2F..%2Fetc%2Fpasswd"),
        ("post", f"{family.base}/documents/inconnu/fichiers"),
        ("post", f"{family.base}/documents/inconnu/date"),
    ]
    for method, url in probes:
        response = client.get(url) if method == "get" else client.post(url, data=post)
        assert response.status_code == 404, (method, url, response.status_code)
    assert sorted(file_ids(db_session)) == sorted([theirs, mine])
    assert other_client.get(f"{other.base}/fichiers/{theirs}").status_code == 200


def test_anonymous_visitor_gets_nothing(client: FlaskClient, make_family: Callable[..., Family],
                                        db_session: Session) -> None:
    made = make_family()
    for url in (f"{made.base}/fichiers/{secrets.token_urlsafe(16)}",
                f"{made.base}/modeles/fiche_infirmerie"):
        response = client.get(url)
        assert response.status_code in {302, 401, 404}
        assert b"%PDF" not in response.data


def test_csrf_is_required(client: FlaskClient, family: Family, token: str,
                          db_session: Session) -> None:
    response = upload(client, family, None, "fiche_infirmerie", (pdf_bytes(), "a.pdf"))
    assert response.status_code == 400
    assert stored_count(db_session) == 0
    upload(client, family, token, "fiche_infirmerie", (pdf_bytes(), "a.pdf"))
    (file_id,) = file_ids(db_session)
    assert client.post(f"{family.base}/fichiers/{file_id}/supprimer").status_code == 400
    assert client.post(f"{family.base}/fichiers/{file_id}/supprimer",
                       data={"csrf_token": "faux"}).status_code == 400
    assert file_ids(db_session) == [file_id]


def test_nothing_changes_after_submission(client: FlaskClient, family: Family, token: str,
                                          db_session: Session, app: Flask) -> None:
    upload(client, family, token, "fiche_infirmerie", (pdf_bytes(), "a.pdf"))
    (file_id,) = file_ids(db_session)
    dossier = db_session.get(Dossier, family.dossier.id)
    assert dossier is not None
    actor = Actor.family(family.account.id)
    change_state(db_session, dossier, dossier.row_version, DossierState.IN_PROGRESS, actor)
    change_state(db_session, dossier, dossier.row_version, DossierState.SUBMITTED, actor)
    attempts: list[Callable[[], TestResponse]] = [
        lambda: upload(client, family, token, "fiche_infirmerie", (pdf_bytes(), "b.pdf")),
        lambda: client.post(f"{family.base}/fichiers/{file_id}/supprimer",
                            data={"csrf_token": token, "page": PIECES}),
        lambda: client.post(f"{family.base}/fichiers/{file_id}/remplacer", data={
            "csrf_token": token, "fichier": (io.BytesIO(pdf_bytes()), "c.pdf")},
            content_type="multipart/form-data"),
        lambda: client.post(f"{family.base}/documents/justificatif_domicile/date",
                            data={"csrf_token": token, "date": "2027-01-01"}),
    ]
    for attempt in attempts:
        assert "ne peuvent plus être modifiés" in html.unescape(
            refused_page(client, attempt(), family))
    assert file_ids(db_session) == [file_id] and len(objects(app)) == 1
    # still downloadable, without buttons to change it
    assert client.get(f"{family.base}/fichiers/{file_id}").status_code == 200


def test_unknown_return_page_falls_back_to_the_documents_page(
        client: FlaskClient, family: Family, token: str) -> None:
    response = upload(client, family, token, "fiche_infirmerie", (pdf_bytes(), "a.pdf"),
                      page="https://evil.example/")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"{family.base}/etape/{PIECES}#document-fiche_infirmerie")


# -- what the page shows ---------------------------------------------------------------------

def block_of(page: str, document_id: str) -> str:
    match = re.search(rf'<div class="document[^"]*" id="document-{document_id}"[^>]*>', page)
    assert match is not None, document_id
    return match.group(0)


def test_required_if_documents_show_when_the_answer_changes(
        client: FlaskClient, family: Family, db_session: Session) -> None:
    page = client.get(f"{family.base}/etape/{PIECES}").get_data(as_text=True)
    assert ' hidden' in block_of(page, "attestation_caf")
    assert ' hidden' not in block_of(page, "attestation_assurance")
    assert 'data-document="attestation_caf"' in block_of(page, "attestation_caf")
    # the reason is there for the browser to reveal live
    assert re.search(r'data-document-reason>Demandée pour appliquer le tarif de demi-pension',
                     page)
    dossier = db_session.get(Dossier, family.dossier.id)
    assert dossier is not None
    dossier.answers = {**dossier.answers, "regime": "dp4", "quotient_familial": "700"}
    db_session.commit()
    page = client.get(f"{family.base}/etape/{PIECES}").get_data(as_text=True)
    assert ' hidden' not in block_of(page, "attestation_caf")


def test_document_block_is_accessible(client: FlaskClient, family: Family) -> None:
    page = client.get(f"{family.base}/etape/{PIECES}").get_data(as_text=True)
    section = page[page.index('id="document-justificatif_domicile"'):]
    section = section[:section.index("</fieldset>")]
    assert "<legend" in section
    assert 'accept=".pdf,application/pdf,.jpg,.jpeg,image/jpeg,.png,image/png,.heic,.heif,' \
           'image/heic,image/heif"' in section
    assert 'capture="environment"' in section
    assert "Formats acceptés : HEIC, JPEG, PDF, PNG ; 5\u00a0Mo au plus par fichier." in section
    assert 'for="document-justificatif_domicile-file"' in section
    assert 'for="document-justificatif_domicile-date"' in section
    assert 'aria-describedby="document-justificatif_domicile-date-hint"' in section
    assert "Le document doit dater de moins de 3 mois." in section


def test_files_of_a_document_no_longer_asked_stay_visible(
        client: FlaskClient, make_family: Callable[..., Family], db_session: Session,
        login: Callable[[str, str], TestResponse], csrf_token: Callable[..., str]) -> None:
    made = make_family(answers={"regime": "dp4", "quotient_familial": "700"})
    login(made.account.login, made.code)
    token = csrf_token(client, "/mes-dossiers")
    assert upload(client, made, token, "attestation_caf",
                  (pdf_bytes(), "caf.pdf")).status_code == 303
    dossier = db_session.get(Dossier, made.dossier.id)
    assert dossier is not None
    dossier.answers = {**dossier.answers, "regime": "externe"}
    db_session.commit()
    page = html.unescape(client.get(f"{made.base}/etape/{PIECES}").get_data(as_text=True))
    assert " hidden" not in block_of(page, "attestation_caf")
    assert "Ce document n'est plus demandé d'après vos réponses" in page
    assert "caf.pdf" in page


def test_document_writes_are_throttled_per_account(client: FlaskClient, family: Family,
                                                   token: str, db_session: Session) -> None:
    url = f"{family.base}/documents/fiche_infirmerie/fichiers"
    statuses = [client.post(url, data={"csrf_token": token, "page": PIECES}).status_code
                for _ in range(31)]
    assert statuses[:30] == [303] * 30  # no file chosen: refused (back to the page), but counted
    assert statuses[30] == 429
    assert "Trop de tentatives" in html.unescape(
        upload(client, family, token, "fiche_infirmerie", (pdf_bytes(), "a.pdf"))
        .get_data(as_text=True))
    assert stored_count(db_session) == 0


# -- the campaign's dates (issue 10 item 7) ---------------------------------------------------

@pytest.mark.parametrize(("day", "said"), [
    (date(2026, 12, 1), "pourront être envoyés à partir du 01/06/2027"),
    (date(2027, 7, 1), "close depuis le 30/06/2027")])
def test_documents_follow_the_campaigns_dates(
        settings: Settings, make_family: Callable[..., Family], db_session: Session,
        csrf_token: Callable[..., str], day: date, said: str) -> None:
    made = make_family()
    open_client = create_app(settings).test_client()
    _log_in(open_client, made, csrf_token)
    upload(open_client, made, csrf_token(open_client, "/mes-dossiers"), "fiche_infirmerie",
           (pdf_bytes(), "a.pdf"))
    (file_id,) = file_ids(db_session)
    client = create_app(replace(settings, today=day)).test_client()
    _log_in(client, made, csrf_token)
    token = csrf_token(client, "/mes-dossiers")
    attempts: list[Callable[[], TestResponse]] = [
        lambda: upload(client, made, token, "attestation_assurance", (pdf_bytes(), "b.pdf")),
        lambda: client.post(f"{made.base}/fichiers/{file_id}/supprimer",
                            data={"csrf_token": token, "retour": "documents"}),
        lambda: client.post(f"{made.base}/fichiers/{file_id}/remplacer", data={
            "csrf_token": token, "retour": "documents",
            "fichier": (io.BytesIO(pdf_bytes()), "c.pdf")}, content_type="multipart/form-data"),
        lambda: client.post(f"{made.base}/documents/justificatif_domicile/date",
                            data={"csrf_token": token, "date": "2027-01-01",
                                  "retour": "documents"}),
    ]
    for attempt in attempts:
        response = attempt()
        assert response.status_code == 303
        shown = html.unescape(client.get(response.headers["Location"],
                                         follow_redirects=True).get_data(as_text=True))
        assert said in shown
    assert file_ids(db_session) == [file_id]
    overview = client.get(f"{made.base}/documents").get_data(as_text=True)
    assert f"{made.base}/documents/attestation_assurance/fichiers" not in overview  # no form


def test_a_refused_document_can_be_sent_again_after_the_campaign_closed(
        settings: Settings, make_family: Callable[..., Family], db_session: Session,
        csrf_token: Callable[..., str]) -> None:
    made = make_family()
    open_client = create_app(settings).test_client()
    _log_in(open_client, made, csrf_token)
    upload(open_client, made, csrf_token(open_client, "/mes-dossiers"), "fiche_infirmerie",
           (pdf_bytes(), "a.pdf"))
    stored = db_session.scalars(select(StoredFile)).one()
    stored.review_status = "refused"
    db_session.commit()
    client = create_app(replace(settings, today=date(2027, 7, 1))).test_client()
    _log_in(client, made, csrf_token)
    response = client.post(f"{made.base}/fichiers/{stored.public_id}/remplacer", data={
        "csrf_token": csrf_token(client, "/mes-dossiers"), "retour": "documents",
        "fichier": (io.BytesIO(pdf_bytes()), "nouveau.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 303
    db_session.expire_all()
    assert [f.filename for f in db_session.scalars(select(StoredFile))] == ["nouveau.pdf"]


def _log_in(client: FlaskClient, made: Family, csrf_token: Callable[..., str]) -> None:
    response = client.post("/connexion", data={"csrf_token": csrf_token(client),
                                               "login": made.account.login, "code": made.code})
    assert response.status_code == 302
