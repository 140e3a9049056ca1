"""Stored files sent to a browser, family or staff: private, never sniffed, never run.

Whatever the backend (local folder, S3), a download is streamed from storage through the app
after the view's access check, in chunks: memory stays flat, no storage URL reaches a browser.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO, Final

from flask import Response, abort, send_file

from engine.dossiers.models import StoredFile
from engine.web.state import app_state

NO_CACHE: Final = "no-store, private"


def open_stored(stored: StoredFile) -> BinaryIO:
    """The object of ``stored`` as a stream (404 when it is gone from storage; a storage that
    cannot be reached raises ``StorageUnavailableError``, answered 503 by ``engine.web``)."""
    try:
        return app_state().storage.open(stored.storage_key)
    except FileNotFoundError:
        abort(404)


def read_stored(stored: StoredFile) -> bytes:
    """The bytes of ``stored``, for what needs them whole (previews, thumbnails)."""
    with open_stored(stored) as handle:
        return handle.read()


def private_file(data: bytes | BinaryIO, mimetype: str, **kwargs: Any) -> Response:
    """``data`` as a response no cache keeps; a file opened in the browser anyway runs
    nothing (sandboxed, no script, no sniffing). A stream is sent in chunks, then closed."""
    body = io.BytesIO(data) if isinstance(data, bytes) else data
    response = send_file(body, mimetype=mimetype, conditional=False, etag=False,
                         max_age=0, **kwargs)
    response.headers["Cache-Control"] = NO_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def stored_download(stored: StoredFile, stream: BinaryIO | None = None) -> Response:
    """``stored`` as an attachment under its checked name and type, streamed from storage
    (``stream``: already opened by the caller with :func:`open_stored`)."""
    response = private_file(stream or open_stored(stored), stored.mime_type, as_attachment=True,
                            download_name=stored.filename)
    response.content_length = stored.size
    return response
