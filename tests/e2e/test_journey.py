"""A guardian completes the example campaign in Chromium, as a family would on a phone.

Login, dashboard, every page of ``campaigns/college-jean-moulin.yaml``, a field appearing live
when an answer changes, the fees updated live, an emergency contact added, documents uploaded
(a PDF and a JPEG made here), the review, the submission, the confirmation e-mail received by a
real SMTP server with the PDF récapitulatif, and the satisfaction rating. Then the same pages
with JavaScript turned off. Every page shown is checked by axe-core and photographed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image
from playwright.sync_api import Locator, Page, expect
from pypdf import PdfReader
from smtpkit import Inbox
from sqlalchemy import select

from engine.dossiers.models import Dossier, SatisfactionRating
from engine.dossiers.states import DossierState
from engine.fields.common import format_money

from .conftest import LiveServer, Visit
from .family import Family
from .test_login import login

pytestmark = pytest.mark.browser


def a_pdf(path: Path, title: str) -> Path:
    """A small real PDF, as a scanner would make."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text=title)
    pdf.output(str(path))
    return path


def a_jpeg(path: Path) -> Path:
    """A small real JPEG, as a phone camera would make (smaller)."""
    image = Image.new("RGB", (320, 240), "white")
    image.paste((30, 60, 120), (20, 20, 300, 60))
    image.save(path, "JPEG", quality=80)
    return path


def group(page: Page, name: str) -> Locator:
    """The fieldset whose legend contains ``name``."""
    return page.get_by_role("group", name=re.compile(re.escape(name)))


def choose(page: Page, question: str, answer: str) -> None:
    group(page, question).get_by_label(answer, exact=True).check()


#: the rows of the « Jours de sortie libre » grid asked with the sortie libre
FREE_DAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi")


def answer_free_days(page: Page, answer: str = "Oui") -> None:
    """Answer every day of the sortie libre grid (one group of radio buttons per row)."""
    for day in FREE_DAYS:
        choose(page, day, answer)


