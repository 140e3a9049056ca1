"""Family pages (blueprint ``family``): the list of one's children's dossiers, and access checks.

Every route taking a dossier id goes through :func:`load_dossier_for_current_user`, which
answers 404 for a dossier of another family, exactly as for an id that does not exist.
"""

from __future__ import annotations

import re
from typing import Final

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from engine.dossiers.models import Dossier
from engine.dossiers.services import dossier_of_account, dossiers_of_account
from engine.dossiers.states import LABELS
from engine.web.database import get_session

bp = Blueprint("family", __name__)

#: what ``new_public_id`` produces; anything else is not looked up at all
PUBLIC_ID: Final = re.compile(r"[A-Za-z0-9_-]{22,32}")


def load_dossier_for_current_user(public_id: str) -> Dossier:
    """The dossier if the logged-in guardian may see it; 404 otherwise (never 403)."""
    if not current_user.is_authenticated or not PUBLIC_ID.fullmatch(public_id):
        abort(404)
    dossier = dossier_of_account(get_session(), current_user.id, public_id)
    if dossier is None:
        abort(404)
    return dossier


@bp.get("/mes-dossiers")
@login_required  # type: ignore[untyped-decorator]  # Flask-Login ships no type hints
def dashboard() -> str:
    dossiers = dossiers_of_account(get_session(), current_user.id)
    return render_template("family/dashboard.html", dossiers=dossiers, labels=LABELS)


@bp.get("/dossier/<public_id>")
@login_required  # type: ignore[untyped-decorator]
def dossier(public_id: str) -> BaseResponse:
    """Resume where the family left off, or the read-only summary once sent."""
    from engine.web.wizard import resume  # the wizard imports this module's access check

    return resume(public_id)
