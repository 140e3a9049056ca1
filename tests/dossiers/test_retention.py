"""Retention: a campaign's personal data deleted once ``closes`` + ``retention_days`` has
passed (dossiers, files and their objects, pupils, accounts, shared guardian details, sent
messages, jobs), nothing of a campaign still within its time, and the audit trail kept and
verifiable; ``dossiersco purge [--dry-run]`` and the queue's daily job run the same function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.cli import main
from engine.db import Base
from engine.dossiers import audit
from engine.dossiers.documents import add_files
from engine.dossiers.models import (
    AuditEntry,
    Dossier,
    FamilyAccount,
    GuardianProfile,
    Pupil,
    SentMessage,
    StaffRole,
    StoredFile,
)
from engine.dossiers.retention import purge
from engine.dossiers.states import Actor
from engine.dossiers.versions import CampaignCache
from engine.jobs import Job, JobQueue
from engine.web.state import app_state

from conftest import CAMPAIGN_DAY, EXAMPLE_CAMPAIGN, MakeStaff
from staffkit import StaffUser

PDF = (EXAMPLE_CAMPAIGN.parent / "files" / "reglement-interieur.pdf").read_bytes()
SOURCE = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8")
#: the example campaign closes on 2027-06-30 and keeps its data 365 days
PURGE_DAY = date(2028, 6, 29)
#: a campaign of the following year, still within its time on PURGE_DAY
LATER = SOURCE.replace('closes: "2027-06-30"', 'closes: "2028-07-10"')
PREFILL = {"pupil": {"first_name": "Léa", "last_name": "Martin", "level": "5e"},
           "guardians": [{"personne_id": "1001", "last_name": "MARTIN",
                          "first_name": "Claire"}]}
MakeAccount = Callable[..., tuple[FamilyAccount, str]]
MakeDossier = Callable[..., Dossier]


def _count(session: Session, model: type[Base]) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def closed(app: Flask, db_session: Session, make_account: MakeAccount,
           make_dossier: MakeDossier) -> Dossier:
    """Léa's dossier of the closed campaign, with a document, a message sent, the mother's
    shared details and an audit entry; her brother's dossier of next year's campaign shares
    the father, whose account must stay."""
    mother, _ = make_account("Claire Martin", personne_id="1001")
    father, _ = make_account("Paul Durand", personne_id="1002")
    dossier = make_dossier(mother, father, prefill=PREFILL)
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    add_files(db_session, app_state(app).storage, campaign, dossier, "reglement_interieur",
              [(PDF, "reglement.pdf")], mother, today=CAMPAIGN_DAY)
    make_dossier(father, first_name="Hugo", campaign="reinscription-2027", source=LATER)
    establishment_id = dossier.pupil.establishment_id
    db_session.add_all([
        SentMessage(establishment_id=establishment_id, campaign_slug="reinscription-2026",
                    dossier_id=dossier.id, account_id=mother.id, kind="one_off",
                    address="claire.martin@example.fr", subject="Relance", status="sent"),
        GuardianProfile(establishment_id=establishment_id, guardian_key="1001",
                        values={"email": "claire.martin@example.fr"}),
        Job(kind="reminders", establishment_id=establishment_id,
            campaign_slug="reinscription-2026",
            params={"recipients": [{"email": "claire.martin@example.fr"}]})])
    audit.record(db_session, Actor.staff(1), "health_viewed",
                 establishment_id=establishment_id, dossier_id=dossier.id)
    db_session.commit()
    return dossier


def _purge(app: Flask, session: Session, today: date, *, dry_run: bool = False) -> list[str]:
    state = app_state(app)
    return [p.slug for p in purge(session, state.storage, state.campaigns, today,
                                  dry_run=dry_run)]


def test_nothing_goes_before_the_retention_ends(app: Flask, db_session: Session,
                                                closed: Dossier) -> None:
    assert _purge(app, db_session, date(2028, 6, 28)) == []
    assert _count(db_session, Dossier) == 2


def test_a_closed_campaign_is_purged_and_the_audit_trail_kept(
        app: Flask, db_session: Session, closed: Dossier) -> None:
    key = db_session.scalars(select(StoredFile.storage_key)).one()
    storage = app_state(app).storage
    assert storage.exists(key)
    assert _purge(app, db_session, PURGE_DAY) == ["reinscription-2026"]
    db_session.expire_all()
    assert [d.pupil.first_name for d in db_session.scalars(select(Dossier))] == ["Hugo"]
    assert [p.first_name for p in db_session.scalars(select(Pupil))] == ["Hugo"]
    assert [a.display_name for a in db_session.scalars(select(FamilyAccount))] == ["Paul Durand"]
    assert _count(db_session, StoredFile) == 0
    assert not storage.exists(key)
    assert _count(db_session, SentMessage) == 0
    assert _count(db_session, GuardianProfile) == 0
    # the entry stays, naming an id that leads nowhere; the chain still verifies
    assert _count(db_session, AuditEntry) == 1
    assert audit.verify_chain(db_session) == (1, None)
    # a second run finds nothing left
    assert _purge(app, db_session, PURGE_DAY) == []


def test_the_queue_job_also_deletes_the_campaign_jobs(
        make_app: Callable[..., Flask], closed: Dossier, db_session: Session) -> None:
    app = make_app(today=PURGE_DAY)
    queue: JobQueue = app_state(app).jobs
    [purged] = queue.purge_personal_data()
    assert purged.counts() == {"dossiers": 1, "documents": 1, "pupils": 1, "accounts": 1,
                               "profiles": 1, "messages": 1, "jobs": 1}
    assert _count(db_session, Job) == 0
    due = queue.huey.read_periodic(datetime(2028, 6, 29, 3, 17))
    assert "dossiersco.retention" in {task.name for task in due}


def test_retention_days_comes_from_the_campaign(app: Flask, db_session: Session,
                                                make_account: MakeAccount,
                                                make_dossier: MakeDossier) -> None:
    account, _ = make_account()
    make_dossier(account, source=SOURCE.replace("retention_days: 365", "retention_days: 0"))
    assert _purge(app, db_session, date(2027, 6, 29)) == []
    assert _purge(app, db_session, date(2027, 6, 30)) == ["reinscription-2026"]


def test_dry_run_deletes_nothing(app: Flask, db_session: Session, closed: Dossier,
                                 database_url: str, tmp_path: Path) -> None:
    runner = CliRunner(env={"DOSSIERSCO_DATABASE_URL": database_url,
                            "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
                            "DOSSIERSCO_UPLOAD_DIR": str(tmp_path / "uploads"),
                            "DOSSIERSCO_SECRET_KEY": "test-secret-key",
                            "DOSSIERSCO_TODAY": PURGE_DAY.isoformat()})
    result = runner.invoke(main, ["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert ("0750001A reinscription-2026 (conservation jusqu'au 29/06/2028) : 1 dossiers, "
            "1 documents, 1 élèves, 1 comptes familles, 1 coordonnées de responsables, "
            "1 messages envoyés, 1 tâches à supprimer.") in result.output
    assert "Simulation" in result.output
    assert _count(db_session, Dossier) == 2 and _count(db_session, StoredFile) == 1
    result = runner.invoke(main, ["purge"])
    assert result.exit_code == 0, result.output
    assert "supprimé(s)" in result.output
    assert _count(db_session, Dossier) == 1 and _count(db_session, Job) == 0


def test_the_journal_never_names_a_later_dossier_for_a_purged_one(
        app: Flask, db_session: Session, make_dossier: MakeDossier, make_account: MakeAccount,
        make_staff: MakeStaff, client: FlaskClient,
        staff_login: Callable[[StaffUser], TestResponse]) -> None:
    """SQLite gives the highest deleted id to the next row: the entry about Léa's purged
    dossier must not become an entry about whoever's dossier gets her id."""
    account, _ = make_account()
    make_dossier(account, first_name="Hugo", campaign="reinscription-2027", source=LATER)
    lea = make_dossier(account, prefill=PREFILL)
    audit.record(db_session, Actor.staff(1), "health_viewed",
                 establishment_id=lea.pupil.establishment_id, dossier_id=lea.id)
    db_session.commit()
    _purge(app, db_session, PURGE_DAY)
    nina = make_dossier(account, first_name="Nina", last_name="Nouvelle",
                        campaign="reinscription-2028", source=LATER)
    staff_login(make_staff(role=StaffRole.DIRECTION))
    journal = client.get("/etablissement/0750001A/journal").get_data(as_text=True)
    assert "Informations de santé consultées" in journal
    assert "Nouvelle" not in journal, f"id reused: {nina.id}"