def step(v: Visit, title: str) -> None:
    """Assert the wizard shows the page ``title`` (no error summary), then check it."""
    expect(v.page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(v.page.locator(".error-summary")).to_have_count(0)
    v.check(title)


def next_page(v: Visit) -> None:
    v.page.get_by_role("button", name="Suivant", exact=True).click()


def fees(page: Page) -> Locator:
    return page.get_by_role("complementary", name="Frais pour l'année")


def upload(page: Page, document: str, file: Path) -> Locator:
    """Send ``file`` for the campaign document ``document``; the page comes back with it."""
    block = page.locator(f'[data-document="{document}"]')
    block.get_by_label("Choisir un fichier").set_input_files(file)
    block.get_by_role("button", name="Envoyer", exact=True).click()
    block = page.locator(f'[data-document="{document}"]')
    expect(block.get_by_role("list", name=re.compile("Fichiers envoyés"))).to_contain_text(
        file.name)
    return block


def test_family_completes_the_example_campaign(
        visit: Callable[..., Visit], family: Family, live_server: LiveServer,
        smtp: tuple[Inbox, int], tmp_path: Path) -> None:
    mailbox, _ = smtp
    v = visit()
    page = v.page
    v.goto("/connexion")
    login(v, family)
    expect(page).to_have_url(v.base_url + "/mes-dossiers")
    v.check("mes dossiers")

    page.get_by_role("link", name="Léa MARTIN").click()
    expect(page.get_by_role("main")).to_contain_text("Dossier de Léa MARTIN")
    v.check("accueil du dossier")
    page.get_by_role("link", name="Commencer").click()

    # 1. what the school knows, locked, and the computed next level
    step(v, "Élève")
    expect(page.get_by_text("Réinscription de Léa MARTIN en 4e")).to_be_visible()
    page.get_by_label("Téléphone portable de l'élève").fill("07 81 22 33 44")
    next_page(v)

    # 2. a required option: refused empty, with the error summary linking to the field
    step(v, "Options pour la rentrée")
    next_page(v)
    summary = page.get_by_role("alert").filter(has_text="1 réponse à corriger")
    expect(summary).to_be_visible()
    v.check("options - erreur")
    choose(page, "poursuit-il le latin", "Oui")
    page.get_by_label("Section sportive").select_option(label="Natation")
    next_page(v)

    # 3. the guardian imported by the school, prefilled
    step(v, "Responsables légaux")
    guardian = group(page, "Responsable légal 1")
    expect(guardian.get_by_role("textbox", name="Nom", exact=True)).to_have_value("MARTIN")
    guardian.get_by_label("Adresse électronique").fill("claire.martin@example.fr")
    next_page(v)

    # 4. a repeat group: one contact, then a second row added in the browser
    step(v, "Contacts en cas d'urgence")
    first = group(page, "Contact 1")
    first.get_by_label("Nom et prénom").fill("Jeanne DURAND")
    first.get_by_label("Lien avec l'élève").select_option(label="Grand-parent")
    first.get_by_label("Téléphone principal").fill("06 98 76 54 32")
    loads = v.loads
    page.get_by_role("button", name="Ajouter un contact").click()
    second = group(page, "Contact 2")
    expect(second).to_be_visible()
    assert v.loads == loads, "the row was not added in the browser"
    second.get_by_label("Nom et prénom").fill("Marc VIDAL")
    second.get_by_label("Téléphone principal").fill("04 78 12 34 56")
    v.check("contacts - deux lignes")
    next_page(v)

    # 5. a conditional field appears live when the answer changes
    step(v, "Vie scolaire")
    consent = page.get_by_label(re.compile("J'autorise mon enfant à quitter seul"))
    expect(consent).to_be_hidden()
    loads = v.loads
    choose(page, "Régime de sortie", "Sortie libre")
    expect(consent).to_be_visible()
    v.check("vie scolaire - sortie libre")
    choose(page, "Régime de sortie", "Sortie en fin de journée")
    expect(consent).to_be_hidden()
    choose(page, "Régime de sortie", "Sortie libre")
    consent.check()
    answer_free_days(page)
    choose(page, "photographié", "Oui")
    assert v.loads == loads, "the page was reloaded: the condition was not applied live"
    next_page(v)

    # 6. fees computed live as the family answers
    step(v, "Restauration scolaire")
    expect(fees(page)).to_be_hidden()
    loads = v.loads
    quotient = page.get_by_label("Quotient familial CAF")
    expect(quotient).to_be_hidden()
    choose(page, "Régime", "Demi-pensionnaire 4 jours (lundi, mardi, jeudi, vendredi)")
    expect(quotient).to_be_visible()
    expect(fees(page)).to_contain_text("604,80 €")  # no quotient yet: bracket D
    quotient.fill("450")
    expect(fees(page)).to_contain_text("216,00 €")
    expect(fees(page)).to_contain_text("tranche A")
    choose(page, "boursier", "Non")
    choose(page, "Mode de paiement", "Chèque")
    assert v.loads == loads, "the page was reloaded: the fees were not computed live"
    v.check("restauration - tarif")
    next_page(v)

    # 7. memberships add to the total, live
    step(v, "Associations")
    loads = v.loads
    page.get_by_label(re.compile("Foyer socio-éducatif")).check()
    expect(page.locator("[data-fees-total]")).to_have_text("226,00 €")
    assert v.loads == loads
    v.check("associations - total")
    next_page(v)

    step(v, "Santé")
    choose(page, "PAI", "Non")
    next_page(v)

    # 8. documents: real files, checked by content on the server
    step(v, "Pièces à joindre")
    caf = page.locator('[data-document="attestation_caf"]')
    expect(caf).to_be_visible()
    expect(caf.locator("[data-document-reason]")).to_contain_text("quotient familial")
    expect(page.locator('[data-document="justificatif_domicile"]')).to_be_hidden()
    upload(page, "attestation_assurance", a_pdf(tmp_path / "assurance.pdf", "Assurance"))
    upload(page, "fiche_infirmerie", a_jpeg(tmp_path / "fiche-infirmerie.jpg"))
    upload(page, "reglement_interieur", a_pdf(tmp_path / "reglement.pdf", "Reglement signe"))
    caf = upload(page, "attestation_caf", a_pdf(tmp_path / "caf.pdf", "Attestation CAF"))
    caf.get_by_label("Date figurant sur le document").fill(
        (date.today() - timedelta(days=10)).isoformat())
    caf.get_by_role("button", name="Enregistrer la date").click()
    expect(page.locator('[data-document="attestation_caf"] .document__problems')).to_have_count(0)
    v.check("pieces - deposees")
    next_page(v)

    # 9. attestations, then the review
    step(v, "Validation")
    expect(page.get_by_text("226,00 €").first).to_be_visible()
    page.get_by_label(re.compile("je certifie sur l'honneur")).check()
    page.get_by_label(re.compile("J'ai lu le règlement intérieur")).check()
    page.get_by_label(re.compile("J'accepte le règlement de la demi-pension")).check()
    page.get_by_role("button", name="Vérifier le dossier").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Récapitulatif avant envoi")
    expect(page.locator(".error-summary")).to_have_count(0)
    review = page.get_by_role("main")
    for text in ("Marc VIDAL", "Natation", "Sortie libre", "226,00 €", "07 81 22 33 44"):
        expect(review).to_contain_text(text)
    v.check("recapitulatif")
    page.get_by_role("button", name="Envoyer le dossier au collège").click()

    # 10. sent: confirmation page, e-mail with the PDF, rating
    expect(page.get_by_role("heading", level=1)).to_have_text("Dossier envoyé")
    v.check("confirmation")
    [(recipients, message)] = mailbox.wait_for(1)
    assert recipients == [family.email]
    assert message["To"] == family.email
    assert message["Subject"] == ("Dossier de Léa envoyé – Réinscription 2027-2028 au collège "
                                  "Jean Moulin")
    body = message.get_body(("plain",))
    assert body is not None and f"Total : {format_money(Decimal('226'))}" in body.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "recapitulatif-martin-léa.pdf"
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        attachment.get_content())).pages)
    assert "Marc VIDAL" in pdf_text

    choose(page, "a été facile", "5")
    page.get_by_label("Un commentaire ?").fill("Très simple sur téléphone.")
    page.get_by_role("button", name="Envoyer mon avis").click()
    expect(page.get_by_role("status").first).to_contain_text("Merci pour votre avis")
    expect(page.get_by_text("Merci, vous avez donné la note de 5 sur 5.")).to_be_visible()
    v.check("avis enregistre")

    with live_server.session() as session:
        dossier = session.scalar(select(Dossier).where(
            Dossier.public_id == family.dossier_public_id))
        assert dossier is not None and dossier.state is DossierState.SUBMITTED
        assert dossier.computed["total"] == "226.00"
        assert dossier.answers["regime_sortie"] == "libre"
        assert [r["nom"] for r in dossier.answers["contacts_urgence"]] == [
            "Jeanne DURAND", "Marc VIDAL"]
        rating = session.scalar(select(SatisfactionRating).where(
            SatisfactionRating.dossier_id == dossier.id))
        assert rating is not None and (rating.score, rating.comment) == (
            5, "Très simple sur téléphone.")
    # the artefacts: every page checked, photographed at phone and desktop width
    assert len(v.shots) == 2 * len(v.checked) >= 2 * 20
    assert all(shot.stat().st_size > 5000 for shot in v.shots)


