"""Every response carries the security headers (P-01); error pages are French and never show a
traceback (P-03); oversized bodies are refused early (XU-10)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.web import SECURITY_HEADERS


@pytest.mark.parametrize("path", ["/connexion", "/page-inexistante", "/static/css/app.css"])
def test_security_headers_on_every_response(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_pages_are_not_cached_but_static_files_may_be(client: FlaskClient) -> None:
    assert client.get("/connexion").headers["Cache-Control"] == "no-store"
    assert client.get("/static/css/app.css").headers.get("Cache-Control") != "no-store"


def test_session_cookie_is_httponly_and_samesite(client: FlaskClient) -> None:
    cookie = client.get("/connexion").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_cookie_is_secure_with_host_prefix(make_app: Callable[..., Flask]) -> None:
    app = make_app(testing=False, secure_cookies=True)
    cookie = app.test_client().get("/connexion").headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie


def _assert_french_page(body: str, title: str) -> None:
    assert '<html lang="fr">' in body
    assert title in body
    assert "Traceback" not in body
    assert "werkzeug" not in body.lower()


def test_404_page_is_french(client: FlaskClient) -> None:
    response = client.get("/nulle-part")
    assert response.status_code == 404
    _assert_french_page(response.get_data(as_text=True), "Page introuvable")


def test_405_page_is_french(client: FlaskClient) -> None:
    response = client.put("/connexion")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    _assert_french_page(response.get_data(as_text=True), "Action impossible")


def test_413_page_is_french(make_app: Callable[..., Flask]) -> None:
    app = make_app(max_request_bytes=1024)
    response = app.test_client().post("/connexion", data={"login": "x" * 5000, "code": "y"})
    assert response.status_code == 413
    _assert_french_page(response.get_data(as_text=True), "Envoi trop volumineux")


def test_500_page_is_french_with_a_reference(make_app: Callable[..., Flask],
                                             caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    _assert_french_page(body, "Erreur technique")
    assert "secret detail" not in body
    reference = body.split("<strong>")[1].split("</strong>")[0]
    assert reference in caplog.text


def test_stylesheet_is_served(client: FlaskClient) -> None:
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "--color-primary" in response.get_data(as_text=True)
