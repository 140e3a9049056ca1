"""Uploaded documents as objects in an S3-compatible bucket (AWS, MinIO, Ceph, Garage, Scaleway,
OVH…), for several app processes or machines sharing one store.

Chosen by ``DOSSIERSCO_STORAGE_URL=s3://[ACCESS_KEY:SECRET@]bucket[/prefix]?endpoint=…&region=…``
(docs/storage.md). Objects are read back through the app after its access check, streamed:
nothing is ever public, no presigned URL leaves the app.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, Final, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from engine.config import ConfigError

from .base import KEY_PATTERN, StorageUnavailableError, StoredObject, check_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef

log = logging.getLogger(__name__)

_CHUNK: Final = 1024 * 1024
_QUERY: Final = {"endpoint", "region"}
#: a missing object, as GetObject and HeadObject say it
_MISSING: Final = {"NoSuchKey", "404", "NotFound"}
#: short waits: a family's request must fail in seconds, not hang, when the store is down
_CLIENT_CONFIG: Final = Config(
    connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"},
    # checksums only where S3 requires them: many S3-compatible servers refuse the others
    request_checksum_calculation="when_required", response_checksum_validation="when_required")
#: one part at a time, in this thread: memory stays flat, no thread pool per upload
_TRANSFER: Final = TransferConfig(use_threads=False, multipart_chunksize=8 * _CHUNK)

T = TypeVar("T")


def _unavailable(exc: Exception) -> StorageUnavailableError:
    code = exc.response.get("Error", {}).get("Code", "?") if isinstance(exc, ClientError) \
        else type(exc).__name__
    log.warning("object storage unavailable: %s", code)
    return StorageUnavailableError(f"object storage unavailable ({code})")


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in _MISSING


def _call(operation: Callable[[], T]) -> T:
    """``operation()``, its failure to reach the store raised as StorageUnavailableError."""
    try:
        return operation()
    except (BotoCoreError, Boto3Error, ClientError) as exc:
        raise _unavailable(exc) from exc


class _ObjectStream(io.RawIOBase):
    """The body of a GetObject as a plain binary stream, its network errors made ours."""

    def __init__(self, output: GetObjectOutputTypeDef) -> None:
        self._body = output["Body"]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = _call(lambda: self._body.read(len(view)))
        view[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Storage:
    """Objects ``<prefix><key>`` in one bucket, through one client per process."""

    def __init__(self, bucket: str, *, prefix: str = "", endpoint: str | None = None,
                 region: str | None = None, access_key: str | None = None,
                 secret_key: str | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self._options: dict[str, Any] = {
            "endpoint_url": endpoint, "region_name": region,
            # credentials absent from the URL: boto3's own chain (AWS_* variables, files, roles)
            "aws_access_key_id": access_key, "aws_secret_access_key": secret_key,
            # a custom endpoint (MinIO, moto…) rarely has a DNS name per bucket
            "config": _CLIENT_CONFIG.merge(Config(s3={"addressing_style": "path"}))
            if endpoint else _CLIENT_CONFIG}
        self._lock = threading.Lock()
        self._client: tuple[int, S3Client] | None = None

    @classmethod
    def from_url(cls, url: str) -> S3Storage:
        """The storage ``s3://[key:secret@]bucket[/prefix]?endpoint=…&region=…`` describes.

        :raises ConfigError: not such a URL, or an unknown query parameter.
        """
        parts = urlsplit(url)
        query = parse_qs(parts.query, keep_blank_values=True)
        if parts.scheme != "s3" or not parts.hostname:
            raise ConfigError("DOSSIERSCO_STORAGE_URL must be s3://bucket[/prefix]?endpoint=…")
        if unknown := sorted(set(query) - _QUERY):
            raise ConfigError(f"DOSSIERSCO_STORAGE_URL: unknown parameter(s) {', '.join(unknown)}"
                              f" (known: {', '.join(sorted(_QUERY))})")
        endpoint = query.get("endpoint", [""])[-1] or None
        if endpoint and urlsplit(endpoint).scheme not in {"http", "https"}:
            raise ConfigError(f"DOSSIERSCO_STORAGE_URL: endpoint must be an http(s) URL, "
                              f"got {endpoint!r}")
        prefix = parts.path.strip("/")
        return cls(parts.hostname, prefix=f"{prefix}/" if prefix else "", endpoint=endpoint,
                   region=query.get("region", [""])[-1] or None,
                   access_key=unquote(parts.username) if parts.username else None,
                   secret_key=unquote(parts.password) if parts.password else None)

    def _s3(self) -> S3Client:
        """The client of this process (made after a fork: a client's connections are not
        shared between processes; one client serves every thread)."""
        current = self._client
        if current is None or current[0] != os.getpid():
            with self._lock:
                current = self._client
                if current is None or current[0] != os.getpid():
                    current = (os.getpid(), boto3.session.Session().client("s3", **self._options))
                    self._client = current
        return current[1]

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, data: bytes | BinaryIO) -> str:
        key = secrets.token_urlsafe(24)
        stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
        # a single PUT, or a multipart upload completed last: the key shows all or nothing
        _call(lambda: self._s3().upload_fileobj(stream, self.bucket, self._name(key),
                                                Config=_TRANSFER))
        return key

    def open(self, key: str) -> BinaryIO:
        name = self._name(key)
        try:
            output = self._s3().get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        return io.BufferedReader(_ObjectStream(output), _CHUNK)

    def delete(self, key: str) -> None:
        name = self._name(key)
        _call(lambda: self._s3().delete_object(Bucket=self.bucket, Key=name))

    def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            self._s3().head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _missing(exc):
                return False
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        return True

    def objects(self) -> Iterator[StoredObject]:
        pages = self._s3().get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        iterator = iter(pages)
        while page := _call(lambda: next(iterator, None)):
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix):]
                # another application's objects in a shared bucket are not ours to judge
                if KEY_PATTERN.fullmatch(key):
                    yield StoredObject(key, item["LastModified"])

    def leftovers(self, before: datetime, *, remove: bool = False) -> int:
        pages = self._s3().get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        iterator = iter(pages)
        count = 0
        while page := _call(lambda: next(iterator, None)):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] >= before or \
                        not KEY_PATTERN.fullmatch(upload["Key"][len(self.prefix):]):
                    continue
                count += 1
                if remove:
                    name, upload_id = upload["Key"], upload["UploadId"]
                    _call(lambda: self._s3().abort_multipart_upload(
                        Bucket=self.bucket, Key=name, UploadId=upload_id))  # noqa: B023
        return count
