"""Staff accounts: invitation and reset links, passwords, the second factor, login and lockout.

Every staff account has a password (argon2id, CNIL length rules) and a TOTP second factor
with single-use recovery codes; the school's pages open only after both. Failures are counted
in the database, so the lockout holds across app processes, and the messages never tell an
unknown e-mail from a wrong password or a locked account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

import pyotp
from argon2 import PasswordHasher
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.diagnostics import CodedError
from engine.security import burn_verification

from .models import Establishment, StaffAccount, StaffMembership, StaffRole, StaffToken

#: CNIL (délibération 2022-100): 12 characters of the four kinds, or 14 of three kinds
MIN_LENGTH_FOUR_KINDS: Final = 12
MIN_LENGTH_THREE_KINDS: Final = 14
MAX_PASSWORD_LENGTH: Final = 128
RECOVERY_CODES: Final = 10
#: the TOTP of RFC 6238 (30 s steps, 6 digits); one step of drift either way is accepted
TOTP_WINDOW: Final = 1
TOTP_ISSUER: Final = "DossierSCO"


class StaffError(CodedError):
    """A staff account operation refused."""


class TokenPurpose(StrEnum):
    INVITATION = "invitation"
    RESET = "reset"


class StaffLoginOutcome(StrEnum):
    OK = "ok"
    #: unknown e-mail, wrong password, disabled or locked account: one answer for all
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StaffLoginResult:
    outcome: StaffLoginOutcome
    account: StaffAccount | None = None
    #: the failure locked the account (for the security log, never for the page)
    locked: bool = False


def normalize_email(email: str) -> str:
    """The address as stored: checked syntax, lower-case domain and local part."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise StaffError("STAFF_001", "Adresse électronique invalide.") from exc


def password_problems(password: str) -> list[str]:
    """Why ``password`` is refused (French), empty when it is accepted."""
    kinds = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                 any(c.isdigit() for c in password),
                 any(not c.isalnum() for c in password)))
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"Le mot de passe dépasse {MAX_PASSWORD_LENGTH} caractères."]
    if len(password) >= MIN_LENGTH_THREE_KINDS and kinds >= 3:
        return []
    if len(password) >= MIN_LENGTH_FOUR_KINDS and kinds == 4:
        return []
    return [f"Choisissez au moins {MIN_LENGTH_FOUR_KINDS} caractères mêlant minuscules, "
            f"majuscules, chiffres et caractères spéciaux, ou au moins "
            f"{MIN_LENGTH_THREE_KINDS} caractères de trois de ces sortes."]


def create_staff(session: Session, *, email: str, display_name: str,
                 is_admin: bool = False) -> StaffAccount:
    """A staff account without password nor second factor (not committed): it is usable once
    its invitation link has been followed."""
    address = normalize_email(email)
    if session.scalar(select(StaffAccount.id).where(StaffAccount.email == address)):
        raise StaffError("STAFF_002", "Un compte existe déjà pour cette adresse.")
    account = StaffAccount(email=address, display_name=display_name.strip()[:200] or address,
                           is_admin=is_admin, recovery_codes=[], failed_attempts=0,
                           session_epoch=0)
    session.add(account)
    return account


def grant_role(session: Session, account: StaffAccount, establishment: Establishment,
               role: StaffRole) -> StaffMembership:
    """Give ``account`` ``role`` in ``establishment`` (replacing its role there; not
    committed)."""
    for membership in account.memberships:
        if membership.establishment_id == establishment.id:
            membership.role = role
            return membership
    # back_populates puts it in account.memberships too
    membership = StaffMembership(staff=account, establishment=establishment, role=role)
    session.add(membership)
    return membership


def revoke_role(account: StaffAccount, establishment_id: int) -> None:
    account.memberships[:] = [m for m in account.memberships
                              if m.establishment_id != establishment_id]


