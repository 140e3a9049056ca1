"""HTTP hardening on every route of ``app.url_map`` (issue 15, item 8): the security headers on
every answer, HSTS on HTTPS answers only, a Content-Security-Policy that no template needs to
loosen (no inline script or style anywhere), error pages without internals."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule
from werkzeug.test import TestResponse

from engine.config import ROOT
from engine.web import CSP, HSTS, SECURITY_HEADERS

from conftest import MakeAccount, MakeDossier, _csrf_token

TEMPLATES = ROOT / "templates"
#: a value for each URL variable; the family's own dossier id is put in by the test
PLACEHOLDERS = {"uai": "0750001A", "slug": "reinscription-2026", "page_id": "eleve",
                "document_id": "justificatif_domicile", "filename": "css/app.css",
                "name": "text", "fmt": "csv", "kind": "tableau", "purpose": "invitation",
                "audience": "not_started", "field_id": "note_secretariat"}


def _url(rule: Rule, public_id: str) -> str:
    values: dict[str, Any] = {}
    for name in rule.arguments:
        if isinstance(rule._converters[name], IntegerConverter):
            values[name] = 1
        else:
            values[name] = public_id if name == "public_id" else PLACEHOLDERS.get(name, "inconnu")
    return rule.build(values)[1]  # type: ignore[index]


def _requests(app: Flask, public_id: str) -> Iterator[tuple[str, str]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "auth.logout":
            continue  # would end the family's session in the middle of the walk
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, _url(rule, public_id)


def _problems(response: TestResponse, secure: bool) -> list[str]:
    found = [f"{name}: {response.headers.get(name)!r}" for name, value in
             SECURITY_HEADERS.items() if response.headers.get(name) != value]
    if response.headers.get("Strict-Transport-Security") != (HSTS if secure else None):
        found.append(f"HSTS: {response.headers.get('Strict-Transport-Security')!r}")
    if response.status_code >= 500:
        found.append(f"status {response.status_code}")
    return found


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_every_route_answers_with_the_security_headers(
        app: Flask, make_account: MakeAccount, make_dossier: MakeDossier, scheme: str) -> None:
    account, code = make_account()
    dossier = make_dossier(account)
    anonymous = app.test_client()
    family = app.test_client()
    response = family.post("/connexion", data={"csrf_token": _csrf_token(family),
                                               "login": account.login, "code": code})
    assert response.status_code == 302
    token = _csrf_token(family, f"/dossier/{dossier.public_id}/etape/eleve")
    problems, count = [], 0
    for client in (anonymous, family):
        for method, url in _requests(app, dossier.public_id):
            response = client.open(url, method=method, base_url=f"{scheme}://localhost",
                                   data={"csrf_token": token} if method == "POST" else None)
            count += 1
            problems += [f"{method} {url}: {p}" for p in _problems(response, scheme == "https")]
    assert not problems, "\n".join(problems)
    assert count > 100


def test_the_policy_allows_no_inline_script_or_style_nor_framing() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in CSP and "script-src" not in directives and "style-src" not in directives
    assert SECURITY_HEADERS["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in SECURITY_HEADERS["Permissions-Policy"]
    assert "max-age=31536000" in HSTS


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
                           re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=|\son[a-z]+\s*=|=\s*[\"']?javascript:",
                          re.IGNORECASE)


def _templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_holds_inline_script_style_or_handler(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(source), "an inline <script>: move it to static/js"
    assert not INLINE_STYLE.search(source), "inline style or event handler: use static files"


def test_the_json_data_block_is_data_not_script(client: FlaskClient) -> None:
    """The wizard's model travels in ``<script type="application/json">``, which the policy
    lets through because browsers never run it; it must stay of that type."""
    page = (TEMPLATES / "wizard" / "page.html").read_text(encoding="utf-8")
    assert '<script type="application/json" id="dossier-model">' in page


def test_an_unknown_method_and_a_malformed_request_show_no_internals(client: FlaskClient) -> None:
    for response in (client.open("/connexion", method="PATCH"),
                     client.post("/connexion", data="%ff%fe", content_type="text/plain"),
                     client.get("/dossier/%00/etape/eleve")):
        body = response.get_data(as_text=True)
        assert response.status_code < 500
        for internal in ("Traceback", "werkzeug", "flask", "sqlalchemy", "File \""):
            assert internal.lower() not in body.lower()


def test_hsts_follows_the_scheme_the_trusted_proxy_reports(
        make_app: Callable[..., Flask]) -> None:
    behind = make_app(proxy_hops=1).test_client()
    assert behind.get("/connexion", headers={"X-Forwarded-Proto": "https"}).headers[
        "Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in behind.get("/connexion").headers
    # without a trusted proxy, a client cannot claim HTTPS with a header
    direct = make_app().test_client()
    assert "Strict-Transport-Security" not in direct.get(
        "/connexion", headers={"X-Forwarded-Proto": "https"}).headers
