"""Storage backends: random keys, atomic writes, no way out of the root folder (U-03), on the
local folder and on a real S3-compatible server (moto on loopback, tests/s3kit.py)."""

from __future__ import annotations

import io
import os
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from s3kit import REGION, S3Server
from smtpkit import free_port

from engine.config import ConfigError, Settings
from engine.storage import (
    InvalidKeyError,
    LocalStorage,
    Storage,
    StorageUnavailableError,
    storage_from_settings,
)
from engine.storage.s3 import S3Storage

MB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    server: S3Server = request.getfixturevalue("s3_server")
    return S3Storage.from_url(server.storage_url(server.new_bucket()))


def test_put_open_delete(storage: Storage) -> None:
    key = storage.put(b"contenu")
    assert storage.exists(key)
    with storage.open(key) as handle:
        assert handle.read() == b"contenu"
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # deleting twice is harmless
    with pytest.raises(FileNotFoundError):
        storage.open(key)


def test_put_streams_file_objects(storage: Storage) -> None:
    data = b"x" * (3 * MB + 7)
    key = storage.put(io.BytesIO(data))
    with storage.open(key) as handle:
        assert handle.read(MB) == data[:MB]  # read back in chunks, not whole
        assert handle.read() == data[MB:]


def test_large_objects_go_in_parts(s3_server: S3Server) -> None:
    """Over 8 MB an S3 put is a multipart upload: the key appears only once complete."""
    storage = S3Storage.from_url(s3_server.storage_url(s3_server.new_bucket()))
    data = os.urandom(MB) * 17
    key = storage.put(io.BytesIO(data))
    with storage.open(key) as handle:
        assert handle.read() == data
    assert [o.key for o in storage.objects()] == [key]


def test_objects_lists_what_was_put(storage: Storage) -> None:
    started = datetime.now(UTC) - timedelta(seconds=5)
    keys = {storage.put(b"a") for _ in range(3)}
    listed = list(storage.objects())
    assert {o.key for o in listed} == keys
    assert all(o.modified >= started for o in listed)


