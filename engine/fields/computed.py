"""Read-only values computed from an expression (age at year end, total to pay…)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.expr import BOOL, DATE, NUMBER, STR, Type

from .base import Cell, FieldType, OptionContext
from .common import format_date, format_decimal, format_money, format_yes_no, to_decimal
from .date import parse_date

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec

_TYPES = {"number": NUMBER, "integer": NUMBER, "money": NUMBER, "text": STR, "date": DATE,
          "boolean": BOOL}


@dataclass(frozen=True, slots=True)
class ComputedOptions:
    format: str = "number"


class ComputedField(FieldType[ComputedOptions]):
    name = "computed"
    description = ("A read-only value computed from the expression `expr`, shown to the family "
                   "and usable in conditions, texts and exports; `format` says its type.")
    options_schema = {
        "expr": {"type": "string", "description": "Expression giving the value."},
        "format": {"enum": list(_TYPES), "default": "number"},
    }
    required_options = ("expr",)
    expression_options = ("expr",)
    template = "fields/computed.html"
    has_value = False
    example = {"id": "age_31_decembre", "type": "computed", "label": "Âge au 31 décembre",
               "expr": "age(pupil.birth_date, date('2027-12-31'))", "format": "integer"}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> ComputedOptions:
        return ComputedOptions(raw.get("format", "number"))

    def value_type(self, spec: FieldSpec) -> Type:
        return _TYPES[self.options(spec).format]

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        """Computed values are stored JSON-safe: numbers as text, dates as ISO text."""
        if value is None:
            return None
        if isinstance(value, Decimal):
            return str(value)
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, bool | str):
            return value
        return str(value)

    def expr_value(self, value: Any, spec: FieldSpec) -> Any:
        fmt = self.options(spec).format
        if fmt in ("number", "integer", "money"):
            return to_decimal(value)
        if fmt == "date":
            return parse_date(value)
        return value

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        fmt = self.options(spec).format
        if value is None:
            return ""
        if fmt in ("number", "integer", "money"):
            number = to_decimal(value)
            if number is None:
                return ""
            if fmt == "money":
                return format_money(number)
            return format_decimal(number.quantize(Decimal(1)) if fmt == "integer" else number)
        if fmt == "date":
            parsed = parse_date(value)
            return format_date(parsed) if parsed else ""
        if fmt == "boolean":
            return format_yes_no(bool(value), lang)
        return str(value)

    def export(self, value: Any, spec: FieldSpec) -> dict[str, Cell]:
        if self.options(spec).format in ("number", "integer", "money"):
            number = to_decimal(value)
            return {"": None if number is None else float(number)}
        return {"": self.display(value, spec) or None}
