"""Campaign files: YAML source → schema check → compile → frozen :class:`Campaign`.

``load_campaign(path)`` is the one entry point the app, the command and the tests use. Each
function takes the field-type registry to compile with; without one (plain scripts), a registry
of the built-in types and the installed plugins is built for the call.
"""

from __future__ import annotations

from pathlib import Path

from engine.diagnostics import CampaignError, Diagnostic, sort_key
from engine.fields import FieldRegistry, new_registry

from .compiler import compile_campaign
from .model import Campaign, FieldSpec, Page
from .schema import build_schema, check_schema, schema_json
from .source import Source, load_source, parse_source, short_hash, source_hash


def check_source(source: Source, registry: FieldRegistry | None = None,
                 ) -> tuple[Campaign | None, list[Diagnostic]]:
    """Run every stage on ``source``; the campaign is None when any error was found."""
    registry = registry if registry is not None else new_registry()
    schema_problems = check_schema(source, registry) if source.data is not None else []
    campaign, diagnostics = compile_campaign(source, registry, schema_problems)
    return campaign, sorted(diagnostics, key=sort_key)


def check_file(path: str | Path, registry: FieldRegistry | None = None,
               *, name: str | None = None) -> tuple[Campaign | None, list[Diagnostic]]:
    return check_source(load_source(path, name=name), registry)


def load_campaign(path: str | Path, registry: FieldRegistry | None = None) -> Campaign:
    """The compiled campaign of ``path``; raises :class:`CampaignError` listing every error."""
    campaign, diagnostics = check_file(path, registry)
    if campaign is None:
        raise CampaignError(diagnostics)
    return campaign


def load_campaign_text(text: str | bytes, *, name: str = "<campaign>",
                       base_dir: Path | None = None,
                       registry: FieldRegistry | None = None) -> Campaign:
    """Compile campaign text (as stored with a dossier's campaign version)."""
    campaign, diagnostics = check_source(parse_source(text, name=name, base_dir=base_dir),
                                         registry)
    if campaign is None:
        raise CampaignError(diagnostics)
    return campaign


__all__ = [
    "Campaign", "CampaignError", "FieldSpec", "Page", "Source", "build_schema", "check_file",
    "check_schema", "check_source", "load_campaign", "load_campaign_text", "load_source",
    "parse_source", "schema_json", "short_hash", "source_hash",
]
