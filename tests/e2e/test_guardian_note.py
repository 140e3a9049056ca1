"""The note under a per-guardian field (what the other guardian answered) follows the field's
visibility: hidden live by the page's script when the field's condition turns false, shown
again when it turns true, and rendered hidden by the server without scripts. Screenshots at
360 and 1280 px (``Visit.check``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from .conftest import LiveServer, Visit
from .family import two_guardians
from .test_login import login

pytestmark = pytest.mark.browser

SOURCE = """\
language: 1
id: sortie
title: Réinscription 2027
establishment: {uai: "0690002B", name: Collège des Deux Rives}
opens: 2027-05-01
closes: 2027-06-30
pages:
  - id: sortie
    title: Sortie scolaire
    fields:
      - id: voyage
        type: boolean
        label: Votre enfant part-il en voyage scolaire ?
      - id: autorisation
        type: consent
        label: Autorisation de sortie
        statement: J'autorise mon enfant à participer au voyage scolaire.
        scope: per_guardian
        visible_if: voyage == true
"""

STATEMENT = "J'autorise mon enfant à participer au voyage scolaire."


def test_the_other_guardians_answer_hides_with_its_question(
        visit: Callable[..., Visit], live_server: LiveServer) -> None:
    sophie, marc, lea = two_guardians(live_server.app, SOURCE, uai="0690002B", slug="sortie")
    url = f"/dossier/{lea}/etape/sortie"
    first = visit()
    first.goto("/connexion")
    login(first, sophie)
    first.goto(url)
    first.page.get_by_role("radio", name="Oui").check()
    first.page.get_by_label(STATEMENT).check()
    first.page.get_by_role("button", name="Enregistrer et finir plus tard").click()

    second = visit()
    second.goto("/connexion")
    login(second, marc)
    second.goto(url)
    page = second.page
    note = page.locator("#f-autorisation-guardians")
    expect(note).to_contain_text("Sophie MARTIN : Oui, le ")
    expect(note).to_be_visible()
    second.check("Marc - reponse de Sophie")
    loads = second.loads
    page.get_by_role("radio", name="Non").check()
    expect(page.get_by_label(STATEMENT)).to_be_hidden()
    expect(note).to_be_hidden()
    second.check("Marc - question cachee")
    page.get_by_role("radio", name="Oui").check()
    expect(page.get_by_label(STATEMENT)).to_be_visible()
    expect(note).to_be_visible()
    assert second.loads == loads, "the page was reloaded: the note must follow live"
    page.get_by_role("radio", name="Non").check()
    page.get_by_role("button", name="Enregistrer et finir plus tard").click()

    # without scripts the server renders the note hidden with its question, then shown
    plain = visit(scripts=False)
    plain.goto("/connexion")
    login(plain, marc)
    plain.goto(url)
    note = plain.page.locator("#f-autorisation-guardians")
    expect(note).to_be_attached()
    expect(note).to_be_hidden()
    plain.check("Marc sans script - question cachee")
    plain.page.get_by_role("radio", name="Oui").check()
    plain.page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    plain.goto(url)
    expect(plain.page.locator("#f-autorisation-guardians")).to_contain_text(
        "Sophie MARTIN : Oui, le ")
    expect(plain.page.locator("#f-autorisation-guardians")).to_be_visible()
