"""The job pages of the school: the campaign's jobs with progress (refreshed without
JavaScript while one runs), a result downloaded after the kind's permission, a failed or
killed job run again; another establishment's job is a 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.db import utcnow
from engine.dossiers.models import AuditEntry, Dossier
from engine.jobs import Job, JobState
from engine.jobs.tasks import CONFIRMATION, REMINDERS
from engine.web.state import app_state

from conftest import MakeDossier, MakeStaff, _csrf_token
from staffkit import StaffUser

StaffLogin = Callable[[StaffUser], TestResponse]
BASE = "/etablissement/0750001A"


def _job(app: Flask, db_session: Session, dossier: Dossier, state: JobState,
         data: bytes | None = None, **fields: object) -> Job:
    fields = {"kind": REMINDERS, **fields}
    job = Job(params={}, establishment_id=dossier.pupil.establishment_id,
              campaign_slug="reinscription-2026", state=state.value, progress_done=3,
              progress_total=10, attempts=1, **fields)
    if data is not None:
        job.result_key = app_state(app).storage.put(data)
        job.result_name, job.result_size, job.result_mime = "relance.csv", len(data), "text/csv"
        job.expires_at = utcnow() + timedelta(days=1)
    db_session.add(job)
    db_session.commit()
    return job


def test_the_campaign_jobs_with_progress_and_their_files(
        app: Flask, client: FlaskClient, db_session: Session, make_dossier: MakeDossier,
        make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    dossier = make_dossier()
    staff_login(make_staff())
    running = _job(app, db_session, dossier, JobState.RUNNING, started_at=utcnow(),
                   heartbeat_at=utcnow())
    done = _job(app, db_session, dossier, JobState.DONE, data=b"a;b\n")
    page = client.get(f"{BASE}/reinscription-2026/taches")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "Relance des familles" in html and 'max="10" value="3"' in html
    assert f"/taches/{done.public_id}/fichier" in html
    assert f"/taches/{running.public_id}/fichier" not in html
    detail = client.get(f"{BASE}/taches/{running.public_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in detail
    assert 'http-equiv="refresh"' not in client.get(
        f"{BASE}/taches/{done.public_id}").get_data(as_text=True)
    download = client.get(f"{BASE}/taches/{done.public_id}/fichier")
    assert download.status_code == 200 and download.data == b"a;b\n"
    assert "relance.csv" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store, private"
    assert db_session.query(AuditEntry).filter_by(action="job.download").count() == 1
    # a running job offers no file, even one it has begun writing
    assert client.get(f"{BASE}/taches/{running.public_id}/fichier").status_code == 404


def test_a_result_needs_the_permission_of_its_kind(
        app: Flask, client: FlaskClient, db_session: Session, make_dossier: MakeDossier,
        make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    dossier = make_dossier()
    done = _job(app, db_session, dossier, JobState.DONE, data=b"secret")
    staff_login(make_staff(role="gestion"))  # no MESSAGE_FAMILIES
    assert client.get(f"{BASE}/taches/{done.public_id}").status_code == 403
    assert client.get(f"{BASE}/taches/{done.public_id}/fichier").status_code == 403
    listing = client.get(f"{BASE}/reinscription-2026/taches").get_data(as_text=True)
    assert done.public_id not in listing


def test_another_establishment_job_is_not_found(
        app: Flask, client: FlaskClient, db_session: Session, make_dossier: MakeDossier,
        make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    foreign = _job(app, db_session, make_dossier(uai="0930002B"), JobState.DONE, data=b"x")
    make_dossier()
    staff_login(make_staff())
    assert client.get(f"{BASE}/taches/{foreign.public_id}").status_code == 404
    assert client.get(f"{BASE}/taches/{foreign.public_id}/fichier").status_code == 404
    assert client.get("/etablissement/0930002B/taches/"
                      f"{foreign.public_id}/fichier").status_code == 404


def test_expired_and_killed_jobs(app: Flask, client: FlaskClient, db_session: Session,
                                 make_dossier: MakeDossier, make_staff: MakeStaff,
                                 staff_login: StaffLogin) -> None:
    dossier = make_dossier()
    staff_login(make_staff())
    expired = _job(app, db_session, dossier, JobState.DONE, data=b"old")
    expired.expires_at = utcnow() - timedelta(minutes=1)
    killed = _job(app, db_session, dossier, JobState.RUNNING, data=b"half",
                  started_at=utcnow() - timedelta(hours=2),
                  heartbeat_at=utcnow() - timedelta(hours=2))
    db_session.commit()
    assert client.get(f"{BASE}/taches/{expired.public_id}/fichier").status_code == 404
    html = client.get(f"{BASE}/taches/{killed.public_id}").get_data(as_text=True)
    assert "Interrompue" in html and "Relancer la tâche" in html
    assert 'http-equiv="refresh"' not in html
    assert client.get(f"{BASE}/taches/{killed.public_id}/fichier").status_code == 404
    page = f"{BASE}/taches/{killed.public_id}"
    response = client.post(f"{page}/relancer", data={"csrf_token": _csrf_token(client, page)})
    assert response.status_code == 302
    again = response.headers["Location"].rsplit("/", 1)[1]
    assert again != killed.public_id
    rerun = db_session.query(Job).filter_by(public_id=again).one()
    # the new job ran at once (immediate mode) and ended, whatever its (empty) parameters
    assert rerun.kind == REMINDERS and rerun.job_state is not JobState.RUNNING
    finished = _job(app, db_session, dossier, JobState.DONE, data=b"ok")
    page = f"{BASE}/taches/{finished.public_id}"
    response = client.post(f"{page}/relancer", data={"csrf_token": _csrf_token(client, page)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(finished.public_id)


def test_confirmation_mails_are_listed_when_they_failed(
        app: Flask, client: FlaskClient, db_session: Session, make_dossier: MakeDossier,
        make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    dossier = make_dossier()
    staff_login(make_staff())
    sent = _job(app, db_session, dossier, JobState.DONE, kind=CONFIRMATION)
    failed = _job(app, db_session, dossier, JobState.FAILED, kind=CONFIRMATION,
                  message="1 courriel(s) de confirmation sur 2 n'ont pas pu partir.")
    html = client.get(f"{BASE}/reinscription-2026/taches").get_data(as_text=True)
    assert failed.public_id in html and sent.public_id not in html
    assert "1 courriel(s) de confirmation sur 2 n&#39;ont pas pu partir." in html
