"""Writes to dossiers, one transaction each: all or nothing, never a silently lost update.

Every function here commits on success and rolls back on failure, so a caller never sees a
half-written dossier.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, contains_eager, joinedload, with_expression
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine.campaign.model import Campaign
from engine.db import utcnow
from engine.diagnostics import EngineError

from . import guardian_answers, places, sealed
from .corrected import answered_rows, corrected_answers, has_cells
from .family import ELDER_SIBLINGS, SIBLINGS
from .models import (
    CampaignVersion,
    Dossier,
    DossierEvent,
    Establishment,
    Guardianship,
    Pupil,
)
from .states import EDITABLE, Actor, ActorKind, DossierState, apply_transition


class DossierError(EngineError):
    """Base of the errors a dossier write can raise."""


class StaleDossierError(DossierError):
    """Someone else saved the dossier since it was loaded; carries what they saved."""

    def __init__(self, current_version: int, current_answers: dict[str, Any],
                 updated_at: datetime, saved_by: Actor | None = None) -> None:
        super().__init__(f"dossier changed since it was loaded (now at version {current_version})")
        self.current_version = current_version
        self.current_answers = current_answers
        self.updated_at = updated_at
        #: who made the last write (None: not recorded)
        self.saved_by = saved_by
        #: the fields both writers changed, when a merge was tried (None: not tried)
        self.conflicts: list[str] | None = None


class AnswersTooLarge(DossierError):
    """The answers of one dossier would exceed :data:`MAX_ANSWERS_SIZE`: refused whole, so that
    no family can fill the database or make the dossier's PDF and pages slow for everybody."""


#: the most characters a dossier's answers may take as JSON (health ones included): far above
#: what any campaign asks (every field at its ``max_length``), far below what would hurt
MAX_ANSWERS_SIZE: Final = 256_000


def _check_size(*parts: Mapping[str, Any]) -> None:
    """The answers of every kind (clear, health, per guardian) together."""
    size = len(json.dumps(parts, default=str, ensure_ascii=False))
    if size > MAX_ANSWERS_SIZE:
        raise AnswersTooLarge(f"answers of {size} characters, at most {MAX_ANSWERS_SIZE}")


class NotEditableError(DossierError):
    """The dossier's state does not let the family change answers (submitted, validated…)."""

    def __init__(self, state: DossierState) -> None:
        super().__init__(f"answers cannot change in state {state.value}")
        self.state = state


@contextmanager
def _transaction(session: Session, dossier: Dossier) -> Iterator[None]:
    try:
        # one flush at commit, so the row version moves by exactly one per write
        with session.no_autoflush:
            yield
        session.commit()
    except StaleDataError:
        # another process committed between our read and our UPDATE
        session.rollback()
        session.refresh(dossier)
        raise _stale(session, dossier) from None
    except BaseException:
        session.rollback()
        raise


def _stale(session: Session, dossier: Dossier) -> StaleDossierError:
    last = session.execute(
        select(DossierEvent.actor_kind, DossierEvent.actor_id)
        .where(DossierEvent.dossier_id == dossier.id)
        .order_by(DossierEvent.id.desc()).limit(1)).first()
    saved_by = None if last is None else Actor(ActorKind(last.actor_kind), last.actor_id)
    return StaleDossierError(dossier.row_version, dict(sealed.opened_answers(dossier)),
                             dossier.updated_at,
                             saved_by)


def _check_version(session: Session, dossier: Dossier, expected_version: int) -> None:
    if dossier.row_version != expected_version:
        session.rollback()
        session.refresh(dossier)
        raise _stale(session, dossier)


