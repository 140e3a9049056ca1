"""Retention in the queue: the campaign's personal data (``engine.dossiers.retention``), then
the campaign's jobs, whose parameters name recipients and whose files are exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.dossiers import retention
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
