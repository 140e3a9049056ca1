"""Upload quotas under concurrency (issue 11, item 13): eight simultaneous uploads stored 72 MB
against a 50 MB per-dossier cap, six to a two-file document stored three. The quotas are
checked under the dossier's row lock, in the transaction that writes: real concurrent HTTP
uploads, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from functools import partial

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers import documents
from engine.dossiers.models import Dossier

from .confkit import PDF, Account, CsrfToken, browser, reload
from web.wizardkit import PREFILL

MakeAccount = Callable[..., Account]
MakeDossier = Callable[..., Dossier]
#: documents of the example campaign that take a PDF
TARGETS = ("justificatif_domicile", "attestation_caf", "notification_bourse",
           "attestation_assurance", "fiche_infirmerie", "reglement_interieur")


def _at_once(clients: list[FlaskClient], posts: list[Callable[[FlaskClient], TestResponse]],
             ) -> list[int]:
    """Run each post on its own client and thread, released together."""
    barrier = threading.Barrier(len(posts))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def run(client: FlaskClient, post: Callable[[FlaskClient], TestResponse]) -> None:
        try:
            barrier.wait()
            statuses.append(post(client).status_code)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(clients, posts,
                                                                       strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return statuses


@pytest.fixture
def guardians(make_account: MakeAccount) -> list[Account]:
    return [make_account("Claire Martin", personne_id="1001"),
            make_account("Paul Durand", personne_id="1002")]


@pytest.fixture
def dossier(make_dossier: MakeDossier, guardians: list[Account]) -> Dossier:
    return make_dossier(*(g[0] for g in guardians), prefill=PREFILL)


def _post(client: FlaskClient, token: str, dossier: Dossier, document_id: str,
          name: str) -> TestResponse:
    return client.post(f"/dossier/{dossier.public_id}/documents/{document_id}/fichiers",
                       data={"csrf_token": token, "fichier": (io.BytesIO(PDF), name)},
                       content_type="multipart/form-data")


def _clients(app: Flask, csrf_token: CsrfToken, guardians: list[Account], n: int,
             ) -> tuple[list[FlaskClient], list[str]]:
    """``n`` logged-in browsers, both guardians in turn, and a CSRF token for each."""
    clients = [browser(app, csrf_token, guardians[i % 2]) for i in range(n)]
    return clients, [csrf_token(c, "/mes-dossiers") for c in clients]


@pytest.mark.parametrize("uploads", [6, 8])
def test_simultaneous_uploads_cannot_exceed_the_dossiers_byte_cap(
        app: Flask, db_session: Session, dossier: Dossier, guardians: list[Account],
        csrf_token: CsrfToken, monkeypatch: pytest.MonkeyPatch, uploads: int) -> None:
    """The cap is lowered to two and a half files, so that the race shows with small files."""
    cap = len(PDF) * 5 // 2
    monkeypatch.setattr(documents, "MAX_BYTES_PER_DOSSIER", cap)
    clients, tokens = _clients(app, csrf_token, guardians, uploads)
    posts = [partial(_post, token=tokens[i], dossier=dossier,
                     document_id=TARGETS[i % len(TARGETS)], name=f"f{i}.pdf")
             for i in range(uploads)]
    statuses = _at_once(clients, posts)
    assert statuses == [303] * uploads  # stored or refused, each answered
    stored = reload(db_session, dossier).files
    assert sum(f.size for f in stored) <= cap
    assert len(stored) == 2


@pytest.mark.parametrize("uploads", [3, 6])
def test_simultaneous_uploads_cannot_exceed_a_documents_file_count(
        app: Flask, db_session: Session, dossier: Dossier, guardians: list[Account],
        csrf_token: CsrfToken, uploads: int) -> None:
    """The proof of address takes two files: six at once stored three."""
    clients, tokens = _clients(app, csrf_token, guardians, uploads)
    posts = [partial(_post, token=tokens[i], dossier=dossier,
                     document_id="justificatif_domicile", name=f"p{i}.pdf")
             for i in range(uploads)]
    assert _at_once(clients, posts) == [303] * uploads
    stored = [f for f in reload(db_session, dossier).files
              if f.document_id == "justificatif_domicile"]
    assert len(stored) == 2
