"""Time and memory of the database import of generated SIECLE files (SQLite).

Run: ``python tests/benchmarks/bench_siecle_import_db.py [PUPILS]`` (default 10,000 pupils and
20,000 guardians, as ``bench_siecle_parse.py`` generates them). Each phase runs in a fresh
subprocess so its peak RSS is its own:

- ``parse``: ``read_siecle`` of both files;
- ``import``: parse + ``import_into`` on an empty database (every pupil, account, link and
  dossier created, one transaction), family codes keyed as in production; the cost of one
  code hash is measured apart (``codes``);
- ``reimport``: the same files again on the filled database (everything unchanged);
- ``letters``: the letters PDF and CSV of the first import's 20,000 codes.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_siecle_parse import write_eleves, write_responsables  # noqa: E402

CAMPAIGN = ROOT / "campaigns" / "college-jean-moulin.yaml"


def _import(folder: Path, database: str) -> dict[str, float]:
    import secrets

    from engine.campaign import load_campaign
    from engine.db import Database, upgrade
    from engine.dossiers.imports import campaign_version_for, import_into
    from engine.prefill import read_siecle
    from engine.security import Hasher

    campaign = load_campaign(CAMPAIGN)
    db = Database.connect(database)
    upgrade(db.engine)
    start = time.perf_counter()
    result = read_siecle(folder / "eleves.xml", folder / "responsables.xml")
    parsed = time.perf_counter()
    with db.sessions() as session:
        version = campaign_version_for(session, campaign, CAMPAIGN.read_text("utf-8"))
        report = import_into(session, campaign, version, result,
                             hasher=Hasher((secrets.token_bytes(32),), time_cost=1,
                                           memory_cost=8, parallelism=1),
                             check_uai=False)
    done = time.perf_counter()
    if report.credentials:
        (folder / "credentials.json").write_text(json.dumps(
            [[c.login, c.code, c.display_name, c.email, c.personne_id, c.pupils]
             for c in report.credentials]))
    counts = {f"{k}_{a}": n for k, c in report.counts().items() for a, n in c.items()}
    return {"parse_s": parsed - start, "db_s": done - parsed, "total_s": done - start, **counts}


def _letters(folder: Path) -> dict[str, float]:
    from engine.campaign import load_campaign
    from engine.dossiers.accounts import Credential
    from engine.exports.letters import credentials_csv, letters_pdf

    credentials = [Credential(*row) for row in json.loads(
        (folder / "credentials.json").read_text())]
    establishment = load_campaign(CAMPAIGN).establishment
    start = time.perf_counter()
    pdf = letters_pdf(credentials, establishment, "https://dossiers.example.fr")
    middle = time.perf_counter()
    credentials_csv(credentials, "https://dossiers.example.fr")
    return {"pdf_s": middle - start, "csv_s": time.perf_counter() - middle,
            "pdf_mb": len(pdf) / 2**20, "letters": len(credentials)}


def _codes() -> dict[str, float]:
    from engine.config import Settings
    from engine.security import hash_secret, make_hasher

    hasher = make_hasher(Settings.from_env({"DOSSIERSCO_SECRET_KEY": "x"}))
    start = time.perf_counter()
    for _ in range(20):
        hash_secret(hasher, "ABCD-EFGH-JKMN")
    return {"per_hash_s": (time.perf_counter() - start) / 20}


def measure(phase: str, folder: str, database: str) -> None:
    path = Path(folder)
    if phase == "parse":
        from engine.prefill import read_siecle

        start = time.perf_counter()
        result = read_siecle(path / "eleves.xml", path / "responsables.xml")
        out = {"parse_s": time.perf_counter() - start, "records": len(result.pupils)}
    elif phase in ("import", "reimport"):
        out = _import(path, database)
    elif phase == "letters":
        out = _letters(path)
    else:
        out = _codes()
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run(phase: str, folder: Path, database: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--measure", phase, str(folder), database],
                         check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(pupils: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_eleves(folder / "eleves.xml", pupils)
        write_responsables(folder / "responsables.xml", 2 * pupils)
        database = f"sqlite:///{folder / 'bench.sqlite3'}"
        for phase in ("parse", "import", "reimport", "letters", "codes"):
            figures = run(phase, folder, database)
            print(f"{phase:<9} " + "  ".join(
                f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                for k, v in figures.items()))
        size = (folder / "bench.sqlite3").stat().st_size / 2**20
        print(f"database file: {size:.1f} MB")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--measure":
        measure(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
