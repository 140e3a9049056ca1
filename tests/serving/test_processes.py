"""``dossiersco serve --workers 2``: gunicorn for real, two processes sharing the secret key and
the rate-limit counters (Redis), migrated once; a family logs in and reads its pages; the
access log holds no personal data; several processes refuse to start without what they share."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.app import create_app
from engine.cli import main
from engine.config import Settings
from engine.dossiers.accounts import create_family_account
from engine.web.state import app_state

from .serverkit import Browser, children_of, serve
from rediskit import shared_redis_url, unique_prefix


def _environment(tmp_path: Path) -> dict[str, str]:
    return {"DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
            "DOSSIERSCO_DATABASE_URL": f"sqlite:///{tmp_path / 'dossiersco.sqlite3'}",
            "DOSSIERSCO_SECRET_KEY": secrets.token_urlsafe(48),
            "DOSSIERSCO_RATELIMIT_STORAGE": shared_redis_url(),
            "DOSSIERSCO_RATELIMIT_PREFIX": unique_prefix(),
            "DOSSIERSCO_LOG_FORMAT": "json"}


def _family(env: dict[str, str]) -> tuple[str, str]:
    """A family account in the database the server will use (migrated here, first)."""
    app = create_app(Settings.from_env(env))
    state = app_state(app)
    with state.database.sessions() as session:
        account, code = create_family_account(session, state.hasher,
                                              display_name="Claire Martin",
                                              email="claire.martin@example.fr")
        login = account.login
    state.database.dispose()
    return login, code


def test_two_gunicorn_processes_serve_a_family(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    login, code = _family(env)
    with serve(env, "--workers", "2", "--threads", "2") as served:
        browser = Browser(served.url)
        status, page = browser.login(login, code)
        assert status == 200 and "<h1>Mes dossiers</h1>" in page
        # forked together at start (the address is printed before): both answered by now
        assert len(children_of(served.process.pid)) == 2
        # the session cookie opens the pages whichever process answers
        for _ in range(6):
            status, headers, page = browser.request("/mes-dossiers?onglet=tous")
            assert status == 200 and "<h1>Mes dossiers</h1>" in page
        assert headers["Server"] == "dossiersco"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        status, _headers, body = browser.request("/sante")
        assert status == 200 and json.loads(body)["status"] == "ok"
        returncode, out, err = served.stop()
    assert returncode == 0, err[-3000:]
    assert out.count("Serveur arrêté.") == 1
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    access = [line["access"] for line in lines if line["logger"] == "dossiersco.access"]
    assert {"method": "POST", "route": "/connexion", "status": 302} in [
        {key: entry[key] for key in ("method", "route", "status")} for entry in access]
    assert any(entry["route"] == "/mes-dossiers" for entry in access)
    for personal in (code, login, "Claire", "claire.martin", "onglet"):
        assert personal not in err
    migrations = [line for line in lines if "Running upgrade" in line["message"]]
    assert migrations == []  # migrated once, before: neither the master nor a worker again


@pytest.mark.parametrize(("changes", "message"), [
    ({"DOSSIERSCO_SECRET_KEY": ""}, "DOSSIERSCO_SECRET_KEY is required"),
    ({"DOSSIERSCO_SECRET_KEY": "court-et-previsible"}, "DOSSIERSCO_SECRET_KEY is too weak"),
    ({"DOSSIERSCO_SECRET_KEY": "a" * 64}, "DOSSIERSCO_SECRET_KEY is too weak"),
    ({"DOSSIERSCO_RATELIMIT_STORAGE": "memory://"}, "DOSSIERSCO_RATELIMIT_STORAGE must be shared"),
])
def test_several_processes_refuse_to_start_without_what_they_share(
        tmp_path: Path, changes: dict[str, str], message: str) -> None:
    env = {**_environment(tmp_path), **changes}
    result = CliRunner().invoke(main, ["serve", "--workers", "2", "--port", "0"], env=env)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "dossiersco.sqlite3").exists()


def test_waitress_runs_one_process_and_gunicorn_runs_the_jobs_elsewhere() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["serve", "--workers", "2", "--server", "waitress"])
    assert result.exit_code == 2 and "--server gunicorn" in result.output
    result = runner.invoke(main, ["serve", "--workers", "2", "--jobs", "1"])
    assert result.exit_code == 2 and "dossiersco worker" in result.output


def test_migrations_run_once_by_one_command_and_processes_refuse_an_old_schema(
        tmp_path: Path) -> None:
    env = {**_environment(tmp_path), "DOSSIERSCO_AUTO_MIGRATE": "false"}
    runner = CliRunner()
    refused = runner.invoke(main, ["serve", "--workers", "2", "--port", "0"], env=env)
    assert refused.exit_code == 1, refused.output
    assert "run `dossiersco migrate` first" in refused.output
    first = runner.invoke(main, ["migrate"], env=env)
    assert first.exit_code == 0 and "Base de données migrée de (vide) à" in first.output
    again = runner.invoke(main, ["migrate"], env=env)
    assert again.exit_code == 0 and "déjà à jour" in again.output
    app = create_app(Settings.from_env(env))  # no migration: the schema is current
    app_state(app).database.dispose()
