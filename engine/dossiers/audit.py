"""The audit trail of staff actions: append-only, each entry chained to the previous by a hash.

An entry's hash covers its content and the previous entry's hash, so changing or removing any
entry breaks every hash after it: :func:`verify_chain` (``dossiersco audit verify``) finds the
first broken link. Entries hold ids, field names and counts, never an answer value, so they can
outlive the dossiers they name (retention purges keep the audit trail).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.diagnostics import EngineError

from .models import AuditEntry
from .states import Actor

#: the previous hash of the first entry
GENESIS: Final = "0" * 64
#: the advisory lock serialising writers of the chain on PostgreSQL ("audit" in ASCII)
_LOCK_KEY: Final = 0x61756469


class AuditError(EngineError):
    """The audit trail could not be written, or was changed after the fact."""


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first entry whose hash does not match its content or its predecessor."""

    seq: int
    reason: str


def _digest(seq: int, at: datetime, actor_kind: str, actor_id: str | None,
            establishment_id: int | None, dossier_id: int | None, action: str,
            data: Mapping[str, Any], prev_hash: str) -> str:
    canonical = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor_kind, actor_id, establishment_id,
         dossier_id, action, data, prev_hash],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def entry_digest(entry: AuditEntry) -> str:
    """The hash ``entry`` must carry for its content and its ``prev_hash``."""
    return _digest(entry.seq, entry.at, entry.actor_kind, entry.actor_id,
                   entry.establishment_id, entry.dossier_id, entry.action, entry.data,
                   entry.prev_hash)


def record(session: Session, actor: Actor, action: str, *, establishment_id: int | None,
           dossier_id: int | None = None, data: Mapping[str, Any] | None = None,
           ) -> AuditEntry:
    """Add one entry to the transaction of ``session``: the caller commits it together with
    the action it records, so there is never an action without its entry, nor the reverse.

    Writers are serialised so the chain cannot fork: on PostgreSQL by a transaction-scoped
    advisory lock; on SQLite by taking the database's write lock before reading the last
    entry (a statement that writes nothing), so a second writer waits for the first instead of
    reading the same last entry and failing on ``seq``, which is unique on every backend.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    elif dialect == "sqlite":
        session.execute(text("UPDATE audit_entry SET seq = seq WHERE 0"))
    last = session.execute(select(AuditEntry.seq, AuditEntry.entry_hash)
                           .order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (last[0] + 1, last[1]) if last is not None else (1, GENESIS)
    entry = AuditEntry(seq=seq, at=utcnow(), actor_kind=actor.kind.value, actor_id=actor.id,
                       establishment_id=establishment_id, dossier_id=dossier_id,
                       action=action, data=json.loads(json.dumps(dict(data or {}), default=str)),
                       prev_hash=prev)
    entry.entry_hash = entry_digest(entry)
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, *, establishment_id: int | None = None,
            dossier_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
    """The latest entries, newest first, of an establishment or a dossier."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if establishment_id is not None:
        query = query.where(AuditEntry.establishment_id == establishment_id)
    if dossier_id is not None:
        query = query.where(AuditEntry.dossier_id == dossier_id)
    return list(session.scalars(query))


def _in_order(session: Session, batch: int = 1000) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.seq > after)
                                    .order_by(AuditEntry.seq).limit(batch)))
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def verify_chain(session: Session) -> tuple[int, BrokenLink | None]:
    """(entries checked, the first broken link or None) over the whole trail, in bounded
    memory."""
    prev, expected_seq, count = GENESIS, 1, 0
    for entry in _in_order(session):
        if entry.seq != expected_seq:
            return count, BrokenLink(expected_seq, "entrée manquante")
        if entry.prev_hash != prev:
            return count, BrokenLink(entry.seq, "le lien avec l'entrée précédente est rompu")
        if entry_digest(entry) != entry.entry_hash:
            return count, BrokenLink(entry.seq, "le contenu de l'entrée a été modifié")
        prev, expected_seq, count = entry.entry_hash, expected_seq + 1, count + 1
    return count, None


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(*_args: object) -> None:
    raise AuditError("audit entries are never changed nor deleted")
