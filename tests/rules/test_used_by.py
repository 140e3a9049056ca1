"""``dossiersco explain``'s "Utilisé par" (used by): every rule reading a field, not only other fields."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from engine.campaign import load_campaign
from engine.cli import main
from engine.rules import used_by

EXAMPLE = Path(__file__).parents[2] / "campaigns" / "college-jean-moulin.yaml"
EDGE = Path(__file__).parent / "twin" / "edge-cases.yaml"


def test_tariffs_documents_and_fields_reading_a_field() -> None:
    campaign = load_campaign(EXAMPLE)
    assert used_by(campaign, campaign.fields["quotient_familial"]) == [
        "tarif cantine (brackets)", "document attestation_caf (required_if)"]
    regime = used_by(campaign, campaign.fields["regime"])
    assert "tarif cantine (applies_if, multiplicateur « repas par semaine »)" in regime
    assert "champ quotient_familial" in regime and "champ repas_annuels" in regime
    assert used_by(campaign, campaign.fields["boursier_echelon"]) == [
        "tarif cantine (exempt_if)"]
    assert used_by(campaign, campaign.fields["adhesions"]) == [
        "champ don_fcpe", "association fse (choisie ici)", "association as (choisie ici)",
        "association fcpe (choisie ici)"]
    # a price by condition and a free amount read fields too
    assert "association as (prices)" in used_by(campaign, campaign.fields["boursier"])
    assert used_by(campaign, campaign.fields["don_fcpe"]) == ["association fcpe (fee_from)"]


def test_repeat_children_are_told_apart() -> None:
    campaign = load_campaign(EXAMPLE)
    assert used_by(campaign, campaign.fields["responsables.adresse"]) == [
        "document justificatif_domicile (required_if)"]
    # a validation rule of another repeat's row reads this child
    assert used_by(campaign, campaign.fields["responsables.telephone_portable"]) == [
        "champ contacts_urgence.telephone"]
    assert used_by(campaign, campaign.fields["responsables.nom"]) == []


def test_reductions_rows_and_associations() -> None:
    campaign = load_campaign(EDGE)
    assert "tarif repas (réduction forfait)" in used_by(campaign, campaign.fields["remise"])
    bourse = used_by(campaign, campaign.fields["bourse"])
    assert "tarif repas (multiplicateur « 3 if bourse == '0' else 1.5 », réduction geste, " \
        "exempt_if)" in bourse
    assert "document piece_b (required_if)" in bourse
    # inside a row, "nom" is the row's own name, not the top-level field
    assert used_by(campaign, campaign.fields["personnes.nom"]) == ["champ personnes.surnom"]
    assert "champ code_famille" in used_by(campaign, campaign.fields["nom"])
    assert "association as (available_if)" in used_by(campaign,
                                                      campaign.fields["nombre_majeurs"])


def test_the_command_prints_them() -> None:
    result = CliRunner().invoke(main, ["explain", str(EXAMPLE), "quotient_familial"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "Utilisé par : tarif cantine (brackets), document attestation_caf (required_if)")
