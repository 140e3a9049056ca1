"""The storage protocol of uploaded documents: random keys, outside any static path."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Final, Protocol

from engine.diagnostics import EngineError

log = logging.getLogger(__name__)

#: keys are ``secrets.token_urlsafe`` output: no dot, no separator, so no path traversal
KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")


class InvalidKeyError(EngineError, ValueError):
    """A key that this storage could not have produced (e.g. ``../../etc/passwd``)."""


class StorageUnavailableError(EngineError):
    """The storage cannot take or give bytes just now (endpoint unreachable, disk full): a
    temporary condition the web layer answers with 503; the failed write left no object."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One complete object, as :meth:`Storage.objects` lists it (for ``storage check``)."""

    key: str
    #: when the object was written (UTC): recent ones may belong to an upload in flight
    modified: datetime


class Storage(Protocol):
    """Where uploaded bytes live; the database keeps the key and the metadata.

    Every method raises :class:`StorageUnavailableError` when the backend cannot be reached or
    is full, never a backend-specific error.
    """

    def put(self, data: bytes | BinaryIO) -> str:
        """Store ``data`` under a new random key and return the key; all or nothing."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Read the object as a stream; raises ``FileNotFoundError`` when missing."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""
        ...

    def exists(self, key: str) -> bool: ...

    def objects(self) -> Iterator[StoredObject]:
        """Every complete object this storage holds (what it did not write is not listed)."""
        ...

    def leftovers(self, before: datetime, *, remove: bool = False) -> int:
        """The writes a killed process left unfinished before ``before`` (temporary files,
        multipart uploads), never visible under a key; removed when ``remove``."""
        ...


def check_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidKeyError("invalid storage key")
    return key


def discard(storage: Storage, key: str) -> bool:
    """Delete ``key`` if the storage answers; an object it keeps (storage down) is logged and
    left to ``dossiersco storage check --repair``: what is being undone or replaced must not
    fail the request whose database write is settled. True when deleted."""
    try:
        storage.delete(key)
    except (StorageUnavailableError, OSError) as exc:
        log.warning("object not deleted (%s), left for `storage check --repair`",
                    type(exc).__name__)
        return False
    return True
