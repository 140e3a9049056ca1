"""The school corrects a value from the dossier's page: any field the family sees (locked ones
included), audited, diffed like a family change and shown as "corrigé par l'établissement" to
the school and to the family; health values by the infirmerie only, sealed; the family's newer
answer replaces the correction. Through plain forms (choosing the field is a GET, the
correction a POST), so the page works without a script; a value the browser's checks would
have refused is refused by the server (422, the typed value kept)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers import sealed
from engine.dossiers.models import AuditEntry, Dossier, FamilyAccount

from .wizardkit import page_url, post_page, text_of
from conftest import MakeStaff, _csrf_token
from staffkit import StaffUser

StaffLogin = Callable[[StaffUser], TestResponse]
Account = tuple[FamilyAccount, str]
BASE = "/etablissement/0750001A"


@pytest.fixture
def family(app: Flask, mother: Account) -> FlaskClient:
    """The mother's own browser (the agent uses ``client``)."""
    browser = app.test_client()
    token = _csrf_token(browser)
    browser.post("/connexion", data={"csrf_token": token, "login": mother[0].login,
                                     "code": mother[1]})
    return browser


def _correct(client: FlaskClient, dossier: Dossier, field: str, data: dict[str, str], *,
             health: bool = False, version: str | None = None) -> TestResponse:
    path = f"{BASE}/dossier/{dossier.public_id}{'/sante' if health else ''}/corriger"
    page = text_of(client.get(f"{path}?champ={field}"))
    found = re.search(r'name="row_version" value="(\d+)"', page)
    assert found, page[:2000]
    return client.post(path, data={"csrf_token": _csrf_token(client, f"{path}?champ={field}"),
                                   "row_version": version or found.group(1), "champ": field,
                                   **data})


def _fresh(db_session: Session, dossier: Dossier) -> Dossier:
    db_session.expire_all()
    found = db_session.get(Dossier, dossier.id)
    assert found is not None
    return found


