"""engine.dossiers.campaigns: the compiled campaign of a stored version, the family context, the
prefill under the answers, and what a guardian with a confidential co-guardian may see."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from engine.dossiers.campaigns import context_of, effective_answers, redaction_for
from engine.dossiers.models import Dossier, FamilyAccount
from engine.dossiers.services import dossier_of_account
from engine.dossiers.versions import CampaignCache
from engine.web.state import app_state

from .wizardkit import PREFILL

EXAMPLE = Path(__file__).resolve().parents[2] / "campaigns" / "college-jean-moulin.yaml"

MakeAccount = Callable[..., tuple[FamilyAccount, str]]
MakeDossier = Callable[..., Dossier]


def test_campaign_is_compiled_once_per_version_even_from_many_threads(
        make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    account, _ = make_account()
    # a text of its own (a comment differs), so no earlier test compiled it
    source = EXAMPLE.read_text(encoding="utf-8") + f"\n# {secrets.token_hex(8)}\n"
    dossier = make_dossier(account, campaign="cache-test", source=source)
    version = dossier.campaign_version
    barrier = threading.Barrier(8)
    results: list[object] = []
    cache = CampaignCache()

    def compile_it() -> None:
        barrier.wait()
        results.append(cache.campaign_of(version))

    threads = [threading.Thread(target=compile_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert all(result is results[0] for result in results)
    assert cache.campaign_of(version).id == "college-jean-moulin-2027"


def test_family_counts_children_with_a_dossier_in_the_same_campaign(
        make_account: MakeAccount, make_dossier: MakeDossier, db_session: Session) -> None:
    mother, _ = make_account()
    other, _ = make_account("Autre")
    lea = make_dossier(mother, first_name="Léa")
    hugo = make_dossier(mother, first_name="Hugo")
    make_dossier(mother, first_name="Zoé", campaign="une-autre-campagne")
    make_dossier(other, first_name="Nina")
    lea.pupil.birth_date = date(2014, 3, 2)
    hugo.pupil.birth_date = date(2012, 5, 1)
    db_session.commit()
    assert context_of(hugo).family == {"siblings": 2, "rank": 1}
    assert context_of(lea).family == {"siblings": 2, "rank": 2}
    assert context_of(lea, today=date(2027, 6, 1)).today == date(2027, 6, 1)


def test_family_rank_is_the_same_loaded_with_the_dossier_or_alone(
        make_account: MakeAccount, make_dossier: MakeDossier, db_session: Session,
        app: Flask) -> None:
    # the family pages read the counts with the dossier's own query; other callers run them
    mother, _ = make_account()
    born = {"Aïcha": date(2012, 1, 9), "Basile": date(2014, 6, 1), "Chloé": None,
            "Dylan": date(2014, 6, 1)}
    dossiers = {name: make_dossier(mother, first_name=name) for name in born}
    for name, birth_date in born.items():
        dossiers[name].pupil.birth_date = birth_date
    db_session.commit()
    # eldest first; no birth date last; the same day: the one created first
    expected = {"Aïcha": 1, "Basile": 2, "Dylan": 3, "Chloé": 4}
    for name, dossier in dossiers.items():
        with app_state(app).database.sessions() as session:
            looked_up = dossier_of_account(session, mother.id, dossier.public_id)
            assert looked_up is not None and looked_up.siblings is not None
            assert context_of(looked_up).family == {"siblings": 4, "rank": expected[name]}
        with app_state(app).database.sessions() as session:
            alone = session.get(Dossier, dossier.id)
            assert alone is not None and alone.siblings is None
            assert context_of(alone).family == {"siblings": 4, "rank": expected[name]}


def test_prefill_fills_what_the_family_has_not_answered(
        make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    account, _ = make_account()
    dossier = make_dossier(account, prefill=PREFILL)
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    ctx = context_of(dossier)
    answers = effective_answers(campaign, {"telephone_eleve": None, "nom": "PIRATE"}, ctx)
    assert answers["nom"] == "MARTIN"  # locked: always the school's value
    assert answers["telephone_eleve"] is None  # cleared on purpose: not refilled
    assert answers["date_naissance"] == "2014-03-02"
    rows = answers["responsables"]
    assert [r["_key"] for r in rows] == ["1001", "1002"]
    assert rows[0]["telephone_portable"] == "+33612345678"  # stored form
    assert "regime" not in answers


def test_redaction_hides_only_the_confidential_guardians_contact(
        make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    mother, _ = make_account("Claire", personne_id="1001")
    father, _ = make_account("Paul", personne_id="1002")
    dossier = make_dossier(mother, father, prefill=PREFILL, confidential=(1,))
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    answers = effective_answers(campaign, {}, context_of(dossier))
    assert not redaction_for(dossier, mother.id)  # her own details
    hidden = redaction_for(dossier, father.id)
    rows = hidden.answers(campaign, answers)["responsables"]
    assert rows[0]["telephone_portable"] is None and rows[0]["adresse"] is None
    assert rows[0]["email"] is None and rows[0]["nom"] == "MARTIN"
    assert rows[1]["telephone_portable"] == "+33798765432"
    guardians = hidden.prefill(dossier.prefill)["guardians"]
    assert "email" not in guardians[0] and "address" not in guardians[0]
    assert guardians[0]["last_name"] == "MARTIN"
    assert guardians[1]["email"] == "paul.durand@example.fr"
    assert answers["responsables"][0]["email"] == "claire.martin@example.fr"  # not mutated
