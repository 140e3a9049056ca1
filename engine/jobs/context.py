"""What a running task receives: its job, a database session, the app's services, and the
two calls that report back (progress, result file)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO, cast

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

    def throttled_progress(self, every: float = 1.0) -> Callable[[int, int], None]:
        """A ``progress(done, total)`` for writers that call it per row: it reports (and
        commits) at most once every ``every`` seconds, and always the last row."""
        last = time.monotonic()

        def report(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= every or done >= total:
                last = now
                self.report_progress(done, total)

        return report

    def scratch_file(self) -> BinaryIO:
        """A temporary file without a name, in the instance folder (not a RAM ``/tmp``): a
        worker killed while writing it leaves nothing behind."""
        folder = self.settings.instance_dir / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return cast(BinaryIO, tempfile.TemporaryFile(dir=folder))

    def store_result(self, name: str, data: bytes | BinaryIO,
                     mime: str = "application/octet-stream", *, keep_name: bool = False,
                     ) -> None:
        """Store the job's file under a new key (committed, so the object is never lost track
        of); it is offered for download only once the task has returned. A job killed before
        that is never "done": its object is deleted by the purge, and the job can be run again.

        ``keep_name``: ``name`` is unique already (the SIECLE file carries its own time).
        """
        job = self.job
        if job.result_key is not None:
            self.storage.delete(job.result_key)
        start = 0 if isinstance(data, bytes | bytearray) else data.tell()
        key = self.storage.put(data)
        job.result_key = key
        job.result_size = len(data) if isinstance(data, bytes | bytearray) else data.tell() - start
        job.result_name = PurePosixPath(name).name if keep_name \
            else result_name(name, job.created_at)
        job.result_mime = mime
        job.heartbeat_at = utcnow()
        self.session.commit()
