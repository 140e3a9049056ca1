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

#: the time a spreadsheet or an export may write after a date ("22/12/2004 00:00:00")
_TIME = r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
#: JJ/MM/AAAA as families and SIECLE write it (also with . - or space)
_FR = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})" + _TIME + "$")
#: ISO as browsers and spreadsheet date-time cells write it
_ISO = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})" + _TIME + "$")


def read_date(value: Any, fmt: str | None = None) -> date | None:
    """A date from any representation readers and browsers produce: ``date``/``datetime``
    (spreadsheet cells), JJ/MM/AAAA (SIECLE, families), ISO, or text in ``fmt`` (a spreadsheet
    column's declared ``strptime`` format). None for an empty value.

    The one date normaliser: raises :class:`FieldValueError` saying why ``value`` is not a date
    (the import report quotes it).
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldValueError(f"« {value} » n'est pas une date (attendu : jj/mm/aaaa)")
    text = value.strip()
    if not text:
        return None
    if fmt is not None:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            raise FieldValueError(f"« {text} » n'est pas une date au format {fmt}") from None
    match = _FR.match(text)
    if match:
        day, month, year = int(match[1]), int(match[2]), int(match[3])
    else:
        match = _ISO.match(text)
        if match is None:
            try:  # the other ISO spellings (20120901, 2012-W35-6)
                return date.fromisoformat(text)
            except ValueError:
                raise FieldValueError(f"« {text} » n'est pas une date (attendu : jj/mm/aaaa)") \
                    from None
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    try:
        return date(year, month, day)
    except ValueError:
        raise FieldValueError(f"« {text} » n'est pas une date qui existe") from None


def parse_date(value: Any) -> date | None:
    """:func:`read_date`, None when ``value`` is not a date (expressions, options, display)."""
    try:
        return read_date(value)
    except FieldValueError:
        return None


def iso_date(value: Any) -> str | None:
    """The stored form (ISO text) of a date in any representation; None when empty or not a
    date (what imported snapshots and typed columns take)."""
    parsed = parse_date(value)
    return parsed.isoformat() if parsed else None


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
        try:
            parsed = read_date(value)
        except FieldValueError:
            parsed = None
        if parsed is None:  # blanks are not an empty answer: the browser says the same
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
