"""form.js in headless Chromium: the live page agrees with the server.

Chromium talks to the app through Playwright's request routing, answered by the Flask test
client of the logged-in family (no server thread): every script, style and form post is the
real one. Skipped when Debian's chromium is missing, except in CI.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Page, Route, sync_playwright
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.config import ROOT
from engine.dossiers.models import Dossier, FamilyAccount

from .wizardkit import PREFILL, page_url, stored_answers

pytestmark = pytest.mark.browser

Login = Callable[[str, str], TestResponse]
MakeAccount = Callable[..., tuple[FamilyAccount, str]]
MakeDossier = Callable[..., Dossier]
#: a potentially trustworthy origin, so the security headers apply as in production
ORIGIN = "http://localhost"
ARTIFACTS = ROOT / "tests" / "artifacts" / "e2e"


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is needed for the browser tests in CI")
        pytest.skip("Debian's chromium is not installed")
    return path


@pytest.fixture
def family(client: FlaskClient, login: Login, make_account: MakeAccount,
           make_dossier: MakeDossier) -> tuple[FlaskClient, Dossier]:
    account, code = make_account("Claire Martin", personne_id="1001")
    dossier = make_dossier(account, prefill=PREFILL)
    login(account.login, code)
    return client, dossier


Scenario = Callable[[Page], None]


@pytest.fixture
def in_browser(family: tuple[FlaskClient, Dossier]) -> Callable[[Scenario], None]:
    """``in_browser(scenario)``: run ``scenario(page)`` in a Chromium tab whose every request
    is answered by the family's test client, then check no script failed.

    Playwright runs in a thread of its own, so these tests also work next to the end-to-end
    suite, whose Playwright instance holds an event loop in the main thread.
    """
    client, _ = family
    path = _chromium()

    def answer(route: Route) -> None:
        request = route.request
        url = urlsplit(request.url)
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in {"content-type", "referer"}}
        response = client.open(url.path + (f"?{url.query}" if url.query else ""),
                               method=request.method, data=request.post_data_buffer,
                               headers=headers)
        route.fulfill(status=response.status_code, body=response.get_data(),
                      headers={k: v for k, v in response.headers.items()
                               if k.lower() != "content-length"})

    def play(scenario: Scenario, failures: list[BaseException]) -> None:
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=path,
                                                     args=["--no-sandbox"])
                try:
                    context = browser.new_context(viewport={"width": 360, "height": 800})
                    context.route(f"{ORIGIN}/**", answer)
                    tab = context.new_page()
                    errors: list[str] = []
                    tab.on("pageerror", lambda error: errors.append(str(error)))
                    # a page refused with 422 (errors to correct) is logged: not a script error
                    tab.on("console", lambda m: errors.append(m.text)
                           if m.type == "error" and "status of 422" not in m.text else None)
                    scenario(tab)
                    assert errors == []
                finally:
                    browser.close()
        except BaseException as exc:  # re-raised in the test's thread
            failures.append(exc)

    def run(scenario: Scenario) -> None:
        failures: list[BaseException] = []
        thread = threading.Thread(target=play, args=(scenario, failures))
        thread.start()
        thread.join()
        if failures:
            raise failures[0]

    return run


def _open(page: Page, dossier: Dossier, page_id: str) -> None:
    page.goto(ORIGIN + page_url(dossier.public_id, page_id))


def _text(page: Page, selector: str) -> str:
    """Visible text with no-break spaces made plain, for phrase assertions."""
    return page.locator(selector).inner_text().replace("\u00a0", " ").replace("\u202f", " ")


def _live(page: Page) -> str:
    page.wait_for_timeout(300)  # the page waits 120 ms after the last keystroke
    return _text(page, "[data-live]")


def test_questions_and_fees_follow_the_answers_live(
        in_browser: Callable[[Scenario], None], family: tuple[FlaskClient, Dossier],
        db_session: Session) -> None:
    _, dossier = family

    def scenario(page: Page) -> None:
        _open(page, dossier, "restauration")
        quotient = page.locator('[data-key="quotient_familial"]')
        fees = page.locator("[data-fees]")
        assert quotient.is_hidden() and fees.is_hidden()
        page.get_by_label("Demi-pensionnaire 4 jours", exact=False).check()
        _live(page)
        assert quotient.is_visible()
        assert "604,80 €" in _text(page, "[data-fees]")
        page.get_by_label("Quotient familial CAF").fill("450")
        assert "Total des frais : 216,00 €." in _live(page)
        # word for word what the server writes
        assert ("Quotient familial 450 → tranche A, 1,50 € × 4 repas par semaine × 36 "
                "semaines = 216,00 €") in _text(page, "[data-fees]")
        assert "144" in page.locator('[data-computed="repas_annuels"]').inner_text()
        page.locator("#f-boursier-oui").check()
        _live(page)
        echelon = page.locator('[data-key="boursier_echelon"]')
        assert echelon.is_visible()
        assert echelon.locator(".required").count() == 1
        # back to externe: hidden and cleared (on_hide: clear), as the server will store it
        page.get_by_label("Externe", exact=True).check()
        _live(page)
        assert quotient.is_hidden() and fees.is_hidden()
        assert page.get_by_label("Quotient familial CAF").input_value() == ""
        page.get_by_role("button", name="Suivant", exact=True).click()
        page.wait_for_url("**/etape/associations")

    in_browser(scenario)
    stored = stored_answers(db_session, dossier)
    assert stored["regime"] == "externe" and stored["quotient_familial"] is None


def test_repeat_rows_are_added_and_removed_in_the_page(
        in_browser: Callable[[Scenario], None], family: tuple[FlaskClient, Dossier],
        db_session: Session) -> None:
    _, dossier = family

    def scenario(page: Page) -> None:
        _open(page, dossier, "urgence")
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        rows = page.locator(".repeat-row:visible")
        assert rows.count() == 1
        assert page.get_by_role("button", name="Retirer contact 1").is_hidden()
        page.get_by_label("Nom et prénom").fill("Jeanne DURAND")
        page.get_by_role("button", name="Ajouter un contact").click()
        assert rows.count() == 2 and posts == []
        assert page.evaluate("document.activeElement.name") == "f-contacts_urgence-1-nom"
        assert "Contact 2 ajouté." in _live(page)
        page.locator('[name="f-contacts_urgence-1-nom"]').fill("Marc PETIT")
        page.get_by_role("button", name="Ajouter un contact").click()
        assert page.get_by_role("button", name="Ajouter un contact").is_hidden()  # max 3
        page.locator('[name="f-contacts_urgence-2-nom"]').fill("Lina PETIT")
        page.get_by_role("button", name="Retirer contact 1").click()
        assert rows.count() == 2 and posts == []
        assert page.locator('[name="f-contacts_urgence-0-nom"]').input_value() == "Marc PETIT"
        assert page.locator('[name="f-contacts_urgence-1-nom"]').input_value() == "Lina PETIT"
        page.get_by_role("button", name="Enregistrer et finir plus tard").click()
        page.wait_for_load_state()

    in_browser(scenario)
    saved = stored_answers(db_session, dossier)["contacts_urgence"]
    assert [r["nom"] for r in saved] == ["Marc PETIT", "Lina PETIT"]
    assert all(r["_key"].startswith("new-") for r in saved)


def test_error_summary_takes_the_focus(in_browser: Callable[[Scenario], None],
                                       family: tuple[FlaskClient, Dossier]) -> None:
    _, dossier = family

    def scenario(page: Page) -> None:
        _open(page, dossier, "vie_scolaire")
        page.get_by_label("Sortie libre", exact=True).check()
        _live(page)
        assert page.locator('[data-key="consentement_sortie_libre"]').is_visible()
        page.get_by_role("button", name="Suivant", exact=True).click()
        page.wait_for_load_state()
        assert page.evaluate("document.activeElement.id") == "erreurs"
        page.get_by_role("link", name="Sortie libre : Cochez la case", exact=False).click()
        assert page.evaluate("location.hash") == "#f-consentement_sortie_libre"

    in_browser(scenario)


def test_steps_fold_on_a_phone_and_show_on_a_desktop(in_browser: Callable[[Scenario], None],
                                                     family: tuple[FlaskClient, Dossier]
                                                     ) -> None:
    _, dossier = family

    def scenario(page: Page) -> None:
        _open(page, dossier, "scolarite")
        steps = page.get_by_role("navigation", name="Étapes du dossier")
        review_step = steps.get_by_role("link", name="Récapitulatif et envoi")
        # 360 px: one line, the list behind it
        assert not review_step.is_visible()
        steps.get_by_text("Toutes les étapes").click()
        assert review_step.is_visible()
        # 1280 px: the list is always there, no toggle
        page.set_viewport_size({"width": 1280, "height": 800})
        page.reload()
        assert review_step.is_visible()
        assert not steps.get_by_text("Toutes les étapes").is_visible()

    in_browser(scenario)


def test_a_search_box_narrows_the_country_list(
        in_browser: Callable[[Scenario], None], family: tuple[FlaskClient, Dossier],
        db_session: Session) -> None:
    _, dossier = family

    def scenario(page: Page) -> None:
        _open(page, dossier, "famille")
        country = page.locator('select[name="f-responsables-0-adresse-country"]')
        assert country.input_value() == "FR"
        search = page.get_by_label("Rechercher un pays dans la liste").first
        search.fill("ETATS")  # accents and case ignored
        names = country.locator("option").all_inner_texts()
        assert "États-Unis" in names and "Belgique" not in names and "France" in names  # chosen
        search.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "country-search-360.png"))
        search.fill("belg")
        assert country.input_value() == "BE"  # the one match is chosen
        page.wait_for_timeout(50)
        assert "Belgique choisi." in page.locator("[aria-live]").all_inner_texts()
        search.fill("")
        assert country.locator("option").count() > 190  # the whole list again
        assert country.input_value() == "BE"
        page.get_by_role("button", name="Enregistrer et finir plus tard").click()
        page.wait_for_load_state()

    in_browser(scenario)
    claire = stored_answers(db_session, dossier)["responsables"][0]
    assert claire["adresse"]["country"] == "BE"
