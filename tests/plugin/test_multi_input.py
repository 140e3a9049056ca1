"""A plugin type entered in two inputs (dossiersco_piece: kind + number of an identity document).

The plugin package holds all of it, a class, a partial and a browser twin script, and the
engine renders it without JavaScript, parses the posted inputs, validates, displays, exports,
lets conditions read ``piece.kind``, and evaluates it the same way in the browser twin.
"""

from __future__ import annotations

import importlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.campaign import Campaign, check_source, parse_source
from engine.dossiers.models import Dossier, FamilyAccount
from engine.fields import FieldRegistry, FieldValueError, new_registry
from engine.rules.client import client_model

from campaign.helpers import campaign_text
from rules.test_twin import assert_same, server_view
from web.test_wizard_browser import ORIGIN, Scenario, in_browser
from web.wizardkit import post_page

__all__ = ["in_browser"]  # the fixture, on this module's ``family``

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "dossiersco_piece" / "assets" / "piece_identite.js"
FIELDS = """\
- id: piece
  type: piece_identite
  label: Pièce d'identité de l'élève
  required: true
  kinds: [cni, passeport]
- id: visa
  type: text
  label: Numéro de visa
  visible_if: piece.kind == 'passeport'
  required: true
"""
CAMPAIGN = campaign_text(FIELDS)


@pytest.fixture()
def registry(monkeypatch: pytest.MonkeyPatch) -> FieldRegistry:
    monkeypatch.syspath_prepend(str(HERE))
    importlib.invalidate_caches()
    return new_registry()


def _campaign(registry: FieldRegistry) -> Campaign:
    campaign, diagnostics = check_source(parse_source(CAMPAIGN), registry)
    assert diagnostics == [] and campaign is not None
    return campaign


def test_the_type_parses_validates_displays_and_exports(registry: FieldRegistry) -> None:
    spec = _campaign(registry).fields["piece"]
    kind = spec.type
    assert kind.input_parts == ("kind", "number") and kind.anchor(spec) == "-kind"
    stored = kind.parse_input(["passeport", " 12ab 34567 "], spec)
    assert stored == {"kind": "passeport", "number": "12AB34567"}
    assert list(kind.validate(stored, spec)) == []
    assert kind.display(stored, spec) == "Passeport n° 12AB34567"
    assert kind.export(stored, spec) == {".kind": "passeport", ".number": "12AB34567"}
    assert kind.parse_input(["", "  "], spec) is None
    assert list(kind.validate({"kind": "", "number": "12"}, spec)) == [
        "Indiquez le type de pièce.", "Le numéro comporte de 6 à 20 caractères."]
    with pytest.raises(FieldValueError, match="types de pièce proposés"):
        kind.parse_input(["titre_sejour", "123456"], spec)  # not among this field's kinds
    assert kind.unparsed(["titre_sejour", "123456"], spec) == {"kind": "titre_sejour",
                                                               "number": "123456"}
    assert kind.diff({"kind": "cni", "number": "ab 123456"}, {"kind": "cni", "number": "AB123456"},
                     spec) is None


def test_conditions_read_the_parts(registry: FieldRegistry) -> None:
    campaign, diagnostics = check_source(parse_source(CAMPAIGN.replace(
        "piece.kind ==", "piece.sort ==")), registry)
    assert campaign is None and [d.code.name for d in diagnostics] == ["EXPR_003"]
    campaign = _campaign(registry)
    case = {"answers": {"piece": {"kind": "passeport", "number": "12AB34567"}},
            "context": {"today": "2027-05-10"}}
    view = server_view(campaign, case)
    assert "visa" in view["visible"] and "visa" in view["required"]


