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
