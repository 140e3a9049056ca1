"""The job queue: state, progress and result of a job, honest failures, retries, a job killed
mid-run (no half file offered, run again), and real consumers on the SQLite file and Redis."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.db import utcnow
from engine.dossiers.models import Establishment
from engine.dossiers.permissions import Permission
from engine.dossiers.services import ensure_establishment
from engine.jobs import Job, JobContext, JobFailed, JobQueue, JobState, can_rerun, task
from engine.jobs.queue import MAX_POLL_DELAY, UNQUEUED_MESSAGE, make_huey
from engine.jobs.registry import UnknownKindError
from engine.web.state import app_state

from rediskit import PrivateRedis

REDIS_URL = os.environ.get("DOSSIERSCO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
#: attempts of the flaky task, per job id
ATTEMPTS: dict[str, int] = {}


@task("test_export", label="Export de test", permission=Permission.EXPORT)
def _export(ctx: JobContext) -> None:
    total = ctx.params["rows"]
    for done in range(0, total + 1, 2):
        ctx.report_progress(done, total)
    ctx.store_result("dossiers.csv", b"a;b\n" * total, "text/csv")


@task("test_refused", label="Refus de test", permission=Permission.EXPORT)
def _refused(ctx: JobContext) -> None:
    ctx.store_result("partiel.csv", b"half")
    raise JobFailed("Aucun dossier ne correspond aux filtres.")


@task("test_crash", label="Plantage de test", permission=Permission.EXPORT)
def _crash(ctx: JobContext) -> None:
    raise RuntimeError("boom")


@task("test_flaky", label="Envoi de test", permission=Permission.MESSAGE_FAMILIES, retries=2,
      retry_delay=1)
def _flaky(ctx: JobContext) -> None:
    ATTEMPTS[ctx.job.public_id] = ATTEMPTS.get(ctx.job.public_id, 0) + 1
    if ATTEMPTS[ctx.job.public_id] < 3:
        raise JobFailed("Serveur de courriel injoignable.", retry=True)


@task("test_killed", label="Tâche tuée", permission=Permission.EXPORT)
def _killed(ctx: JobContext) -> None:
    ctx.store_result("gros.xlsx", b"half a file")
    if ctx.params.get("die", True):
        raise KeyboardInterrupt  # the worker stops mid-task: nothing after this line runs


@pytest.fixture
def establishment(app: Flask, db_session: Session) -> Establishment:
    found = ensure_establishment(db_session, uai="0750001A", name="Collège Jean Moulin")
    db_session.commit()
    return found


def _queue(app: Flask) -> JobQueue:
    return app_state(app).jobs


def test_a_job_reports_progress_and_registers_its_file(app: Flask,
                                                       establishment: Establishment) -> None:
    job = _queue(app).enqueue("test_export", {"rows": 5}, establishment_id=establishment.id,
                              campaign_slug="reinscription-2026")
    assert job.job_state is JobState.DONE and job.attempts == 1
    assert (job.progress_done, job.progress_total, job.percent) == (5, 5, 100)
    assert job.result_name == f"dossiers-{job.created_at:%Y%m%d-%H%M%S}.csv"
    assert job.result_size == 20 and job.result_mime == "text/csv"
    assert job.result_key is not None
    assert app_state(app).storage.open(job.result_key).read() == b"a;b\n" * 5
    assert job.expires_at is not None and job.finished_at is not None
    assert job.expires_at - job.finished_at == app_state(app).settings.job_retention
    again = _queue(app).enqueue("test_export", {"rows": 5}, establishment_id=establishment.id)
    assert again.result_key != job.result_key  # never overwritten
    assert app_state(app).storage.exists(job.result_key)


def test_failures_are_told_honestly_and_leave_no_file(app: Flask,
                                                      establishment: Establishment) -> None:
    refused = _queue(app).enqueue("test_refused", {}, establishment_id=establishment.id)
    assert refused.job_state is JobState.FAILED
    assert refused.message == "Aucun dossier ne correspond aux filtres."
    assert refused.result_key is None and refused.result_name is None
    crashed = _queue(app).enqueue("test_crash", {}, establishment_id=establishment.id)
    assert crashed.job_state is JobState.FAILED
    assert crashed.message == ("Erreur inattendue (RuntimeError) ; référence de la tâche : "
                               f"{crashed.public_id}.")
    assert "boom" not in crashed.message
    assert can_rerun(crashed)
    with pytest.raises(UnknownKindError):
        _queue(app).enqueue("nope", {})


def test_mail_tasks_are_retried(app: Flask, establishment: Establishment) -> None:
    job = _queue(app).enqueue("test_flaky", {}, establishment_id=establishment.id)
    assert job.job_state is JobState.DONE
    assert job.attempts == 3 and ATTEMPTS[job.public_id] == 3 and job.message is None


def test_a_job_killed_mid_run_offers_no_half_file_and_runs_again(
        app: Flask, establishment: Establishment, db_session: Session) -> None:
    queue = _queue(app)
    job = queue.enqueue("test_killed", {}, establishment_id=establishment.id)
    # the worker died: the job stays "running" with an object that is not offered
    assert job.job_state is JobState.RUNNING and job.result_key is not None
    assert not can_rerun(job)
    stored = db_session.get(Job, job.id)
    assert stored is not None
    stored.heartbeat_at = utcnow() - timedelta(hours=1)
    db_session.commit()
    assert can_rerun(stored)
    key = job.result_key
    assert queue.purge() == 1
    assert not app_state(app).storage.exists(key)
    again = queue.rerun(stored, requested_by=None)
    assert again.id != job.id and again.job_state is JobState.RUNNING
    done = queue.enqueue("test_killed", {"die": False}, establishment_id=establishment.id)
    assert done.job_state is JobState.DONE and done.result_key not in {key, again.result_key}


def test_expired_files_are_purged(app: Flask, establishment: Establishment,
                                  db_session: Session) -> None:
    job = _queue(app).enqueue("test_export", {"rows": 2}, establishment_id=establishment.id)
    stored = db_session.get(Job, job.id)
    assert stored is not None and stored.result_key is not None
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    key = stored.result_key
    assert _queue(app).purge() == 1
    assert not app_state(app).storage.exists(key)


def _wait(queue: JobQueue, job_id: int, timeout: float = 30) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = queue.get(job_id)
        assert job is not None
        if job.job_state in {JobState.DONE, JobState.FAILED}:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job.state} after {timeout} s")


@pytest.fixture
def consumer_queue(request: pytest.FixtureRequest, app: Flask,
                   settings: Settings) -> Iterator[JobQueue]:
    """A real queue (SQLite file or Redis) on the app's database, its consumer in a thread."""
    state = app_state(app)
    queued = replace(settings, queue_immediate=False, queue_url=request.param)
    if request.param:
        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.ConnectionError as exc:
            if os.environ.get("CI"):
                pytest.fail(f"Redis unreachable at {REDIS_URL}: {exc} (CI is set, so the Redis "
                            "tests must run)")
            pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    queue = JobQueue(queued, state.database, state.storage, state.campaigns,
                     name=f"dossiersco-test-{secrets.token_hex(4)}")
    queue.start_consumer(2)
    try:
        yield queue
    finally:
        queue.stop_consumer()
        queue.huey.flush()


