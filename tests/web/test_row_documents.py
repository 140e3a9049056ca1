"""Documents per repeat row over HTTP (issue 14): the family uploads one file per guardian
without JavaScript, each row's slot follows the row's key (reordered, removed), submission
waits for the slot asked, and the school reviews, refuses and deposits per slot."""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.models import Dossier, FamilyAccount, StoredFile

from conftest import MakeAccount, MakeDossier, MakeStaff, _csrf_token
from staffkit import StaffUser

BASE = "/etablissement/0750001A"
CAMPAIGN = """\
language: 1
id: lignes-2027
title: Réinscription
establishment: {uai: "0750001A", name: Collège Jean Moulin}
opens: "2020-01-01"
closes: "2099-12-31"
pages:
  - id: famille
    title: Famille
    fields:
      - id: responsables
        type: repeat
        label: Responsables légaux
        item_label: Responsable légal
        key: personne_id
        fields:
          - {id: prenom, type: text, label: Prénom}
          - {id: nom, type: text, label: Nom}
          - id: lien
            type: choice
            label: Lien
            choices: [{value: mere, label: Mère}, {value: tuteur, label: Tuteur}]
  - id: pieces
    title: Pièces à joindre
    documents: true
documents:
  - id: identite
    label: Justificatif d'identité
    for_each: responsables
    row_label: [prenom, nom]
    required_if: lien == "tuteur"
    accept: [png]
    max_files: 1
"""
CLAIRE = {"_key": "1001", "personne_id": "1001", "prenom": "Claire", "nom": "MARTIN",
          "lien": "mere"}
MARC = {"_key": "new-4f2a", "prenom": "Marc", "nom": "DURAND", "lien": "tuteur"}
MARC_SLOT = "identite~new-4f2a"


def _png() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(data, "PNG")
    return data.getvalue()


def _dossier(db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier,
             login: Callable[[str, str], TestResponse]) -> tuple[Dossier, FamilyAccount]:
    account, code = make_account()
    dossier = make_dossier(account, source=CAMPAIGN, campaign="lignes",
                           answers={"responsables": [CLAIRE, MARC]})
    assert login(account.login, code).status_code == 302
    return dossier, account


def _upload(client: FlaskClient, dossier: Dossier, slot: str) -> TestResponse:
    page = f"/dossier/{dossier.public_id}/etape/pieces"
    return client.post(f"/dossier/{dossier.public_id}/documents/{slot}/fichiers",
                       data={"csrf_token": _csrf_token(client, page), "page": "pieces",
                             "fichier": (io.BytesIO(_png()), "identite.png")},
                       content_type="multipart/form-data")


def _files(db_session: Session, dossier: Dossier) -> list[StoredFile]:
    db_session.expire_all()
    return list(db_session.scalars(select(StoredFile).where(StoredFile.dossier_id == dossier.id)
                                   .order_by(StoredFile.id)))


def _set_rows(db_session: Session, dossier: Dossier, rows: list[dict[str, Any]]) -> None:
    db_session.refresh(dossier)
    dossier.answers = {"responsables": rows}
    db_session.commit()


def _block(page: str, slot: str) -> str:
    """The document block of ``slot`` on a page (its opening tag to the next block)."""
    start = page.index(f'data-document="{slot}"')
    end = page.find("data-document=", start + 1)
    return page[page.rfind("<div", 0, start):page.rfind("<div", 0, end) if end > 0 else None]


