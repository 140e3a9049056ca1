"""Document uploads of a dossier (blueprint ``documents``): add, replace, delete, date, serve.

Every route loads the dossier and its files through ``engine.web.access`` (404 for anybody
else, exactly as for an unknown id; another dossier's file id is a 404 too).
Files are served from storage by their public id, never from a static path. Writes redirect
back to the wizard page named in the hidden ``page`` input (or the ``page`` query argument), a
refused one too (the address bar never keeps a POST URL): the page then says what was and was not
saved, and shows the message next to the document. A request over the app's size limit is
answered the same way, with the limits stated.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, cast

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import RouteCallable
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from engine.campaign.model import Campaign, Page, family_campaign
from engine.diagnostics import UploadCode
from engine.dossiers.campaigns import context_of, effective_answers, redaction_for
from engine.dossiers.documents import (
    DocumentError,
    accept_text,
    add_files,
    delete_file,
    document_statuses,
    replace_file,
    set_document_date,
    slot_label,
    upload_rule,
)
from engine.dossiers.models import Dossier
from engine.dossiers.review import REFUSAL_LABELS, RefusalReason
from engine.dossiers.states import EDITABLE, Window, window_of
from engine.i18n import gettext as _
from engine.rules import evaluate_dossier
from engine.storage.inspection import STORED, CheckedFile, make_thumbnail, megabytes
from engine.web.access import family_dossier, family_file, throttle_key
from engine.web.campaigns import campaign_of
from engine.web.database import get_session
from engine.web.files import private_file, read_stored, stored_download
from engine.web.state import app_state, today

bp = Blueprint("documents", __name__)

#: what an ``accept`` attribute lists for each campaign file kind
ACCEPT_ATTR: Final = {"pdf": (".pdf", "application/pdf"),
                      "jpeg": (".jpg", ".jpeg", "image/jpeg"),
                      "png": (".png", "image/png"),
                      "heic": (".heic", ".heif", "image/heic", "image/heif")}
#: stored MIME type → kind, for thumbnails
KIND_OF_MIME: Final = {mime: kind for kind, mime, _ext in STORED.values()}
#: document writes (uploads above all) per guardian account, shared by the write routes
WRITE_RATE_LIMIT: Final = "30 per minute"
WRITE_ENDPOINTS: Final = ("upload", "replace", "delete", "declare_date")


def _campaign(dossier: Dossier) -> Campaign:
    """The campaign as families see it: a staff-only ``file`` field takes no family upload."""
    return family_campaign(campaign_of(dossier.campaign_version))


def _return_page(campaign: Campaign, form: bool = True) -> Page | None:
    """The wizard page named in the posted ``page`` input (not read when ``form`` is False: a
    body over the size limit) or the query, if it is one of the campaign's."""
    wanted = str((request.form.get("page") if form else None) or request.args.get("page") or "")
    page = next((p for p in campaign.pages if p.id == wanted), None)
    return page or next((p for p in campaign.pages if p.documents), None)


def _back(dossier: Dossier, campaign: Campaign, anchor: str | None = None,
          form: bool = True) -> BaseResponse:
    if form and request.form.get("retour") == "documents":
        target = url_for("documents.overview", public_id=dossier.public_id)
        return redirect(f"{target}#{anchor}" if anchor else target, 303)
    page = _return_page(campaign, form)
    if page is None:
        target = url_for("family.dossier", public_id=dossier.public_id)
    else:
        target = url_for("wizard.page", public_id=dossier.public_id, page_id=page.id)
    return redirect(f"{target}#{anchor}" if anchor else target, 303)


#: the HTTP status of a refused document write, by code (422 for the others)
STATUS_OF_CODE: Final[Mapping[UploadCode, int]] = {
    UploadCode.MISSING: 400, UploadCode.UNKNOWN: 404, UploadCode.NOT_EDITABLE: 409,
    UploadCode.STALE: 409, UploadCode.TOO_LARGE: 413, UploadCode.TYPE: 415,
    UploadCode.ACCEPTED: 409, UploadCode.CLOSED: 409}


def http_status(error: DocumentError) -> int:
    """The status of the page answering a refused document write."""
    return STATUS_OF_CODE.get(error.code, 422)


#: session key of the messages of refused writes, by document id, until the page shows them
ERRORS_KEY: Final = "document_errors"


def _refused(dossier: Dossier, campaign: Campaign, document_id: str, error: DocumentError,
             not_saved: str, form: bool = True) -> BaseResponse:
    """Back to the documents' page, saying what was not saved (``not_saved``: « Le fichier n'a
    pas été enregistré »…) and what is kept, with ``error`` next to ``document_id``.

    The status of the refusal (``http_status``) is logged with the redirect's request."""
    label = slot_label(campaign, document_id, dossier.answers) \
        if upload_rule(campaign, document_id) is not None else ""
    kept = sum(1 for f in dossier.files if f.document_id == document_id)
    summary = f"{not_saved} pour « {label} » : {error.message}" if label else \
        f"{not_saved} : {error.message}"
    if kept:
        summary += (" Le fichier déjà envoyé pour ce document est conservé." if kept == 1 else
                    f" Les {kept} fichiers déjà envoyés pour ce document sont conservés.")
    flash(summary, "error")
    errors = dict(session.get(ERRORS_KEY) or {})
    errors[document_id] = [error.message]
    session[ERRORS_KEY] = errors
    current_app.logger.info("document write refused (%s, HTTP %s)", error.code.value,
                            http_status(error))
    return _back(dossier, campaign, f"document-{document_id}", form)


