"""``dossiersco worker``: run the background jobs in a process of their own.

``dossiersco serve`` runs a consumer in its own process too (``--jobs``); a separate worker
is for installs where the jobs share a Redis queue (``DOSSIERSCO_QUEUE_URL``) between several
web servers, or should not slow the one serving pages. See docs/jobs.md.
"""

from __future__ import annotations

import click

from engine.config import ConfigError, Settings
from engine.jobs import JobQueue

from .logs import configure_logging


@click.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Threads running jobs at once.")
def worker_command(workers: int) -> None:
    """Run queued jobs until Ctrl+C (the running jobs finish first)."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if settings.queue_immediate:
        raise click.ClickException("DOSSIERSCO_QUEUE_IMMEDIATE est activé : les tâches sont "
                                   "exécutées sur place, sans travailleur.")
    configure_logging(settings)
    queue = JobQueue.from_settings(settings)
    if interrupted := queue.recover():
        click.echo(f"{interrupted} tâche(s) interrompue(s) par l'arrêt d'un travailleur : "
                   "marquée(s) en échec, à relancer.")
    where = "Redis" if settings.queue_url else f"{settings.instance_dir / 'queue.sqlite3'}"
    click.echo(f"Travailleur DossierSCO : {workers} thread(s), file d'attente {where} ; "
               "Ctrl+C pour arrêter.")
    try:
        queue.consumer(workers).run()
    finally:
        queue.database.dispose()
    click.echo("Travailleur arrêté.")


def register(main: click.Group) -> None:
    """Add ``worker`` to the ``dossiersco`` command."""
    main.add_command(worker_command)
