"""The ``job`` table: what was asked, by whom, how far it got, and the file it produced."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, PortableJSON, UTCDateTime, utcnow
from engine.dossiers.models import new_public_id


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


#: French names of the states, for the pages
STATE_LABELS = {
    JobState.QUEUED: "En attente",
    JobState.RUNNING: "En cours",
    JobState.DONE: "Terminé",
    JobState.FAILED: "Échec",
}


class Job(Base):
    """One background job. The result file is registered only once complete, so a job killed
    mid-run never offers a half file; running it again makes a new job and a new file."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    kind: Mapped[str] = mapped_column(String(60))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"),
                                                         index=True)
    campaign_slug: Mapped[str | None] = mapped_column(String(100))
    #: the agent who asked (None: the family side or the system)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    params: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default=JobState.QUEUED.value)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: why it failed, in French, for the agent
    message: Mapped[str | None] = mapped_column(Text)
    result_key: Mapped[str | None] = mapped_column(String(64))
    result_name: Mapped[str | None] = mapped_column(String(255))
    result_size: Mapped[int | None] = mapped_column(Integer)
    result_mime: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the process running it (``host:pid``): a restarted worker on that host fails the jobs
    #: its dead predecessor left running
    worker: Mapped[str | None] = mapped_column(String(120))
    #: last sign of life of a running job (start, each progress report)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when the result file is deleted
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def job_state(self) -> JobState:
        return JobState(self.state)

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, self.progress_done * 100 // self.progress_total)
