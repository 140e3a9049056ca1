"""Family login and logout (blueprint ``auth``): identifier + secret code, rate-limited.

Every failure (unknown login, wrong code, locked account) gives the same message and status,
so the page never tells whether a login exists; the account is locked after too many failures
(counted in the database, see :mod:`engine.dossiers.accounts`). Sessions end server-side: logout
bumps the account's session epoch, so a cookie captured before no longer opens anything, and a
session lasts at most ``Settings.session_max_lifetime`` after its login, however active.
Security events go to the ``dossiersco.security`` log (docs/security-log.md).
"""

from __future__ import annotations

import time
from typing import Final
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from engine.dossiers.accounts import LoginOutcome, authenticate, end_all_sessions, load_account
from engine.dossiers.models import FamilyAccount
from engine.security import login_digest, security_event
from engine.web.database import get_session

from .state import app_state

bp = Blueprint("auth", __name__)

#: the one answer to every failed login, locked accounts included
FAILED_MESSAGE: Final = ("Identifiant ou code secret incorrect. Après plusieurs essais "
                         "infructueux, la connexion est suspendue pendant quelques minutes.")
#: session key: when the login happened (Unix seconds), for the absolute lifetime
LOGIN_AT: Final = "_login_at"


class LoginForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type hints
    login = StringField("Identifiant", validators=[
        DataRequired("Saisissez votre identifiant."), Length(max=32)])
    code = PasswordField("Code secret", validators=[
        DataRequired("Saisissez votre code secret."), Length(max=64)])


def init_app(app: Flask) -> None:
    """Set up Flask-Login for family accounts on ``app``.

    No IP or User-Agent fingerprint: Flask-Login's "strong" protection does nothing for a
    permanent session, and binding to the IP would log out a phone moving from Wi-Fi to 4G;
    a stolen cookie is bounded by logout, the idle and absolute lifetimes instead
    (docs/configuration.md, "Sessions").
    """
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "Connectez-vous pour accéder à cette page."
    manager.login_message_category = "info"
    manager.session_protection = None

    @manager.user_loader  # type: ignore[untyped-decorator]  # Flask-Login ships no hints
    def _load_user(identity: str) -> FamilyAccount | None:
        started = session.get(LOGIN_AT)
        limit = app_state().settings.session_max_lifetime.total_seconds()
        if not isinstance(started, int) or not 0 <= time.time() - started <= limit:
            _reject(identity, "expired")
            return None
        account = load_account(get_session(), identity)
        if account is None:
            _reject(identity, "revoked")
        return account

    manager.init_app(app)


def _reject(identity: str, reason: str) -> None:
    """Drop a session that names a revoked or too old login (logged once: the cookie goes)."""
    account_id = identity.partition(".")[0]
    security_event("session.rejected", account=int(account_id) if account_id.isdigit() else None,
                   client=request.remote_addr, reason=reason)
    session.clear()


def start_session(account: FamilyAccount, *, method: str) -> None:
    """Log ``account`` in on a fresh session (nothing set before it survives: no fixation)."""
    session.clear()
    login_user(account)
    session.permanent = True
    session[LOGIN_AT] = int(time.time())
    security_event("login.success", account=account.id, client=request.remote_addr,
                   method=method)


def _safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.get("/")
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("family.dashboard"))
    return redirect(url_for("auth.login"))


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("family.dashboard"))
    form = LoginForm()
    error: str | None = None
    if form.validate_on_submit():
        state = app_state()
        result = authenticate(get_session(), state.hasher, form.login.data, form.code.data,
                              max_failures=state.settings.max_failed_logins,
                              lockout=state.settings.lockout)
        if result.outcome is LoginOutcome.OK and result.account is not None:
            start_session(result.account, method="code")
            return redirect(_safe_next(request.args.get("next")) or url_for("family.dashboard"))
        _log_failure(result.outcome, result.account_id, result.locked_now, form.login.data)
        error = FAILED_MESSAGE
    return render_template("auth/login.html", form=form, error=error,
                           lifetime=current_app.permanent_session_lifetime)


def _log_failure(outcome: LoginOutcome, account_id: int | None, locked_now: bool,
                 typed_login: str) -> None:
    client = request.remote_addr
    if account_id is None:
        security_event("login.failure", account=None, client=client, reason="unknown_login",
                       login_digest=login_digest(app_state().settings.secret_key, typed_login))
        return
    locked = outcome is LoginOutcome.LOCKED and not locked_now
    security_event("login.failure", account=account_id, client=client,
                   reason="locked" if locked else "wrong_code")
    if locked_now:
        settings = app_state().settings
        security_event("login.lockout", account=account_id, client=client,
                       failures=settings.max_failed_logins,
                       minutes=int(settings.lockout.total_seconds() // 60))


@bp.post("/deconnexion")
def logout() -> Response:
    """End the session server-side: every cookie of this account, captured or not, stops
    working (the account's other devices too)."""
    if current_user.is_authenticated:
        account: FamilyAccount = current_user._get_current_object()
        end_all_sessions(get_session(), account)
        security_event("logout", account=account.id, client=request.remote_addr)
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
