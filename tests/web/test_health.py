"""Health data (``restricted: health``) end to end: sealed in the database, round-tripped by the
family's wizard, read by the infirmerie only (audited), never in another role's pages; key
rotation; a missing key stops the app with a clear message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.cli import main
from engine.config import ConfigError, Settings, new_data_key, parse_data_keys
from engine.dossiers import sealed
from engine.dossiers.models import AuditEntry, Dossier
from engine.dossiers.review import correct_value
from engine.dossiers.services import change_state
from engine.dossiers.states import Actor, DossierState
from engine.web.state import app_state

from .wizardkit import PAGES, VALID_PAGES, page_url, post_page, squash, text_of
from conftest import MakeStaff, _csrf_token
from staffkit import StaffUser

Login = Callable[[str, str], TestResponse]
StaffLogin = Callable[[StaffUser], TestResponse]
BASE = "/etablissement/0750001A"
ALLERGY = "Allergie sévère à l'arachide"
TREATMENT = "Ventoline en cas de crise"
DOCTOR = "Docteur Roux-Mallet"
HEALTH = {"f-allergies": ALLERGY, "f-traitement": TREATMENT, "f-medecin_traitant": DOCTOR,
          "f-pai": "true", "f-pai_renouvellement": "true"}
#: what nobody but the family and the infirmerie may read: the values and their questions
SECRETS = [ALLERGY, "arachide", TREATMENT, DOCTOR, "Allergies connues",
           "Traitement médical en cours", "Médecin traitant", "Renouvellement du PAI"]


def _raw(db_session: Session, dossier: Dossier) -> str:
    """The dossier's row as the database holds it, every column as text."""
    row = db_session.execute(text("SELECT * FROM dossier WHERE id = :id"),
                             {"id": dossier.id}).mappings().one()
    return " ".join(str(v) for v in row.values())


def test_the_family_round_trips_health_values_never_stored_in_clear(
        family: FlaskClient, dossier: Dossier, db_session: Session) -> None:
    response = post_page(family, dossier.public_id, "sante", HEALTH)
    assert response.status_code == 302, squash(text_of(response))[:1500]
    page = text_of(family.get(page_url(dossier.public_id, "sante"))).replace("&#39;", "'")
    assert ALLERGY in page and TREATMENT in page and DOCTOR in page
    raw = _raw(db_session, dossier)
    for secret in (ALLERGY, "arachide", "Ventoline", "Roux-Mallet"):
        assert secret.casefold() not in raw.casefold()
    db_session.expire_all()
    stored = db_session.get(Dossier, dossier.id)
    assert stored is not None
    assert "allergies" not in stored.answers and "pai" not in stored.answers
    assert stored.sealed_answers is not None and stored.sealed_answers.startswith("dsco1.")
    assert sealed.health_answers(stored)["allergies"] == ALLERGY
    # another page's save leaves the sealed values as they were
    before = stored.sealed_answers
    assert post_page(family, dossier.public_id, "vie_scolaire",
                     VALID_PAGES["vie_scolaire"]).status_code == 302
    db_session.expire_all()
    again = db_session.get(Dossier, dossier.id)
    assert again is not None and again.sealed_answers == before


def _family_saved_health(family: FlaskClient, dossier: Dossier, db_session: Session) -> None:
    """The family fills every page (health included) and sends the dossier."""
    for page_id in PAGES:
        changes = {**VALID_PAGES.get(page_id, {}), **(HEALTH if page_id == "sante" else {})}
        response = post_page(family, dossier.public_id, page_id, changes)
        assert response.status_code == 302, (page_id, squash(text_of(response))[:1500])
    review = family.get(f"/dossier/{dossier.public_id}/recapitulatif")
    assert ALLERGY in text_of(review).replace("&#39;", "'")
    db_session.expire_all()
    found = db_session.get(Dossier, dossier.id)
    assert found is not None
    change_state(db_session, found, found.row_version, DossierState.SUBMITTED,
                 Actor.family(found.pupil.guardianships[0].account_id))


