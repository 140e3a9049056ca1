"""Where uploaded documents live, and the checks of their content before they are stored.

:mod:`.base` is the protocol every backend follows, :mod:`.local` the local-folder backend,
:mod:`.inspection` the content checks of an upload (type, parse, re-encoding). A new backend
(S3…) is one module beside :mod:`.local`, chosen by :func:`storage_from_settings`.
"""

from __future__ import annotations

from engine.config import Settings

from .base import KEY_PATTERN, InvalidKeyError, Storage, check_key
from .local import LocalStorage


def storage_from_settings(settings: Settings) -> Storage:
    """The storage backend the settings ask for (the local folder for now)."""
    return LocalStorage(settings.upload_dir)


__all__ = ["KEY_PATTERN", "InvalidKeyError", "LocalStorage", "Storage", "check_key",
           "storage_from_settings"]
