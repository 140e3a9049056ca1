"""Settings of one running app, read once from ``DOSSIERSCO_*`` environment variables.

Nothing else in the engine reads the environment: code receives a :class:`Settings` (or reads
it from ``app.extensions``) so tests and scripts can build one explicitly.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse_many

from engine.diagnostics import EngineError

#: repository root (holds templates/, campaigns/ and, by default, instance/)
ROOT = Path(__file__).resolve().parents[1]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULT_MAIL_FROM = "DossierSCO <ne-pas-repondre@dossiersco.invalid>"
DEFAULT_RATELIMIT_STORAGE = "memory://"
DEFAULT_RATELIMIT_PREFIX = "dossiersco"
#: the job queue's name: the prefix of its keys in Redis (one per site sharing a Redis)
DEFAULT_QUEUE_NAME = "dossiersco"
#: per client address: sized for hundreds of families behind one address (a carrier's CGNAT,
#: a school's computer room); guessing is stopped per account, in the database
#: (docs/configuration.md, "Login throttling")
DEFAULT_LOGIN_RATE_LIMIT = "300/minute"
#: a key shared by several processes is given, not generated: at least this long
MIN_SHARED_SECRET_LENGTH = 32
LOG_FORMATS = ("text", "json")
#: lifetime of an e-mailed invitation link, and its bounds (docs/configuration.md)
DEFAULT_INVITATION_TTL_HOURS = 72
MAX_INVITATION_TTL_HOURS = 168
#: absolute lifetime of a login session, active or not, and its bound (ASVS 4.0.3 V3.3.2)
DEFAULT_SESSION_MAX_HOURS = 12
MAX_SESSION_MAX_HOURS = 24
#: days a job's result file is kept (docs/configuration.md)
DEFAULT_JOB_RETENTION_DAYS = 30


class ConfigError(EngineError, ValueError):
    """A ``DOSSIERSCO_*`` variable has a value the app cannot use."""


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 1,
         maximum: int | None = None) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _date(env: Mapping[str, str], name: str) -> date | None:
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{name} must be a date (YYYY-MM-DD), got {text!r}") from None


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first when unset)."""
    raw = env.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """A Flask-Limiter limit (``300/minute``, ``10 per second``), checked now rather than at
    the first login."""
    raw = env.get(name, "").strip() or default
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a rate such as 300/minute, got {raw!r}") from None
    return raw


def _check_shared(env: Mapping[str, str]) -> None:
    """What several processes of one site must agree on, refused when missing.

    A key generated in each instance folder would differ between machines (every cookie
    signed by one process refused by the next), and per-process counters would multiply
    every rate limit by the number of processes.
    """
    key = env.get("DOSSIERSCO_SECRET_KEY", "").strip()
    if not key:
        raise ConfigError("DOSSIERSCO_SECRET_KEY is required when several processes serve the "
                          "site, identical in each; make one with `python -c \"import secrets; "
                          "print(secrets.token_urlsafe(48))\"`")
    if len(key) < MIN_SHARED_SECRET_LENGTH or len(set(key)) < 10:
        raise ConfigError(f"DOSSIERSCO_SECRET_KEY is too weak: at least "
                          f"{MIN_SHARED_SECRET_LENGTH} random characters; make one with "
                          "`python -c \"import secrets; print(secrets.token_urlsafe(48))\"`")
    storage = env.get("DOSSIERSCO_RATELIMIT_STORAGE", "").strip() or DEFAULT_RATELIMIT_STORAGE
    if urlsplit(storage).scheme == "memory":
        raise ConfigError("DOSSIERSCO_RATELIMIT_STORAGE must be shared (redis://host:6379/0) "
                          "when several processes serve the site: memory:// counts in each "
                          "process apart")


def load_or_create_secret_key(instance_dir: Path) -> str:
    """The key stored in ``instance_dir/secret_key``, created (mode 0600) on first start.

    Persisting it keeps sessions valid across restarts without asking the operator for a key.
    """
    path = instance_dir / "secret_key"
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    os.chmod(path, 0o600)
    return key


#: a data key is 32 random bytes (AES-256), written as URL-safe base64
DATA_KEY_BYTES = 32


