"""Secrets: argon2id hashing of family secret codes, random logins, codes and public tokens."""

from __future__ import annotations

import secrets
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
