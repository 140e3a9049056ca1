"""Family accounts: creation with a one-time secret code, and login with per-account lockout.

The failure counter lives in the database, so the lockout holds across app processes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.security import (
    Hasher,
    burn_code_verification,
    generate_login,
    generate_secret_code,
    hash_secret,
    needs_new_hash,
    normalize_credential,
    verify_secret,
)

from . import audit
from .models import FamilyAccount, Guardianship, Invitation, Pupil
from .states import Actor


class LoginOutcome(StrEnum):
    OK = "ok"
    #: unknown login or wrong code: the two are never told apart
    FAILED = "failed"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What :func:`authenticate` found; the web layer shows the same message for every
    failure, and only the security log sees ``account_id`` and ``locked_now``."""

    outcome: LoginOutcome
    account: FamilyAccount | None = None
    locked_until: datetime | None = None
    #: the account the login names, when it exists (also on failure)
    account_id: int | None = None
    #: this failure is the one that locked the account
    locked_now: bool = False


@dataclass(slots=True)
class Credential:
    """A code in clear for one guardian: exists only in the report of the import that made it."""

    login: str
    code: str
    display_name: str
    email: str | None
    personne_id: str | None
    #: "Prénom NOM" of the guardian's pupils in this import
    pupils: list[str] = field(default_factory=list)
    #: single-use login token, when an invitation is to be e-mailed, and its end of validity
    invitation_token: str | None = None
    invitation_expires_at: datetime | None = None


def new_family_account(session: Session, hasher: Hasher, *, display_name: str,
                       email: str | None = None, personne_id: str | None = None,
                       taken: set[str] | None = None,
                       hashed: bool = True) -> tuple[FamilyAccount, str]:
    """Add an account without flushing nor committing; returns it with its secret code in
    clear, to print on the letter (stored hashed only; ``hashed=False`` for an account that
    will be rolled back, a dry run's, stores no hash at all).

    With ``taken`` (an import adding thousands in one transaction), the login is only checked
    against and added to that set: the caller checks the batch against the database with
    :func:`reissue_taken_logins` before flushing.
    """
    code = generate_secret_code()
    login = generate_login()
    if taken is None:
        while session.scalar(select(FamilyAccount.id).where(FamilyAccount.login == login)):
            login = generate_login()
    else:
        while login in taken:
            login = generate_login()
        taken.add(login)
    account = FamilyAccount(login=login, code_hash=hash_secret(hasher, code) if hashed else "",
                            display_name=display_name, email=email, personne_id=personne_id,
                            failed_attempts=0, session_epoch=0)
    session.add(account)
    return account, code


def reissue_taken_logins(session: Session, accounts: Iterable[FamilyAccount],
                         taken: set[str]) -> None:
    """Give a new login to any of the unflushed ``accounts`` whose login already exists in
    the database (one query per 500 accounts; ``taken`` as for :func:`new_family_account`)."""
    pending = {a.login: a for a in accounts}
    while pending:
        logins = list(pending)
        clashes: set[str] = set()
        with session.no_autoflush:  # the pending accounts must not find themselves
            for start in range(0, len(logins), 500):
                clashes |= set(session.scalars(select(FamilyAccount.login).where(
                    FamilyAccount.login.in_(logins[start:start + 500]))))
        renamed = {}
        for login in clashes:
            account = pending[login]
            while account.login in taken:
                account.login = generate_login()
            taken.add(account.login)
            renamed[account.login] = account
        pending = renamed


def create_family_account(session: Session, hasher: Hasher, *, display_name: str,
                          email: str | None = None, personne_id: str | None = None,
                          ) -> tuple[FamilyAccount, str]:
    """:func:`new_family_account`, committed."""
    account, code = new_family_account(session, hasher, display_name=display_name, email=email,
                                       personne_id=personne_id)
    session.commit()
    return account, code


def reset_code(session: Session, hasher: Hasher, account: FamilyAccount, *,
               hashed: bool = True) -> str:
    """A new secret code for ``account`` (not committed): the old one, its pending invitation
    links and every open session stop working. Returns the code in clear, for a new letter."""
    session.execute(delete(Invitation).where(Invitation.account_id == account.id,
                                             Invitation.used_at.is_(None)))
    code = generate_secret_code()
    account.code_hash = hash_secret(hasher, code) if hashed else ""
    account.failed_attempts = 0
    account.locked_until = None
    account.session_epoch = account.session_epoch + 1
    return code


def link_guardian(session: Session, account: FamilyAccount, pupil: Pupil, *, guardian_key: str,
                  confidential_contact: bool = False) -> Guardianship:
    """Make ``account`` a guardian of ``pupil``: it then sees the pupil's dossiers."""
    link = Guardianship(account=account, pupil=pupil, guardian_key=guardian_key,
                        confidential_contact=confidential_contact)
    session.add(link)
    session.commit()
    return link


