"""Issue 14, documents per row, in the browser: Marc becomes Léa's tuteur, so a justificatif is
asked for him alone, under his name; once he is her father again, the file he sent is no
longer asked and stays shown for the family to delete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer, Visit
from .test_family_parity import MARC, SOPHIE, _household
from .test_journey import a_pdf, group, upload
from .test_login import login

pytestmark = pytest.mark.browser

MARC_SLOT = f'[data-document="justificatif_responsabilite~{MARC["personne_id"]}"]'
SOPHIE_SLOT = f'[data-document="justificatif_responsabilite~{SOPHIE["personne_id"]}"]'


def _link(v: Visit, dossier: str, relationship: str) -> None:
    """Marc's « Lien avec l'élève », saved."""
    v.goto(f"/dossier/{dossier}/etape/famille")
    group(v.page, "Responsable légal 2").get_by_label("Lien avec l'élève").select_option(
        relationship)
    v.page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    expect(v.page.get_by_role("status").filter(has_text="enregistrées")).to_be_visible()


def test_a_justificatif_for_the_tuteur_alone(visit: Callable[..., Visit],
                                              live_server: LiveServer, tmp_path: Path) -> None:
    household = _household(live_server, {"Léa": "5e"})
    lea = household.dossiers["Léa"]
    v = visit()
    v.goto("/connexion")
    login(v, household.sophie)
    page: Page = v.page
    _link(v, lea, "50")
    v.goto(f"/dossier/{lea}/etape/pieces")
    marc = page.locator(MARC_SLOT)
    expect(marc.locator("legend")).to_contain_text(
        "Justificatif de responsabilité légale — Marc DURAND")
    expect(page.locator(SOPHIE_SLOT)).to_be_hidden()
    v.check("document par responsable")
    upload(page, MARC_SLOT[len('[data-document="'):-2], a_pdf(tmp_path / "jugement.pdf",
                                                              "Jugement de tutelle"))

    _link(v, lea, "20")
    v.goto(f"/dossier/{lea}/etape/pieces")
    expect(marc).to_be_visible()  # the page's script keeps a block holding files
    expect(marc).to_contain_text("n'est plus demandé")
    expect(marc.get_by_role("button", name="Supprimer jugement.pdf")).to_be_visible()
