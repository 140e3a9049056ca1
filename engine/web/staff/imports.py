"""Imports from the web (permission ``IMPORT``: direction and secrétariat): upload SIECLE's
exports or a spreadsheet, read the dry run's report, confirm, follow the import, download the
letters and the mail-merge file.

Both steps are jobs (:mod:`engine.jobs.imports`, the service of ``dossiersco import``); the
run's page refreshes itself while one is running (no JavaScript needed). One import at a time
per establishment: the database refuses a second lock (:func:`claim_import`). Every step is
audited; uploaded files leave the storage when the run ends.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Final

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from engine.db import utcnow
from engine.dossiers import audit
from engine.dossiers.imports import (
    ACTION_LABELS,
    ACTIONS,
    KIND_LABELS,
    ImportRefused,
    claim_import,
    finish_import,
    lock_holder,
)
from engine.dossiers.models import Establishment, ImportRun, ImportState
from engine.dossiers.permissions import Permission
from engine.jobs import Job, JobState, is_stale
from engine.jobs.imports import IMPORT_CHECK, IMPORT_RUN, drop_files, settle
from engine.web.database import get_session
from engine.web.files import NO_CACHE
from engine.web.state import app_state

from . import bp
from .access import current_staff, establishment_for, staff_actor, staff_required
from .context import latest_campaign
from .jobs import REFRESH_SECONDS

#: files of one import (the three SIECLE exports and a spare), and the mapping's size
MAX_FILES: Final = 4
MAX_MAPPING_BYTES: Final = 64 * 1024
READERS: Final = {"auto": "Reconnaître le fichier (exports SIECLE XML ou ZIP, ou tableur "
                  "SIECLE « Fiches élèves complètes »)",
                  "fiches": "Tableur SIECLE « Fiches élèves complètes » (XLS, XLSX)",
                  "mapping": "Tableur de l'établissement avec sa correspondance des colonnes "
                  "(YAML)"}
STATE_LABELS: Final = {
    ImportState.CHECKING: "Simulation en cours", ImportState.CHECKED: "Simulation terminée : "
    "à confirmer", ImportState.REFUSED: "Refusé", ImportState.IMPORTING: "Import en cours",
    ImportState.DONE: "Importé", ImportState.FAILED: "Échec", ImportState.CANCELLED: "Abandonné"}
MAX_LISTED: Final = 50
CSV: Final = "text/csv; charset=utf-8"
PDF: Final = "application/pdf"


def _run(establishment: Establishment, import_id: str) -> ImportRun:
    if len(import_id) > 32:
        abort(404)
    run = get_session().scalar(select(ImportRun).where(
        ImportRun.public_id == import_id, ImportRun.establishment_id == establishment.id))
    if run is None:
        abort(404)
    return run


def _job(public_id: str | None) -> Job | None:
    if public_id is None:
        return None
    return get_session().scalar(select(Job).where(Job.public_id == public_id))


def _no_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = NO_CACHE
    return response


def _page(establishment: Establishment, slug: str, *, status: int = 200,
          form: FlaskForm | None = None) -> Response:
    runs = list(get_session().scalars(
        select(ImportRun).where(ImportRun.establishment_id == establishment.id,
                                ImportRun.campaign_slug == slug)
        .order_by(ImportRun.created_at.desc(), ImportRun.id.desc()).limit(MAX_LISTED)))
    return _no_cache(make_response(render_template(
        "staff/imports.html", establishment=establishment, slug=slug,
        campaign=latest_campaign(establishment, slug), runs=runs, readers=READERS,
        state_labels=STATE_LABELS, form=form or FlaskForm(), max_files=MAX_FILES,
        chosen=request.form.get("lecteur", "auto")), status))


@bp.get("/<uai>/<slug>/imports")
@staff_required
def imports(uai: str, slug: str) -> Response:
    establishment = establishment_for(uai, Permission.IMPORT)
    return _page(establishment, slug)


def _refuse(establishment: Establishment, slug: str, message: str) -> Response:
    flash(message, "error")
    return _page(establishment, slug, status=422)


def _filename(upload: FileStorage) -> str:
    """The name shown in reports: the base name only, bounded."""
    return PurePath((upload.filename or "fichier").replace("\\", "/")).name[:120] or "fichier"


@bp.post("/<uai>/<slug>/imports")
@staff_required
def start_import(uai: str, slug: str) -> Response:
    """Store the files and queue the dry run."""
    establishment = establishment_for(uai, Permission.IMPORT)
    latest_campaign(establishment, slug)
    if not FlaskForm().validate_on_submit():
        abort(400)
    uploads = [f for f in request.files.getlist("fichiers") if f.filename]
    reader = request.form.get("lecteur", "auto")
    if reader not in READERS:
        abort(400)
    if not uploads:
        return _refuse(establishment, slug, "Choisissez le ou les fichiers à importer.")
    if len(uploads) > MAX_FILES:
        return _refuse(establishment, slug, f"Au plus {MAX_FILES} fichiers par import.")
    mapping_text = None
    mapping_file = request.files.get("correspondance")
    if mapping_file is not None and mapping_file.filename:
        raw = mapping_file.read(MAX_MAPPING_BYTES + 1)
        if len(raw) > MAX_MAPPING_BYTES:
            return _refuse(establishment, slug, "La correspondance des colonnes dépasse 64 Ko.")
        try:
            mapping_text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _refuse(establishment, slug, "La correspondance des colonnes doit être un "
                           "fichier texte YAML en UTF-8.")
        reader = "mapping"
    elif reader == "mapping":
        return _refuse(establishment, slug, "Joignez la correspondance des colonnes (YAML) du "
                       "tableur, ou choisissez un autre type de fichier.")
    storage = app_state().storage
    files: list[dict[str, Any]] = []
    for upload in uploads:
        data = upload.read()
        if not data:
            for f in files:
                storage.delete(str(f["key"]))
            return _refuse(establishment, slug, f"Le fichier « {_filename(upload)} » est vide.")
        files.append({"name": _filename(upload), "key": storage.put(data), "size": len(data)})
    agent = current_staff()
    assert agent is not None
    session = get_session()
    run = ImportRun(establishment_id=establishment.id, campaign_slug=slug,
                    requested_by_id=agent.id, state=ImportState.CHECKING.value, files=files,
                    reader=reader, mapping=mapping_text, report={})
    session.add(run)
    session.flush()
    audit.record(session, staff_actor(), "import.upload", establishment_id=establishment.id,
                 data={"import": run.public_id, "campaign": slug, "reader": reader,
                       "files": [[f["name"], f["size"]] for f in files]})
    session.commit()
    public_id, run_id = run.public_id, run.id
    job = app_state().jobs.enqueue(IMPORT_CHECK, {"run": run_id}, requested_by=agent.id,
                                   establishment_id=establishment.id, campaign_slug=slug)
    session.expire_all()
    run = session.get_one(ImportRun, run_id)
    run.check_job = job.public_id
    session.commit()
    return redirect(url_for("staff.import_run", uai=uai, import_id=public_id))


@bp.get("/<uai>/imports/<import_id>")
@staff_required
def import_run(uai: str, import_id: str, *, status: int = 200) -> Response:
    """The run: progress while a job runs, then the report (and the next step)."""
    establishment = establishment_for(uai, Permission.IMPORT)
    run = _run(establishment, import_id)
    session = get_session()
    if settle(session, app_state().storage, run):
        session.commit()
    job = _job(run.import_job if run.import_job else run.check_job)
    running = run.import_state in {ImportState.CHECKING, ImportState.IMPORTING} and \
        job is not None and job.job_state in {JobState.QUEUED, JobState.RUNNING} and \
        not is_stale(job)
    expired = run.expires_at is not None and run.expires_at <= utcnow()
    return _no_cache(make_response(render_template(
        "staff/import_run.html", establishment=establishment, slug=run.campaign_slug,
        campaign=latest_campaign(establishment, run.campaign_slug), run=run, job=job,
        running=running, refresh=REFRESH_SECONDS, state_labels=STATE_LABELS,
        kinds=KIND_LABELS, actions=ACTIONS, action_labels=ACTION_LABELS, form=FlaskForm(),
        letters=run.letters_key is not None and not expired, readers=READERS), status))


@bp.post("/<uai>/imports/<import_id>/confirmer")
@staff_required
def confirm_import(uai: str, import_id: str) -> Response:
    """Take the establishment's lock and queue the import (409 while another one runs)."""
    establishment = establishment_for(uai, Permission.IMPORT)
    if not FlaskForm().validate_on_submit():
        abort(400)
    run = _run(establishment, import_id)
    if run.import_state is not ImportState.CHECKED:
        flash("Cet import n'attend pas de confirmation.", "warning")
        return redirect(url_for("staff.import_run", uai=uai, import_id=import_id))
    session = get_session()
    holder = lock_holder(session, establishment.id)
    if holder is not None and settle(session, app_state().storage, holder):
        session.commit()
    try:
        claim_import(session, run)
    except ImportRefused as exc:
        flash(exc.problems[0].message, "error")
        return import_run(uai, import_id, status=409)
    agent = current_staff()
    assert agent is not None
    invite = request.form.get("inviter") == "1"
    audit.record(session, staff_actor(), "import.confirm", establishment_id=establishment.id,
                 data={"import": run.public_id, "campaign": run.campaign_slug,
                       "invite": invite})
    session.commit()
    run_id = run.id
    try:
        job = app_state().jobs.enqueue(IMPORT_RUN, {"run": run_id, "invite": invite},
                                       requested_by=agent.id, establishment_id=establishment.id,
                                       campaign_slug=run.campaign_slug)
    except Exception:
        session.rollback()
        run = session.get_one(ImportRun, run_id)
        finish_import(run, ImportState.CHECKED)
        run.finished_at = None
        session.commit()
        raise
    session.expire_all()
    run = session.get_one(ImportRun, run_id)
    run.import_job = job.public_id
    session.commit()
    return redirect(url_for("staff.import_run", uai=uai, import_id=import_id))


