"""Alembic environment: uses the connection handed over by ``engine.db.upgrade``, or a URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

import engine.dossiers.models  # noqa: F401  (registers the tables on Base.metadata)
import engine.jobs.models  # noqa: F401
from engine.db import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    # batch mode: SQLite cannot ALTER most things, so alembic copies tables instead
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection or set sqlalchemy.url")
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, render_as_batch=True,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