@pytest.mark.parametrize("consumer_queue", [pytest.param("", id="sqlite-queue"),
                                            pytest.param(REDIS_URL, id="redis-queue")],
                         indirect=True)
def test_a_consumer_thread_runs_the_queued_jobs(consumer_queue: JobQueue,
                                                establishment: Establishment) -> None:
    job = consumer_queue.enqueue("test_export", {"rows": 4}, establishment_id=establishment.id)
    # the consumer threads run meanwhile: the job may already be taken when enqueue returns
    assert job.job_state in {JobState.QUEUED, JobState.RUNNING, JobState.DONE}
    done = _wait(consumer_queue, job.id)
    assert done.job_state is JobState.DONE and done.progress_done == 4
    flaky = consumer_queue.enqueue("test_flaky", {}, establishment_id=establishment.id)
    done = _wait(consumer_queue, flaky.id)
    assert done.job_state is JobState.DONE and done.attempts == 3


def test_the_embedded_queue_is_a_file_in_the_instance_folder(plain_settings: Settings) -> None:
    huey = make_huey(replace(plain_settings, queue_immediate=False))
    assert huey.storage.filename == str(plain_settings.instance_dir / "queue.sqlite3")
    assert make_huey(replace(plain_settings, queue_immediate=True)).immediate


def test_sites_sharing_a_redis_keep_their_queues_apart(tmp_path: Path) -> None:
    """DOSSIERSCO_QUEUE_NAME names the queue's keys: two sites on one Redis database never
    consume each other's jobs (docs/deployment.md#redis)."""
    env = {"DOSSIERSCO_INSTANCE_DIR": str(tmp_path), "DOSSIERSCO_QUEUE_URL": REDIS_URL}
    site_a = make_huey(Settings.from_env({**env, "DOSSIERSCO_QUEUE_NAME": "college-a"}))
    default = make_huey(Settings.from_env(env))
    assert (site_a.name, default.name) == ("college-a", "dossiersco")
    assert site_a.storage.queue_key != default.storage.queue_key


def test_a_consumer_outlives_a_redis_restart_and_an_unqueued_job_fails_honestly(
        app: Flask, settings: Settings, establishment: Establishment,
        private_redis: PrivateRedis) -> None:
    state = app_state(app)
    queue = JobQueue(replace(settings, queue_immediate=False, queue_url=private_redis.url),
                     state.database, state.storage, state.campaigns)
    queue.start_consumer(1)
    try:
        private_redis.stop()
        time.sleep(MAX_POLL_DELAY * 2)  # the consumer polls a dead Redis meanwhile
        lost = queue.enqueue("test_export", {"rows": 2}, establishment_id=establishment.id)
        assert lost.job_state is JobState.FAILED and lost.message == UNQUEUED_MESSAGE
        private_redis.start()
        again = queue.rerun(lost, requested_by=None)
        done = _wait(queue, again.id)
        assert done.job_state is JobState.DONE and done.progress_done == 2
    finally:
        queue.stop_consumer()
