"""The exports page of a campaign and its downloads (tables, documents ZIP, SIECLE return,
PDFs). The list's filters (same query string as the dossier list) apply to every download.

The files are written by the pure functions of :mod:`engine.exports` into a temporary file
(flat memory, nothing kept on the server) and sent; every download is in the audit trail.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import IO, Any, Final

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from engine.dossiers import audit
from engine.dossiers.listing import Filters, versions_of
from engine.dossiers.models import Establishment, StaffAccount
from engine.dossiers.permissions import Permission, can
from engine.dossiers.states import LABELS, DossierState
from engine.exports.documents_zip import write_documents_zip
from engine.exports.dossier_tables import TABLE_LABELS, TableKind, tables_of
from engine.exports.pdfs import infirmary_pdf, letters_pdf, never_logged_in, new_letters, recaps_pdf
from engine.exports.selection import Selection
from engine.exports.siecle import SiecleReturn, school_start, siecle_return, write_siecle_zip
from engine.exports.tables import MIMETYPES, Format, write_tables
from engine.web.campaigns import campaign_of
from engine.web.database import get_session
from engine.web.files import NO_CACHE
from engine.web.state import app_state

from . import bp
from .access import current_staff, establishment_for, staff_actor, staff_required
from .context import latest_campaign as _latest_campaign
from .context import list_filters as _filters
from .context import viewer_include as _viewer_include

ZIP: Final = "application/zip"
PDF: Final = "application/pdf"


def _selection(establishment: Establishment, slug: str, filters: Filters | None = None,
               ) -> Selection:
    """The dossiers the list's filters keep, narrowed to the ``dossier`` ids given (a partial
    export, or one dossier's récapitulatif)."""
    if not versions_of(get_session(), establishment.id, slug):
        abort(404)
    chosen = frozenset(request.args.getlist("dossier")[:5000]) or None
    return Selection(get_session(), establishment, slug, campaign_of,
                     filters if filters is not None else _filters(),
                     _viewer_include(establishment), chosen)


def _agent() -> StaffAccount:
    account = current_staff()
    assert account is not None
    return account


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def _filter_data(filters: Filters) -> dict[str, Any]:
    """The filters that narrowed an export, for the audit trail."""
    data = {"q": filters.q, "etat": filters.state.value if filters.state else "",
            "niveau": filters.level, "classe": filters.division,
            "modifie": filters.has_changes, "page_modifiee": filters.changed_page,
            "documents": filters.documents, "conflits": filters.conflicts}
    return {k: v for k, v in data.items() if v}