def _bodies(client: FlaskClient, dossier: Dossier) -> dict[str, tuple[int, str]]:
    paths = [f"{BASE}/", "/etablissement/", f"{BASE}/reinscription-2026/",
             f"{BASE}/reinscription-2026/dossiers", f"{BASE}/reinscription-2026/dossiers?modifie=1",
             f"{BASE}/reinscription-2026/dossiers/valider", f"{BASE}/dossier/{dossier.public_id}",
             f"{BASE}/dossier/{dossier.public_id}/sante"]
    out = {}
    for path in paths:
        response = client.get(path)
        out[path] = (response.status_code, text_of(response).replace("&#39;", "'"))
    return out


@pytest.mark.parametrize("role", ["direction", "secretariat", "gestion", "lecture", "admin"])
def test_no_other_role_reads_health_data_in_any_staff_page(
        app: Flask, family: FlaskClient, dossier: Dossier, db_session: Session,
        make_staff: MakeStaff, role: str) -> None:
    _family_saved_health(family, dossier, db_session)
    agent = make_staff(role=None if role == "admin" else role, admin=role == "admin")
    browser = app.test_client()
    _login(browser, agent)
    bodies = _bodies(browser, dossier)
    assert bodies[f"{BASE}/reinscription-2026/dossiers"][0] == 200
    assert bodies[f"{BASE}/dossier/{dossier.public_id}/sante"][0] == 403
    for path, (_status, body) in bodies.items():
        for secret in SECRETS:
            assert secret.casefold() not in body.casefold(), (role, path, secret)
    health_reads = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "health_viewed")).all()
    assert health_reads == []


def _login(browser: FlaskClient, agent: StaffUser) -> None:
    token = _csrf_token(browser, "/etablissement/connexion")
    response = browser.post("/etablissement/connexion", data={
        "csrf_token": token, "email": agent.account.email, "password": agent.password})
    assert response.status_code == 302
    token = _csrf_token(browser, "/etablissement/connexion/code")
    response = browser.post("/etablissement/connexion/code", data={
        "csrf_token": token, "code": agent.totp()})
    assert response.status_code == 302, text_of(response)[:500]


def test_the_infirmerie_reads_the_health_page_and_the_read_is_audited(
        app: Flask, family: FlaskClient, dossier: Dossier, db_session: Session,
        make_staff: MakeStaff) -> None:
    _family_saved_health(family, dossier, db_session)
    nurse = make_staff(role="infirmerie")
    browser = app.test_client()
    _login(browser, nurse)
    listing = text_of(browser.get(f"{BASE}/reinscription-2026/dossiers"))
    assert f"/dossier/{dossier.public_id}/sante" in listing
    page = browser.get(f"{BASE}/dossier/{dossier.public_id}/sante")
    assert page.status_code == 200
    body = text_of(page).replace("&#39;", "'")
    for shown in (ALLERGY, TREATMENT, DOCTOR, "Allergies connues", "Martin", "Léa"):
        assert shown in body
    # the rest of the dossier is not the infirmerie's
    assert "Demi-pensionnaire" not in body
    assert browser.get(f"{BASE}/dossier/{dossier.public_id}").status_code == 403
    entries = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "health_viewed")).all()
    assert [(e.dossier_id, e.actor_id) for e in entries] == [(dossier.id, str(nurse.account.id))]
    assert ALLERGY not in str(entries[0].data)


