"""The school's side (blueprint ``staff``, under ``/etablissement``): staff login with a second
factor, then the pages of each establishment the agent has a role in.

Staff sessions are independent of family sessions (Flask-Login holds the family account): the
session keeps the staff id, the account's session epoch and the login time, checked on every
request by :func:`engine.web.staff.access.current_staff`.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask
from flask.typing import RouteCallable

bp = Blueprint("staff", __name__, url_prefix="/etablissement")

from . import auth, dossiers, exports, home  # noqa: E402,F401  # the routes register on bp
from .access import current_staff  # noqa: E402


@bp.context_processor
def _staff() -> dict[str, Any]:
    return {"staff": current_staff()}


def init_app(app: Flask, login_limit: Any) -> None:
    """Register the blueprint; ``login_limit`` wraps the views that check a secret."""
    app.register_blueprint(bp)
    for endpoint in ("staff.login", "staff.second_factor"):
        app.view_functions[endpoint] = cast(RouteCallable, login_limit(
            app.view_functions[endpoint]))
