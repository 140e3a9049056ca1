"""Family login and logout (blueprint ``auth``): identifier + secret code, rate-limited.

Failures say the same thing whether the login exists or not; the account is locked after too
many failures (counted in the database, see :mod:`engine.dossiers.accounts`).
"""

from __future__ import annotations

import logging
import math
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

from engine.db import utcnow
from engine.dossiers.accounts import LoginOutcome, authenticate, load_account
from engine.dossiers.models import FamilyAccount
from engine.web.database import get_session

from .state import app_state

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

FAILED_MESSAGE = "Identifiant ou code secret incorrect."


class LoginForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type hints
    login = StringField("Identifiant", validators=[
        DataRequired("Saisissez votre identifiant."), Length(max=32)])
    code = PasswordField("Code secret", validators=[
        DataRequired("Saisissez votre code secret."), Length(max=64)])


def init_app(app: Flask) -> None:
    """Set up Flask-Login for family accounts on ``app``."""
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "Connectez-vous pour accéder à cette page."
    manager.login_message_category = "info"
    # the session is dropped when the browser fingerprint (IP, user agent) changes
    manager.session_protection = "strong"

    @manager.user_loader  # type: ignore[untyped-decorator]  # Flask-Login ships no hints
    def _load_user(session_id: str) -> FamilyAccount | None:
        return load_account(get_session(), session_id)

    manager.init_app(app)


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
        db = get_session()
        result = authenticate(db, state.hasher, form.login.data, form.code.data,
                              max_failures=state.settings.max_failed_logins,
                              lockout=state.settings.lockout)
        if result.outcome is LoginOutcome.OK and result.account is not None:
            # a fresh session at login: nothing set before it (fixation) survives
            session.clear()
            login_user(result.account)
            session.permanent = True
            log.info("login ok account=%s", result.account.id)
            return redirect(_safe_next(request.args.get("next")) or url_for("family.dashboard"))
        if result.outcome is LoginOutcome.LOCKED and result.locked_until is not None:
            minutes = max(1, math.ceil((result.locked_until - utcnow()).total_seconds() / 60))
            error = (f"Ce compte est temporairement bloqué après plusieurs essais infructueux. "
                     f"Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}.")
            log.warning("login refused: account locked")
        else:
            error = FAILED_MESSAGE
            log.info("login failed")
    return render_template("auth/login.html", form=form, error=error,
                           lifetime=current_app.permanent_session_lifetime)


@bp.post("/deconnexion")
def logout() -> Response:
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
