"""Issue 10 in the browser: the journey without JavaScript stores the same dossier (fees
included) as the journey with it, for the same answers; and a family of two guardians and two
children sees the questions a choice reveals (item 1), only the associations offered to each
child (item 2) and a guardian's new contact in every sibling's dossier (item 4)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from engine.campaign import load_campaign_text
from engine.dossiers.accounts import create_family_account, link_guardian
from engine.dossiers.campaigns import context_of, effective_answers
from engine.dossiers.models import Dossier, FamilyAccount
from engine.dossiers.services import add_pupil, create_dossier, ensure_establishment
from engine.dossiers.versions import register_version
from engine.fields.repeat import ROW_KEY
from engine.rules import evaluate_dossier
from engine.web.state import app_state

from .conftest import LiveServer, Visit
from .family import CAMPAIGN, PREFILL, Family
from .test_journey import answer_free_days, choose, group, next_page, step
from .test_login import login

pytestmark = pytest.mark.browser

SOPHIE = {**PREFILL["guardians"][0], "first_name": "Sophie"}
MARC = {"personne_id": "1002", "civility": "M.", "last_name": "DURAND", "first_name": "Marc",
        "relationship": "20", "phone_mobile": "0781223344", "email": "marc.durand@example.fr",
        "address": {"line1": "8 quai Perrache", "postal_code": "69002", "commune": "LYON",
                    "commune_insee": "69382", "country": "FR"}}


@dataclass(frozen=True, slots=True)
class Household:
    sophie: Family
    marc: Family
    #: dossier public ids by first name
    dossiers: dict[str, str]


def _household(server: LiveServer, children: dict[str, str], *, marc: bool = True) -> Household:
    """Sophie (and Marc) guardians of ``children`` (first name → level), each with a
    not-started dossier of the example campaign."""
    source = CAMPAIGN.read_text(encoding="utf-8")
    campaign = load_campaign_text(source, name=CAMPAIGN.name, base_dir=CAMPAIGN.parent)
    state = app_state(server.app)
    with state.database.sessions() as session:
        school = ensure_establishment(session, uai=campaign.establishment.uai,
                                      name=campaign.establishment.name)
        version = register_version(session, school, slug=campaign.id,
                                   title=campaign.title.get(), source=source)
        accounts: list[tuple[FamilyAccount, str, dict[str, Any]]] = []
        for guardian in [SOPHIE, MARC] if marc else [SOPHIE]:
            account, code = create_family_account(
                session, state.hasher, display_name=f"{guardian['first_name']} "
                f"{guardian['last_name']}", email=guardian["email"],
                personne_id=guardian["personne_id"])
            accounts.append((account, code, guardian))
        dossiers = {}
        for first_name, level in children.items():
            pupil = add_pupil(session, school, first_name=first_name, last_name="MARTIN",
                              eleve_id=secrets.token_hex(4), birth_date=date(2014, 3, 2))
            for account, _, _ in accounts:
                link_guardian(session, account, pupil, guardian_key=str(account.personne_id))
            prefill = {"pupil": {**PREFILL["pupil"], "first_name": first_name, "level": level},
                       "guardians": [g for _, _, g in accounts]}
            dossiers[first_name] = create_dossier(session, pupil, version,
                                                  prefill=prefill).public_id
        people = [Family(a.login, c, str(a.email), "") for a, c, _ in accounts]
    return Household(people[0], people[-1], dossiers)


def _fill(v: Visit, public_id: str, *, scripts: bool) -> None:
    """The same answers, typed as a family would with or without scripts."""
    page = v.page
    v.goto(f"/dossier/{public_id}")
    page.get_by_role("link", name="Commencer").click()
    step(v, "Élève")
    next_page(v)
    choose(page, "poursuit-il le latin", "Non")
    next_page(v)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Responsables légaux")
    next_page(v)
    first = group(page, "Contact 1")
    first.get_by_label("Nom et prénom").fill("Jeanne DURAND")
    first.get_by_label("Lien avec l'élève").select_option(label="Grand-parent")
    first.get_by_label("Téléphone principal").fill("06 98 76 54 32")
    next_page(v)
    choose(page, "Régime de sortie", "Sortie libre")
    choose(page, "photographié", "Oui")
    if not scripts:  # the consent comes back on the same page (item 1)
        next_page(v)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Vie scolaire")
    page.get_by_label(re.compile("J'autorise mon enfant à quitter seul")).check()
    answer_free_days(page)
    next_page(v)
    choose(page, "Régime", "Demi-pensionnaire 5 jours")
    if not scripts:  # the quotient is asked before moving on (item 1)
        next_page(v)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Restauration")
        expect(page.locator(".error-summary")).to_have_count(0)
        v.check("restauration - questions revelees")
    page.get_by_label("Quotient familial CAF").fill("612,50")
    choose(page, "boursier", "Non")
    choose(page, "Mode de paiement", "Espèces (au service de gestion)")
    next_page(v)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Associations")
    page.get_by_label(re.compile("Foyer socio-éducatif")).check()
    next_page(v)
    choose(page, "PAI", "Non")
    next_page(v)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pièces à joindre")


def _stored(server: LiveServer, public_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A dossier's stored answers (new rows' keys left out: random) and its fees."""
    state = app_state(server.app)
    with server.session() as session:
        dossier = session.query(Dossier).filter_by(public_id=public_id).one()
        campaign = state.campaigns.campaign_of(dossier.campaign_version)
        ctx = context_of(dossier)
        money = evaluate_dossier(campaign, effective_answers(campaign, dossier.answers, ctx),
                                 ctx).money()
        answers = {k: [{c: x for c, x in r.items() if not (c == ROW_KEY and
                                                            str(x).startswith("new-"))}
                       for r in v] if isinstance(v, list) and v and isinstance(v[0], dict)
                   else v for k, v in dossier.answers.items()}
    return answers, money


