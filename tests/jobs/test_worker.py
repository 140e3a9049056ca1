"""``dossiersco worker``: a real process consuming the embedded SQLite queue, stopped by Ctrl+C
after its running jobs; ``serve`` runs the same consumer in a thread."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.config import Settings
from engine.dossiers.services import ensure_establishment
from engine.jobs import JobQueue, JobState
from engine.jobs.tasks import FAMILY_MESSAGE


def test_the_worker_runs_queued_jobs_until_interrupted(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = {**os.environ, "DOSSIERSCO_INSTANCE_DIR": str(instance)}
    for name in ("DOSSIERSCO_DATABASE_URL", "DOSSIERSCO_QUEUE_URL", "DOSSIERSCO_QUEUE_IMMEDIATE"):
        env.pop(name, None)
    queue = JobQueue.from_settings(Settings.from_env(env))
    with queue.database.sessions() as session:
        establishment = ensure_establishment(session, uai="0750001A", name="Collège")
        session.commit()
        establishment_id = establishment.id
    job = queue.enqueue(FAMILY_MESSAGE, {"kind": "one_off", "subject": "Objet", "body": "Texte",
                                         "values": {}, "recipients": []},
                        establishment_id=establishment_id, campaign_slug="reinscription-2026")
    assert job.job_state is JobState.QUEUED
    process = subprocess.Popen([sys.executable, "-m", "engine.cli", "worker", "--workers", "1"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = queue.get(job.id)
            assert found is not None
            if found.job_state is JobState.DONE:
                break
            time.sleep(0.2)
        assert found.job_state is JobState.DONE, found.message
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0, process.stderr.read()
        assert process.stdout is not None
        output = process.stdout.read()
        assert "Travailleur DossierSCO : 1 thread(s)" in output
        assert "Travailleur arrêté." in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        queue.database.dispose()
