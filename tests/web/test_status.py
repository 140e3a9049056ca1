"""``GET /sante``: one word per service, 200 when all answer, 503 when one does not, never a
500 and never personal data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conftest import MakeAccount, MakeDossier
from rediskit import PrivateRedis, unique_prefix


def test_a_healthy_process_answers_200_with_each_service(
        client: FlaskClient, make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    account, _ = make_account("Claire Martin", email="claire@example.fr")
    make_dossier(account)
    response = client.get("/sante")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "storage": "ok",
                                   "queue": "ok", "ratelimit": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    for personal in ("Martin", "claire", account.login):
        assert personal not in body


def test_an_unreachable_redis_is_a_503_naming_the_services_then_recovers(
        make_app: Callable[..., Flask], private_redis: PrivateRedis,
        caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(ratelimit_storage=private_redis.url, ratelimit_prefix=unique_prefix(),
                   queue_url=private_redis.url, queue_immediate=False)
    client = app.test_client()
    assert client.get("/sante").status_code == 200
    private_redis.stop()
    response = client.get("/sante")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "ok", "storage": "ok",
                                   "queue": "unavailable", "ratelimit": "unavailable"}
    assert "health probe queue failed: ConnectionError" in caplog.text
    private_redis.start()
    assert client.get("/sante").status_code == 200
