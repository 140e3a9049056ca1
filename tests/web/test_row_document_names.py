"""A per-row document is named by its label and its row's (« Justificatif d'identité — Marc
DURAND ») wherever a family or an agent reads it: the pages, the PDF, « Mes données », the
exports and the figures stored at submission; never by its slot id (``identite~new-4f2a``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from hostile.confkit import attachment, mails, pdf_text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.states import DossierState
from engine.exports.documents_zip import document_entries
from engine.exports.dossier_tables import changes_table, dossiers_table

from .test_row_documents import BASE, MARC_SLOT, _csrf_token, _dossier, _staff_login, _upload
from conftest import MakeAccount, MakeDossier, MakeStaff
from exports.kit import selection

MARC_DOC = "Justificatif d'identité — Marc DURAND"
ROW_KEY = MARC_SLOT.split("~")[1]


class _Text(HTMLParser):
    """The text a reader sees: no tag, no attribute, no script."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _seen(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    parser = _Text()
    parser.feed(response.get_data(as_text=True))
    return " ".join(" ".join(parser.parts).split())


def test_a_per_row_document_is_named_by_its_row_everywhere(
        app: Flask, client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, login: Callable[[str, str], TestResponse],
        make_staff: MakeStaff, tmp_path: Path) -> None:
    dossier, _account = _dossier(db_session, make_account, make_dossier, login)
    family = f"/dossier/{dossier.public_id}"
    assert _upload(client, dossier, MARC_SLOT).status_code == 303
    before = {path: _seen(client, path) for path in (f"{family}/etape/pieces",
                                                     f"{family}/recapitulatif")}
    db_session.refresh(dossier)
    dossier.state = DossierState.IN_PROGRESS  # the family has filled it (given as answers)
    db_session.commit()
    sent = client.post(f"{family}/envoyer", data={
        "csrf_token": _csrf_token(client, f"{family}/recapitulatif"),
        "row_version": str(dossier.row_version)})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:3000]
    db_session.refresh(dossier)
    # the figures stored at submission name the row
    (asked,) = dossier.computed["documents"]
    assert asked["document"] == MARC_SLOT and asked["label"] == MARC_DOC

    pages = {f"{path} (avant l'envoi)": text for path, text in before.items()}
    pages |= {path: _seen(client, path) for path in (
        f"{family}/recapitulatif", f"{family}/documents", f"{family}/confirmation",
        "/mes-donnees")}
    agent = app.test_client()
    _staff_login(agent, make_staff())
    view = f"{BASE}/dossier/{dossier.public_id}"
    slug = f"{BASE}/{dossier.campaign_version.slug}"
    pages |= {path: _seen(agent, path) for path in (
        view, f"{view}/corriger", f"{slug}/dossiers",
        f"{slug}/statistiques")}
    for path, text in pages.items():
        assert ROW_KEY not in text, (path, text[text.find(ROW_KEY) - 200:][:400])
    for path in (f"{family}/recapitulatif", f"{family}/documents", view):
        assert MARC_DOC in pages[path], path

    pdf = " ".join(pdf_text(client.get(f"{family}/recapitulatif.pdf").data).split())
    assert MARC_DOC in pdf and ROW_KEY not in pdf
    # the school's exports: the tables, and the archive's file names
    slug_only = dossier.campaign_version.slug
    tables = [dossiers_table(selection(db_session, slug=slug_only)),
              changes_table(selection(db_session, slug=slug_only))]
    for table in tables:
        assert ROW_KEY not in json.dumps([table.header, *table.rows], default=str)
    (entry,) = document_entries(selection(db_session, slug=slug_only))
    assert "Marc DURAND" in entry.name and ROW_KEY not in entry.name

    token = _csrf_token(client, "/mes-donnees")
    held = " ".join(pdf_text(client.post("/mes-donnees/pdf", data={"csrf_token": token}).data)
                    .split())
    assert MARC_DOC in held and ROW_KEY not in held
    (mine,) = json.loads(client.post("/mes-donnees/json", data={"csrf_token": token}).data
                         )["dossiers"]
    assert [d["label"] for d in mine["documents"]] == [MARC_DOC]
    assert [d["label"] for d in mine["fees"]["documents"]] == [MARC_DOC]
    for message in mails(tmp_path):
        text = " ".join(pdf_text(attachment(message)).split())
        assert MARC_DOC in text and ROW_KEY not in text