def test_the_browser_twin_gives_what_the_server_gives(registry: FieldRegistry, node: str,
                                                      tmp_path: Path) -> None:
    campaign = _campaign(registry)
    answers: list[Any] = [
        {"kind": "passeport", "number": "12ab 34567"}, {"kind": "cni", "number": ""},
        {"kind": "", "number": "AB123456"}, {"kind": "titre_sejour", "number": "123456"},
        {"kind": "cni", "number": "12-34"}, {"kind": "CNI ", "number": "x1"},
        {"kind": "passeport", "number": "1" * 21}, {"kind": "", "number": ""}, None,
        "passeport", ["cni"], {"kind": 7, "number": 1234567}, {"number": "ABCDEF"},
    ]
    cases = [{"answers": {"piece": a, "visa": "V1"}, "context": {"today": "2027-05-10"}}
             for a in answers]
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps({"model": client_model(campaign), "scripts": [str(SCRIPT)],
                                 "cases": cases}), encoding="utf-8")
    proc = subprocess.run([node, str(HERE / "run_twin.js"), str(batch)], capture_output=True,
                          text=True, encoding="utf-8", timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert_same(answers, got, [server_view(campaign, c) for c in cases])
    assert got[0]["errors"] == {} and "Indiquez le numéro de la pièce." in got[1]["errors"]["piece"]


# -- in the wizard, without JavaScript --------------------------------------------------------

MakeAccount = Callable[..., tuple[FamilyAccount, str]]


@pytest.fixture
def app(registry: FieldRegistry, make_app: Callable[..., Flask]) -> Flask:
    """The app, built with the plugins of this folder installed."""
    return make_app()


def _page(client: FlaskClient, dossier: Dossier) -> str:
    response = client.get(f"/dossier/{dossier.public_id}/etape/eleve")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _post(client: FlaskClient, dossier: Dossier, html: str, kind: str, number: str,
          ) -> TestResponse:
    return post_page(client, dossier.public_id, "eleve",
                     {"f-piece-kind": kind, "f-piece-number": number, "f-visa": "V1"},
                     html=html)


def test_the_wizard_renders_parses_and_shows_the_two_inputs(
        app: Flask, client: FlaskClient, make_account: MakeAccount,
        make_dossier: Callable[..., Dossier], login: Callable[[str, str], TestResponse],
        db_session: Session) -> None:
    account, code = make_account()
    dossier = make_dossier(account, campaign="piece", source=CAMPAIGN)
    login(account.login, code)
    html = _page(client, dossier)
    assert '<select id="f-piece-kind" name="f-piece-kind"' in html
    assert '<option value="titre_sejour"' not in html  # only this field's kinds
    assert 'name="f-piece-number" value=""' in html
    assert '<script src="/static/fields/piece_identite.js" defer></script>' in html
    script = client.get("/static/fields/piece_identite.js")
    assert script.status_code == 200 and b"registerType('piece_identite'" in script.data
    assert client.get("/static/fields/iban.js").status_code == 404  # a type without a script

    response = _post(client, dossier, html, "cni", "12-34")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Le numéro ne comporte que des lettres et des chiffres." in page
    assert 'href="#f-piece-kind"' in page  # the error summary links to the first input
    assert 'name="f-piece-number" value="12-34"' in page  # kept as typed

    response = _post(client, dossier, page, "passeport", "12ab 34567")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db_session.expire_all()
    found = db_session.get(Dossier, dossier.id)
    assert found is not None
    assert found.answers["piece"] == {"kind": "passeport", "number": "12AB34567"}
    assert found.answers["visa"] == "V1"
    review = client.get(f"/dossier/{dossier.public_id}/recapitulatif")
    assert "Passeport n° 12AB34567" in review.get_data(as_text=True)


# -- in the browser: form.js reads the two inputs, the plugin's twin evaluates them ------------

@pytest.fixture
def family(client: FlaskClient, login: Callable[[str, str], TestResponse],
           make_account: MakeAccount, make_dossier: Callable[..., Dossier],
           ) -> tuple[FlaskClient, Dossier]:
    """The family's browser on a dossier of the two-input campaign (for ``in_browser``)."""
    account, code = make_account()
    dossier = make_dossier(account, campaign="piece", source=CAMPAIGN)
    login(account.login, code)
    return client, dossier


@pytest.mark.browser
def test_the_live_page_reads_the_two_inputs(in_browser: Callable[[Scenario], None],
                                            family: tuple[FlaskClient, Dossier],
                                            db_session: Session) -> None:
    _, dossier = family

    def scenario(page: Page) -> None:
        page.goto(ORIGIN + f"/dossier/{dossier.public_id}/etape/eleve")
        visa = page.locator('[data-key="visa"]')
        assert visa.is_hidden()
        page.select_option("#f-piece-kind", "passeport")
        page.fill("#f-piece-number", "12ab 34567")
        page.wait_for_timeout(300)  # the page waits 120 ms after the last keystroke
        assert visa.is_visible()  # piece.kind == 'passeport', evaluated in the browser
        page.select_option("#f-piece-kind", "cni")
        page.wait_for_timeout(300)
        assert visa.is_hidden()
        page.get_by_role("button", name="Vérifier le dossier", exact=True).click()
        page.wait_for_url("**/recapitulatif")

    in_browser(scenario)
    db_session.expire_all()
    found = db_session.get(Dossier, dossier.id)
    assert found is not None and found.answers["piece"] == {"kind": "cni", "number": "12AB34567"}
