"""The audit trail: entries chained by hashes, append-only, tampering found by verify_chain."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from sqlalchemy import select, update

from engine.dossiers import audit
from engine.dossiers.models import AuditEntry
from engine.dossiers.services import ensure_establishment
from engine.dossiers.states import Actor
from engine.web.state import app_state


def _fill(app: Flask, count: int) -> int:
    with app_state(app).database.sessions() as session:
        school = ensure_establishment(session, uai="0690001A", name="Collège A")
        for n in range(count):
            audit.record(session, Actor.staff(1), "dossier_viewed", establishment_id=school.id,
                         dossier_id=n, data={"page": "sante", "n": n})
            session.commit()
        return school.id


def test_entries_chain_and_verify(app: Flask) -> None:
    school = _fill(app, 5)
    with app_state(app).database.sessions() as session:
        assert audit.verify_chain(session) == (5, None)
        latest = audit.entries(session, establishment_id=school)
        assert [e.seq for e in latest] == [5, 4, 3, 2, 1]
        assert latest[-1].prev_hash == audit.GENESIS
        assert all(a.prev_hash == b.entry_hash for a, b in zip(latest, latest[1:], strict=False))


def test_the_orm_refuses_to_change_or_delete_an_entry(app: Flask) -> None:
    _fill(app, 1)
    with app_state(app).database.sessions() as session:
        entry = session.scalars(select(AuditEntry)).one()
        entry.action = "nothing_happened"
        with pytest.raises(audit.AuditError):
            session.commit()
        session.rollback()
        session.delete(session.scalars(select(AuditEntry)).one())
        with pytest.raises(audit.AuditError):
            session.commit()


@pytest.mark.parametrize("tamper", ["content", "removed", "rehashed"])
def test_tampering_in_the_database_is_found(app: Flask, tamper: str) -> None:
    _fill(app, 4)
    with app_state(app).database.engine.begin() as conn:
        if tamper == "content":
            conn.execute(update(AuditEntry).where(AuditEntry.seq == 2)
                         .values(data={"page": "autre"}))
        elif tamper == "removed":
            conn.execute(AuditEntry.__table__.delete().where(AuditEntry.seq == 3))
        else:  # content changed and its own hash recomputed: the next link breaks
            conn.execute(update(AuditEntry).where(AuditEntry.seq == 2)
                         .values(action="x", entry_hash="f" * 64))
    with app_state(app).database.sessions() as session:
        checked, broken = audit.verify_chain(session)
    assert broken is not None
    assert (checked, broken.seq) == {"content": (1, 2), "removed": (2, 3),
                                     "rehashed": (1, 2)}[tamper]


def test_two_writers_at_once_both_get_their_entry(app: Flask) -> None:
    """Found by the load test: two agents viewing dossiers at the same moment on SQLite read
    the same last entry and the second failed on ``seq`` (a 500). The second now waits."""
    school = _fill(app, 1)
    database = app_state(app).database
    errors: list[Exception] = []
    with database.sessions() as first:
        audit.record(first, Actor.staff(1), "dossier_viewed", establishment_id=school)

        def second_writer() -> None:
            try:
                with database.sessions() as second:
                    audit.record(second, Actor.staff(2), "dossier_viewed",
                                 establishment_id=school)
                    second.commit()
            except Exception as exc:  # noqa: BLE001  # reported below
                errors.append(exc)

        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.5)  # the second writer is waiting (it never fails while waiting)
        first.commit()
        thread.join()
    assert errors == []
    with database.sessions() as session:
        assert audit.verify_chain(session) == (3, None)
