"""The school's side (blueprint ``staff``, under ``/etablissement``): staff login with a second
factor, then the pages of each establishment the agent has a role in.

Staff sessions are independent of family sessions (Flask-Login holds the family account): the
session keeps the staff id, the account's session epoch and the login time, checked on every
request by :func:`engine.web.staff.access.current_staff`.
"""

from __future__ import annotations

from typing import Any, Final, cast

from flask import Blueprint, Flask
from flask.typing import RouteCallable

bp = Blueprint("staff", __name__, url_prefix="/etablissement")

from . import (  # noqa: E402,F401
    actions,
    admin,
    audit_view,
    auth,
    dossiers,
    exports,
    home,
    imports,  # noqa: E402,F401
    jobs,
    messages,
    places,
    statistics,
)
from .access import current_staff  # noqa: E402

#: what the history says of each kind of event
EVENT_LABELS: Final = {
    "created": "dossier créé", "answers_saved": "réponses enregistrées",
    "file_added": "document envoyé", "file_replaced": "document remplacé",
    "file_deleted": "document supprimé", "document_date": "date d'un document indiquée",
    "document_decided": "décision sur un document", "value_corrected":
    "valeur corrigée par l'établissement", "prefill_disputed": "erreur signalée",
    "import_conflict": "conflit d'import", "import_updated": "mis à jour par un import",
    "fees_recomputed": "frais recalculés", "place_decided": "décision sur une demande "
    "d'option à places limitées", "place_request_reset": "option à places limitées "
    "changée : demande à décider de nouveau",
    "submission_waiting": "envoi demandé, en attente de la réponse d'un autre responsable légal",
}


@bp.context_processor
def _staff() -> dict[str, Any]:
    return {"staff": current_staff(), "event_labels": EVENT_LABELS}


def init_app(app: Flask, login_limit: Any) -> None:
    """Register the blueprint; ``login_limit`` wraps the views that check a secret."""
    app.register_blueprint(bp)
    for endpoint in ("staff.login", "staff.second_factor"):
        app.view_functions[endpoint] = cast(RouteCallable, login_limit(
            app.view_functions[endpoint]))
