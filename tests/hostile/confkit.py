"""Two guardians of one pupil, the father's contact confidential: what the hostile tests of the
confidential guardian and of posted pages share (logins, pages, uploads, mails, PDFs)."""

from __future__ import annotations

import io
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.models import Dossier, FamilyAccount

from web.wizardkit import post_page

CsrfToken = Callable[..., str]
Account = tuple[FamilyAccount, str]

PDF = (Path(__file__).resolve().parents[2] / "campaigns" / "files" /
       "reglement-interieur.pdf").read_bytes()
#: what the mother must never learn of the father (PREFILL's second guardian), in every
#: spelling the pages, PDFs and JSON use
FATHER_SECRETS = ("0798765432", "07 98 76 54 32", "+33798765432", "paul.durand@example.fr",
                  "8 quai Perrache")
#: what he types later: a new mobile, a number in an emergency contact's row, a new address
NEW_MOBILE = ("0758000003", "07 58 00 00 03", "+33758000003")
CONTACT_PHONE = ("0758000002", "07 58 00 00 02", "+33758000002")
NEW_STREET = "3 impasse Secrète"
DISPUTE = "Mon nouveau numéro est le 07 58 00 00 09"
FILE_NAME = "justificatif-paul-durand.pdf"
ALL_SECRETS = (*FATHER_SECRETS, *NEW_MOBILE, *CONTACT_PHONE, NEW_STREET, DISPUTE, FILE_NAME,
               "07 58 00 00 09")


def browser(app: Flask, csrf_token: CsrfToken, account: Account) -> FlaskClient:
    """A logged-in client of ``account``."""
    client = app.test_client()
    response = client.post("/connexion", data={"csrf_token": csrf_token(client),
                                               "login": account[0].login, "code": account[1]})
    assert response.status_code == 302
    return client


def html(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def post_form(client: FlaskClient, public_id: str, page_id: str, changes: dict[str, Any],
              action: str = "save") -> TestResponse:
    """The page's form as shown, with ``changes`` (None removes an input), saved."""
    return post_page(client, public_id, page_id, changes, action)


def upload(client: FlaskClient, csrf_token: CsrfToken, public_id: str, document_id: str,
           name: str = FILE_NAME, data: bytes = PDF) -> TestResponse:
    documents = f"/dossier/{public_id}/documents"
    return client.post(f"{documents}/{document_id}/fichiers",
                       data={"csrf_token": csrf_token(client, documents),
                             "fichier": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def refusal(client: FlaskClient, response: TestResponse) -> str | None:
    """The message of a refused document write (None: it was stored), read from the page the
    write redirects to (which shows it once)."""
    assert response.status_code == 303, response.status_code
    page = html(client, response.headers["Location"])
    start = page.find("pas été enregistré")
    return None if start < 0 else page[start:start + 300]


def reload(db_session: Session, dossier: Dossier) -> Dossier:
    db_session.expire_all()
    found = db_session.get(Dossier, dossier.id)
    assert found is not None
    return found


def mails(tmp_path: Path) -> list[EmailMessage]:
    folder = tmp_path / "mail"
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [message_from_bytes(f.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for f in files]


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def attachment(message: EmailMessage) -> bytes:
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1
    content: bytes = parts[0].get_content()
    return content


def leaks(text: str, secrets: tuple[str, ...] = ALL_SECRETS) -> list[str]:
    """The secrets found in ``text`` (empty: nothing leaked)."""
    return [s for s in secrets if s in text]
