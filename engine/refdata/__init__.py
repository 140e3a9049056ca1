"""Offline reference data: communes, countries and SIECLE code tables (see README.md)."""

from __future__ import annotations

from .codes import OBSOLETE_PROFESSION_CODES, PARENTE_CODES, PROFESSION_CODES, REGIME_CODES
from .communes import Commune, commune_by_insee, communes_by_postal_code
from .countries import (
    Country,
    country_by_siecle_code,
    country_name,
    iso_from_siecle_country,
    nationality_label,
)

__all__ = [
    "OBSOLETE_PROFESSION_CODES", "PARENTE_CODES", "PROFESSION_CODES", "REGIME_CODES", "Commune",
    "Country", "commune_by_insee", "communes_by_postal_code", "country_by_siecle_code",
    "country_name", "iso_from_siecle_country", "nationality_label",
]