def new_data_key() -> str:
    """A fresh data key, as ``DOSSIERSCO_DATA_KEY`` takes it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(DATA_KEY_BYTES)).decode("ascii")


def parse_data_keys(raw: str, name: str = "DOSSIERSCO_DATA_KEY") -> tuple[bytes, ...]:
    """Comma-separated keys, the current one first (it encrypts; all of them decrypt).

    :raises ConfigError: a key is not 32 bytes of URL-safe base64.
    """
    keys = []
    for n, text in enumerate((k.strip() for k in raw.split(",")), start=1):
        if not text:
            continue
        try:
            key = base64.urlsafe_b64decode(text.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            key = b""
        if len(key) != DATA_KEY_BYTES:
            raise ConfigError(f"{name}: key {n} is not {DATA_KEY_BYTES} bytes in URL-safe "
                              "base64; make one with `dossiersco keys generate`")
        keys.append(key)
    return tuple(keys)


def load_or_create_data_key(instance_dir: Path, name: str = "data_key") -> tuple[bytes, ...]:
    """The keys stored in ``instance_dir/<name>``, one created (mode 0600) on first start:
    the embedded default, so that a demo encrypts health data (``data_key``) and keys the
    family codes (``code_key``) without any setting."""
    path = instance_dir / name
    if path.exists():
        keys = parse_data_keys(path.read_text(encoding="ascii"), str(path))
        if keys:
            return keys
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = new_data_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    os.chmod(path, 0o600)
    return parse_data_keys(key)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable about one app instance; see docs/configuration.md."""

    instance_dir: Path
    database_url: str
    secret_key: str = field(repr=False)
    upload_dir: Path
    mail_url: str
    #: where documents live: empty for :attr:`upload_dir`, or ``s3://bucket?endpoint=…``
    #: (docs/storage.md); may hold credentials, so never shown
    storage_url: str = field(default="", repr=False)
    mail_from: str = DEFAULT_MAIL_FROM
    ratelimit_storage: str = DEFAULT_RATELIMIT_STORAGE
    #: prefix of the rate-limit keys, so that several sites can share one Redis
    ratelimit_prefix: str = DEFAULT_RATELIMIT_PREFIX
    login_rate_limit: str = DEFAULT_LOGIN_RATE_LIMIT
    #: how the process writes its log lines: ``text`` or ``json`` (one object a line)
    log_format: str = "text"
    #: idle lifetime (the cookie is refreshed on every request), then the absolute one from login
    session_lifetime: timedelta = timedelta(minutes=30)
    session_max_lifetime: timedelta = timedelta(hours=DEFAULT_SESSION_MAX_HOURS)
    base_url: str = "http://127.0.0.1:8000"
    campaigns_dir: Path = ROOT / "campaigns"
    secure_cookies: bool = True
    max_request_bytes: int = 25 * 1024 * 1024
    proxy_hops: int = 0
    #: failed logins in a row before an account is locked, and for how long
    max_failed_logins: int = 5
    lockout: timedelta = timedelta(minutes=15)
    #: validity of the single-use link e-mailed after an import (an activation secret)
    invitation_ttl: timedelta = timedelta(hours=DEFAULT_INVITATION_TTL_HOURS)
    #: argon2id cost; tests lower it, production keeps argon2-cffi's RFC 9106 low-memory profile
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    argon2_parallelism: int = 4
    #: the job queue: empty for a SQLite file in the instance folder, or ``redis://…``
    queue_url: str = ""
    #: the queue's name, the prefix of its keys in Redis: sites sharing one Redis differ here
    queue_name: str = DEFAULT_QUEUE_NAME
    #: run each job inside the call that enqueues it (tests, debugging): no consumer needed
    queue_immediate: bool = False
    #: how long a job's result file stays downloadable
    job_retention: timedelta = timedelta(days=DEFAULT_JOB_RETENTION_DAYS)
    #: master keys of the health data, the current one first (empty: the instance folder's)
    data_keys: tuple[bytes, ...] = field(default=(), repr=False)
    #: keys of the family codes' keyed hash (the pepper), the current one first (empty: the
    #: instance folder's); see docs/configuration.md#family-code-keys
    code_keys: tuple[bytes, ...] = field(default=(), repr=False)
    #: run ``alembic upgrade head`` on the database when the app starts
    auto_migrate: bool = True
    testing: bool = False
    debug: bool = False
    #: a fixed date instead of the system's for the campaigns' opening and closing
    #: (demonstrations out of season, tests); None: the real date
    today: date | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *,
                 processes: int = 1) -> Settings:
        """Settings from ``DOSSIERSCO_*`` variables, with embedded defaults in the instance folder.

        ``processes`` > 1 (several app processes serving one site) requires what they must
        share: a given secret key and rate-limit counters outside the process.

        :raises ConfigError: when a variable has an unusable value.
        """
        env = os.environ if environ is None else environ
        if processes > 1:
            _check_shared(env)
        instance_dir = Path(env.get("DOSSIERSCO_INSTANCE_DIR") or ROOT / "instance").resolve()
        base_url = env.get("DOSSIERSCO_BASE_URL", "").strip() or "http://127.0.0.1:8000"
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError(f"DOSSIERSCO_BASE_URL must be an http(s) URL, got {base_url!r}")
        # plain http only makes sense on the machine itself (demo); there a Secure cookie
        # would never come back, so the default follows the scheme
        plain_local = parts.scheme == "http" and parts.hostname in _LOOPBACK
        mail_url = env.get("DOSSIERSCO_MAIL_URL", "").strip() or (instance_dir / "mail").as_uri()
        if urlsplit(mail_url).scheme not in {"smtp", "smtps", "file"}:
            raise ConfigError(f"DOSSIERSCO_MAIL_URL must be smtp://, smtps:// or file://, "
                              f"got {mail_url!r}")
        queue_url = env.get("DOSSIERSCO_QUEUE_URL", "").strip()
        if queue_url and urlsplit(queue_url).scheme not in {"redis", "rediss"}:
            raise ConfigError(f"DOSSIERSCO_QUEUE_URL must be redis:// or rediss:// (empty for the "
                              f"embedded SQLite queue), got {queue_url!r}")
        # the rest of the URL is the S3 backend's to check (engine.storage.s3)
        storage_url = env.get("DOSSIERSCO_STORAGE_URL", "").strip()
        storage = urlsplit(storage_url)
        if storage_url and (storage.scheme != "s3" or not storage.hostname):
            raise ConfigError("DOSSIERSCO_STORAGE_URL must be s3://bucket[/prefix]?endpoint=… "
                              "(empty for the upload folder)")
        return cls(
            instance_dir=instance_dir,
            database_url=(env.get("DOSSIERSCO_DATABASE_URL", "").strip()
                          or f"sqlite:///{instance_dir / 'dossiersco.sqlite3'}"),
            secret_key=(env.get("DOSSIERSCO_SECRET_KEY", "").strip()
                        or load_or_create_secret_key(instance_dir)),
            data_keys=(parse_data_keys(env.get("DOSSIERSCO_DATA_KEY", ""))
                       or load_or_create_data_key(instance_dir)),
            code_keys=(parse_data_keys(env.get("DOSSIERSCO_CODE_KEY", ""), "DOSSIERSCO_CODE_KEY")
                       or load_or_create_data_key(instance_dir, "code_key")),
            upload_dir=Path(env.get("DOSSIERSCO_UPLOAD_DIR") or instance_dir / "uploads").resolve(),
            storage_url=storage_url,
            mail_url=mail_url,
            mail_from=env.get("DOSSIERSCO_MAIL_FROM", "").strip() or DEFAULT_MAIL_FROM,
            ratelimit_storage=(env.get("DOSSIERSCO_RATELIMIT_STORAGE", "").strip()
                               or DEFAULT_RATELIMIT_STORAGE),
            ratelimit_prefix=(env.get("DOSSIERSCO_RATELIMIT_PREFIX", "").strip()
                              or DEFAULT_RATELIMIT_PREFIX),
            login_rate_limit=_rate_limit(env, "DOSSIERSCO_LOGIN_RATE_LIMIT",
                                         DEFAULT_LOGIN_RATE_LIMIT),
            log_format=_choice(env, "DOSSIERSCO_LOG_FORMAT", LOG_FORMATS),
            session_lifetime=timedelta(
                minutes=_int(env, "DOSSIERSCO_SESSION_LIFETIME_MINUTES", 30)),
            session_max_lifetime=timedelta(hours=_int(
                env, "DOSSIERSCO_SESSION_MAX_HOURS", DEFAULT_SESSION_MAX_HOURS,
                maximum=MAX_SESSION_MAX_HOURS)),
            base_url=base_url.rstrip("/"),
            campaigns_dir=Path(env.get("DOSSIERSCO_CAMPAIGNS_DIR") or ROOT / "campaigns").resolve(),
            secure_cookies=_bool(env, "DOSSIERSCO_SECURE_COOKIES", not plain_local),
            max_request_bytes=_int(env, "DOSSIERSCO_MAX_REQUEST_MB", 25) * 1024 * 1024,
            proxy_hops=_int(env, "DOSSIERSCO_PROXY_HOPS", 0, minimum=0),
            invitation_ttl=timedelta(hours=_int(
                env, "DOSSIERSCO_INVITATION_TTL_HOURS", DEFAULT_INVITATION_TTL_HOURS,
                maximum=MAX_INVITATION_TTL_HOURS)),
            queue_url=queue_url,
            queue_name=env.get("DOSSIERSCO_QUEUE_NAME", "").strip() or DEFAULT_QUEUE_NAME,
            queue_immediate=_bool(env, "DOSSIERSCO_QUEUE_IMMEDIATE", False),
            job_retention=timedelta(days=_int(env, "DOSSIERSCO_JOB_RETENTION_DAYS",
                                              DEFAULT_JOB_RETENTION_DAYS, maximum=3650)),
            today=_date(env, "DOSSIERSCO_TODAY"),
            auto_migrate=_bool(env, "DOSSIERSCO_AUTO_MIGRATE", True),
        )

    def master_keys(self) -> tuple[bytes, ...]:
        """:attr:`data_keys`, or the instance folder's when none is given (explicit settings)."""
        return self.data_keys or load_or_create_data_key(self.instance_dir)

    def family_code_keys(self) -> tuple[bytes, ...]:
        """:attr:`code_keys`, or the instance folder's when none is given."""
        return self.code_keys or load_or_create_data_key(self.instance_dir, "code_key")
