"""Staff login through the pages: password, then TOTP (enrolled on first login), the same
answer for every failure, session revocation, the absolute lifetime, single-use links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pyotp
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.db import utcnow
from engine.dossiers.staff import TokenPurpose, issue_token
from engine.web.staff.access import SESSION_KEY

from conftest import MakeStaff, _csrf_token
from staffkit import StaffUser

StaffLogin = Callable[[StaffUser], TestResponse]


def _password_step(client: FlaskClient, email: str, password: str) -> TestResponse:
    token = _csrf_token(client, "/etablissement/connexion")
    return client.post("/etablissement/connexion",
                       data={"csrf_token": token, "email": email, "password": password})


def test_login_with_password_and_totp_opens_the_home_page(
        client: FlaskClient, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    user = make_staff("secretariat@college.fr")
    assert client.get("/etablissement/").status_code == 302
    response = staff_login(user)
    assert response.status_code == 302 and response.location == "/etablissement/"
    page = client.get("/etablissement/").get_data(as_text=True)
    assert "Collège Jean Moulin" in page and "Secrétariat" in page


def test_the_password_alone_opens_nothing(client: FlaskClient, make_staff: MakeStaff) -> None:
    user = make_staff()
    assert _password_step(client, user.account.email, user.password).status_code == 302
    assert client.get("/etablissement/").status_code == 302


def test_failures_all_answer_the_same(client: FlaskClient, make_staff: MakeStaff) -> None:
    user = make_staff()
    pages = [_password_step(client, email, password)
             for email, password in [(user.account.email, "wrong"),
                                     ("nobody@college.fr", user.password),
                                     ("pas une adresse", user.password)]]
    assert {p.status_code for p in pages} == {200}
    assert all("Adresse électronique ou mot de passe incorrect." in p.get_data(as_text=True)
               for p in pages)


def test_a_wrong_or_replayed_code_is_refused(client: FlaskClient, make_staff: MakeStaff,
                                             staff_login: StaffLogin) -> None:
    user = make_staff()
    _password_step(client, user.account.email, user.password)
    token = _csrf_token(client, "/etablissement/connexion/code")
    wrong = "123456" if user.totp() != "123456" else "654321"
    response = client.post("/etablissement/connexion/code",
                           data={"csrf_token": token, "code": wrong})
    assert response.status_code == 422
    assert staff_login(user).status_code == 302
    # the same code again, from another browser: refused (replay)
    other = client.application.test_client()
    token = _csrf_token(other, "/etablissement/connexion")
    other.post("/etablissement/connexion", data={
        "csrf_token": token, "email": user.account.email, "password": user.password})
    token = _csrf_token(other, "/etablissement/connexion/code")
    assert other.post("/etablissement/connexion/code", data={
        "csrf_token": token, "code": user.totp()}).status_code == 422


def test_first_login_enrols_the_second_factor_and_shows_recovery_codes(
        client: FlaskClient, make_staff: MakeStaff) -> None:
    user = make_staff(enrolled=False)
    response = _password_step(client, user.account.email, user.password)
    assert response.location == "/etablissement/double-authentification"
    page = client.get("/etablissement/double-authentification").get_data(as_text=True)
    assert "<svg" in page
    with client.session_transaction() as session:
        secret = session["staff_enrol_secret"]
    token = _csrf_token(client, "/etablissement/double-authentification")
    response = client.post("/etablissement/double-authentification",
                           data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert response.location == "/etablissement/codes-de-secours"
    page = client.get("/etablissement/codes-de-secours").get_data(as_text=True)
    assert page.count("<li><code>") == 10
    # shown once
    assert client.get("/etablissement/codes-de-secours").status_code == 302
    assert client.get("/etablissement/").status_code == 200


def test_logout_everywhere_ends_a_session_captured_before(
        client: FlaskClient, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    user = make_staff()
    staff_login(user)
    with client.session_transaction() as session:
        captured = dict(session)
    token = _csrf_token(client, "/etablissement/")
    client.post("/etablissement/deconnexion-partout", data={"csrf_token": token})
    with client.session_transaction() as session:
        session.update(captured)
    assert client.get("/etablissement/").status_code == 302


def test_a_session_older_than_the_absolute_lifetime_ends(
        client: FlaskClient, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    user = make_staff()
    staff_login(user)
    with client.session_transaction() as session:
        session[SESSION_KEY]["since"] = (utcnow() - timedelta(hours=11)).timestamp()
    assert client.get("/etablissement/").status_code == 302


def test_invitation_link_sets_the_password_once(client: FlaskClient, make_staff: MakeStaff,
                                                db_session: Session) -> None:
    user = make_staff()
    token = issue_token(db_session, user.account, TokenPurpose.RESET, ttl=timedelta(hours=1))
    db_session.commit()
    path = f"/etablissement/lien/reset/{token}"
    assert client.get(path).status_code == 200
    csrf = _csrf_token(client, path)
    weak = client.post(path, data={"csrf_token": csrf, "password": "court", "confirm": "court"})
    assert weak.status_code == 422
    new = "Un-Autre-Mot-2-Passe"
    assert client.post(path, data={"csrf_token": csrf, "password": new,
                                   "confirm": new}).status_code == 302
    assert client.get(path).status_code == 410
    assert client.get("/etablissement/lien/autre/x").status_code == 404
    assert _password_step(client, user.account.email, new).status_code == 302


def test_logout_ends_a_session_captured_before(client: FlaskClient, make_staff: MakeStaff,
                                               staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    with client.session_transaction() as session:
        captured = dict(session)
    token = _csrf_token(client, "/etablissement/")
    client.post("/etablissement/deconnexion", data={"csrf_token": token})
    with client.session_transaction() as session:
        session.update(captured)
    assert client.get("/etablissement/").status_code == 302