def _send(establishment: Establishment, selection: Selection, kind: str,
          write: Callable[[IO[bytes]], object], filename: str, mimetype: str,
          **data: Any) -> Response:
    """Write the file, audit the download, send it (then the temporary file is gone)."""
    handle = tempfile.TemporaryFile()
    try:
        write(handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    session = get_session()
    audit.record(session, staff_actor(), "export", establishment_id=establishment.id,
                 data={"export": kind, "campaign": selection.slug, "dossiers": len(selection),
                       "filters": _filter_data(selection.filters),
                       **({"chosen": sorted(selection.only)} if selection.only else {}), **data})
    session.commit()
    response = send_file(handle, mimetype=mimetype, as_attachment=True, download_name=filename,
                         conditional=False, etag=False, max_age=0)
    response.headers["Cache-Control"] = NO_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<uai>/<slug>/exports")
@staff_required
def exports(uai: str, slug: str) -> str:
    establishment = establishment_for(uai, Permission.EXPORT)
    campaign = _latest_campaign(establishment, slug)
    filters = _filters()
    return render_template(
        "staff/exports.html", establishment=establishment, campaign=campaign, slug=slug,
        filters=filters, args={k: v for k, v in request.args.items() if k != "page"},
        tables=TABLE_LABELS, formats=list(Format), labels=LABELS, states=list(DossierState),
        count=len(_selection(establishment, slug, filters)), form=FlaskForm(),
        can_health=can(_agent(), Permission.READ_HEALTH, establishment.id))


@bp.get("/<uai>/<slug>/exports/<kind>.<fmt>")
@staff_required
def export_table(uai: str, slug: str, kind: str, fmt: str) -> Response:
    establishment = establishment_for(uai, Permission.EXPORT)
    try:
        table, file_format = TableKind(kind), Format(fmt)
    except ValueError:
        abort(404)
    selection = _selection(establishment, slug)
    codes = request.args.get("codes") == "1"
    return _send(establishment, selection, table.value,
                 lambda out: write_tables(tables_of(table, selection, codes=codes),
                                          file_format, out),
                 f"{table.value}-{slug}-{_stamp()}.{file_format.value}", MIMETYPES[file_format],
                 format=file_format.value)


@bp.get("/<uai>/<slug>/exports/documents.zip")
@staff_required
def export_documents(uai: str, slug: str) -> Response:
    establishment = establishment_for(uai, Permission.EXPORT)
    selection = _selection(establishment, slug)
    document = request.args.get("document") or None
    if document is not None and document not in {d.id for d in selection.campaign.documents}:
        abort(404)
    accepted = request.args.get("acceptes") == "1"
    return _send(establishment, selection, "documents",
                 lambda out: write_documents_zip(selection, app_state().storage, out,
                                                 document_id=document, accepted_only=accepted),
                 f"documents-{slug}-{_stamp()}.zip", ZIP, document=document or "",
                 accepted_only=accepted)


def _siecle(establishment: Establishment, slug: str,
            ) -> tuple[SiecleReturn, date, Selection]:
    """The return for the list's filters (and the dossiers ticked, if any), starting on the
    date the agent gave (else the campaign's default)."""
    selection = _selection(establishment, slug)
    try:
        start = date.fromisoformat(request.args["rentree"]) if request.args.get("rentree") \
            else school_start(selection.campaign)
    except ValueError:
        abort(400)
    return siecle_return(selection, generated_at=datetime.now(UTC), start=start), start, \
        selection


@bp.get("/<uai>/<slug>/exports/siecle")
@staff_required
def siecle(uai: str, slug: str) -> str:
    establishment = establishment_for(uai, Permission.EXPORT)
    result, start, _ = _siecle(establishment, slug)
    return render_template(
        "staff/exports_siecle.html", establishment=establishment, slug=slug, result=result,
        start=start, campaign=_latest_campaign(establishment, slug),
        args={k: v for k, v in request.args.items() if k not in {"page", "dossier", "rentree"}})


@bp.get("/<uai>/<slug>/exports/siecle.zip")
@staff_required
def export_siecle(uai: str, slug: str) -> Response:
    establishment = establishment_for(uai, Permission.EXPORT)
    result, start, selection = _siecle(establishment, slug)
    if not result.included:
        flash("Aucun élève ne peut partir dans le fichier SIECLE : voyez pourquoi ci-dessous.",
              "error")
        query = request.query_string.decode("ascii", "replace")
        return redirect(url_for("staff.siecle", uai=uai, slug=slug) + (f"?{query}" if query
                                                                         else ""))
    return _send(establishment, selection, "siecle", lambda out: write_siecle_zip(result, out),
                 result.filename.removesuffix(".xml") + ".zip", ZIP, file=result.filename,
                 pupils=len(result.included), blocked=len(result.blocked),
                 school_start=start.isoformat())


@bp.get("/<uai>/<slug>/exports/recapitulatifs.pdf")
@staff_required
def export_recaps(uai: str, slug: str) -> Response:
    """Every récapitulatif of the selection (a division: ``?classe=``) in one PDF."""
    establishment = establishment_for(uai, Permission.EXPORT)
    selection = _selection(establishment, slug)
    return _send(establishment, selection, "recapitulatifs",
                 lambda out: recaps_pdf(selection, out),
                 f"recapitulatifs-{slug}-{_stamp()}.pdf", PDF)


@bp.get("/<uai>/<slug>/exports/fiches-infirmerie.pdf")
@staff_required
def export_infirmary(uai: str, slug: str) -> Response:
    """The fiches infirmerie: health data, for the infirmerie only."""
    establishment = establishment_for(uai, Permission.READ_HEALTH)
    selection = _selection(establishment, slug)
    return _send(establishment, selection, "fiches_infirmerie",
                 lambda out: infirmary_pdf(selection, out),
                 f"fiches-infirmerie-{slug}-{_stamp()}.pdf", PDF)


@bp.route("/<uai>/<slug>/exports/convocations", methods=["GET", "POST"])
@staff_required
def export_letters(uai: str, slug: str) -> Response | str:
    """Letters for the families of the selection who never logged in. Their first code was
    only known at import time, so each letter carries a new one (the old one stops working):
    the page says so before the agent confirms."""
    establishment = establishment_for(uai, Permission.EXPORT)
    selection = _selection(establishment, slug)
    form = FlaskForm()
    if request.method == "POST" and form.validate_on_submit():
        session = get_session()
        letters = new_letters(session, app_state().hasher, selection)
        campaign = selection.campaign
        base_url = app_state().settings.base_url
        return _send(establishment, selection, "convocations",
                     lambda out: letters_pdf(letters, campaign, base_url, out),
                     f"convocations-{slug}-{_stamp()}.pdf", PDF, families=len(letters),
                     accounts=[letter.account.id for letter in letters])
    families = never_logged_in(get_session(), selection)
    return render_template(
        "staff/exports_letters.html", establishment=establishment, slug=slug, form=form,
        campaign=_latest_campaign(establishment, slug), families=families,
        args={k: v for k, v in request.args.items() if k != "page"})
