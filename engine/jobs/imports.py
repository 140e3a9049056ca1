"""Imports from the web as jobs: the dry run of the uploaded files, then (once the agent
confirmed) the import itself, through the same service as ``dossiersco import``
(:func:`engine.dossiers.imports.import_into`), and its letters.

The import is one transaction: its progress cannot be committed with ``ctx.report_progress``
in the middle. On PostgreSQL it is written by a connection of its own; on SQLite, whose single
writer is the import, the page shows "en cours" until the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from engine.campaign.model import Campaign
from engine.db import utcnow
from engine.dossiers import audit
from engine.dossiers.imports import ImportRefused, finish_import, import_into
from engine.dossiers.invitations import send_invitations
from engine.dossiers.models import CampaignVersion, ImportRun, ImportState
from engine.dossiers.permissions import Permission
from engine.dossiers.states import Actor
from engine.dossiers.versions import latest_version
from engine.exports.letters import credentials_csv, letters_pdf
from engine.prefill import FICHES_ELEVES, ImportFileError, ImportProblem, ImportResult, read_files
from engine.security import make_hasher
from engine.storage import Storage

from .context import JobContext
from .models import Job, JobState
from .queue import is_stale
from .registry import JobFailed, task
from .retention import purge_letters

IMPORT_CHECK: Final = "import_check"
IMPORT_RUN: Final = "import_run"
#: pupils between two progress writes of a running import (PostgreSQL)
PROGRESS_EVERY: Final = 100


def _run_of(ctx: JobContext) -> ImportRun:
    run = ctx.session.get(ImportRun, ctx.params["run"])
    if run is None:
        raise JobFailed("Cet import n'existe plus.")
    return run


def read_run_files(storage: Storage, run: ImportRun) -> ImportResult:
    """Read the run's stored files with the reader it was given."""
    sources = []
    for f in run.files:
        with storage.open(f["key"]) as handle:
            sources.append((str(f["name"]), handle.read()))
    mapping = run.mapping if run.reader == "mapping" else \
        FICHES_ELEVES if run.reader == "fiches" else None
    return read_files(sources, mapping)


def _target(ctx: JobContext, run: ImportRun) -> tuple[CampaignVersion, Campaign]:
    version = latest_version(ctx.session, run.campaign_slug)
    if version is None or version.establishment_id != run.establishment_id:
        raise JobFailed("La campagne de cet import n'existe plus.")
    return version, ctx.campaigns.campaign_of(version)


def drop_files(storage: Storage, run: ImportRun) -> None:
    """Delete the uploaded files (the run is over, or abandoned); not committed."""
    for f in run.files:
        storage.delete(f["key"])
    run.files = []


def _refuse(ctx: JobContext, run: ImportRun, problems: tuple[ImportProblem, ...] | list[
        ImportProblem], state: ImportState, *, dry_run: bool) -> None:
    run.report = {"dry_run": dry_run, "problems": [p.as_dict() for p in problems]}
    drop_files(ctx.storage, run)
    if state is ImportState.FAILED:
        finish_import(run, state)
    else:
        run.state = state.value
        run.finished_at = utcnow()
    ctx.session.commit()


def _progress(ctx: JobContext) -> Callable[[int, int], None] | None:
    """A progress callback writing the job row outside the import's transaction (PostgreSQL
    only: on SQLite that connection would wait for the import's write lock)."""
    bind = ctx.session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name == "sqlite":
        return None
    engine, job_id = bind, ctx.job.id

    def report(done: int, total: int) -> None:
        if done % PROGRESS_EVERY and done != total:
            return
        with engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == job_id).values(
                progress_done=done, progress_total=total, heartbeat_at=utcnow()))

    return report


@task(IMPORT_CHECK, label="Import : simulation", permission=Permission.IMPORT)
def import_check(ctx: JobContext) -> None:
    """The dry run: the files read, the import done and rolled back, its report kept."""
    run = _run_of(ctx)
    result = read_run_files(ctx.storage, run)
    if not result.ok:
        _refuse(ctx, run, result.problems, ImportState.REFUSED, dry_run=True)
        return
    ctx.report_progress(0, len(result.pupils))
    version, campaign = _target(ctx, run)
    try:
        report = import_into(ctx.session, campaign, version, result,
                             hasher=make_hasher(ctx.settings), dry_run=True,
                             progress=_progress(ctx))
    except ImportRefused as exc:
        _refuse(ctx, _run_of(ctx), exc.problems, ImportState.REFUSED, dry_run=True)
        return
    run = _run_of(ctx)
    run.state = ImportState.CHECKED.value
    run.report = report.as_dict()
    ctx.report_progress(len(result.pupils), len(result.pupils))


@task(IMPORT_RUN, label="Import des élèves et des familles", permission=Permission.IMPORT)
def import_run(ctx: JobContext) -> None:
    """The import the agent confirmed, then its letters; the lock is released whatever
    happens."""
    run = _run_of(ctx)
    settings = ctx.settings
    try:
        result = read_run_files(ctx.storage, run)
        if not result.ok:
            raise ImportRefused(result.problems)
        ctx.report_progress(0, len(result.pupils))
        version, campaign = _target(ctx, run)
        report = import_into(ctx.session, campaign, version, result,
                             hasher=make_hasher(settings), progress=_progress(ctx),
                             invite=bool(ctx.params.get("invite")),
                             invitation_ttl=settings.invitation_ttl)
    except ImportFileError as exc:
        ctx.session.rollback()
        _refuse(ctx, _run_of(ctx), exc.problems, ImportState.FAILED, dry_run=False)
        raise JobFailed("L'import a été refusé : rien n'a été importé (voir le rapport).") \
            from exc
    except BaseException:
        ctx.session.rollback()
        run = _run_of(ctx)
        drop_files(ctx.storage, run)
        finish_import(run, ImportState.FAILED)
        ctx.session.commit()
        raise
    run = _run_of(ctx)
    run.report = report.as_dict()
    purge_letters(ctx.session, ctx.storage)
    if report.credentials:
        establishment = campaign.establishment
        run.letters_key = ctx.storage.put(letters_pdf(report.credentials, establishment,
                                                      settings.base_url))
        run.csv_key = ctx.storage.put(credentials_csv(report.credentials, settings.base_url))
        run.expires_at = utcnow() + settings.job_retention
    if ctx.params.get("invite") and report.credentials:
        sent = send_invitations(settings, report.credentials, campaign.establishment)
        run.report = {**run.report, "invitations_sent": sent.sent,
                      "invitations_failed": len(sent.failed)}
    drop_files(ctx.storage, run)
    finish_import(run, ImportState.DONE)
    actor = Actor.staff(run.requested_by_id) if run.requested_by_id else Actor.system()
    audit.record(ctx.session, actor, "import.done", establishment_id=run.establishment_id,
                 data={"import": run.public_id, "campaign": run.campaign_slug,
                       "counts": run.report["counts"], "new_codes": len(report.credentials)})
    ctx.report_progress(len(result.pupils), len(result.pupils))


def settle(session: Session, storage: Storage, run: ImportRun) -> bool:
    """Release the lock of a run whose import job died (failed, or killed with its worker:
    no news for ``STALE_AFTER``); True when it did (not committed)."""
    if run.import_state is not ImportState.IMPORTING or run.import_job is None:
        return False
    job = session.scalar(select(Job).where(Job.public_id == run.import_job))
    if job is not None and job.job_state is not JobState.FAILED and not is_stale(job):
        return False
    drop_files(storage, run)
    finish_import(run, ImportState.FAILED)
    return True
