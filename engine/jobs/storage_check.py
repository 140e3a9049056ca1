"""Storage and database agree: every row's object exists, every object has its row.

Writes put the object first and commit its row after (``engine.dossiers.documents``,
``JobContext.store_result``), so a process killed in between leaves an object without a row,
never the reverse. :func:`check_storage` finds both kinds (``dossiersco storage check``);
with ``repair`` it removes the objects without rows, never a row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.dossiers.models import Dossier, StoredFile
from engine.storage import Storage, discard

from .models import Job

#: an object younger than this may belong to an upload whose row is not committed yet
DEFAULT_GRACE: Final = timedelta(hours=1)
_BATCH: Final = 500


@dataclass(slots=True)
class StorageReport:
    """What :func:`check_storage` found (and removed)."""

    objects: int = 0
    #: keys of objects older than the grace period that no row names
    orphans: list[str] = field(default_factory=list)
    #: of those, the ones removed (``repair``)
    removed: list[str] = field(default_factory=list)
    #: objects without rows but younger than the grace period: left alone
    recent: int = 0
    #: unfinished writes of killed processes (temporary files, multipart uploads)
    leftovers: int = 0
    #: the orphans and leftovers were asked to be removed
    repaired: bool = False
    #: rows whose object is missing, as ``(what, public id)``: ``file`` of a dossier, ``job``
    missing: list[tuple[str, str]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing left to repair or to look into."""
        return not self.missing and (self.repaired or not self.leftovers) and \
            set(self.orphans) <= set(self.removed)


def _referenced(session: Session) -> set[str]:
    files = session.scalars(select(StoredFile.storage_key))
    results = session.scalars(select(Job.result_key).where(Job.result_key.is_not(None)))
    return {key for key in (*files, *results) if key is not None}


def _batches(keys: Iterable[str]) -> Iterable[list[str]]:
    batch: list[str] = []
    for key in keys:
        batch.append(key)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _still_missing(session: Session, storage: Storage, keys: set[str]) -> list[tuple[str, str]]:
    """The rows of ``keys`` that still exist (a row deleted since, with its object, is not
    missing anything) and whose object is still absent (an upload since has it)."""
    found: list[tuple[str, str]] = []
    for batch in _batches(sorted(keys)):
        rows = session.execute(
            select(StoredFile.storage_key, StoredFile.public_id, Dossier.public_id)
            .join(Dossier, StoredFile.dossier_id == Dossier.id)
            .where(StoredFile.storage_key.in_(batch)))
        found += [("file", f"{dossier_id}/{file_id}") for key, file_id, dossier_id in rows
                  if not storage.exists(key)]
        jobs = session.execute(select(Job.result_key, Job.public_id)
                               .where(Job.result_key.in_(batch)))
        found += [("job", job_id) for key, job_id in jobs
                  if key is not None and not storage.exists(key)]
    return sorted(found)


def check_storage(session: Session, storage: Storage, *, grace: timedelta = DEFAULT_GRACE,
                  repair: bool = False, now: datetime | None = None) -> StorageReport:
    """Compare the objects of ``storage`` with the keys the database names.

    The rows are read first, then the objects listed: an object written since is younger than
    ``grace`` and left alone, so an upload in flight never loses its object.

    :raises StorageUnavailableError: the storage cannot be listed.
    """
    before = (now or utcnow()) - grace
    report = StorageReport(repaired=repair)
    unseen = _referenced(session)
    session.rollback()  # no transaction held open while the storage is listed
    for item in storage.objects():
        report.objects += 1
        if item.key in unseen:
            unseen.discard(item.key)
        elif item.modified >= before:
            report.recent += 1
        else:
            report.orphans.append(item.key)
            if repair and discard(storage, item.key):
                report.removed.append(item.key)
    report.leftovers = storage.leftovers(before, remove=repair)
    report.missing = _still_missing(session, storage, unseen)
    return report