def _token_hash(token: str) -> str:
    # a 256-bit random token needs no slow hash
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, account: StaffAccount, purpose: TokenPurpose, *,
                ttl: timedelta, now: datetime | None = None) -> str:
    """A single-use link token (not committed); earlier unused tokens of the same purpose
    stop working, so only the last link sent is valid."""
    now = now or utcnow()
    session.execute(update(StaffToken).where(
        StaffToken.staff_id == account.id, StaffToken.purpose == purpose.value,
        StaffToken.used_at.is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    session.add(StaffToken(staff=account, purpose=purpose.value, token_hash=_token_hash(token),
                           created_at=now, expires_at=now + ttl))
    return token


def find_token(session: Session, token: str, purpose: TokenPurpose, *,
               now: datetime | None = None) -> StaffToken | None:
    """The unused, unexpired token, else None (nothing changed)."""
    return session.scalar(select(StaffToken).where(
        StaffToken.token_hash == _token_hash(token), StaffToken.purpose == purpose.value,
        StaffToken.used_at.is_(None), StaffToken.expires_at > (now or utcnow())))


def set_password_with_token(session: Session, hasher: PasswordHasher, token: str,
                            purpose: TokenPurpose, password: str, *,
                            now: datetime | None = None) -> StaffAccount:
    """Use the link ``token`` to set a password (committed): one conditional UPDATE claims the
    token, so of two concurrent uses only one succeeds. Every open session ends."""
    problems = password_problems(password)
    if problems:
        raise StaffError("STAFF_003", problems[0])
    now = now or utcnow()
    staff_id = session.scalar(
        update(StaffToken)
        .where(StaffToken.token_hash == _token_hash(token), StaffToken.purpose == purpose.value,
               StaffToken.used_at.is_(None), StaffToken.expires_at > now)
        .values(used_at=now).returning(StaffToken.staff_id))
    if staff_id is None:
        session.rollback()
        raise StaffError("STAFF_004", "Ce lien n'est plus valable : demandez-en un nouveau.")
    account = session.get_one(StaffAccount, staff_id)
    _set_password(hasher, account, password)
    session.commit()
    return account


def _set_password(hasher: PasswordHasher, account: StaffAccount, password: str) -> None:
    account.password_hash = hasher.hash(password)
    account.failed_attempts = 0
    account.locked_until = None
    account.session_epoch += 1


def ensure_demo_agent(session: Session, hasher: PasswordHasher, establishment: Establishment,
                      *, email: str, display_name: str, role: StaffRole,
                      password: str) -> StaffAccount:
    """An agent of the demo with a known password (not committed): for ``dossiersco demo``
    only, which prints it; the second factor is enrolled at the first login as for anyone."""
    problems = password_problems(password)
    if problems:
        raise StaffError("STAFF_003", problems[0])
    address = normalize_email(email)
    account = session.scalar(select(StaffAccount).where(StaffAccount.email == address)) or \
        create_staff(session, email=address, display_name=display_name)
    session.flush()
    grant_role(session, account, establishment, role)
    if account.password_hash is None or not _matches(hasher, account.password_hash, password):
        _set_password(hasher, account, password)
    return account


def _matches(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except Exception:  # argon2 raises several kinds: any of them is "no"
        return False


def authenticate_staff(session: Session, hasher: PasswordHasher, email: str, password: str, *,
                       max_failures: int, lockout: timedelta,
                       now: datetime | None = None) -> StaffLoginResult:
    """Check the first factor. Unknown addresses, disabled and locked accounts cost one argon2
    verification too, and all answer FAILED."""
    now = now or utcnow()
    try:
        address = normalize_email(email)
    except StaffError:
        burn_verification(hasher, password)
        return StaffLoginResult(StaffLoginOutcome.FAILED)
    account = session.scalar(select(StaffAccount).where(StaffAccount.email == address))
    if account is None or account.password_hash is None or account.disabled_at is not None \
            or (account.locked_until is not None and account.locked_until > now):
        burn_verification(hasher, password)
        return StaffLoginResult(StaffLoginOutcome.FAILED, account)
    try:
        hasher.verify(account.password_hash, password)
    except Exception:  # argon2 raises several kinds: every one is a failed login
        return _record_failure(session, account, max_failures, lockout, now)
    account.failed_attempts = 0
    account.locked_until = None
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    session.commit()
    return StaffLoginResult(StaffLoginOutcome.OK, account)


def _record_failure(session: Session, account: StaffAccount, max_failures: int,
                    lockout: timedelta, now: datetime) -> StaffLoginResult:
    session.execute(update(StaffAccount).where(StaffAccount.id == account.id)
                    .values(failed_attempts=StaffAccount.failed_attempts + 1))
    session.refresh(account)
    locked = account.failed_attempts >= max_failures
    if locked:
        account.failed_attempts = 0
        account.locked_until = now + lockout
    session.commit()
    return StaffLoginResult(StaffLoginOutcome.FAILED, account, locked=locked)


# -- second factor ---------------------------------------------------------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(account: StaffAccount, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account.email, issuer_name=TOTP_ISSUER)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to, within the accepted drift, else None."""
    digits = "".join(ch for ch in code if not ch.isspace())
    if len(digits) != 6 or not digits.isascii() or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in range(step - TOTP_WINDOW, step + TOTP_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), digits):
            return candidate
    return None


def enrol_totp(session: Session, account: StaffAccount, secret: str, code: str, *,
               now: datetime | None = None) -> list[str]:
    """Turn the second factor on once the first code from the app is right (committed);
    returns the recovery codes in clear, shown once."""
    step = _matching_step(secret, code, now or utcnow())
    if step is None:
        raise StaffError("STAFF_005", "Code incorrect : saisissez le code à 6 chiffres affiché "
                                      "par l'application.")
    account.totp_secret = secret
    account.totp_last_step = step
    codes = new_recovery_codes(account)
    session.commit()
    return codes


def new_recovery_codes(account: StaffAccount) -> list[str]:
    """Replace the recovery codes (not committed); returns them in clear."""
    codes = ["-".join(secrets.token_hex(3) for _ in range(3)) for _ in range(RECOVERY_CODES)]
    account.recovery_codes = [_token_hash(c) for c in codes]
    return codes


def verify_second_factor(session: Session, account: StaffAccount, code: str, *,
                         max_failures: int, lockout: timedelta,
                         now: datetime | None = None) -> bool:
    """A TOTP code (never the same one twice) or an unused recovery code (then spent);
    failures count towards the same lockout as passwords (committed)."""
    now = now or utcnow()
    if account.totp_secret is None or (account.locked_until is not None
                                       and account.locked_until > now):
        return False
    step = _matching_step(account.totp_secret, code, now)
    if step is not None and (account.totp_last_step is None or step > account.totp_last_step):
        account.totp_last_step = step
        account.failed_attempts = 0
        account.last_login_at = now
        session.commit()
        return True
    hashed = _token_hash(code.strip().lower())
    if step is None and hashed in account.recovery_codes:
        account.recovery_codes = [h for h in account.recovery_codes if h != hashed]
        account.failed_attempts = 0
        account.last_login_at = now
        session.commit()
        return True
    _record_failure(session, account, max_failures, lockout, now)
    return False


def end_all_sessions(session: Session, account: StaffAccount) -> None:
    """Every open session of ``account`` ends at its next request ("logout everywhere")."""
    session.execute(update(StaffAccount).where(StaffAccount.id == account.id)
                    .values(session_epoch=StaffAccount.session_epoch + 1))
    session.commit()
    session.refresh(account)


def load_staff(session: Session, staff_id: int, epoch: int) -> StaffAccount | None:
    """The account of a staff session, None when revoked, disabled or gone."""
    account = session.get(StaffAccount, staff_id)
    if account is None or account.session_epoch != epoch or account.disabled_at is not None:
        return None
    return account
