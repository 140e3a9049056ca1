"""Local storage: random keys, atomic writes, and no way out of the root folder (U-03)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from engine.config import Settings
from engine.storage import InvalidKeyError, LocalStorage, storage_from_settings


def test_put_open_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    key = storage.put(b"contenu")
    assert storage.exists(key)
    with storage.open(key) as handle:
        assert handle.read() == b"contenu"
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # deleting twice is harmless
    with pytest.raises(FileNotFoundError):
        storage.open(key)


def test_put_streams_file_objects(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    data = b"x" * (3 * 1024 * 1024 + 7)
    key = storage.put(io.BytesIO(data))
    with storage.open(key) as handle:
        assert handle.read() == data


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


def test_storage_is_the_upload_folder_outside_static(plain_settings: Settings) -> None:
    storage = storage_from_settings(plain_settings)
    assert isinstance(storage, LocalStorage)
    assert storage.root == plain_settings.upload_dir
    assert "static" not in storage.root.parts
