"""Family login: codes, generic failure message, lockout, rate limit, logout, session expiry.

Covers A-03 (salted, keyed code hash, no plaintext), A-04 (lockout), A-05 (per-IP rate limit), A-06 (no
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

from engine.config import new_data_key, parse_data_keys
from engine.dossiers.accounts import create_family_account, end_all_sessions
from engine.dossiers.models import Dossier, FamilyAccount
from engine.security import Hasher, hash_secret, normalize_credential, verify_secret
from engine.web.auth import FAILED_MESSAGE
from engine.web.state import app_state

from conftest import CSRF_INPUT

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


def test_code_is_stored_salted_and_keyed(app: Flask, make_account: MakeAccount) -> None:
    first, code = make_account()
    second, _ = make_account()
    hasher = app_state(app).hasher
    assert first.code_hash.startswith(f"$dsco-code$v=1$k={hasher.code_key_id}$")
    assert normalize_credential(code) not in first.code_hash
    assert first.code_hash != second.code_hash
    assert first.login != second.login
    # the same code twice: two salts, two digests
    assert hash_secret(hasher, code) != hash_secret(hasher, code)
    assert verify_secret(hasher, first.code_hash, code)
    assert not verify_secret(hasher, first.code_hash, "AAAA-BBBB-CCCC")


def test_a_stolen_database_without_the_key_checks_nothing(app: Flask,
                                                           make_account: MakeAccount) -> None:
    """The digest depends on the key kept outside the database: another key (an attacker's
    guess) finds the code wrong, the key id names no key, a corrupt hash is a mismatch."""
    account, code = make_account()
    hasher = app_state(app).hasher
    guessed = Hasher((b"\0" * 32,), time_cost=1, memory_cost=8, parallelism=1)
    assert not verify_secret(guessed, account.code_hash, code)
    forged = account.code_hash.replace(f"k={hasher.code_key_id}", f"k={guessed.code_key_id}")
    assert not verify_secret(guessed, forged, code)
    for corrupt in (account.code_hash[:-3], account.code_hash + "$x", "$dsco-code$v=1$", ""):
        assert not verify_secret(hasher, corrupt, code)


def test_an_argon2_code_of_before_logs_in_and_is_stored_keyed(
        app: Flask, client: FlaskClient, login: Login, make_account: MakeAccount,
        db_session: Session) -> None:
    account, code = make_account()
    hasher = app_state(app).hasher
    account.code_hash = hasher.hash(normalize_credential(code))
    db_session.commit()
    assert account.code_hash.startswith("$argon2id$")
    assert login(account.login, code).status_code == 302
    db_session.refresh(account)
    assert account.code_hash.startswith("$dsco-code$v=1$")
    assert verify_secret(hasher, account.code_hash, code)


def test_a_code_under_an_old_key_logs_in_and_moves_to_the_new_key(
        make_app: Callable[..., Flask], db_session: Session) -> None:
    old, new = new_data_key(), new_data_key()
    before = make_app(code_keys=parse_data_keys(old))
    with before.app_context():
        account, code = create_family_account(db_session, app_state(before).hasher,
                                              display_name="Claire Martin")
    stored = account.code_hash
    after = make_app(code_keys=parse_data_keys(f"{new},{old}"))
    client = after.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = CSRF_INPUT.search(page)
    assert token is not None
    response = client.post("/connexion", data={"csrf_token": token.group(1),
                                               "login": account.login, "code": code})
    assert response.status_code == 302
    db_session.refresh(account)
    assert account.code_hash != stored
    assert account.code_hash.startswith(f"$dsco-code$v=1$k={app_state(after).hasher.code_key_id}$")


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
