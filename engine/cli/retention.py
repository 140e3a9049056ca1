"""``dossiersco purge``: delete the personal data of the campaigns whose retention is over
(the function the queue's daily job runs), or with ``--dry-run`` say what would go."""

from __future__ import annotations

from datetime import date

import click

from engine.dossiers.versions import CampaignCache
from engine.fields.common import format_date
from engine.jobs.retention import purge_personal_data
from engine.storage import storage_from_settings

from .database import command_session

#: French words of the counts, in the order printed
LABELS = {"dossiers": "dossiers", "documents": "documents", "pupils": "élèves",
          "accounts": "comptes familles", "profiles": "coordonnées de responsables",
          "messages": "messages envoyés", "jobs": "tâches"}


def register(main: click.Group) -> None:
    @main.command("purge")
    @click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
    def purge_command(dry_run: bool) -> None:
        """Delete the dossiers, documents and family accounts of the campaigns closed for
        longer than their retention_days (the audit trail stays)."""
        with command_session() as (settings, session):
            today = settings.today or date.today()
            purged = purge_personal_data(session, storage_from_settings(settings),
                                         CampaignCache(settings.campaigns_dir), today,
                                         dry_run=dry_run)
        verb = "à supprimer" if dry_run else "supprimé(s)"
        for item in purged:
            plan = item.campaign
            counts = ", ".join(f"{n} {LABELS[k]}" for k, n in item.counts().items())
            click.echo(f"{plan.uai} {plan.slug} (conservation jusqu'au "
                       f"{format_date(plan.purge_on)}) : {counts} {verb}.")
        if not purged:
            click.echo("Aucune campagne dont la durée de conservation est écoulée.")
        elif dry_run:
            click.echo("Simulation : rien n'a été supprimé.")

