"""The load test of the family side: seed N families, serve, run locust headless, check that
no write was lost, print p50/p95 per request type (docs/performance.md#load-test).

    .venv/bin/python tests/benchmarks/run_load.py                     # SQLite, embedded server
    createdb -h 127.0.0.1 -U postgres loadtest
    .venv/bin/python tests/benchmarks/run_load.py --workers 4 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1/loadtest   # gunicorn + worker
    dropdb -h 127.0.0.1 -U postgres loadtest

Everything happens on loopback in a temporary instance folder: ``dossiersco serve --port 0``
(its own process, configured by ``DOSSIERSCO_*`` as in production, argon2 included), locust in
another (``tests/benchmarks/load_family.py``), bounded by ``--run-time``. With ``--workers N``
(gunicorn) the rate limits and the job queue are in Redis (``--redis-url``, under a key prefix
and a queue name of the run's own) and ``dossiersco worker`` runs the jobs, as in
docs/deployment.md. Families are made
with the services the import uses (one guardian account each, a not-started dossier of the
example campaign), the agents as ``dossiersco demo`` makes them, with a second factor.

After the run, every family that saw its dossier submitted must find it submitted in the
database with its answers, and every upload that was acknowledged must have its row and its
object in storage, with the bytes sent: any difference is a lost write, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/

import pyotp  # noqa: E402
from sqlalchemy import select  # noqa: E402

from engine.app import create_app  # noqa: E402
from engine.campaign import load_campaign_text  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.db import utcnow  # noqa: E402
from engine.dossiers.accounts import link_guardian, new_family_account  # noqa: E402
from engine.dossiers.models import Dossier, StaffRole, StoredFile  # noqa: E402
from engine.dossiers.services import add_pupil, create_dossier, ensure_establishment  # noqa: E402
from engine.dossiers.staff import enrol_totp, ensure_demo_agent, new_totp_secret  # noqa: E402
from engine.dossiers.states import DossierState  # noqa: E402
from engine.dossiers.versions import register_version  # noqa: E402
from engine.jobs.models import Job  # noqa: E402
from engine.web.state import app_state  # noqa: E402

from e2e.family import CAMPAIGN  # noqa: E402
from web.wizardkit import PREFILL  # noqa: E402

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "load_family.py"
PDF = (HERE.parents[1] / "campaigns" / "files" / "reglement-interieur.pdf").read_bytes()
PASSWORD = "Charge-Test-2027"
#: a day the example campaign is open
TODAY = date(2027, 6, 10)
LISTENING = re.compile(r"en service sur (http://[\d.]+:\d+)/")
#: answers every submitted dossier must hold (from the pages the families posted)
EXPECTED = {"regime": "dp4", "regime_sortie": "fin_journee"}


def _env(args: argparse.Namespace, instance: Path) -> dict[str, str]:
    env = {**os.environ,
           "DOSSIERSCO_INSTANCE_DIR": str(instance),
           "DOSSIERSCO_TODAY": TODAY.isoformat(),
           "DOSSIERSCO_MAIL_URL": (instance / "mail").as_uri(),
           "DOSSIERSCO_SECRET_KEY": "load-test-secret-key-0123456789abcdef"}
    if args.database_url:
        env["DOSSIERSCO_DATABASE_URL"] = args.database_url
    if args.login_rate_limit:
        env["DOSSIERSCO_LOGIN_RATE_LIMIT"] = args.login_rate_limit
    if args.workers > 1:
        prefix = f"dossiersco-load-{secrets.token_hex(4)}"
        env.update(DOSSIERSCO_RATELIMIT_STORAGE=args.redis_url, DOSSIERSCO_RATELIMIT_PREFIX=prefix,
                   DOSSIERSCO_QUEUE_URL=args.redis_url, DOSSIERSCO_QUEUE_NAME=prefix)
    return env


def seed(settings: Settings, families: int, agents: int) -> dict[str, Any]:
    """N families and the agents, through the services; their credentials."""
    source = CAMPAIGN.read_text(encoding="utf-8")
    campaign = load_campaign_text(source, name=CAMPAIGN.name, base_dir=CAMPAIGN.parent)
    app = create_app(settings)
    state = app_state(app)
    out: dict[str, Any] = {"uai": campaign.establishment.uai, "slug": campaign.id,
                           "families": [], "staff": []}
    with state.database.sessions() as session:
        school = ensure_establishment(session, uai=campaign.establishment.uai,
                                      name=campaign.establishment.name)
        version = register_version(session, school, slug=campaign.id,
                                   title=campaign.title.get(), source=source)
        for n in range(families):
            record = copy.deepcopy(PREFILL)
            record["pupil"].update(first_name=f"Eleve{n}", last_name=f"ELEVE{n:04d}",
                                   ine=f"07{n:07d}AB")
            guardian = record["guardians"][0]
            guardian.update(personne_id=f"9{n:06d}", last_name=f"ELEVE{n:04d}",
                            email=f"famille{n}@example.fr")
            record["guardians"] = [guardian]
            pupil = add_pupil(session, school, first_name=f"Eleve{n}",
                              last_name=f"ELEVE{n:04d}", eleve_id=f"L{n:06d}",
                              ine=record["pupil"]["ine"],
                              birth_date=date.fromisoformat(record["pupil"]["birth_date"]))
            account, code = new_family_account(session, state.hasher,
                                               display_name=f"Famille {n}",
                                               email=guardian["email"],
                                               personne_id=guardian["personne_id"])
            link_guardian(session, account, pupil, guardian_key=guardian["personne_id"])
            dossier = create_dossier(session, pupil, version, prefill=record)
            out["families"].append({"login": account.login, "code": code,
                                    "dossier": dossier.public_id})
        session.commit()
        for n in range(agents):
            email = f"agent{n}@college.example.fr"
            agent = ensure_demo_agent(session, state.hasher, school, email=email,
                                      display_name=f"Agent {n}", role=StaffRole.SECRETARIAT,
                                      password=PASSWORD)
            secret = new_totp_secret()
            # enrolled a step back: the current step's code is still unused at login
            earlier = utcnow() - timedelta(seconds=30)
            enrol_totp(session, agent, secret, pyotp.TOTP(secret).at(earlier), now=earlier)
            out["staff"].append({"email": email, "password": PASSWORD, "totp": secret})
        session.commit()
    state.database.dispose()
    return out


def serve(args: argparse.Namespace, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``dossiersco serve`` on a free loopback port; the process and its base URL."""
    command = [sys.executable, "-m", "engine.cli", "serve", "--port", "0",
               "--threads", str(args.threads)]
    if args.workers:
        command += ["--workers", str(args.workers)]
    handle = log.open("wb")
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=handle)
    assert server.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = server.stdout.readline().decode()
        match = LISTENING.search(line)
        if match:
            return server, match.group(1)
        if not line and server.poll() is not None:
            break
    server.kill()
    raise SystemExit(f"the server did not start; see {log}")


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``dossiersco worker``: the jobs (confirmation mails) when gunicorn serves; below the
    app's priority, as deployment.md advises for a worker on the app's machine."""
    with log.open("wb") as handle:
        return subprocess.Popen([sys.executable, "-m", "engine.cli", "worker", "--niceness",
                                 "10"], env=env, stdout=handle, stderr=subprocess.STDOUT)


class LoadSampler:
    """The machine's 1-minute load average, sampled every few seconds during the run (the
    machine is shared: the figures are only comparable with the load they ran under)."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        if not self.samples:
            return "not sampled"
        return (f"min {min(self.samples):.1f}, median {statistics.median(self.samples):.1f}, "
                f"max {max(self.samples):.1f} ({len(self.samples)} samples)")


