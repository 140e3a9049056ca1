"""French communes by INSEE code and postal code (COG, via @etalab/decoupage-administratif)."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Commune:
    """``kind``: current, delegated, associated, arrondissement (municipal) or former (a code
    that disappeared in a merger; ``parent`` is the commune it merged into)."""

    insee: str
    name: str
    department: str
    kind: str
    parent: str | None
    postal_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Tables:
    by_insee: dict[str, Commune]
    by_postal_code: dict[str, tuple[Commune, ...]]


@cache
def _tables() -> _Tables:
    """Loaded once, on first use (about 40,000 rows, 0.4 MB gzipped)."""
    raw = resources.files("engine.refdata").joinpath("data/communes.csv.gz").read_bytes()
    reader = csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8")))
    by_insee: dict[str, Commune] = {}
    by_cp: dict[str, list[Commune]] = {}
    for row in reader:
        commune = Commune(row["insee"], row["name"], row["department"], row["kind"],
                          row["parent"] or None, tuple(row["postal_codes"].split()))
        # rows are sorted with the current commune first when a code is shared
        by_insee.setdefault(commune.insee, commune)
        if commune.kind in ("current", "arrondissement"):
            for cp in commune.postal_codes:
                by_cp.setdefault(cp, []).append(commune)
    return _Tables(by_insee, {cp: tuple(sorted(v, key=lambda c: c.name))
                              for cp, v in by_cp.items()})


def commune_by_insee(code: str) -> Commune | None:
    """The commune with this INSEE code; the current one when a delegated commune shares it."""
    return _tables().by_insee.get(code.strip().upper())


def communes_by_postal_code(postal_code: str) -> tuple[Commune, ...]:
    """Current communes and municipal arrondissements served by a postal code, by name."""
    return _tables().by_postal_code.get(postal_code.strip(), ())
