"""A family of the example campaign, made with the services the import uses (no raw SQL).

Shared by the browser tests and the wizard benchmark (``tests/benchmarks/bench_wizard.py``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Flask

from engine.campaign import load_campaign_text
from engine.config import ROOT
from engine.dossiers.accounts import create_family_account, link_guardian
from engine.dossiers.services import (
    add_pupil,
    create_dossier,
    ensure_establishment,
)
from engine.dossiers.versions import register_version
from engine.web.state import app_state

CAMPAIGN = ROOT / "campaigns" / "college-jean-moulin.yaml"

#: what the school imported for the pupil, in the canonical record shape of engine.prefill
PREFILL: dict[str, Any] = {
    "pupil": {"ine": "070123456AB", "last_name": "MARTIN", "first_name": "Léa",
              "birth_date": "2014-03-02", "sex": "F", "birth_commune": "Lyon",
              "birth_country": "FR", "nationality": "FR", "level": "5e", "division": "5B",
              "options": ["LATIN"]},
    "guardians": [{
        "personne_id": "1001", "civility": "MME", "last_name": "MARTIN", "first_name": "Claire",
        "relationship": "10", "phone_mobile": "0612345678", "email": "claire.martin@example.fr",
        "pays_frais": True, "accepts_sms": True, "contact_priority": True,
        "profession_code": "54",
        "address": {"line1": "12 rue des Lilas", "postal_code": "69003", "commune": "LYON",
                    "commune_insee": "69383", "country": "FR"}}],
}


@dataclass(frozen=True, slots=True)
class Family:
    """One guardian's credentials and their child's dossier in the example campaign."""

    login: str
    code: str
    email: str
    dossier_public_id: str


def make_family(app: Flask) -> Family:
    """A guardian account linked to a pupil with a not-started dossier of the example
    campaign, in the database of ``app``."""
    source = CAMPAIGN.read_text(encoding="utf-8")
    campaign = load_campaign_text(source, name=CAMPAIGN.name, base_dir=CAMPAIGN.parent)
    guardian = PREFILL["guardians"][0]
    pupil_record = PREFILL["pupil"]
    state = app_state(app)
    with state.database.sessions() as session:
        establishment = ensure_establishment(session, uai=campaign.establishment.uai,
                                             name=campaign.establishment.name)
        version = register_version(session, establishment, slug=campaign.id,
                                   title=campaign.title.get(), source=source)
        pupil = add_pupil(session, establishment, first_name=pupil_record["first_name"],
                          last_name=pupil_record["last_name"], eleve_id=secrets.token_hex(4),
                          ine=pupil_record["ine"],
                          birth_date=date.fromisoformat(pupil_record["birth_date"]))
        account, code = create_family_account(
            session, state.hasher, display_name="Claire MARTIN", email=guardian["email"],
            personne_id=guardian["personne_id"])
        link_guardian(session, account, pupil, guardian_key=guardian["personne_id"])
        dossier = create_dossier(session, pupil, version, prefill=PREFILL)
        return Family(login=account.login, code=code, email=guardian["email"],
                      dossier_public_id=dossier.public_id)


def two_guardians(app: Flask, source: str, *, uai: str, slug: str,
                  ) -> tuple[Family, Family, str]:
    """Léa MARTIN in a campaign of ``source``, with two guardians of her own, each their
    own account (Sophie MARTIN, Marc DURAND); the two families and her dossier's public id."""
    state = app_state(app)
    with state.database.sessions() as session:
        school = ensure_establishment(session, uai=uai, name="Collège des Deux Rives")
        version = register_version(session, school, slug=slug, title="Réinscription 2027",
                                   source=source)
        pupil = add_pupil(session, school, first_name="Léa", last_name="MARTIN",
                          eleve_id=secrets.token_hex(4))
        people = []
        for name, key in (("Sophie MARTIN", "1001"), ("Marc DURAND", "1002")):
            account, code = create_family_account(session, state.hasher, display_name=name,
                                                  personne_id=key)
            link_guardian(session, account, pupil, guardian_key=key)
            people.append(Family(account.login, code, "", ""))
        dossier = create_dossier(session, pupil, version, prefill={
            "pupil": {"first_name": "Léa", "last_name": "MARTIN", "level": "5e"}})
        return people[0], people[1], dossier.public_id
