"""``dossiersco adhesions``: the association rosters of a campaign, as text and CSV files."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from engine import db
from engine.config import ConfigError, Settings
from engine.fields.common import format_money

from .memberships import UnknownCampaignError, membership_rosters, write_rosters


def register(main: click.Group) -> None:
    @main.command("adhesions")
    @click.option("--campaign", "slug", required=True,
                  help="Campaign identifier (the campaign file's id: key).")
    @click.option("--out", "folder", type=click.Path(file_okay=False, path_type=Path),
                  help="Folder for one CSV per association.")
    def adhesions_command(slug: str, folder: Path | None) -> None:
        """Who joined each association, from the sent and validated dossiers."""
        try:
            settings = Settings.from_env()
            database = db.Database.connect(settings.database_url)
        except (ConfigError, SQLAlchemyError) as exc:
            raise click.ClickException(f"Base de données inaccessible : {exc}") from None
        try:
            with database.sessions() as session:
                rosters = membership_rosters(session, slug, settings.campaigns_dir)
        except UnknownCampaignError:
            raise click.ClickException(f"Aucune campagne « {slug} » n'est enregistrée.") from None
        except SQLAlchemyError as exc:
            raise click.ClickException(f"Base de données inaccessible : {exc}") from None
        finally:
            database.dispose()
        for roster in rosters:
            click.echo(f"{roster.label} : {len(roster.members)} adhérent(s), "
                       f"{format_money(roster.total)}")
        if folder is not None:
            for path in write_rosters(folder, rosters, slug):
                click.echo(f"  {path}")
