"""A real ``dossiersco worker`` killed with SIGKILL in the middle of an export: no half file
is offered (nor left in the storage), the next worker marks the job failed with an honest
message, and the export runs again to a complete file."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook

from engine.config import Settings
from engine.jobs import Job, JobQueue, JobState, can_rerun
from engine.jobs.exports import EXPORT_TABLE
from engine.jobs.queue import INTERRUPTED
from engine.web.state import app_state

from conftest import MakeDossier

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PUPILS = 12


@pytest.fixture
def queue(app: Flask, settings: Settings) -> Iterator[JobQueue]:
    """The app's queue as a real one: the embedded SQLite file a worker process consumes."""
    state = app_state(app)
    queue = JobQueue(replace(settings, queue_immediate=False), state.database, state.storage,
                     state.campaigns)
    yield queue
    queue.huey.flush()


def _worker(settings: Settings, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DOSSIERSCO_INSTANCE_DIR": str(settings.instance_dir),
           "DOSSIERSCO_DATABASE_URL": settings.database_url,
           "DOSSIERSCO_UPLOAD_DIR": str(settings.upload_dir),
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    for name in ("DOSSIERSCO_QUEUE_URL", "DOSSIERSCO_QUEUE_IMMEDIATE"):
        env.pop(name, None)
    command = [sys.executable, *args] if args else [sys.executable, "-m", "engine.cli",
                                                    "worker", "--workers", "1"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _until(condition: Callable[[], bool], what: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            raise AssertionError(f"the worker stopped: {process.communicate()}")
        time.sleep(0.1)
    raise AssertionError(f"still waiting for {what}")


def _stop(process: subprocess.Popen[str], sig: int = signal.SIGINT) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.communicate()


def _objects(settings: Settings) -> set[Path]:
    return {p for p in settings.upload_dir.rglob("*") if p.is_file()} \
        if settings.upload_dir.exists() else set()


def test_a_worker_killed_mid_export_leaves_no_file_and_the_export_runs_again(
        app: Flask, settings: Settings, queue: JobQueue, make_dossier: MakeDossier,
        tmp_path: Path) -> None:
    for n in range(PUPILS):
        make_dossier(first_name=f"Élève{n:02d}", last_name="MARTIN")
    establishment_id = make_dossier().pupil.establishment_id
    before = _objects(settings)
    job = queue.enqueue(EXPORT_TABLE, {"table": "dossiers", "format": "xlsx", "filters": {}},
                        establishment_id=establishment_id, campaign_slug="reinscription-2026")
    marker = tmp_path / "marker"
    worker = _worker(settings, str(HERE / "killed_worker.py"), str(marker))
    try:
        _until(marker.exists, "the export to be half written", worker)
        running = queue.get(job.id)
        assert running is not None and running.job_state is JobState.RUNNING
        assert running.worker == f"{os.uname().nodename}:{worker.pid}"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        _stop(worker, signal.SIGKILL)
    killed = queue.get(job.id)
    assert killed is not None
    # nothing registered, nothing stored, no scratch file left behind
    assert killed.result_key is None and killed.result_name is None
    assert _objects(settings) == before
    assert not list((settings.instance_dir / "tmp").iterdir())

    again = _worker(settings)
    try:
        _until(lambda: (queue.get(job.id) or killed).job_state is JobState.FAILED,
               "the next worker to fail the interrupted job", again)
        failed = queue.get(job.id)
        assert failed is not None and failed.message == INTERRUPTED and can_rerun(failed)
        rerun = queue.rerun(failed, requested_by=None)
        _until(lambda: (queue.get(rerun.id) or rerun).job_state is JobState.DONE,
               "the export run again", again)
    finally:
        _stop(again)
    done = queue.get(rerun.id)
    assert done is not None and done.result_key is not None
    sheet = load_workbook(io.BytesIO(app_state(app).storage.open(done.result_key).read()),
                          read_only=True)["Dossiers"]
    assert sum(1 for _ in sheet.iter_rows()) == PUPILS + 2  # the header, every pupil
    with app_state(app).database.sessions() as session:
        assert session.get(Job, job.id).result_key is None  # type: ignore[union-attr]
