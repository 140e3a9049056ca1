"""A field-type plugin for tests, entered in two inputs: an identity document (kind + number).

Everything the type needs is here: this class, its partial (assets/fields/piece_identite.html)
and its browser twin (assets/piece_identite.js).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.expr import STR, Type
from engine.fields import Cell, FieldType, FieldValueError, OptionContext

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec

#: kinds of document, with their French names
KINDS = {"cni": "Carte nationale d'identité", "passeport": "Passeport",
         "titre_sejour": "Titre de séjour"}
_NUMBER = re.compile(r"^[A-Z0-9]+$")


def _text(value: Any) -> str:
    """A text or a whole number as text; anything else is no answer (as the browser twin)."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    return ""


@dataclass(frozen=True, slots=True)
class IdentityDocumentOptions:
    kinds: tuple[str, ...] = tuple(KINDS)


class IdentityDocumentField(FieldType[IdentityDocumentOptions]):
    name = "piece_identite"
    description = ("An identity document: its kind (among `kinds`) and its number. Conditions "
                   "see `id.kind` and `id.number`.")
    options_schema = {"kinds": {"type": "array", "minItems": 1, "uniqueItems": True,
                                "items": {"enum": list(KINDS)},
                                "description": "Kinds accepted (all by default)."}}
    template = "fields/piece_identite.html"
    input_parts = ("kind", "number")
    assets_dir = Path(__file__).resolve().parent / "assets"
    script = "piece_identite.js"
    example = {"id": "piece", "type": "piece_identite", "label": "Pièce d'identité",
               "kinds": ["cni", "passeport"]}

    def compile_options(self, raw: Mapping[str, Any],
                        ctx: OptionContext) -> IdentityDocumentOptions:
        return IdentityDocumentOptions(tuple(raw.get("kinds", KINDS)))

    def part_type(self, spec: FieldSpec, part: str) -> Type | None:
        return STR if part in self.input_parts else None

    def parse_input(self, raw: Sequence[str], spec: FieldSpec) -> Any:
        return self.normalize(dict(zip(self.input_parts, raw, strict=False)), spec)

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise FieldValueError("Pièce d'identité incomplète.")
        kind = _text(value.get("kind")).strip().lower()
        number = "".join(_text(value.get("number")).split()).upper()
        if not kind and not number:
            return None
        if kind and kind not in self.options(spec).kinds:
            raise FieldValueError("Choisissez un des types de pièce proposés.")
        if number and not _NUMBER.match(number):
            raise FieldValueError("Le numéro ne comporte que des lettres et des chiffres.")
        return {"kind": kind, "number": number}

    def validate(self, value: Any, spec: FieldSpec) -> Iterator[str]:
        if not value["kind"]:
            yield "Indiquez le type de pièce."
        if not value["number"]:
            yield "Indiquez le numéro de la pièce."
        elif not 6 <= len(value["number"]) <= 20:
            yield "Le numéro comporte de 6 à 20 caractères."

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        if not value:
            return ""
        kind = KINDS.get(value.get("kind", ""), "")
        number = value.get("number", "")
        return f"{kind} n° {number}" if kind and number else kind or number

    def export(self, value: Any, spec: FieldSpec) -> dict[str, Cell]:
        value = value or {}
        return {f".{k}": value.get(k) or None for k in self.input_parts}

    def form_value(self, value: Any, spec: FieldSpec) -> Any:
        value = value if isinstance(value, Mapping) else {}
        return {k: value.get(k, "") for k in self.input_parts}
