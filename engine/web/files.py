"""Stored files sent to a browser, family or staff: private, never sniffed, never run."""

from __future__ import annotations

import io
from typing import Any, Final

from flask import Response, abort, send_file

from engine.dossiers.models import StoredFile
from engine.web.state import app_state

NO_CACHE: Final = "no-store, private"


def read_stored(stored: StoredFile) -> bytes:
    """The bytes of ``stored`` (404 when its object is gone from storage)."""
    try:
        with app_state().storage.open(stored.storage_key) as handle:
            return handle.read()
    except FileNotFoundError:
        abort(404)


def private_file(data: bytes, mimetype: str, **kwargs: Any) -> Response:
    """``data`` as a response no cache keeps; a file opened in the browser anyway runs
    nothing (sandboxed, no script, no sniffing)."""
    response = send_file(io.BytesIO(data), mimetype=mimetype, conditional=False, etag=False,
                         max_age=0, **kwargs)
    response.headers["Cache-Control"] = NO_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
