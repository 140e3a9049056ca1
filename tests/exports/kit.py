"""Shared helpers of the export tests: dossiers of both example campaigns, readers of each
format."""

from __future__ import annotations

import copy
import csv
import io
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.campaigns import context_of
from engine.dossiers.models import Dossier, Establishment
from engine.dossiers.services import change_state, save_answers
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.versions import CampaignCache
from engine.exports.selection import Selection
from engine.exports.tables import Format, Table, write_tables
from engine.rules import evaluate_dossier

ROOT = Path(__file__).resolve().parents[2]
SLUG = "reinscription-2026"
TILLEULS = ROOT / "campaigns" / "college-les-tilleuls.yaml"

#: what the school imported for a 5e pupil with two guardians (SIECLE canonical record)
PREFILL: dict[str, Any] = {
    "pupil": {"ine": "070123456AB", "last_name": "MARTIN", "first_name": "Léa",
              "birth_date": "2014-03-02", "sex": "F", "birth_commune": "Lyon",
              "birth_commune_insee": "69123", "birth_country": "FR", "nationality": "FR",
              "level": "5e", "division": "5B", "options": ["LATIN"], "regime_code": "24",
              "mef_code": "10210001110"},
    "guardians": [
        {"personne_id": "1001", "civility": "MME", "last_name": "MARTIN", "first_name": "Claire",
         "relationship": "10", "phone_mobile": "0612345678", "email": "claire.martin@example.fr",
         "pays_frais": True, "accepts_sms": True, "contact_priority": True,
         "profession_code": "34", "legal_responsibility": "1",
         "address": {"line1": "12 rue des Lilas", "postal_code": "69003", "commune": "LYON",
                     "commune_insee": "69383", "country": "FR"}},
        {"personne_id": "1002", "civility": "M", "last_name": "DURAND", "first_name": "Paul",
         "relationship": "20", "phone_mobile": "0798765432", "email": "paul.durand@example.fr",
         "profession_code": "85", "legal_responsibility": "1",
         "address": {"line1": "8 quai Perrache", "postal_code": "69002", "commune": "LYON",
                     "commune_insee": "69382", "country": "FR"}},
    ],
}


def prefill(first: str = "Léa", last: str = "MARTIN", division: str = "5B",
            **pupil: Any) -> dict[str, Any]:
    out = copy.deepcopy(PREFILL)
    out["pupil"].update(first_name=first, last_name=last, division=division, **pupil)
    return out


def submit(session: Session, dossier: Dossier, answers: dict[str, Any], page: str = "famille",
           *, state: DossierState = DossierState.SUBMITTED, account_id: int = 1) -> Dossier:
    """The family saved ``answers`` and (unless ``state`` says otherwise) sent the dossier."""
    family = Actor.family(account_id)
    save_answers(session, dossier, dossier.row_version, answers, page, family)
    if state is DossierState.IN_PROGRESS:
        return dossier
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    money = evaluate_dossier(campaign, {**dossier.answers},
                             context_of(dossier, date(2027, 6, 1)))
    change_state(session, dossier, dossier.row_version, DossierState.SUBMITTED, family,
                 computed=money.money())
    if state is DossierState.VALIDATED:
        change_state(session, dossier, dossier.row_version, state, Actor.staff(1))
    return dossier


def selection(session: Session, uai: str = "0750001A", slug: str = SLUG,
              **kwargs: Any) -> Selection:
    establishment = session.query(Establishment).filter_by(uai=uai).one()
    return Selection(session, establishment, slug, CampaignCache().campaign_of, **kwargs)


def written(tables: list[Table], fmt: Format) -> bytes:
    out = io.BytesIO()
    write_tables(tables, fmt, out)
    return out.getvalue()


def read_xlsx(data: bytes) -> dict[str, list[list[Any]]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {sheet.title: [list(r) for r in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets}


def read_ods(data: bytes) -> dict[str, list[list[Any]]]:
    from odf.namespaces import OFFICENS
    from odf.opendocument import load
    from odf.table import Table as OdsTable
    from odf.table import TableCell, TableRow

    document = load(io.BytesIO(data))
    out: dict[str, list[list[Any]]] = {}
    for sheet in document.spreadsheet.getElementsByType(OdsTable):
        rows = []
        for row in sheet.getElementsByType(TableRow):
            cells: list[Any] = []
            for cell in row.getElementsByType(TableCell):
                kind = cell.attributes.get((OFFICENS, "value-type"))
                if kind == "float":
                    cells.append(float(cell.attributes[(OFFICENS, "value")]))
                elif kind == "date":
                    cells.append(cell.attributes[(OFFICENS, "date-value")])
                elif kind == "boolean":
                    cells.append(cell.attributes[(OFFICENS, "boolean-value")] == "true")
                else:
                    cells.append(str(cell) if kind else None)
            rows.append(cells)
        out[str(sheet.getAttribute("name"))] = rows
    return out


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


Reader = Callable[[bytes], Any]


def export_job(client: FlaskClient, path: str, form_page: str = "/etablissement/",
               **data: str) -> str:
    """Post an export form (with the CSRF token of ``form_page``): the job page's HTML."""
    match = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"',
                      client.get(form_page).get_data(as_text=True))
    assert match, f"no CSRF token on {form_page}"
    queued = client.post(path, data={"csrf_token": match.group(1), **data})
    assert queued.status_code == 302, queued.get_data(as_text=True)
    return client.get(queued.headers["Location"]).get_data(as_text=True)


def export_file(client: FlaskClient, path: str, form_page: str = "/etablissement/",
                **data: str) -> TestResponse:
    """Post an export form, then download the file its job made (jobs run at once in tests)."""
    html = export_job(client, path, form_page, **data)
    link = re.search(r'href="([^"]+/fichier)"', html)
    assert link, html
    return client.get(link.group(1))
