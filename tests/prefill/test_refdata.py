"""Offline reference data: communes, countries, code tables."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from engine.refdata import (
    PARENTE_CODES,
    PROFESSION_CODES,
    REGIME_CODES,
    commune_by_insee,
    communes,
    communes_by_postal_code,
    country_by_siecle_code,
    country_name,
    iso_from_siecle_country,
    nationality_label,
)


def test_communes() -> None:
    saint_denis = commune_by_insee("93066")
    assert saint_denis is not None and saint_denis.name == "Saint-Denis"
    assert saint_denis.kind == "current" and "93200" in saint_denis.postal_codes
    paris17 = commune_by_insee("75117")
    assert paris17 is not None and paris17.kind == "arrondissement" and paris17.parent == "75056"
    assert commune_by_insee("2A004") is not None  # Corsica: letters in the code
    assert commune_by_insee("00000") is None
    assert "Mézidon Vallée d'Auge" in [c.name for c in communes_by_postal_code("14270")]
    assert communes_by_postal_code("99999") == ()


def test_delegated_and_merged_communes_still_resolve() -> None:
    # 01003 Francheleins merged into 01165; birthplaces keep the old code
    former = commune_by_insee("01003")
    assert former is not None and former.kind == "former" and former.parent == "01165"


def test_countries() -> None:
    france = country_by_siecle_code("100")
    assert france is not None and france.iso2 == "FR" and france.insee == "99100"
    assert country_by_siecle_code("99109") == country_by_siecle_code("109")
    assert iso_from_siecle_country("212") == "AF"
    assert iso_from_siecle_country("335") == "ML"
    assert iso_from_siecle_country("995") is None and iso_from_siecle_country(None) is None
    assert country_name("109") == "Allemagne"
    assert country_name("CI", "en") == "Côte d’Ivoire"
    assert country_name("995") == "SANS PAYS"
    assert nationality_label("100") == "FRANCAISE"
    assert nationality_label("995") == "SANS NATIONALITE"


def test_code_tables() -> None:
    assert PARENTE_CODES["10"] == "MERE" and all(len(c) == 2 for c in PARENTE_CODES)
    assert set(PROFESSION_CODES) >= {"10", "75", "78", "86", "99"}
    assert REGIME_CODES["24"].startswith("Demi-pensionnaire")


def test_threads_meeting_the_communes_table_at_once_load_it_once() -> None:
    """Eight server threads drawing an address at the same moment: one loads, the others wait
    (it used to be loaded once per thread, on the interpreter lock the pages need)."""
    communes._load.cache_clear()
    start = threading.Barrier(8)

    def first_lookup() -> str:
        start.wait()
        return communes.commune_code("69001", "Lyon")

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _n: first_lookup(), range(8)))
    assert set(codes) == {"69381"}
    assert communes._load.cache_info().misses == 1
