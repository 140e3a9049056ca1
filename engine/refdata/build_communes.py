"""Build ``data/communes.csv.gz`` from ``communes.json`` of the npm package
``@etalab/decoupage-administratif`` (INSEE COG, MIT code, Licence Ouverte data).

Run at build time, never at runtime::

    cd "$(mktemp -d)" && npm pack @etalab/decoupage-administratif@6 && tar xzf *.tgz
    python -m engine.refdata.build_communes package/data/communes.json

Delegated and associated communes are kept (flagged) because birthplaces are often recorded
under the code of a commune that has since merged; ``anciensCodes`` become ``former`` rows
pointing at the commune they merged into.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "data" / "communes.csv.gz"
KINDS = {"commune-actuelle": "current", "commune-deleguee": "delegated",
         "commune-associee": "associated", "arrondissement-municipal": "arrondissement"}
HEADER = ("insee", "name", "department", "kind", "parent", "postal_codes")


def rows(communes: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """One row per (code, kind); former codes only when no other row carries them."""
    out: list[tuple[str, ...]] = []
    for c in communes:
        kind = KINDS[c["type"]]
        parent = c.get("chefLieu") or c.get("commune") or ""
        out.append((c["code"], c["nom"], c["departement"], kind, parent,
                    " ".join(c.get("codesPostaux", []))))
    known = {r[0] for r in out}
    for c in communes:
        for old in c.get("anciensCodes", []):
            if old not in known:
                known.add(old)
                out.append((old, c["nom"], c["departement"], "former", c["code"],
                            " ".join(c.get("codesPostaux", []))))
    out.sort(key=lambda r: (r[0], r[3] != "current"))
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m engine.refdata.build_communes path/to/communes.json")
        return 2
    communes = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows(communes))
    # mtime=0: the same input gives byte-identical output
    OUT.write_bytes(gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{OUT}: {len(buf.getvalue())} bytes of CSV, {OUT.stat().st_size} gzipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
