"""Managing the agents of an establishment: invite, change a role, remove, reset links, reset
the second factor, unlock. Used by the staff management pages and ``dossiersco staff``.

Every function adds its audit entry to the caller's transaction and commits nothing, so an
action is never stored without its entry. Who may call them (``MANAGE_STAFF``, the deployment
administrator flag) is the caller's check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from . import audit
from .models import Establishment, StaffAccount, StaffMembership, StaffRole
from .staff import StaffError, TokenPurpose, create_staff, grant_role, issue_token, normalize_email
from .states import Actor

#: how long an invitation or reset link stays valid
LINK_TTL: Final = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class Invitation:
    account: StaffAccount
    #: the link token to send, None when the account existed (it just got the role)
    token: str | None


def agents_of(session: Session, establishment_id: int) -> list[StaffMembership]:
    """The memberships of the establishment with their accounts, by name."""
    return list(session.scalars(
        select(StaffMembership).join(StaffAccount, StaffAccount.id == StaffMembership.staff_id)
        .where(StaffMembership.establishment_id == establishment_id)
        .options(selectinload(StaffMembership.staff))
        .order_by(StaffAccount.display_name, StaffAccount.email)))


def membership(session: Session, establishment_id: int, staff_id: int) -> StaffMembership | None:
    return session.scalar(select(StaffMembership).where(
        StaffMembership.establishment_id == establishment_id,
        StaffMembership.staff_id == staff_id))


def _audit(session: Session, actor: Actor, action: str, establishment_id: int | None,
           account: StaffAccount, **data: str) -> None:
    audit.record(session, actor, action, establishment_id=establishment_id,
                 data={"staff": account.id, **data})


def invite(session: Session, actor: Actor, establishment: Establishment, *, email: str,
           display_name: str, role: StaffRole) -> Invitation:
    """Give ``role`` to the agent ``email``, creating the account (and its invitation link)
    when there is none; an agent already in the establishment is refused."""
    address = normalize_email(email)
    account = session.scalar(select(StaffAccount).where(StaffAccount.email == address))
    token = None
    if account is None:
        account = create_staff(session, email=address, display_name=display_name)
        session.flush()
        token = issue_token(session, account, TokenPurpose.INVITATION, ttl=LINK_TTL)
    elif membership(session, establishment.id, account.id) is not None:
        raise StaffError("STAFF_010", "Cette personne a déjà un rôle dans l'établissement : "
                                      "changez-le dans la liste des agents.")
    grant_role(session, account, establishment, role)
    _audit(session, actor, "staff_invited" if token else "staff_role_granted", establishment.id,
           account, role=role.value)
    return Invitation(account, token)


def change_role(session: Session, actor: Actor, member: StaffMembership, role: StaffRole) -> None:
    previous = member.role
    member.role = role
    _audit(session, actor, "staff_role_changed", member.establishment_id, member.staff,
           role=role.value, previous=previous.value)


def remove(session: Session, actor: Actor, member: StaffMembership) -> None:
    """The agent loses their role in the establishment (the account stays, with its other
    roles)."""
    account = member.staff
    _audit(session, actor, "staff_removed", member.establishment_id, account,
           role=member.role.value)
    account.memberships.remove(member)


def reset_link(session: Session, actor: Actor, account: StaffAccount,
               establishment_id: int | None) -> str:
    """A new reset link token (earlier ones stop working)."""
    token = issue_token(session, account, TokenPurpose.RESET, ttl=LINK_TTL)
    _audit(session, actor, "staff_reset_sent", establishment_id, account)
    return token


def reset_second_factor(session: Session, actor: Actor, account: StaffAccount,
                        establishment_id: int | None) -> None:
    """Forget the agent's TOTP secret and recovery codes (a lost phone): their open sessions
    end and they enrol again after their next password."""
    account.totp_secret = None
    account.totp_last_step = None
    account.recovery_codes = []
    account.session_epoch += 1
    _audit(session, actor, "staff_second_factor_reset", establishment_id, account)


def unlock(session: Session, actor: Actor, account: StaffAccount,
           establishment_id: int | None) -> None:
    account.locked_until = None
    account.failed_attempts = 0
    _audit(session, actor, "staff_unlocked", establishment_id, account)


def create_first(session: Session, *, email: str, display_name: str, is_admin: bool,
                 establishment: Establishment | None, role: StaffRole | None) -> Invitation:
    """A new account made from the command line (``dossiersco staff create``), with its
    invitation link; an existing address is refused."""
    account = create_staff(session, email=email, display_name=display_name, is_admin=is_admin)
    session.flush()
    if establishment is not None and role is not None:
        grant_role(session, account, establishment, role)
    token = issue_token(session, account, TokenPurpose.INVITATION, ttl=LINK_TTL)
    _audit(session, Actor.system(), "staff_created",
           establishment.id if establishment is not None else None, account,
           **({"role": role.value} if role is not None else {}),
           **({"admin": "oui"} if is_admin else {}))
    return Invitation(account, token)

