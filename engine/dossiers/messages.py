"""Messages to families: reminders by dossier state from editable templates, one-off
messages, the notices of the school's review (:class:`Notice`), the log of what was sent to
whom, and the guardians to write to on paper.

Templates are plain text with four placeholders (``{eleve}``, ``{etablissement}``, ``{lien}``,
``{date_limite}``); a campaign starts from ``templates/mail/reminder_<audience>.txt`` and keeps
its edited text in ``message_template``. A notice's texts are final (rendered by
:mod:`engine.dossiers.notifications`): no placeholder is filled in them. Sending is the job
layer's (one background job per batch); this module renders, sends one batch and records each
message and its audit entry.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine.campaign.model import Campaign
from engine.config import ROOT, Settings
from engine.diagnostics import CodedError
from engine.mail import MailError, send_mail

from . import audit, awaiting
from .models import (
    CampaignVersion,
    Dossier,
    Guardianship,
    MessageTemplate,
    Pupil,
    SentMessage,
)
from .states import Actor, DossierState
from .submission import confirmation_recipients


class MessageError(CodedError, ValueError):
    """A template or message the school wrote cannot be used (the message says why)."""


class Audience(StrEnum):
    NOT_STARTED = "not_started"
    NEVER_LOGGED_IN = "never_logged_in"
    IN_PROGRESS = "in_progress"
    TO_CORRECT = "to_correct"
    #: guardians whose answer a dossier waits for (``required: all_guardians``)
    WAITING_GUARDIAN = "waiting_guardian"


AUDIENCE_LABELS: Final[Mapping[Audience, str]] = {
    Audience.NOT_STARTED: "Dossiers non commencés",
    Audience.NEVER_LOGGED_IN: "Responsables jamais connectés",
    Audience.IN_PROGRESS: "Dossiers en cours, pas encore envoyés",
    Audience.TO_CORRECT: "Dossiers renvoyés pour correction",
    Audience.WAITING_GUARDIAN: "Responsables dont la réponse est attendue pour envoyer le dossier",
}
DEFAULT_SUBJECTS: Final[Mapping[Audience, str]] = {
    Audience.NOT_STARTED: "Réinscription de {eleve} : dossier à compléter",
    Audience.NEVER_LOGGED_IN: "Réinscription de {eleve} : votre accès en ligne",
    Audience.IN_PROGRESS: "Réinscription de {eleve} : dossier à terminer",
    Audience.TO_CORRECT: "Réinscription de {eleve} : dossier à corriger",
    Audience.WAITING_GUARDIAN: "Réinscription de {eleve} : votre réponse est attendue",
}
ONE_OFF: Final = "one_off"
ONE_OFF_SUBJECT: Final = "Réinscription de {eleve}"
#: a reminder to the dossiers chosen in the staff list (ticked, or all the filters keep)
SELECTION: Final = "selection"
SELECTION_SUBJECT: Final = "Réinscription de {eleve} : votre dossier"


class NoticeKind(StrEnum):
    """The mails of the school's review, sent when an agent decides."""

    REFUSAL = "refusal"
    SENT_BACK = "sent_back"
    PLACE_DECISION = "place_decision"


NOTICE_LABELS: Final[Mapping[NoticeKind, str]] = {
    NoticeKind.REFUSAL: "Document refusé",
    NoticeKind.SENT_BACK: "Dossier renvoyé pour correction",
    NoticeKind.PLACE_DECISION: "Décision sur une demande à places",
}
#: the kinds of the log, in French
KIND_LABELS: Final[Mapping[str, str]] = {**{a.value: label for a, label in AUDIENCE_LABELS.items()},
                                         ONE_OFF: "Message individuel",
                                         SELECTION: "Relance depuis la liste des dossiers",
                                         **{k.value: label for k, label in NOTICE_LABELS.items()}}
PLACEHOLDERS: Final = ("eleve", "etablissement", "lien", "date_limite")
#: the states where a family still has something to do
_OPEN: Final = (DossierState.NOT_STARTED, DossierState.IN_PROGRESS, DossierState.TO_CORRECT)
_STATES: Final[Mapping[Audience, tuple[DossierState, ...]]] = {
    Audience.NOT_STARTED: (DossierState.NOT_STARTED,),
    Audience.NEVER_LOGGED_IN: _OPEN,
    Audience.IN_PROGRESS: (DossierState.IN_PROGRESS,),
    Audience.TO_CORRECT: (DossierState.TO_CORRECT,),
    Audience.WAITING_GUARDIAN: awaiting.STATES,
}
MAX_SUBJECT: Final = 200
MAX_BODY: Final = 10_000


def default_body(kind: str) -> str:
    return (ROOT / "templates" / "mail" / f"reminder_{kind}.txt").read_text(encoding="utf-8")


