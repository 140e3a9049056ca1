"""Staff login: e-mail and password, then the second factor (TOTP or a recovery code), its
enrolment on the first login, invitation and reset links, logout and logout everywhere."""

from __future__ import annotations

from typing import Final

import segno
from flask import flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from engine.dossiers.staff import (
    MAX_PASSWORD_LENGTH,
    StaffError,
    StaffLoginOutcome,
    TokenPurpose,
    authenticate_staff,
    end_all_sessions,
    enrol_totp,
    find_token,
    new_totp_secret,
    provisioning_uri,
    set_password_with_token,
    verify_second_factor,
)
from engine.security import security_event
from engine.web.auth import _safe_next
from engine.web.database import get_session
from engine.web.state import app_state

from . import bp
from .access import (
    PENDING_KEY,
    SESSION_KEY,
    current_staff,
    pending_staff,
    staff_required,
    start_session,
)

FAILED_MESSAGE: Final = "Adresse électronique ou mot de passe incorrect."
CODE_FAILED_MESSAGE: Final = "Code incorrect ou expiré."
#: session key of the TOTP secret being enrolled (shown to its owner as a QR code)
ENROL_KEY: Final = "staff_enrol_secret"
MAX_TOKEN_LENGTH: Final = 64


class StaffLoginForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type hints
    email = EmailField("Adresse électronique", validators=[
        DataRequired("Saisissez votre adresse électronique."), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[
        DataRequired("Saisissez votre mot de passe."), Length(max=MAX_PASSWORD_LENGTH)])


class CodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField("Code", validators=[DataRequired("Saisissez le code."), Length(max=32)])


class PasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField("Nouveau mot de passe", validators=[
        DataRequired("Choisissez un mot de passe."), Length(max=MAX_PASSWORD_LENGTH)])
    confirm = PasswordField("Confirmez le mot de passe", validators=[
        DataRequired("Saisissez de nouveau le mot de passe."), Length(max=MAX_PASSWORD_LENGTH)])


def _client() -> str:
    return request.remote_addr or "-"


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Response | str:
    if current_staff() is not None:
        return redirect(url_for("staff.home"))
    form = StaffLoginForm()
    error = None
    if form.validate_on_submit():
        state = app_state()
        result = authenticate_staff(get_session(), state.hasher, form.email.data,
                                    form.password.data,
                                    max_failures=state.settings.max_failed_logins,
                                    lockout=state.settings.lockout)
        if result.outcome is StaffLoginOutcome.OK and result.account is not None:
            start_session(result.account, pending=True)
            session["staff_next"] = _safe_next(request.args.get("next"))
            security_event("staff.password_ok", account=result.account.id, client=_client())
            if result.account.totp_secret is None:
                return redirect(url_for("staff.enrol"))
            return redirect(url_for("staff.second_factor"))
        security_event("staff.login.failure", client=_client(),
                       account=result.account.id if result.account is not None else None,
                       locked=result.locked)
        error = FAILED_MESSAGE
    return render_template("staff/login.html", form=form, error=error)


def _finish_login() -> Response:
    account = pending_staff()
    assert account is not None
    target = session.get("staff_next")
    start_session(account, pending=False)
    security_event("staff.login.success", account=account.id, client=_client())
    return redirect(target or url_for("staff.home"))


@bp.route("/connexion/code", methods=["GET", "POST"])
def second_factor() -> Response | str | tuple[str, int]:
    account = pending_staff()
    if account is None or account.totp_secret is None:
        return redirect(url_for("staff.login"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        settings = app_state().settings
        if verify_second_factor(get_session(), account, form.code.data,
                                max_failures=settings.max_failed_logins,
                                lockout=settings.lockout):
            return _finish_login()
        security_event("staff.second_factor.failure", account=account.id, client=_client())
        error = CODE_FAILED_MESSAGE
    return render_template("staff/second_factor.html", form=form, error=error), \
        422 if error else 200


def _qr_svg(uri: str) -> Markup:
    """The QR code as inline SVG (no image request, no third party)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, title="Code QR de l'application")
    return Markup(svg)  # noqa: S704  # generated by segno from our own URI


@bp.route("/double-authentification", methods=["GET", "POST"])
def enrol() -> Response | str | tuple[str, int]:
    account = pending_staff()
    if account is None:
        return redirect(url_for("staff.login"))
    if account.totp_secret is not None:
        return redirect(url_for("staff.second_factor"))
    secret = session.get(ENROL_KEY)
    if not isinstance(secret, str):
        secret = session[ENROL_KEY] = new_totp_secret()
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            codes = enrol_totp(get_session(), account, secret, form.code.data)
        except StaffError as exc:
            error = exc.message
        else:
            session.pop(ENROL_KEY, None)
            security_event("staff.totp_enrolled", account=account.id, client=_client())
            _finish_login()
            # shown once, on the next page (the session was renewed by the login)
            session["staff_recovery_codes"] = codes
            flash("Double authentification activée.", "success")
            return redirect(url_for("staff.recovery_codes"))
    uri = provisioning_uri(account, secret)
    return render_template("staff/enrol.html", form=form, error=error, qr=_qr_svg(uri),
                           secret=secret), 422 if error else 200


@bp.get("/codes-de-secours")
@staff_required
def recovery_codes() -> Response | str:
    codes = session.pop("staff_recovery_codes", None)
    if not codes:
        return redirect(url_for("staff.home"))
    return render_template("staff/recovery_codes.html", codes=codes)


@bp.route("/lien/<purpose>/<token>", methods=["GET", "POST"])
def set_password(purpose: str, token: str) -> Response | str | tuple[str, int]:
    """Invitation and reset links: the GET shows the form (mail scanners fetching the link do
    not burn it), the POST uses the token."""
    try:
        kind = TokenPurpose(purpose)
    except ValueError:
        return render_template("staff/link_expired.html"), 404
    db = get_session()
    if len(token) > MAX_TOKEN_LENGTH or find_token(db, token, kind) is None:
        return render_template("staff/link_expired.html"), 410
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            error = "Les deux mots de passe ne sont pas identiques."
        else:
            try:
                account = set_password_with_token(db, app_state().hasher, token, kind,
                                                  form.password.data)
            except StaffError as exc:
                error = exc.message
            else:
                security_event("staff.password_set", account=account.id, client=_client(),
                               purpose=kind.value)
                session.clear()
                flash("Votre mot de passe est enregistré. Connectez-vous.", "success")
                return redirect(url_for("staff.login"))
    return render_template("staff/set_password.html", form=form, error=error,
                           invitation=kind is TokenPurpose.INVITATION), 422 if error else 200


@bp.post("/deconnexion")
def logout() -> Response:
    """Ends the session on the server too: a copy of the cookie taken before is refused (the
    account's epoch moves, which logs its other devices out as well, as on the family side)."""
    account = current_staff()
    if account is not None:
        end_all_sessions(get_session(), account)
        security_event("staff.logout", account=account.id, client=_client())
    session.pop(SESSION_KEY, None)
    session.pop(PENDING_KEY, None)
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("staff.login"))


@bp.post("/deconnexion-partout")
@staff_required
def logout_everywhere() -> Response:
    account = current_staff()
    assert account is not None
    end_all_sessions(get_session(), account)
    security_event("staff.logout_everywhere", account=account.id, client=_client())
    session.pop(SESSION_KEY, None)
    flash("Toutes vos sessions sont fermées, sur tous vos appareils.", "info")
    return redirect(url_for("staff.login"))
