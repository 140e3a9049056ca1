"""Web layer: security headers, French error pages, and the per-app state views reach.

Blueprints live in sibling modules (``auth``, ``family``); :func:`init_app` wires what every
response needs.
"""

from __future__ import annotations

import gc
import logging
import secrets
from typing import Any, Final

from flask import Flask, Response, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from jinja2.bccache import Bucket, BytecodeCache
from limits.errors import StorageError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from engine.refdata import communes
from engine.storage import StorageUnavailableError

log = logging.getLogger(__name__)

#: no inline script or style anywhere: templates load static files only
CSP: Final = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
              "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: on HTTPS answers only: a browser that once reached the site over HTTPS never tries plain
#: HTTP again for a year (a plain-HTTP answer carrying it would be ignored anyway, RFC 6797)
HSTS: Final = "max-age=31536000; includeSubDomains"

#: French title and explanation of each error page
ERRORS: Final[dict[int, tuple[str, str]]] = {
    400: ("Requête invalide",
          "La demande n'a pas pu être traitée. Revenez à la page précédente et réessayez."),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
    404: ("Page introuvable",
          "Cette page n'existe pas ou vous n'y avez pas accès. Vérifiez l'adresse, ou revenez "
          "à la liste de vos dossiers."),
    405: ("Action impossible", "Cette action n'est pas possible sur cette page."),
    413: ("Envoi trop volumineux",
          "Les fichiers envoyés sont trop lourds. Réduisez leur taille et réessayez."),
    429: ("Trop de tentatives",
          "Vous avez fait trop de demandes en peu de temps. Patientez une minute, puis "
          "réessayez."),
    503: ("Service momentanément indisponible",
          "Le service ne répond pas pour le moment. Vos réponses déjà enregistrées sont "
          "conservées ; celles que vous veniez d'envoyer n'ont pas été enregistrées. Réessayez "
          "dans quelques minutes."),
    500: ("Erreur technique",
          "Une erreur inattendue s'est produite de notre côté. Vos réponses déjà enregistrées "
          "sont conservées. Réessayez dans quelques instants."),
}
#: the page of a storage that cannot be reached or is full (docs/storage.md#faults)
STORAGE_MESSAGE: Final = ("Les documents ne peuvent être ni enregistrés ni affichés pour le "
                          "moment. Rien n'a été enregistré pour cet envoi ; vos réponses et "
                          "vos documents déjà enregistrés sont conservés. Réessayez dans "
                          "quelques minutes.")
#: the database or the storage is down: a temporary condition, answered 503 in one place
UNAVAILABLE: Final = (OperationalError, InterfaceError, StorageUnavailableError)
#: seconds a client is told to wait when the database, the storage or Redis is down
RETRY_AFTER: Final = "30"
CSRF_MESSAGE: Final = ("Le formulaire a expiré ou n'est pas valide. Rechargez la page, puis "
                       "recommencez.")


def _error_page(code: int, message: str | None = None, reference: str | None = None,
                ) -> tuple[str, int]:
    title, text = ERRORS.get(code, ERRORS[400] if code < 500 else ERRORS[500])
    return render_template("errors/error.html", code=code, title=title,
                           message=message or text, reference=reference), code


class _SharedBytecode(BytecodeCache):
    """Compiled templates kept in memory for every app of the process. A server builds one
    app, but the test suite builds thousands, and compiling a page's templates again for each
    costs more than the request itself. Jinja keys each entry by the template's name and a
    checksum of its source, so an edited template is compiled again."""

    def __init__(self) -> None:
        self._codes: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._codes.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._codes[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_BYTECODE = _SharedBytecode()


def warm(app: Flask) -> None:
    """Load now what the first requests would otherwise load, several threads at once (each
    compiling the same template, on the interpreter lock the other pages need): every
    template and the communes table. For a server process about to answer, which then
    freezes it all (:func:`freeze_loaded`); the database's statistics are the server's to
    refresh, once (``Database.refresh_statistics``)."""
    for name in app.jinja_env.list_templates(extensions=["html", "txt"]):
        app.jinja_env.get_template(name)
    communes.preload()


def freeze_loaded() -> None:
    """Move what the process holds now out of the garbage collector's way: the full
    collections a busy server runs would otherwise walk the campaigns, templates, mappings
    and the 40,000 communes each time. Once, in a server process (never in a test run: what
    is frozen is never collected)."""
    gc.collect()
    gc.freeze()


def init_app(app: Flask) -> None:
    """Register the error handlers and the security-header hook on ``app``."""
    app.jinja_env.bytecode_cache = TEMPLATE_BYTECODE

    @app.template_global()
    def field_macros() -> Any:
        """The field partials' shared macros, built once. An ``{% import %}`` in each partial
        costs, per field drawn, a set difference over every template global (Jinja checks
        whether the importing context adds globals): 2 % of a wizard page's Python work."""
        return app.jinja_env.get_template("fields/_macros.html").module

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:  # behind a proxy: ProxyFix (DOSSIERSCO_PROXY_HOPS) tells
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static":
            # pages show a child's data: never keep them in a shared browser cache
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(_error: CSRFError) -> tuple[str, int]:
        return _error_page(400, CSRF_MESSAGE)

    @app.errorhandler(StorageError)
    def _limits_unreachable(error: StorageError) -> ResponseReturnValue:
        # the shared rate-limit counters (Redis) cannot be read: refuse rather than let
        # guesses through unthrottled (docs/deployment.md, "Redis")
        log.error("rate-limit storage unreachable on %s: %s", request.endpoint,
                  type(error.storage_error).__name__)
        response = app.make_response(_error_page(503))
        response.headers["Retry-After"] = RETRY_AFTER
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        if error.code is None:
            return error.get_response()
        response = app.make_response(_error_page(error.code))
        for name, value in error.get_headers():
            if name.lower() in {"allow", "retry-after"}:
                response.headers[name] = value
        return response

    def _unavailable(error: Exception) -> ResponseReturnValue:
        storage = isinstance(error, StorageUnavailableError)
        log.warning("%s unavailable (%s), path %s", "storage" if storage else "database",
                    type(getattr(error, "orig", None) or error).__name__, request.path)
        # the page is drawn as for a visitor: loading the account would ask the database
        if "_login_user" not in g:
            g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
        response = current_app.make_response(
            _error_page(503, STORAGE_MESSAGE if storage else None))
        response.headers["Retry-After"] = RETRY_AFTER
        return response

    for kind in UNAVAILABLE:
        app.register_error_handler(kind, _unavailable)

    @app.errorhandler(InternalServerError)
    def _server_error(_error: InternalServerError) -> tuple[str, int]:
        # Flask already logged the traceback; the reference ties the page to that log line
        reference = secrets.token_hex(4)
        log.error("internal error, reference %s, path %s", reference, request.path)
        return _error_page(500, reference=reference)
