"""The school's side in Chromium: a family changes a phone and the address and sends a
justificatif; an agent logs in with a TOTP code, sees exactly those changes and nothing else,
refuses the document with a reason and sends the dossier back; the family sends a new file;
the agent sees what changed since their last look, accepts, validates; another dossier,
unchanged, is validated by the bulk action. Every staff page is checked by axe-core and
photographed (360 and 1280 px).

The family's part is the change the agent must find (the guardian page and the document, in
the browser); the rest of the dossier is the family journey's (tests/e2e/test_journey.py), so
the submissions go through the same service the wizard's "Envoyer" calls.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.db import utcnow
from engine.dossiers.models import Dossier, StaffRole, StoredFile
from engine.dossiers.services import add_pupil, change_state, create_dossier
from engine.dossiers.staff import (
    TokenPurpose,
    create_staff,
    enrol_totp,
    grant_role,
    issue_token,
    new_totp_secret,
    set_password_with_token,
)
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.versions import latest_version

from .conftest import LiveServer, Visit
from .family import PREFILL, Family
from .test_journey import a_pdf, group, upload
from .test_login import login

pytestmark = pytest.mark.browser

PASSWORD = "Correct-Horse-42"
AGENT = "secretariat@college-jean-moulin.fr"
SLUG = "college-jean-moulin-2027"
BASE = f"/etablissement/0691234A/{SLUG}"


def _agent(live_server: LiveServer) -> str:
    """A secretariat agent of the example campaign's school, with a second factor; returns
    the TOTP secret (enrolled a step back, so the current step's code is unused)."""
    state = live_server.app.extensions["dossiersco"]
    with live_server.session() as session:
        version = latest_version(session, SLUG)
        assert version is not None
        agent = create_staff(session, email=AGENT, display_name="Mme Secrétariat")
        session.flush()
        grant_role(session, agent, version.establishment, StaffRole.SECRETARIAT)
        token = issue_token(session, agent, TokenPurpose.INVITATION, ttl=timedelta(hours=1))
        session.commit()
        set_password_with_token(session, state.hasher, token, TokenPurpose.INVITATION, PASSWORD)
        secret = new_totp_secret()
        earlier = utcnow() - timedelta(seconds=30)
        enrol_totp(session, agent, secret, pyotp.TOTP(secret).at(earlier), now=earlier)
    return secret


def login_agent(v: Visit, secret: str) -> None:
    """The agent logs in: password, then the code of the authenticator app."""
    page = v.page
    v.goto("/etablissement/connexion")
    v.check("connexion personnel")
    page.get_by_label("Adresse électronique").fill(AGENT)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Code de connexion")
    v.check("code de connexion")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    v.check("accueil personnel")


def _unchanged_submitted(live_server: LiveServer) -> str:
    """A sibling dossier submitted with exactly what the school knew."""
    with live_server.session() as session:
        version = latest_version(session, SLUG)
        assert version is not None
        pupil = add_pupil(session, version.establishment, first_name="Hugo", last_name="MARTIN",
                          eleve_id=secrets.token_hex(4))
        prefill = {**PREFILL, "pupil": {**PREFILL["pupil"], "first_name": "Hugo"}}
        dossier = create_dossier(session, pupil, version, prefill=prefill)
        for state in (DossierState.IN_PROGRESS, DossierState.SUBMITTED):
            change_state(session, dossier, dossier.row_version, state, Actor.system())
        return dossier.public_id


def _submit(live_server: LiveServer, public_id: str) -> None:
    with live_server.session() as session:
        dossier = session.scalars(select(Dossier).where(Dossier.public_id == public_id)).one()
        change_state(session, dossier, dossier.row_version, DossierState.SUBMITTED,
                     Actor.family(1))


def test_agent_reviews_only_what_changed(visit: Callable[..., Visit], family: Family,
                                         live_server: LiveServer, tmp_path: Path) -> None:
    secret = _agent(live_server)
    other = _unchanged_submitted(live_server)

    # the family: a new mobile and a new address for the guardian, and the justificatif
    f = visit()
    f.goto("/connexion")
    login(f, family)
    f.goto(f"/dossier/{family.dossier_public_id}/etape/famille")
    guardian = group(f.page, "Responsable légal 1")
    guardian.get_by_label("Téléphone portable").fill("07 11 22 33 44")
    guardian.get_by_label("Numéro et voie").fill("40 cours Gambetta")
    guardian.get_by_label("Code postal").fill("69007")
    f.page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    expect(f.page.get_by_role("status")).to_contain_text("Vos réponses sont enregistrées")
    f.goto(f"/dossier/{family.dossier_public_id}/etape/pieces")
    upload(f.page, "justificatif_domicile", a_pdf(tmp_path / "facture.pdf", "Facture EDF"))
    _submit(live_server, family.dossier_public_id)

    # the agent: password, then the code of the authenticator app
    v = visit()
    page = v.page
    login_agent(v, secret)

    v.goto(f"{BASE}/")
    expect(page.get_by_role("main")).to_contain_text("2 dossiers envoyés")
    v.check("tableau de bord")
    page.get_by_role("link", name=re.compile("avec des modifications")).click()
    rows = page.locator("table.staff-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("MARTIN Léa")
    v.check("liste - modifies")
    rows.first.get_by_role("link").click()

    # exactly the two changes, in the guardian's row, with their provenance
    changes = page.locator("#modifications").locator("xpath=..")
    expect(changes.locator("dt")).to_have_count(1)
    expect(changes.locator("dt")).to_have_text("Responsables légaux")
    items = changes.locator("dd li li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Téléphone portable")
    expect(items.nth(0)).to_contain_text("07 11 22 33 44")
    expect(items.nth(1)).to_contain_text("40 cours Gambetta")
    v.check("dossier - modifications")

    # the document: refused with a reason, the dossier sent back with a message
    document = page.locator(".staff-document").filter(has_text="facture.pdf")
    expect(document.get_by_role("img")).to_be_visible()
    document.get_by_label("Motif du refus").select_option(label="Document illisible")
    document.get_by_role("button", name="Refuser").click()
    expect(page.get_by_role("status")).to_contain_text("Document refusé")
    page.get_by_label("Message à la famille").fill("La facture est illisible : merci d'en "
                                                   "envoyer une autre.")
    page.get_by_role("checkbox", name="Justificatif de domicile").first.check()
    page.get_by_role("button", name="Renvoyer à la famille").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("À corriger")
    v.check("dossier - renvoye")

    # the family replaces the refused file and sends the dossier again
    f.goto(f"/dossier/{family.dossier_public_id}/etape/pieces")
    block = f.page.locator('[data-document="justificatif_domicile"]')
    block.locator("summary").filter(has_text="Remplacer").click()
    block.get_by_label(re.compile("Nouveau fichier pour remplacer")).set_input_files(
        a_pdf(tmp_path / "facture-2.pdf", "Facture lisible"))
    block.get_by_role("button", name="Envoyer le nouveau fichier").click()
    expect(f.page.locator('[data-document="justificatif_domicile"]')).to_contain_text(
        "facture-2.pdf")
    _submit(live_server, family.dossier_public_id)

    # the agent: what changed since, the new file to accept, then validation
    page.reload()
    expect(page.locator("#depuis")).to_be_visible()
    second = page.locator(".staff-document").filter(has_text="facture-2.pdf")
    expect(second).to_contain_text("À vérifier")
    second.get_by_role("button", name="Accepter").click()
    expect(page.get_by_role("status")).to_contain_text("Document accepté")
    page.get_by_role("button", name="Valider le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Validé")
    v.check("dossier - valide")

    # the unchanged dossier goes with the bulk validation, after the count
    v.goto(f"{BASE}/dossiers/valider")
    expect(page.get_by_role("main")).to_contain_text("1 n'ont ni modification")
    v.check("validation groupee")
    page.get_by_role("button", name=re.compile("Valider ces 1 dossier")).click()
    expect(page.get_by_role("status")).to_contain_text("1 dossier validé")
    with live_server.session() as session:
        states = dict(session.execute(select(Dossier.public_id, Dossier.state)).all())
        files = dict(session.execute(select(StoredFile.filename,
                                            StoredFile.review_status)).all())
    assert states == {family.dossier_public_id: DossierState.VALIDATED,
                      other: DossierState.VALIDATED}
    assert files == {"facture-2.pdf": "accepted"}


def test_agent_corrects_a_guardians_phone_without_javascript(
        visit: Callable[..., Visit], family: Family, live_server: LiveServer) -> None:
    """The form for one field of a guardian's row, plain HTML: chosen from the list, the
    value typed, the diff then says the school corrected that row's field."""
    secret = _agent(live_server)
    v = visit(scripts=False)
    page = v.page
    login_agent(v, secret)
    v.goto(f"/etablissement/0691234A/dossier/{family.dossier_public_id}/corriger")
    page.get_by_label("Champ à corriger").select_option(
        label="Responsable légal 1 — Téléphone portable")
    page.get_by_role("button", name="Choisir").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Responsable légal 1 — Téléphone portable")
    page.get_by_role("textbox", name="Téléphone portable").fill("07 81 22 33 44")
    v.check("correction - ligne d'un responsable")
    page.get_by_role("button", name="Enregistrer la correction").click()
    expect(page.get_by_role("status")).to_contain_text("corrigé")
    changes = page.locator("#modifications").locator("xpath=..")
    expect(changes.locator("dd li li")).to_contain_text("07 81 22 33 44")
    expect(changes.locator("dd li li")).to_contain_text("corrigé par Mme Secrétariat")
    v.check("dossier - valeur corrigee")
