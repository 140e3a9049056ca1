"""A field-type plugin for tests: IBAN bank account numbers, checked with ISO 13616 mod 97."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.fields import FieldType, FieldValueError, OptionContext


def iban_is_valid(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 is 1."""
    if len(iban) < 15 or len(iban) > 34 or not iban.isalnum() or not iban[:2].isalpha() \
            or not iban[2:4].isdigit():
        return False
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


@dataclass(frozen=True, slots=True)
class IbanOptions:
    countries: tuple[str, ...] = ()


class IbanField(FieldType):
    name = "iban"
    description = "An IBAN (bank account number), checked with its mod-97 key."
    options_schema = {
        "countries": {"type": "array", "minItems": 1,
                      "items": {"type": "string", "pattern": "^[A-Z]{2}$"},
                      "description": "Countries whose accounts are accepted (all by default)."},
    }
    example = {"id": "iban", "type": "iban", "label": "IBAN", "countries": ["FR"]}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> IbanOptions:
        return IbanOptions(tuple(raw.get("countries", ())))

    def normalize(self, value: Any, spec: Any) -> Any:
        if value is None:
            return None
        text = "".join(str(value).split()).upper()
        if not text:
            return None
        if not iban_is_valid(text):
            raise FieldValueError("Cet IBAN n'est pas valide ; vérifiez-le.")
        return text

    def validate(self, value: Any, spec: Any) -> Iterator[str]:
        countries = spec.options.countries
        if countries and value[:2] not in countries:
            yield "Les comptes de ce pays ne sont pas acceptés."

    def display(self, value: Any, spec: Any, lang: str | None = None) -> str:
        if not value:
            return ""
        return " ".join(value[i:i + 4] for i in range(0, len(value), 4))
