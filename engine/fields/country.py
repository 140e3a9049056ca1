"""Countries (ISO 3166 alpha-2 codes, names from CLDR in the family's language)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from babel import Locale

from engine.i18n import gettext as _

from .base import FieldType, FieldValueError, OptionContext

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec


#: listed first: nearly every family of a French school lives there
FIRST_COUNTRY = "FR"


def _sort_key(name: str) -> str:
    """Alphabetical order as a French reader expects it: « Égypte » between « Équateur » and
    « Érythrée », not after « Zimbabwe »."""
    return "".join(c for c in unicodedata.normalize("NFD", name.casefold())
                   if not unicodedata.combining(c))


@cache
def country_names(lang: str = "fr") -> dict[str, str]:
    """ISO alpha-2 code to country name (two-letter codes only), in the order of the lists
    shown to families: France first, then by name, accents ignored."""
    territories = Locale.parse(lang).territories
    names = {code: name for code, name in territories.items()
             if len(code) == 2 and code.isalpha() and code not in ("EU", "EZ", "UN", "ZZ", "QO")}
    ordered = sorted(names.items(), key=lambda item: (item[0] != FIRST_COUNTRY,
                                                       _sort_key(item[1])))
    return dict(ordered)


def country_code(value: Any) -> str | None:
    """A code from an ISO code or a French/English country name."""
    text = str(value).strip()
    if len(text) == 2 and text.upper() in country_names("fr"):
        return text.upper()
    folded = text.casefold()
    for lang in ("fr", "en"):
        for code, name in country_names(lang).items():
            if name.casefold() == folded:
                return code
    return None


@dataclass(frozen=True, slots=True)
class CountryOptions:
    nationality: bool = False


class CountryField(FieldType[CountryOptions]):
    name = "country"
    description = "A country from the ISO list (stored as its two-letter code, e.g. FR)."
    options_schema = {"nationality": {"type": "boolean", "default": False,
                                      "description": "Ask for a nationality (pays de "
                                      "nationalité)."}}
    template = "fields/country.html"
    example = {"id": "nationalite", "type": "country", "label": "Nationalité",
               "nationality": True, "prefill": "pupil.nationality"}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> CountryOptions:
        return CountryOptions(bool(raw.get("nationality", False)))

    def choices(self, spec: FieldSpec) -> frozenset[str] | None:
        return frozenset(country_names("fr"))

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        if value is None or not str(value).strip():
            return None
        code = country_code(value)
        if code is None:
            raise FieldValueError(_("Choisissez un pays de la liste."))
        return code

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        if not value:
            return ""
        return country_names(lang or "fr").get(str(value), str(value))
