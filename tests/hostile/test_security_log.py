"""The security log (issue 11, item 12): each event with its time, account and client, in the
documented format, and never a code, a token or a typed identifier."""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.campaign import load_campaign
from engine.db import utcnow
from engine.dossiers.accounts import issue_invitation
from engine.dossiers.imports import campaign_version_for, import_into
from engine.dossiers.models import FamilyAccount
from engine.prefill import read_siecle
from engine.security import security_event
from engine.web.auth import LOGIN_AT
from engine.web.state import app_state

Login = Callable[[str, str], TestResponse]
MakeAccount = Callable[..., tuple[FamilyAccount, str]]
CsrfToken = Callable[..., str]

ROOT = Path(__file__).resolve().parents[2]
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def events(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[dict[str, str]]]]:
    """``events()``: the security events logged so far, parsed back from their lines."""
    with caplog.at_level(logging.INFO, logger="dossiersco.security"):
        def parsed() -> list[dict[str, str]]:
            out = []
            for record in caplog.records:
                if record.name == "dossiersco.security":
                    pairs = dict(p.partition("=")[::2] for p in shlex.split(record.getMessage()))
                    assert list(pairs)[:4] == ["event", "time", "account", "client"]
                    assert TIME.match(pairs["time"])
                    assert pairs == {k: "-" if v is None else str(v)
                                     for k, v in record.security.items()}  # type: ignore[attr-defined]
                    out.append(pairs)
            return out
        yield parsed


def _only(found: list[dict[str, str]], event: str) -> dict[str, str]:
    matching = [e for e in found if e["event"] == event]
    assert len(matching) == 1, found
    return matching[0]


def test_a_successful_login_and_the_logout(client: FlaskClient, login: Login,
                                           make_account: MakeAccount, csrf_token: CsrfToken,
                                           events: Callable[[], list[dict[str, str]]],
                                           caplog: pytest.LogCaptureFixture) -> None:
    account, code = make_account()
    login(account.login, code)
    token = csrf_token(client, "/mes-dossiers")
    client.post("/deconnexion", data={"csrf_token": token})
    found = events()
    assert _only(found, "login.success") | {"time": ""} == {
        "event": "login.success", "time": "", "account": str(account.id), "client": "127.0.0.1",
        "method": "code"}
    assert _only(found, "logout")["account"] == str(account.id)
    assert code not in caplog.text and code.replace("-", "") not in caplog.text
    assert account.login not in caplog.text


def test_an_unknown_identifier_is_logged_by_digest_only(
        login: Login, events: Callable[[], list[dict[str, str]]],
        caplog: pytest.LogCaptureFixture) -> None:
    typed = "camille.martin@example.fr"
    login(typed, "SECRET-GUESS-1")
    login(typed.upper(), "SECRET-GUESS-2")
    failures = [e for e in events() if e["event"] == "login.failure"]
    assert [(f["account"], f["reason"]) for f in failures] == [("-", "unknown_login")] * 2
    assert failures[0]["login_digest"] == failures[1]["login_digest"]
    assert re.fullmatch(r"[0-9a-f]{16}", failures[0]["login_digest"])
    for secret in (typed, typed.upper(), "camille", "SECRET-GUESS"):
        assert secret.lower() not in caplog.text.lower()


def test_wrong_codes_the_lockout_and_the_locked_attempts(
        login: Login, make_account: MakeAccount, events: Callable[[], list[dict[str, str]]],
        caplog: pytest.LogCaptureFixture) -> None:
    account, code = make_account()
    for _ in range(5):
        login(account.login, "WRONG-CODE-XYZ")
    login(account.login, code)
    found = events()
    reasons = [e["reason"] for e in found if e["event"] == "login.failure"]
    assert reasons == ["wrong_code"] * 5 + ["locked"]
    lockout = _only(found, "login.lockout")
    assert (lockout["account"], lockout["failures"], lockout["minutes"]) == (
        str(account.id), "5", "15")
    assert [e["event"] for e in found].index("login.lockout") == 5  # after the 5th failure
    assert all(e["client"] == "127.0.0.1" for e in found)
    assert "WRONG-CODE-XYZ" not in caplog.text and code not in caplog.text
    assert "login.success" not in caplog.text


