"""Where uploaded documents live, and the checks of their content before they are stored.

:mod:`.base` is the protocol every backend follows, :mod:`.local` the local-folder backend (the
default), :mod:`.s3` the S3-compatible one, :mod:`.inspection` the content checks of an upload
(type, parse, re-encoding). :func:`storage_from_settings` picks the backend (docs/storage.md).
"""

from __future__ import annotations

from engine.config import ConfigError, Settings

from .base import (
    KEY_PATTERN,
    InvalidKeyError,
    Storage,
    StorageUnavailableError,
    StoredObject,
    check_key,
    discard,
)
from .local import LocalStorage


def storage_from_settings(settings: Settings) -> Storage:
    """The backend ``DOSSIERSCO_STORAGE_URL`` names, else the local upload folder.

    :raises ConfigError: the URL is not one the S3 backend understands, or boto3 is missing.
    """
    if settings.storage_url:
        try:  # boto3 is only needed by the installs that use it
            from .s3 import S3Storage
        except ImportError as exc:
            raise ConfigError("DOSSIERSCO_STORAGE_URL=s3://… needs boto3: "
                              "pip install 'dossiersco[s3]'") from exc
        return S3Storage.from_url(settings.storage_url)
    return LocalStorage(settings.upload_dir)


__all__ = ["KEY_PATTERN", "InvalidKeyError", "LocalStorage", "Storage",
           "StorageUnavailableError", "StoredObject", "check_key", "discard", "storage_from_settings"]
