"""Countries as SIECLE codes them (3 digits, the end of the INSEE COG code 99xxx), with ISO
alpha-2 codes for the ``country`` field type and French nationality labels."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from babel import Locale, UnknownLocaleError


@dataclass(frozen=True, slots=True)
class Country:
    """``verify``: the row was written by hand and must be checked against the COG."""

    insee: str
    siecle: str
    iso2: str | None
    name_fr: str
    nationality_fr: str
    verify: bool


@cache
def _by_siecle() -> dict[str, Country]:
    text = resources.files("engine.refdata").joinpath("data/countries.csv").read_text("utf-8")
    out: dict[str, Country] = {}
    for row in csv.DictReader(io.StringIO(text)):
        country = Country(row["insee"], row["insee"][2:], row["iso2"] or None, row["name_fr"],
                          row["nationality_fr"], row["verify"] == "1")
        out[country.siecle] = country
    return out


def country_by_siecle_code(code: str | None) -> Country | None:
    """``100`` (SIECLE) or ``99100`` (COG) → France; None when unknown."""
    if not code:
        return None
    code = code.strip()
    if len(code) == 5 and code.startswith("99"):
        code = code[2:]
    return _by_siecle().get(code.zfill(3))


def iso_from_siecle_country(code: str | None) -> str | None:
    found = country_by_siecle_code(code)
    return found.iso2 if found else None


def country_name(code: str, lang: str = "fr") -> str | None:
    """Name of a country from an ISO alpha-2 or a SIECLE/COG code, in ``lang`` (CLDR names;
    the COG label when CLDR has none)."""
    iso = code.upper() if len(code) == 2 and code.isalpha() else None
    found = None if iso else country_by_siecle_code(code)
    iso = iso or (found.iso2 if found else None)
    if iso:
        try:
            name = Locale.parse(lang).territories.get(iso)
        except (UnknownLocaleError, ValueError):
            name = None
        if name:
            return str(name)
    return found.name_fr if found else None


def nationality_label(code: str | None) -> str | None:
    """French nationality adjective (feminine, as SIECLE lists it: FRANCAISE) for a SIECLE code."""
    found = country_by_siecle_code(code)
    return found.nationality_fr if found else None


def siecle_code_of(iso2: str) -> str | None:
    """ISO alpha-2 (``FR``) → SIECLE's 3-digit country code (``100``); None when unknown."""
    return next((c.siecle for c in _by_siecle().values() if c.iso2 == iso2.upper()), None)
