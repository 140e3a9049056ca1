"""The access log names route patterns, never the path as typed nor the query (issue 15, item
3); JSON log lines carry the structured fields of the security and access records."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from flask.testing import FlaskClient

from engine.cli.logs import JsonFormatter, configure_logging, formatter_for
from engine.config import Settings
from engine.security import security_event

TOKEN = "jeton-secret-d-invitation-0123456789"


def _access(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [record.access for record in caplog.records  # type: ignore[attr-defined]
            if record.name == "dossiersco.access"]


def test_the_access_log_names_the_route_never_the_path_or_query(
        client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dossiersco.access")
    client.get(f"/invitation/{TOKEN}?email=claire.martin@example.fr")
    client.get("/claire.martin@example.fr")
    client.get("/connexion?code=ABCD-EFGH")
    entries = _access(caplog)
    assert [(e["method"], e["route"], e["status"]) for e in entries] == [
        ("GET", "/invitation/<token>", 410), ("GET", "-", 404), ("GET", "/connexion", 200)]
    assert all(isinstance(e["ms"], float) for e in entries)
    for secret in (TOKEN, "claire", "ABCD"):
        assert secret not in caplog.text


def test_json_lines_carry_the_structured_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dossiersco.security")
    security_event("login.failure", account=42, client="203.0.113.9", reason="wrong_code")
    line = json.loads(JsonFormatter().format(caplog.records[-1]))
    assert line["level"] == "WARNING" and line["logger"] == "dossiersco.security"
    assert line["security"]["event"] == "login.failure" and line["security"]["account"] == 42
    assert line["time"].endswith("+00:00") and "account=42" in line["message"]
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("engine", logging.ERROR, __file__, 1, "failed", None,
                                   exc_info=sys.exc_info())
    assert "ValueError: boom" in json.loads(JsonFormatter().format(record))["exception"]


def test_the_log_format_is_a_setting(plain_settings: Settings) -> None:
    env = {"DOSSIERSCO_INSTANCE_DIR": str(plain_settings.instance_dir)}
    assert isinstance(formatter_for(Settings.from_env({**env, "DOSSIERSCO_LOG_FORMAT": "JSON"})),
                      JsonFormatter)
    assert not isinstance(formatter_for(Settings.from_env(env)), JsonFormatter)


def test_a_command_keeps_the_logging_its_runner_set_up(plain_settings: Settings) -> None:
    root = logging.getLogger()
    before = root.handlers[:]
    configure_logging(plain_settings)  # pytest's handlers are there: nothing replaced
    assert root.handlers == before
