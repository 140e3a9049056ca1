"""The example campaigns validate, their own tests pass, and the committed JSON Schema is current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from engine.campaign import check_file, load_source, schema_json
from engine.campaign.model import unindexed
from engine.cli import main
from engine.dossiers.summary import review_text
from engine.fields import new_registry
from engine.rules.testing import run_tests

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGNS = sorted((ROOT / "campaigns").glob("*.yaml"))
SCHEMA = ROOT / "schemas" / "campaign.schema.json"


def test_there_are_example_campaigns() -> None:
    names = {p.name for p in CAMPAIGNS}
    assert {"college-jean-moulin.yaml", "college-les-tilleuls.yaml"} <= names


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.name)
def test_campaign_validates_without_problem(path: Path) -> None:
    campaign, diagnostics = check_file(path)
    assert campaign is not None, "\n".join(d.as_line() for d in diagnostics)
    # warnings are allowed by the language, but the examples must not need any
    assert diagnostics == [], "\n".join(d.as_line() for d in diagnostics)


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.name)
def test_campaign_tests_pass(path: Path) -> None:
    campaign, diagnostics = check_file(path)
    assert campaign is not None, "\n".join(d.as_line() for d in diagnostics)
    assert len(campaign.tests) >= 5, "an example campaign documents its rules with tests"
    failures = [f"{o.test.name}: {failure}" for o in run_tests(campaign, review_text) if not o.passed
                for failure in o.failures]
    assert failures == []


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.name)
def test_campaign_declares_the_schema_for_editors(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/campaign.schema.json"


def test_jean_moulin_covers_every_rule() -> None:
    campaign, _ = check_file(ROOT / "campaigns" / "college-jean-moulin.yaml")
    assert campaign is not None
    tested_fees = {k for t in campaign.tests for k in (t.expect.get("fees") or {})}
    assert {t.id for t in campaign.tariffs} <= tested_fees
    asked = {unindexed(d) for t in campaign.tests for d in t.expect.get("documents", ())}
    conditional = {d.id for d in campaign.documents if d.required_if is not None}
    assert conditional <= asked
    explained = " ".join(v for t in campaign.tests
                         for v in (t.expect.get("explanations") or {}).values())
    for label in ("tranche A", "tranche B", "tranche C", "tranche D", "Réduction fratrie",
                  "Exonération"):
        assert label in explained
    for doc in campaign.documents:
        if doc.template:
            assert (ROOT / "campaigns" / doc.template).read_bytes().startswith(b"%PDF")


def test_cli_validate_and_test_all_campaigns() -> None:
    runner = CliRunner()
    files = [str(p) for p in CAMPAIGNS]
    validated = runner.invoke(main, ["validate", *files])
    assert validated.exit_code == 0, validated.output
    assert f"{len(files)} file(s) checked: 0 error(s)" in validated.output
    tested = runner.invoke(main, ["test", *files])
    assert tested.exit_code == 0, tested.output
    assert "passed" in tested.output
    assert "0 failed" in tested.output


def test_committed_schema_is_current() -> None:
    expected = schema_json(new_registry())
    committed = SCHEMA.read_text(encoding="utf-8") if SCHEMA.exists() else ""
    assert committed == expected, (
        "schemas/campaign.schema.json is stale: run "
        "`.venv/bin/dossiersco schema > schemas/campaign.schema.json` and commit it")


def test_committed_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_schema_accepts_the_example_campaigns() -> None:
    """Editors check files against the committed schema alone: the examples must pass it."""
    validator = Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    for path in CAMPAIGNS:
        # the engine's reader keeps keys as written (`on:` is not YAML 1.1's boolean true)
        data = load_source(path).data
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
        assert errors == [], f"{path.name}: {errors}"
