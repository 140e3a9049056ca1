"""Shared fixtures: settings, app and client on each database backend, and data factories.

Database-backed fixtures run on two backends: ``sqlite`` (a file in a temporary folder) and
``postgresql`` (``DOSSIERSCO_TEST_PG_URL``, a fresh schema per test run). Each backend is
migrated once per session; tables are emptied after every test.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from s3kit import S3Server
from smtpkit import Inbox, smtp_server
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.app import create_app
from engine.config import Settings
from engine.db import Base, make_engine, upgrade, utcnow
from engine.dossiers.accounts import create_family_account, link_guardian
from engine.dossiers.models import Dossier, FamilyAccount, StaffRole
from engine.dossiers.services import (
    add_pupil,
    create_dossier,
    ensure_establishment,
)
from engine.dossiers.staff import (
    TokenPurpose,
    create_staff,
    enrol_totp,
    grant_role,
    issue_token,
    new_totp_secret,
    set_password_with_token,
)
from engine.dossiers.versions import register_version
from engine.web.state import app_state

from rediskit import PrivateRedis
from staffkit import STAFF_PASSWORD, StaffUser

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)]
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


@contextmanager
def _postgres_schema() -> Iterator[str]:
    base = os.environ.get("DOSSIERSCO_TEST_PG_URL", DEFAULT_PG_URL)
    admin = create_engine(base)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL unreachable at {make_url(base)!r}: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the PostgreSQL tests must run)")
        pytest.skip(reason)
    # a schema of our own: parallel runs and other suites sharing the database never collide
    schema = f"dossiersco_test_{secrets.token_hex(4)}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database of one backend, shared by the session."""
    if request.param == "sqlite":
        database: AbstractContextManager[str] = nullcontext(
            f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}")
    else:
        database = _postgres_schema()
    with database as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


#: a day within every test campaign's dates (the example campaigns open in June 2027)
CAMPAIGN_DAY = date(2027, 6, 10)


def _settings_for(tmp_path: Path, database_url: str, storage_url: str = "") -> Settings:
    """Everything in ``tmp_path``, cheap argon2, no Secure cookie."""
    return Settings(
        instance_dir=tmp_path / "instance", database_url=database_url,
        secret_key="test-secret-key", upload_dir=tmp_path / "uploads", storage_url=storage_url,
        mail_url=(tmp_path / "mail").as_uri(), testing=True, secure_cookies=False,
        queue_immediate=True,
        argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1, today=CAMPAIGN_DAY)


@pytest.fixture
def plain_settings(tmp_path: Path) -> Settings:
    """Settings for tests that need no database (mail, storage)."""
    return _settings_for(tmp_path, f"sqlite:///{tmp_path / 'unused.sqlite3'}")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible server (moto) on loopback, for the session."""
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log")
    server.start()
    yield server
    server.stop()


#: the storage backends a test can run on (docs/storage.md)
STORAGES = [pytest.param("local", id="local"), pytest.param("s3", id="s3")]
#: runs a test on both backends (a module of storage tests overrides ``storage_url`` instead)
BOTH_STORAGES = pytest.mark.parametrize("storage_url", STORAGES, indirect=True)


def _storage_url(request: pytest.FixtureRequest, backend: str) -> str:
    if backend == "local":
        return ""
    server: S3Server = request.getfixturevalue("s3_server")
    return server.storage_url(server.new_bucket())


@pytest.fixture
def storage_url(request: pytest.FixtureRequest) -> str:
    """The app's ``DOSSIERSCO_STORAGE_URL``: the local upload folder, or a fresh bucket of
    :func:`s3_server` for a test marked ``BOTH_STORAGES``."""
    return _storage_url(request, getattr(request, "param", "local"))


@pytest.fixture(params=STORAGES)
def any_storage_url(request: pytest.FixtureRequest) -> str:
    """The local folder, then a fresh bucket: a module's ``storage_url`` returns it to run
    all its tests on both backends."""
    return _storage_url(request, request.param)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 1 MB tmpfs: a real disk that fills up (mounting it needs root; skipped,
    with the reason, when not root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs to fill a real disk needs root")
    folder = tmp_path / "tiny-disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs",
                              str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"this system refuses to mount a tmpfs, even to root: {mounted.stderr}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, storage_url: str) -> Settings:
    return _settings_for(tmp_path, database_url, storage_url)


def _empty_tables(app: Flask) -> None:
    with app_state(app).database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[..., Flask]]:
    """``make_app(**overrides)``: an app on the test database; tables emptied afterwards."""
    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        app = create_app(settings, **overrides)
        apps.append(app)
        return app

    yield make
    if apps:
        _empty_tables(apps[0])
    for app in apps:
        app_state(app).database.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session outside any request, as a script or a background job would use."""
    with app_state(app).database.sessions() as session:
        yield session


MakeAccount = Callable[..., tuple[FamilyAccount, str]]
MakeDossier = Callable[..., Dossier]


@pytest.fixture
def make_account(app: Flask, db_session: Session) -> MakeAccount:
    """``make_account(display_name=…, email=…) -> (account, secret code)``."""

    def make(display_name: str = "Camille Martin", **kwargs: Any) -> tuple[FamilyAccount, str]:
        return create_family_account(db_session, app_state(app).hasher,
                                     display_name=display_name, **kwargs)

    return make


#: the example campaign: every dossier made by the fixtures is filled against it
EXAMPLE_CAMPAIGN = Path(__file__).resolve().parents[1] / "campaigns" / "college-jean-moulin.yaml"


