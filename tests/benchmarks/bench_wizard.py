"""Throughput of one wizard page, displayed (GET) and submitted (POST answered by a redirect),
against the same page written by hand with Flask + WTForms (``handwritten_app.py``).

The page is "restauration" of ``campaigns/college-jean-moulin.yaml`` (a choice, a decimal
number and two conditional questions, a computed value, the canteen tariff). Both apps run
on a SQLite file, logged in as a guardian, through Flask's test client: what is measured is
the application (routing, session, access check, evaluation, template, CSRF, database write),
not an HTTP server. Each POST really writes (the quotient alternates, the version check
passes) and must answer 302 to the next page.

Collected only when asked for::

    .venv/bin/pytest tests/benchmarks/bench_wizard.py --benchmark-only -p no:cacheprovider \\
        -o python_files='bench_*.py'

or run as a script for the throughputs and the engine/hand-written ratio
(``docs/performance.md``): ``.venv/bin/python tests/benchmarks/bench_wizard.py``; add
``--profile`` for the top costs of the engine's GET and POST (cProfile).
"""

from __future__ import annotations

import cProfile
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for e2e.family
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for handwritten_app

from handwritten_app import add_family, create_handwritten_app  # noqa: E402

from engine.app import create_app  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.web.state import app_state  # noqa: E402

from e2e.family import make_family  # noqa: E402

PAGE = "restauration"
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
ROW_VERSION = re.compile(r'name="row_version"[^>]*?value="(\d+)"')
QUOTIENTS = ("450", "800")
#: the fees page's total for each quotient the benchmark posts in turn
TOTALS = {"450": "216,00\u00a0€", "800": "345,60\u00a0€"}


class Bench:
    """A logged-in client on one app, with the requests the benchmark repeats."""

    def __init__(self, client: FlaskClient, url: str, names: dict[str, str],
                 next_url: str) -> None:
        self.client = client
        self.url = url
        self.names = names
        self.next_url = next_url
        html = self.get()
        found_token = CSRF.search(html)
        found_version = ROW_VERSION.search(html)
        assert found_token and found_version, html[:2000]
        self.token = found_token.group(1)
        self.version = int(found_version.group(1))
        self.posts = 0

    def get(self) -> str:
        response = self.client.get(self.url)
        assert response.status_code == 200, response.status_code
        html = response.get_data(as_text=True)
        assert "Restauration scolaire" in html
        return html

    def display(self) -> None:
        html = self.get()
        if self.posts:
            assert TOTALS[QUOTIENTS[(self.posts - 1) % 2]] in html

    def submit(self) -> None:
        """Post the page with the half-board answers; each post is one real write."""
        quotient = QUOTIENTS[self.posts % 2]
        response = self.client.post(self.url, data={
            "csrf_token": self.token, "row_version": str(self.version), "action": "next",
            self.names["regime"]: "dp4", self.names["quotient_familial"]: quotient,
            self.names["boursier"]: "false", self.names["mode_paiement"]: "prelevement"})
        assert response.status_code == 302, (response.status_code,
                                             response.get_data(as_text=True)[:3000])
        assert response.headers["Location"].endswith(self.next_url)
        self.version += 1
        self.posts += 1


class EngineSite:
    """The engine on a SQLite file; each :meth:`bench` is a new family with a fresh dossier."""

    def __init__(self, folder: Path) -> None:
        settings = Settings(
            instance_dir=folder / "instance",
            database_url=f"sqlite:///{folder / 'engine.sqlite3'}",
            secret_key="bench-secret-key", upload_dir=folder / "uploads",
            mail_url=(folder / "mail").as_uri(), secure_cookies=False,
            # one login per fresh dossier: more than the 10 a minute a family gets
            login_rate_limit="100000/minute", argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1,
            today=date(2027, 6, 10))  # within the example campaign's dates
        self.app: Flask = create_app(settings)

    def bench(self) -> Bench:
        family = make_family(self.app)
        client = self.app.test_client()
        token = CSRF.search(client.get("/connexion").get_data(as_text=True))
        assert token
        assert client.post("/connexion", data={
            "csrf_token": token.group(1), "login": family.login, "code": family.code,
        }).status_code == 302
        base = f"/dossier/{family.dossier_public_id}/etape"
        return Bench(client, f"{base}/{PAGE}", {
            "regime": "f-regime", "quotient_familial": "f-quotient_familial",
            "boursier": "f-boursier", "mode_paiement": "f-mode_paiement"},
            f"{base}/associations")

    def close(self) -> None:
        app_state(self.app).database.dispose()


class HandwrittenSite:
    """The hand-written page on its own SQLite file, families made the same way."""

    def __init__(self, folder: Path) -> None:
        self.app = create_handwritten_app(folder / "handwritten.sqlite3", "bench-secret-key")
        self.families = 0

    def bench(self) -> Bench:
        self.families += 1
        login, public_id = f"LOGIN{self.families:05d}", f"dossier-{self.families:016d}"
        add_family(self.app, login=login, code="secret", public_id=public_id)
        client = self.app.test_client()
        assert client.post("/connexion", data={"login": login, "code": "secret"}
                           ).status_code == 302
        base = f"/dossier/{public_id}/etape"
        return Bench(client, f"{base}/{PAGE}", {
            "regime": "regime", "quotient_familial": "quotient_familial",
            "boursier": "boursier", "mode_paiement": "mode_paiement"},
            f"{base}/associations")

    def close(self) -> None:
        """Nothing held beyond the app."""


