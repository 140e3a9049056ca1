"""``dossiersco migrate``: bring the database to the code's schema, once, before new app
processes start (docs/deployment.md, "Upgrades")."""

from __future__ import annotations

import click
from sqlalchemy.exc import SQLAlchemyError

from engine import db
from engine.config import ConfigError, Settings


@click.command("migrate")
def migrate_command() -> None:
    """Migrate the database of DOSSIERSCO_DATABASE_URL to the latest schema (idempotent)."""
    try:
        settings = Settings.from_env()
        database = db.Database.connect(settings.database_url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        before, heads = db.revisions(database.engine)
        db.upgrade(database.engine)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"Base de données inaccessible : {exc}") from None
    finally:
        database.dispose()
    shown = ", ".join(sorted(heads))
    if before == heads:
        click.echo(f"Base de données déjà à jour (révision {shown}).")
    else:
        click.echo(f"Base de données migrée de {', '.join(sorted(before)) or '(vide)'} à {shown}.")


def register(main: click.Group) -> None:
    """Add ``migrate`` to the ``dossiersco`` command."""
    main.add_command(migrate_command)
