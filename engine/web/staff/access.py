"""Who the staff member of this request is, and what they may do where.

Every staff route goes through :func:`staff_required` (a full login: password and second
factor, session not revoked nor too old) and, for an establishment's pages,
:func:`establishment_for` with the permission it needs. An establishment where the agent has
no role answers 404 like one that does not exist; a missing permission answers 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Final, TypeVar, cast

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import select

from engine.db import utcnow
from engine.dossiers.models import Establishment, StaffAccount
from engine.dossiers.permissions import Permission, can, permissions_in
from engine.dossiers.staff import load_staff
from engine.dossiers.states import Actor
from engine.web.database import get_session

#: session key of a logged-in agent: {"id", "epoch", "since"}
SESSION_KEY: Final = "staff"
#: session key between the password and the second factor
PENDING_KEY: Final = "staff_pending"
#: a staff session ends this long after login, active or not
ABSOLUTE_LIFETIME: Final = timedelta(hours=10)
#: the password step must be followed by the second factor within
PENDING_LIFETIME: Final = timedelta(minutes=5)

F = TypeVar("F", bound=Callable[..., Any])


def _fresh(since: object, lifetime: timedelta) -> bool:
    if not isinstance(since, int | float):
        return False
    return utcnow() - datetime.fromtimestamp(since, utcnow().tzinfo) < lifetime


def current_staff() -> StaffAccount | None:
    """The fully logged-in agent of this request, else None (loaded once per request)."""
    if "staff_account" in g:
        return cast(StaffAccount | None, g.staff_account)
    data = session.get(SESSION_KEY)
    account = None
    if isinstance(data, dict) and isinstance(data.get("id"), int) and \
            isinstance(data.get("epoch"), int) and _fresh(data.get("since"), ABSOLUTE_LIFETIME):
        account = load_staff(get_session(), data["id"], data["epoch"])
        if account is not None and account.totp_secret is None:
            account = None
    if account is None and data is not None:
        session.pop(SESSION_KEY, None)
    g.staff_account = account
    return account


def pending_staff() -> StaffAccount | None:
    """The agent who gave the right password and still has to give the second factor."""
    data = session.get(PENDING_KEY)
    if not (isinstance(data, dict) and isinstance(data.get("id"), int)
            and isinstance(data.get("epoch"), int)
            and _fresh(data.get("since"), PENDING_LIFETIME)):
        return None
    return load_staff(get_session(), data["id"], data["epoch"])


def start_session(account: StaffAccount, *, pending: bool) -> None:
    """Record the login step in a fresh session (nothing set before it survives)."""
    session.clear()
    session[PENDING_KEY if pending else SESSION_KEY] = {
        "id": account.id, "epoch": account.session_epoch, "since": utcnow().timestamp()}
    session.permanent = True


def staff_actor() -> Actor:
    account = current_staff()
    assert account is not None
    return Actor.staff(account.id)


def staff_required(view: F) -> F:
    """Only for a fully logged-in agent; others go to the staff login page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_staff() is None:
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def establishment_for(uai: str, permission: Permission) -> Establishment:
    """The establishment ``uai`` if the agent holds ``permission`` there (404 without any role
    there, 403 with a role lacking the permission)."""
    account = current_staff()
    if account is None:
        abort(404)
    establishment = get_session().scalar(select(Establishment).where(Establishment.uai == uai))
    if establishment is None or not permissions_in(account, establishment.id):
        abort(404)
    if not can(account, permission, establishment.id):
        abort(403)
    return establishment


def establishments_of(account: StaffAccount) -> list[Establishment]:
    """Where the agent may work: their memberships, or every establishment for an admin."""
    db = get_session()
    if account.is_admin:
        return list(db.scalars(select(Establishment).order_by(Establishment.name)))
    ids = [m.establishment_id for m in account.memberships]
    return list(db.scalars(select(Establishment).where(Establishment.id.in_(ids))
                           .order_by(Establishment.name)))
