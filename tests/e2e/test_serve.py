"""``dossiersco serve``: a real process on waitress, its database migrated, answering pages."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, inspect

from engine.cli import main

ADDRESS = re.compile(r"en service sur (http://127\.0\.0\.1:\d+/)")


def test_serve_migrates_and_answers_until_interrupted(tmp_path: Path) -> None:
    env = {**os.environ, "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance")}
    env.pop("DOSSIERSCO_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--threads", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = ADDRESS.search(first)
        assert found, (first, process.stderr.read() if process.poll() is not None else "")
        with urllib.request.urlopen(found.group(1) + "connexion", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Server"] == "dossiersco"
            assert "Content-Security-Policy" in response.headers
            assert "<h1>Connexion</h1>" in response.read().decode()
        engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'dossiersco.sqlite3'}")
        try:
            assert {"alembic_version", "dossier", "family_account"} <= set(
                inspect(engine).get_table_names())
        finally:
            engine.dispose()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0, process.stderr.read()
        assert "Serveur arrêté." in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_serve_refuses_a_bad_setting_with_a_clear_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve"], env={
        "DOSSIERSCO_INSTANCE_DIR": str(tmp_path), "DOSSIERSCO_BASE_URL": "ftp://ecole"})
    assert result.exit_code == 1
    assert "DOSSIERSCO_BASE_URL must be an http(s) URL" in result.output


def test_serve_checks_its_options() -> None:
    result = CliRunner().invoke(main, ["serve", "--threads", "0"])
    assert result.exit_code == 2
    assert "--threads" in result.output
