"""What a running task receives: its job, a database session, the app's services, and the
two calls that report back (progress, result file)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from engine.config import Settings
from engine.db import utcnow
from engine.dossiers.versions import CampaignCache
from engine.storage import Storage

from .models import Job


def result_name(name: str, created_at: datetime) -> str:
    """``name`` with the job's time in it: every generated file has a name of its own."""
    path = PurePosixPath(PurePosixPath(name).name or "resultat")
    return f"{path.stem}-{created_at:%Y%m%d-%H%M%S}{path.suffix}"


@dataclass(slots=True)
class JobContext:
    job: Job
    session: Session
    settings: Settings
    storage: Storage
    campaigns: CampaignCache

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    def report_progress(self, done: int, total: int | None = None) -> None:
        """Record how far the job got, and commit the session: the work done so far is kept
        with it (a task that writes rows commits them batch by batch)."""
        self.job.progress_done = done
        if total is not None:
            self.job.progress_total = total
        self.job.heartbeat_at = utcnow()
        self.session.commit()

    def store_result(self, name: str, data: bytes | BinaryIO,
                     mime: str = "application/octet-stream") -> None:
        """Store the job's file under a new key (committed, so the object is never lost track
        of); it is offered for download only once the task has returned. A job killed before
        that is never "done": its object is deleted by the purge, and the job can be run again.
        """
        job = self.job
        if job.result_key is not None:
            self.storage.delete(job.result_key)
        start = 0 if isinstance(data, bytes | bytearray) else data.tell()
        key = self.storage.put(data)
        job.result_key = key
        job.result_size = len(data) if isinstance(data, bytes | bytearray) else data.tell() - start
        job.result_name = result_name(name, job.created_at)
        job.result_mime = mime
        job.heartbeat_at = utcnow()
        self.session.commit()