def check_text(text: str, what: str) -> str:
    """``text`` if its placeholders are all known, else a :class:`MessageError` naming them."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        raise MessageError("MESSAGE_001", f"{what} : accolade mal fermée. Écrivez les "
                           "variables ainsi : {eleve}.") from None
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        named = ", ".join("{" + u + "}" for u in unknown)
        raise MessageError("MESSAGE_002", f"{what} : variable inconnue {named} (variables "
                           f"possibles : {known}).")
    return text


def check_message(subject: str, body: str) -> tuple[str, str]:
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise MessageError("MESSAGE_003", "L'objet et le texte du message sont obligatoires.")
    if len(subject) > MAX_SUBJECT or "\n" in subject or "\r" in subject:
        raise MessageError("MESSAGE_004", f"L'objet tient sur une ligne de {MAX_SUBJECT} "
                           "caractères au plus.")
    if len(body) > MAX_BODY:
        raise MessageError("MESSAGE_005", f"Le texte du message dépasse {MAX_BODY} caractères.")
    return check_text(subject, "Objet"), check_text(body, "Texte")


def template_for(session: Session, establishment_id: int, slug: str,
                 audience: Audience) -> tuple[str, str]:
    """(subject, body) of the campaign's reminder to ``audience``, edited or default."""
    stored = session.scalar(select(MessageTemplate).where(
        MessageTemplate.establishment_id == establishment_id,
        MessageTemplate.campaign_slug == slug, MessageTemplate.audience == audience.value))
    if stored is not None:
        return stored.subject, stored.body
    return DEFAULT_SUBJECTS[audience], default_body(audience.value)


def save_template(session: Session, establishment_id: int, slug: str, audience: Audience,
                  subject: str, body: str, actor: Actor, staff_id: int) -> None:
    """Keep the edited text (checked first) and audit the change; the caller commits."""
    subject, body = check_message(subject, body)
    stored = session.scalar(select(MessageTemplate).where(
        MessageTemplate.establishment_id == establishment_id,
        MessageTemplate.campaign_slug == slug, MessageTemplate.audience == audience.value))
    if stored is None:
        stored = MessageTemplate(establishment_id=establishment_id, campaign_slug=slug,
                                 audience=audience.value, subject=subject, body=body)
        session.add(stored)
    stored.subject, stored.body, stored.updated_by_id = subject, body, staff_id
    audit.record(session, actor, "message.template", establishment_id=establishment_id,
                 data={"campaign": slug, "audience": audience.value})


