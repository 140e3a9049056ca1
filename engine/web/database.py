"""The database session of a request: opened on first use, closed when the app context ends."""

from __future__ import annotations

import logging

from flask import Flask, g
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.web.state import app_state

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Close the request-scoped session when each app context ends."""

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("dossiersco_session", None)
        if session is not None:
            try:
                session.close()
            except SQLAlchemyError as exc:
                # the connection died under the request (database restarted): the answer is
                # already made, the dead connection is dropped from the pool
                log.warning("database session not closed cleanly (%s)", type(exc).__name__)


def get_session() -> Session:
    """The session of the current request (created on first use)."""
    session: Session | None = g.get("dossiersco_session")
    if session is None:
        session = app_state().database.sessions()
        g.dossiersco_session = session
    return session
