"""The storage protocol of uploaded documents: random keys, outside any static path."""

from __future__ import annotations

import re
from typing import BinaryIO, Final, Protocol

from engine.diagnostics import EngineError

#: keys are ``secrets.token_urlsafe`` output: no dot, no separator, so no path traversal
KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")


class InvalidKeyError(EngineError, ValueError):
    """A key that this storage could not have produced (e.g. ``../../etc/passwd``)."""


class Storage(Protocol):
    """Where uploaded bytes live; the database keeps the key and the metadata."""

    def put(self, data: bytes | BinaryIO) -> str:
        """Store ``data`` under a new random key and return the key."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Read the object; raises ``FileNotFoundError`` when missing."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""
        ...

    def exists(self, key: str) -> bool: ...


def check_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidKeyError("invalid storage key")
    return key
