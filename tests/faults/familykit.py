"""A logged-in family on a given app (the fault tests build apps of their own: another
storage, another database) and its document writes through the Flask client."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.dossiers.models import Dossier, FamilyAccount

from conftest import _csrf_token

DOCUMENT = "attestation_assurance"


def family_client(app: Flask, account: FamilyAccount, code: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/connexion", data={"csrf_token": _csrf_token(client),
                                               "login": account.login, "code": code})
    assert response.status_code == 302, response.status_code
    return client


def upload(client: FlaskClient, dossier: Dossier, data: bytes) -> TestResponse:
    return client.post(f"/dossier/{dossier.public_id}/documents/{DOCUMENT}/fichiers", data={
        "csrf_token": _csrf_token(client, "/mes-dossiers"), "page": "pieces",
        "fichier": (io.BytesIO(data), "assurance.pdf")}, content_type="multipart/form-data")
