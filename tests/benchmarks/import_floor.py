"""The floor of a database import: what any importer of these files has to do, written as
plainly as Python allows, to measure ``import_into`` against.

It parses the same files with the same reader (``read_siecle``), builds the same rows — one
pupil, one dossier (the same prefill snapshot and provenance, as JSON) and its "created" event
per pupil, one family account (a random login and code, its HMAC-SHA-256) per legal guardian,
one guardianship per link — and writes them with ``sqlite3.executemany`` in one transaction,
on a database migrated like the app's. No lookup of existing rows, no campaign rules (the
benchmark's pupils are all in the campaign's audience), no ORM.

Run: ``python tests/benchmarks/import_floor.py ELEVES.xml RESPONSABLES.xml DATABASE.sqlite3``
prints ``{"floor_s": …, "pupils": …, "accounts": …}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def floor(eleves: Path, responsables: Path, database: Path) -> dict[str, float]:
    from engine.db import Database, upgrade
    from engine.prefill import read_siecle

    db = Database.connect(f"sqlite:///{database}")
    upgrade(db.engine)
    db.dispose()
    key = secrets.token_bytes(32)
    start = time.perf_counter()
    result = read_siecle(eleves, responsables)
    now = datetime.now(UTC).isoformat(sep=" ")
    conn = sqlite3.connect(database)
    cur = conn.cursor()
    cur.execute("INSERT INTO establishment (uai, name, created_at) VALUES (?, ?, ?)",
                ("0691234A", "Collège", now))
    establishment = cur.lastrowid
    cur.execute("INSERT INTO campaign_version (slug, version, title, source, establishment_id,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                ("bench", "0" * 64, "Bench", "", establishment, now))
    version = cur.lastrowid
    pupils, dossiers, accounts, links = [], [], [], []
    account_ids: dict[str, int] = {}
    for n, pupil in enumerate(result.pupils, start=1):
        pupils.append((n, establishment, pupil.eleve_id, pupil.ine, pupil.first_name or "",
                       pupil.last_name or "", None, now))
        snapshot = result.prefill_for(pupil)
        provenance = {k: p.as_dict() for k, p in result.prefill_provenance_for(pupil).items()}
        dossiers.append((n, secrets.token_urlsafe(16), n, version, "not_started",
                         json.dumps(snapshot), json.dumps(provenance), now, now))
        for guardian in result.guardians_of(pupil.eleve_id):
            link = guardian.link_for(pupil.eleve_id)
            if link is not None and link.niveau_responsabilite not in (None, "", "1"):
                continue
            key_id = guardian.personne_id
            if key_id not in account_ids:
                account_ids[key_id] = len(account_ids) + 1
                code = _random(12)
                digest = hmac.new(key, code.encode(), hashlib.sha256).hexdigest()
                accounts.append((account_ids[key_id], _random(10), digest,
                                 f"{guardian.first_name} {guardian.last_name}", guardian.email,
                                 key_id, now))
            links.append((account_ids[key_id], n, key_id, now))
    cur.executemany("INSERT INTO pupil (id, establishment_id, eleve_id, ine, first_name, "
                    "last_name, birth_date, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", pupils)
    cur.executemany("INSERT INTO family_account (id, login, code_hash, display_name, email, "
                    "personne_id, failed_attempts, session_epoch, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?)", accounts)
    cur.executemany("INSERT INTO guardianship (account_id, pupil_id, guardian_key, "
                    "confidential_contact, created_at) VALUES (?, ?, ?, 0, ?)", links)
    cur.executemany("INSERT INTO dossier (id, public_id, pupil_id, campaign_version_id, state, "
                    "prefill, provenance, answers, computed, row_version, correction_targets, "
                    "corrections, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, '{}', '{}', 1, '[]', '[]', ?, ?)", dossiers)
    cur.executemany("INSERT INTO dossier_event (dossier_id, at, actor_kind, kind, data) "
                    "VALUES (?, ?, 'system', 'created', '{}')",
                    [(d[0], now) for d in dossiers])
    conn.commit()
    conn.close()
    return {"floor_s": time.perf_counter() - start, "pupils": len(pupils),
            "accounts": len(accounts)}


if __name__ == "__main__":
    print(json.dumps(floor(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))))