def save_answers(session: Session, dossier: Dossier, expected_version: int,
                 answers: Mapping[str, Any], page_id: str | None, actor: Actor, *,
                 campaign: Campaign | None = None,
                 owners: Mapping[str, str] | None = None) -> Dossier:
    """Merge one page's ``answers`` into the dossier, if nobody saved since ``expected_version``.

    The answers to the health fields of ``campaign`` are sealed into ``sealed_answers``, never
    written to ``answers`` (every engine caller passes the campaign). ``owners`` (location →
    account id) records who typed contact details (``Dossier.contact_owners``). A first save
    moves a not-started dossier to "in progress". The event records the field ids only, not
    the values. The answers to per-guardian fields are the acting guardian's own
    (``Dossier.guardian_answers``); nobody else answers for them (a staff save drops them).

    :raises StaleDossierError: the dossier changed since the family loaded it.
    :raises AnswersTooLarge: the dossier's answers would exceed :data:`MAX_ANSWERS_SIZE`.
    :raises NotEditableError: the dossier is submitted, validated or leaving.
    :raises SealedDataError: there are health values and the session has no data key.
    """
    _check_version(session, dossier, expected_version)
    if dossier.state not in EDITABLE:
        raise NotEditableError(dossier.state)
    answers, corrections = _against_corrections(dossier, answers, campaign)
    replaced = corrections is not None
    shared, ours = guardian_answers.split(campaign, answers) if campaign is not None \
        else (dict(answers), {})
    guardian = guardian_answers.guardian_key_of(dossier, actor.id) \
        if actor.kind is ActorKind.FAMILY else None
    by_guardian = guardian_answers.merged(dossier, campaign, guardian, actor.id, ours) \
        if ours and guardian is not None and campaign is not None \
        else dossier.guardian_answers or {}
    clear, health = sealed.split(campaign, shared) if campaign is not None \
        else (shared, {})
    merged = {**dossier.answers, **clear}
    for key in health:  # a value once stored in clear (before the field was marked) goes
        merged.pop(key, None)
    _check_size(merged, health, by_guardian)
    sealed_text = sealed.sealed_with(session, dossier, health) if health \
        else dossier.sealed_answers
    contact_owners = {**(dossier.contact_owners or {}), **(owners or {})}
    event = {"page": page_id, "fields": sorted(answers)}
    decisions = dossier.place_decisions or {}
    kept = places.kept_decisions(decisions, corrected_answers(
        merged, dossier.corrections if corrections is None else corrections)) \
        if decisions else decisions
    reset = sorted(decisions.keys() - kept.keys())
    if dossier.state is not DossierState.NOT_STARTED and not replaced and not reset:
        _write_answers(session, dossier, merged, sealed_text, contact_owners, by_guardian,
                       page_id, actor, event)
        return dossier
    with _transaction(session, dossier):
        if dossier.state is DossierState.NOT_STARTED:
            apply_transition(dossier, DossierState.IN_PROGRESS, actor)
        dossier.answers = merged
        dossier.contact_owners = contact_owners
        dossier.guardian_answers = by_guardian
        dossier.sealed_answers = sealed_text
        dossier.current_page = page_id
        if corrections is not None:
            dossier.corrections = corrections
        dossier.record(actor, "answers_saved", event)
        if reset:  # another option chosen: a new request, to decide again
            dossier.place_decisions = kept
            dossier.record(actor, "place_request_reset", {"fields": reset})
    return dossier


def _against_corrections(dossier: Dossier, answers: Mapping[str, Any], campaign: Campaign | None,
                         ) -> tuple[Mapping[str, Any], dict[str, Any] | None]:
    """``answers`` without the values the school corrected that the family left as they are
    (the correction keeps its author), and the corrections left once the family's newer word
    replaced some (None: unchanged). A repeat's corrected cells are weighed one by one
    (:func:`engine.dossiers.corrected.answered_rows`): the family's rows are stored."""
    if not dossier.corrections or dossier.corrections.keys().isdisjoint(answers):
        return answers, None
    kept: set[str] = set()
    corrections = dict(dossier.corrections)
    changed = False
    for key in dossier.corrections.keys() & answers.keys():
        spec = campaign.fields.get(key) if campaign is not None else None
        if campaign is not None and has_cells(corrections, key):
            before = corrections
            corrections = answered_rows(campaign, corrections, key, answers[key])
            changed = changed or corrections != before
            continue
        same = spec.type.same(dossier.corrections[key], answers[key], spec) \
            if spec is not None else dossier.corrections[key] == answers[key]
        if same:
            kept.add(key)
        else:
            corrections.pop(key)
            changed = True
    return ({k: v for k, v in answers.items() if k not in kept},
            corrections if changed else None)


_DOSSIER = cast(Table, Dossier.__table__)
_EVENT = cast(Table, DossierEvent.__table__)
#: a page save's UPDATE on the table (no ORM bulk-update step), guarded by the row version
_UPDATE_ANSWERS = (
    update(_DOSSIER)
    .where(_DOSSIER.c.id == bindparam("dossier_id"), _DOSSIER.c.row_version == bindparam("version"))
    .values(answers=bindparam("answers"), contact_owners=bindparam("contact_owners"),
            guardian_answers=bindparam("guardian_answers"),
            current_page=bindparam("current_page"),
            row_version=bindparam("row_version"), updated_at=bindparam("updated_at")))
#: the same, for a save that also changes the sealed health values
_UPDATE_SEALED = _UPDATE_ANSWERS.values(sealed_answers=bindparam("sealed_answers"))


