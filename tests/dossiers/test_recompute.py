"""Stability of a dossier's money: frozen at submission, unchanged by a later change of the
campaign's rules until staff recompute, with a before/after preview and the optimistic lock.
Runs on SQLite and PostgreSQL (conftest fixtures)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.campaign import load_campaign_text
from engine.campaign.model import Campaign
from engine.cli import main
from engine.dossiers.campaigns import context_of, effective_answers
from engine.dossiers.models import Dossier, DossierEvent, FamilyAccount
from engine.dossiers.recompute import (
    NothingFrozenError,
    UnknownCampaignVersionError,
    apply_recompute,
    frozen_money,
    live_money,
    recompute_preview,
)
from engine.dossiers.services import (
    StaleDossierError,
    change_state,
    save_answers,
)
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.submission import submit_dossier
from engine.dossiers.versions import CampaignCache, register_version
from engine.rules import evaluate_dossier

MakeAccount = Callable[..., tuple[FamilyAccount, str]]
MakeDossier = Callable[..., Dossier]

CAMPAIGN = """\
language: 1
id: cantine
title: Cantine
establishment: {uai: "0750001A", name: Collège Jean Moulin}
opens: "2027-05-01"
closes: "2027-06-30"
pages:
  - id: cantine
    title: Cantine
    fields:
      - {id: repas, type: integer, label: Repas par semaine}
      - {id: boursier, type: boolean, label: Boursier}
      - {id: adhesions, type: memberships, label: Adhésions}
      - {id: total, type: computed, label: Total, format: money, expr: fees.total}
tariffs:
  - id: cantine
    label: Cantine
    amount: "PRICE"
    multipliers:
      - {by: repas, label: repas}
      - {by: 36, label: semaines}
    exempt_if: boursier == true
associations:
  - {id: fse, label: FSE, fee: "10.00"}
documents:
  - {id: attestation, label: Attestation, required_if: "repas > 4"}