def test_rotation_keeps_values_readable_and_drops_the_old_key(
        app: Flask, family: FlaskClient, dossier: Dossier, db_session: Session,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    assert post_page(family, dossier.public_id, "sante", HEALTH).status_code == 302
    old_ring = sealed.ring_of(db_session)
    old = (tmp_path / "instance" / "data_key").read_text().strip()
    new = new_data_key()
    monkeypatch.setenv("DOSSIERSCO_DATABASE_URL", app_state(app).settings.database_url)
    monkeypatch.setenv("DOSSIERSCO_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("DOSSIERSCO_DATA_KEY", f"{new},{old}")
    runner = CliRunner()
    result = runner.invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "1 dossier(s) rechiffré(s)" in result.output
    status = runner.invoke(main, ["keys", "status"])
    assert "1 dossier(s) chiffré(s) avec" in status.output and "(courante)" in status.output
    # the new key alone opens it; the old one no longer does
    new_ring = sealed.KeyRing(parse_data_keys(new))
    db_session.expire_all()
    stored = db_session.get(Dossier, dossier.id)
    assert stored is not None and stored.sealed_answers is not None
    assert new_ring.open(stored.sealed_answers, stored.public_id)["allergies"] == ALLERGY
    with pytest.raises(sealed.MissingKeyError):
        old_ring.open(stored.sealed_answers, stored.public_id)
    assert runner.invoke(main, ["keys", "rotate"]).output.startswith("0 dossier(s)")


def test_the_app_refuses_to_start_without_the_key_that_sealed_the_data(
        make_app: Callable[..., Flask], family: FlaskClient, dossier: Dossier,
        monkeypatch: pytest.MonkeyPatch, app: Flask, tmp_path: Any) -> None:
    assert post_page(family, dossier.public_id, "sante", HEALTH).status_code == 302
    other = parse_data_keys(new_data_key())
    with pytest.raises(sealed.MissingKeyError, match="DOSSIERSCO_DATA_KEY does not hold"):
        make_app(data_keys=other)
    assert issubclass(sealed.MissingKeyError, ConfigError)
    monkeypatch.setenv("DOSSIERSCO_DATABASE_URL", app_state(app).settings.database_url)
    monkeypatch.setenv("DOSSIERSCO_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("DOSSIERSCO_DATA_KEY", new_data_key())
    result = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert "DOSSIERSCO_DATA_KEY" in result.output and "Traceback" not in result.output
    # the old key after the new one: it starts
    old = (tmp_path / "instance" / "data_key").read_text().strip()
    started = make_app(data_keys=parse_data_keys(f"{new_data_key()},{old}"))
    assert started is not None


def test_a_sealed_value_opens_only_on_its_own_dossier_and_unaltered() -> None:
    ring = sealed.KeyRing(parse_data_keys(new_data_key()))
    text_ = ring.seal({"allergies": ALLERGY}, "dossier-a")
    assert ring.open(text_, "dossier-a") == {"allergies": ALLERGY}
    with pytest.raises(sealed.SealedDataError, match="another dossier"):
        ring.open(text_, "dossier-b")
    prefix, kid, wrapped, body = text_.split(".")
    altered = ".".join([prefix, kid, wrapped, body[:-2] + ("A" if body[-2] != "A" else "B")
                        + body[-1]])
    with pytest.raises(sealed.SealedDataError):
        ring.open(altered, "dossier-a")


@pytest.mark.parametrize("raw", ["court", "a" * 44, f"{new_data_key()},xyz"],
                         ids=["too-short", "not-base64-key", "trailing-garbage"])
def test_a_malformed_data_key_is_a_configuration_error(raw: str) -> None:
    with pytest.raises(ConfigError, match="dossiersco keys generate"):
        parse_data_keys(raw)


def test_the_embedded_default_keeps_one_key_in_the_instance_folder(tmp_path: Any) -> None:
    env = {"DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance")}
    first = Settings.from_env(env)
    path = tmp_path / "instance" / "data_key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(first.data_keys) == 1 and Settings.from_env(env).data_keys == first.data_keys
    assert "data_keys" not in repr(first)
    given = new_data_key()
    assert Settings.from_env({**env, "DOSSIERSCO_DATA_KEY": given}).data_keys == \
        parse_data_keys(given)


def test_a_corrected_health_value_stays_sealed(
        family: FlaskClient, dossier: Dossier, db_session: Session, make_staff: MakeStaff,
        app: Flask) -> None:
    _family_saved_health(family, dossier, db_session)
    db_session.expire_all()
    found = db_session.get(Dossier, dossier.id)
    assert found is not None
    campaign = app_state(app).campaigns.campaign_of(found.campaign_version)
    agent = Actor.staff(make_staff(role="infirmerie").account.id)
    correct_value(db_session, campaign, found, found.row_version, agent, "allergies",
                  "Aucune allergie connue")
    # never in the clear corrections: sealed over the family's answer, the history says so
    assert found.corrections == {}
    assert sealed.health_answers(found)["allergies"] == "Aucune allergie connue"
    assert "Aucune allergie connue" not in _raw(db_session, found)
    assert found.events[-1].kind == "value_corrected"
