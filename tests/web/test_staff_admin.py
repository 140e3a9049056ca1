"""The agents page and the audit viewer through the Flask client: direction invites (a real
mail over SMTP, the link works), changes a role, removes, resets a password or the second
factor, unlocks; every action is audited; direction never reaches the administrator flag; the
journal lists the establishment's entries and tells whether the chain verifies."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from smtpkit import Inbox
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.db import utcnow
from engine.dossiers import audit
from engine.dossiers.models import AuditEntry, StaffAccount, StaffRole
from engine.dossiers.permissions import ADMIN_PERMISSIONS, ROLE_LABELS, ROLE_PERMISSIONS, Permission
from engine.dossiers.services import ensure_establishment
from engine.dossiers.states import Actor
from engine.web.staff.admin import staff_time

from conftest import MakeAccount, MakeDossier, MakeStaff, _csrf_token
from staffkit import StaffUser

StaffLogin = Callable[[StaffUser], TestResponse]
AGENTS = "/etablissement/0750001A/agents"
JOURNAL = "/etablissement/0750001A/journal"
LINK = re.compile(r"http://[^/\s]+(/etablissement/lien/(?:invitation|reset)/[\w-]+)")


@pytest.fixture
def app(make_app: Callable[..., Flask], smtp: tuple[Inbox, int]) -> Flask:
    """The app, its mail going to the loopback SMTP server."""
    return make_app(mail_url=f"smtp://127.0.0.1:{smtp[1]}")


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


def _post(client: FlaskClient, path: str, **data: str) -> TestResponse:
    return client.post(path, data={"csrf_token": _csrf_token(client, AGENTS), **data})


def _actions(db_session: Session) -> list[str]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def _account(db_session: Session, email: str) -> StaffAccount:
    db_session.expire_all()
    account = db_session.scalar(select(StaffAccount).where(StaffAccount.email == email))
    assert account is not None
    return account


def test_direction_invites_an_agent_who_sets_a_password(
        app: Flask, client: FlaskClient, db_session: Session, make_staff: MakeStaff,
        staff_login: StaffLogin, inbox: Inbox) -> None:
    staff_login(make_staff("principale@college.fr", role="direction"))
    page = client.get(AGENTS)
    assert page.status_code == 200
    assert "principale@college.fr" in page.get_data(as_text=True)
    response = _post(client, AGENTS, email="Nouvelle@College.fr", display_name="Mme Nouvelle",
                     role="secretariat", is_admin="y")
    assert response.status_code == 302
    [(to, message)] = inbox.wait_for(1)
    assert to == ["nouvelle@college.fr"]
    body = message.get_content()
    assert "Collège Jean Moulin" in body
    match = LINK.search(body)
    assert match and "/invitation/" in match.group(1)
    listing = client.get(AGENTS).get_data(as_text=True)
    assert "Mme Nouvelle" in listing and "Invitation en attente" in listing
    account = _account(db_session, "nouvelle@college.fr")
    assert not account.is_admin  # no page grants the administrator flag
    assert [m.role for m in account.memberships] == [StaffRole.SECRETARIAT]
    assert _actions(db_session)[-1] == "staff_invited"
    # the link of the mail works once, on a fresh browser
    other = app.test_client()
    token = _csrf_token(other, match.group(1))
    done = other.post(match.group(1), data={"csrf_token": token, "password": "Un-Mot-De-Passe-42",
                                            "confirm": "Un-Mot-De-Passe-42"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/etablissement/connexion")


def test_inviting_an_existing_agent_only_grants_the_role(
        client: FlaskClient, db_session: Session, make_staff: MakeStaff,
        staff_login: StaffLogin, inbox: Inbox) -> None:
    make_staff("prof@college.fr", role="lecture", uai="0750002B")
    staff_login(make_staff(role="direction"))
    response = _post(client, AGENTS, email="prof@college.fr", role="gestion")
    assert response.status_code == 302
    assert {m.role for m in _account(db_session, "prof@college.fr").memberships} == \
        {StaffRole.READ_ONLY, StaffRole.GESTION}
    assert inbox.messages == []
    assert _actions(db_session)[-1] == "staff_role_granted"
    again = _post(client, AGENTS, email="prof@college.fr", role="gestion")
    assert again.status_code == 422 and "déjà un rôle" in again.get_data(as_text=True)
    invalid = _post(client, AGENTS, email="pas-une-adresse", role="gestion")
    assert invalid.status_code == 422
    assert "Adresse électronique invalide" in invalid.get_data(as_text=True)
    bad_role = _post(client, AGENTS, email="x@college.fr", role="chef")
    assert bad_role.status_code == 422


def test_change_role_remove_reset_unlock(client: FlaskClient, db_session: Session,
                                         make_staff: MakeStaff, staff_login: StaffLogin,
                                         inbox: Inbox) -> None:
    agent = make_staff("agent@college.fr", role="secretariat")
    staff_login(make_staff(role="direction"))
    base = f"{AGENTS}/{agent.account.id}"
    assert _post(client, f"{base}/role", role="infirmerie").status_code == 302
    assert [m.role for m in _account(db_session, "agent@college.fr").memberships] == \
        [StaffRole.INFIRMERIE]
    assert _post(client, f"{base}/role", role="chef").status_code == 400

    assert _post(client, f"{base}/mot-de-passe").status_code == 302
    [(to, message)] = inbox.wait_for(1)
    assert to == ["agent@college.fr"] and "/etablissement/lien/reset/" in message.get_content()

    assert _post(client, f"{base}/double-authentification").status_code == 302
    account = _account(db_session, "agent@college.fr")
    assert account.totp_secret is None and account.recovery_codes == []

    account.locked_until = utcnow() + timedelta(minutes=15)
    account.failed_attempts = 3
    db_session.commit()
    assert "Bloqué jusqu" in client.get(AGENTS).get_data(as_text=True)
    assert _post(client, f"{base}/debloquer").status_code == 302
    account = _account(db_session, "agent@college.fr")
    assert account.locked_until is None and account.failed_attempts == 0

    assert _post(client, f"{base}/retirer").status_code == 302
    assert _account(db_session, "agent@college.fr").memberships == []
    assert _post(client, f"{base}/retirer").status_code == 404  # no longer an agent here
    assert _actions(db_session)[-5:] == [
        "staff_role_changed", "staff_reset_sent", "staff_second_factor_reset",
        "staff_unlocked", "staff_removed"]
    entry = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.data == {"staff": agent.account.id, "role": "infirmerie"}


def test_the_second_factor_reset_ends_sessions_and_enrols_again(
        app: Flask, db_session: Session, make_staff: MakeStaff) -> None:
    agent = make_staff("agent@college.fr", role="lecture")
    agent_client = app.test_client()
    _login(agent_client, agent)
    assert agent_client.get("/etablissement/").status_code == 200
    direction = app.test_client()
    _login(direction, make_staff(role="direction"))
    direction.post(f"{AGENTS}/{agent.account.id}/double-authentification",
                   data={"csrf_token": _csrf_token(direction, AGENTS)})
    assert agent_client.get("/etablissement/").status_code == 302
    token = _csrf_token(agent_client, "/etablissement/connexion")
    response = agent_client.post("/etablissement/connexion", data={
        "csrf_token": token, "email": "agent@college.fr", "password": agent.password})
    assert response.headers["Location"] == "/etablissement/double-authentification"


def _login(client: FlaskClient, user: StaffUser) -> None:
    token = _csrf_token(client, "/etablissement/connexion")
    client.post("/etablissement/connexion", data={"csrf_token": token,
                                                  "email": user.account.email,
                                                  "password": user.password})
    token = _csrf_token(client, "/etablissement/connexion/code")
    client.post("/etablissement/connexion/code", data={"csrf_token": token, "code": user.totp()})


def test_direction_cannot_touch_an_administrator_nor_itself(
        client: FlaskClient, db_session: Session, make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    admin = make_staff("admin@academie.fr", role="direction", admin=True)
    me = make_staff(role="direction")
    staff_login(me)
    page = client.get(AGENTS).get_data(as_text=True)
    assert f"/agents/{admin.account.id}/" not in page  # no action offered
    for action in ("role", "retirer", "mot-de-passe", "double-authentification", "debloquer"):
        response = _post(client, f"{AGENTS}/{admin.account.id}/{action}", role="lecture")
        assert response.status_code == 403, action
    for action in ("role", "retirer", "double-authentification"):
        response = _post(client, f"{AGENTS}/{me.account.id}/{action}", role="lecture")
        assert response.status_code == 302, action
    assert [m.role for m in _account(db_session, me.account.email).memberships] == \
        [StaffRole.DIRECTION]
    assert _account(db_session, me.account.email).totp_secret is not None
    assert "propre accès" in client.get(AGENTS).get_data(as_text=True)
    assert _actions(db_session) == []


def test_actions_need_the_csrf_token(client: FlaskClient, make_staff: MakeStaff,
                                     staff_login: StaffLogin) -> None:
    agent = make_staff(role="lecture")
    staff_login(make_staff(role="direction"))
    assert client.post(AGENTS, data={"email": "x@college.fr", "role": "lecture"}).status_code \
        == 400
    assert client.post(f"{AGENTS}/{agent.account.id}/retirer").status_code == 400


def test_the_administrator_manages_any_establishment(
        client: FlaskClient, db_session: Session, make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    ensure_establishment(db_session, uai="0750002B", name="Lycée Victor Hugo")
    db_session.commit()
    agent = make_staff("agent@lycee.fr", role="gestion", uai="0750002B")
    staff_login(make_staff("admin@academie.fr", role=None, admin=True))
    page = client.get("/etablissement/0750002B/agents")
    assert page.status_code == 200 and "agent@lycee.fr" in page.get_data(as_text=True)
    response = client.post(f"/etablissement/0750002B/agents/{agent.account.id}/role",
                           data={"csrf_token": _csrf_token(client, "/etablissement/0750002B/agents"),
                                 "role": "lecture"})
    assert response.status_code == 302
    assert client.get("/etablissement/0750002B/journal").status_code == 200


def test_the_journal_lists_the_establishment_entries_and_verifies(
        client: FlaskClient, db_session: Session, make_staff: MakeStaff,
        staff_login: StaffLogin, make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    account, _ = make_account()
    dossier = make_dossier(account, first_name="Léa", last_name="Durand")
    other = make_dossier(account, first_name="Nina", last_name="Durand", uai="0750002B")
    secretary = make_staff("sec@college.fr", role="secretariat")
    staff_login(secretary)
    assert client.get(JOURNAL).status_code == 403  # the secretariat does not read the journal
    for found in (dossier, other):
        audit.record(db_session, Actor.staff(secretary.account.id), "value_corrected",
                     establishment_id=found.pupil.establishment_id, dossier_id=found.id)
    db_session.commit()
    direction = make_staff("principale@college.fr", role="direction")
    client.post("/etablissement/deconnexion",
                data={"csrf_token": _csrf_token(client, "/etablissement/")})
    staff_login(direction)
    page = client.get(JOURNAL).get_data(as_text=True)
    assert "Journal intact" in page
    assert "Valeur corrigée par l&#39;établissement" in page and "sec" in page
    assert "Durand Léa" in page
    assert f"/etablissement/0750001A/dossier/{dossier.public_id}" in page
    assert "Nina" not in page  # another establishment's entry
    assert re.search(r"\d{1,2} [a-zéû]+\.? 20\d\d à \d\d:\d\d", page)
    filtered = client.get(f"{JOURNAL}?action=staff_invited").get_data(as_text=True)
    assert "Aucune action enregistrée de ce type" in filtered
    db_session.execute(text("UPDATE audit_entry SET action = 'x' WHERE seq = 1"))
    db_session.commit()
    assert "Le journal a été altéré" in client.get(JOURNAL).get_data(as_text=True)


def test_the_journal_is_paginated(client: FlaskClient, db_session: Session,
                                  make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    direction = make_staff(role="direction")
    establishment_id = direction.account.memberships[0].establishment_id
    for _ in range(55):
        audit.record(db_session, Actor.staff(direction.account.id), "staff_unlocked",
                     establishment_id=establishment_id, data={"staff": direction.account.id})
    db_session.commit()
    staff_login(direction)
    first = client.get(JOURNAL).get_data(as_text=True)
    assert "Page 1 sur 2" in first and first.count("Compte d&#39;agent débloqué") >= 50
    second = client.get(f"{JOURNAL}?page=2&action=staff_unlocked").get_data(as_text=True)
    assert "Page 2 sur 2" in second
    assert client.get(f"{JOURNAL}?page=abc").status_code == 200


def test_the_journal_has_no_write_route(app: Flask) -> None:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint == "staff.audit_log"]
    assert rules and all(r.methods is not None and r.methods <= {"GET", "HEAD", "OPTIONS"}
                         for r in rules)


def test_nav_links_follow_the_permissions(client: FlaskClient, make_staff: MakeStaff,
                                          staff_login: StaffLogin, make_account: MakeAccount,
                                          make_dossier: MakeDossier) -> None:
    account, _ = make_account()
    make_dossier(account)
    staff_login(make_staff(role="secretariat"))
    page = client.get("/etablissement/0750001A/reinscription-2026/").get_data(as_text=True)
    assert AGENTS not in page and JOURNAL not in page
    assert client.get(AGENTS).status_code == 403


def test_the_roles_table_of_the_docs_is_role_permissions() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "staff.md").read_text(encoding="utf-8")
    table = doc.split("<!-- roles-table: start -->")[1].split("<!-- roles-table: end -->")[0]
    header, _rule, *rows = [line.strip().strip("|").split("|")
                            for line in table.strip().splitlines()]
    columns = [c.strip() for c in header[1:]]
    assert columns == [*ROLE_LABELS.values(), "Administration"]
    granted: dict[str, set[str]] = {c: set() for c in columns}
    listed = set()
    for row in rows:
        permission = re.match(r"\s*`(\w+)`", row[0])
        assert permission, row
        listed.add(permission.group(1))
        for column, cell in zip(columns, row[1:], strict=True):
            assert cell.strip() in {"oui", "—"}, cell
            if cell.strip() == "oui":
                granted[column].add(permission.group(1))
    assert listed == {p.value for p in Permission}
    for role, label in ROLE_LABELS.items():
        assert granted[label] == {p.value for p in ROLE_PERMISSIONS[role]}, label
    assert granted["Administration"] == {p.value for p in ADMIN_PERMISSIONS}


def test_home_links_to_the_agents_and_the_journal_by_permission(
        app: Flask, make_staff: MakeStaff) -> None:
    direction, secretary = app.test_client(), app.test_client()
    _login(direction, make_staff(role="direction"))
    _login(secretary, make_staff(role="secretariat"))
    page = direction.get("/etablissement/").get_data(as_text=True)
    assert AGENTS in page and JOURNAL in page
    assert 'value="lecture" selected' in direction.get(AGENTS).get_data(as_text=True)
    page = secretary.get("/etablissement/").get_data(as_text=True)
    assert AGENTS not in page and JOURNAL not in page


def test_home_links_each_campaign_to_its_dashboard(
        app: Flask, make_staff: MakeStaff, make_account: MakeAccount,
        make_dossier: MakeDossier) -> None:
    """Every role lists dossiers: the campaign's title leads to its dashboard."""
    account, _code = make_account()
    make_dossier(account)
    for role in StaffRole:
        client = app.test_client()
        _login(client, make_staff(role=role))
        page = client.get("/etablissement/").get_data(as_text=True)
        link = '<a href="/etablissement/0750001A/reinscription-2026/">Réinscription 2026</a>'
        assert link in page, role
        assert client.get("/etablissement/0750001A/reinscription-2026/").status_code == 200