def test_keys_are_random_and_fanned_out(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    keys = {storage.put(b"a") for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert len(key) >= 32
        assert (tmp_path / key[:2] / key[2:4] / key).is_file()
    assert not list(tmp_path.rglob(".tmp-*"))


@pytest.mark.parametrize("key", [
    "../../etc/passwd", "..", "a/b", "a\\b", "/etc/passwd", "", "abc",
    "..AAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAA/../../x", "AAAAAAAAAAAAAAAA\x00"])
def test_keys_with_paths_are_refused(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "root")
    (tmp_path / "secret").write_text("secret")
    for operation in (storage.open, storage.exists, storage.delete):
        with pytest.raises(InvalidKeyError):
            operation(key)
    assert (tmp_path / "secret").exists()


def test_s3_keys_with_paths_are_refused(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    s3_server.client().put_object(Bucket=bucket, Key="secret", Body=b"secret")
    storage = S3Storage.from_url(s3_server.storage_url(bucket, prefix="docs"))
    for operation in (storage.open, storage.exists, storage.delete):
        with pytest.raises(InvalidKeyError):
            operation("../secret")
    assert s3_server.client().get_object(Bucket=bucket, Key="secret")["Body"].read() == b"secret"


def test_a_prefix_keeps_other_objects_of_the_bucket_out(s3_server: S3Server) -> None:
    """A bucket shared with another application: only our prefix and our keys are listed (so
    ``storage check --repair`` never touches anything else)."""
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="backup/AAAAAAAAAAAAAAAAAAAAAAAA", Body=b"x")
    client.put_object(Bucket=bucket, Key="docs/not a key.txt", Body=b"x")
    storage = S3Storage.from_url(s3_server.storage_url(bucket, prefix="docs"))
    key = storage.put(b"ours")
    assert [o.key for o in storage.objects()] == [key]
    names = {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert f"docs/{key}" in names


def test_local_leftovers_are_old_temporary_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    key = storage.put(b"a")
    stale = tmp_path / key[:2] / key[2:4] / ".tmp-killed"
    stale.write_bytes(b"half")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    fresh = tmp_path / key[:2] / key[2:4] / ".tmp-writing"
    fresh.write_bytes(b"half")
    cutoff = datetime.now(UTC) - timedelta(minutes=10)
    assert [o.key for o in storage.objects()] == [key]
    assert storage.leftovers(cutoff) == 1
    assert storage.leftovers(cutoff, remove=True) == 1
    assert not stale.exists() and fresh.exists() and storage.exists(key)


def test_s3_leftovers_are_unfinished_multipart_uploads(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    storage = S3Storage.from_url(s3_server.storage_url(bucket))
    client = s3_server.client()
    client.create_multipart_upload(Bucket=bucket, Key="A" * 32)
    client.create_multipart_upload(Bucket=bucket, Key="not ours")
    # moto dates every upload 2010-11-10, so only the "old enough" side is checked here
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert storage.leftovers(datetime(2010, 1, 1, tzinfo=UTC)) == 0
    assert storage.leftovers(later) == 1
    assert storage.leftovers(later, remove=True) == 1
    assert [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [
        "not ours"]


def test_an_unreachable_endpoint_is_unavailable_not_a_crash() -> None:
    storage = S3Storage.from_url(f"s3://k:s@bucket?endpoint=http://127.0.0.1:{free_port()}"
                                 f"&region={REGION}")
    for operation in (lambda: storage.put(b"x"), lambda: storage.open("A" * 32),
                      lambda: storage.exists("A" * 32), lambda: storage.delete("A" * 32),
                      lambda: list(storage.objects())):
        with pytest.raises(StorageUnavailableError):
            operation()


def test_a_missing_bucket_is_unavailable(s3_server: S3Server) -> None:
    storage = S3Storage.from_url(s3_server.storage_url("no-such-bucket"))
    with pytest.raises(StorageUnavailableError, match="NoSuchBucket"):
        storage.put(b"x")


def test_a_full_disk_is_unavailable_and_leaves_no_partial_file(tiny_disk: Path) -> None:
    storage = LocalStorage(tiny_disk)
    small = storage.put(b"fits")
    with pytest.raises(StorageUnavailableError, match="full"):
        storage.put(io.BytesIO(b"x" * (2 * MB)))
    assert [o.key for o in storage.objects()] == [small]
    assert storage.leftovers(datetime.now(UTC) + timedelta(minutes=1)) == 0


def test_storage_is_the_upload_folder_outside_static(plain_settings: Settings) -> None:
    storage = storage_from_settings(plain_settings)
    assert isinstance(storage, LocalStorage)
    assert storage.root == plain_settings.upload_dir
    assert "static" not in storage.root.parts


def test_storage_url_picks_s3_with_its_options(plain_settings: Settings) -> None:
    storage = storage_from_settings(replace(
        plain_settings, storage_url="s3://AK%2F1:S%2B2@docs/college/?endpoint="
                                    "http://127.0.0.1:9000&region=eu-west-3"))
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix, storage.endpoint) == (
        "docs", "college/", "http://127.0.0.1:9000")
    assert "S+2" not in repr(plain_settings) and "AK" not in repr(storage)


def test_environment_chooses_the_storage(tmp_path: Path) -> None:
    base = {"DOSSIERSCO_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(base).storage_url == ""
    url = "s3://docs?endpoint=http://127.0.0.1:9000"
    settings = Settings.from_env({**base, "DOSSIERSCO_STORAGE_URL": f" {url} "})
    assert settings.storage_url == url
    assert url not in repr(settings)  # it may hold credentials
    with pytest.raises(ConfigError, match="DOSSIERSCO_STORAGE_URL must be s3://"):
        Settings.from_env({**base, "DOSSIERSCO_STORAGE_URL": "/srv/documents"})


@pytest.mark.parametrize(("url", "message"), [
    ("s3://?endpoint=http://x", "must be s3://bucket"),
    ("s3://docs?endpoint=ftp://x", "endpoint must be an http"),
    ("s3://docs?endpiont=http://x", "unknown parameter"),
])
def test_bad_storage_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        S3Storage.from_url(url)
