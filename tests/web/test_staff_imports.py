"""Imports from the web: upload, dry run with its report, confirmation, the import as a job,
letters and mail-merge downloads, audit entries; refused files with their line numbers; one
import at a time per establishment, enforced by the database."""

from __future__ import annotations

import csv
import html
import io
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sheetkit import SAMPLE, fiches_xlsx
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.db import utcnow
from engine.dossiers.imports import ImportRefused, claim_import
from engine.dossiers.models import (
    AuditEntry,
    Dossier,
    FamilyAccount,
    ImportRun,
    ImportState,
    Pupil,
)
from engine.dossiers.services import ensure_establishment
from engine.dossiers.versions import register_version
from engine.jobs import Job, JobState
from engine.web.state import app_state

from conftest import CSRF_INPUT, MakeStaff
from staffkit import StaffUser

StaffLogin = Callable[[StaffUser], TestResponse]
ROOT = Path(__file__).parents[2]
DEMO = ROOT / "campaigns" / "demo"
CAMPAIGN = ROOT / "campaigns" / "college-jean-moulin.yaml"
UAI, SLUG = "0691234A", "college-jean-moulin-2027"
BASE = f"/etablissement/{UAI}"


@pytest.fixture
def agent(db_session: Session, make_staff: MakeStaff, staff_login: StaffLogin) -> StaffUser:
    """A secrétariat agent of Jean Moulin, logged in, its campaign registered."""
    return _logged_in(db_session, make_staff, staff_login, "secretariat")


def _logged_in(db_session: Session, make_staff: MakeStaff, staff_login: StaffLogin,
               role: str) -> StaffUser:
    user = make_staff(uai=UAI, role=role)
    establishment = ensure_establishment(db_session, uai=UAI, name="Collège Jean Moulin")
    register_version(db_session, establishment, slug=SLUG, title="Réinscription 2027",
                     source=CAMPAIGN.read_text("utf-8"))
    db_session.commit()
    staff_login(user)
    return user


def _csrf(client: FlaskClient, path: str) -> str:
    match = CSRF_INPUT.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


def upload(client: FlaskClient, files: list[tuple[str, bytes]], **form: str) -> TestResponse:
    data: dict[str, object] = {"csrf_token": _csrf(client, f"{BASE}/{SLUG}/imports"),
                               "lecteur": "auto", **form,
                               "fichiers": [(io.BytesIO(b), name) for name, b in files]}
    return client.post(f"{BASE}/{SLUG}/imports", data=data, content_type="multipart/form-data")


def demo_files() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(DEMO.glob("*.xml"))]


def run_of(db_session: Session, response: TestResponse) -> ImportRun:
    assert response.status_code == 302, response.get_data(as_text=True)
    public_id = response.headers["Location"].rsplit("/", 1)[1]
    db_session.expire_all()
    run = db_session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
    assert run is not None
    return run


def count(db_session: Session, model: type) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model)) or 0


def confirm(client: FlaskClient, run: ImportRun, **form: str) -> TestResponse:
    page = f"{BASE}/imports/{run.public_id}"
    return client.post(f"{page}/confirmer", data={"csrf_token": _csrf(client, page), **form})


