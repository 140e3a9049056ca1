"""A campaign's background jobs for the school: progress, failures, and the files they made.

The page refreshes itself while a job runs (a ``<meta http-equiv="refresh">``, no JavaScript
needed). A result is downloaded after the same permission as the job's kind; a failed job,
or one killed with its worker, can be run again as a new job (the old file is never reused).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Final

from flask import abort, flash, make_response, redirect, render_template, send_file, url_for
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from engine.db import utcnow
from engine.dossiers import audit
from engine.dossiers.models import Establishment
from engine.dossiers.permissions import Permission, can
from engine.jobs import STATE_LABELS, TASKS, Job, JobState, UnknownKindError, can_rerun, is_stale
from engine.jobs.registry import permissions_of
from engine.jobs.tasks import QUIET_KINDS
from engine.web.database import get_session
from engine.web.files import NO_CACHE
from engine.web.state import app_state

from . import bp
from .access import current_staff, establishment_for, staff_actor, staff_required
from .context import latest_campaign

#: seconds between two refreshes of a page showing a running job
REFRESH_SECONDS: Final = 3
MAX_LISTED: Final = 100


def _may_see(job: Job, establishment: Establishment) -> bool:
    account = current_staff()
    assert account is not None
    try:
        needed = permissions_of(job)
    except UnknownKindError:
        return False
    return all(can(account, p, establishment.id) for p in needed)


def visible_jobs(establishment: Establishment, slug: str, kinds: Collection[str] | None = None,
                 limit: int = MAX_LISTED) -> list[Job]:
    """The campaign's jobs the agent may see, newest first (a confirmation mail or a review
    notice, one per family action, only when it failed)."""
    account = current_staff()
    assert account is not None
    wanted = [k for k, spec in TASKS.items() if (kinds is None or k in kinds)
              and can(account, spec.permission, establishment.id)]
    found = get_session().scalars(
        select(Job).where(Job.establishment_id == establishment.id, Job.campaign_slug == slug,
                          Job.kind.in_(wanted),
                          or_(Job.kind.not_in(QUIET_KINDS), Job.state == JobState.FAILED.value))
        .order_by(Job.created_at.desc(), Job.id.desc()).limit(limit))
    return [j for j in found if _may_see(j, establishment)]


def is_running(jobs: Iterable[Job]) -> bool:
    return any(j.job_state in {JobState.QUEUED, JobState.RUNNING} and not is_stale(j)
               for j in jobs)


def _job(establishment: Establishment, public_id: str) -> Job:
    """The job of the establishment whose kind the agent may see (404 when missing, 403
    without the kind's permission)."""
    if len(public_id) > 32:
        abort(404)
    job = get_session().scalar(select(Job).where(Job.public_id == public_id,
                                                 Job.establishment_id == establishment.id))
    if job is None or job.kind not in TASKS:
        abort(404)
    if not _may_see(job, establishment):
        abort(403)
    return job


def _downloadable(job: Job) -> bool:
    return (job.job_state is JobState.DONE and job.result_key is not None
            and (job.expires_at is None or job.expires_at > utcnow()))


def jobs_context() -> dict[str, object]:
    """What the job templates (``staff/_jobs_row.html``) need."""
    return {"state_labels": STATE_LABELS, "tasks": TASKS, "downloadable": _downloadable,
            "can_rerun": can_rerun, "is_stale": is_stale, "refresh": REFRESH_SECONDS,
            "form": FlaskForm()}


@bp.get("/<uai>/<slug>/taches")
@staff_required
def jobs(uai: str, slug: str) -> Response:
    establishment = establishment_for(uai, Permission.LIST_DOSSIERS)
    campaign = latest_campaign(establishment, slug)
    found = visible_jobs(establishment, slug)
    running = is_running(found)
    response = make_response(render_template(
        "staff/jobs.html", establishment=establishment, campaign=campaign, slug=slug,
        jobs=found, running=running, **jobs_context()))
    response.headers["Cache-Control"] = NO_CACHE
    return response


@bp.get("/<uai>/taches/<job_id>")
@staff_required
def job(uai: str, job_id: str) -> Response:
    establishment = establishment_for(uai, Permission.LIST_DOSSIERS)
    found = _job(establishment, job_id)
    campaign = latest_campaign(establishment, found.campaign_slug) \
        if found.campaign_slug else None
    running = is_running([found])
    response = make_response(render_template(
        "staff/jobs_detail.html", establishment=establishment, campaign=campaign,
        slug=found.campaign_slug, job=found, running=running, **jobs_context()))
    response.headers["Cache-Control"] = NO_CACHE
    return response


@bp.get("/<uai>/taches/<job_id>/fichier")
@staff_required
def job_file(uai: str, job_id: str) -> Response:
    establishment = establishment_for(uai, Permission.LIST_DOSSIERS)
    found = _job(establishment, job_id)
    if not _downloadable(found):
        abort(404)
    assert found.result_key is not None and found.result_name is not None
    try:
        stream = app_state().storage.open(found.result_key)
    except FileNotFoundError:
        abort(404)
    session = get_session()
    audit.record(session, staff_actor(), "job.download", establishment_id=establishment.id,
                 data={"job": found.public_id, "kind": found.kind})
    session.commit()
    response = send_file(stream, mimetype=found.result_mime or "application/octet-stream",
                         as_attachment=True, download_name=found.result_name,
                         max_age=0)
    response.headers["Cache-Control"] = NO_CACHE
    return response


@bp.post("/<uai>/taches/<job_id>/relancer")
@staff_required
def rerun_job(uai: str, job_id: str) -> Response:
    establishment = establishment_for(uai, Permission.LIST_DOSSIERS)
    if not FlaskForm().validate_on_submit():
        abort(400)
    found = _job(establishment, job_id)
    if not can_rerun(found):
        flash("Cette tâche n'a pas échoué : elle ne peut pas être relancée.", "warning")
        return redirect(url_for("staff.job", uai=uai, job_id=job_id))
    account = current_staff()
    assert account is not None
    session = get_session()
    audit.record(session, staff_actor(), "job.rerun", establishment_id=establishment.id,
                 data={"job": found.public_id, "kind": found.kind})
    session.commit()
    again = app_state().jobs.rerun(found, requested_by=account.id)
    flash("La tâche est relancée.", "success")
    return redirect(url_for("staff.job", uai=uai, job_id=again.public_id))