def _is_job_worker(pid: int) -> bool:
    try:
        return b"\0worker\0" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User + system CPU time of ``pid`` and its child processes: those serving pages
    (``pid`` itself, gunicorn's workers), then the job worker ``serve`` started (waitress)."""
    tick = os.sysconf("SC_CLK_TCK")
    pages = jobs = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(stat.parent.name)
        if child == pid or int(fields[1]) == pid:
            seconds = (int(fields[11]) + int(fields[12])) / tick
            if child != pid and _is_job_worker(child):
                jobs += seconds
            else:
                pages += seconds
    return pages, jobs


def run_locust(args: argparse.Namespace, env: dict[str, str], host: str, folder: Path,
               users: int) -> None:
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "--host", host, "-u", str(users), "-r", str(args.spawn_rate),
               "--run-time", args.run_time, "--stop-timeout", "10", "--only-summary",
               "--csv", str(folder / "stats"), "--loglevel", "WARNING"]
    subprocess.run(command, env={**env, "LOAD_CREDENTIALS": str(folder / "credentials.json"),
                                 "LOAD_OUTCOMES": str(folder / "outcomes.json")},
                   check=False, timeout=_seconds(args.run_time) + 120)


def _seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", text)) or int(text)


def lost_writes(settings: Settings, outcomes: list[dict[str, Any]]) -> list[str]:
    """Every acknowledged submission and upload, looked up in the database and storage."""
    app = create_app(settings, auto_migrate=False)
    state = app_state(app)
    sha = hashlib.sha256(PDF).hexdigest()
    problems = []
    with state.database.sessions() as session:
        for outcome in outcomes:
            dossier = session.scalar(select(Dossier).where(Dossier.public_id == outcome["dossier"]))
            if dossier is None:
                problems.append(f"{outcome['dossier']}: dossier missing")
                continue
            if outcome["submitted"] and (dossier.state is not DossierState.SUBMITTED
                                         or dossier.submitted_at is None):
                problems.append(f"{dossier.public_id}: submitted, found {dossier.state}")
            if outcome["submitted"] and any(dossier.answers.get(k) != v
                                            for k, v in EXPECTED.items()):
                problems.append(f"{dossier.public_id}: answers incomplete")
            files = {f.filename: f for f in session.scalars(
                select(StoredFile).where(StoredFile.dossier_id == dossier.id))}
            for name in outcome["uploads"]:
                stored = files.get(name)
                if stored is None:
                    problems.append(f"{dossier.public_id}: upload {name} has no row")
                elif stored.sha256 != sha or not state.storage.exists(stored.storage_key):
                    problems.append(f"{dossier.public_id}: upload {name} has no object")
                else:
                    with state.storage.open(stored.storage_key) as handle:
                        if hashlib.sha256(handle.read()).hexdigest() != sha:
                            problems.append(f"{dossier.public_id}: {name} altered")
        jobs = Counter(session.scalars(select(Job.state)))
    print(f"jobs (confirmation mails): {dict(jobs)}")
    state.database.dispose()
    return problems