def test_the_same_pages_work_without_javascript(visit: Callable[..., Visit],
                                                family: Family) -> None:
    """Every action is a real form submission: rows are added, conditions applied and fees
    computed by the server on each post."""
    v = visit(scripts=False)
    page = v.page
    v.goto("/connexion")
    login(v, family)
    v.check("mes dossiers")
    page.get_by_role("link", name="Léa MARTIN").click()
    page.get_by_role("link", name="Commencer").click()
    step(v, "Élève")
    next_page(v)
    step(v, "Options pour la rentrée")
    choose(page, "poursuit-il le latin", "Non")
    next_page(v)
    step(v, "Responsables légaux")
    next_page(v)

    # a row added by the server, the answers typed so far kept
    step(v, "Contacts en cas d'urgence")
    group(page, "Contact 1").get_by_label("Nom et prénom").fill("Jeanne DURAND")
    group(page, "Contact 1").get_by_label("Téléphone principal").fill("06 98 76 54 32")
    loads = v.loads
    page.get_by_role("button", name="Ajouter un contact").click()
    expect(group(page, "Contact 2")).to_be_visible()
    assert v.loads == loads + 1, "without scripts, the server adds the row"
    expect(group(page, "Contact 1").get_by_label("Nom et prénom")).to_have_value("Jeanne DURAND")
    second = group(page, "Contact 2")
    expect(second).to_be_visible()
    v.check("contacts - ligne ajoutee")
    second.get_by_label("Nom et prénom").fill("Marc VIDAL")
    second.get_by_label("Téléphone principal").fill("04 78 12 34 56")
    next_page(v)

    # the condition applied on the server: the consent the answer reveals comes back on the
    # same page, asked, not reported as an error (issue 10, item 1)
    step(v, "Vie scolaire")
    choose(page, "Régime de sortie", "Sortie libre")
    choose(page, "photographié", "Non")
    next_page(v)
    expect(page.get_by_role("status").filter(has_text="nouvelles questions")).to_be_visible()
    expect(page.locator(".error-summary")).to_have_count(0)
    consent = page.get_by_label(re.compile("J'autorise mon enfant à quitter seul"))
    expect(consent).to_be_visible()
    v.check("vie scolaire - autorisation demandee")
    consent.check()
    answer_free_days(page, "Non")
    next_page(v)

    # the quotient familial is asked before moving on; fees computed by the server
    step(v, "Restauration scolaire")
    choose(page, "Régime", "Demi-pensionnaire 5 jours")
    next_page(v)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Restauration scolaire")
    expect(page.get_by_label("Quotient familial CAF")).to_be_visible()
    v.check("restauration - nouvelles questions")
    choose(page, "Mode de paiement", "Prélèvement automatique")
    next_page(v)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Associations")
    page.get_by_role("button", name="Précédent").click()
    expect(page.get_by_label("Quotient familial CAF")).to_be_visible()
    expect(fees(page)).to_contain_text("756,00 €")
    v.check("restauration - tarif")

    # the review lists what is still missing, and the server refuses to send; on a phone
    # the steps are folded under one line (a <details>: no script needed)
    page.get_by_text("Toutes les étapes").click()
    page.get_by_role("link", name="Récapitulatif et envoi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Récapitulatif avant envoi")
    v.check("recapitulatif incomplet")
    page.get_by_role("button", name="Envoyer le dossier au collège").click()
    expect(page.get_by_role("alert")).to_contain_text("ne peut pas encore être envoyé")
    v.check("envoi refuse")
