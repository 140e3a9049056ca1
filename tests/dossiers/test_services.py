"""Dossier writes: optimistic locking between two guardians (R-01), one transaction each,
state changes through the state machine, files stored with their row or not at all (R-03)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.dossiers.models import Dossier, DossierEvent, FamilyAccount, new_public_id
from engine.dossiers.services import (
    NotEditableError,
    StaleDossierError,
    change_state,
    save_answers,
)
from engine.dossiers.states import Actor, DossierState, InvalidTransition
from engine.web.state import app_state

MakeAccount = Callable[..., tuple[FamilyAccount, str]]
MakeDossier = Callable[..., Dossier]


@pytest.fixture
def dossier(make_account: MakeAccount, make_dossier: MakeDossier) -> Dossier:
    mother, _ = make_account("Mère")
    father, _ = make_account("Père")
    return make_dossier(mother, father)


def _load(app: Flask, dossier: Dossier) -> tuple[Session, Dossier]:
    session = app_state(app).database.sessions()
    found = session.get(Dossier, dossier.id)
    assert found is not None
    return session, found


def test_first_save_starts_the_dossier_and_bumps_the_version(app: Flask,
                                                             dossier: Dossier) -> None:
    session, mine = _load(app, dossier)
    with session:
        assert mine.row_version == 1
        save_answers(session, mine, 1, {"regime": "demi-pension"}, "scolarite",
                     Actor.family(1))
    session, fresh = _load(app, dossier)
    with session:
        assert fresh.row_version == 2
        assert fresh.state is DossierState.IN_PROGRESS
        assert fresh.answers == {"regime": "demi-pension"}
        assert fresh.current_page == "scolarite"
        kinds = [event.kind for event in fresh.events]
        assert kinds == ["created", "state_changed", "answers_saved"]
        assert fresh.events[-1].data == {"page": "scolarite", "fields": ["regime"]}


def test_saves_merge_page_answers(app: Flask, dossier: Dossier) -> None:
    session, mine = _load(app, dossier)
    with session:
        save_answers(session, mine, 1, {"a": 1}, "p1", Actor.family(1))
        save_answers(session, mine, 2, {"b": 2}, "p2", Actor.family(1))
        assert mine.answers == {"a": 1, "b": 2}
        assert mine.row_version == 3


def test_stale_expected_version_raises_with_the_other_answers(app: Flask,
                                                              dossier: Dossier) -> None:
    mother_session, mother_copy = _load(app, dossier)
    with mother_session:
        save_answers(mother_session, mother_copy, 1, {"telephone": "0612345678"}, "contact",
                     Actor.family(1))
    father_session, father_copy = _load(app, dossier)
    with father_session:
        # the father's page was loaded at version 1, before the mother saved
        with pytest.raises(StaleDossierError) as caught:
            save_answers(father_session, father_copy, 1, {"telephone": "0799999999"},
                         "contact", Actor.family(2))
        assert caught.value.current_version == 2
        assert caught.value.current_answers == {"telephone": "0612345678"}
    session, fresh = _load(app, dossier)
    with session:
        assert fresh.answers == {"telephone": "0612345678"}


def test_concurrent_write_between_read_and_update_is_detected(app: Flask,
                                                              dossier: Dossier) -> None:
    # both sessions hold version 1 in memory; the second UPDATE finds no row at version 1
    mother_session, mother_copy = _load(app, dossier)
    father_session, father_copy = _load(app, dossier)
    with mother_session, father_session:
        save_answers(mother_session, mother_copy, 1, {"x": "mère"}, "p", Actor.family(1))
        with pytest.raises(StaleDossierError) as caught:
            save_answers(father_session, father_copy, 1, {"x": "père"}, "p", Actor.family(2))
        assert caught.value.current_answers == {"x": "mère"}
        assert father_copy.answers == {"x": "mère"}
        events = father_session.scalar(select(func.count()).select_from(DossierEvent)
                                       .where(DossierEvent.dossier_id == dossier.id))
        assert events == 3  # created, state_changed, the mother's save: nothing of the father


def test_concurrent_later_saves_are_detected(app: Flask, dossier: Dossier) -> None:
    # the same race after the first save, which no longer changes the state
    session, mine = _load(app, dossier)
    with session:
        save_answers(session, mine, 1, {"x": "début"}, "p", Actor.family(1))
    mother_session, mother_copy = _load(app, dossier)
    father_session, father_copy = _load(app, dossier)
    with mother_session, father_session:
        save_answers(mother_session, mother_copy, 2, {"x": "mère"}, "p", Actor.family(1))
        assert mother_copy.row_version == 3 and mother_copy.answers == {"x": "mère"}
        with pytest.raises(StaleDossierError) as caught:
            save_answers(father_session, father_copy, 2, {"x": "père"}, "p", Actor.family(2))
        assert caught.value.current_version == 3
        assert caught.value.current_answers == {"x": "mère"}
        kinds = father_session.scalars(select(DossierEvent.kind)
                                       .where(DossierEvent.dossier_id == dossier.id)
                                       .order_by(DossierEvent.id)).all()
        assert kinds == ["created", "state_changed", "answers_saved", "answers_saved"]
    session, fresh = _load(app, dossier)
    with session:
        assert (fresh.row_version, fresh.answers) == (3, {"x": "mère"})
        assert fresh.events[-1].actor_id == "1"


def test_submitted_dossier_is_not_editable(app: Flask, dossier: Dossier) -> None:
    session, mine = _load(app, dossier)
    with session:
        save_answers(session, mine, 1, {"a": 1}, "p", Actor.family(1))
        change_state(session, mine, 2, DossierState.SUBMITTED, Actor.family(1),
                     computed={"total": "42.50"})
        with pytest.raises(NotEditableError):
            save_answers(session, mine, 3, {"a": 2}, "p", Actor.family(1))
    session, fresh = _load(app, dossier)
    with session:
        assert fresh.answers == {"a": 1}
        assert fresh.computed == {"total": "42.50"}
        assert fresh.state is DossierState.SUBMITTED
        assert fresh.submitted_at is not None


def test_refused_transition_writes_nothing(app: Flask, dossier: Dossier) -> None:
    session, mine = _load(app, dossier)
    with session:
        with pytest.raises(InvalidTransition):
            change_state(session, mine, 1, DossierState.VALIDATED, Actor.staff(1))
    session, fresh = _load(app, dossier)
    with session:
        assert fresh.state is DossierState.NOT_STARTED
        assert fresh.row_version == 1
        assert [event.kind for event in fresh.events] == ["created"]


def test_stale_state_change_is_refused(app: Flask, dossier: Dossier) -> None:
    session, mine = _load(app, dossier)
    with session:
        save_answers(session, mine, 1, {"a": 1}, "p", Actor.family(1))
        with pytest.raises(StaleDossierError):
            change_state(session, mine, 1, DossierState.SUBMITTED, Actor.family(2))
        assert mine.state is DossierState.IN_PROGRESS


def test_public_ids_can_be_typed_as_command_arguments() -> None:
    # one id in 64 started with "-" and `dossiersco recompute ID` took it for an option
    ids = [new_public_id() for _ in range(2000)]
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(i) == 22 for i in ids) and len(set(ids)) == len(ids)
