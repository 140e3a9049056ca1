"""The database session of a ``dossiersco`` command that reads or writes dossiers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine import db
from engine.config import ConfigError, Settings


@contextmanager
def command_session() -> Iterator[tuple[Settings, Session]]:
    """Settings from ``DOSSIERSCO_*`` and a session on their database; a configuration or
    database failure becomes a one-line message and exit code 1, never a traceback."""
    try:
        settings = Settings.from_env()
        database = db.Database.connect(settings.database_url)
    except (ConfigError, SQLAlchemyError) as exc:
        raise click.ClickException(f"Base de données inaccessible : {exc}") from None
    try:
        with database.sessions() as session:
            yield settings, session
    except SQLAlchemyError as exc:
        raise click.ClickException(f"Base de données inaccessible : {exc}") from None
    finally:
        database.dispose()
