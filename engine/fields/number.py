"""Numbers: decimal (``number``) and whole (``integer``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.expr import NUMBER, Type
from engine.i18n import gettext as _
from engine.text import EMPTY, LocalText, local_text

from .base import FieldType, FieldValueError, OptionContext
from .common import NUMBER_LIKE, format_decimal, to_decimal

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec


@dataclass(frozen=True, slots=True)
class NumberOptions:
    min: Decimal | None = None
    max: Decimal | None = None
    decimals: int | None = None
    unit: LocalText = EMPTY


class NumberField(FieldType[NumberOptions]):
    name = "number"
    description = "A decimal number (stored exactly, comma or point accepted)."
    options_schema = {
        "min": NUMBER_LIKE, "max": NUMBER_LIKE,
        "decimals": {"type": "integer", "minimum": 0, "maximum": 6,
                     "description": "Most decimals accepted."},
        "unit": {"$ref": "#/$defs/text", "description": "Unit shown after the input, e.g. €."},
    }
    example = {"id": "quotient_familial", "type": "number", "label": "Quotient familial CAF",
               "min": 0, "unit": "€"}
    whole = False

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> NumberOptions:
        lo, hi = to_decimal(raw.get("min")), to_decimal(raw.get("max"))
        if lo is not None and hi is not None and lo > hi:
            ctx.add("min", f"min {lo} is greater than max {hi}")
        return NumberOptions(lo, hi, 0 if self.whole else raw.get("decimals"),
                             local_text(raw.get("unit"), ctx.languages))

    def value_type(self, spec: FieldSpec) -> Type:
        return NUMBER

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        if value is None or value == "":
            return None
        number = to_decimal(value)
        if number is None:
            raise FieldValueError(_("Saisissez un nombre entier.") if self.whole
                                  else _("Saisissez un nombre, par exemple 12,5."))
        if self.whole:
            if number != number.to_integral_value():
                raise FieldValueError(_("Saisissez un nombre entier."))
            return int(number)
        return str(number.normalize() if number != number.to_integral_value()
                   else number.quantize(Decimal(1)))

    def validate(self, value: Any, spec: FieldSpec) -> Iterator[str]:
        options = self.options(spec)
        number = Decimal(str(value))
        if options.min is not None and number < options.min:
            yield _("La valeur doit être supérieure ou égale à {n}.").format(
                n=format_decimal(options.min))
        if options.max is not None and number > options.max:
            yield _("La valeur doit être inférieure ou égale à {n}.").format(
                n=format_decimal(options.max))
        if options.decimals is not None and not self.whole:
            exponent = number.normalize().as_tuple().exponent
            if isinstance(exponent, int) and -exponent > options.decimals:
                yield _("Saisissez au plus {n} décimales.").format(n=options.decimals)

    def expr_value(self, value: Any, spec: FieldSpec) -> Any:
        return to_decimal(value)

    def written(self, number: Decimal, spec: FieldSpec) -> Decimal:
        """``number`` as a family writes it: a fractional value with all the decimals the field
        allows (420,50 € for a quotient of 420.5), a whole one without any."""
        options = self.options(spec)
        places = options.decimals if options else None
        exponent = number.normalize().as_tuple().exponent
        if places and isinstance(exponent, int) and 0 < -exponent < places:
            return number.quantize(Decimal(1).scaleb(-places))
        return number

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        number = to_decimal(value)
        if number is None:
            return ""
        unit = self.options(spec).unit.get(lang) if self.options(spec) else None
        return format_decimal(self.written(number, spec)) + (f"\u00a0{unit}" if unit else "")

    def form_value(self, value: Any, spec: FieldSpec) -> Any:
        """French writing in the input (a comma, no thousands separator): what the family typed
        comes back as they typed it."""
        number = to_decimal(value)
        if number is None:
            return "" if value is None else str(value)
        return f"{self.written(number, spec):f}".replace(".", ",")

    def export(self, value: Any, spec: FieldSpec) -> dict[str, Any]:
        number = to_decimal(value)
        return {"": None if number is None else (int(number) if self.whole else float(number))}


class IntegerField(NumberField):
    name = "integer"
    description = "A whole number."
    options_schema = {k: v for k, v in NumberField.options_schema.items() if k != "decimals"}
    example = {"id": "freres_soeurs", "type": "integer", "label": "Nombre de frères et sœurs",
               "min": 0, "max": 15}
    whole = True
