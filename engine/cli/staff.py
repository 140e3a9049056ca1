"""``dossiersco staff`` (create the first agents, reset a password) and ``dossiersco audit
verify`` (check the audit trail's hash chain)."""

from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy import select

from engine.config import Settings
from engine.db import utcnow
from engine.dossiers import audit
from engine.dossiers.agents import LINK_TTL, create_first, reset_link
from engine.dossiers.invitations import send_staff_link, staff_link_url
from engine.dossiers.models import Establishment, StaffAccount, StaffRole
from engine.dossiers.staff import StaffError, TokenPurpose, normalize_email
from engine.dossiers.states import Actor
from engine.mail import MailError

from .database import command_session

_HOURS = int(LINK_TTL.total_seconds() // 3600)
SEND_HELP = "E-mail the link to the agent through the configured mail transport."


def register(main: click.Group) -> None:
    main.add_command(staff_group)
    main.add_command(audit_group)


@click.group("staff")
def staff_group() -> None:
    """Staff accounts of the establishments."""


def _deliver(settings: Settings, account: StaffAccount, purpose: TokenPurpose, token: str, *,
             send: bool, expires: datetime, school: str | None = None) -> None:
    """Print the link, or e-mail it (printing it anyway when the relay refuses)."""
    link = staff_link_url(settings.base_url, purpose.value, token)
    if not send:
        click.echo(f"Lien à usage unique, valable {_HOURS} heures :")
        click.echo(link)
        return
    try:
        send_staff_link(settings, account.email, account.display_name, purpose.value, token,
                        expires=expires, school=school)
    except MailError as exc:
        click.echo(link)
        raise click.ClickException(f"Courriel non envoyé ({exc}) : transmettez le lien "
                                   "ci-dessus à l'agent.") from None
    click.echo(f"Lien envoyé par courriel à {account.email}.")


@staff_group.command("create")
@click.argument("email")
@click.option("--establishment", "uai", metavar="UAI",
              help="The establishment the role is in (required unless --admin).")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]),
              help="Role in the establishment.")
@click.option("--name", "display_name", default="", help="Name shown in the history.")
@click.option("--admin", is_flag=True, help="Deployment administrator (every establishment).")
@click.option("--send", is_flag=True, help=SEND_HELP)
def create_command(email: str, uai: str | None, role: str | None, display_name: str,
                   admin: bool, send: bool) -> None:
    """Create an agent and give them the single-use link to choose a password (72 hours)."""
    if not admin and not (uai and role):
        raise click.UsageError("--establishment and --role are required (or --admin)")
    if bool(uai) != bool(role):
        raise click.UsageError("--establishment and --role go together")
    with command_session() as (settings, session):
        establishment = None
        if uai:
            establishment = session.scalar(select(Establishment).where(
                Establishment.uai == uai.strip().upper()))
            if establishment is None:
                raise click.ClickException(
                    f"Établissement {uai} inconnu : importez d'abord ses élèves "
                    "(dossiersco import), qui le crée.")
        try:
            created = create_first(session, email=email, display_name=display_name or email,
                                   is_admin=admin, establishment=establishment,
                                   role=StaffRole(role) if role else None)
        except StaffError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
        assert created.token is not None
        click.echo(f"Compte créé pour {created.account.email}.")
        _deliver(settings, created.account, TokenPurpose.INVITATION, created.token, send=send,
                 expires=utcnow() + LINK_TTL,
                 school=establishment.name if establishment is not None else None)


@staff_group.command("reset")
@click.argument("email")
@click.option("--send", is_flag=True, help=SEND_HELP)
def reset_command(email: str, send: bool) -> None:
    """Give an agent a single-use link to choose a new password (72 hours)."""
    with command_session() as (settings, session):
        try:
            address = normalize_email(email)
        except StaffError as exc:
            raise click.ClickException(exc.message) from None
        account = session.scalar(select(StaffAccount).where(StaffAccount.email == address))
        if account is None:
            raise click.ClickException(f"Aucun compte pour {email}.")
        token = reset_link(session, Actor.system(), account, None)
        session.commit()
        _deliver(settings, account, TokenPurpose.RESET, token, send=send,
                 expires=utcnow() + LINK_TTL)


@click.group("audit")
def audit_group() -> None:
    """The audit trail of staff actions."""


@audit_group.command("verify")
def verify_command() -> None:
    """Check that no entry of the audit trail was changed or removed (exit 1 if one was)."""
    with command_session() as (_settings, session):
        checked, broken = audit.verify_chain(session)
    plural = "s" if checked > 1 else ""
    if broken is not None:
        raise click.ClickException(
            f"Journal d'audit altéré à l'entrée {broken.seq} : {broken.reason} ({checked} "
            f"entrée{plural} correcte{plural} avant elle).")
    click.echo(f"Journal d'audit intact : {checked} entrée{plural} vérifiée{plural}.")
