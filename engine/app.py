"""The application factory: one call builds a configured, migrated, ready-to-serve app."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from flask import Flask
from flask.typing import RouteCallable
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from engine import db, web
from engine.config import ROOT, ConfigError, Settings
from engine.dossiers import sealed
from engine.dossiers.versions import CampaignCache
from engine.fields import new_registry
from engine.jobs import JobQueue
from engine.security import make_hasher
from engine.storage import storage_from_settings
from engine.web import (
    access_log,
    auth,
    documents,
    family,
    field_assets,
    invitations,
    privacy,
    staff,
    status,
    wizard,
)
from engine.web import database as web_database
from engine.web.state import AppState

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"


class SchemaOutdatedError(ConfigError):
    """The database is not at the code's schema and the app was told not to migrate it."""


def _check_schema(database: db.Database) -> None:
    current, heads = db.revisions(database.engine)
    if current != heads:
        database.dispose()
        raise SchemaOutdatedError(
            f"the database is at revision {', '.join(sorted(current)) or '(empty)'}, the code "
            f"needs {', '.join(sorted(heads))}: run `dossiersco migrate` first")


#: seconds before a login gives up on an unreachable Redis (then 503), rather than hang
LIMITS_SOCKET_TIMEOUT = 2


def _limits_options(uri: str) -> dict[str, str | int]:
    options: dict[str, str | int] = {"wrap_exceptions": True}
    if urlsplit(uri).scheme.startswith(("redis", "valkey")):
        options |= {"socket_connect_timeout": LIMITS_SOCKET_TIMEOUT,
                    "socket_timeout": LIMITS_SOCKET_TIMEOUT}
    return options


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the app from ``settings`` (default: the environment), with ``overrides`` applied.

    The database is migrated to the latest revision first unless ``auto_migrate`` is off.

    :raises MissingKeyError: the data keys cannot open the health data already stored.
    """
    settings = settings or Settings.from_env()
    if overrides:
        settings = replace(settings, **overrides)
    app = Flask("engine", template_folder=str(ROOT / "templates"),
                static_folder=str(STATIC_DIR), instance_path=str(settings.instance_dir))
    secure = settings.secure_cookies and not (settings.testing or settings.debug)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        DEBUG=settings.debug,
        # __Host- cookies are refused by browsers unless Secure, so the prefix goes with it
        SESSION_COOKIE_NAME="__Host-session" if secure else "session",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=settings.session_lifetime,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        # the token lives as long as the session (which expires after inactivity)
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_HEADERS_ENABLED=True,
    )
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops,  # type: ignore[method-assign]
                                x_proto=settings.proxy_hops, x_host=settings.proxy_hops)

    database = db.Database.connect(settings.database_url)
    if settings.auto_migrate:
        db.upgrade(database.engine)
    else:
        _check_schema(database)
    # refuse to start without the key that sealed the health data already stored
    ring = sealed.KeyRing(settings.master_keys())
    with database.sessions() as session:
        sealed.check_keys(session, ring)
    sealed.bind(database.sessions, ring)
    # a storage failure is raised as limits' StorageError, answered 503 by engine.web (never
    # swallowed, no in-memory fallback: an unreachable Redis must not mean unthrottled guesses)
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.ratelimit_storage,
                      storage_options=_limits_options(settings.ratelimit_storage),
                      key_prefix=settings.ratelimit_prefix, default_limits=[],
                      swallow_errors=False, in_memory_fallback_enabled=False)
    # Only the routes given a limit are throttled (login, document writes), and their own
    # decorators check it; with no default or application-wide limit the extension's
    # before-request check finds nothing to do, at 0.1 ms on every request.
    hooks = app.before_request_funcs[None]
    hooks[:] = [hook for hook in hooks if getattr(hook, "__self__", None) is not limiter]
    registry = new_registry()
    storage = storage_from_settings(settings)
    campaigns = CampaignCache(settings.campaigns_dir, registry)
    app.extensions["dossiersco"] = AppState(settings=settings, database=database,
                                            storage=storage, hasher=make_hasher(settings),
                                            limiter=limiter, registry=registry,
                                            campaigns=campaigns,
                                            jobs=JobQueue(settings, database, storage, campaigns))
    web_database.init_app(app)
    CSRFProtect(app)
    web.init_app(app)
    access_log.init_app(app)
    field_assets.init_app(app, registry)
    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(family.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(wizard.bp)
    app.register_blueprint(invitations.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(privacy.bp)
    wizard.init_app(app)
    staff.init_app(app, limiter.limit(settings.login_rate_limit, methods=["POST"]))
    # the limit wraps the registered view, so each app gets its own limiter and storage
    app.view_functions["auth.login"] = cast(RouteCallable, limiter.limit(
        settings.login_rate_limit, methods=["POST"])(app.view_functions["auth.login"]))
    return app
