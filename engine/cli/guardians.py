"""``dossiersco guardian confidential``: mark a guardian's contact confidential (or no longer),
until the staff pages offer it (docs/confidential.md)."""

from __future__ import annotations

import click
from sqlalchemy import select

from engine.dossiers.accounts import set_confidential_contact
from engine.dossiers.models import FamilyAccount
from engine.dossiers.states import Actor
from engine.security import normalize_credential

from .database import command_session


def register(main: click.Group) -> None:
    main.add_command(guardian_group)


@click.group("guardian")
def guardian_group() -> None:
    """Family accounts (legal guardians)."""


@guardian_group.command("confidential")
@click.argument("login")
@click.option("--pupil", "eleve_id", help="Only for this pupil (its ELEVE_ID); default: all of "
              "the guardian's pupils.")
@click.option("--off", is_flag=True, help="Show the guardian's contact to the other guardians "
              "again.")
def confidential_command(login: str, eleve_id: str | None, off: bool) -> None:
    """Keep the contact details, files and reports of the guardian LOGIN from the other
    guardians of their pupils (difficult family situations)."""
    with command_session() as (_settings, session):
        account = session.scalar(select(FamilyAccount).where(
            FamilyAccount.login == normalize_credential(login)[:16]))
        if account is None:
            raise click.ClickException(f"Aucun compte famille {login!r}.")
        try:
            changed = set_confidential_contact(session, Actor.system(), account, not off,
                                               eleve_id=eleve_id)
        except LookupError:
            raise click.ClickException(
                f"{account.display_name} n'est pas responsable légal de l'élève {eleve_id!r}."
            ) from None
        state = "ne sont plus confidentielles" if off else "sont confidentielles"
        names = [f"{g.pupil.first_name} {g.pupil.last_name}" for g in changed]
        if not names:
            click.echo(f"Rien à changer : les coordonnées de {account.display_name} {state} "
                       "déjà.")
            return
        click.echo(f"Les coordonnées de {account.display_name} {state} pour : "
                   + ", ".join(names) + ".")
