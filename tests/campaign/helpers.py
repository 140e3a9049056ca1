"""Helpers for the engine tests: compile small inline campaigns through the public API."""

from __future__ import annotations

import textwrap
from pathlib import Path

from engine.campaign import Campaign, check_source, parse_source
from engine.diagnostics import CampaignError, Diagnostic

HEADER = """\
language: 1
id: demo
title: Réinscription
establishment:
  uai: "0123456A"
  name: Collège Test
opens: 2027-05-01
closes: 2027-06-30
"""


def campaign_text(fields: str, rest: str = "") -> str:
    """A whole campaign: HEADER, one page holding ``fields`` (YAML list items), then ``rest``."""
    body = textwrap.indent(textwrap.dedent(fields).strip("\n"), "      ")
    return (HEADER + "pages:\n  - id: eleve\n    title: Élève\n    fields:\n" + body + "\n"
            + textwrap.dedent(rest).strip("\n") + "\n")


def check_yaml(text: str, *, base_dir: Path | None = None) -> tuple[Campaign | None,
                                                                    list[Diagnostic]]:
    return check_source(parse_source(text, name="inline.yaml", base_dir=base_dir))


def compile_yaml(text: str, *, base_dir: Path | None = None) -> Campaign:
    """The campaign compiled from ``text``; raises CampaignError listing every error."""
    campaign, diagnostics = check_yaml(text, base_dir=base_dir)
    if campaign is None:
        raise CampaignError(diagnostics)
    return campaign


def compile_fields(fields: str, rest: str = "") -> Campaign:
    return compile_yaml(campaign_text(fields, rest))


def codes(diagnostics: list[Diagnostic]) -> set[str]:
    return {d.code.name for d in diagnostics}