@bp.app_template_global()
def document_errors() -> dict[str, list[str]]:
    """The messages of the refused writes not shown yet, by document id (shown once)."""
    return dict(session.pop(ERRORS_KEY, None) or {})


@bp.get("/dossier/<public_id>/documents")
@login_required  # type: ignore[untyped-decorator]
def overview(public_id: str) -> str:
    """Every document of the dossier with the school's decisions: where a family sends again
    a refused file once the dossier is sent (the wizard pages are closed then)."""
    dossier = family_dossier(public_id)
    campaign = _campaign(dossier)
    ctx = context_of(dossier, today())
    evaluation = evaluate_dossier(campaign, effective_answers(campaign, dossier.answers, ctx),
                                  ctx)
    return render_template(
        "documents/overview.html", dossier=dossier, campaign=campaign, page=None,
        statuses=document_statuses(campaign, evaluation, dossier, today=ctx.today,
                                   redaction=redaction_for(dossier, current_user.id)),
        editable=dossier.state in EDITABLE and window_of(campaign, ctx.today) is Window.OPEN,
        back_to_documents=True, lang=None)


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
                  _uploads(rule.id, rule.max_size), current_user, today=today())
    except DocumentError as error:
        if error.code is UploadCode.UNKNOWN:  # a per-row slot of no row of the dossier
            abort(404)
        return _refused(dossier, campaign, rule.id, error, _("Le fichier n'a pas été enregistré"))
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
                     _uploads(document_id, rule.max_size), current_user, today=today())
    except DocumentError as error:
        return _refused(dossier, campaign, document_id, error, _("Le nouveau fichier n'a pas été enregistré"))
    return _back(dossier, campaign, f"document-{document_id}")


@bp.post("/dossier/<public_id>/fichiers/<file_id>/supprimer")
@login_required  # type: ignore[untyped-decorator]
def delete(public_id: str, file_id: str) -> Any:
    dossier, stored = family_file(public_id, file_id)
    campaign = _campaign(dossier)
    document_id = stored.document_id
    try:
        delete_file(get_session(), app_state().storage, campaign, dossier, stored,
                    current_user, today=today())
    except DocumentError as error:
        return _refused(dossier, campaign, document_id, error, _("Le fichier n'a pas été supprimé"))
    return _back(dossier, campaign, f"document-{document_id}")


@bp.post("/dossier/<public_id>/documents/<document_id>/date")
@login_required  # type: ignore[untyped-decorator]
def declare_date(public_id: str, document_id: str) -> Any:
    dossier = family_dossier(public_id)
    campaign = _campaign(dossier)
    try:
        set_document_date(get_session(), campaign, dossier, document_id,
                          str(request.form.get("date") or ""), current_user,
                          today=today())
    except DocumentError as error:
        if error.code is UploadCode.UNKNOWN:
            abort(404)
        return _refused(dossier, campaign, document_id, error, _("La date n'a pas été enregistrée"))
    return _back(dossier, campaign, f"document-{document_id}")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> BaseResponse:
    """A body over the app's limit (never read): back to the document with both limits."""
    args = request.view_args or {}
    public_id = str(args.get("public_id", ""))
    if "file_id" in args:
        dossier, stored = family_file(public_id, str(args["file_id"]))
        document_id = stored.document_id
    else:
        dossier = family_dossier(public_id)
        document_id = str(args.get("document_id", ""))
    campaign = _campaign(dossier)
    rule = upload_rule(campaign, document_id)
    if rule is None:
        abort(404)
    limit = int(current_app.config.get("MAX_CONTENT_LENGTH") or 0)
    message = _("L'envoi dépasse {total}\u00a0Mo, la taille maximale d'un envoi. Ce document "
                "accepte {size}\u00a0Mo au plus par fichier : réduisez la taille du fichier "
                "(photo moins lourde, PDF compressé) et réessayez.").format(
        total=megabytes(limit), size=megabytes(rule.max_size))
    return _refused(dossier, campaign, rule.id, DocumentError(message, UploadCode.TOO_LARGE),
                    _("Le fichier n'a pas été enregistré"), form=False)


@bp.get("/dossier/<public_id>/fichiers/<file_id>")
@login_required  # type: ignore[untyped-decorator]
def download(public_id: str, file_id: str) -> Response:
    _dossier, stored = family_file(public_id, file_id)
    return stored_download(stored)


@bp.get("/dossier/<public_id>/fichiers/<file_id>/apercu")
@login_required  # type: ignore[untyped-decorator]
def thumbnail(public_id: str, file_id: str) -> Response:
    _dossier, stored = family_file(public_id, file_id)
    kind = KIND_OF_MIME.get(stored.mime_type)
    if kind is None:
        abort(404)
    data = read_stored(stored) if kind != "pdf" else b""
    checked = CheckedFile(data=data, kind=kind, detected_kind=kind, mime_type=stored.mime_type,
                          filename=stored.filename, size=stored.size, sha256=stored.sha256)
    try:
        image = make_thumbnail(checked)
    except OSError:  # the stored object was damaged after it was checked
        abort(404)
    mime = "image/jpeg" if kind == "jpeg" else "image/png"
    return private_file(image, mime)


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
    return private_file(path.read_bytes(), mime, as_attachment=True, download_name=path.name)


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
                                                key_func=throttle_key)
    for name in WRITE_ENDPOINTS:
        endpoint = f"{bp.name}.{name}"
        app.view_functions[endpoint] = cast(RouteCallable, limit(app.view_functions[endpoint]))