"""
STAFF = Actor.staff(7)


def source(price: str) -> str:
    return CAMPAIGN.replace("PRICE", price)


@pytest.fixture
def submitted(app: Flask, db_session: Session, make_account: MakeAccount,
              make_dossier: MakeDossier) -> Dossier:
    """A dossier submitted under the 3.00 € meal price: 4 meals a week, FSE."""
    account, _ = make_account()
    dossier = make_dossier(account, campaign="cantine", source=source("3.00"))
    family = Actor.family(account.id)
    save_answers(db_session, dossier, dossier.row_version,
                 {"repas": 4, "boursier": False, "adhesions": ["fse"]}, "cantine", family)
    with app.app_context():
        campaign = CampaignCache().campaign_of(dossier.campaign_version)
        ctx = context_of(dossier)
        evaluation = evaluate_dossier(campaign, effective_answers(campaign, dossier.answers,
                                                                  ctx), ctx)
    submit_dossier(db_session, dossier, dossier.row_version, {}, evaluation, family)
    assert dossier.state is DossierState.SUBMITTED
    return dossier


def new_rules(db_session: Session, dossier: Dossier, price: str) -> Campaign:
    """The school changes the meal price: a new stored version of the same campaign."""
    text = source(price)
    register_version(db_session, dossier.pupil.establishment, slug="cantine", title="Cantine",
                     source=text)
    db_session.commit()
    return load_campaign_text(text)


def test_money_is_frozen_at_submission_and_survives_a_rule_change(
        app: Flask, db_session: Session, submitted: Dossier) -> None:
    with app.app_context():
        old = CampaignCache().campaign_of(submitted.campaign_version)
        frozen = frozen_money(submitted, old)
    assert frozen["total"] == "442.00"  # 3.00 × 4 × 36 + 10.00
    assert frozen["fees"][0]["explanation"] == \
        "3,00\u00a0€ × 4 repas × 36 semaines = 432,00\u00a0€"
    assert frozen["computed"]["total"] == "442.00"
    campaign = new_rules(db_session, submitted, "3.50")
    with app.app_context():
        assert frozen_money(submitted, campaign) == frozen  # same figures, whatever the rules
        assert live_money(submitted, campaign)["total"] == "514.00"


def test_live_figures_until_submission(app: Flask, db_session: Session,
                                       make_account: MakeAccount,
                                       make_dossier: MakeDossier) -> None:
    account, _ = make_account()
    dossier = make_dossier(account, campaign="cantine", source=source("3.00"),
                           answers={"repas": 5})
    with app.app_context():
        campaign = CampaignCache().campaign_of(dossier.campaign_version)
        money = frozen_money(dossier, campaign)
        assert money == live_money(dossier, campaign)
        assert money["total"] == "540.00"
        with pytest.raises(NothingFrozenError):
            recompute_preview(db_session, dossier, campaign)


def test_preview_shows_before_and_after(app: Flask, db_session: Session,
                                        submitted: Dossier) -> None:
    campaign = new_rules(db_session, submitted, "3.50")
    with app.app_context():
        preview = recompute_preview(db_session, submitted, campaign)
    assert preview.changed
    assert [(c.key, c.before, c.after) for c in preview.fees] == [
        ("cantine", "432.00", "504.00")]
    assert [(c.key, c.changed) for c in preview.memberships] == [("fse", False)]
    assert (preview.total.before, preview.total.after) == ("442.00", "514.00")
    assert [(c.key, c.before, c.after) for c in preview.computed] == [
        ("total", "442.00", "514.00")]
    assert preview.documents == ()
    assert submitted.computed["total"] == "442.00"  # a preview writes nothing


def test_preview_of_unchanged_rules_changes_nothing(app: Flask, db_session: Session,
                                                    submitted: Dossier) -> None:
    with app.app_context():
        preview = recompute_preview(db_session, submitted,
                                    CampaignCache().campaign_of(submitted.campaign_version))
    assert not preview.changed


def test_apply_stores_the_new_figures_and_records_both_sides(
        app: Flask, db_session: Session, submitted: Dossier) -> None:
    campaign = new_rules(db_session, submitted, "3.50")
    version = submitted.row_version
    with app.app_context():
        preview = recompute_preview(db_session, submitted, campaign)
        apply_recompute(db_session, submitted, version, preview, STAFF)
        assert frozen_money(submitted, campaign)["total"] == "514.00"
    assert submitted.row_version == version + 1
    assert submitted.state is DossierState.SUBMITTED
    assert submitted.campaign_version.version.startswith(campaign.version)
    event = db_session.scalars(select(DossierEvent).where(
        DossierEvent.dossier_id == submitted.id, DossierEvent.kind == "fees_recomputed")).one()
    assert (event.actor_kind, event.actor_id) == ("staff", "7")
    assert event.data["before"] == {"fees": {"cantine": "432.00"}, "memberships": {
        "fse": "10.00"}, "documents": [], "total": "442.00"}
    assert event.data["after"]["fees"] == {"cantine": "504.00"}
    assert event.data["after"]["total"] == "514.00"
    assert event.data["changed"] is True


def test_apply_on_a_stale_version_is_refused(app: Flask, db_session: Session,
                                             submitted: Dossier) -> None:
    campaign = new_rules(db_session, submitted, "3.50")
    with app.app_context():
        preview = recompute_preview(db_session, submitted, campaign)
    # meanwhile another agent sends the dossier back to the family, then it is resubmitted
    change_state(db_session, submitted, submitted.row_version, DossierState.TO_CORRECT, STAFF,
                 message="Précisez le nombre de repas.")
    change_state(db_session, submitted, submitted.row_version, DossierState.SUBMITTED,
                 Actor.family(1), computed=submitted.computed)
    with pytest.raises(StaleDossierError):
        apply_recompute(db_session, submitted, preview.dossier_version, preview, STAFF)
    with pytest.raises(StaleDossierError):  # an up-to-date version with an old preview
        apply_recompute(db_session, submitted, submitted.row_version, preview, STAFF)
    assert submitted.computed["total"] == "442.00"
    assert db_session.scalars(select(DossierEvent).where(
        DossierEvent.kind == "fees_recomputed")).all() == []


def test_apply_needs_a_stored_campaign_version(app: Flask, db_session: Session,
                                               submitted: Dossier) -> None:
    campaign = load_campaign_text(source("9.00"))  # never registered
    with app.app_context():
        preview = recompute_preview(db_session, submitted, campaign)
    with pytest.raises(UnknownCampaignVersionError):
        apply_recompute(db_session, submitted, submitted.row_version, preview, STAFF)
    assert submitted.computed["total"] == "442.00"


def test_an_editable_dossier_has_nothing_to_recompute(app: Flask, db_session: Session,
                                                      submitted: Dossier) -> None:
    campaign = new_rules(db_session, submitted, "3.50")
    with app.app_context():
        preview = recompute_preview(db_session, submitted, campaign)
    change_state(db_session, submitted, submitted.row_version, DossierState.TO_CORRECT, STAFF,
                 message="À compléter.")
    with pytest.raises(NothingFrozenError):
        apply_recompute(db_session, submitted, submitted.row_version,
                        replace(preview, dossier_version=submitted.row_version), STAFF)
    with app.app_context():  # while editable, the figures are the live ones
        assert frozen_money(submitted, campaign)["total"] == "514.00"


@pytest.fixture
def cli(app: Flask, database_url: str, tmp_path: Path) -> CliRunner:
    """A runner whose environment points the command at the test database."""
    return CliRunner(env={
        "DOSSIERSCO_DATABASE_URL": database_url,
        "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
        "DOSSIERSCO_SECRET_KEY": "test-secret-key",
        "DOSSIERSCO_MAIL_URL": (tmp_path / "mail").as_uri(),
    })


def test_command_previews_then_applies(cli: CliRunner, db_session: Session, submitted: Dossier,
                                       tmp_path: Path) -> None:
    rules = tmp_path / "cantine.yaml"
    rules.write_text(source("3.50"), encoding="utf-8")
    shown = cli.invoke(main, ["recompute", submitted.public_id, "--campaign", str(rules)])
    assert shown.exit_code == 0, shown.output
    assert "Frais « Cantine » : 432.00 → 504.00 (modifié)" in shown.output
    assert "Total : 442.00 → 514.00" in shown.output
    db_session.refresh(submitted)
    assert submitted.computed["total"] == "442.00"  # a preview stores nothing
    applied = cli.invoke(main, ["recompute", submitted.public_id, "--campaign", str(rules),
                                "--apply", "--staff-id", "3"])
    assert applied.exit_code == 0, applied.output
    assert "Nouveaux montants enregistrés." in applied.output
    db_session.expire_all()
    stored = db_session.get(Dossier, submitted.id)
    assert stored is not None and stored.computed["total"] == "514.00"
    again = cli.invoke(main, ["recompute", submitted.public_id])  # latest stored version
    assert again.exit_code == 0, again.output
    assert "Aucun changement." in again.output


def test_command_refuses_unknown_and_unsubmitted_dossiers(
        cli: CliRunner, make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    unknown = cli.invoke(main, ["recompute", "nope"])
    assert unknown.exit_code == 1 and "Aucun dossier nope." in unknown.output
    account, _ = make_account()
    dossier = make_dossier(account, campaign="cantine", source=source("3.00"))
    live = cli.invoke(main, ["recompute", dossier.public_id])
    assert live.exit_code == 1 and "n'est pas envoyé" in live.output
