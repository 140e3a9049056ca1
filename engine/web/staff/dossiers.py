"""A campaign's dashboard and dossier list, and one dossier, changes first, for the school.

Routes take the establishment's UAI and check the permission they need there through
:mod:`engine.web.staff.access`; a dossier of another establishment is a 404 like an unknown one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any, Final

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response

from engine.campaign.model import Campaign, FieldSpec
from engine.dossiers import audit, sealed
from engine.dossiers.awaiting import asks_every_guardian
from engine.dossiers.campaigns import context_of, effective_answers
from engine.dossiers.corrected import corrected_answers
from engine.dossiers.diff import dossier_changes
from engine.dossiers.documents import document_choices, slot_label
from engine.dossiers.guardian_answers import answers_of, guardian_review
from engine.dossiers.guardians import reported_elsewhere
from engine.dossiers.listing import PER_PAGE, Filters, Listing, Sort, list_dossiers
from engine.dossiers.models import (
    Dossier,
    Establishment,
    FamilyAccount,
    StaffAccount,
    StoredFile,
)
from engine.dossiers.permissions import Permission, can
from engine.dossiers.places import limited_fields
from engine.dossiers.review import (
    DECISION_LABELS,
    REFUSAL_LABELS,
    Blockers,
    DocumentDecision,
    RefusalReason,
    ReviewError,
    bulk_validate,
    decide_document,
    mark_leaving,
    open_conflicts,
    pending_documents,
    rotate_document,
    send_back,
    validate,
)
from engine.dossiers.services import DossierError, StaleDossierError
from engine.dossiers.states import LABELS, DossierState
from engine.dossiers.statistics import campaign_statistics
from engine.dossiers.summary import Section, visible_answers
from engine.rules import evaluate_dossier
from engine.storage.preview import PreviewError, render_preview
from engine.web.database import get_session
from engine.web.files import open_stored, private_file, read_stored, stored_download

from . import bp
from .access import current_staff, establishment_for, staff_actor, staff_required
from .charts import average_text, percent_text, progress_over_time
from .context import (
    FILTER_ARGS,
    back_to_dossier,
    campaign_for,
    dossier_in,
    latest_campaign,
    list_filters,
    viewer_include,
)
from .family_mail import tell_refusal, tell_sent_back

#: one page holding every dossier (dashboard counts, bulk validation)
ALL: Final = 1_000_000


def _listing(establishment: Establishment, slug: str, campaign: Campaign, filters: Filters, *,
             per_page: int = PER_PAGE) -> Listing:
    # the change summaries are a cache shared by every viewer: health fields stay out of
    # them whoever asks (the infirmerie reads health values on the dossier's health page)
    return list_dossiers(get_session(), establishment.id, slug, filters,
                         campaign=campaign, campaign_for=campaign_for, include=sealed.not_health,
                         per_page=per_page)


@bp.get("/<uai>/<slug>/")
@staff_required
def dashboard(uai: str, slug: str) -> str:
    establishment = establishment_for(uai, Permission.LIST_DOSSIERS)
    campaign = latest_campaign(establishment, slug)
    listing = _listing(establishment, slug, campaign, Filters(), per_page=ALL)
    divisions: dict[str, Counter[DossierState]] = {}
    for row in listing.rows:
        divisions.setdefault(row.division or "—", Counter())[row.state] += 1
    counts = listing.state_counts
    stats = campaign_statistics(get_session(), listing.rows, latest=campaign)
    return render_template(
        "staff/dashboard.html", establishment=establishment, campaign=campaign, slug=slug,
        counts=counts, labels=LABELS, total=listing.total, stats=stats,
        progress=progress_over_time(stats), average=average_text(stats),
        percent_text=percent_text,
        can_read=_agent_can(Permission.READ_DOSSIERS, establishment),
        submitted=counts[DossierState.SUBMITTED] + counts[DossierState.VALIDATED],
        changes=sum(1 for r in listing.rows
                    if r.changed_fields and r.state is DossierState.SUBMITTED),
        documents=sum(r.documents.get("to_review", 0) for r in listing.rows),
        divisions=sorted(divisions.items()), states=list(DossierState),
        can_import=_agent_can(Permission.IMPORT, establishment),
        can_export=_agent_can(Permission.EXPORT, establishment),
        can_health=_agent_can(Permission.READ_HEALTH, establishment))


def _agent_can(permission: Permission, establishment: Establishment) -> bool:
    account = current_staff()
    return account is not None and can(account, permission, establishment.id)


@bp.get("/<uai>/<slug>/dossiers")
@staff_required
def dossiers(uai: str, slug: str) -> str:
    establishment = establishment_for(uai, Permission.LIST_DOSSIERS)
    filters = list_filters()
    campaign = latest_campaign(establishment, slug)
    listing = _listing(establishment, slug, campaign, filters)
    account = current_staff()
    assert account is not None
    return render_template(
        "staff/dossiers.html", establishment=establishment, campaign=campaign, slug=slug,
        listing=listing, filters=filters, labels=LABELS, states=list(DossierState),
        sorts=list(Sort), can_review=can(account, Permission.REVIEW_DOSSIERS, establishment.id),
        can_read=can(account, Permission.READ_DOSSIERS, establishment.id),
        can_health=can(account, Permission.READ_HEALTH, establishment.id),
        can_message=can(account, Permission.MESSAGE_FAMILIES, establishment.id),
        has_places=bool(limited_fields(campaign)), can_wait=asks_every_guardian(campaign),
        args=request.args.to_dict(), form=FlaskForm(),
        filter_args={k: v for k, v in request.args.items() if k in FILTER_ARGS})


def _blockers(dossier: Dossier, changed: int) -> Blockers:
    return Blockers(changes=changed, documents_pending=len(pending_documents(dossier)),
                    conflicts=len(open_conflicts(dossier.events)))


@bp.route("/<uai>/<slug>/dossiers/valider", methods=["GET", "POST"])
@staff_required
def bulk_validation(uai: str, slug: str) -> Response | str:
    """Validate, in one action, every submitted dossier with nothing to look at (the count is
    shown first; the POST validates)."""
    establishment = establishment_for(uai, Permission.REVIEW_DOSSIERS)
    campaign = latest_campaign(establishment, slug)
    listing = _listing(establishment, slug, campaign, Filters(state=DossierState.SUBMITTED),
                       per_page=ALL)
    ready = [r for r in listing.rows if not r.changed_fields and not r.documents.get("to_review")
             and not r.conflicts]
    form = FlaskForm()
    if request.method == "POST" and form.validate_on_submit():
        session = get_session()
        ids = [r.id for r in ready]
        loaded = list(session.scalars(select(Dossier).where(Dossier.id.in_(ids))
                                      .options(selectinload(Dossier.files),
                                               selectinload(Dossier.events)))) if ids else []
        changed = {r.id: len(r.changed_fields) for r in ready}
        done, skipped = bulk_validate(session, loaded, staff_actor(),
                                      lambda d: _blockers(d, changed.get(d.id, 1)))
        flash(f"{done} dossier{'s' if done > 1 else ''} validé{'s' if done > 1 else ''}"
              + (f", {skipped} laissé{'s' if skipped > 1 else ''} de côté (modifié entre-temps)"
                 if skipped else "") + ".", "success")
        return redirect(url_for("staff.dossiers", uai=uai, slug=slug))
    return render_template("staff/bulk_validation.html", establishment=establishment,
                           slug=slug, ready=ready, total=listing.total, form=form,
                           campaign=campaign)


def _names(session: Session, dossier: Dossier) -> dict[tuple[str, str | None], str]:
    """(actor kind, id) → a name for the history: guardians and agents by name."""
    names: dict[tuple[str, str | None], str] = {("system", None): "Import"}
    family_ids = {int(e.actor_id) for e in dossier.events
                  if e.actor_kind == "family" and e.actor_id and e.actor_id.isdigit()}
    staff_ids = {int(e.actor_id) for e in dossier.events
                 if e.actor_kind == "staff" and e.actor_id and e.actor_id.isdigit()}
    if family_ids:
        for account in session.scalars(select(FamilyAccount).where(
                FamilyAccount.id.in_(family_ids))):
            names[("family", str(account.id))] = account.display_name
    if staff_ids:
        for agent in session.scalars(select(StaffAccount).where(
                StaffAccount.id.in_(staff_ids))):
            names[("staff", str(agent.id))] = f"{agent.display_name} (établissement)"
    return names


@bp.get("/<uai>/dossier/<public_id>")
@staff_required
def dossier(uai: str, public_id: str) -> str:
    establishment = establishment_for(uai, Permission.READ_DOSSIERS)
    found = dossier_in(establishment, public_id)
    session = get_session()
    campaign = campaign_for(found)
    ctx = context_of(found)
    answers = corrected_answers(found.answers, found.corrections)
    evaluation = evaluate_dossier(
        campaign, effective_answers(campaign, answers, ctx, found.corrections), ctx)
    include = viewer_include(establishment)
    reported = reported_elsewhere(session, campaign, found, answers)
    per_guardian = partial(answers_of, found)
    changes = dossier_changes(campaign, answers, ctx, provenance=found.provenance,
                              events=found.events, visible=evaluation.visible, include=include,
                              reported=reported, corrections=found.corrections,
                              per_guardian=per_guardian)
    since = dossier_changes(campaign, answers, ctx, before=found.reviewed_answers,
                            events=found.events, visible=evaluation.visible, include=include,
                            reported=reported, corrections=found.corrections,
                            per_guardian=per_guardian, since=found.reviewed_at) \
        if found.reviewed_answers is not None else None
    disputes = [e for e in found.events if e.kind == "prefill_disputed"]
    account = current_staff()
    assert account is not None
    # a plain view is not audited (docs/staff.md#audit-trail): health reads, writes,
    # decisions, downloads, exports and messages are
    changed = sum(len(p.changes) for p in changes)
    return render_template(
        "staff/dossier.html", establishment=establishment, dossier=found, campaign=campaign,
        changes=changes, since=since, conflicts=open_conflicts(found.events),
        signatures=guardian_review(found, campaign, evaluation.visible),
        disputes=disputes, names=_names(session, found), labels=LABELS,
        files=found.files, decision_labels=DECISION_LABELS, refusal_labels=REFUSAL_LABELS,
        reasons=list(RefusalReason), blockers=_blockers(found, changed),
        can_review=can(account, Permission.REVIEW_DOSSIERS, establishment.id),
        correct_url=url_for("staff.correct", uai=uai, public_id=public_id)
        if can(account, Permission.REVIEW_DOSSIERS, establishment.id) else None,
        field_label=lambda field_id: slot_label(campaign, field_id, answers),
        document_choices=document_choices(campaign, answers),
        saved_fields=lambda event: _shown_fields(campaign, event.data.get("fields"), include),
        form=FlaskForm())


def _shown_fields(campaign: Campaign, field_ids: Any,
                  include: Callable[[FieldSpec], bool] | None) -> list[str]:
    """The ids of a history event the viewer may know were answered."""
    ids = [str(i) for i in field_ids] if isinstance(field_ids, list) else []
    if include is None:
        return ids
    return [i for i in ids if i not in campaign.fields or include(campaign.fields[i])]


def health_sections(sections: list[Section]) -> list[Section]:
    """The health entries of ``sections``, on the pages that have some."""
    out = []
    for section in sections:
        entries = tuple(e for e in section.entries if sealed.is_health(e.spec))
        if entries:
            out.append(Section(section.page, section.title, entries))
    return out


@bp.get("/<uai>/dossier/<public_id>/sante")
@staff_required
def health(uai: str, public_id: str) -> str:
    """The infirmerie's view of a dossier: the pupil's identity and the health answers, each
    read recorded in the audit trail."""
    establishment = establishment_for(uai, Permission.READ_HEALTH)
    found = dossier_in(establishment, public_id)
    session = get_session()
    campaign = campaign_for(found)
    ctx = context_of(found)
    answers = effective_answers(campaign, sealed.opened_answers(found), ctx)
    evaluation = evaluate_dossier(campaign, answers, ctx)
    sections = health_sections(visible_answers(campaign, evaluation, answers,
                                               evaluation.computed))
    audit.record(session, staff_actor(), "health_viewed", establishment_id=establishment.id,
                 dossier_id=found.id)
    session.commit()
    return render_template("staff/health.html", establishment=establishment, dossier=found,
                           campaign=campaign, sections=sections, labels=LABELS)


def _review_action(uai: str, public_id: str) -> tuple[Establishment, Dossier, int]:
    establishment = establishment_for(uai, Permission.REVIEW_DOSSIERS)
    if not FlaskForm().validate_on_submit():
        abort(400)
    found = dossier_in(establishment, public_id)
    version = request.form.get("row_version", "")
    if not (version.isascii() and version.isdigit() and len(version) < 10):
        abort(400)
    return establishment, found, int(version)


def _run(uai: str, public_id: str, action: Any, success: str) -> Response:
    try:
        action()
    except StaleDossierError:
        flash("Le dossier a été modifié entre-temps : vérifiez-le, puis recommencez.", "warning")
    except (ReviewError, DossierError) as exc:
        flash(getattr(exc, "message", str(exc)), "error")
    else:
        flash(success, "success")
    return back_to_dossier(uai, public_id)


@bp.post("/<uai>/dossier/<public_id>/renvoyer")
@staff_required
def send_back_route(uai: str, public_id: str) -> Response:
    _, found, version = _review_action(uai, public_id)
    targets = request.form.getlist("targets")[:50]
    message = request.form.get("message", "")

    def send_back_and_tell() -> None:
        send_back(get_session(), found, version, staff_actor(), message=message, targets=targets)
        tell_sent_back(found)

    return _run(uai, public_id, send_back_and_tell,
                "Le dossier est renvoyé à la famille pour correction.")


@bp.post("/<uai>/dossier/<public_id>/valider")
@staff_required
def validate_route(uai: str, public_id: str) -> Response:
    _, found, version = _review_action(uai, public_id)
    return _run(uai, public_id, lambda: validate(get_session(), found, version, staff_actor()),
                "Le dossier est validé.")


@bp.post("/<uai>/dossier/<public_id>/depart")
@staff_required
def leaving_route(uai: str, public_id: str) -> Response:
    _, found, version = _review_action(uai, public_id)
    reason = request.form.get("reason", "")
    return _run(uai, public_id, lambda: mark_leaving(get_session(), found, version,
                                                     staff_actor(), reason=reason),
                "Le départ de l'élève est enregistré.")


def _file(found: Dossier, file_id: str) -> StoredFile:
    stored = next((f for f in found.files if f.public_id == file_id), None)
    if stored is None:
        abort(404)
    return stored


@bp.post("/<uai>/dossier/<public_id>/documents/<file_id>")
@staff_required
def decide_route(uai: str, public_id: str, file_id: str) -> Response:
    establishment = establishment_for(uai, Permission.REVIEW_DOSSIERS)
    if not FlaskForm().validate_on_submit():
        abort(400)
    found = dossier_in(establishment, public_id)
    stored = _file(found, file_id)
    if request.form.get("action") == "rotate":
        rotate_document(get_session(), found, stored, staff_actor())
        return back_to_dossier(uai, public_id)
    try:
        decision = DocumentDecision(request.form.get("decision", ""))
        reason = RefusalReason(request.form["reason"]) if request.form.get("reason") else None
    except ValueError:
        abort(400)
    note = request.form.get("note", "")
    labels = {DocumentDecision.ACCEPTED: "Document accepté.",
              DocumentDecision.REFUSED: "Document refusé : la famille est prévenue.",
              DocumentDecision.TO_REVIEW: "Décision annulée."}

    def decide_and_tell() -> None:
        decide_document(get_session(), found, stored, staff_actor(), decision, reason=reason,
                        note=note if reason is RefusalReason.OTHER else None)
        if decision is DocumentDecision.REFUSED:
            tell_refusal(found, stored)

    return _run(uai, public_id, decide_and_tell, labels[decision])


@bp.get("/<uai>/dossier/<public_id>/documents/<file_id>/apercu.png")
@staff_required
def preview(uai: str, public_id: str, file_id: str) -> Response:
    establishment = establishment_for(uai, Permission.READ_DOSSIERS)
    stored = _file(dossier_in(establishment, public_id), file_id)
    try:
        image = render_preview(read_stored(stored), stored.mime_type, stored.rotation)
    except PreviewError:
        abort(404)
    return private_file(image, "image/png")


@bp.get("/<uai>/dossier/<public_id>/documents/<file_id>")
@staff_required
def download(uai: str, public_id: str, file_id: str) -> Response:
    establishment = establishment_for(uai, Permission.READ_DOSSIERS)
    found = dossier_in(establishment, public_id)
    stored = _file(found, file_id)
    # opened first: a file missing or a storage down records no download
    stream = open_stored(stored)
    session = get_session()
    audit.record(session, staff_actor(), "document_downloaded",
                 establishment_id=establishment.id, dossier_id=found.id,
                 data={"file": stored.public_id})
    session.commit()
    return stored_download(stored, stream)
