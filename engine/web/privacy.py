"""Personal data (blueprint ``privacy``): the public privacy notice of each establishment, and
« Mes données », where a guardian downloads what is held about them and their children.

The downloads are POSTs with the CSRF token: another site can neither trigger them in the
guardian's browser nor read them; the data is the logged-in guardian's own
(:func:`engine.dossiers.privacy.held_data`), never a URL parameter's.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, make_response, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from engine.dossiers.models import Establishment
from engine.dossiers.privacy import HeldData, held_data, notice_campaigns
from engine.dossiers.sealed import health_keys
from engine.exports.held_data import held_data_pdf
from engine.web.campaigns import campaign_of
from engine.web.database import get_session
from engine.web.state import today

bp = Blueprint("privacy", __name__)


@bp.get("/confidentialite")
def notice_index() -> BaseResponse:
    """The establishments served here, each with its notice (the only one's at once)."""
    establishments = list(get_session().scalars(select(Establishment).order_by(
        Establishment.name)))
    if len(establishments) == 1:
        return notice(establishments[0].uai)
    return make_response(render_template("privacy/index.html", establishments=establishments))


@bp.get("/confidentialite/<uai>")
def notice(uai: str) -> BaseResponse:
    """The privacy notice of ``uai``, from its campaigns (who, why, how long, rights)."""
    session = get_session()
    establishment = session.scalar(select(Establishment).where(
        Establishment.uai == uai.upper()[:8]))
    if establishment is None:
        abort(404)
    campaigns = notice_campaigns(session, establishment.id, campaign_of)
    if not campaigns:
        abort(404)
    return make_response(render_template(
        "privacy/notice.html", establishment=establishment, info=campaigns[0].establishment,
        campaigns=campaigns, health=any(health_keys(c) for c in campaigns),
        canteen=any(c.tariffs for c in campaigns),
        memberships=any(c.associations for c in campaigns),
        documents=any(c.documents for c in campaigns)))


@bp.get("/mes-donnees")
@login_required  # type: ignore[untyped-decorator]  # Flask-Login ships no type hints
def my_data() -> str:
    return render_template("privacy/my_data.html")


def _held() -> HeldData:
    return held_data(get_session(), current_user, campaign_of, today())


def _attachment(body: bytes, mime: str, name: str) -> BaseResponse:
    response = make_response(body)
    response.headers["Content-Type"] = mime
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    return response


@bp.post("/mes-donnees/json")
@login_required  # type: ignore[untyped-decorator]
def my_data_json() -> BaseResponse:
    body = json.dumps(_held().as_json(), ensure_ascii=False, indent=2).encode("utf-8")
    return _attachment(body, "application/json; charset=utf-8", "mes-donnees.json")


@bp.post("/mes-donnees/pdf")
@login_required  # type: ignore[untyped-decorator]
def my_data_pdf() -> BaseResponse:
    return _attachment(held_data_pdf(_held()), "application/pdf", "mes-donnees.pdf")