@pytest.fixture
def make_dossier(db_session: Session) -> MakeDossier:
    """``make_dossier(*guardians, first_name=…, last_name=…) -> Dossier`` (not started), on
    the example campaign unless ``source`` gives another campaign text."""

    def make(*guardians: FamilyAccount, first_name: str = "Léa", last_name: str = "Martin",
             uai: str = "0750001A", campaign: str = "reinscription-2026",
             title: str = "Réinscription 2026", answers: dict[str, Any] | None = None,
             source: str | None = None, prefill: dict[str, Any] | None = None,
             confidential: tuple[int, ...] = ()) -> Dossier:
        establishment = ensure_establishment(db_session, uai=uai, name="Collège Jean Moulin")
        version = register_version(
            db_session, establishment, slug=campaign, title=title,
            source=source or EXAMPLE_CAMPAIGN.read_text(encoding="utf-8"))
        pupil = add_pupil(db_session, establishment, first_name=first_name,
                          last_name=last_name, eleve_id=secrets.token_hex(4))
        for index, account in enumerate(guardians, start=1):
            link_guardian(db_session, account, pupil,
                          guardian_key=account.personne_id or str(index),
                          confidential_contact=index in confidential)
        if prefill is None:
            prefill = {"pupil": {"last_name": last_name, "first_name": first_name,
                                 "level": "5e"}}
        dossier = create_dossier(db_session, pupil, version, prefill=prefill)
        if answers:
            dossier.answers = answers
            db_session.commit()
        return dossier

    return make


def _csrf_token(client: FlaskClient, path: str = "/connexion") -> str:
    match = CSRF_INPUT.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def csrf_token() -> Callable[..., str]:
    """``csrf_token(client, path="/connexion")``: the token of the form on that page."""
    return _csrf_token


def family_browser(app: Flask, account: FamilyAccount, code: str) -> FlaskClient:
    """A browser of its own for a guardian, logged in (the test's ``client`` may be another
    person's: an agent, the other guardian)."""
    browser = app.test_client()
    response = browser.post("/connexion", data={"csrf_token": _csrf_token(browser),
                                                "login": account.login, "code": code})
    assert response.status_code == 302, response.status_code
    return browser


@pytest.fixture
def login(client: FlaskClient) -> Callable[[str, str], TestResponse]:
    """``login(identifier, code)``: posts the login form with its CSRF token."""

    def do_login(identifier: str, code: str) -> TestResponse:
        token = _csrf_token(client)
        return client.post("/connexion", data={"csrf_token": token, "login": identifier,
                                               "code": code})

    return do_login


@pytest.fixture(scope="session")
def node() -> str:
    """The ``node`` executable, which runs the browser twins (expr.js, rules.js) of the server's
    evaluators; without it their tests are skipped, except under CI, where they must run."""
    path = shutil.which("node")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("node is not on PATH: the browser twins (expr.js, rules.js) must be "
                        "checked in CI")
        pytest.skip("node is not on PATH: the browser twins (expr.js, rules.js) are not checked")
    return path


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """``(inbox, port)`` of a real SMTP server on loopback, stopped after the test."""
    with smtp_server() as server:
        yield server


# -- staff -----------------------------------------------------------------------------------

MakeStaff = Callable[..., StaffUser]


@pytest.fixture
def make_staff(app: Flask, db_session: Session) -> MakeStaff:
    """``make_staff(email, role="secretariat", uai="0750001A", enrolled=True, admin=False)``:
    an agent with a password and, when ``enrolled``, a second factor (through the public
    services: invitation link, enrolment)."""
    counter = iter(range(1, 10_000))

    def make(email: str | None = None, role: StaffRole | str | None = StaffRole.SECRETARIAT,
             uai: str = "0750001A", enrolled: bool = True, admin: bool = False) -> StaffUser:
        address = email or f"agent{next(counter)}@college.fr"
        account = create_staff(db_session, email=address, display_name=address.split("@")[0],
                               is_admin=admin)
        db_session.flush()
        if role is not None:
            establishment = ensure_establishment(db_session, uai=uai,
                                                 name="Collège Jean Moulin")
            grant_role(db_session, account, establishment, StaffRole(role))
        token = issue_token(db_session, account, TokenPurpose.INVITATION,
                            ttl=timedelta(hours=1))
        db_session.commit()
        set_password_with_token(db_session, app_state(app).hasher, token,
                                TokenPurpose.INVITATION, STAFF_PASSWORD)
        secret = None
        if enrolled:
            secret = new_totp_secret()
            # enrolled one step back, so the current step's code is still unused
            enrol_totp(db_session, account, secret,
                       pyotp.TOTP(secret).at(utcnow() - timedelta(seconds=30)),
                       now=utcnow() - timedelta(seconds=30))
        return StaffUser(account, STAFF_PASSWORD, secret)

    return make


@pytest.fixture
def staff_login(client: FlaskClient) -> Callable[[StaffUser], TestResponse]:
    """``staff_login(user)``: password then TOTP through the staff pages; the last response."""

    def do_login(user: StaffUser) -> TestResponse:
        token = _csrf_token(client, "/etablissement/connexion")
        response = client.post("/etablissement/connexion", data={
            "csrf_token": token, "email": user.account.email, "password": user.password})
        assert response.status_code == 302, response.get_data(as_text=True)
        token = _csrf_token(client, "/etablissement/connexion/code")
        return client.post("/etablissement/connexion/code", data={
            "csrf_token": token, "code": user.totp()})

    return do_login


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A ``redis-server`` of the test's own on a free port, which it may stop and start."""
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
