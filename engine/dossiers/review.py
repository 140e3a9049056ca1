"""What the school does with a dossier: send it back to the family, validate it (one by one, or
every dossier with nothing to look at in one action), mark the pupil as leaving, decide on
documents, correct a value. Every write goes through the state machine or the dossier's
optimistic lock, records an event with its staff actor, and an audit entry in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.campaign.model import Campaign, FieldSpec
from engine.db import utcnow
from engine.diagnostics import CodedError

from . import audit, sealed
from .campaigns import context_of, effective_answers
from .corrected import cell_key, corrected_answers, row_of, with_cell
from .models import Dossier, DossierEvent, StoredFile
from .places import SENT, OptionRequests, PlaceStatus, accepted_now, request_for
from .sealed import is_health, sealed_with
from .services import DossierError, _check_version, _transaction
from .states import Actor, DossierState, apply_transition, can_transition

MAX_MESSAGE: Final = 2000


class ReviewError(CodedError):
    """A review action refused."""


class DocumentDecision(StrEnum):
    TO_REVIEW = "to_review"
    ACCEPTED = "accepted"
    REFUSED = "refused"


class RefusalReason(StrEnum):
    ILLEGIBLE = "illisible"
    INCOMPLETE = "incomplet"
    EXPIRED = "perime"
    WRONG_DOCUMENT = "mauvais"
    OTHER = "autre"


#: what the family reads for each refusal reason
REFUSAL_LABELS: Final[Mapping[RefusalReason, str]] = {
    RefusalReason.ILLEGIBLE: "Document illisible",
    RefusalReason.INCOMPLETE: "Document incomplet",
    RefusalReason.EXPIRED: "Document périmé",
    RefusalReason.WRONG_DOCUMENT: "Ce n'est pas le document demandé",
    RefusalReason.OTHER: "Autre raison",
}

DECISION_LABELS: Final[Mapping[DocumentDecision, str]] = {
    DocumentDecision.TO_REVIEW: "À vérifier",
    DocumentDecision.ACCEPTED: "Accepté",
    DocumentDecision.REFUSED: "Refusé",
}


def _audit(session: Session, dossier: Dossier, actor: Actor, action: str,
           data: Mapping[str, Any] | None = None) -> None:
    audit.record(session, actor, action, establishment_id=dossier.pupil.establishment_id,
                 dossier_id=dossier.id, data=data)


def _message(text: str | None, *, required: bool) -> str | None:
    text = (text or "").strip()
    if required and not text:
        raise ReviewError("REVIEW_001", "Écrivez un message pour la famille.")
    if len(text) > MAX_MESSAGE:
        raise ReviewError("REVIEW_002", f"Le message dépasse {MAX_MESSAGE} caractères.")
    return text or None


def _snapshot(dossier: Dossier) -> None:
    """What the school has now seen: the base of "changed since the last review"."""
    dossier.reviewed_answers = corrected_answers(dossier.answers, dossier.corrections)
    dossier.reviewed_at = utcnow()


def _transition(session: Session, dossier: Dossier, expected_version: int,
                target: DossierState, actor: Actor, action: str, *, message: str | None = None,
                data: Mapping[str, Any] | None = None) -> Dossier:
    _check_version(session, dossier, expected_version)
    if not can_transition(dossier.state, target):
        raise ReviewError("REVIEW_003", "Cette action n'est pas possible dans l'état actuel "
                                        "du dossier.")
    source = dossier.state
    with _transaction(session, dossier):
        apply_transition(dossier, target, actor, message=message, data=data)
        _audit(session, dossier, actor, action, {"from": source.value, **(data or {})})
    return dossier


def send_back(session: Session, dossier: Dossier, expected_version: int, actor: Actor, *,
              message: str, targets: Sequence[str] = ()) -> Dossier:
    """Back to the family "to correct", with the message and the fields or documents
    concerned (the wizard opens on them)."""
    text = _message(message, required=True)
    dossier.correction_targets = list(dict.fromkeys(str(t)[:100] for t in targets))
    _snapshot(dossier)
    return _transition(session, dossier, expected_version, DossierState.TO_CORRECT, actor,
                       "dossier_sent_back", message=text,
                       data={"targets": dossier.correction_targets})


def validate(session: Session, dossier: Dossier, expected_version: int,
             actor: Actor) -> Dossier:
    _snapshot(dossier)
    return _transition(session, dossier, expected_version, DossierState.VALIDATED, actor,
                       "dossier_validated")


def mark_leaving(session: Session, dossier: Dossier, expected_version: int, actor: Actor, *,
                 reason: str) -> Dossier:
    """The pupil leaves the school (with the reason, for the school only)."""
    dossier.leaving_reason = _message(reason, required=True)
    return _transition(session, dossier, expected_version, DossierState.LEAVING, actor,
                       "dossier_leaving")


@dataclass(frozen=True, slots=True)
class Blockers:
    """Why a submitted dossier cannot be validated without someone looking at it."""

    changes: int = 0
    documents_pending: int = 0
    conflicts: int = 0

    def __bool__(self) -> bool:
        return bool(self.changes or self.documents_pending or self.conflicts)


def open_conflicts(events: Iterable[DossierEvent]) -> list[DossierEvent]:
    """Import conflicts (a re-import brought a value the family had changed) not resolved."""
    resolved = {str(e.data.get("conflict")) for e in events if e.kind == "import_conflict_resolved"}
    return [e for e in events if e.kind == "import_conflict" and str(e.id) not in resolved]


def pending_documents(dossier: Dossier) -> list[StoredFile]:
    return [f for f in dossier.files if f.review_status == DocumentDecision.TO_REVIEW]


def bulk_validate(session: Session, dossiers: Iterable[Dossier], actor: Actor,
                  blockers_of: Callable[[Dossier], Blockers]) -> tuple[int, int]:
    """Validate every submitted dossier that ``blockers_of(dossier)`` finds nothing in;
    returns (validated, skipped). Each dossier is its own transaction: one changed
    concurrently is skipped, never half-validated."""
    done = skipped = 0
    for dossier in dossiers:
        if dossier.state is not DossierState.SUBMITTED or blockers_of(dossier):
            skipped += 1
            continue
        try:
            validate(session, dossier, dossier.row_version, actor)
        except (ReviewError, DossierError):  # changed meanwhile, or no longer submitted
            skipped += 1
        else:
            done += 1
    return done, skipped


# -- documents -------------------------------------------------------------------------------

def decide_document(session: Session, dossier: Dossier, stored: StoredFile, actor: Actor,
                    decision: DocumentDecision, *, reason: RefusalReason | None = None,
                    note: str | None = None) -> StoredFile:
    """Accept or refuse a file (refusal needs a reason; "autre" needs a note), or undo a
    decision (back to "to review")."""
    if stored.dossier_id != dossier.id:
        raise ReviewError("REVIEW_004", "Document inconnu.")
    text = _message(note, required=decision is DocumentDecision.REFUSED
                    and reason is RefusalReason.OTHER)
    if decision is DocumentDecision.REFUSED and reason is None:
        raise ReviewError("REVIEW_005", "Choisissez la raison du refus.")
    previous = stored.review_status
    stored.review_status = decision.value
    refused = decision is DocumentDecision.REFUSED
    stored.refusal_reason = reason.value if refused and reason else None
    stored.refusal_note = text if refused else None
    decided = decision is not DocumentDecision.TO_REVIEW
    stored.reviewed_by_id = int(actor.id) if decided and actor.id else None
    stored.reviewed_at = utcnow() if decided else None
    dossier.record(actor, "document_decided", {"file": stored.public_id,
                                               "document": stored.document_id,
                                               "from": previous, "to": decision.value,
                                               "reason": stored.refusal_reason})
    _audit(session, dossier, actor, "document_decided",
           {"file": stored.public_id, "document": stored.document_id, "to": decision.value,
            "reason": stored.refusal_reason})
    session.commit()
    return stored


def rotate_document(session: Session, dossier: Dossier, stored: StoredFile,
                    actor: Actor) -> StoredFile:
    """A quarter turn clockwise of the preview (the stored file is never rewritten)."""
    if stored.dossier_id != dossier.id:
        raise ReviewError("REVIEW_004", "Document inconnu.")
    stored.rotation = (stored.rotation + 1) % 4
    session.commit()
    return stored


def refused_files(dossier: Dossier) -> list[StoredFile]:
    return [f for f in dossier.files if f.review_status == DocumentDecision.REFUSED]


# -- requests for an option with places -----------------------------------------------------

def decide_place(session: Session, campaign: Campaign, dossier: Dossier, expected_version: int,
                 actor: Actor, field_id: str, status: PlaceStatus,
                 option: OptionRequests) -> Dossier:
    """The school's decision on the dossier's request (``REQUESTED`` undoes a decision).
    ``option`` holds the requests for the same option (from
    :func:`engine.dossiers.places.requests_by_option`): an acceptance beyond its places is
    refused. Recorded in the dossier's history and the audit trail, without the option's
    value (an answer)."""
    _check_version(session, dossier, expected_version)
    request = request_for(campaign, dossier, field_id)
    if dossier.state not in SENT or request is None or request.value != option.value:
        raise ReviewError("PLACES_001", "Ce dossier ne demande pas cette option, ou n'est "
                                        "pas encore envoyé.")
    if status is request.status:
        return dossier
    decisions = {k: v for k, v in (dossier.place_decisions or {}).items() if k != field_id}
    if status is not PlaceStatus.REQUESTED:
        decisions[field_id] = {"value": request.value, "status": status.value}
    data = {"field": field_id, "from": request.status.value, "to": status.value}
    with _transaction(session, dossier):
        # counted in the database under the lock, not from the page: another agent may have
        # accepted in the meantime
        if status is PlaceStatus.ACCEPTED and accepted_now(
                session, dossier, field_id, request.value) >= option.places:
            raise ReviewError("PLACES_002", f"Les {option.places} places de « {option.label} "
                              "» sont déjà accordées : refusez ou mettez en liste d'attente une "
                              "autre demande avant d'accepter celle-ci.")
        dossier.place_decisions = decisions
        dossier.record(actor, "place_decided", data)
        _audit(session, dossier, actor, "place_decided", data)
    decided = replace(request, status=status)  # the next acceptance counts this one
    option.rows = [(d, decided if d is dossier else r) for d, r in option.rows]
    return dossier


# -- corrections -----------------------------------------------------------------------------

def correctable(campaign: Campaign, field_id: str) -> FieldSpec | None:
    """The field ``field_id`` if the school may correct its value (any field with a value:
    family-visible, locked or staff-only; health data too, by the infirmerie): a top-level
    field, or a field of a repeat's rows by its qualified key (``responsables.email``). Not a
    per-guardian answer: nobody answers or signs for a guardian."""
    spec = campaign.fields.get(field_id)
    if spec is None or not spec.type.has_value or spec.per_guardian:
        return None
    if spec.parent_id is not None and (spec.type.is_container
                                       or not campaign.fields[spec.parent_id].type.is_container):
        return None
    return spec


def _current_rows(campaign: Campaign, dossier: Dossier, repeat: FieldSpec) -> list[Any]:
    """The rows of ``repeat`` as the school reads them now: corrected, else the family's,
    else the imported ones (health rows opened: the caller is the infirmerie)."""
    answers = sealed.opened_answers(dossier) if is_health(repeat) else dossier.answers
    rows = effective_answers(campaign, corrected_answers(answers, dossier.corrections),
                             context_of(dossier), dossier.corrections).get(repeat.id)
    return list(rows) if isinstance(rows, list) else []


def correct_value(session: Session, campaign: Campaign, dossier: Dossier, expected_version: int,
                  actor: Actor, field_id: str, value: Any, *, row: str | None = None) -> Dossier:
    """The school corrects one value (locked ones included): stored apart from the family's
    answers (``Dossier.corrections``, which win over them), diffed like a family change and
    shown as "corrigé par l'établissement", to the school and to the family. The family may
    still change an editable value: its next different answer replaces the correction.

    ``row`` names the row (its key, the identity the diff matches rows by) of a repeat whose
    field ``field_id`` (``repeat.child``) is corrected: the cell is stored as
    :mod:`engine.dossiers.corrected` says, and replaced alone by the family's next different
    answer for it.

    A health value cannot be kept in clear: it is sealed over the family's answer (a health
    row's cell in its rows), and the history alone tells it was corrected. Who may correct it
    (the infirmerie) is the caller's check.

    :raises ReviewError: the field is unknown (or not in a repeat while ``row`` is given, or
        the reverse), or the dossier has no row ``row``.
    :raises StaleDossierError: the dossier changed since ``expected_version``.
    """
    spec = correctable(campaign, field_id)
    if spec is None or (spec.parent_id is None) != (row is None):
        raise ReviewError("REVIEW_006", "Champ inconnu.")
    _check_version(session, dossier, expected_version)
    # a repeat's answer is sealed whole or not at all (``sealed.health_keys``)
    stored = campaign.fields[spec.parent_id] if spec.parent_id is not None else spec
    health = is_health(stored)
    writes: dict[str, Any] = {field_id: value}
    data: dict[str, Any] = {"fields": [field_id]}
    if row is not None:
        rows = _current_rows(campaign, dossier, stored)
        if row_of(rows, row) is None:
            raise ReviewError("REVIEW_007", "Cette ligne n'existe plus dans le dossier : "
                                            "rechargez la page.")
        writes = {stored.id: with_cell(rows, row, spec.id, value)}
        if not health:
            writes[cell_key(stored.id, row, spec.id)] = value
        data["row"] = row
    with _transaction(session, dossier):
        if health:
            dossier.sealed_answers = sealed_with(session, dossier, writes)
        else:
            dossier.corrections = {**dossier.corrections, **writes}
        dossier.record(actor, "value_corrected", data)
        _audit(session, dossier, actor, "value_corrected", data)
    return dossier


def events_of(session: Session, dossier: Dossier) -> list[DossierEvent]:
    return list(session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
                                .order_by(DossierEvent.id)))