@bp.post("/<uai>/imports/<import_id>/abandon")
@staff_required
def cancel_import(uai: str, import_id: str) -> Response:
    establishment = establishment_for(uai, Permission.IMPORT)
    if not FlaskForm().validate_on_submit():
        abort(400)
    run = _run(establishment, import_id)
    if run.import_state not in {ImportState.CHECKED, ImportState.REFUSED}:
        flash("Cet import ne peut plus être abandonné.", "warning")
        return redirect(url_for("staff.import_run", uai=uai, import_id=import_id))
    session = get_session()
    drop_files(app_state().storage, run)
    run.state = ImportState.CANCELLED.value
    run.finished_at = utcnow()
    audit.record(session, staff_actor(), "import.cancel", establishment_id=establishment.id,
                 data={"import": run.public_id, "campaign": run.campaign_slug})
    session.commit()
    flash("Import abandonné : rien n'a été importé.", "success")
    return redirect(url_for("staff.imports", uai=uai, slug=run.campaign_slug))


def _download(uai: str, import_id: str, which: str) -> Response:
    establishment = establishment_for(uai, Permission.IMPORT)
    run = _run(establishment, import_id)
    key = run.letters_key if which == "letters" else run.csv_key
    if key is None or run.expires_at is None or run.expires_at <= utcnow():
        abort(404)
    try:
        stream = app_state().storage.open(key)
    except FileNotFoundError:
        abort(404)
    session = get_session()
    audit.record(session, staff_actor(), "import.download", establishment_id=establishment.id,
                 data={"import": run.public_id, "file": which})
    session.commit()
    stamp = f"{run.created_at:%Y%m%d-%H%M%S}"
    name, mime = (f"identifiants-{run.campaign_slug}-{stamp}.pdf", PDF) if which == "letters" \
        else (f"identifiants-{run.campaign_slug}-{stamp}.csv", CSV)
    response = send_file(stream, mimetype=mime, as_attachment=True, download_name=name,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return _no_cache(response)


@bp.get("/<uai>/imports/<import_id>/courriers.pdf")
@staff_required
def import_letters(uai: str, import_id: str) -> Response:
    return _download(uai, import_id, "letters")


@bp.get("/<uai>/imports/<import_id>/publipostage.csv")
@staff_required
def import_csv(uai: str, import_id: str) -> Response:
    return _download(uai, import_id, "csv")
