"""A logged-in family on a given app (the fault tests build apps of their own: another
storage, another database) and its document writes through the Flask client."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.dossiers.models import Dossier

from conftest import _csrf_token, family_browser

DOCUMENT = "attestation_assurance"


family_client = family_browser


def upload(client: FlaskClient, dossier: Dossier, data: bytes) -> TestResponse:
    return client.post(f"/dossier/{dossier.public_id}/documents/{DOCUMENT}/fichiers", data={
        "csrf_token": _csrf_token(client, "/mes-dossiers"), "page": "pieces",
        "fichier": (io.BytesIO(data), "assurance.pdf")}, content_type="multipart/form-data")
