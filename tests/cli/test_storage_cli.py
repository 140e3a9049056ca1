"""``dossiersco storage check [--repair]`` through click's runner, on the local folder and on a
real S3 server: objects without rows are listed and (past the grace period) removed, rows
without objects reported and kept, job results and uploads in flight left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from dossiers.test_documents import pdf_bytes
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.campaign import load_campaign
from engine.cli import main
from engine.dossiers.documents import add_files
from engine.dossiers.models import Dossier, StoredFile
from engine.jobs import Job, JobState
from engine.storage import Storage
from engine.web.state import app_state

from conftest import CAMPAIGN_DAY, EXAMPLE_CAMPAIGN, MakeDossier


@pytest.fixture
def storage_url(any_storage_url: str) -> str:
    return any_storage_url


@pytest.fixture
def storage(app: Flask) -> Storage:
    return app_state(app).storage


@pytest.fixture
def cli(app: Flask, database_url: str, tmp_path: Path, storage_url: str) -> CliRunner:
    settings = app_state(app).settings
    return CliRunner(env={"DOSSIERSCO_DATABASE_URL": database_url,
                          "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
                          "DOSSIERSCO_SECRET_KEY": "test-secret-key",
                          "DOSSIERSCO_UPLOAD_DIR": str(settings.upload_dir),
                          "DOSSIERSCO_STORAGE_URL": storage_url})


@pytest.fixture
def dossier(make_dossier: MakeDossier, db_session: Session, storage: Storage) -> Dossier:
    """A dossier with one uploaded file (row and object), and a job with its result file."""
    dossier = make_dossier()
    add_files(db_session, storage, load_campaign(EXAMPLE_CAMPAIGN), dossier,
              "attestation_assurance", [(pdf_bytes(), "assurance.pdf")], None, today=CAMPAIGN_DAY)
    db_session.add(Job(kind="documents_zip", params={}, state=JobState.DONE.value,
                       result_key=storage.put(b"zip"), result_name="documents.zip"))
    db_session.commit()
    return dossier


def test_agreeing_storage_and_database_pass(cli: CliRunner, dossier: Dossier) -> None:
    result = cli.invoke(main, ["storage", "check", "--grace", "0"])
    assert result.exit_code == 0, result.output
    assert "2 objet(s) dans le stockage." in result.output
    assert "Stockage et base de données concordent." in result.output


def test_orphans_are_listed_then_removed_past_the_grace_period(
        cli: CliRunner, dossier: Dossier, storage: Storage, db_session: Session) -> None:
    orphan = storage.put(b"upload whose row never came")
    # just written: it may be an upload in flight, so even --repair leaves it
    result = cli.invoke(main, ["storage", "check", "--repair"])
    assert result.exit_code == 0, result.output
    assert "1 objet(s) sans ligne de moins de 60 min laissé(s)" in result.output
    assert storage.exists(orphan)
    result = cli.invoke(main, ["storage", "check", "--grace", "0"])
    assert result.exit_code == 1
    assert f"Objet sans ligne : {orphan} (à supprimer (--repair))" in result.output
    assert storage.exists(orphan)
    result = cli.invoke(main, ["storage", "check", "--grace", "0", "--repair"])
    assert result.exit_code == 0, result.output
    assert f"Objet sans ligne : {orphan} (supprimé)" in result.output
    assert not storage.exists(orphan)
    # the rows' objects, the file's and the job's, are all still there
    keys = [*db_session.scalars(select(StoredFile.storage_key)),
            *db_session.scalars(select(Job.result_key))]
    assert len(keys) == 2 and all(key and storage.exists(key) for key in keys)


def test_rows_without_objects_are_reported_never_deleted(
        cli: CliRunner, dossier: Dossier, storage: Storage, db_session: Session) -> None:
    stored = db_session.scalars(select(StoredFile)).one()
    storage.delete(stored.storage_key)
    result = cli.invoke(main, ["storage", "check", "--grace", "0", "--repair"])
    assert result.exit_code == 1
    assert (f"Objet manquant : fichier {dossier.public_id}/{stored.public_id} "
            "(ligne conservée, à vérifier)") in result.output
    db_session.expire_all()
    assert db_session.scalar(select(func.count(StoredFile.id))) == 1


def test_an_unreachable_storage_is_a_message_not_a_traceback(
        cli: CliRunner, dossier: Dossier) -> None:
    result = cli.invoke(main, ["storage", "check"], env={
        "DOSSIERSCO_STORAGE_URL": "s3://k:s@docs?endpoint=http://127.0.0.1:9&region=eu-west-3"})
    assert result.exit_code == 1
    assert "Stockage inaccessible" in result.output
    assert "Traceback" not in result.output
