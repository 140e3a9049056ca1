"""The campaign ``tests:`` runner and ``dossiersco test``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import engine.cli
from engine.rules.testing import run_tests

from campaign.helpers import campaign_text, compile_yaml

FIELDS = """\
- id: regime
  type: choice
  choices: [externe, demi_pensionnaire]
- id: jours
  type: integer
  visible_if: regime == 'demi_pensionnaire'
  required: true
- id: age_fin
  type: computed
  expr: age(pupil.birth_date, date('2027-12-31'))
"""
TARIFFS = """\
tariffs:
  - id: cantine
    label: Cantine
    amount: "3.50"
    applies_if: regime == 'demi_pensionnaire'
    multipliers:
      - {by: jours, label: jours}
documents:
  - {id: rib, label: RIB, required_if: regime == 'demi_pensionnaire'}
"""
PASSING = """\
tests:
  - name: externe
    answers: {regime: externe}
    expect:
      hidden: [jours]
      valid: true
      fees: {cantine: null}
      no_documents: [rib]
  - name: demi-pension
    prefill: {pupil: {birth_date: "2014-03-01"}}
    answers: {regime: demi_pensionnaire, jours: 4}
    expect:
      visible: [jours]
      required: [jours]
      fees: {cantine: "14.00"}
      total: "14.00"
      explanations: {cantine: "× 4 jours"}
      documents: [rib]
      computed: {age_fin: 13}
"""
FAILING = """\
tests:
  - name: attentes fausses
    answers: {regime: demi_pensionnaire}
    expect:
      hidden: [jours]
      valid: true
      errors: {jours: "trop"}
      fees: {cantine: "10.00"}
      total: "1.00"
      documents: [ribs]
      computed: {age_fin: 12}
"""


def test_passing_cases() -> None:
    campaign = compile_yaml(campaign_text(FIELDS, TARIFFS + PASSING))
    outcomes = run_tests(campaign)
    assert [(o.test.name, o.failures) for o in outcomes] == [("externe", []),
                                                              ("demi-pension", [])]


def test_failures_are_readable() -> None:
    text = campaign_text(FIELDS, TARIFFS + FAILING.replace("ribs", "rib"))
    (outcome,) = run_tests(compile_yaml(text))
    assert not outcome.passed
    assert outcome.failures == [
        "expected 'jours' to be hidden, it is visible",
        "expected the dossier to be valid, it is invalid: jours: Ce champ est obligatoire.",
        "expected an error on 'jours' containing 'trop', got: Ce champ est obligatoire.",
        "expected fee 'cantine' = 10.00, got 0.00 (3,50\u00a0€ × ? jours = 0,00\u00a0€)",
        "expected total 1.00, got 0.00",
        "expected computed 'age_fin' = 12, got None",
    ]


def test_unknown_names_in_tests_are_refused_at_load() -> None:
    from campaign.helpers import check_yaml

    campaign, diagnostics = check_yaml(campaign_text(FIELDS, TARIFFS + FAILING))
    assert campaign is None
    assert [(d.code.name, d.hint) for d in diagnostics] == [("TEST_001", "did you mean 'rib'?")]


def test_cli_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(campaign_text(FIELDS, TARIFFS + PASSING), encoding="utf-8")
    result = CliRunner().invoke(engine.cli.main, ["test", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(campaign_text(FIELDS, TARIFFS + FAILING.replace("ribs", "rib")),
                   encoding="utf-8")
    result = CliRunner().invoke(engine.cli.main, ["test", str(good), str(bad)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"FAIL {bad}:33:5: attentes fausses" in lines
    assert "    - expected total 1.00, got 0.00" in lines
    assert lines[-1] == "2 passed, 1 failed"


def test_cli_refuses_an_invalid_campaign(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(campaign_text(FIELDS, TARIFFS + FAILING), encoding="utf-8")
    result = CliRunner().invoke(engine.cli.main, ["test", str(bad)])
    assert result.exit_code == 1
    assert "TEST_001" in result.output


# -- prefill, on_hide, read-only state and the review page -----------------------------------

STORED = """\
- id: nom
  type: text
  label: Nom
  prefill: pupil.last_name
  editable: false
- id: regime
  type: choice
  label: Régime
  choices: [{value: externe, label: Externe}, {value: dp, label: Demi-pension}]
- id: jours
  type: integer
  label: Jours
  visible_if: regime == 'dp'
- id: notes
  type: text
  label: Notes
  visible_if: regime == 'dp'
  on_hide: keep
"""
STORED_TESTS = """\
tests:
  - name: {name}
    from_prefill: {from_prefill}
    prefill: {{pupil: {{last_name: MARTIN}}}}
    answers: {{regime: externe, jours: 4, notes: Végétarien}}
    expect:
      readonly: [nom]
      editable: [regime]
      values: {{nom: MARTIN, jours: null, notes: Végétarien}}
      review: ["Nom : MARTIN", "Régime : Externe"]
"""


def _stored_outcome(from_prefill: bool, review: bool = True) -> list[str]:
    from engine.dossiers.summary import review_text

    text = campaign_text(STORED, STORED_TESTS.format(name="t", from_prefill=str(from_prefill)
                                                     .lower()))
    (outcome,) = run_tests(compile_yaml(text), review_text if review else None)
    return outcome.failures


def test_a_test_may_start_from_the_prefill_and_check_what_a_save_keeps() -> None:
    assert _stored_outcome(from_prefill=True) == []


def test_without_the_prefill_a_locked_field_is_empty_and_the_review_says_so() -> None:
    failures = _stored_outcome(from_prefill=False)
    assert failures[0] == "expected 'nom' to be kept as 'MARTIN', it is None"
    assert failures[1] == ("expected the review page to show 'Nom : MARTIN'; its closest "
                           "line is 'Nom : '")
    assert len(failures) == 2


def test_read_only_and_editable_can_fail() -> None:
    text = campaign_text(STORED, STORED_TESTS.format(name="t", from_prefill="true").replace(
        "readonly: [nom]", "readonly: [regime]").replace("editable: [regime]",
                                                        "editable: [nom]"))
    (outcome,) = run_tests(compile_yaml(text))
    assert outcome.failures == [
        "expected 'regime' to be read-only, the family can change it",
        "expected 'nom' to be editable, it is read-only",
        "this test checks the review page: run it with dossiersco test"]


def test_unknown_names_in_values_are_refused_at_load() -> None:
    from campaign.helpers import check_yaml

    text = campaign_text(STORED, STORED_TESTS.format(name="t", from_prefill="true").replace(
        "jours: null", "jour: null"))
    _, diagnostics = check_yaml(text)
    assert [(d.code.name, d.hint) for d in diagnostics] == [
        ("TEST_001", "did you mean 'jours'?")]
