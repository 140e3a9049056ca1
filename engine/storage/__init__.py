"""Storage of uploaded documents under random keys, outside any static path."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import BinaryIO, Final, Protocol

from engine.config import Settings

#: keys are ``secrets.token_urlsafe`` output: no dot, no separator, so no path traversal
KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")
_CHUNK: Final = 1024 * 1024


class InvalidKeyError(ValueError):
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


class LocalStorage:
    """Files in a local folder, fanned out in two levels (``ab/cd/abcd…``) to keep dirs small."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes | BinaryIO) -> str:
        key = secrets.token_urlsafe(24)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # write aside then rename: a crash never leaves a half-written object under the key
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes | bytearray):
                    out.write(data)
                else:
                    while chunk := data.read(_CHUNK):
                        out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def storage_from_settings(settings: Settings) -> Storage:
    """The storage backend the settings ask for (the local folder for now)."""
    return LocalStorage(settings.upload_dir)
