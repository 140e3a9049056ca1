"""Retention in the queue: the campaign's personal data (``engine.dossiers.retention``), then
the campaign's jobs, whose parameters name recipients and whose files are exports; and the
letters of web imports (the family codes in clear), kept as long as a job's file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.dossiers import retention
from engine.dossiers.models import ImportRun
from engine.dossiers.versions import CampaignCache
from engine.storage import Storage

from .models import Job


@dataclass(frozen=True, slots=True)
class Purged:
    """One campaign purged: the dossiers' side and the number of its jobs deleted."""

    campaign: retention.CampaignPurge
    jobs: int

    def counts(self) -> dict[str, int]:
        return {**self.campaign.counts(), "jobs": self.jobs}


def purge_personal_data(session: Session, storage: Storage, campaigns: CampaignCache,
                        today: date, *, dry_run: bool = False) -> list[Purged]:
    """:func:`engine.dossiers.retention.purge`, then the jobs of each campaign purged and
    their result files (with ``dry_run``: counted only)."""
    out = []
    for plan in retention.purge(session, storage, campaigns, today, dry_run=dry_run):
        jobs = list(session.scalars(select(Job).where(
            Job.establishment_id == plan.establishment_id, Job.campaign_slug == plan.slug)))
        out.append(Purged(plan, len(jobs)))
        if dry_run:
            continue
        keys = [job.result_key for job in jobs if job.result_key is not None]
        for job in jobs:
            session.delete(job)
        session.commit()
        for key in keys:
            storage.delete(key)
    return out


def purge_letters(session: Session, storage: Storage, *, now: datetime | None = None) -> int:
    """Delete the letters and mail-merge files of the imports whose time is up (the run and
    its report stay, as the history); the number of runs purged (not committed). Run by the
    hourly purge (:meth:`JobQueue.purge`) and before an import stores new letters."""
    now = now or utcnow()
    count = 0
    for run in session.scalars(select(ImportRun).where(ImportRun.expires_at <= now,
                                                       ImportRun.letters_key.is_not(None))):
        for key in (run.letters_key, run.csv_key):
            if key is not None:
                storage.delete(key)
        run.letters_key = run.csv_key = None
        count += 1
    return count