def test_the_client_address_is_the_one_of_the_request(
        client: FlaskClient, csrf_token: CsrfToken,
        events: Callable[[], list[dict[str, str]]]) -> None:
    token = csrf_token(client)
    client.post("/connexion", data={"csrf_token": token, "login": "ZZZZZZZZZZ", "code": "X"},
                environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert _only(events(), "login.failure")["client"] == "203.0.113.9"


def test_a_replayed_cookie_after_logout_is_logged_once(
        app: Flask, client: FlaskClient, login: Login, make_account: MakeAccount,
        csrf_token: CsrfToken, events: Callable[[], list[dict[str, str]]]) -> None:
    account, code = make_account()
    login(account.login, code)
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    client.post("/deconnexion", data={"csrf_token": csrf_token(client, "/mes-dossiers")})
    thief.get("/mes-dossiers", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    thief.get("/mes-dossiers", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    rejected = _only(events(), "session.rejected")
    assert (rejected["account"], rejected["client"], rejected["reason"]) == (
        str(account.id), "198.51.100.7", "revoked")


def test_a_session_past_its_absolute_lifetime_is_logged(
        client: FlaskClient, login: Login, make_account: MakeAccount,
        events: Callable[[], list[dict[str, str]]]) -> None:
    account, code = make_account()
    login(account.login, code)
    with client.session_transaction() as sess:
        sess[LOGIN_AT] -= 13 * 3600
    client.get("/mes-dossiers")
    assert _only(events(), "session.rejected")["reason"] == "expired"


def test_invitation_use_and_refusal(client: FlaskClient, make_account: MakeAccount,
                                    db_session: Session, csrf_token: CsrfToken,
                                    events: Callable[[], list[dict[str, str]]],
                                    caplog: pytest.LogCaptureFixture) -> None:
    account, _ = make_account()
    token = issue_invitation(db_session, account, expires_at=utcnow() + timedelta(hours=1))
    db_session.commit()
    path = f"/invitation/{token}"
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    other = client.application.test_client()
    other.post(path, data={"csrf_token": csrf_token(other, "/connexion")})
    found = events()
    assert _only(found, "invitation.used")["account"] == str(account.id)
    assert _only(found, "login.success")["method"] == "invitation"
    assert _only(found, "invitation.refused")["account"] == "-"
    assert token not in caplog.text


@pytest.mark.parametrize("dry_run", [False, True])
def test_code_resets_are_logged_when_committed(app: Flask, db_session: Session, dry_run: bool,
                                               events: Callable[[], list[dict[str, str]]],
                                               caplog: pytest.LogCaptureFixture) -> None:
    campaign_file = ROOT / "campaigns" / "college-jean-moulin.yaml"
    campaign = load_campaign(campaign_file)
    files = [(p.name, p.read_bytes()) for p in sorted((ROOT / "campaigns" / "demo").glob("*.xml"))]

    def run(**kwargs: bool) -> list[str]:
        version = campaign_version_for(db_session, campaign,
                                       campaign_file.read_text(encoding="utf-8"))
        report = import_into(db_session, campaign, version, read_siecle(*files),
                             hasher=app_state(app).hasher, **kwargs)
        return [c.code for c in report.credentials]

    run()
    codes = run(reset_codes=True, dry_run=dry_run)
    resets = [e for e in events() if e["event"] == "code.reset"]
    if dry_run:
        assert resets == []
        return
    accounts = db_session.query(FamilyAccount).all()
    assert sorted(e["account"] for e in resets) == sorted(str(a.id) for a in accounts)
    assert {(e["client"], e["by"]) for e in resets} == {("cli", "import")}
    assert codes and not any(code in caplog.text for code in codes)


@pytest.mark.parametrize("value, written", [
    ("plain", "reason=plain"), ("two words", 'reason="two words"'),
    ('a"b', r'reason="a\"b"'), ("k=v", 'reason="k=v"'), ("line\nbreak", r'reason="line\x0abreak"'),
    ("back\\slash", r'reason="back\\slash"'), (None, "reason=-"), ("", 'reason=""')])
def test_values_are_quoted_so_a_line_cannot_be_forged(caplog: pytest.LogCaptureFixture,
                                                      value: str | None, written: str) -> None:
    with caplog.at_level(logging.INFO, logger="dossiersco.security"):
        security_event("login.failure", account=None, client="cli", reason=value)
    line = caplog.records[-1].getMessage()
    assert line.endswith(" " + written)
    assert "\n" not in line
    assert dict(p.partition("=")[::2] for p in shlex.split(line))["reason"] == (
        "-" if value is None else value.replace("\n", "\\x0a"))


def test_staff_events_share_the_format(client: FlaskClient, make_staff: Callable[..., Any],
                                       staff_login: Callable[..., TestResponse],
                                       csrf_token: CsrfToken,
                                       events: Callable[[], list[dict[str, str]]],
                                       caplog: pytest.LogCaptureFixture) -> None:
    user = make_staff()
    token = csrf_token(client, "/etablissement/connexion")
    client.post("/etablissement/connexion", data={"csrf_token": token,
                                                  "email": user.account.email,
                                                  "password": "wrong-password-123"})
    staff_login(user)
    client.post("/etablissement/deconnexion",
                data={"csrf_token": csrf_token(client, "/etablissement/")})
    found = events()
    assert [e["event"] for e in found] == ["staff.login.failure", "staff.password_ok",
                                           "staff.login.success", "staff.logout"]
    assert {e["account"] for e in found} == {str(user.account.id)}
    assert {e["client"] for e in found} == {"127.0.0.1"}
    assert found[0]["locked"] == "False"
    for secret in ("wrong-password-123", user.password, user.account.email):
        assert secret not in caplog.text
