"""A ``dossiersco serve`` process killed with SIGKILL in the middle of an upload and of a
submission (issue 15, item 6): no half row, the upload's object is the only trace and
``storage check --repair`` removes it, and the family's retry on a new process succeeds.

The process is the real command on a real port, on the test database and a real S3 server;
an SQLAlchemy hook kills it right after the write reached the database, before COMMIT (the
object of an upload is already stored then: objects go first).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from dossiers.test_documents import pdf_bytes
from flask import Flask
from flask.testing import FlaskClient
from s3kit import S3Server
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.campaign import load_campaign
from engine.cli import main
from engine.dossiers.documents import add_files
from engine.dossiers.models import Dossier, DossierEvent, FamilyAccount, StoredFile
from engine.dossiers.states import DossierState
from engine.storage import Storage
from engine.web.state import app_state

from conftest import CAMPAIGN_DAY, EXAMPLE_CAMPAIGN, MakeAccount, MakeDossier
from faults.httpkit import ROW_VERSION, Browser
from web.wizardkit import PAGES, PREFILL, VALID_PAGES, post_page

ADDRESS = re.compile(r"en service sur (http://127\.0\.0\.1:\d+)/")
#: ``dossiersco serve`` with a hook that kills the process mid-write (``none``: no hook)
SERVE = textwrap.dedent("""
    import os, signal, sys
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from engine.cli import main
    from engine.dossiers.models import Dossier, StoredFile
    from engine.dossiers.states import DossierState

    moment = sys.argv[1]

    @event.listens_for(Session, "after_flush")
    def die(session, _context):
        upload = any(isinstance(o, StoredFile) for o in session.new)
        submit = any(isinstance(o, Dossier) and o.state is DossierState.SUBMITTED
                     for o in session.dirty)
        if (moment == "upload" and upload) or (moment == "submit" and submit):
            os.kill(os.getpid(), signal.SIGKILL)

    main(["serve", "--port", "0", "--threads", "2", "--jobs", "0"], prog_name="dossiersco")
""")
REQUIRED_DOCUMENTS = ("attestation_assurance", "fiche_infirmerie", "reglement_interieur")


@pytest.fixture
def storage_url(s3_server: S3Server) -> str:
    return s3_server.storage_url(s3_server.new_bucket())


@pytest.fixture
def environment(app: Flask, storage_url: str) -> dict[str, str]:
    """The app's settings as ``DOSSIERSCO_*`` variables: the same database, storage, keys."""
    settings = app_state(app).settings
    return {**os.environ, "DOSSIERSCO_DATABASE_URL": settings.database_url,
            "DOSSIERSCO_INSTANCE_DIR": str(settings.instance_dir),
            "DOSSIERSCO_SECRET_KEY": settings.secret_key,
            "DOSSIERSCO_STORAGE_URL": storage_url,
            "DOSSIERSCO_MAIL_URL": settings.mail_url,
            "DOSSIERSCO_TODAY": CAMPAIGN_DAY.isoformat()}


@contextmanager
def serving(environment: dict[str, str], moment: str = "none") -> Iterator[
        tuple[str, subprocess.Popen[str]]]:
    """``(address, process)`` of a serve process, stopped (if still alive) afterwards."""
    process = subprocess.Popen([sys.executable, "-c", SERVE, moment], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        found = ADDRESS.search(first)
        assert found, (first, process.stderr.read() if process.poll() is not None else "")
        yield found.group(1), process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _killed(process: subprocess.Popen[str]) -> None:
    assert process.wait(timeout=30) == -signal.SIGKILL


@pytest.fixture
def family(make_account: MakeAccount, make_dossier: MakeDossier, client: FlaskClient,
           login: Callable[..., object]) -> tuple[FamilyAccount, str, Dossier]:
    """Claire, her code and Léa's dossier with every page filled (in-process, same database)."""
    mother = make_account("Claire Martin", email="claire.martin@example.fr", personne_id="1001")
    father = make_account("Paul Durand", email="paul.durand@example.fr", personne_id="1002")
    dossier = make_dossier(mother[0], father[0], prefill=PREFILL)
    login(mother[0].login, mother[1])
    for page_id in PAGES:
        assert post_page(client, dossier.public_id, page_id,
                         VALID_PAGES.get(page_id)).status_code == 302, page_id
    return mother[0], mother[1], dossier


def _files(db_session: Session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count(StoredFile.id))) or 0


