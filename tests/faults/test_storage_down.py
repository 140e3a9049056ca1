"""The storage stops answering under a running app (issue 15, item 6): the S3 endpoint goes
away, the local disk fills up. The family reads a clear French message with a 503, nothing is
half-written, and once the storage is back the same app works again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dossiers.test_documents import pdf_bytes
from flask import Flask
from s3kit import S3Server
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.models import StoredFile
from engine.web import STORAGE_MESSAGE

from conftest import MakeAccount, MakeDossier, family_browser
from faults.familykit import upload


def _files(db_session: Session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count(StoredFile.id))) or 0


def _unavailable(response: TestResponse) -> None:
    assert response.status_code == 503
    assert "Retry-After" in response.headers  # ours, or the rate limiter's on its routes
    page = response.get_data(as_text=True)
    assert STORAGE_MESSAGE.split(" ;")[0] in page.replace("&#39;", "'")
    assert "Traceback" not in page and "botocore" not in page


@pytest.fixture
def own_s3(tmp_path: Path) -> Iterator[S3Server]:
    """An S3 server of this test alone: it is stopped and started again under the app."""
    server = S3Server(tmp_path / "moto.log")
    server.start()
    yield server
    server.stop()


def test_an_unreachable_s3_endpoint_is_a_503_and_writes_nothing(
        make_app: type[Flask], own_s3: S3Server, make_account: MakeAccount,
        make_dossier: MakeDossier, db_session: Session) -> None:
    bucket = own_s3.new_bucket()
    app = make_app(storage_url=own_s3.storage_url(bucket))
    account, code = make_account()
    dossier = make_dossier(account)
    client = family_browser(app, account, code)
    assert upload(client, dossier, pdf_bytes()).status_code == 303
    (file_id,) = [f.public_id for f in db_session.scalars(select(StoredFile))]

    own_s3.stop()
    _unavailable(upload(client, dossier, pdf_bytes()))
    assert _files(db_session) == 1  # no row for the refused upload
    _unavailable(client.get(f"/dossier/{dossier.public_id}/fichiers/{file_id}"))
    # what needs no document still works
    assert client.get(f"/dossier/{dossier.public_id}/etape/pieces").status_code == 200

    own_s3.start()  # the same address, empty: the operator restores the bucket
    own_s3.client().create_bucket(Bucket=bucket,
                                  CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    assert upload(client, dossier, pdf_bytes()).status_code == 303
    assert _files(db_session) == 2


def test_a_full_upload_disk_is_a_503_and_writes_nothing(
        make_app: type[Flask], tiny_disk: Path, make_account: MakeAccount,
        make_dossier: MakeDossier, db_session: Session) -> None:
    app = make_app(upload_dir=tiny_disk)
    account, code = make_account()
    dossier = make_dossier(account)
    client = family_browser(app, account, code)
    filler = tiny_disk / "filler"
    with pytest.raises(OSError), filler.open("wb", buffering=0) as out:
        while True:  # fill the disk to the last byte
            out.write(b"\0" * 4096)
    _unavailable(upload(client, dossier, pdf_bytes()))
    assert _files(db_session) == 0
    assert [p.name for p in tiny_disk.rglob("*") if p.is_file()] == ["filler"]
    filler.unlink()  # the operator makes room: the same app takes the upload
    assert upload(client, dossier, pdf_bytes()).status_code == 303
    assert _files(db_session) == 1