def set_confidential_contact(session: Session, actor: Actor, account: FamilyAccount,
                             confidential: bool, *, eleve_id: str | None = None,
                             ) -> list[Guardianship]:
    """Mark (or unmark) ``account``'s contact confidential for its pupils (only the pupil
    ``eleve_id`` when given): the other guardians of those pupils no longer see their contact
    details, the files they send nor what they report. Returns the links changed, audited in
    the same transaction.

    :raises LookupError: ``eleve_id`` names no pupil of this guardian.
    """
    links = [g for g in account.guardianships if eleve_id is None or g.pupil.eleve_id == eleve_id]
    if not links:
        raise LookupError(f"no pupil {eleve_id!r} for this guardian")
    changed = [g for g in links if g.confidential_contact != confidential]
    for link in changed:
        link.confidential_contact = confidential
        audit.record(session, actor, "confidential_contact",
                     establishment_id=link.pupil.establishment_id,
                     data={"account": account.id, "pupil": link.pupil_id, "on": confidential})
    session.commit()
    return changed


def issue_invitation(session: Session, account: FamilyAccount, *, expires_at: datetime,
                     now: datetime | None = None) -> str:
    """A single-use login token for ``account``, valid until ``expires_at`` (not committed);
    only its hash is stored. The lifetime is ``Settings.invitation_ttl``, applied by the
    caller (docs/configuration.md)."""
    token = secrets.token_urlsafe(32)
    session.add(Invitation(account=account, token_hash=_token_hash(token),
                           created_at=now or utcnow(), expires_at=expires_at))
    return token


def find_invitation(session: Session, token: str, *,
                    now: datetime | None = None) -> Invitation | None:
    """The unused, unexpired invitation of ``token``, else None (nothing is changed)."""
    now = now or utcnow()
    return session.scalar(select(Invitation).where(
        Invitation.token_hash == _token_hash(token), Invitation.used_at.is_(None),
        Invitation.expires_at > now))


def consume_invitation(session: Session, token: str, *,
                       now: datetime | None = None) -> FamilyAccount | None:
    """The account the invitation ``token`` logs in, marking it used; None when the token is
    unknown, used or expired. One conditional UPDATE claims it: of concurrent uses only one
    finds the row still unused."""
    now = now or utcnow()
    account_id = session.scalar(
        update(Invitation)
        .where(Invitation.token_hash == _token_hash(token), Invitation.used_at.is_(None),
               Invitation.expires_at > now)
        .values(used_at=now)
        .returning(Invitation.account_id))
    if account_id is None:
        return None
    account = session.get_one(FamilyAccount, account_id)
    account.last_login_at = now
    session.commit()
    return account


def _token_hash(token: str) -> str:
    # a 256-bit random token needs no slow hash: SHA-256 cannot be brute-forced back
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate(session: Session, hasher: Hasher, login: str, code: str, *,
                 max_failures: int, lockout: timedelta,
                 now: datetime | None = None) -> LoginResult:
    """Check ``login`` and ``code``; count failures and lock the account after ``max_failures``.

    While locked even the right code is refused. Unknown logins cost one code verification
    too, so timing does not reveal which logins exist.
    """
    now = now or utcnow()
    account = session.scalar(
        select(FamilyAccount).where(FamilyAccount.login == normalize_credential(login)))
    if account is None:
        burn_code_verification(hasher, code)
        return LoginResult(LoginOutcome.FAILED)
    if account.locked_until is not None and account.locked_until > now:
        burn_code_verification(hasher, code)
        return LoginResult(LoginOutcome.LOCKED, locked_until=account.locked_until,
                           account_id=account.id)
    if not verify_secret(hasher, account.code_hash, code):
        return _record_failure(session, account, max_failures, lockout, now)
    account.failed_attempts = 0
    account.locked_until = None
    account.last_login_at = now
    if needs_new_hash(hasher, account.code_hash):
        # an argon2 code of before (or an older key): stored in the keyed form from now on
        account.code_hash = hash_secret(hasher, code)
    session.commit()
    return LoginResult(LoginOutcome.OK, account, account_id=account.id)


def _record_failure(session: Session, account: FamilyAccount, max_failures: int,
                    lockout: timedelta, now: datetime) -> LoginResult:
    # increment in SQL: two processes failing at once both count
    session.execute(update(FamilyAccount).where(FamilyAccount.id == account.id)
                    .values(failed_attempts=FamilyAccount.failed_attempts + 1))
    session.refresh(account)
    if account.failed_attempts >= max_failures:
        account.failed_attempts = 0
        account.locked_until = now + lockout
        session.commit()
        return LoginResult(LoginOutcome.LOCKED, locked_until=account.locked_until,
                           account_id=account.id, locked_now=True)
    session.commit()
    return LoginResult(LoginOutcome.FAILED, account_id=account.id)


def load_account(session: Session, session_id: str) -> FamilyAccount | None:
    """The account of a Flask-Login identity ``"<id>.<epoch>"``; None when revoked or malformed."""
    account_id, _, epoch = session_id.partition(".")
    if not (account_id.isdigit() and epoch.isdigit()):
        return None
    account = session.get(FamilyAccount, int(account_id))
    if account is None or account.session_epoch != int(epoch):
        return None
    return account


def end_all_sessions(session: Session, account: FamilyAccount) -> None:
    """Invalidate every open session of ``account`` (the next request finds it logged out):
    logout, code reset. A cookie captured before stays signed but names an old epoch."""
    session.execute(update(FamilyAccount).where(FamilyAccount.id == account.id)
                    .values(session_epoch=FamilyAccount.session_epoch + 1))
    session.commit()
    session.refresh(account)
