"""Secrets: argon2id hashing of the passwords people choose (staff), a keyed hash of the
family codes the engine draws, random logins, codes and public tokens; the security event log
(docs/security-log.md)."""

from __future__ import annotations

import base64
import binascii
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


#: stored family codes: ``$dsco-code$v=1$k=<key id>$<salt>$<digest>`` (base64 without padding)
CODE_SCHEME: Final = "$dsco-code$v=1$"
#: PBKDF2-HMAC-SHA-256 iterations under the key: ~0.06 ms, a few hundred bytes of memory
CODE_ITERATIONS: Final = 100
CODE_SALT_BYTES: Final = 16


class Hasher(PasswordHasher):
    """The app's one hasher: argon2id (this class's own methods) for the passwords agents
    choose, and the keyed hash of the family codes (:func:`hash_secret`), whose keys it holds.

    A family code is a random secret of ~59 bits, a NIST SP 800-63B look-up secret: it needs
    no memory-hard hash against guessing (the login is rate-limited and locked), only a form
    an offline attacker holding the database cannot reverse. Each code is salted and
    stretched (PBKDF2-HMAC-SHA-256), then keyed with HMAC-SHA-256 under a key that lives
    outside the database (``DOSSIERSCO_CODE_KEY``): without the key the stored digests are
    worthless, and with it each code still costs ~2^59 salted PBKDF2 runs.
    """

    def __init__(self, code_keys: tuple[bytes, ...], *, time_cost: int, memory_cost: int,
                 parallelism: int) -> None:
        super().__init__(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        if not code_keys:
            raise ValueError("a Hasher needs at least one family code key")
        self.code_keys = code_keys

    @property
    def code_key_id(self) -> str:
        """The id of the current code key, written in each new hash."""
        return key_id(self.code_keys[0])


def key_id(key: bytes) -> str:
    """A short public name of a key (8 hex digits of its SHA-256), to pick it at verification."""
    return hashlib.sha256(b"dossiersco code key" + key).hexdigest()[:8]


def make_hasher(settings: Settings) -> Hasher:
    """The hasher of ``settings``: its argon2id cost and its family code keys."""
    return Hasher(settings.family_code_keys(), time_cost=settings.argon2_time_cost,
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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _code_digest(key: bytes, salt: bytes, code: str) -> bytes:
    stretched = hashlib.pbkdf2_hmac("sha256", normalize_credential(code).encode("utf-8"), salt,
                                    CODE_ITERATIONS)
    return hmac.new(key, stretched, hashlib.sha256).digest()


def hash_secret(hasher: Hasher, secret: str) -> str:
    """The stored form of a family code, under the current code key."""
    salt = secrets.token_bytes(CODE_SALT_BYTES)
    digest = _code_digest(hasher.code_keys[0], salt, secret)
    return f"{CODE_SCHEME}k={hasher.code_key_id}${_b64(salt)}${_b64(digest)}"


def verify_secret(hasher: Hasher, stored_hash: str, secret: str) -> bool:
    """True when ``secret`` matches; a corrupt hash counts as a mismatch, never an error.

    Hashes stored before the keyed form (argon2id, ``$argon2id$…``) are still checked, with
    argon2: :func:`needs_new_hash` tells the caller to store the keyed form once it matched.
    """
    if not stored_hash.startswith(CODE_SCHEME):
        try:
            return hasher.verify(stored_hash, normalize_credential(secret))
        except (VerificationError, InvalidHashError):
            return False
    try:
        key_part, salt, digest = stored_hash[len(CODE_SCHEME):].split("$")
        key = next(k for k in hasher.code_keys if key_part == f"k={key_id(k)}")
        expected = _unb64(digest)
        salt_bytes = _unb64(salt)
    except (ValueError, StopIteration, binascii.Error):
        return False
    return hmac.compare_digest(_code_digest(key, salt_bytes, secret), expected)


def needs_new_hash(hasher: Hasher, stored_hash: str) -> bool:
    """An argon2 code of before, or one keyed with an older key: to store again at login."""
    return not stored_hash.startswith(f"{CODE_SCHEME}k={hasher.code_key_id}$")


def burn_code_verification(hasher: Hasher, secret: str) -> None:
    """Spend the time of one code verification, so unknown logins answer like known ones."""
    _code_digest(hasher.code_keys[0], bytes(CODE_SALT_BYTES), secret)


def burn_verification(hasher: PasswordHasher, secret: str) -> None:
    """Spend the time of one argon2 verification (agents' passwords), so unknown addresses
    answer as slowly as known ones."""
    try:
        hasher.verify(_dummy_hash(hasher), secret)
    except (VerificationError, InvalidHashError):
        pass


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
