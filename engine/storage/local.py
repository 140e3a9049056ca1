"""Uploaded documents as files in a local folder (the embedded install and small servers)."""

from __future__ import annotations

import errno
import os
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Final

from .base import KEY_PATTERN, StorageUnavailableError, StoredObject, check_key

_CHUNK: Final = 1024 * 1024
_TEMP_PREFIX: Final = ".tmp-"
#: the disk (or the quota, or the file size limit) is full: temporary, not the file's fault
_FULL: Final = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


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
        tmp: str | None = None
        # write aside then rename: a crash never leaves a half-written object under the key
        # (a killed process leaves a temporary file, which ``leftovers`` finds)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes | bytearray):
                    out.write(data)
                else:
                    while chunk := data.read(_CHUNK):
                        out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.errno in _FULL:
                raise StorageUnavailableError(f"upload folder full: {exc.strerror}") from exc
            raise
        return key

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def objects(self) -> Iterator[StoredObject]:
        for path in self.root.glob("??/??/*"):
            if KEY_PATTERN.fullmatch(path.name) and path.parent.parent.name == path.name[:2] \
                    and path.parent.name == path.name[2:4] and path.is_file():
                yield StoredObject(path.name, _mtime(path))

    def leftovers(self, before: datetime, *, remove: bool = False) -> int:
        count = 0
        for path in self.root.glob(f"??/??/{_TEMP_PREFIX}*"):
            if _mtime(path) < before:
                count += 1
                if remove:
                    path.unlink(missing_ok=True)
        return count
