"""The import's speed against its floor (``import_floor.py``), in the same run, in turns:

- ``import 1,000``: ``read_siecle`` + ``import_into`` of 1,000 pupils and 2,000 guardians on an
  empty SQLite database, with the production hasher (family codes keyed: PBKDF2 + HMAC), vs the
  floor writing the same rows (goal ≤ 5×);
- ``dry run 10,000``: the same with 10,000 pupils and ``dry_run=True`` (goal ≤ 3× the floor's
  real write of those rows);
- ``login``: one family code verification, keyed form and argon2 of before (median ms, and the
  peak memory of 200 verifications at once in threads).

Each measure runs in a fresh process on a fresh database, ``--repeat N`` times (default 3) in
turns, so a burst of load lands on neither side alone; the medians and their ratio are printed.

Run: ``python tests/benchmarks/bench_import_ratio.py [--repeat N] [--only import|dryrun]``.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_siecle_parse import write_eleves, write_responsables  # noqa: E402

CAMPAIGN = ROOT / "campaigns" / "college-jean-moulin.yaml"


def _hasher() -> object:
    import secrets

    from engine.security import Hasher

    return Hasher((secrets.token_bytes(32),), time_cost=3, memory_cost=65536, parallelism=4)


def _import(folder: Path, database: Path, dry_run: bool) -> dict[str, float]:
    from engine.campaign import load_campaign
    from engine.db import Database, upgrade
    from engine.dossiers.imports import campaign_version_for, import_into
    from engine.prefill import read_siecle

    campaign = load_campaign(CAMPAIGN)
    db = Database.connect(f"sqlite:///{database}")
    upgrade(db.engine)
    hasher = _hasher()
    start = time.perf_counter()
    result = read_siecle(folder / "eleves.xml", folder / "responsables.xml")
    parsed = time.perf_counter()
    with db.sessions() as session:
        version = campaign_version_for(session, campaign, CAMPAIGN.read_text("utf-8"))
        report = import_into(session, campaign, version, result, hasher=hasher,  # type: ignore[arg-type]
                             check_uai=False, dry_run=dry_run)
    done = time.perf_counter()
    counts = report.counts()
    return {"import_s": done - start, "parse_s": parsed - start,
            "pupils": counts["pupil"]["created"], "accounts": counts["account"]["created"]}


def _login() -> dict[str, float]:
    import threading

    from argon2 import PasswordHasher

    from engine.security import hash_secret, normalize_credential, verify_secret

    hasher = _hasher()
    code = "ABCD-EFGH-JKMN"
    keyed = hash_secret(hasher, code)  # type: ignore[arg-type]
    legacy = PasswordHasher().hash(normalize_credential(code))
    out: dict[str, float] = {}
    for name, stored in (("keyed", keyed), ("argon2", legacy)):
        times = []
        for _ in range(50 if name == "keyed" else 5):
            start = time.perf_counter()
            assert verify_secret(hasher, stored, code)  # type: ignore[arg-type]
            times.append(time.perf_counter() - start)
        out[f"{name}_ms"] = statistics.median(times) * 1000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    barrier = threading.Barrier(200)

    def one() -> None:
        barrier.wait()
        verify_secret(hasher, keyed, code)  # type: ignore[arg-type]

    threads = [threading.Thread(target=one) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["keyed_200_at_once_extra_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                         - before) / 1024
    return out


def measure(phase: str, folder: str, database: str) -> None:
    path = Path(folder)
    if phase == "floor":
        from import_floor import floor

        out = floor(path / "eleves.xml", path / "responsables.xml", Path(database))
    elif phase in ("import", "dryrun"):
        out = _import(path, Path(database), dry_run=phase == "dryrun")
    else:
        out = _login()
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run(phase: str, folder: Path, database: Path) -> dict[str, float]:
    database.unlink(missing_ok=True)
    out = subprocess.run([sys.executable, __file__, "--measure", phase, str(folder),
                          str(database)], check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(repeat: int, only: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        folders = {}
        for pupils in (1_000,) if only == "import" else (1_000, 10_000):
            folder = base / str(pupils)
            folder.mkdir()
            write_eleves(folder / "eleves.xml", pupils)
            write_responsables(folder / "responsables.xml", 2 * pupils)
            folders[pupils] = folder
        database = base / "bench.sqlite3"
        pairs = tuple(p for p in (("import 1,000", 1_000, "import", 5.0),
                                  ("dry run 10,000", 10_000, "dryrun", 3.0))
                      if only is None or p[2] == only)
        times: dict[str, dict[str, list[float]]] = {name: {"floor": [], "engine": []}
                                                    for name, *_ in pairs}
        for _ in range(repeat):
            for name, pupils, phase, _goal in pairs:
                f = run("floor", folders[pupils], database)
                e = run(phase, folders[pupils], database)
                assert f["pupils"] == e["pupils"] and f["accounts"] == e["accounts"], (f, e)
                times[name]["floor"].append(f["floor_s"])
                times[name]["engine"].append(e["import_s"])
                print(f"  {name}: floor {f['floor_s']:.2f} s ({f['rss_mb']:.0f} MB)  engine "
                      f"{e['import_s']:.2f} s (parse {e['parse_s']:.2f} s, "
                      f"{e['rss_mb']:.0f} MB)  {e['import_s'] / f['floor_s']:.2f}x", flush=True)
        for name, *_rest, goal in pairs:
            floor_s = statistics.median(times[name]["floor"])
            engine_s = statistics.median(times[name]["engine"])
            print(f"{name:<15} floor {floor_s:.2f} s  engine {engine_s:.2f} s  "
                  f"ratio {engine_s / floor_s:.2f}x (medians of {repeat}; goal <= {goal:g}x)")
        login = run("login", folders[1_000], database)
        print("login          " + "  ".join(f"{k}={v:.2f}" for k, v in login.items()))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--measure":
        measure(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        args = dict(zip(sys.argv[1::2], sys.argv[2::2], strict=False))
        main(int(args.get("--repeat", 3)), args.get("--only"))
