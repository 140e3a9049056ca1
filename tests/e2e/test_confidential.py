"""Issue 11, items 1–5 in the browser: the school marks Marc's contact confidential; he changes
his mobile, names an emergency contact with a number he types, sends a document and reports an
error; Sophie, in her own browser, sees none of it (pages, documents, récapitulatif), cannot
remove his row, and her saves leave all of it in place."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.dossiers.accounts import set_confidential_contact
from engine.dossiers.models import Dossier, FamilyAccount
from engine.dossiers.states import Actor

from .conftest import LiveServer, Visit
from .test_family_parity import _household
from .test_journey import a_pdf, group, upload
from .test_login import login

pytestmark = pytest.mark.browser

NEW_MOBILE = "07 58 00 00 03"
CONTACT_PHONE = "07 58 00 00 02"
DISPUTE = "Mon nouveau numéro est le 07 58 00 00 09"
#: what Sophie must never read of Marc (e2e.test_family_parity.MARC, and what he types)
SECRETS = ("0781223344", "07 81 22 33 44", "marc.durand@example.fr", "8 quai Perrache",
           NEW_MOBILE, CONTACT_PHONE, "07 58 00 00 09", "assurance-marc.pdf")


def _confidential(server: LiveServer, login_of_marc: str) -> None:
    with server.session() as session:
        marc = session.scalar(select(FamilyAccount).where(FamilyAccount.login == login_of_marc))
        assert marc is not None
        set_confidential_contact(session, Actor.system(), marc, True)


def _shown(v: Visit) -> str:
    """The page's HTML, the embedded JSON included."""
    return v.page.content()


def test_two_guardians_one_of_them_confidential(
        visit: Callable[..., Visit], live_server: LiveServer, tmp_path: Path) -> None:
    household = _household(live_server, {"Léa": "5e"})
    lea = household.dossiers["Léa"]
    _confidential(live_server, household.marc.login)
    marc = visit()
    marc.goto("/connexion")
    login(marc, household.marc)
    page = marc.page
    marc.goto(f"/dossier/{lea}/etape/famille")
    group(page, "Responsable légal 2").get_by_label("Téléphone portable").fill(NEW_MOBILE)
    page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    expect(page.get_by_role("status").filter(has_text="enregistrées")).to_be_visible()
    marc.goto(f"/dossier/{lea}/etape/urgence")
    contact = group(page, "Contact 1")
    contact.get_by_label("Nom et prénom").fill("Jeanne DURAND")
    contact.get_by_label("Téléphone principal").fill(CONTACT_PHONE)
    page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    marc.goto(f"/dossier/{lea}/documents")
    upload(page, "attestation_assurance", a_pdf(tmp_path / "assurance-marc.pdf", "Assurance"))
    marc.goto(f"/dossier/{lea}/etape/eleve")
    page.get_by_label("Ce qui est inexact, et la bonne information").fill(DISPUTE)
    page.get_by_role("button", name="Signaler au secrétariat").click()
    expect(page.get_by_text(DISPUTE)).to_be_visible()
    marc.check("eleve - son signalement")

    sophie = visit(scripts=False)
    sophie.goto("/connexion")
    login(sophie, household.sophie)
    for path in ("eleve", "famille", "urgence", "pieces"):
        sophie.goto(f"/dossier/{lea}/etape/{path}")
        shown = _shown(sophie)
        assert [s for s in SECRETS if s in shown] == [], path
    sophie.goto(f"/dossier/{lea}/etape/famille")
    his = group(sophie.page, "Responsable légal 2")
    expect(his.get_by_text("Coordonnées confidentielles").first).to_be_visible()
    expect(his.get_by_role("button", name=re.compile("Retirer"))).to_have_count(0)
    sophie.check("famille - coordonnees confidentielles")
    sophie.page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    sophie.goto(f"/dossier/{lea}/documents")
    expect(sophie.page.get_by_text("par l'autre responsable légal").first).to_be_visible()
    assert "assurance-marc.pdf" not in _shown(sophie)
    sophie.check("documents - fichier de l'autre responsable")
    sophie.goto(f"/dossier/{lea}/recapitulatif")
    shown = _shown(sophie)
    assert [s for s in SECRETS if s in shown] == []

    # her save left everything of his in place; he still sees it all
    with live_server.session() as session:
        stored = session.scalar(select(Dossier).where(Dossier.public_id == lea))
        assert stored is not None
        assert stored.answers["responsables"][1]["telephone_portable"] in (
            NEW_MOBILE, "+33758000003")
        assert stored.answers["contacts_urgence"][0]["telephone"] in (
            CONTACT_PHONE, "+33758000002")
    marc.goto(f"/dossier/{lea}/etape/urgence")
    expect(group(marc.page, "Contact 1").get_by_label("Téléphone principal")).to_have_value(
        CONTACT_PHONE)
    marc.goto(f"/dossier/{lea}/documents")
    expect(marc.page.get_by_text("assurance-marc.pdf").first).to_be_visible()
