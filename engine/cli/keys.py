"""``dossiersco keys``: the master keys of the health data (docs/configuration.md#health-data-keys).

``generate`` prints a new key; ``status`` says which keys the stored health data needs;
``rotate`` rewraps every dossier's health data under the first key of ``DOSSIERSCO_DATA_KEY``,
the older keys (listed after it) still opening what they sealed until then.
"""

from __future__ import annotations

from collections import Counter

import click
from sqlalchemy import func, select

from engine.config import new_data_key
from engine.dossiers import sealed
from engine.dossiers.models import Dossier

from .database import command_session


@click.group("keys")
def keys_group() -> None:
    """Master keys of the health data: generate, status, rotate."""


@keys_group.command("generate")
def generate_command() -> None:
    """Print a new data key, for DOSSIERSCO_DATA_KEY."""
    click.echo(new_data_key())


def _ring(keys: tuple[bytes, ...]) -> sealed.KeyRing:
    try:
        return sealed.KeyRing(keys)
    except sealed.SealedDataError as exc:
        raise click.ClickException(str(exc)) from None


@keys_group.command("status")
def status_command() -> None:
    """Which master key sealed how many dossiers, and whether the configuration holds it."""
    with command_session() as (settings, session):
        ring = _ring(settings.master_keys())
        start = len(sealed.PREFIX) + 2
        used = Counter(session.scalars(
            select(func.substr(Dossier.sealed_answers, start, sealed.KEY_ID_LENGTH))
            .where(Dossier.sealed_answers.is_not(None))))
    click.echo(f"Clé courante : {ring.current}")
    for kid in ring.key_ids[1:]:
        click.echo(f"Ancienne clé : {kid}")
    for kid, count in sorted(used.items()):
        state = "courante" if kid == ring.current else \
            "ancienne" if kid in ring.key_ids else "ABSENTE de DOSSIERSCO_DATA_KEY"
        click.echo(f"{count} dossier(s) chiffré(s) avec {kid} ({state})")
    if not used:
        click.echo("Aucune donnée de santé enregistrée.")


@keys_group.command("rotate")
def rotate_command() -> None:
    """Re-encrypt the data keys of every dossier's health data with the current key (the
    first of DOSSIERSCO_DATA_KEY); then the old keys can be removed."""
    with command_session() as (settings, session):
        ring = _ring(settings.master_keys())
        try:
            done = sealed.rotate(session, ring)
        except sealed.SealedDataError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{done} dossier(s) rechiffré(s) avec la clé {ring.current}. Les anciennes clés "
               "peuvent être retirées de DOSSIERSCO_DATA_KEY.")


def register(main: click.Group) -> None:
    """Add ``keys`` to the ``dossiersco`` command."""
    main.add_command(keys_group)