def test_the_infirmerie_prints_its_fiches_from_the_dashboard(
        app: Flask, make_staff: MakeStaff, make_account: MakeAccount,
        make_dossier: MakeDossier) -> None:
    """The infirmerie has no exports page (no EXPORT): its one export, the fiches infirmerie,
    is a button on the dashboard; the others see the exports link instead."""
    account, _code = make_account()
    make_dossier(account)
    dashboard = "/etablissement/0750001A/reinscription-2026/"
    nurse = app.test_client()
    _login(nurse, make_staff(role="infirmerie"))
    page = nurse.get(dashboard).get_data(as_text=True)
    assert "/exports\"" not in page
    assert 'action="/etablissement/0750001A/reinscription-2026/exports/fiches-infirmerie.pdf"' \
        in page
    queued = nurse.post("/etablissement/0750001A/reinscription-2026/exports/fiches-infirmerie.pdf",
                        data={"csrf_token": _csrf_token(nurse, dashboard)})
    assert queued.status_code in (302, 303) and "/taches/" in queued.headers["Location"]
    secretary = app.test_client()
    _login(secretary, make_staff(role="secretariat"))
    page = secretary.get(dashboard).get_data(as_text=True)
    assert 'href="/etablissement/0750001A/reinscription-2026/exports"' in page
    assert "fiches-infirmerie.pdf" not in page


def test_staff_time_writes_paris_time_in_french() -> None:
    assert staff_time(datetime(2026, 12, 3, 13, 5, tzinfo=UTC)) == "3 déc. 2026 à 14:05"
    assert staff_time(datetime(2026, 7, 14, 8, 0, tzinfo=UTC)) == "14 juil. 2026 à 10:00"
    assert staff_time(datetime(2026, 7, 14, 8, 0)) == "14 juil. 2026 à 10:00"  # naive: UTC
