"""Messages to families: reminders by dossier state from the campaign's editable templates,
a reminder to the dossiers chosen in the list (ticked, or all its filters keep), a preview with
the first recipient, sending as a background job, the log of what was sent to whom, a one-off
message from a dossier, and the guardians to write to on paper.

Every route needs ``MESSAGE_FAMILIES`` in the establishment; each message sent is audited by
the job that sends it (:func:`engine.dossiers.messages.send_batch`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from engine.campaign.model import Campaign
from engine.dossiers import audit, sealed
from engine.dossiers.messages import (
    AUDIENCE_LABELS,
    KIND_LABELS,
    ONE_OFF,
    ONE_OFF_SUBJECT,
    SELECTION,
    SELECTION_SUBJECT,
    Audience,
    MessageError,
    Recipient,
    audience_recipients,
    check_message,
    default_body,
    paper_recipients,
    recipients_of,
    render,
    save_template,
    selection_recipients,
    sent_messages,
    shared_values,
    template_for,
)
from engine.dossiers.models import Establishment
from engine.dossiers.permissions import Permission
from engine.exports.selection import Selection
from engine.jobs.tasks import FAMILY_MESSAGE, REMINDERS
from engine.web.campaigns import campaign_of
from engine.web.database import get_session
from engine.web.state import app_state

from . import bp
from .access import current_staff, establishment_for, staff_actor, staff_required
from .context import FILTER_ARGS, dossier_in, latest_campaign, list_filters

#: the most dossiers ticked in the list that one reminder takes (a page of the list holds 50)
MAX_CHOSEN: Final = 500


def _audience(name: str) -> Audience:
    try:
        return Audience(name)
    except ValueError:
        abort(404)


def _values(establishment: Establishment, campaign: Campaign) -> dict[str, str]:
    return shared_values(establishment.name, campaign.closes, app_state().settings.base_url)


def _preview(subject: str, body: str, recipients: Sequence[Recipient],
             values: dict[str, str]) -> tuple[Recipient, str, str] | None:
    """The message as the first recipient with an address would receive it."""
    first = next((r for r in recipients if r.email), None)
    if first is None:
        return None
    try:
        return (first, *render(subject, body, first, values))
    except MessageError:
        return None


def _send(establishment: Establishment, slug: str, job_kind: str, kind: str,
          recipients: Sequence[Recipient], subject: str, body: str,
          values: dict[str, str], *, nobody: MessageError,
          dossier_id: int | None = None) -> Response:
    """Queue the messages (the addressed recipients only) and show the job.

    :raises MessageError: ``nobody``, when no recipient has an e-mail address."""
    account = current_staff()
    assert account is not None
    addressed = [r.to_params() for r in recipients if r.email]
    if not addressed:
        raise nobody
    session = get_session()
    audit.record(session, staff_actor(), "message.requested", establishment_id=establishment.id,
                 dossier_id=dossier_id, data={"kind": kind, "campaign": slug,
                                              "recipients": len(addressed)})
    session.commit()
    job = app_state().jobs.enqueue(
        job_kind, {"kind": kind, "subject": subject, "body": body, "values": values,
                   "recipients": addressed},
        requested_by=account.id, establishment_id=establishment.id, campaign_slug=slug)
    flash(f"Envoi de {len(addressed)} message(s) lancé.", "success")
    return redirect(url_for("staff.job", uai=establishment.uai, job_id=job.public_id))


#: the refusal of a reminder nobody can receive by e-mail
NOBODY_TO_REMIND = MessageError("MESSAGE_008",
                                "Aucun responsable à relancer n'a d'adresse électronique.")


def _message_step(form: FlaskForm, subject: str, body: str,
                  send: Callable[[str, str], Response],
                  ) -> tuple[str, str, str | None, Response | None]:
    """A message form's step: on a GET the default ``subject`` and ``body``; on a POST the
    typed ones, checked, and sent (``send``) when the agent asked to. Returns the subject and
    body to show, the refusal to show (None: none) and the response of a sending (None:
    show the form again)."""
    if request.method != "POST":
        return subject, body, None, None
    subject, body = _posted_message(form)
    try:
        subject, body = check_message(subject, body)
        if request.form.get("action") == "send":
            return subject, body, None, send(subject, body)
    except MessageError as exc:
        return subject, body, str(exc), None
    return subject, body, None, None


def _posted_message(form: FlaskForm) -> tuple[str, str]:
    """The subject and body of a posted message form as typed, bounded (CSRF refused: 400);
    the form shows them again when ``check_message`` refuses them."""
    if not form.validate_on_submit():
        abort(400)
    return request.form.get("subject", "")[:1000], request.form.get("body", "")[:20_000]


@bp.get("/<uai>/<slug>/messages")
@staff_required
def messages(uai: str, slug: str) -> str:
    establishment = establishment_for(uai, Permission.MESSAGE_FAMILIES)
    campaign = latest_campaign(establishment, slug)
    session = get_session()
    counts = {}
    for audience in Audience:
        found = audience_recipients(session, establishment.id, slug, audience, campaign_of)
        counts[audience] = (sum(1 for r in found if r.email), sum(1 for r in found if not r.email))
    return render_template(
        "staff/messages.html", establishment=establishment, campaign=campaign, slug=slug,
        counts=counts, labels=AUDIENCE_LABELS, kind_labels=KIND_LABELS,
        log=sent_messages(session, establishment.id, slug, limit=200))


@bp.route("/<uai>/<slug>/messages/relance/<audience>", methods=["GET", "POST"])
@staff_required
def reminder(uai: str, slug: str, audience: str) -> Response | str:
    establishment = establishment_for(uai, Permission.MESSAGE_FAMILIES)
    campaign = latest_campaign(establishment, slug)
    chosen = _audience(audience)
    session = get_session()
    subject, body = template_for(session, establishment.id, slug, chosen)
    recipients = audience_recipients(session, establishment.id, slug, chosen, campaign_of)
    values = _values(establishment, campaign)
    form, error, status = FlaskForm(), None, 200
    if request.method == "POST":
        subject, body = _posted_message(form)
        action = request.form.get("action")
        try:
            subject, body = check_message(subject, body)
            if action in {"save", "send"}:
                account = current_staff()
                assert account is not None
                save_template(session, establishment.id, slug, chosen, subject, body,
                              staff_actor(), account.id)
                session.commit()
            if action == "send":
                return _send(establishment, slug, REMINDERS, chosen.value, recipients, subject,
                             body, values, nobody=NOBODY_TO_REMIND)
            if action == "save":
                flash("Le modèle est enregistré.", "success")
        except MessageError as exc:
            session.rollback()
            error, status = str(exc), 422
    return make_response(render_template(
        "staff/messages_reminder.html", establishment=establishment, campaign=campaign,
        slug=slug, audience=chosen, label=AUDIENCE_LABELS[chosen], subject=subject, body=body,
        recipients=recipients, addressed=sum(1 for r in recipients if r.email),
        preview=None if error else _preview(subject, body, recipients, values),
        error=error, form=form), status)


@bp.route("/<uai>/<slug>/dossiers/relance", methods=["GET", "POST"])
@staff_required
def list_reminder(uai: str, slug: str) -> Response | str:
    """A reminder to the dossiers chosen in the list: those ticked (``dossier``, public ids)
    or, none ticked, every one its filters keep. The GET is the confirmation step (how many
    dossiers and guardians, the message as the first one reads it); the POST sends."""
    establishment = establishment_for(uai, Permission.MESSAGE_FAMILIES)
    campaign = latest_campaign(establishment, slug)
    args = request.form if request.method == "POST" else request.args
    chosen = frozenset(str(i)[:32] for i in args.getlist("dossier")[:MAX_CHOSEN]) or None
    session = get_session()
    selection = Selection(session, establishment, slug, campaign_of, list_filters(args),
                          sealed.not_health, chosen)
    recipients = selection_recipients(session, establishment.id, slug, selection.ids)
    values = _values(establishment, campaign)
    subject, body = SELECTION_SUBJECT, default_body(SELECTION)
    form = FlaskForm()
    subject, body, error, sent = _message_step(form, subject, body, lambda s, b: _send(
        establishment, slug, REMINDERS, SELECTION, recipients, s, b, values,
        nobody=NOBODY_TO_REMIND))
    if sent is not None:
        return sent
    status = 422 if error else 200
    addressed = sum(1 for r in recipients if r.email)
    return make_response(render_template(
        "staff/messages_selection.html", establishment=establishment, campaign=campaign,
        slug=slug, dossiers=len(selection), chosen=chosen is not None, recipients=recipients,
        addressed=addressed, subject=subject, body=body,
        hidden=[(k, v) for k, v in args.items(multi=True)
                if (k in FILTER_ARGS or k == "dossier") and len(v) <= 100][:MAX_CHOSEN + 20],
        back={k: v for k, v in args.items() if k in FILTER_ARGS},
        preview=None if error else _preview(subject, body, recipients, values),
        error=error, form=form), status)


@bp.get("/<uai>/<slug>/messages/courrier")
@staff_required
def paper_letters(uai: str, slug: str) -> str:
    establishment = establishment_for(uai, Permission.MESSAGE_FAMILIES)
    campaign = latest_campaign(establishment, slug)
    return render_template(
        "staff/messages_paper.html", establishment=establishment, campaign=campaign, slug=slug,
        recipients=paper_recipients(get_session(), establishment.id, slug))


@bp.route("/<uai>/dossier/<public_id>/message", methods=["GET", "POST"])
@staff_required
def family_message(uai: str, public_id: str) -> Response | str:
    establishment = establishment_for(uai, Permission.MESSAGE_FAMILIES)
    dossier = dossier_in(establishment, public_id)
    slug = dossier.campaign_version.slug
    campaign = latest_campaign(establishment, slug)
    recipients = recipients_of(dossier)
    values = _values(establishment, campaign)
    subject, body = ONE_OFF_SUBJECT, default_body(ONE_OFF)
    form = FlaskForm()
    subject, body, error, sent = _message_step(form, subject, body, lambda s, b: _send(
        establishment, slug, FAMILY_MESSAGE, ONE_OFF, recipients, s, b, values,
        dossier_id=dossier.id, nobody=MessageError(
            "MESSAGE_009", "Aucun responsable de cet élève n'a d'adresse électronique : "
            "écrivez-lui par courrier.")))
    if sent is not None:
        return sent
    status = 422 if error else 200
    return make_response(render_template(
        "staff/messages_family.html", establishment=establishment, campaign=campaign, slug=slug,
        dossier=dossier, subject=subject, body=body, recipients=recipients,
        preview=None if error else _preview(subject, body, recipients, values),
        log=sent_messages(get_session(), establishment.id, slug, dossier_id=dossier.id),
        kind_labels=KIND_LABELS,
        error=error, form=form), status)