def _objects(storage: Storage) -> set[str]:
    return {o.key for o in storage.objects()}


def _check(environment: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["storage", "check", "--grace", "0", *args],
                                env=environment)
    return result.exit_code, result.output


def _upload(browser: Browser, dossier: Dossier) -> int:
    base = f"/dossier/{dossier.public_id}"
    status, _html = browser.upload(f"{base}/documents/attestation_assurance/fichiers",
                                   {"page": "pieces"}, "assurance.pdf", pdf_bytes(),
                                   f"{base}/etape/pieces")
    return status


def test_killed_mid_upload_leaves_no_row_and_an_orphan_repair_removes(
        app: Flask, environment: dict[str, str], db_session: Session,
        family: tuple[FamilyAccount, str, Dossier]) -> None:
    account, code, dossier = family
    storage = app_state(app).storage
    with serving(environment, "upload") as (address, process):
        browser = Browser(address)
        browser.login(account.login, code)
        with pytest.raises(OSError):  # the connection dies with the process
            _upload(browser, dossier)
        _killed(process)
    assert _files(db_session) == 0  # the row never committed
    (orphan,) = _objects(storage)  # the object, stored first, is the only trace
    assert _check(environment)[0] == 1
    status, output = _check(environment, "--repair")
    assert status == 0 and f"Objet sans ligne : {orphan} (supprimé)" in output
    assert _objects(storage) == set()
    # the family tries again, on a new process: it works
    with serving(environment) as (address, _process):
        browser = Browser(address)
        browser.login(account.login, code)
        assert _upload(browser, dossier) == 303
    assert _files(db_session) == 1
    (key,) = db_session.scalars(select(StoredFile.storage_key))
    assert _objects(storage) == {key}
    assert _check(environment)[0] == 0


def _submit(browser: Browser, dossier: Dossier) -> int:
    review = f"/dossier/{dossier.public_id}/recapitulatif"
    status, html = browser.request(review)
    found = ROW_VERSION.search(html)
    assert status == 200 and found, status
    status, _html = browser.post(f"/dossier/{dossier.public_id}/envoyer",
                                 {"row_version": found.group(1)}, review)
    return status


def _submitted_events(db_session: Session, dossier: Dossier) -> int:
    events = db_session.scalars(select(DossierEvent).where(
        DossierEvent.dossier_id == dossier.id, DossierEvent.kind == "state_changed"))
    return sum(1 for e in events if (e.data or {}).get("to") == DossierState.SUBMITTED.value)


def test_killed_mid_submit_leaves_the_dossier_unsent_and_the_retry_sends_it(
        app: Flask, environment: dict[str, str], db_session: Session, tmp_path: Path,
        family: tuple[FamilyAccount, str, Dossier]) -> None:
    account, code, dossier = family
    storage = app_state(app).storage
    campaign = load_campaign(EXAMPLE_CAMPAIGN)
    for document_id in REQUIRED_DOCUMENTS:
        add_files(db_session, storage, campaign, dossier, document_id,
                  [(pdf_bytes(), f"{document_id}.pdf")], None, today=CAMPAIGN_DAY)
    db_session.expire_all()
    before = db_session.get(Dossier, dossier.id)
    assert before is not None
    state, version = before.state, before.row_version
    with serving(environment, "submit") as (address, process):
        browser = Browser(address)
        browser.login(account.login, code)
        with pytest.raises(OSError):
            _submit(browser, dossier)
        _killed(process)
    db_session.expire_all()
    seen = db_session.get(Dossier, dossier.id)
    assert seen is not None
    assert (seen.state, seen.row_version) == (state, version)
    assert seen.state is not DossierState.SUBMITTED and _submitted_events(db_session, dossier) == 0
    assert _files(db_session) == 3 and _check(environment)[0] == 0
    with serving(environment) as (address, _process):
        browser = Browser(address)
        browser.login(account.login, code)
        assert _submit(browser, dossier) == 302
    db_session.expire_all()
    sent = db_session.get(Dossier, dossier.id)
    assert sent is not None and sent.state is DossierState.SUBMITTED
    assert _submitted_events(db_session, dossier) == 1
