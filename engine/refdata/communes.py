"""French communes by INSEE code and postal code (COG, via @etalab/decoupage-administratif)."""

from __future__ import annotations

import csv
import gzip
import io
import threading
import unicodedata
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


_loading = threading.Lock()


def _tables() -> _Tables:
    """Loaded once, on first use (about 40,000 rows, 0.4 MB gzipped, 0.4 s). One thread
    loads while the others wait: eight server threads meeting an address at once used to
    load it eight times over, on the interpreter lock the pages need (docs/performance.md)."""
    with _loading:
        return _load()


def preload() -> None:
    """Load the table now (a server about to answer), not on a family's first address."""
    _tables()


@cache
def _load() -> _Tables:
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


def _name_key(name: str) -> str:
    """A commune name compared without case, accents, spaces or punctuation."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(c for c in plain if c.isalnum()).upper()


def commune_code(postal_code: str, name: str, current: str = "") -> str:
    """The INSEE code of the commune ``name`` served by ``postal_code``, so the code follows
    a move: the commune named (its arrondissement when the postal code has exactly one), else
    ``current`` when that commune has the postal code, else the postal code's only commune,
    else "" (unknown). A postal code missing from the table keeps ``current``."""
    served = communes_by_postal_code(postal_code)
    if not served:
        return current
    wanted = _name_key(name)
    named = next((c for c in served if _name_key(c.name) == wanted), None) if wanted else None
    if named is not None:
        parts = [c for c in served if c.kind == "arrondissement" and c.parent == named.insee]
        return parts[0].insee if len(parts) == 1 else named.insee
    if current.upper() in {c.insee for c in served}:
        return current.upper()
    return served[0].insee if len(served) == 1 else ""
