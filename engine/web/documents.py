"""Document uploads of a dossier (blueprint ``documents``): add, replace, delete, date, serve.

Every route loads the dossier and its files through ``engine.web.access`` (404 for anybody
else, exactly as for an unknown id; another dossier's file id is a 404 too).
Files are served from storage by their public id, never from a static path. Writes redirect
back to the wizard page named in the hidden ``page`` input; a refused write renders the
documents again with the message next to the document and a 4xx status.
"""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, cast

from flask import Blueprint, Flask, Response, abort, redirect, render_template, request, send_file, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import RouteCallable
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as BaseResponse

from engine.campaign.model import Campaign, Page, family_campaign
from engine.diagnostics import UploadCode
from engine.dossiers.campaigns import context_of, effective_answers
from engine.dossiers.documents import (
    DocumentError,
    accept_text,
    add_files,
    delete_file,
    document_statuses,
    replace_file,
    set_document_date,
    upload_rule,
)
from engine.dossiers.models import Dossier, StoredFile
from engine.dossiers.review import REFUSAL_LABELS, RefusalReason
from engine.dossiers.states import EDITABLE
from engine.rules import evaluate_dossier
from engine.storage.inspection import STORED, CheckedFile, make_thumbnail
from engine.web.access import family_dossier, family_file
from engine.web.campaigns import campaign_of
from engine.web.database import get_session
from engine.web.state import app_state

bp = Blueprint("documents", __name__)

#: what an ``accept`` attribute lists for each campaign file kind
ACCEPT_ATTR: Final = {"pdf": (".pdf", "application/pdf"),
                      "jpeg": (".jpg", ".jpeg", "image/jpeg"),
                      "png": (".png", "image/png"),
                      "heic": (".heic", ".heif", "image/heic", "image/heif")}
#: stored MIME type → kind, for thumbnails
KIND_OF_MIME: Final = {mime: kind for kind, mime, _ext in STORED.values()}
NO_CACHE: Final = "no-store, private"
#: document writes (uploads above all) per guardian account, shared by the write routes
WRITE_RATE_LIMIT: Final = "30 per minute"
WRITE_ENDPOINTS: Final = ("upload", "replace", "delete", "declare_date")


def _writer_key() -> str:
    """Throttle per account (families behind one school or office NAT share an address)."""
    if current_user.is_authenticated:
        return f"account:{current_user.id}"
    return get_remote_address()


def _campaign(dossier: Dossier) -> Campaign:
    """The campaign as families see it: a staff-only ``file`` field takes no family upload."""
    return family_campaign(campaign_of(dossier.campaign_version))


def _return_page(campaign: Campaign) -> Page | None:
    """The wizard page named in the posted ``page`` input, if it is one of the campaign's."""
    wanted = str(request.form.get("page") or request.args.get("page") or "")
    page = next((p for p in campaign.pages if p.id == wanted), None)
    return page or next((p for p in campaign.pages if p.documents), None)


def _back(dossier: Dossier, campaign: Campaign, anchor: str | None = None) -> BaseResponse:
    if request.form.get("retour") == "documents":
        target = url_for("documents.overview", public_id=dossier.public_id)
        return redirect(f"{target}#{anchor}" if anchor else target, 303)
    page = _return_page(campaign)
    if page is None:
        target = url_for("family.dossier", public_id=dossier.public_id)
    else:
        target = url_for("wizard.page", public_id=dossier.public_id, page_id=page.id)
    return redirect(f"{target}#{anchor}" if anchor else target, 303)


#: the HTTP status of a refused document write, by code (422 for the others)
STATUS_OF_CODE: Final[Mapping[UploadCode, int]] = {
    UploadCode.MISSING: 400, UploadCode.UNKNOWN: 404, UploadCode.NOT_EDITABLE: 409,
    UploadCode.STALE: 409, UploadCode.TOO_LARGE: 413, UploadCode.TYPE: 415,
    UploadCode.ACCEPTED: 409}


def http_status(error: DocumentError) -> int:
    """The status of the page answering a refused document write."""
    return STATUS_OF_CODE.get(error.code, 422)