def test_siecle_files_dry_run_confirm_and_letters(app: Flask, client: FlaskClient,
                                                  db_session: Session, agent: StaffUser) -> None:
    dashboard = client.get(f"{BASE}/{SLUG}/").get_data(as_text=True)
    assert f"{BASE}/{SLUG}/imports" in dashboard
    form = client.get(f"{BASE}/{SLUG}/imports")
    assert form.mimetype == "text/html" and form.headers["Cache-Control"].startswith("no-store")
    run = run_of(db_session, upload(client, demo_files()))
    # the dry run ran as a job and wrote nothing
    assert run.import_state is ImportState.CHECKED
    assert count(db_session, Pupil) == 0 and count(db_session, FamilyAccount) == 0
    page = html.unescape(client.get(f"{BASE}/imports/{run.public_id}").get_data(as_text=True))
    assert "Simulation : ce que l'import ferait" in page
    assert run.report["counts"]["pupil"]["created"] == 4
    assert "1 élève ignoré : hors du public de la campagne (audience)" in page
    assert "4 nouveaux codes famille seraient créés" in page
    assert "Confirmer l'import" in page
    assert 'http-equiv="refresh"' not in page
    check = db_session.scalar(select(Job).where(Job.public_id == run.check_job))
    assert check is not None and check.kind == "import_check" and check.state == "done"

    before = utcnow()
    response = confirm(client, run)
    assert response.status_code == 302
    db_session.expire_all()
    run = db_session.get_one(ImportRun, run.id)
    assert run.import_state is ImportState.DONE and run.running_for is None
    assert run.files == []  # the uploads left the storage
    assert count(db_session, Pupil) == 4 and count(db_session, Dossier) == 4
    assert count(db_session, FamilyAccount) == 4
    page = html.unescape(client.get(f"{BASE}/imports/{run.public_id}").get_data(as_text=True))
    assert "Ce qui a été importé" in page and "Courriers aux familles (PDF)" in page

    letters = client.get(f"{BASE}/imports/{run.public_id}/courriers.pdf")
    assert letters.status_code == 200 and letters.mimetype == "application/pdf"
    assert letters.headers["Cache-Control"].startswith("no-store")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(letters.data)).pages)
    mail_merge = client.get(f"{BASE}/imports/{run.public_id}/publipostage.csv")
    rows = list(csv.reader(io.StringIO(mail_merge.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["identifiant", "code_secret"] and len(rows) == 5
    for login, code, *_ in rows[1:]:
        assert login in text and code in text
    # the codes of the letters log in
    family = app.test_client()
    token = _csrf(family, "/connexion")
    assert family.post("/connexion", data={"csrf_token": token, "login": rows[1][0],
                                           "code": rows[1][1]}).status_code == 302
    actions = [e.action for e in db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    for action in ("import.upload", "import.confirm", "import.done", "import.download"):
        assert action in actions
    # confirming again does nothing
    assert confirm(client, run).status_code == 302
    assert count(db_session, Pupil) == 4
    _letters_expire(app, client, db_session, run, before)


def _letters_expire(app: Flask, client: FlaskClient, db_session: Session, run: ImportRun,
                    before: datetime) -> None:
    """The letters expire like every generated file: never kept longer than the retention,
    then no longer offered, then gone from the storage at the hourly purge; the run stays."""
    db_session.expire_all()
    run = db_session.get_one(ImportRun, run.id)
    keys = [run.letters_key, run.csv_key]
    storage = app_state(app).storage
    assert all(k is not None and storage.exists(k) for k in keys)
    retention = app_state(app).settings.job_retention
    assert run.expires_at is not None and \
        before + retention <= run.expires_at <= utcnow() + retention
    page = f"{BASE}/imports/{run.public_id}"
    assert app_state(app).jobs.purge() == 0  # not yet
    run.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert "Courriers aux familles (PDF)" not in client.get(page).get_data(as_text=True)
    assert client.get(f"{page}/courriers.pdf").status_code == 404
    assert client.get(f"{page}/publipostage.csv").status_code == 404
    assert app_state(app).jobs.purge() == 1
    assert not any(storage.exists(k) for k in keys if k is not None)
    db_session.expire_all()
    run = db_session.get_one(ImportRun, run.id)
    assert run.letters_key is None and run.csv_key is None
    assert run.report["counts"]["pupil"]["created"] == 4  # the history stays
    assert "Ce qui a été importé" in client.get(page).get_data(as_text=True)


def test_a_bad_file_is_refused_with_its_line_and_nothing_is_written(
        client: FlaskClient, db_session: Session, agent: StaffUser) -> None:
    eleves = (DEMO / "ElevesAvecAdresses.xml").read_bytes()
    broken = eleves.replace(b"</NOM_DE_FAMILLE>", b"</NOM>", 1)
    run = run_of(db_session, upload(client, [("ElevesAvecAdresses.xml", broken)]))
    assert run.import_state is ImportState.REFUSED
    problem = run.report["problems"][0]
    assert problem["code"] == "XML_MALFORMED" and problem["line"] > 1
    page = html.unescape(client.get(f"{BASE}/imports/{run.public_id}").get_data(as_text=True))
    assert "Lignes refusées : rien n'a été importé" in page
    assert f"<td>{problem['line']}</td>" in page and "Confirmer l'import" not in page
    assert count(db_session, Pupil) == 0 and run.files == []


def test_another_schools_files_are_refused_at_the_dry_run(
        client: FlaskClient, db_session: Session, agent: StaffUser) -> None:
    files = [(n, b.replace(b"<UAJ>0691234A</UAJ>", b"<UAJ>0751234K</UAJ>"))
             for n, b in demo_files()]
    run = run_of(db_session, upload(client, files))
    assert run.import_state is ImportState.REFUSED
    assert {p["code"] for p in run.report["problems"]} == {"UAI_MISMATCH"}


def test_fiches_eleves_spreadsheet_recognised_without_a_mapping(
        client: FlaskClient, db_session: Session, agent: StaffUser) -> None:
    run = run_of(db_session, upload(client, [("ExportFichesEleves.xlsx",
                                              fiches_xlsx("repr-leg-1-2", SAMPLE))]))
    assert run.import_state is ImportState.CHECKED, run.report
    assert run.report["counts"]["pupil"]["created"] == 2
    assert run.report["counts"]["account"]["created"] == 3
    confirm(client, run)
    assert count(db_session, Pupil) == 2


def test_a_school_spreadsheet_with_its_mapping(client: FlaskClient, db_session: Session,
                                               agent: StaffUser) -> None:
    sheet = "Id;Nom;Prénom;Naissance;Classe;Nom RL\n1;DURAND;Léa;14/03/2014;5A;DURAND\n"
    mapping = ("pupil: {id: Id, last_name: Nom, first_name: Prénom, birth_date: Naissance, "
               "division: Classe}\nguardians:\n  - last_name: Nom RL\n")
    data: dict[str, object] = {
        "csrf_token": _csrf(client, f"{BASE}/{SLUG}/imports"), "lecteur": "mapping",
        "fichiers": [(io.BytesIO(sheet.encode()), "eleves.csv")],
        "correspondance": (io.BytesIO(mapping.encode()), "colonnes.yaml")}
    run = run_of(db_session, client.post(f"{BASE}/{SLUG}/imports", data=data,
                                         content_type="multipart/form-data"))
    assert run.reader == "mapping"
    # the campaign's audience wants a level: none here, so the pupil is outside it
    assert run.import_state is ImportState.CHECKED, run.report


@pytest.mark.parametrize(("form", "message"), [
    ({}, "Choisissez le ou les fichiers"),
    ({"lecteur": "mapping"}, "Joignez la correspondance"),
])
def test_incomplete_forms_are_refused_with_a_message(client: FlaskClient, agent: StaffUser,
                                                     form: dict[str, str],
                                                     message: str) -> None:
    files = [] if not form else [("e.csv", b"a;b\n")]
    response = upload(client, files, **form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_one_import_at_a_time_per_establishment(app: Flask, client: FlaskClient,
                                                db_session: Session, agent: StaffUser) -> None:
    first = run_of(db_session, upload(client, demo_files()))
    second = run_of(db_session, upload(client, demo_files()))
    # the first holds the lock (its import job still queued, say)
    claim_import(db_session, first)
    response = confirm(client, second)
    assert response.status_code == 409
    assert "Un autre import de l'établissement est en cours" in \
        html.unescape(response.get_data(as_text=True))
    db_session.expire_all()
    assert db_session.get_one(ImportRun, second.id).import_state is ImportState.CHECKED
    assert count(db_session, Pupil) == 0
    # the first one's worker died: its job failed, the lock is released at the next claim
    job = Job(kind="import_run", establishment_id=first.establishment_id, params={},
              state=JobState.FAILED.value)
    db_session.add(job)
    db_session.flush()
    first.import_job = job.public_id
    db_session.commit()
    assert confirm(client, second).status_code == 302
    db_session.expire_all()
    assert db_session.get_one(ImportRun, first.id).import_state is ImportState.FAILED
    assert db_session.get_one(ImportRun, second.id).import_state is ImportState.DONE
    assert count(db_session, Pupil) == 4


def test_concurrent_claims_one_wins(app: Flask, db_session: Session, agent: StaffUser,
                                    client: FlaskClient) -> None:
    """Eight sessions claim the lock at once for eight runs: the database lets one through."""
    runs = [run_of(db_session, upload(client, demo_files())).id for _ in range(8)]
    database = app_state(app).database
    barrier = threading.Barrier(len(runs))
    outcomes: list[str] = []

    def claim(run_id: int) -> None:
        with database.sessions() as session:
            run = session.get_one(ImportRun, run_id)
            barrier.wait()
            try:
                claim_import(session, run)
                outcomes.append("claimed")
            except ImportRefused as exc:
                outcomes.append(exc.problems[0].code)
            except Exception as exc:  # SQLite: a writer that waited too long
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=claim, args=(run_id,)) for run_id in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("claimed") == 1, outcomes
    db_session.expire_all()
    holders = db_session.scalars(select(ImportRun).where(ImportRun.running_for.is_not(None)))
    assert len(list(holders)) == 1


def test_cancel_drops_the_files(app: Flask, client: FlaskClient, db_session: Session,
                                agent: StaffUser) -> None:
    run = run_of(db_session, upload(client, demo_files()))
    keys = [f["key"] for f in run.files]
    assert keys and all(app_state(app).storage.exists(k) for k in keys)
    page = f"{BASE}/imports/{run.public_id}"
    response = client.post(f"{page}/abandon", data={"csrf_token": _csrf(client, page)})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get_one(ImportRun, run.id).import_state is ImportState.CANCELLED
    assert not any(app_state(app).storage.exists(k) for k in keys)


def test_the_import_link_only_for_who_may_import(client: FlaskClient, db_session: Session,
                                                  make_staff: MakeStaff,
                                                  staff_login: StaffLogin) -> None:
    _logged_in(db_session, make_staff, staff_login, "gestion")
    assert f"{BASE}/{SLUG}/imports" not in client.get(f"{BASE}/{SLUG}/").get_data(as_text=True)
    assert client.get(f"{BASE}/{SLUG}/imports").status_code == 403


def test_an_oversized_upload_is_a_413(app: Flask, client: FlaskClient,
                                      agent: StaffUser) -> None:
    big = b"<" + b"x" * app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, [("Eleves.xml", big)])
    assert response.status_code == 413
    assert re.search(r"trop|volumineux|413", response.get_data(as_text=True))
