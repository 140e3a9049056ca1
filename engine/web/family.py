"""Family pages (blueprint ``family``): the list of one's children's dossiers.

Every route taking a dossier id checks access through :mod:`engine.web.access`.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from engine.dossiers.documents import slot_label
from engine.dossiers.models import Dossier, StoredFile
from engine.dossiers.places import PlaceRequest, requests_of
from engine.dossiers.services import dossiers_of_account
from engine.dossiers.states import EDITABLE, LABELS, window_of
from engine.web.campaigns import campaign_of
from engine.web.database import get_session
from engine.web.state import today
from engine.web.wizard import resume

bp = Blueprint("family", __name__)


@bp.get("/mes-dossiers")
@login_required  # type: ignore[untyped-decorator]  # Flask-Login ships no type hints
def dashboard() -> str:
    dossiers = dossiers_of_account(get_session(), current_user.id)
    # the campaign's dates of every dossier the family can still fill: its deadline
    dates = {}
    for dossier in dossiers:
        if dossier.state in EDITABLE:
            campaign = campaign_of(dossier.campaign_version)
            dates[dossier.id] = (window_of(campaign, today()).value, campaign)
    return render_template("family/dashboard.html", dossiers=dossiers, labels=LABELS,
                           dates=dates)


@bp.get("/dossier/<public_id>")
@login_required  # type: ignore[untyped-decorator]
def dossier(public_id: str) -> BaseResponse:
    """Resume where the family left off, or the read-only summary once sent."""
    return resume(public_id)



@bp.app_template_global()
def place_requests(dossier: Dossier) -> list[PlaceRequest]:
    """The dossier's requests for options with places, with the school's decision."""
    return requests_of(campaign_of(dossier.campaign_version), dossier)


@bp.app_template_global()
def file_document(dossier: Dossier, stored: StoredFile) -> str:
    """The document a file was sent for, as the refusal mail names it (« Justificatif de
    responsabilité légale — Karim BENALI »)."""
    return slot_label(campaign_of(dossier.campaign_version), stored.document_id, dossier.answers)