SITES: dict[str, Callable[[Path], EngineSite | HandwrittenSite]] = {
    "engine": EngineSite, "handwritten": HandwrittenSite}
#: saves of a dossier filled in by a family: ten pages, some saved two or three times
SAVES = 30


@contextmanager
def site(kind: str, folder: Path) -> Iterator[EngineSite | HandwrittenSite]:
    made = SITES[kind](folder)
    try:
        yield made
    finally:
        made.close()


def saved(bench: Bench, times: int = SAVES) -> Bench:
    for _ in range(times):
        bench.submit()
    return bench


@pytest.fixture(params=list(SITES))
def website(request: pytest.FixtureRequest, tmp_path: Path
            ) -> Iterator[EngineSite | HandwrittenSite]:
    with site(request.param, tmp_path) as made:
        yield made


@pytest.mark.benchmark(group="display (GET)")
def test_display(benchmark: Any, website: EngineSite | HandwrittenSite) -> None:
    """The page of a dossier saved as often as a family does."""
    benchmark(saved(website.bench()).display)


@pytest.mark.benchmark(group="submission (POST + redirect)")
def test_submission(benchmark: Any, website: EngineSite | HandwrittenSite) -> None:
    """The saves of a fresh dossier, as many as a family makes."""
    benchmark.pedantic(website.bench().submit, rounds=SAVES, iterations=1, warmup_rounds=0)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def measure(rounds: int) -> dict[tuple[str, str], list[float]]:
    """Milliseconds per request, the two apps interleaved so machine noise hits both."""
    times: dict[tuple[str, str], list[float]] = {
        (k, m): [] for k in SITES for m in ("GET", "POST", "GET-300", "POST-300")}
    with tempfile.TemporaryDirectory() as tmp, site("engine", Path(tmp)) as engine, \
            site("handwritten", Path(tmp)) as hand:
        sites = {"engine": engine, "handwritten": hand}
        # a warm process: templates compiled, campaign cached, connections pooled
        benches = {k: saved(s.bench()) for k, s in sites.items()}
        for _ in range(rounds):
            for kind, bench in benches.items():
                times[kind, "GET"].append(_timed(bench.display))
        while len(times["engine", "POST"]) < rounds:
            fresh = {k: s.bench() for k, s in sites.items()}
            for _ in range(SAVES):
                for kind, bench in fresh.items():
                    times[kind, "POST"].append(_timed(bench.submit))
        # the same requests once the dossier has a long history: 300 saves
        for bench in benches.values():
            saved(bench, 300 - SAVES)
        for _ in range(rounds // 2):
            for kind, bench in benches.items():
                times[kind, "GET-300"].append(_timed(bench.display))
                times[kind, "POST-300"].append(_timed(bench.submit))
    return times


def _profile(rounds: int, sort: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, site("engine", Path(tmp)) as engine:
        get = saved(engine.bench())
        for name, fn in (("GET", get.display), ("POST", None)):
            profiler = cProfile.Profile()
            if fn is None:
                for _ in range(rounds // SAVES):
                    post = engine.bench()
                    profiler.runcall(saved, post)
            else:
                for _ in range(rounds):
                    profiler.runcall(fn)
            print(f"\n--- engine {name}: top costs (cumulative) over {rounds} requests")
            pstats.Stats(profiler).sort_stats(sort).print_stats(40)


def main(rounds: int = 600, profile: bool = False, sort: str = "cumulative") -> None:
    if profile:
        _profile(rounds // 2, sort)
    times = measure(rounds)
    median = {key: statistics.median(values) for key, values in times.items()}
    print(f"page « {PAGE} », median per request (Flask test client, SQLite); GET on a dossier "
          f"saved {SAVES} times, POST over fresh dossiers ({rounds} requests each)")
    print(f"{'':18} {'engine':>16} {'hand-written':>16} {'ratio':>7}")
    for method, label in (("GET", "display (GET)"), ("POST", "submission (POST)"),
                          ("GET-300", "GET, 300 saves"), ("POST-300", "POST, 300 saves")):
        engine, hand = median["engine", method], median["handwritten", method]
        print(f"{label:18} {engine:6.2f} ms {1000 / engine:4.0f}/s {hand:6.2f} ms "
              f"{1000 / hand:4.0f}/s {hand / engine:6.2f}x")
    print("ratio = engine throughput / hand-written throughput (goal: 0.8x or better)")


if __name__ == "__main__":
    # --profile [SORT]: cProfile of the engine first, sorted by SORT (default: cumulative)
    after = sys.argv[sys.argv.index("--profile") + 1:] if "--profile" in sys.argv else []
    main(profile="--profile" in sys.argv, sort=after[0] if after else "cumulative")
