"""``dossiersco validate``, ``schema``, ``test`` and ``explain``: campaign files, no database."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import click

from engine.campaign import check_file, schema_json
from engine.campaign.model import Campaign
from engine.diagnostics import Diagnostic, did_you_mean
from engine.diagnostics import strict_translations as diagnostics_strict
from engine.dossiers.summary import review_text
from engine.fields import FieldRegistry, PluginLoadError, new_registry
from engine.rules.explain import explain_field
from engine.rules.testing import run_tests


def _registry() -> FieldRegistry:
    """The field types of this command: built-in and installed plugins."""
    try:
        return new_registry()
    except PluginLoadError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of problems.")
@click.option("--strict-translations", is_flag=True,
              help="A text missing a language of the campaign is an error, not a warning.")
def validate_command(files: Sequence[str], as_json: bool, strict_translations: bool) -> None:
    """Check campaign FILES; exit 1 when any has an error (warnings are allowed)."""
    registry = _registry()
    problems: list[Diagnostic] = []
    for name in files:
        _, diagnostics = check_file(name, registry)
        problems.extend(diagnostics_strict(diagnostics) if strict_translations else diagnostics)
    if as_json:
        click.echo(json.dumps([d.as_dict() for d in problems], ensure_ascii=False, indent=2))
    else:
        for d in problems:
            click.echo(d.as_line())
        errors = sum(d.is_error for d in problems)
        warnings = len(problems) - errors
        click.echo(f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s).",
                   err=True)
    sys.exit(1 if any(d.is_error for d in problems) else 0)


@click.command("schema")
def schema_command() -> None:
    """Print the campaign JSON Schema generated from the field types."""
    click.echo(schema_json(_registry()), nl=False)


def _load(name: str) -> Campaign:
    campaign, diagnostics = check_file(name, _registry())
    if campaign is None:
        for d in diagnostics:
            click.echo(d.as_line(), err=True)
        raise SystemExit(1)
    return campaign


@click.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def test_command(files: Sequence[str]) -> None:
    """Run the tests: cases written in campaign FILES; exit 1 on any failure."""
    failed = passed = 0
    for name in files:
        campaign = _load(name)
        for outcome in run_tests(campaign, review_text):
            loc = outcome.test.location
            if outcome.passed:
                passed += 1
                click.echo(f"PASS {name}: {outcome.test.name}")
                continue
            failed += 1
            click.echo(f"FAIL {name}:{loc.line}:{loc.column}: {outcome.test.name}")
            for failure in outcome.failures:
                click.echo(f"    - {failure}")
    click.echo(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


@click.command("explain")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("field_id")
def explain_command(file: str, field_id: str) -> None:
    """Say why FIELD_ID is shown, required or hidden, and what it depends on."""
    campaign = _load(file)
    spec = campaign.fields.get(field_id)
    if spec is None:
        hint = did_you_mean(field_id, campaign.fields)
        raise click.ClickException(f"no field '{field_id}' in {file}" +
                                   (f" ({hint})" if hint else ""))
    for line in explain_field(campaign, spec):
        click.echo(line)


def register(main: click.Group) -> None:
    """Add the campaign-file commands to the ``dossiersco`` command."""
    for command in (validate_command, schema_command, test_command, explain_command):
        main.add_command(command)
