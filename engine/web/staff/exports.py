"""The exports page of a campaign and its exports (tables, documents ZIP, SIECLE return,
PDFs). The list's filters (same query string as the dossier list) apply to every export.

Each export is a background job (:mod:`engine.jobs.exports`): the form posts, the job is
queued with the filters and the agent's choices, and the agent lands on the job's page
(progress refreshed without JavaScript, then the file); every file stays in the campaign's
job history for the configured time, under a name of its own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from engine.db import utcnow
from engine.dossiers.listing import Filters, filter_query, versions_of
from engine.dossiers.models import Establishment
from engine.dossiers.permissions import Permission, can
from engine.dossiers.states import LABELS, DossierState
from engine.exports.dossier_tables import TABLE_LABELS, TableKind
from engine.exports.pdfs import never_logged_in
from engine.exports.selection import Selection
from engine.exports.siecle import SiecleReturn, school_start, siecle_return
from engine.exports.tables import Format
from engine.jobs.exports import (
    EXPORT_DOCUMENTS,
    EXPORT_INFIRMARY,
    EXPORT_KINDS,
    EXPORT_LETTERS,
    EXPORT_RECAPS,
    EXPORT_SIECLE,
    EXPORT_TABLE,
)
from engine.jobs.registry import HEALTH
from engine.web.campaigns import campaign_of
from engine.web.database import get_session
from engine.web.files import NO_CACHE
from engine.web.state import app_state

from . import bp
from .access import current_staff, establishment_for, staff_required
from .context import latest_campaign, list_filters, viewer_include
from .jobs import is_running, jobs_context, visible_jobs

#: at most this many dossiers ticked for a partial export
MAX_CHOSEN = 5000


def _chosen() -> list[str]:
    """The dossiers ticked (a partial export), from the query string or the form."""
    return sorted({i for i in request.values.getlist("dossier")[:MAX_CHOSEN]
                   if i.isascii() and len(i) <= 32})


def _args(filters: Filters, *, chosen: bool = True) -> dict[str, Any]:
    """The query string that carries the selection from page to page (known keys only)."""
    picked = _chosen() if chosen else []
    return {**filter_query(filters), **({"dossier": picked} if picked else {})}


def _selection(establishment: Establishment, slug: str, filters: Filters | None = None,
               ) -> Selection:
    """The dossiers the list's filters keep, narrowed to the ``dossier`` ids given."""
    if not versions_of(get_session(), establishment.id, slug):
        abort(404)
    return Selection(get_session(), establishment, slug, campaign_of,
                     filters if filters is not None else list_filters(),
                     viewer_include(establishment), frozenset(_chosen()) or None)


