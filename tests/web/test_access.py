"""Who sees which dossier: the dashboard lists one's own children only, and every route taking
a dossier id answers 404 for another family's dossier, exactly as for an id that does not exist
(C-01, C-02 in reference/security.md)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from engine.dossiers.models import Dossier, FamilyAccount

#: the logout form's CSRF token is signed with the current second: not part of the comparison
_CSRF_VALUE = re.compile(rb'(name="csrf_token"[^>]*value=")[^"]*')

Login = Callable[[str, str], TestResponse]
MakeAccount = Callable[..., tuple[FamilyAccount, str]]
MakeDossier = Callable[..., Dossier]


def _is_staff(rule: Rule) -> bool:
    return rule.endpoint.startswith("staff.")


def _dossier_urls(app: Flask, public_id: str, *, staff: bool = False) -> list[str]:
    """Every GET route that takes a dossier id, filled with ``public_id``: the family's routes,
    or with ``staff`` the school's."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "public_id" in rule.arguments and "GET" in (rule.methods or ()) \
                and _is_staff(rule) is staff:
            values = {name: "x" for name in rule.arguments} | {"public_id": public_id}
            urls.append(rule.build(values)[1])  # type: ignore[index]
    assert urls, "no dossier route found"
    return urls


def test_dashboard_lists_own_children_only(client: FlaskClient, login: Login,
                                           make_account: MakeAccount,
                                           make_dossier: MakeDossier) -> None:
    parent, code = make_account()
    stranger, _ = make_account("Autre Famille")
    make_dossier(parent, first_name="Léa", last_name="Martin")
    make_dossier(parent, first_name="Hugo", last_name="Martin")
    make_dossier(stranger, first_name="Nina", last_name="Durand")
    login(parent.login, code)
    page = client.get("/mes-dossiers").get_data(as_text=True)
    assert "Léa Martin" in page
    assert "Hugo Martin" in page
    assert "Nina" not in page
    assert "Réinscription 2026" in page
    assert "Non commencé" in page


def test_dashboard_without_dossier_says_so(client: FlaskClient, login: Login,
                                           make_account: MakeAccount) -> None:
    parent, code = make_account()
    login(parent.login, code)
    assert "Aucun dossier" in client.get("/mes-dossiers").get_data(as_text=True)


def test_both_guardians_see_the_dossier(app: Flask, csrf_token: Callable[..., str],
                                        make_account: MakeAccount,
                                        make_dossier: MakeDossier) -> None:
    mother, mother_code = make_account("Mère")
    father, father_code = make_account("Père")
    dossier = make_dossier(mother, father)
    for account, code in [(mother, mother_code), (father, father_code)]:
        client = app.test_client()
        client.post("/connexion", data={"csrf_token": csrf_token(client),
                                        "login": account.login, "code": code})
        assert client.get(f"/dossier/{dossier.public_id}").status_code == 200


def _without_csrf(response: TestResponse) -> bytes:
    body = response.get_data()
    assert _CSRF_VALUE.search(body), "the page has no form: nothing to blank"
    return _CSRF_VALUE.sub(rb"\1", body)


def test_foreign_dossier_is_not_found_on_every_route(app: Flask, client: FlaskClient,
                                                     login: Login, make_account: MakeAccount,
                                                     make_dossier: MakeDossier) -> None:
    parent, code = make_account()
    stranger, _ = make_account("Autre Famille")
    own = make_dossier(parent)
    foreign = make_dossier(stranger, first_name="Nina", last_name="Durand")
    login(parent.login, code)
    for url in _dossier_urls(app, own.public_id):
        # the own dossier is found (page or redirect); "x" stands for a made-up page or file
        status = client.get(url).status_code
        assert status in {200, 302} or "/x" in url, url
    missing_body = _without_csrf(client.get(f"/dossier/{secrets.token_urlsafe(16)}"))
    for url in _dossier_urls(app, foreign.public_id):
        response = client.get(url)
        assert response.status_code == 404, url
        assert _without_csrf(response) == missing_body
        assert "Nina" not in response.get_data(as_text=True)
    # a family account is nobody on the school's side: its login page, for any dossier
    for url in _dossier_urls(app, own.public_id, staff=True):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/etablissement/connexion"), url


def test_foreign_dossier_is_not_found_on_every_post_route(
        app: Flask, client: FlaskClient, login: Login, csrf_token: Callable[..., str],
        make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    parent, code = make_account()
    stranger, _ = make_account("Autre Famille")
    make_dossier(parent)
    foreign = make_dossier(stranger, first_name="Nina", last_name="Durand")
    login(parent.login, code)
    token = csrf_token(client, "/mes-dossiers")
    routes = [rule for rule in app.url_map.iter_rules()
              if "public_id" in rule.arguments and "POST" in (rule.methods or ())
              and not _is_staff(rule)]
    assert len(routes) >= 8, "the wizard's and the documents' writes are all listed"
    for rule in routes:
        values = {name: "x" for name in rule.arguments} | {"public_id": foreign.public_id}
        url = rule.build(values)[1]  # type: ignore[index]
        # a well-formed post (valid token, version, action): only the access check refuses it
        response = client.post(url, data={"csrf_token": token, "row_version": "1",
                                          "action": "save", "score": "5", "page": "x"})
        assert response.status_code == 404, url
        assert "Nina" not in response.get_data(as_text=True)
    staff_routes = [rule for rule in app.url_map.iter_rules()
                    if "public_id" in rule.arguments and "POST" in (rule.methods or ())
                    and _is_staff(rule)]
    for rule in staff_routes:
        values = {name: "x" for name in rule.arguments} | {"public_id": foreign.public_id}
        response = client.post(rule.build(values)[1],  # type: ignore[index]
                               data={"csrf_token": token, "row_version": "1"})
        assert response.status_code == 302, rule
        assert response.headers["Location"].startswith("/etablissement/connexion")


@pytest.mark.parametrize("probe", [
    "1", "0", "-1", "../mes-dossiers", "%2e%2e%2f", "a" * 22, "a" * 500, "%00" * 22,
    "' OR '1'='1", "DROP TABLE dossier", "é" * 22])
def test_any_probed_id_is_not_found(client: FlaskClient, login: Login, make_account: MakeAccount,
                                    make_dossier: MakeDossier, probe: str) -> None:
    parent, code = make_account()
    make_dossier(parent)
    login(parent.login, code)
    assert client.get(f"/dossier/{probe}").status_code == 404


def test_dossier_pages_need_a_login(client: FlaskClient, make_account: MakeAccount,
                                    make_dossier: MakeDossier) -> None:
    parent, _ = make_account()
    dossier = make_dossier(parent)
    response = client.get(f"/dossier/{dossier.public_id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")
    assert client.get("/mes-dossiers").status_code == 302


def test_public_ids_are_random_and_long(make_account: MakeAccount,
                                        make_dossier: MakeDossier) -> None:
    parent, _ = make_account()
    first = make_dossier(parent)
    second = make_dossier(parent, first_name="Hugo")
    assert len(first.public_id) >= 22
    assert first.public_id != second.public_id