def _write_answers(session: Session, dossier: Dossier, answers: dict[str, Any],
                   sealed_text: str | None, contact_owners: dict[str, str],
                   by_guardian: dict[str, Any], page_id: str | None, actor: Actor,
                   event: dict[str, Any]) -> None:
    """The save of every page after the first: one versioned UPDATE and one event INSERT.

    Written as two statements rather than through the unit of work, which costs more than
    the SQL itself on the wizard's most frequent request (``docs/performance.md``); the row
    version check is the same as the mapper's: no row at the expected version, no write.
    The sealed column is only written when the health values changed.
    """
    now = utcnow()
    version = dossier.row_version
    values = {"dossier_id": dossier.id, "version": version, "answers": answers,
              "contact_owners": contact_owners, "guardian_answers": by_guardian,
              "current_page": page_id,
              "row_version": version + 1, "updated_at": now}
    statement = _UPDATE_ANSWERS
    if sealed_text != dossier.sealed_answers:
        statement = _UPDATE_SEALED
        values["sealed_answers"] = sealed_text
    with _transaction(session, dossier):
        updated = session.execute(statement, values)
        if updated.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult
            raise StaleDataError("another process saved the dossier first")
        session.execute(insert(_EVENT), {
            "dossier_id": dossier.id, "at": now, "actor_kind": actor.kind.value,
            "actor_id": actor.id, "kind": "answers_saved", "data": event})
    # what was written, without reading it back
    for key, value in (("answers", answers), ("sealed_answers", sealed_text),
                       ("contact_owners", contact_owners), ("guardian_answers", by_guardian),
                       ("current_page", page_id), ("row_version", version + 1),
                       ("updated_at", now)):
        set_committed_value(dossier, key, value)


def change_state(session: Session, dossier: Dossier, expected_version: int,
                 target: DossierState, actor: Actor, *, message: str | None = None,
                 computed: Mapping[str, Any] | None = None) -> Dossier:
    """Apply one transition of the state machine, recorded as an event.

    ``computed`` (fees, explanations) is frozen on the dossier when given, typically at
    submission.

    :raises StaleDossierError: the dossier changed since ``expected_version``.
    :raises InvalidTransition: the move is not allowed from the current state.
    """
    _check_version(session, dossier, expected_version)
    with _transaction(session, dossier):
        apply_transition(dossier, target, actor, message=message)
        if computed is not None:
            dossier.computed = dict(computed)
    return dossier


def ensure_establishment(session: Session, *, uai: str, name: str,
                         contact_email: str | None = None) -> Establishment:
    """The establishment with this UAI, created when missing."""
    found = session.scalar(select(Establishment).where(Establishment.uai == uai))
    if found is not None:
        return found
    establishment = Establishment(uai=uai, name=name, contact_email=contact_email)
    session.add(establishment)
    session.commit()
    return establishment


def add_pupil(session: Session, establishment: Establishment, *, first_name: str,
              last_name: str, eleve_id: str | None = None, ine: str | None = None,
              birth_date: date | None = None) -> Pupil:
    pupil = Pupil(establishment=establishment, first_name=first_name, last_name=last_name,
                  eleve_id=eleve_id, ine=ine, birth_date=birth_date)
    session.add(pupil)
    session.commit()
    return pupil


def create_dossier(session: Session, pupil: Pupil, campaign_version: CampaignVersion, *,
                   prefill: Mapping[str, Any] | None = None,
                   provenance: Mapping[str, Any] | None = None) -> Dossier:
    """A not-started dossier with its prefill snapshot and a ``created`` event."""
    dossier = Dossier(pupil=pupil, campaign_version=campaign_version,
                      state=DossierState.NOT_STARTED, prefill=dict(prefill or {}),
                      provenance=dict(provenance or {}), answers={}, computed={})
    dossier.events.append(DossierEvent(at=utcnow(), actor_kind=Actor.system().kind.value,
                                       kind="created", data={}))
    session.add(dossier)
    session.commit()
    return dossier


def dossiers_of_account(session: Session, account_id: int) -> list[Dossier]:
    """The dossiers of every pupil ``account_id`` is a guardian of, by pupil name."""
    return list(session.scalars(
        select(Dossier).join(Dossier.pupil).join(Pupil.guardianships)
        .where(Guardianship.account_id == account_id)
        .options(joinedload(Dossier.pupil), joinedload(Dossier.campaign_version))
        .order_by(Pupil.last_name, Pupil.first_name, Dossier.id)))


#: :func:`dossier_of_account`'s query, built once: building a statement with its loader
#: options costs more than running it, and every family page runs it
_DOSSIER_OF_ACCOUNT = (
    select(Dossier).join(Dossier.pupil).join(Pupil.guardianships)
    .where(Dossier.public_id == bindparam("public_id"),
           Guardianship.account_id == bindparam("account_id"))
    # what every dossier page reads, in the same round trip; the campaign source is only
    # read when the compiled campaign is not cached yet
    .options(contains_eager(Dossier.pupil),
             joinedload(Dossier.campaign_version).defer(CampaignVersion.source),
             joinedload(Dossier.pupil, Pupil.guardianships),
             with_expression(Dossier.siblings, SIBLINGS),
             with_expression(Dossier.elder_siblings, ELDER_SIBLINGS)))


def dossier_of_account(session: Session, account_id: int, public_id: str) -> Dossier | None:
    """The dossier ``public_id`` if ``account_id`` is a guardian of its pupil, else None."""
    return session.scalar(_DOSSIER_OF_ACCOUNT,
                          {"public_id": public_id, "account_id": account_id})
