"""The school's side, measured against hand-written equivalents in the same run.

1. The semantic diff of 10,000 dossiers (each with two guardians, a changed phone in some)
   against a floor that compares the same stored values with ``==`` and no normalisation.
2. The dossier list with a filter (``?modifie=1``) over 2,000 dossiers through Flask's test
   client with a logged-in agent: first with every change summary stale (the first listing
   after an import: time and SQL statements), then against a page written by hand: one
   SQLAlchemy query of the
   same columns, the same filter in Python, a Jinja table; then the same with the regime and
   memberships filters as well (``&regime=dp4&adhesion=fse``).
   The same list, and its first page without filter, after ``--edited`` dossiers were saved
   by their families (untimed) before each listing: what the load test's agents list while
   200 families fill in the wizard (``--dossiers 200`` for its size).
3. One dossier view (changes first) against a hand-written page of the same values.

Run as a script (not collected by pytest): ``.venv/bin/python tests/benchmarks/bench_staff.py``
(``--dossiers N`` for the list size). Each measure is taken in turn, interleaved, ``--repeat``
times; the medians and the engine / hand-written ratios are printed (docs/performance.md), in
CPU time of this process unless ``--clock wall``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/

import pyotp  # noqa: E402
from flask import Flask, render_template_string  # noqa: E402
from sqlalchemy import delete, event, select  # noqa: E402

from engine.app import create_app  # noqa: E402
from engine.campaign import load_campaign  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.db import utcnow  # noqa: E402
from engine.dossiers.diff import dossier_changes, known_values  # noqa: E402
from engine.dossiers.models import (  # noqa: E402
    CampaignVersion,
    ChangeSummary,
    Dossier,
    Pupil,
    StaffRole,
)
from engine.dossiers.services import (  # noqa: E402
    add_pupil,
    create_dossier,
    ensure_establishment,
    save_answers,
)
from engine.dossiers.staff import (  # noqa: E402
    TokenPurpose,
    create_staff,
    enrol_totp,
    grant_role,
    issue_token,
    new_totp_secret,
    set_password_with_token,
)
from engine.dossiers.states import Actor  # noqa: E402
from engine.dossiers.versions import register_version  # noqa: E402
from engine.rules import DossierContext  # noqa: E402
from engine.web.state import app_state  # noqa: E402

from e2e.family import CAMPAIGN, PREFILL  # noqa: E402

PASSWORD = "Correct-Horse-42"


def _answers(known: dict[str, Any], n: int) -> dict[str, Any]:
    """A dossier's stored answers: every fourth one changes a phone and a guardian's mobile."""
    rows = [dict(r) for r in known["responsables"]]
    if n % 4 == 0:
        rows[0]["telephone_portable"] = "06 99 99 99 99"
        return {"telephone_eleve": "07 81 22 33 44", "responsables": rows}
    return {"telephone_eleve": None, "responsables": rows}


def bench_diff(count: int, repeat: int) -> tuple[float, float]:
    campaign = load_campaign(CAMPAIGN)
    ctx = DossierContext(prefill=PREFILL)
    known = known_values(campaign, ctx)
    answers = [_answers(known, n) for n in range(count)]
    contexts = [DossierContext(prefill=PREFILL) for _ in range(count)]

    def engine() -> None:
        for a, c in zip(answers, contexts, strict=True):
            dossier_changes(campaign, a, c)

    def floor() -> None:
        # the same comparison without normalisation nor labels: what any diff must do
        for a in answers:
            for key, value in a.items():
                before = known.get(key)
                if isinstance(value, list):
                    old = {r["_key"]: r for r in before or []}
                    [k for r in value for k, v in r.items() if old.get(r["_key"], {}).get(k) != v]
                elif before != value:
                    pass

    return _interleaved(engine, floor, repeat)


#: what a measure reads: the process's CPU time (``--clock cpu``, the default: on a machine
#: shared with other work, what this process spent, not how long it waited for a core) or the
#: wall clock (``--clock wall``)
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
CLOCK = CLOCKS["cpu"]


def _interleaved(engine: Callable[[], Any], floor: Callable[[], Any], repeat: int,
                 prepare: Callable[[], Any] = lambda: None) -> tuple[float, float]:
    """Medians of ``engine`` and ``floor`` run in turn; ``prepare`` runs before each engine
    run, untimed."""
    times: dict[str, list[float]] = {"engine": [], "floor": []}
    for _ in range(repeat):
        prepare()
        for name, run in (("engine", engine), ("floor", floor)):
            start = CLOCK()
            run()
            times[name].append(CLOCK() - start)
    return statistics.median(times["engine"]), statistics.median(times["floor"])


HANDWRITTEN_LIST = """<!doctype html><html lang="fr"><head><title>Dossiers</title></head><body>
<table><thead><tr><th>Élève</th><th>Classe</th><th>État</th><th>Modifications</th></tr></thead>
<tbody>{% for r in rows %}<tr><th><a href="/d/{{ r.public_id }}">{{ r.last_name }}
{{ r.first_name }}</a></th><td>{{ r.division }}</td><td>{{ r.state }}</td>
<td>{{ r.changes }}</td></tr>{% endfor %}</tbody></table></body></html>"""


def _populate(app: Flask, count: int) -> tuple[str, str]:
    """``count`` dossiers of the example campaign, a quarter with changes; an agent."""
    state = app_state(app)
    source = CAMPAIGN.read_text(encoding="utf-8")
    with state.database.sessions() as session:
        school = ensure_establishment(session, uai="0693834X", name="Collège Jean Moulin")
        version = register_version(session, school, slug="reinscription-2026",
                                   title="Réinscription", source=source)
        session.commit()
        campaign = state.campaigns.campaign_of(version)
        known = known_values(campaign, DossierContext(prefill=PREFILL))
        for n in range(count):
            prefill = {**PREFILL, "pupil": {**PREFILL["pupil"], "first_name": f"Élève{n}",
                                           "division": f"5{'ABCD'[n % 4]}"}}
            pupil = add_pupil(session, school, first_name=f"Élève{n}", last_name="MARTIN",
                              eleve_id=secrets.token_hex(4))
            dossier = create_dossier(session, pupil, version, prefill=prefill)
            dossier.answers = {**_answers(known, n), "regime": "dp4" if n % 3 else "externe",
                               "adhesions": ["fse"] if n % 2 == 0 else []}
            dossier.state = dossier.state.IN_PROGRESS
        session.commit()
        agent = create_staff(session, email="bench@college.fr", display_name="Bench")
        session.flush()
        grant_role(session, agent, school, StaffRole.SECRETARIAT)
        token = issue_token(session, agent, TokenPurpose.INVITATION, ttl=timedelta(hours=1))
        session.commit()
        set_password_with_token(session, state.hasher, token, TokenPurpose.INVITATION, PASSWORD)
        secret = new_totp_secret()
        # enrolled one step back, so the current step's code is still unused for the login
        enrol_totp(session, agent, secret, pyotp.TOTP(secret).at(utcnow() - timedelta(seconds=30)),
                   now=utcnow() - timedelta(seconds=30))
        public_id = session.scalars(select(Dossier.public_id).order_by(Dossier.id)).first()
    assert public_id is not None
    return secret, public_id


def bench_pages(count: int, repeat: int, edited: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(instance_dir=Path(tmp), database_url=f"sqlite:///{tmp}/b.sqlite3",
                            secret_key="bench", upload_dir=Path(tmp) / "u",
                            mail_url=(Path(tmp) / "mail").as_uri(), secure_cookies=False,
                            argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1)
        app = create_app(settings)
        secret, public_id = _populate(app, count)
        client = app.test_client()
        page = client.get("/etablissement/connexion").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/etablissement/connexion", data={"csrf_token": token,
                                                      "email": "bench@college.fr",
                                                      "password": PASSWORD})
        page = client.get("/etablissement/connexion/code").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/etablissement/connexion/code",
                    data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
        list_url = "/etablissement/0693834X/reinscription-2026/dossiers?modifie=1"
        assert client.get(list_url).status_code == 200  # summaries computed once
        view_url = f"/etablissement/0693834X/dossier/{public_id}"
        database = app_state(app).database

        def engine_list() -> None:
            assert client.get(list_url).status_code == 200

        def hand_list(keep: Callable[[dict[str, Any]], bool] = lambda a: True) -> None:
            with app.test_request_context(), database.sessions() as session:
                rows = session.execute(
                    select(Dossier.public_id, Dossier.state, Dossier.answers, Pupil.last_name,
                           Pupil.first_name, Dossier.prefill["pupil"]["division"].as_string())
                    .join(Pupil).join(CampaignVersion)).all()
                shown = [{"public_id": p, "state": s, "last_name": ln, "first_name": fn,
                          "division": d, "changes": 1} for p, s, a, ln, fn, d in rows
                         if a.get("telephone_eleve") and keep(a)][:50]
                render_template_string(HANDWRITTEN_LIST, rows=shown)

        filtered_url = list_url + "&regime=dp4&adhesion=fse"

        def engine_filtered() -> None:
            assert client.get(filtered_url).status_code == 200

        def hand_filtered() -> None:
            hand_list(lambda a: a.get("regime") == "dp4" and "fse" in a.get("adhesions", ()))

        def engine_view() -> None:
            assert client.get(view_url).status_code == 200

        def hand_view() -> None:
            with app.test_request_context(), database.sessions() as session:
                dossier = session.scalars(select(Dossier).where(
                    Dossier.public_id == public_id)).one()
                changes = [(k, v) for k, v in dossier.answers.items() if v]
                render_template_string(
                    "<h1>{{ d.pupil.last_name }}</h1><dl>{% for k, v in c %}<dt>{{ k }}</dt>"
                    "<dd>{{ v }}</dd>{% endfor %}</dl><ol>{% for e in d.events %}<li>{{ e.kind }}"
                    "</li>{% endfor %}</ol>", d=dossier, c=changes)

        refresh: list[float] = []
        statements: list[int] = []
        counted: list[str] = []
        listen = (database.engine, "before_cursor_execute", lambda *a: counted.append(a[2]))
        for _ in range(repeat):
            with database.sessions() as session:  # every summary stale, as after an import
                session.execute(delete(ChangeSummary))
                session.commit()
            counted.clear()
            event.listen(*listen)
            start = CLOCK()
            engine_list()
            refresh.append(CLOCK() - start)
            event.remove(*listen)
            statements.append(len(counted))
        print(f"list refresh (every change summary stale) over {count} dossiers: "
              f"{statistics.median(refresh) * 1000:.0f} ms, {statistics.median(statements)} "
              "SQL statements")
        saved = [0]

        def edit() -> None:
            """What the families do between two listings: ``edited`` of them save a page."""
            with database.sessions() as session:
                dossiers = list(session.scalars(select(Dossier).order_by(Dossier.id)
                                                .offset(saved[0] % count).limit(edited)))
                for dossier in dossiers:
                    saved[0] += 1
                    save_answers(session, dossier, dossier.row_version,
                                 {"telephone_eleve": f"07 81 22 {saved[0] % 100:02d} 44"},
                                 "eleve", Actor.family(1))

        first_page = list_url.split("?")[0]

        def engine_first_page() -> None:
            assert client.get(first_page).status_code == 200

        out = {f"list after {edited} saves": _interleaved(engine_list, hand_list, repeat,
                                                          edit),
               f"first page (no filter) after {edited} saves": _interleaved(
                   engine_first_page, hand_list, repeat, edit),
               "list": _interleaved(engine_list, hand_list, repeat),
               "list with regime and memberships": _interleaved(engine_filtered, hand_filtered,
                                                                repeat),
               "view": _interleaved(engine_view, hand_view, repeat)}
        database.dispose()
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--diffs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    parser.add_argument("--edited", type=int, default=20,
                        help="dossiers saved by their family before each listing 'after saves'")
    args = parser.parse_args()
    global CLOCK
    CLOCK = CLOCKS[args.clock]
    print(f"clock: {args.clock}, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    engine, floor = bench_diff(args.diffs, args.repeat)
    print(f"diff of {args.diffs} dossiers: engine {engine:.3f} s, floor {floor:.3f} s, "
          f"ratio {engine / floor:.1f}x  (started {utcnow():%H:%M})")
    for name, (e, h) in bench_pages(args.dossiers, args.repeat, args.edited).items():
        print(f"{name} over {args.dossiers} dossiers: engine {e * 1000:.1f} ms, "
              f"hand-written {h * 1000:.1f} ms, ratio {e / h:.2f}x")


if __name__ == "__main__":
    main()
