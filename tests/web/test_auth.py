"""Family login: codes, generic failure message, lockout, rate limit, logout, session expiry.

Covers A-03 (argon2id, no plaintext), A-04 (lockout), A-05 (per-IP rate limit), A-06 (no
enumeration), S-02 (epoch revocation), S-03 (expiry), C-07/XF-22 (CSRF).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.accounts import end_all_sessions
from engine.dossiers.models import Dossier, FamilyAccount
from engine.web.auth import FAILED_MESSAGE

Login = Callable[[str, str], TestResponse]
MakeAccount = Callable[..., tuple[FamilyAccount, str]]
MakeDossier = Callable[..., Dossier]
CsrfToken = Callable[..., str]


def test_login_with_right_code__ok(client: FlaskClient, login: Login,
                                   make_account: MakeAccount) -> None:
    account, code = make_account()
    response = login(account.login, code)
    assert response.status_code == 302
    assert response.headers["Location"] == "/mes-dossiers"
    assert client.get("/mes-dossiers").status_code == 200


def test_login_tolerates_case_spaces_and_dashes(client: FlaskClient, login: Login,
                                                make_account: MakeAccount) -> None:
    account, code = make_account()
    typed = " " + account.login.lower() + " "
    assert login(typed, code.replace("-", " ").lower()).status_code == 302


def test_code_is_stored_as_argon2id_hash(make_account: MakeAccount) -> None:
    first, code = make_account()
    second, _ = make_account()
    assert first.code_hash.startswith("$argon2id$")
    assert code not in first.code_hash
    assert first.code_hash != second.code_hash
    assert first.login != second.login


def test_wrong_code_and_unknown_login_give_the_same_answer(login: Login,
                                                           make_account: MakeAccount) -> None:
    account, _ = make_account()
    wrong = login(account.login, "AAAA-BBBB-CCCC")
    unknown = login("ZZZZZZZZZZ", "AAAA-BBBB-CCCC")
    assert wrong.status_code == unknown.status_code == 200
    assert FAILED_MESSAGE in wrong.get_data(as_text=True)
    assert FAILED_MESSAGE in unknown.get_data(as_text=True)


def test_lockout_after_five_failures_refuses_even_the_right_code(
        client: FlaskClient, login: Login, make_account: MakeAccount,
        db_session: Session) -> None:
    account, code = make_account()
    for _ in range(4):
        assert FAILED_MESSAGE in login(account.login, "WRONG").get_data(as_text=True)
    # locked from the fifth failure on, with the one message of every failure (issue 11, 11)
    fifth = login(account.login, "WRONG").get_data(as_text=True)
    assert FAILED_MESSAGE in fifth
    response = login(account.login, code)
    assert response.status_code == 200
    assert FAILED_MESSAGE in response.get_data(as_text=True)
    assert client.get("/mes-dossiers").status_code == 302
    db_session.refresh(account)
    assert account.locked_until is not None


def test_lock_expires(login: Login, make_account: MakeAccount, db_session: Session) -> None:
    account, code = make_account()
    for _ in range(5):
        login(account.login, "WRONG")
    db_session.refresh(account)
    assert account.locked_until is not None
    account.locked_until -= timedelta(minutes=16)
    db_session.commit()
    assert login(account.login, code).status_code == 302


def test_success_resets_the_failure_counter(login: Login, make_account: MakeAccount,
                                            db_session: Session) -> None:
    account, code = make_account()
    for _ in range(3):
        login(account.login, "WRONG")
    assert login(account.login, code).status_code == 302
    db_session.refresh(account)
    assert account.failed_attempts == 0


@pytest.fixture
def strict_login(make_app: Callable[..., Flask], csrf_token: CsrfToken) -> Login:
    """``login`` on an app whose per-address limit is 10 a minute (the default is larger)."""
    client = make_app(login_rate_limit="10/minute").test_client()

    def do_login(identifier: str, code: str) -> TestResponse:
        return client.post("/connexion", data={"csrf_token": csrf_token(client),
                                               "login": identifier, "code": code})

    return do_login


def test_rate_limit_per_ip_answers_429(strict_login: Login) -> None:
    statuses = [strict_login(f"UNKNOWN{i:03d}", "WRONG").status_code for i in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_rate_limit_page_is_french(strict_login: Login) -> None:
    for i in range(10):
        strict_login(f"UNKNOWN{i:03d}", "WRONG")
    response = strict_login("UNKNOWN999", "WRONG")
    assert response.status_code == 429
    assert "Trop de tentatives" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


def test_login_without_csrf_token_is_refused(client: FlaskClient,
                                             make_account: MakeAccount) -> None:
    account, code = make_account()
    response = client.post("/connexion", data={"login": account.login, "code": code})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)
    assert client.get("/mes-dossiers").status_code == 302


def test_csrf_token_of_another_session_is_refused(csrf_token: CsrfToken, app: Flask,
                                                  client: FlaskClient,
                                                  make_account: MakeAccount) -> None:
    account, code = make_account()
    other = app.test_client()
    token = csrf_token(other)
    response = client.post("/connexion", data={"csrf_token": token, "login": account.login,
                                               "code": code})
    assert response.status_code == 400


def test_logout_requires_post_and_ends_the_session(csrf_token: CsrfToken, client: FlaskClient,
                                                   login: Login,
                                                   make_account: MakeAccount) -> None:
    account, code = make_account()
    login(account.login, code)
    assert client.get("/deconnexion").status_code == 405
    token = csrf_token(client, "/mes-dossiers")
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    response = client.get("/mes-dossiers")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


def test_logout_without_csrf_token_is_refused(client: FlaskClient, login: Login,
                                              make_account: MakeAccount) -> None:
    account, code = make_account()
    login(account.login, code)
    assert client.post("/deconnexion").status_code == 400
    assert client.get("/mes-dossiers").status_code == 200


def test_session_expires_after_its_lifetime(csrf_token: CsrfToken, make_app: Callable[..., Flask],
                                            make_account: MakeAccount) -> None:
    app = make_app(session_lifetime=timedelta(seconds=1))
    client = app.test_client()
    account, code = make_account()
    token = csrf_token(client)
    client.post("/connexion", data={"csrf_token": token, "login": account.login, "code": code})
    assert client.get("/mes-dossiers").status_code == 200
    time.sleep(2.1)
    assert client.get("/mes-dossiers").status_code == 302


def test_ending_all_sessions_logs_out_open_sessions(client: FlaskClient, login: Login,
                                                    make_account: MakeAccount,
                                                    db_session: Session) -> None:
    account, code = make_account()
    login(account.login, code)
    assert client.get("/mes-dossiers").status_code == 200
    end_all_sessions(db_session, account)
    assert client.get("/mes-dossiers").status_code == 302


def test_root_redirects_to_login_or_dashboard(client: FlaskClient, login: Login,
                                              make_account: MakeAccount) -> None:
    assert client.get("/").headers["Location"] == "/connexion"
    account, code = make_account()
    login(account.login, code)
    assert client.get("/").headers["Location"] == "/mes-dossiers"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/",
                                    "/\\evil.example", "https:evil.example"])
def test_next_parameter_never_leaves_the_site(csrf_token: CsrfToken, client: FlaskClient,
                                              make_account: MakeAccount, target: str) -> None:
    account, code = make_account()
    token = csrf_token(client)
    response = client.post("/connexion", query_string={"next": target},
                           data={"csrf_token": token, "login": account.login, "code": code})
    assert response.headers["Location"] == "/mes-dossiers"


def test_next_parameter_on_the_site_is_followed(csrf_token: CsrfToken, client: FlaskClient,
                                                make_account: MakeAccount,
                                                make_dossier: MakeDossier) -> None:
    account, code = make_account()
    dossier = make_dossier(account)
    target = f"/dossier/{dossier.public_id}"
    assert client.get(target).headers["Location"].startswith("/connexion?next=")
    token = csrf_token(client)
    response = client.post("/connexion", query_string={"next": target},
                           data={"csrf_token": token, "login": account.login, "code": code})
    assert response.headers["Location"] == target


def test_logs_hold_no_secret_code(login: Login, make_account: MakeAccount,
                                  caplog: pytest.LogCaptureFixture) -> None:
    account, code = make_account()
    with caplog.at_level(logging.DEBUG):
        login(account.login, "WRONG-CODE-XYZ")
        login(account.login, code)
    assert caplog.records
    assert code not in caplog.text
    assert "WRONG-CODE-XYZ" not in caplog.text
