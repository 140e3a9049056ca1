"""Secrets: argon2id hashing of family secret codes, random logins, codes and public tokens;
the security event log (docs/security-log.md)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime
from functools import cache
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.config import Settings

#: no 0/O, 1/I/L: logins and codes are read from a letter and typed on a phone
ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LOGIN_LENGTH: Final = 10
#: 12 characters of 31 symbols: about 59 bits, above the 50 bits asked for activation codes
CODE_LENGTH: Final = 12


def make_hasher(settings: Settings) -> PasswordHasher:
    """An argon2id hasher with the cost parameters of ``settings``."""
    return PasswordHasher(time_cost=settings.argon2_time_cost,
                          memory_cost=settings.argon2_memory_cost,
                          parallelism=settings.argon2_parallelism)


def normalize_credential(text: str) -> str:
    """What the family typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def generate_login() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LOGIN_LENGTH))


def generate_secret_code() -> str:
    """A code in groups of four (``ABCD-EFGH-JKMN``); dashes are ignored when typed back."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def hash_secret(hasher: PasswordHasher, secret: str) -> str:
    return hasher.hash(normalize_credential(secret))


def verify_secret(hasher: PasswordHasher, stored_hash: str, secret: str) -> bool:
    """True when ``secret`` matches; a corrupt hash counts as a mismatch, never an error."""
    try:
        return hasher.verify(stored_hash, normalize_credential(secret))
    except (VerificationError, InvalidHashError):
        return False


def burn_verification(hasher: PasswordHasher, secret: str) -> None:
    """Spend the time of one verification, so unknown logins answer as slowly as known ones."""
    verify_secret(hasher, _dummy_hash(hasher), secret)


@cache
def _dummy_hash_for(time_cost: int, memory_cost: int, parallelism: int) -> str:
    return PasswordHasher(time_cost, memory_cost, parallelism).hash(secrets.token_urlsafe(16))


def _dummy_hash(hasher: PasswordHasher) -> str:
    return _dummy_hash_for(hasher.time_cost, hasher.memory_cost, hasher.parallelism)


#: one line per security event, ``key=value`` pairs (docs/security-log.md)
SECURITY_LOG: Final = logging.getLogger("dossiersco.security")
#: events that may be an attack (failures, lockouts, replayed sessions) log at WARNING
_WARNING_EVENTS: Final = frozenset({"login.failure", "login.lockout", "session.rejected",
                                    "invitation.refused", "staff.login.failure",
                                    "staff.second_factor.failure"})


def _log_value(value: object) -> str:
    text = "-" if value is None else str(value)
    if text and not any(ch in text for ch in ' "=\\') and text.isprintable():
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in escaped) + '"'


def security_event(event: str, *, account: int | None, client: str | None,
                   **fields: object) -> None:
    """Log ``event`` on ``dossiersco.security`` as ``event=… time=… account=… client=…`` then
    ``fields``. Callers never pass a secret, nor an identifier a person typed (see
    :func:`login_digest`)."""
    pairs = {"event": event, "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "account": account, "client": client, **fields}
    level = logging.WARNING if event in _WARNING_EVENTS else logging.INFO
    SECURITY_LOG.log(level, " ".join(f"{key}={_log_value(value)}" for key, value in pairs.items()),
                     extra={"security": pairs})


def login_digest(secret_key: str, login: str) -> str:
    """A keyed digest of a typed login that matches no account: repeated tries of one value can
    be correlated in the log, but what was typed (maybe a name or a code) cannot be read back."""
    return hmac.new(secret_key.encode("utf-8"), normalize_credential(login).encode("utf-8"),
                    hashlib.sha256).hexdigest()[:16]
