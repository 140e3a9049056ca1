"""PostgreSQL restarted under a running app (issue 15, item 6), on a throwaway cluster: while
it is down every request gets a 503 with a French page (never a traceback, never a 500), and
once it is back the same app serves again, its pool's dead connections replaced
(``pool_pre_ping``), without a restart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pgkit import Cluster

from engine.app import create_app
from engine.dossiers.accounts import create_family_account
from engine.web import ERRORS
from engine.web.state import app_state

from conftest import _csrf_token, _settings_for

TITLE = ERRORS[503][0]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    made = Cluster()
    made.start()
    yield made
    made.remove()


@pytest.fixture
def pg_app(cluster: Cluster, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(_settings_for(tmp_path, cluster.url))
    yield app
    app_state(app).database.dispose()


def _logged_in(app: Flask, login: str, code: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/connexion", data={"csrf_token": _csrf_token(client),
                                               "login": login, "code": code})
    assert response.status_code == 302
    return client


def _status(client: FlaskClient) -> int:
    response = client.get("/mes-dossiers")
    page = response.get_data(as_text=True)
    assert "Traceback" not in page and "psycopg" not in page
    if response.status_code == 503:
        assert TITLE in page.replace("&#39;", "'")
    return response.status_code


def test_requests_fail_cleanly_while_postgres_restarts_then_recover(
        cluster: Cluster, pg_app: Flask) -> None:
    with app_state(pg_app).database.sessions() as session:
        account, code = create_family_account(session, app_state(pg_app).hasher,
                                              display_name="Camille Martin")
        login = account.login
    family = _logged_in(pg_app, login, code)
    other = _logged_in(pg_app, login, code)
    assert _status(family) == 200

    # another family keeps clicking while the database goes down and comes back
    seen: list[int | str] = []
    done = threading.Event()

    def click() -> None:
        while not done.is_set():
            try:
                seen.append(_status(other))
            except Exception as exc:  # noqa: BLE001  # an escaped error fails the test below
                seen.append(repr(exc))

    load = threading.Thread(target=click)
    load.start()
    try:
        cluster.stop()
        assert _status(family) == 503
        fresh = pg_app.test_client()  # logging in needs the database too
        response = fresh.post("/connexion", data={"csrf_token": _csrf_token(fresh),
                                                  "login": login, "code": code})
        assert response.status_code == 503
        cluster.start()
        assert _status(family) == 200  # the same app, no restart
    finally:
        done.set()
        load.join(timeout=60)
    assert seen and set(seen) <= {200, 503}
    assert _status(other) == 200
