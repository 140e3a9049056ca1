"""``dossiersco adhesions``: the association rosters of a campaign, as text and CSV files."""

from __future__ import annotations

from pathlib import Path

import click

from engine.dossiers.versions import CampaignCache
from engine.exports.memberships import UnknownCampaignError, membership_rosters, write_rosters
from engine.fields.common import format_money

from .database import command_session


def register(main: click.Group) -> None:
    @main.command("adhesions")
    @click.option("--campaign", "slug", required=True,
                  help="Campaign identifier (the campaign file's id: key).")
    @click.option("--out", "folder", type=click.Path(file_okay=False, path_type=Path),
                  help="Folder for one CSV per association.")
    def adhesions_command(slug: str, folder: Path | None) -> None:
        """Who joined each association, from the sent and validated dossiers."""
        with command_session() as (settings, session):
            try:
                rosters = membership_rosters(session, slug, CampaignCache(settings.campaigns_dir))
            except UnknownCampaignError:
                raise click.ClickException(
                    f"Aucune campagne « {slug} » n'est enregistrée.") from None
        for roster in rosters:
            click.echo(f"{roster.label} : {len(roster.members)} adhérent(s), "
                       f"{format_money(roster.total)}")
        if folder is not None:
            for path in write_rosters(folder, rosters, slug):
                click.echo(f"  {path}")
