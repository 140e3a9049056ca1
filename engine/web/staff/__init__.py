"""The school's side (blueprint ``staff``, under ``/etablissement``): staff login with a second
factor, then the pages of each establishment the agent has a role in.

Staff sessions are independent of family sessions (Flask-Login holds the family account): the
session keeps the staff id, the account's session epoch and the login time, checked on every
request by :func:`engine.web.staff.access.current_staff`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask
from flask.typing import RouteCallable

bp = Blueprint("staff", __name__, url_prefix="/etablissement")
PARIS: Final = ZoneInfo("Europe/Paris")

from . import actions, auth, dossiers, home  # noqa: E402,F401  # the routes register on bp
from .access import current_staff  # noqa: E402

#: what the history says of each kind of event
EVENT_LABELS: Final = {
    "created": "dossier créé", "answers_saved": "réponses enregistrées",
    "file_added": "document envoyé", "file_replaced": "document remplacé",
    "file_deleted": "document supprimé", "document_date": "date d'un document indiquée",
    "document_decided": "décision sur un document", "value_corrected":
    "valeur corrigée par l'établissement", "prefill_disputed": "erreur signalée",
    "import_conflict": "conflit d'import", "import_updated": "mis à jour par un import",
    "fees_recomputed": "frais recalculés",
}


@bp.context_processor
def _staff() -> dict[str, Any]:
    return {"staff": current_staff(), "event_labels": EVENT_LABELS}


@bp.app_template_filter("frdatetime")
def _frdatetime(value: datetime | None) -> str:
    """« 01/12/2026 à 14:05 », Paris time."""
    if value is None:
        return ""
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def init_app(app: Flask, login_limit: Any) -> None:
    """Register the blueprint; ``login_limit`` wraps the views that check a secret."""
    app.register_blueprint(bp)
    for endpoint in ("staff.login", "staff.second_factor"):
        app.view_functions[endpoint] = cast(RouteCallable, login_limit(
            app.view_functions[endpoint]))