def test_a_locked_value_corrected_by_the_school_is_shown_so_to_both_sides(
        client: FlaskClient, family: FlaskClient, db_session: Session, dossier: Dossier,
        make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    page = text_of(client.get(f"{BASE}/dossier/{dossier.public_id}"))
    assert "Corriger une valeur" in page
    chooser = text_of(client.get(f"{BASE}/dossier/{dossier.public_id}/corriger?champ=nom"))
    assert "Valeur actuelle : <strong>MARTIN</strong>" in chooser
    assert "verrouillée pour la famille" in chooser
    # a staff-only field has its own form; health data is the infirmerie's
    assert 'value="mef_destination"' not in chooser and 'value="allergies"' not in chooser
    response = _correct(client, dossier, "nom", {"f-nom": "MARTIN-DURAND"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dossier/{dossier.public_id}")
    found = _fresh(db_session, dossier)
    assert found.corrections == {"nom": "MARTIN-DURAND"}
    assert found.answers.get("nom") is None  # apart from the family's answers
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "value_corrected")).one()
    assert entry.dossier_id == found.id and entry.data == {"fields": ["nom"]}
    # diffed like a family change: against what the school imported, with its author
    view = text_of(client.get(f"{BASE}/dossier/{dossier.public_id}"))
    changes = view[view.index('id="modifications"'):view.index('id="documents"')]
    assert "<del>MARTIN</del> → <ins>MARTIN-DURAND</ins>" in changes
    assert "Corrigé par l'établissement" in changes
    # the family reads the corrected value, marked, still locked
    wizard = text_of(family.get(page_url(dossier.public_id, "eleve")))
    assert "La valeur ci-dessous a été corrigée par l'établissement." in wizard
    assert 'value="MARTIN-DURAND" readonly' in wizard


def test_an_open_value_stays_corrected_until_the_family_answers_otherwise(
        client: FlaskClient, family: FlaskClient, db_session: Session, dossier: Dossier,
        make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    assert _correct(client, dossier, "telephone_eleve",
                    {"f-telephone_eleve": "06 11 22 33 44"}).status_code == 302
    corrected = _fresh(db_session, dossier).corrections["telephone_eleve"]
    wizard = text_of(family.get(page_url(dossier.public_id, "eleve")))
    assert 'id="corrige-telephone_eleve"' in wizard
    # the family goes through the page without touching it: the school's value and its
    # author stay
    assert post_page(family, dossier.public_id, "eleve").status_code == 302
    found = _fresh(db_session, dossier)
    assert found.corrections == {"telephone_eleve": corrected}
    assert "telephone_eleve" not in found.events[-1].data["fields"]
    # the family gives another number: its newer word replaces the correction
    assert post_page(family, dossier.public_id, "eleve",
                     {"f-telephone_eleve": "07 81 22 33 44"}).status_code == 302
    found = _fresh(db_session, dossier)
    assert found.corrections == {}
    assert found.answers["telephone_eleve"] != corrected
    assert 'id="corrige-telephone_eleve"' not in text_of(
        family.get(page_url(dossier.public_id, "eleve")))


def test_a_value_the_browser_would_refuse_is_refused_by_the_server(
        client: FlaskClient, db_session: Session, dossier: Dossier, make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    before = _fresh(db_session, dossier).row_version
    response = _correct(client, dossier, "telephone_eleve",
                        {"f-telephone_eleve": "pas un numéro"})
    assert response.status_code == 422
    page = text_of(response).replace("&#39;", "'")
    assert 'role="alert"' in page and "Téléphone portable de l'élève :" in page
    assert re.search(r'<input[^>]*name="f-telephone_eleve"[^>]*value="pas un numéro"', page)
    found = _fresh(db_session, dossier)
    assert found.corrections == {} and found.row_version == before


def test_refused_corrections(client: FlaskClient, db_session: Session, dossier: Dossier,
                             make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    path = f"{BASE}/dossier/{dossier.public_id}/corriger"
    token = _csrf_token(client, path)
    for field in ("mef_destination", "allergies", "responsables", "nope"):
        assert client.post(path, data={"csrf_token": token, "row_version": "1",
                                       "champ": field}).status_code == 400
    assert client.post(path, data={"row_version": "1", "champ": "nom",
                                   "f-nom": "X"}).status_code == 400  # no CSRF token
    # someone saved meanwhile: nothing written, the agent is told
    stale = _correct(client, dossier, "nom", {"f-nom": "X"}, version="99")
    assert stale.status_code == 302
    assert _fresh(db_session, dossier).corrections == {}
    assert client.get(f"{BASE}/dossier/{dossier.public_id}/sante/corriger").status_code == 403


def test_the_infirmerie_alone_corrects_a_health_value_which_stays_sealed(
        client: FlaskClient, db_session: Session, dossier: Dossier, make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    staff_login(make_staff(role="infirmerie"))
    assert client.get(f"{BASE}/dossier/{dossier.public_id}/corriger").status_code == 403
    chooser = text_of(client.get(f"{BASE}/dossier/{dossier.public_id}/sante/corriger"))
    assert 'value="allergies"' in chooser and 'value="nom"' not in chooser
    response = _correct(client, dossier, "allergies", {"f-allergies": "Arachide (PAI)"},
                        health=True)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dossier/{dossier.public_id}/sante")
    found = _fresh(db_session, dossier)
    assert found.corrections == {}
    assert sealed.health_answers(found)["allergies"] == "Arachide (PAI)"
    raw = db_session.execute(text("SELECT * FROM dossier WHERE id = :id"),
                             {"id": found.id}).mappings().one()
    assert "Arachide" not in " ".join(str(v) for v in raw.values())
    assert "Arachide (PAI)" in text_of(client.get(f"{BASE}/dossier/{dossier.public_id}/sante"))
