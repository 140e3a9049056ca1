"""``dossiersco recompute``: a submitted dossier's fees under the campaign's current rules,
before/after first, stored only with ``--apply`` (until the staff pages offer it)."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from engine.campaign import check_file
from engine.campaign.model import Campaign
from engine.dossiers.models import Dossier
from engine.dossiers.recompute import (
    NothingFrozenError,
    RecomputePreview,
    UnknownCampaignVersionError,
    apply_recompute,
    recompute_preview,
)
from engine.dossiers.services import StaleDossierError
from engine.dossiers.states import Actor
from engine.dossiers.versions import CampaignCache, latest_version, register_version

from .database import command_session


def preview_lines(preview: RecomputePreview) -> list[str]:
    """The preview in words, one line per fee, membership, document and computed value."""
    def amount(value: object) -> str:
        return "—" if value is None else str(value)

    lines = []
    for title, changes in (("Frais", preview.fees), ("Adhésions", preview.memberships),
                           ("Valeurs calculées", preview.computed)):
        for c in changes:
            mark = " (modifié)" if c.changed else ""
            lines.append(f"{title} « {c.label} » : {amount(c.before)} → {amount(c.after)}{mark}")
    for c in preview.documents:
        if c.before is None or c.after is None:
            what = "demandée désormais" if c.before is None else "plus demandée"
            lines.append(f"Pièce « {c.label} » : {what}")
    lines.append(f"Total : {amount(preview.total.before)} → {amount(preview.total.after)}")
    lines.append("Des montants changent." if preview.changed else "Aucun changement.")
    return lines


def register(main: click.Group) -> None:
    @main.command("recompute")
    @click.argument("public_id")
    @click.option("--campaign", "campaign_file", type=click.Path(dir_okay=False, path_type=Path),
                  help="Campaign file holding the new rules (default: the latest stored "
                       "version of the dossier's campaign).")
    @click.option("--apply", "apply", is_flag=True, help="Store the new figures.")
    @click.option("--staff-id", type=int, help="Staff account recorded on the event.")
    def recompute_command(public_id: str, campaign_file: Path | None, apply: bool,
                          staff_id: int | None) -> None:
        """Show (and with --apply store) a submitted dossier's fees under new rules."""
        with command_session() as (settings, session):
            dossier = session.scalar(select(Dossier).where(Dossier.public_id == public_id))
            if dossier is None:
                raise click.ClickException(f"Aucun dossier {public_id}.")
            current = dossier.campaign_version
            source: str | None = None
            campaign: Campaign
            if campaign_file is not None:
                found, problems = check_file(campaign_file)
                if found is None:
                    raise click.ClickException("\n".join(
                        f"{d.location.file}:{d.location.line}:{d.location.column}: "
                        f"{d.code.name} {d.message}" for d in problems if d.is_error))
                campaign, source = found, campaign_file.read_text(encoding="utf-8")
            else:
                latest = latest_version(session, current.slug)
                campaign = CampaignCache(settings.campaigns_dir).campaign_of(latest or current)
            try:
                preview = recompute_preview(session, dossier, campaign)
            except NothingFrozenError:
                raise click.ClickException(
                    "Ce dossier n'est pas envoyé : ses frais sont toujours ceux des règles "
                    "actuelles.") from None
            for line in preview_lines(preview):
                click.echo(line)
            if not apply:
                return
            if source is not None:
                register_version(session, current.establishment, slug=current.slug,
                                 title=current.title, source=source)
                session.commit()
            actor = Actor.staff(staff_id) if staff_id is not None else Actor.system()
            try:
                apply_recompute(session, dossier, preview.dossier_version, preview, actor)
            except (StaleDossierError, UnknownCampaignVersionError) as exc:
                raise click.ClickException(f"Rien n'est enregistré : {exc}") from None
            click.echo("Nouveaux montants enregistrés.")

