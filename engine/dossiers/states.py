"""The dossier state machine: which transitions exist, and the event each one records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from engine.db import utcnow
from engine.diagnostics import EngineError

if TYPE_CHECKING:
    from engine.campaign.model import Campaign

    from .models import Dossier, DossierEvent


class DossierState(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    TO_CORRECT = "to_correct"
    VALIDATED = "validated"
    LEAVING = "leaving"


class ActorKind(StrEnum):
    FAMILY = "family"
    STAFF = "staff"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: recorded on every event (an account id, never a name)."""

    kind: ActorKind
    id: str | None = None

    @classmethod
    def family(cls, account_id: int) -> Actor:
        return cls(ActorKind.FAMILY, str(account_id))

    @classmethod
    def staff(cls, staff_id: int) -> Actor:
        return cls(ActorKind.STAFF, str(staff_id))

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM)


S = DossierState

#: every allowed move; anything else raises InvalidTransition
TRANSITIONS: Final[Mapping[DossierState, frozenset[DossierState]]] = {
    S.NOT_STARTED: frozenset({S.IN_PROGRESS, S.LEAVING}),
    S.IN_PROGRESS: frozenset({S.SUBMITTED, S.LEAVING}),
    # the school validates, or sends the dossier back with a message
    S.SUBMITTED: frozenset({S.VALIDATED, S.TO_CORRECT, S.LEAVING}),
    S.TO_CORRECT: frozenset({S.SUBMITTED, S.LEAVING}),
    # a validated dossier can still be reopened by the school
    S.VALIDATED: frozenset({S.TO_CORRECT, S.LEAVING}),
    # "leaving" set by mistake: back to editing, answers kept
    S.LEAVING: frozenset({S.IN_PROGRESS}),
}

#: states in which the family may change answers
EDITABLE: Final = frozenset({S.NOT_STARTED, S.IN_PROGRESS, S.TO_CORRECT})


class Window(StrEnum):
    """Where today falls in the campaign's dates: families fill dossiers only while open."""

    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


def window_of(campaign: Campaign, today: date) -> Window:
    """``opens`` and ``closes`` are both days of the campaign."""
    if today < campaign.opens:
        return Window.UPCOMING
    return Window.CLOSED if today > campaign.closes else Window.OPEN

#: French labels shown to families and staff
LABELS: Final[Mapping[DossierState, str]] = {
    S.NOT_STARTED: "Non commencé",
    S.IN_PROGRESS: "En cours",
    S.SUBMITTED: "Envoyé",
    S.TO_CORRECT: "À corriger",
    S.VALIDATED: "Validé",
    S.LEAVING: "Départ de l'établissement",
}


class InvalidTransition(EngineError):
    """A transition that is not in :data:`TRANSITIONS`."""

    def __init__(self, source: DossierState, target: DossierState) -> None:
        super().__init__(f"dossier cannot go from {source.value} to {target.value}")
        self.source = source
        self.target = target


def can_transition(source: DossierState, target: DossierState) -> bool:
    return target in TRANSITIONS[source]


def apply_transition(dossier: Dossier, target: DossierState, actor: Actor, *,
                     message: str | None = None,
                     data: Mapping[str, Any] | None = None) -> DossierEvent:
    """Move ``dossier`` to ``target`` and append the ``state_changed`` event (not committed).

    ``message`` is the correction request sent to the family (required for ``to_correct``).

    :raises InvalidTransition: when the move is not allowed from the current state.
    """

    source = dossier.state
    if not can_transition(source, target):
        raise InvalidTransition(source, target)
    if target is S.TO_CORRECT and not (message and message.strip()):
        raise ValueError("a correction request needs a message for the family")
    now = utcnow()
    dossier.state = target
    if target is S.SUBMITTED:
        dossier.submitted_at = now
        dossier.correction_message = None
        dossier.correction_targets = []
    elif target is S.VALIDATED:
        dossier.validated_at = now
    elif target is S.TO_CORRECT:
        dossier.correction_message = message
        dossier.validated_at = None
    return dossier.record(actor, "state_changed",
                          {"from": source.value, "to": target.value, **(data or {})}, at=now)