def _refused(dossier: Dossier, campaign: Campaign, document_id: str,
             error: DocumentError) -> tuple[str, int]:
    """The documents of the return page again, with ``error`` next to ``document_id``."""
    ctx = context_of(dossier)
    evaluation = evaluate_dossier(campaign, effective_answers(campaign, dossier.answers, ctx),
                                  ctx)
    statuses = document_statuses(campaign, evaluation, dossier, today=ctx.today)
    rule = upload_rule(campaign, document_id)
    return render_template(
        "documents/refused.html", dossier=dossier, campaign=campaign,
        page=_return_page(campaign), statuses=statuses, editable=dossier.state in EDITABLE,
        upload_errors={document_id: [error.message]}, lang=None,
        label=rule.label if rule is not None else "", message=error.message), http_status(error)


@bp.get("/dossier/<public_id>/documents")
@login_required  # type: ignore[untyped-decorator]
def overview(public_id: str) -> str:
    """Every document of the dossier with the school's decisions: where a family sends again
    a refused file once the dossier is sent (the wizard pages are closed then)."""
    dossier = family_dossier(public_id)
    campaign = _campaign(dossier)
    ctx = context_of(dossier)
    evaluation = evaluate_dossier(campaign, effective_answers(campaign, dossier.answers, ctx),
                                  ctx)
    return render_template(
        "documents/overview.html", dossier=dossier, campaign=campaign, page=None,
        statuses=document_statuses(campaign, evaluation, dossier, today=ctx.today),
        editable=dossier.state in EDITABLE, back_to_documents=True, lang=None)


def _uploads(document_id: str, limit: int) -> list[tuple[bytes, str]]:
    """The files posted as ``fichier`` (or ``upload-<id>`` from a file field), empty parts
    dropped; each read up to ``limit`` + 1 bytes so the size check sees an oversized file."""
    parts: list[FileStorage] = (request.files.getlist("fichier")
                                + request.files.getlist(f"upload-{document_id}"))
    return [(part.stream.read(limit + 1), part.filename or "document")
            for part in parts if part.filename]


@bp.post("/dossier/<public_id>/documents/<document_id>/fichiers")
@login_required  # type: ignore[untyped-decorator]  # Flask-Login ships no type hints
def upload(public_id: str, document_id: str) -> Any:
    dossier = family_dossier(public_id)
    campaign = _campaign(dossier)
    rule = upload_rule(campaign, document_id)
    if rule is None:
        abort(404)
    try:
        add_files(get_session(), app_state().storage, campaign, dossier, rule.id,
                  _uploads(rule.id, rule.max_size), current_user)
    except DocumentError as error:
        return _refused(dossier, campaign, rule.id, error)
    return _back(dossier, campaign, f"document-{rule.id}")


@bp.post("/dossier/<public_id>/fichiers/<file_id>/remplacer")
@login_required  # type: ignore[untyped-decorator]
def replace(public_id: str, file_id: str) -> Any:
    dossier, stored = family_file(public_id, file_id)
    campaign = _campaign(dossier)
    document_id = stored.document_id
    rule = upload_rule(campaign, document_id)
    if rule is None:
        abort(404)
    try:
        replace_file(get_session(), app_state().storage, campaign, dossier, stored,
                     _uploads(document_id, rule.max_size), current_user)
    except DocumentError as error:
        return _refused(dossier, campaign, document_id, error)
    return _back(dossier, campaign, f"document-{document_id}")


@bp.post("/dossier/<public_id>/fichiers/<file_id>/supprimer")
@login_required  # type: ignore[untyped-decorator]
def delete(public_id: str, file_id: str) -> Any:
    dossier, stored = family_file(public_id, file_id)
    campaign = _campaign(dossier)
    document_id = stored.document_id
    try:
        delete_file(get_session(), app_state().storage, campaign, dossier, stored,
                    current_user)
    except DocumentError as error:
        return _refused(dossier, campaign, document_id, error)
    return _back(dossier, campaign, f"document-{document_id}")


