"""Login throttling: per account in the database, per address sized for shared addresses, the
counters shared by every process through Redis, and a refusal (503) when Redis is down."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.models import FamilyAccount

from conftest import MakeAccount, MakeStaff, _csrf_token
from rediskit import PrivateRedis, shared_redis_url, unique_prefix

#: families behind one address in the measurement of issue 15 (a computer room, a CGNAT)
SHARED_ADDRESS_FAMILIES = 98


def _login(client: FlaskClient, identifier: str, code: str) -> TestResponse:
    return client.post("/connexion", data={"csrf_token": _csrf_token(client),
                                           "login": identifier, "code": code})


def test_families_behind_one_address_all_log_in_while_a_guesser_is_locked(
        app: Flask, make_account: MakeAccount, db_session: Session) -> None:
    families = [make_account(f"Famille {n}") for n in range(SHARED_ADDRESS_FAMILIES)]
    target, right_code = make_account("Famille visée")
    guesser = app.test_client()
    # every request of the test client comes from 127.0.0.1: one shared address
    refused = [_login(guesser, target.login, f"FAUX{n:04d}").status_code for n in range(6)]
    statuses = [_login(app.test_client(), account.login, code).status_code
                for account, code in families]
    assert statuses == [302] * SHARED_ADDRESS_FAMILIES
    assert refused == [200] * 6
    # guessing stopped per account: even the right code is refused now
    assert _login(guesser, target.login, right_code).status_code == 200
    db_session.expire_all()
    locked = db_session.get(FamilyAccount, target.id)
    assert locked is not None and locked.locked_until is not None


def _shared_app(make_app: Callable[..., Flask], url: str, prefix: str) -> Flask:
    return make_app(ratelimit_storage=url, ratelimit_prefix=prefix,
                    login_rate_limit="3/minute")


def test_two_app_processes_share_the_login_counters_in_redis(
        make_app: Callable[..., Flask]) -> None:
    url, prefix = shared_redis_url(), unique_prefix()
    first = _shared_app(make_app, url, prefix).test_client()
    second = _shared_app(make_app, url, prefix).test_client()
    statuses = [_login(client, "INCONNU", "FAUX").status_code
                for client in (first, second, first, second)]
    assert statuses == [200, 200, 200, 429]
    # another site on the same Redis (another prefix) counts apart
    other = _shared_app(make_app, url, unique_prefix()).test_client()
    assert _login(other, "INCONNU", "FAUX").status_code == 200


def _assert_unavailable(response: TestResponse) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:500]
    assert "Service momentanément indisponible" in body
    assert "Réessayez dans quelques minutes" in body
    assert response.headers["Retry-After"] == "30"
    assert "Traceback" not in body and "redis" not in body.lower()


def test_logins_are_refused_while_redis_is_down_and_work_once_it_is_back(
        make_app: Callable[..., Flask], private_redis: PrivateRedis,
        make_account: MakeAccount, make_staff: MakeStaff) -> None:
    app = make_app(ratelimit_storage=private_redis.url, ratelimit_prefix=unique_prefix())
    account, code = make_account()
    agent = make_staff()
    family = app.test_client()
    staff = app.test_client()
    staff_token = _csrf_token(staff, "/etablissement/connexion")
    family_token = _csrf_token(family)
    private_redis.stop()
    # the right code, refused: an unreachable counter never means unthrottled guesses
    _assert_unavailable(family.post("/connexion", data={
        "csrf_token": family_token, "login": account.login, "code": code}))
    assert family.get("/mes-dossiers").status_code == 302
    _assert_unavailable(staff.post("/etablissement/connexion", data={
        "csrf_token": staff_token, "email": agent.account.email, "password": agent.password}))
    # the pages that count nothing still answer
    assert family.get("/connexion").status_code == 200
    private_redis.start()
    assert _login(family, account.login, code).status_code == 302
    assert family.get("/mes-dossiers").status_code == 200
