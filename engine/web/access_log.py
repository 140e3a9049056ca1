"""The access log (logger ``dossiersco.access``): one line per answer, whatever the server.

A line names the route *pattern* (``/dossier/<public_id>/etape/<page_id>``), never the path
as requested: a path can carry a secret (``/invitation/<token>``) or an id that points at a
child (a dossier's public id), and a query string anything typed. No client address either:
the reverse proxy's log holds it, under its own retention (docs/deployment.md, "Logs").
"""

from __future__ import annotations

import logging
import time
from typing import Final

from flask import Flask, Response, g, request

ACCESS_LOG: Final = logging.getLogger("dossiersco.access")
#: what a request that matched no route is logged as (its path may be anything typed)
UNMATCHED: Final = "-"


def init_app(app: Flask) -> None:
    """Time every request and log its answer on ``dossiersco.access`` at INFO."""

    @app.before_request
    def _start() -> None:
        g.access_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        started = g.get("access_started")
        pairs = {
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule is not None else UNMATCHED,
            "status": response.status_code,
            # to the start of the answer (a streamed file's body is sent afterwards)
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "bytes": response.content_length,
        }
        ACCESS_LOG.info(" ".join(f"{key}={'-' if value is None else value}"
                                 for key, value in pairs.items()), extra={"access": pairs})
        return response
