"""Database plumbing: declarative base, portable column types, engine and sessions per app.

Plain SQLAlchemy 2, no Flask: an app keeps its :class:`Database` in its state and its views
get a request-scoped session from :func:`engine.web.database.get_session`; a command opens
its own (``engine.cli.database``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, DateTime, Dialect, Engine, MetaData, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: constraint names are stable so that batch migrations (SQLite) can drop or alter them
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON on SQLite, JSONB (indexable, containment operators) on PostgreSQL
PortableJSON = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while a waitress thread writes; busy_timeout waits for the lock
    # instead of failing at once; foreign keys are off by default in SQLite
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # with WAL, NORMAL syncs at checkpoints rather than at every commit: a killed process
    # still leaves the old or the new state (the WAL is in the OS cache); only a power loss
    # may drop the last commits, never corrupt the file (sqlite.org/pragma.html#pragma_synchronous)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and the pragmas above.

    SQL parameters are hidden from error messages: they would put child data in the logs.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


@cache
def shipped_heads() -> frozenset[str]:
    """The heads of the migrations this code ships (read once: they do not change while the
    process runs, and reading every migration file costs a tenth of a second)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def revisions(engine: Engine) -> tuple[frozenset[str], frozenset[str]]:
    """The revisions the database is at, and the heads the code ships (equal: up to date)."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return frozenset(current), shipped_heads()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database of ``engine`` to ``revision`` (idempotent: a database already at
    the shipped heads is left without starting alembic's migration environment)."""
    if revision == "head":
        current, heads = revisions(engine)
        if current == heads:
            return
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


@dataclass(frozen=True, slots=True)
class Database:
    """The engine and session factory of one app."""

    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def connect(cls, url: str) -> Database:
        engine = make_engine(url)
        return cls(engine, sessionmaker(engine, expire_on_commit=False))

    def dispose(self) -> None:
        self.engine.dispose()

    def refresh_statistics(self) -> None:
        """:func:`refresh_statistics` in a session of its own (a server about to answer)."""
        with self.sessions() as session:
            refresh_statistics(session)


def refresh_statistics(session: Session) -> None:
    """SQLite: gather the query planner's statistics again (``ANALYZE``) and commit. Without
    them it guesses, and counts a family's children (``engine.dossiers.family``) by walking
    every dossier of the campaign instead of the family's few: twice the cost of a family
    page's lookup at 200 dossiers, ten times at 2,000. For after an import (the tables' sizes
    changed) and a server's start; PostgreSQL's autovacuum keeps its own."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("ANALYZE"))
        session.commit()

