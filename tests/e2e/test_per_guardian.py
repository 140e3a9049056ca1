"""Issue 14, answers per guardian, in two browsers: Sophie signs the attestation and sends the
dossier, which waits for Marc (« en attente de la réponse de Marc DURAND »); Marc, under his
own login, sees her signature read-only, signs in turn and sends it. Screenshots at 360 and
1280 px of each page (``Visit.check``)."""

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
id: signatures
title: Réinscription 2027
establishment: {uai: "0690001A", name: Collège des Deux Rives}
opens: 2027-05-01
closes: 2027-06-30
pages:
  - id: signatures
    title: Signatures
    scope: per_guardian
    fields:
      - id: attestation
        type: consent
        label: Attestation
        statement: J'atteste l'exactitude des informations de ce dossier.
        required: all_guardians
      - id: infos_parents
        type: boolean
        label: Je souhaite recevoir les informations des associations de parents d'élèves
"""


def _sign_and_send(v: Visit, public_id: str, label: str) -> None:
    page = v.page
    v.goto(f"/dossier/{public_id}/etape/signatures")
    page.get_by_label("J'atteste l'exactitude des informations de ce dossier.").check()
    page.get_by_role("radio", name="Oui").check()
    v.check(f"{label} - signature")
    page.get_by_role("button", name="Vérifier le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Récapitulatif")
    page.get_by_role("button", name="Envoyer le dossier").click()


def test_two_guardians_sign_each_under_their_own_login(
        visit: Callable[..., Visit], live_server: LiveServer) -> None:
    sophie, marc, lea = two_guardians(live_server.app, SOURCE, uai="0690001A", slug="signatures")
    first = visit()
    first.goto("/connexion")
    login(first, sophie)
    _sign_and_send(first, lea, "Sophie")
    expect(first.page.locator("#attente")).to_contain_text(
        "En attente de la réponse de Marc DURAND")
    first.check("Sophie - en attente de Marc")

    second = visit()
    second.goto("/connexion")
    login(second, marc)
    second.goto(f"/dossier/{lea}/etape/signatures")
    others = second.page.locator("#f-attestation-guardians")
    expect(others).to_contain_text("Sophie MARTIN : Oui, le ")
    expect(second.page.get_by_label(
        "J'atteste l'exactitude des informations de ce dossier.")).not_to_be_checked()
    _sign_and_send(second, lea, "Marc")
    expect(second.page.get_by_role("heading", level=1)).to_contain_text("envoyé")
    second.check("Marc - dossier envoyé")
