"""Uploaded documents as files in a local folder (the embedded install and small servers)."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import BinaryIO, Final

from .base import check_key

_CHUNK: Final = 1024 * 1024


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