def test_the_family_sends_one_file_per_guardian_asked_without_javascript(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, login: Callable[[str, str], TestResponse]) -> None:
    dossier, _account = _dossier(db_session, make_account, make_dossier, login)
    page_url = f"/dossier/{dossier.public_id}/etape/pieces"
    page = html.unescape(client.get(page_url).get_data(as_text=True))
    marc = _block(page, MARC_SLOT)
    assert "Justificatif d'identité — Marc DURAND" in marc and " hidden" not in marc.split(">")[0]
    assert f'action="/dossier/{dossier.public_id}/documents/{MARC_SLOT}/fichiers' in marc
    assert " hidden" in _block(page, "identite~1001").split(">")[0]  # not asked: the mother
    review = html.unescape(client.post(f"/dossier/{dossier.public_id}/envoyer", data={
        "csrf_token": _csrf_token(client, f"/dossier/{dossier.public_id}/recapitulatif"),
        "row_version": str(dossier.row_version)}).get_data(as_text=True))
    assert "Justificatif d'identité — Marc DURAND : Ce document est obligatoire" in review

    sent = _upload(client, dossier, MARC_SLOT)
    assert sent.status_code == 303 and sent.location.endswith(f"#document-{MARC_SLOT}")
    assert [f.document_id for f in _files(db_session, dossier)] == [MARC_SLOT]
    # no such row, or the document without a row: nothing to attach the file to
    assert _upload(client, dossier, "identite~new-0000").status_code == 404
    assert _upload(client, dossier, "identite").status_code == 404
    assert len(_files(db_session, dossier)) == 1

    # the rows swapped: the file stays Marc's
    _set_rows(db_session, dossier, [MARC, CLAIRE])
    page = html.unescape(client.get(page_url).get_data(as_text=True))
    assert "identite.png" in _block(page, MARC_SLOT)
    # Marc removed: his file is no longer asked and blocks nothing; the family may delete it
    _set_rows(db_session, dossier, [CLAIRE])
    page = html.unescape(client.get(page_url).get_data(as_text=True))
    removed = _block(page, MARC_SLOT)
    assert "Justificatif d'identité — Responsable légal retiré du dossier" in removed
    assert "n'est plus demandé" in removed and "/supprimer" in removed
    assert f"/documents/{MARC_SLOT}/fichiers" not in removed  # nothing more can be added
    assert _upload(client, dossier, MARC_SLOT).status_code == 404


def test_the_school_reviews_refuses_and_deposits_per_guardian(
        client: FlaskClient, app: Flask, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, login: Callable[[str, str], TestResponse],
        make_staff: MakeStaff) -> None:
    dossier, _account = _dossier(db_session, make_account, make_dossier, login)
    assert _upload(client, dossier, MARC_SLOT).status_code == 303
    (stored,) = _files(db_session, dossier)

    agent = app.test_client()  # the agent's own browser (the family keeps ``client``)
    _staff_login(agent, make_staff())
    view = f"{BASE}/dossier/{dossier.public_id}"
    page = html.unescape(agent.get(view).get_data(as_text=True))
    assert "Justificatif d'identité — Marc DURAND — identite.png" in page
    assert f'<option value="{MARC_SLOT}">Justificatif d\'identité — Marc DURAND</option>' in page
    assert '<option value="identite~1001">Justificatif d\'identité — Claire MARTIN</option>' \
        in page
    refused = agent.post(f"{view}/documents/{stored.public_id}", data={
        "csrf_token": _csrf_token(agent, view), "decision": "refused", "reason": "illisible"})
    assert refused.status_code == 302
    overview = html.unescape(client.get(f"/dossier/{dossier.public_id}/documents")
                             .get_data(as_text=True))
    assert "Refusé par le collège" in _block(overview, MARC_SLOT)
    assert "Refusé par le collège" not in _block(overview, "identite~1001")
    # the family's notice names the document and its row, as the refusal mail does
    review = html.unescape(client.get(f"/dossier/{dossier.public_id}/recapitulatif")
                           .get_data(as_text=True))
    assert "<strong>Justificatif d'identité — Marc DURAND</strong> (identite.png) : " \
        "Document illisible" in review
    dashboard = html.unescape(client.get("/mes-dossiers").get_data(as_text=True))
    assert "Document refusé par le collège : Justificatif d'identité — Marc DURAND " \
        "(identite.png) – Document illisible." in dashboard
    # the agent deposits Claire's, given on paper: her own slot
    deposited = agent.post(f"{view}/deposer", data={
        "csrf_token": _csrf_token(agent, view), "document": "identite~1001",
        "fichier": (io.BytesIO(_png()), "claire.png")}, content_type="multipart/form-data")
    assert deposited.status_code == 302
    assert [f.document_id for f in _files(db_session, dossier)] == [MARC_SLOT, "identite~1001"]


def _staff_login(browser: FlaskClient, user: StaffUser) -> None:
    """Password then second factor, in the agent's own browser."""
    token = _csrf_token(browser, "/etablissement/connexion")
    assert browser.post("/etablissement/connexion", data={
        "csrf_token": token, "email": user.account.email,
        "password": user.password}).status_code == 302
    token = _csrf_token(browser, "/etablissement/connexion/code")
    assert browser.post("/etablissement/connexion/code", data={
        "csrf_token": token, "code": user.totp()}).status_code == 302
