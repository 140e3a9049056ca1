"""The state machine: exactly the transitions of the table are allowed (C-06)."""

from __future__ import annotations

import itertools

import pytest

from engine.dossiers.models import Dossier
from engine.dossiers.states import (
    TRANSITIONS,
    Actor,
    DossierState,
    InvalidTransition,
    apply_transition,
)

PAIRS = list(itertools.product(DossierState, DossierState))


def _dossier(state: DossierState) -> Dossier:
    return Dossier(state=state, answers={}, events=[])


@pytest.mark.parametrize(("source", "target"),
                         [p for p in PAIRS if p[1] in TRANSITIONS[p[0]]])
def test_allowed_transition_records_an_event(source: DossierState,
                                             target: DossierState) -> None:
    dossier = _dossier(source)
    event = apply_transition(dossier, target, Actor.staff(7), message="Pièce illisible.")
    assert dossier.state is target
    assert event.kind == "state_changed"
    assert event.data == {"from": source.value, "to": target.value}
    assert (event.actor_kind, event.actor_id) == ("staff", "7")
    assert dossier.events == [event]


@pytest.mark.parametrize(("source", "target"),
                         [p for p in PAIRS if p[1] not in TRANSITIONS[p[0]]])
def test_other_transitions_are_refused(source: DossierState, target: DossierState) -> None:
    dossier = _dossier(source)
    with pytest.raises(InvalidTransition):
        apply_transition(dossier, target, Actor.system(), message="x")
    assert dossier.state is source
    assert dossier.events == []


def test_every_state_can_be_left() -> None:
    assert set(TRANSITIONS) == set(DossierState)
    assert all(TRANSITIONS[state] for state in DossierState)


def test_correction_request_needs_a_message() -> None:
    dossier = _dossier(DossierState.SUBMITTED)
    with pytest.raises(ValueError):
        apply_transition(dossier, DossierState.TO_CORRECT, Actor.staff(1), message="  ")
    assert dossier.state is DossierState.SUBMITTED


def test_dates_and_message_follow_the_state() -> None:
    dossier = _dossier(DossierState.IN_PROGRESS)
    apply_transition(dossier, DossierState.SUBMITTED, Actor.family(1))
    assert dossier.submitted_at is not None
    apply_transition(dossier, DossierState.TO_CORRECT, Actor.staff(2),
                     message="Merci de joindre l'attestation d'assurance.")
    assert dossier.correction_message == "Merci de joindre l'attestation d'assurance."
    apply_transition(dossier, DossierState.SUBMITTED, Actor.family(1))
    assert dossier.correction_message is None
    apply_transition(dossier, DossierState.VALIDATED, Actor.staff(2))
    assert dossier.validated_at is not None
