"""Dates (stored as ISO text, entered as JJ/MM/AAAA or with the browser's date picker)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from engine.expr import DATE, Type
from engine.i18n import gettext as _

from .base import FieldType, FieldValueError, OptionContext
from .common import format_date

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec

_FR = re.compile(r"^\s*(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})\s*$")


def parse_date(value: Any) -> date | None:
    """A date from a ``date``, ISO text or French JJ/MM/AAAA text; None when not a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _FR.match(text)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class DateOptions:
    min: date | None = None
    max: date | None = None


class DateField(FieldType[DateOptions]):
    name = "date"
    description = "A calendar date."
    options_schema = {
        "min": {"type": "string", "format": "date", "description": "Earliest date (YYYY-MM-DD)."},
        "max": {"type": "string", "format": "date", "description": "Latest date (YYYY-MM-DD)."},
    }
    template = "fields/date.html"
    example = {"id": "date_naissance", "type": "date", "label": "Date de naissance",
               "prefill": "pupil.birth_date", "editable": False}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> DateOptions:
        lo, hi = parse_date(raw.get("min")), parse_date(raw.get("max"))
        for key in ("min", "max"):
            if raw.get(key) is not None and parse_date(raw[key]) is None:
                ctx.add(key, f"'{raw[key]}' is not a date (write YYYY-MM-DD)")
        if lo and hi and lo > hi:
            ctx.add("min", f"min {lo} is after max {hi}")
        return DateOptions(lo, hi)

    def value_type(self, spec: FieldSpec) -> Type:
        return DATE

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        if value is None or value == "":
            return None
        parsed = parse_date(value)
        if parsed is None:
            raise FieldValueError(_("Saisissez une date valide, par exemple 31/12/2014."))
        return parsed.isoformat()

    def validate(self, value: Any, spec: FieldSpec) -> Iterator[str]:
        options = self.options(spec)
        parsed = date.fromisoformat(value)
        if options.min and parsed < options.min:
            yield _("La date doit être postérieure ou égale au {d}.").format(
                d=format_date(options.min))
        if options.max and parsed > options.max:
            yield _("La date doit être antérieure ou égale au {d}.").format(
                d=format_date(options.max))

    def expr_value(self, value: Any, spec: FieldSpec) -> Any:
        return parse_date(value)

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        parsed = parse_date(value)
        return format_date(parsed) if parsed else ""

    def form_value(self, value: Any, spec: FieldSpec) -> Any:
        parsed = parse_date(value)
        return parsed.isoformat() if parsed else ("" if value is None else str(value))
