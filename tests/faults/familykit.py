"""A family's document writes through the Flask client, on the fault tests' own apps
(another storage, another database); the family logs in with ``conftest.family_browser``."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.dossiers.models import Dossier

from conftest import _csrf_token

DOCUMENT = "attestation_assurance"



def upload(client: FlaskClient, dossier: Dossier, data: bytes) -> TestResponse:
    return client.post(f"/dossier/{dossier.public_id}/documents/{DOCUMENT}/fichiers", data={
        "csrf_token": _csrf_token(client, "/mes-dossiers"), "page": "pieces",
        "fichier": (io.BytesIO(data), "assurance.pdf")}, content_type="multipart/form-data")
