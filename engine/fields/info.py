"""Text shown to families, with no answer (instructions, legal notices)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.text import LocalText, local_text

from .base import FieldType, OptionContext


@dataclass(frozen=True, slots=True)
class InfoOptions:
    text: LocalText
    level: str = "info"


class InfoField(FieldType[InfoOptions]):
    name = "info"
    description = ("Text only (Markdown in `text`), optionally highlighted with "
                   "`level: warning`; `{{ id }}` placeholders show answers or computed values.")
    options_schema = {"text": {"$ref": "#/$defs/text"},
                      "level": {"enum": ["info", "warning"], "default": "info"}}
    required_options = ("text",)
    template = "fields/info.html"
    has_value = False
    example = {"id": "infos_sante", "type": "info", "label": "Santé",
               "text": "La fiche infirmerie est à remplir sur papier et à remettre sous pli "
                       "fermé."}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> InfoOptions:
        return InfoOptions(local_text(raw.get("text"), ctx.languages), raw.get("level", "info"))
