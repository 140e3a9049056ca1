"""Invitation links (blueprint ``invitations``): an e-mailed, single-use, expiring link that
logs a guardian in once, as an alternative to typing the code of the letter.

Opening the link shows a button; only the POST uses the token, so mail scanners that fetch
links do not burn it.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from engine.dossiers.accounts import consume_invitation, find_invitation
from engine.dossiers.invitations import PATH
from engine.security import security_event
from engine.web.database import get_session

from .auth import start_session

bp = Blueprint("invitations", __name__)

#: tokens are ``secrets.token_urlsafe(32)``: anything longer is not one
MAX_TOKEN_LENGTH = 64


@bp.route(PATH + "<token>", methods=["GET", "POST"])
def accept(token: str) -> Response | tuple[str, int] | str:
    form = FlaskForm()
    if len(token) > MAX_TOKEN_LENGTH:
        return render_template("invitations/expired.html"), 410
    db = get_session()
    if not form.validate_on_submit():
        if find_invitation(db, token) is None:
            return render_template("invitations/expired.html"), 410
        return render_template("invitations/accept.html", form=form)
    account = consume_invitation(db, token)
    if account is None:  # unknown, expired, or used (maybe by a concurrent request)
        security_event("invitation.refused", account=None, client=request.remote_addr)
        return render_template("invitations/expired.html"), 410
    security_event("invitation.used", account=account.id, client=request.remote_addr)
    start_session(account, method="invitation")
    return redirect(url_for("family.dashboard"))