def _enqueue(establishment: Establishment, slug: str, kind: str, **params: Any) -> Response:
    """Queue the export of the list's selection and go to its page. A form without a valid
    CSRF token is refused; the campaign must exist."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    if not versions_of(get_session(), establishment.id, slug):
        abort(404)
    account = current_staff()
    assert account is not None
    health = kind == EXPORT_INFIRMARY or can(account, Permission.READ_HEALTH, establishment.id)
    job = app_state().jobs.enqueue(
        kind, {"filters": filter_query(list_filters()), "only": _chosen(), HEALTH: health,
               **params},
        requested_by=account.id, establishment_id=establishment.id, campaign_slug=slug)
    flash("L'export est lancé : le fichier sera proposé ici dès qu'il sera prêt.", "success")
    return redirect(url_for("staff.job", uai=establishment.uai, job_id=job.public_id))


@bp.get("/<uai>/<slug>/exports")
@staff_required
def exports(uai: str, slug: str) -> Response:
    establishment = establishment_for(uai, Permission.EXPORT)
    campaign = latest_campaign(establishment, slug)
    filters = list_filters()
    recent = visible_jobs(establishment, slug, EXPORT_KINDS, limit=10)
    account = current_staff()
    assert account is not None
    response = make_response(render_template(
        "staff/exports.html", establishment=establishment, campaign=campaign, slug=slug,
        filters=filters, args=_args(filters),
        tables=TABLE_LABELS, formats=list(Format), labels=LABELS, states=list(DossierState),
        count=len(_selection(establishment, slug, filters)), jobs=recent,
        running=is_running(recent),
        can_health=can(account, Permission.READ_HEALTH, establishment.id), **jobs_context()))
    response.headers["Cache-Control"] = NO_CACHE
    return response


@bp.post("/<uai>/<slug>/exports/<kind>.<fmt>")
@staff_required
def export_table(uai: str, slug: str, kind: str, fmt: str) -> Response:
    establishment = establishment_for(uai, Permission.EXPORT)
    try:
        table, file_format = TableKind(kind), Format(fmt)
    except ValueError:
        abort(404)
    return _enqueue(establishment, slug, EXPORT_TABLE, table=table.value,
                    format=file_format.value, codes=request.values.get("codes") == "1")


@bp.post("/<uai>/<slug>/exports/documents.zip")
@staff_required
def export_documents(uai: str, slug: str) -> Response:
    establishment = establishment_for(uai, Permission.EXPORT)
    document = request.values.get("document") or None
    if document is not None and document not in {
            d.id for d in latest_campaign(establishment, slug).documents}:
        abort(404)
    return _enqueue(establishment, slug, EXPORT_DOCUMENTS, document=document,
                    accepted=request.values.get("acceptes") == "1")


def _start(selection: Selection) -> date:
    """The first day of school the agent gave (else the campaign's default)."""
    given = request.values.get("rentree", "")
    if not given:
        return school_start(selection.campaign)
    try:
        return date.fromisoformat(given)
    except ValueError:
        abort(400)


@bp.get("/<uai>/<slug>/exports/siecle")
@staff_required
def siecle(uai: str, slug: str) -> str:
    """What the return file would hold, and what keeps each pupil out of it."""
    establishment = establishment_for(uai, Permission.EXPORT)
    selection = _selection(establishment, slug)
    start = _start(selection)
    result: SiecleReturn = siecle_return(selection, generated_at=utcnow(), start=start)
    return render_template(
        "staff/exports_siecle.html", establishment=establishment, slug=slug, result=result,
        start=start, campaign=latest_campaign(establishment, slug), form=FlaskForm(),
        args=_args(selection.filters, chosen=False))


@bp.post("/<uai>/<slug>/exports/siecle.zip")
@staff_required
def export_siecle(uai: str, slug: str) -> Response:
    establishment = establishment_for(uai, Permission.EXPORT)
    start = _start(_selection(establishment, slug))
    return _enqueue(establishment, slug, EXPORT_SIECLE, start=start.isoformat())


@bp.post("/<uai>/<slug>/exports/recapitulatifs.pdf")
@staff_required
def export_recaps(uai: str, slug: str) -> Response:
    """Every récapitulatif of the selection (a division: ``?classe=``) in one PDF."""
    return _enqueue(establishment_for(uai, Permission.EXPORT), slug, EXPORT_RECAPS)


@bp.post("/<uai>/<slug>/exports/fiches-infirmerie.pdf")
@staff_required
def export_infirmary(uai: str, slug: str) -> Response:
    """The fiches infirmerie: health data, for the infirmerie only."""
    return _enqueue(establishment_for(uai, Permission.READ_HEALTH), slug, EXPORT_INFIRMARY)


@bp.route("/<uai>/<slug>/exports/convocations", methods=["GET", "POST"])
@staff_required
def export_letters(uai: str, slug: str) -> Response | str:
    """Letters for the families of the selection who never logged in. Their first code was
    only known at import time, so each letter carries a new one (the old one stops working):
    the page says so before the agent confirms."""
    establishment = establishment_for(uai, Permission.EXPORT)
    if request.method == "POST":
        return _enqueue(establishment, slug, EXPORT_LETTERS)
    selection = _selection(establishment, slug)
    families = never_logged_in(get_session(), selection)
    return render_template(
        "staff/exports_letters.html", establishment=establishment, slug=slug, form=FlaskForm(),
        campaign=latest_campaign(establishment, slug), families=families,
        args=_args(selection.filters))
