"""The health endpoint (blueprint ``status``): ``GET /sante`` for a load balancer or a monitor.

It answers whether this process reaches what it needs, one word per service and nothing else:
no personal data, no version, no error text (a failed probe's exception type goes to the log).
200 when every service answers, 503 otherwise, so a balancer takes the process out of rotation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from .state import AppState, app_state

bp = Blueprint("status", __name__)
log = logging.getLogger(__name__)

#: a key no upload can have (uploads get 64 random characters): asking for it reaches the
#: storage without reading or writing any document
PROBE_KEY: Final = "dossiersco-health-probe"


def _database(state: AppState) -> None:
    with state.database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _storage(state: AppState) -> None:
    state.storage.exists(PROBE_KEY)


def _queue(state: AppState) -> None:
    state.jobs.huey.pending_count()


def _rate_limits(state: AppState) -> None:
    if not state.limiter.storage.check():
        raise ConnectionError("rate-limit storage check failed")


#: the services probed, by the name the answer gives them
PROBES: Final[dict[str, Callable[[AppState], None]]] = {
    "database": _database, "storage": _storage, "queue": _queue, "ratelimit": _rate_limits}


@bp.get("/sante")
def health() -> tuple[Response, int]:
    state = app_state()
    report = {}
    for name, probe in PROBES.items():
        try:
            probe(state)
        except Exception as exc:  # noqa: BLE001  # any failure is "unavailable", never a 500
            log.warning("health probe %s failed: %s", name, type(exc).__name__)
            report[name] = "unavailable"
        else:
            report[name] = "ok"
    healthy = all(value == "ok" for value in report.values())
    return jsonify(status="ok" if healthy else "unavailable", **report), 200 if healthy else 503