def report(folder: Path) -> list[dict[str, str]]:
    with (folder / "stats_stats.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=200, help="families seeded and run")
    parser.add_argument("--staff", type=int, default=5, help="agents working meanwhile")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started per second")
    parser.add_argument("--run-time", default="6m", help="upper bound of the run (locust)")
    parser.add_argument("--threads", type=int, default=8, help="dossiersco serve --threads")
    parser.add_argument("--workers", type=int, default=0,
                        help="dossiersco serve --workers (gunicorn), passed through when set")
    parser.add_argument("--database-url", default="",
                        help="DOSSIERSCO_DATABASE_URL (default: SQLite in the instance folder)")
    parser.add_argument("--login-rate-limit", default="",
                        help="DOSSIERSCO_LOGIN_RATE_LIMIT (default: the app's)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2",
                        help="Redis of the rate limits and the queue with --workers N > 1")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dossiersco-load-"))
    instance = folder / "instance"
    env = _env(args, instance)
    settings = Settings.from_env(env)
    print(f"seeding {args.families} families and {args.staff} agents in {folder} …", flush=True)
    started = time.monotonic()
    credentials = seed(settings, args.families, args.staff)
    (folder / "credentials.json").write_text(json.dumps(credentials))
    print(f"seeded in {time.monotonic() - started:.0f} s", flush=True)
    server, host = serve(args, env, folder / "server.log")
    worker = start_worker(env, folder / "worker.log") if args.workers > 1 else None
    try:
        print(f"serving on {host}; locust with {args.families + args.staff} users …", flush=True)
        started = time.monotonic()
        cpu_before, jobs_before = cpu_seconds(server.pid)
        with LoadSampler() as load:
            run_locust(args, env, host, folder, args.families + args.staff)
        elapsed = time.monotonic() - started
        cpu, worker_cpu = cpu_seconds(server.pid)
        cpu, worker_cpu = cpu - cpu_before, worker_cpu - jobs_before
        if worker:
            worker_cpu = sum(cpu_seconds(worker.pid))
    finally:
        for process in filter(None, (server, worker)):
            process.terminate()
            process.wait(timeout=60)
    outcomes = json.loads((folder / "outcomes.json").read_text())
    rows = report(folder)
    print(f"\nrun: {elapsed:.0f} s; families done {sum(1 for o in outcomes if o.get('done'))}"
          f"/{args.families}, submitted {sum(1 for o in outcomes if o['submitted'])}, "
          f"uploads {sum(len(o['uploads']) for o in outcomes)}")
    requests = sum(int(r["Request Count"]) for r in rows if r["Name"] == "Aggregated")
    print(f"server CPU: {cpu:.1f} s for {requests} requests ({1000 * cpu / max(requests, 1):.1f}"
          f" ms per request on average, logins included)"
          + f"; job worker CPU: {worker_cpu:.1f} s")
    print(f"machine load average (1 min) during the run: {load.summary()}")
    print("\n| request | count | errors | p50 ms | p95 ms | max ms |\n| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
              f"{row['50%']} | {row['95%']} | {float(row['Max Response Time']):.0f} |")
    problems = lost_writes(settings, outcomes)
    print(f"\nlost writes: {len(problems)}")
    for line in problems[:20]:
        print(f"  {line}")
    if args.keep:
        print(f"instance, server log and locust CSV kept in {folder}")
    else:
        shutil.rmtree(folder)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