@dataclass(frozen=True, slots=True)
class Recipient:
    """One guardian of one dossier; ``email`` None: to write to on paper."""

    dossier_id: int
    dossier_public_id: str
    account_id: int
    guardian: str
    pupil: str
    division: str | None
    email: str | None

    def to_params(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_params(cls, data: Mapping[str, Any]) -> Recipient:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class Notice:
    """A message of the school's review about one dossier, its texts final, to the guardians
    of that dossier with an address."""

    kind: NoticeKind
    subject: str
    body: str
    recipients: tuple[Recipient, ...]

    def to_params(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "subject": self.subject, "body": self.body,
                "recipients": [r.to_params() for r in self.recipients]}

    @classmethod
    def from_params(cls, data: Mapping[str, Any]) -> Notice:
        return cls(NoticeKind(data["kind"]), data["subject"], data["body"],
                   tuple(Recipient.from_params(r) for r in data["recipients"]))


def notice(kind: NoticeKind, dossier: Dossier, subject: str, body: str) -> Notice:
    """The notice ``subject``/``body`` to each guardian of ``dossier`` with an address (those
    of the confirmation mail)."""
    return Notice(kind, subject, body, tuple(r for r in recipients_of(dossier) if r.email))


def _campaign_dossiers(session: Session, establishment_id: int, slug: str,
                       states: Iterable[DossierState] | None, *,
                       ids: Iterable[int] | None = None) -> list[Dossier]:
    query = (select(Dossier).join(CampaignVersion).join(Pupil, Pupil.id == Dossier.pupil_id)
             .where(CampaignVersion.establishment_id == establishment_id,
                    CampaignVersion.slug == slug)
             .options(selectinload(Dossier.pupil).selectinload(Pupil.guardianships)
                      .selectinload(Guardianship.account))
             .order_by(Pupil.last_name, Pupil.first_name, Dossier.id))
    if states is not None:
        query = query.where(Dossier.state.in_(list(states)))
    found = session.scalars(query)
    if ids is None:
        return list(found)
    # filtered here, not in SQL: a list's filters can keep more ids than a query may carry
    wanted = set(ids)
    return [d for d in found if d.id in wanted]


def recipients_of(dossier: Dossier) -> list[Recipient]:
    """Each guardian of the dossier's pupil, with the address the confirmation mail uses."""
    emails = {r.account_id: r.email for r in confirmation_recipients(dossier)}
    pupil = dossier.pupil
    record = dossier.prefill.get("pupil")
    division = record.get("division") if isinstance(record, Mapping) else None
    return [Recipient(dossier.id, dossier.public_id, link.account_id, link.account.display_name,
                      f"{pupil.first_name} {pupil.last_name}",
                      str(division) if division else None, emails.get(link.account_id))
            for link in sorted(pupil.guardianships, key=lambda g: g.id)]


def audience_recipients(session: Session, establishment_id: int, slug: str,
                        audience: Audience,
                        campaign_of: Callable[[CampaignVersion], Campaign]) -> list[Recipient]:
    """Every guardian a reminder to ``audience`` is for, with or without an address
    (``campaign_of``: each dossier's campaign, to know whose answer it waits for)."""
    dossiers = _campaign_dossiers(session, establishment_id, slug, _STATES[audience])
    asked = awaiting.requested(session, (d.id for d in dossiers)) \
        if audience is Audience.WAITING_GUARDIAN else set()
    out: list[Recipient] = []
    for dossier in dossiers:
        wanted: set[int] | None = None
        if audience is Audience.NEVER_LOGGED_IN:
            wanted = {g.account_id for g in dossier.pupil.guardianships
                      if g.account.last_login_at is None}
        elif audience is Audience.WAITING_GUARDIAN:
            wanted = {g.account_id for g in awaiting.awaited(
                dossier, campaign_of(dossier.campaign_version))} if dossier.id in asked else set()
        out.extend(r for r in recipients_of(dossier) if wanted is None or r.account_id in wanted)
    return out


def selection_recipients(session: Session, establishment_id: int, slug: str,
                         dossier_ids: Iterable[int]) -> list[Recipient]:
    """Every guardian of the dossiers chosen in the staff list, with or without an address."""
    return [r for d in _campaign_dossiers(session, establishment_id, slug, None, ids=dossier_ids)
            for r in recipients_of(d)]


def paper_recipients(session: Session, establishment_id: int, slug: str) -> list[Recipient]:
    """The guardians with no e-mail address, of dossiers where the family has work left."""
    return [r for d in _campaign_dossiers(session, establishment_id, slug, _OPEN)
            for r in recipients_of(d) if r.email is None]


def shared_values(establishment_name: str, closes: date, base_url: str) -> dict[str, str]:
    """The placeholders that are the same for every recipient of a campaign."""
    return {"etablissement": establishment_name, "lien": base_url.rstrip("/") + "/connexion",
            "date_limite": f"{closes:%d/%m/%Y}"}


def render(subject: str, body: str, recipient: Recipient,
           values: Mapping[str, str]) -> tuple[str, str]:
    """The subject and text one recipient receives (the texts were checked when saved)."""
    filled = {**values, "eleve": recipient.pupil}
    try:
        return subject.format_map(filled), body.format_map(filled)
    except (KeyError, ValueError, IndexError) as exc:
        raise MessageError("MESSAGE_006",
                           "Le modèle de message contient une variable invalide.") from exc


def send_batch(session: Session, settings: Settings, establishment_id: int | None,
               slug: str | None, recipients: Sequence[Recipient], *, kind: str, subject: str,
               body: str, values: Mapping[str, str] | None, sent_by: int | None,
               job_id: int | None, progress: Callable[[int], None]) -> int:
    """Send one message to each recipient, recording each (sent or failed) with its audit
    entry, ``progress(n)`` after each (it commits); the number that failed. ``values``: the
    placeholders filled per recipient (:func:`render`); None, the texts are final (a
    :class:`Notice`) and sent as they are, braces and all."""
    if establishment_id is None or slug is None:
        raise MessageError("MESSAGE_007", "Ce message n'est rattaché à aucune campagne.")
    actor = Actor.staff(sent_by) if sent_by is not None else Actor.system()
    failed = 0
    for n, recipient in enumerate(recipients, start=1):
        if recipient.email is None:
            continue
        text_subject, text = ((subject, body) if values is None
                              else render(subject, body, recipient, values))
        status, error = "sent", None
        try:
            send_mail(settings, recipient.email, text_subject, text)
        except MailError as exc:
            status = "failed"
            error = f"Le serveur de courriel a refusé le message ou est injoignable ({exc})."
            failed += 1
        except ValueError:  # a header with a line break (a name imported with one, say)
            status, error = "failed", "L'objet du message contient un retour à la ligne."
            failed += 1
        session.add(SentMessage(
            establishment_id=establishment_id, campaign_slug=slug,
            dossier_id=recipient.dossier_id, account_id=recipient.account_id, job_id=job_id,
            kind=kind, address=recipient.email, subject=text_subject[:MAX_SUBJECT],
            status=status, error=error, sent_by_id=sent_by))
        audit.record(session, actor, f"message.{status}", establishment_id=establishment_id,
                     dossier_id=recipient.dossier_id,
                     data={"kind": kind, "account": recipient.account_id, "job": job_id})
        progress(n)
    return failed


def sent_messages(session: Session, establishment_id: int, slug: str, *,
                  dossier_id: int | None = None, limit: int = 500) -> list[SentMessage]:
    """The log, newest first."""
    query = (select(SentMessage).where(SentMessage.establishment_id == establishment_id,
                                       SentMessage.campaign_slug == slug)
             .order_by(SentMessage.at.desc(), SentMessage.id.desc()).limit(limit))
    if dossier_id is not None:
        query = query.where(SentMessage.dossier_id == dossier_id)
    return list(session.scalars(query))