def test_without_javascript_the_same_answers_store_the_same_dossier(
        visit: Callable[..., Visit], live_server: LiveServer) -> None:
    stored = []
    for first_name, scripts in (("Léa", True), ("Hugo", False)):
        # one child each: the same rank in the family, so the same reductions
        household = _household(live_server, {first_name: "5e"}, marc=False)
        v = visit(scripts=scripts)
        v.goto("/connexion")
        login(v, household.sophie)
        _fill(v, household.dossiers[first_name], scripts=scripts)
        stored.append(_stored(live_server, household.dossiers[first_name]))
    with_js, without_js = stored
    assert with_js[0] == without_js[0]
    assert with_js[1] == without_js[1]
    assert with_js[1]["total"] == "442.00"  # tranche B 2,40 € × 5 × 36 + FSE 10 €


def test_two_guardians_and_siblings(visit: Callable[..., Visit],
                                    live_server: LiveServer) -> None:
    household = _household(live_server, {"Léa": "5e", "Hugo": "6e"})
    lea, hugo = household.dossiers["Léa"], household.dossiers["Hugo"]
    sophie = visit(scripts=False)
    sophie.goto("/connexion")
    login(sophie, household.sophie)
    page = sophie.page
    # item 2: AS is offered to Léa (5e), not to Hugo (6e)
    sophie.goto(f"/dossier/{lea}/etape/associations")
    expect(page.get_by_label(re.compile("Association sportive"))).to_have_count(1)
    sophie.goto(f"/dossier/{hugo}/etape/associations")
    expect(page.get_by_label(re.compile("Association sportive"))).to_have_count(0)
    sophie.check("associations - 6e")
    # item 4: Sophie's new mobile typed in Léa's dossier
    sophie.goto(f"/dossier/{lea}/etape/famille")
    mine = group(page, "Responsable légal 1")
    mine.get_by_label("Téléphone portable").fill("06 99 88 77 66")
    page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    sophie.goto(f"/dossier/{hugo}/etape/famille")
    expect(group(page, "Responsable légal 1").get_by_label("Téléphone portable")).to_have_value(
        "06 99 88 77 66")
    expect(page.get_by_role("status").filter(has_text="dossier de Léa")).to_be_visible()
    sophie.check("famille - coordonnees reprises")
    # Marc, with scripts, sees it in Hugo's dossier too, and his own row is his
    marc = visit()
    marc.goto("/connexion")
    login(marc, household.marc)
    marc.goto(f"/dossier/{hugo}/etape/famille")
    expect(group(marc.page, "Responsable légal 1").get_by_label("Téléphone portable")
           ).to_have_value("06 99 88 77 66")
    expect(group(marc.page, "Responsable légal 2").get_by_role(
        "group", name=re.compile("Civilité")).get_by_label("Monsieur")).to_be_checked()  # item 5