@bp.post("/dossier/<public_id>/documents/<document_id>/date")
@login_required  # type: ignore[untyped-decorator]
def declare_date(public_id: str, document_id: str) -> Any:
    dossier = family_dossier(public_id)
    campaign = _campaign(dossier)
    try:
        set_document_date(get_session(), campaign, dossier, document_id,
                          str(request.form.get("date") or ""), current_user,
                          today=context_of(dossier).today)
    except DocumentError as error:
        if error.code is UploadCode.UNKNOWN:
            abort(404)
        return _refused(dossier, campaign, document_id, error)
    return _back(dossier, campaign, f"document-{document_id}")


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = NO_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    # a file opened in the browser anyway runs nothing
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _read(stored: StoredFile) -> bytes:
    try:
        with app_state().storage.open(stored.storage_key) as handle:
            return handle.read()
    except FileNotFoundError:
        abort(404)


@bp.get("/dossier/<public_id>/fichiers/<file_id>")
@login_required  # type: ignore[untyped-decorator]
def download(public_id: str, file_id: str) -> Response:
    _dossier, stored = family_file(public_id, file_id)
    return _private(send_file(io.BytesIO(_read(stored)), mimetype=stored.mime_type,
                              as_attachment=True, download_name=stored.filename,
                              conditional=False, etag=False, max_age=0))


@bp.get("/dossier/<public_id>/fichiers/<file_id>/apercu")
@login_required  # type: ignore[untyped-decorator]
def thumbnail(public_id: str, file_id: str) -> Response:
    _dossier, stored = family_file(public_id, file_id)
    kind = KIND_OF_MIME.get(stored.mime_type)
    if kind is None:
        abort(404)
    data = _read(stored) if kind != "pdf" else b""
    checked = CheckedFile(data=data, kind=kind, detected_kind=kind, mime_type=stored.mime_type,
                          filename=stored.filename, size=stored.size, sha256=stored.sha256)
    try:
        image = make_thumbnail(checked)
    except OSError:  # the stored object was damaged after it was checked
        abort(404)
    mime = "image/jpeg" if kind == "jpeg" else "image/png"
    return _private(send_file(io.BytesIO(image), mimetype=mime, conditional=False,
                              etag=False, max_age=0))


@bp.get("/dossier/<public_id>/modeles/<document_id>")
@login_required  # type: ignore[untyped-decorator]
def template_file(public_id: str, document_id: str) -> Response:
    """The campaign's template of a document (form to fill in), to guardians of its dossiers."""
    dossier = family_dossier(public_id)
    campaign = _campaign(dossier)
    doc = next((d for d in campaign.documents if d.id == document_id), None)
    if doc is None or doc.template is None or campaign.base_dir is None:
        abort(404)
    base = Path(campaign.base_dir).resolve()
    path = (base / doc.template).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        abort(404)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return _private(send_file(io.BytesIO(path.read_bytes()), mimetype=mime,
                              as_attachment=True, download_name=path.name,
                              conditional=False, etag=False, max_age=0))


@bp.app_template_global()
def document_accept(kinds: Any) -> str:
    """The ``accept`` attribute of a file input for campaign file kinds."""
    return ",".join(item for kind in kinds for item in ACCEPT_ATTR.get(kind, ()))


@bp.app_template_global()
def refusal_label(reason: str | None) -> str:
    """What the family reads for a refusal reason (« Document illisible »)."""
    try:
        return REFUSAL_LABELS[RefusalReason(reason or "")]
    except ValueError:
        return REFUSAL_LABELS[RefusalReason.OTHER]


@bp.app_template_global()
def document_accept_text(rule: Any) -> str:
    """« Formats acceptés : PDF, JPEG ; 5 Mo au plus par fichier. »"""
    return accept_text(rule)


@bp.record_once
def _throttle_writes(state: BlueprintSetupState) -> None:
    """Wrap the write views of this app with its own limiter (as ``create_app`` does for
    the login), once the routes above are registered."""
    app = cast(Flask, state.app)
    limit = app_state(app).limiter.shared_limit(WRITE_RATE_LIMIT, scope="documents",
                                                key_func=_writer_key)
    for name in WRITE_ENDPOINTS:
        endpoint = f"{bp.name}.{name}"
        app.view_functions[endpoint] = cast(RouteCallable, limit(app.view_functions[endpoint]))
