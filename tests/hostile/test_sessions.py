"""Sessions and login (issue 11, items 9–11): a captured cookie after logout, the absolute
lifetime, no fingerprint promised that does nothing, and one answer for every failed login."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine import security
from engine.config import ConfigError, Settings
from engine.dossiers.accounts import reset_code
from engine.dossiers.models import FamilyAccount
from engine.web.auth import FAILED_MESSAGE, LOGIN_AT
from engine.web.state import app_state

Login = Callable[[str, str], TestResponse]
MakeAccount = Callable[..., tuple[FamilyAccount, str]]
CsrfToken = Callable[..., str]

DOCS = Path(__file__).resolve().parents[2] / "docs"
ALERT = re.compile(r'<div class="alert alert--error" role="alert">(.*?)</div>', re.S)
#: where the thief replays the cookie from: the same browser, another one, another network
THIEVES = {
    "same-browser": {},
    "other-user-agent": {"headers": {"User-Agent": "Mozilla/5.0 (X11; Evil) Firefox/1.0"}},
    "other-address": {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}},
    "other-both": {"headers": {"User-Agent": "curl/8.0"},
                   "environ_base": {"REMOTE_ADDR": "198.51.100.7"}},
}


def _thief_with_cookie_of(app: Flask, client: FlaskClient) -> FlaskClient:
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def _logout(client: FlaskClient, csrf_token: CsrfToken) -> None:
    token = csrf_token(client, "/mes-dossiers")
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code == 302


@pytest.mark.parametrize("where", list(THIEVES))
def test_a_cookie_captured_before_logout_opens_nothing_after(
        app: Flask, client: FlaskClient, login: Login, make_account: MakeAccount,
        csrf_token: CsrfToken, where: str) -> None:
    account, code = make_account()
    login(account.login, code)
    thief = _thief_with_cookie_of(app, client)
    request: dict[str, Any] = THIEVES[where]
    # no fingerprint binding (item 10, docs/configuration.md "Sessions"): while the session
    # lives the cookie works from anywhere; logout is what ends it
    assert thief.get("/mes-dossiers", **request).status_code == 200
    _logout(client, csrf_token)
    response = thief.get("/mes-dossiers", **request)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


def test_logout_ends_the_other_devices_sessions_too(
        app: Flask, client: FlaskClient, make_account: MakeAccount, csrf_token: CsrfToken) -> None:
    account, code = make_account()
    phone = app.test_client()
    for device in (client, phone):
        token = csrf_token(device)
        device.post("/connexion", data={"csrf_token": token, "login": account.login,
                                        "code": code})
    _logout(client, csrf_token)
    assert phone.get("/mes-dossiers").status_code == 302


def test_a_new_login_after_logout_works(client: FlaskClient, login: Login,
                                        make_account: MakeAccount, csrf_token: CsrfToken) -> None:
    account, code = make_account()
    login(account.login, code)
    _logout(client, csrf_token)
    assert login(account.login, code).status_code == 302
    assert client.get("/mes-dossiers").status_code == 200


def test_a_code_reset_ends_open_sessions(client: FlaskClient, login: Login, app: Flask,
                                         make_account: MakeAccount, db_session: Session) -> None:
    account, code = make_account()
    login(account.login, code)
    reset_code(db_session, app_state(app).hasher, account)
    db_session.commit()
    assert client.get("/mes-dossiers").status_code == 302


@pytest.mark.parametrize("age", [timedelta(hours=12, seconds=5), timedelta(days=30)])
def test_an_active_session_ends_at_its_absolute_lifetime(
        client: FlaskClient, login: Login, make_account: MakeAccount, age: timedelta) -> None:
    """The cookie is re-signed on every request, so activity alone would keep it forever."""
    account, code = make_account()
    login(account.login, code)
    with client.session_transaction() as sess:
        sess[LOGIN_AT] -= int(age.total_seconds())
    assert client.get("/mes-dossiers").status_code == 302


def test_a_session_within_its_absolute_lifetime_stays(client: FlaskClient, login: Login,
                                                      make_account: MakeAccount) -> None:
    account, code = make_account()
    login(account.login, code)
    with client.session_transaction() as sess:
        sess[LOGIN_AT] -= 11 * 3600
    assert client.get("/mes-dossiers").status_code == 200


#: a login time an hour ahead of the test's own clock
FUTURE = object()


@pytest.mark.parametrize("value", [None, "0", 1.5, FUTURE],
                         ids=["missing", "text", "fraction", "future"])
def test_a_session_without_a_valid_login_time_is_refused(
        client: FlaskClient, login: Login, make_account: MakeAccount, value: object) -> None:
    """A cookie signed before the absolute lifetime existed, or with a login time from the
    future, opens nothing."""
    account, code = make_account()
    login(account.login, code)
    with client.session_transaction() as sess:
        if value is None:
            del sess[LOGIN_AT]
        else:
            sess[LOGIN_AT] = int(time.time()) + 3600 if value is FUTURE else value
    assert client.get("/mes-dossiers").status_code == 302


def test_the_absolute_lifetime_is_configurable() -> None:
    env = {"DOSSIERSCO_SECRET_KEY": "k", "DOSSIERSCO_SESSION_MAX_HOURS": "4"}
    assert Settings.from_env(env).session_max_lifetime == timedelta(hours=4)
    with pytest.raises(ConfigError, match="DOSSIERSCO_SESSION_MAX_HOURS"):
        Settings.from_env({**env, "DOSSIERSCO_SESSION_MAX_HOURS": "48"})


def test_the_configured_absolute_lifetime_is_applied(make_app: Callable[..., Flask],
                                                     make_account: MakeAccount,
                                                     csrf_token: CsrfToken) -> None:
    client = make_app(session_max_lifetime=timedelta(hours=1)).test_client()
    account, code = make_account()
    token = csrf_token(client)
    client.post("/connexion", data={"csrf_token": token, "login": account.login, "code": code})
    with client.session_transaction() as sess:
        sess[LOGIN_AT] -= 3601
    assert client.get("/mes-dossiers").status_code == 302


def test_no_fingerprint_protection_is_promised(app: Flask) -> None:
    """Flask-Login's "strong" protection was documented but did nothing for a permanent
    session; it is off, and the documentation says what protects a session instead."""
    assert app.login_manager.session_protection is None  # type: ignore[attr-defined]
    text = " ".join((DOCS / "configuration.md").read_text(encoding="utf-8").split())
    assert "dropped when the client's IP or user agent changes" not in text
    assert "is **not bound to the IP address or the browser's User-Agent**" in text


def _failure(client: FlaskClient, csrf_token: CsrfToken, identifier: str,
             code: str) -> tuple[int, str]:
    token = csrf_token(client)
    response = client.post("/connexion", data={"csrf_token": token, "login": identifier,
                                               "code": code})
    alerts = ALERT.findall(response.get_data(as_text=True))
    return response.status_code, " ".join(" ".join(a.split()) for a in alerts)


@pytest.mark.parametrize("case", ["unknown-identifier", "wrong-code", "locked-right-code",
                                  "locked-wrong-code", "locking-failure"])
def test_every_failed_login_gives_the_same_answer(
        app: Flask, client: FlaskClient, make_account: MakeAccount, csrf_token: CsrfToken,
        monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    """Same status, same message, and one code verification each (the same work) for an
    unknown identifier, a wrong code and a locked account."""
    account, code = make_account()
    reference = _failure(client, csrf_token, "ZZZZZZZZZZ", "AAAA-BBBB-CCCC")
    failures = {"locked-right-code": 5, "locked-wrong-code": 5, "locking-failure": 4}
    for _ in range(failures.get(case, 0)):
        _failure(client, csrf_token, account.login, "WRONG")
    digest = security._code_digest
    calls: list[bytes] = []

    def counting(key: bytes, salt: bytes, secret: str) -> bytes:
        calls.append(salt)
        return digest(key, salt, secret)

    monkeypatch.setattr(security, "_code_digest", counting)
    monkeypatch.setattr(PasswordHasher, "verify", lambda *args: pytest.fail("argon2 used"))
    identifier, typed = {"unknown-identifier": ("QQQQQQQQQQ", code),
                         "locked-right-code": (account.login, code)}.get(
                             case, (account.login, "WRONG"))
    status, message = _failure(client, csrf_token, identifier, typed)
    assert (status, message) == reference == (200, f"<p>{FAILED_MESSAGE}</p>")
    assert "bloqué" not in message
    assert len(calls) == 1
    assert client.get("/mes-dossiers").status_code == 302
