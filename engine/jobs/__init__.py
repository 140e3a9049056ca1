"""Background jobs: one mechanism for every long task (mails, exports, PDF batches, imports).

A layer beside dossiers and exports: it may use them (and rules, campaign, storage), and only
the web layer, the app factory and the CLI use it. See docs/jobs.md. In short::

    @task("my_kind", label="…", permission=Permission.EXPORT)
    def my_task(ctx: JobContext) -> None:
        ctx.report_progress(0, total)
        ctx.store_result("fichier.xlsx", data, mime)

    job = app_state().jobs.enqueue("my_kind", {"param": 1}, requested_by=staff.id,
                                   establishment_id=establishment.id, campaign_slug=slug)
"""

from __future__ import annotations

from . import tasks
from .context import JobContext
from .models import STATE_LABELS, Job, JobState
from .queue import JobQueue, can_rerun, is_stale
from .registry import TASKS, JobFailed, TaskSpec, UnknownKindError, spec_of, task

__all__ = ["STATE_LABELS", "TASKS", "Job", "JobContext", "JobFailed", "JobQueue", "JobState",
           "TaskSpec", "UnknownKindError", "can_rerun", "is_stale", "spec_of", "task", "tasks"]
