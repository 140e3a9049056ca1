"""``dossiersco storage check [--repair]``: do storage and database agree (docs/storage.md)?

Lists the objects no row names (a process killed between writing an object and committing
its row leaves one; ``--repair`` removes those older than ``--grace``) and the rows whose
object is missing (reported, never deleted: a person must look). Exit code 0 when both agree
(after the repair), 1 otherwise.
"""

from __future__ import annotations

from datetime import timedelta

import click

from engine.config import ConfigError
from engine.jobs.storage_check import DEFAULT_GRACE, check_storage
from engine.storage import StorageUnavailableError, storage_from_settings

from .database import command_session

_KIND = {"file": "fichier", "job": "résultat de tâche"}


@click.group("storage")
def storage_group() -> None:
    """Stored documents: check that storage and database agree."""


@storage_group.command("check")
@click.option("--repair", is_flag=True,
              help="Remove the objects without rows (never a row).")
@click.option("--grace", type=click.IntRange(min=0), show_default=True,
              default=int(DEFAULT_GRACE.total_seconds() // 60),
              help="Minutes: a younger object may be an upload in flight, left alone.")
def check_command(repair: bool, grace: int) -> None:
    """Objects without rows, rows without objects."""
    with command_session() as (settings, session):
        try:
            storage = storage_from_settings(settings)
            report = check_storage(session, storage, grace=timedelta(minutes=grace),
                                   repair=repair)
        except (ConfigError, StorageUnavailableError) as exc:
            raise click.ClickException(f"Stockage inaccessible : {exc}") from None
    click.echo(f"{report.objects} objet(s) dans le stockage.")
    for key in report.orphans:
        state = "supprimé" if key in report.removed else "à supprimer (--repair)"
        click.echo(f"Objet sans ligne : {key} ({state})")
    if report.recent:
        click.echo(f"{report.recent} objet(s) sans ligne de moins de {grace} min laissé(s) "
                   "(envoi peut-être en cours).")
    if report.leftovers:
        state = "supprimée(s)" if report.repaired else "à supprimer (--repair)"
        click.echo(f"{report.leftovers} écriture(s) inachevée(s) ({state}).")
    for kind, public_id in report.missing:
        click.echo(f"Objet manquant : {_KIND[kind]} {public_id} (ligne conservée, à vérifier)")
    if not report.clean:
        raise SystemExit(1)
    click.echo("Stockage et base de données concordent.")


def register(main: click.Group) -> None:
    """Add ``storage`` to the ``dossiersco`` command."""
    main.add_command(storage_group)
