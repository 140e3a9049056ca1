"""``dossiersco serve`` on the embedded default (waitress, SQLite, the queue in a SQLite file)
runs the background jobs in a worker process it starts, not in a thread of the process serving
pages: a family's confirmation mail is sent by that child; a child killed is restarted; the
child stops with the server, and by itself when the server is killed. The child runs at a
lower priority than the server."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from smtpkit import smtp_server
from sqlalchemy import create_engine, text

from engine.cli import main
from engine.cli.worker import CHILD_NICENESS

from .journeykit import DEMO_ACCOUNT, complete_journey
from .serverkit import children_of, serve
from conftest import CAMPAIGN_DAY
from faults.httpkit import Browser

#: seconds given to a worker process to appear or to go (the restart waits 5 s)
PATIENCE = 30.0


def _environment(tmp_path: Path, smtp_port: int) -> dict[str, str]:
    return {"DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
            "DOSSIERSCO_DATABASE_URL": f"sqlite:///{tmp_path / 'dossiersco.sqlite3'}",
            "DOSSIERSCO_MAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "DOSSIERSCO_TODAY": CAMPAIGN_DAY.isoformat(),
            "DOSSIERSCO_LOG_FORMAT": "json"}


def _is_worker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"\0worker\0" in cmdline.read()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped by its parent, is not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _worker_of(server: int, other_than: int | None = None) -> int:
    """The worker process ``server`` started (a new one when ``other_than`` is given)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        found = [pid for pid in children_of(server)
                 if _is_worker(pid) and pid != other_than and _alive(pid)]
        if found:
            assert len(found) == 1, found
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no worker process under {server}")


def _eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _gone(pid: int) -> bool:
    return _eventually(lambda: not _alive(pid))


def _jobs_when_done(database: str) -> list[tuple[str, str, str]]:
    """The jobs' kind, state and worker once none is queued or running."""
    engine = create_engine(database)
    deadline = time.monotonic() + PATIENCE
    try:
        while True:
            with engine.connect() as conn:
                jobs = [tuple(row) for row in conn.execute(
                    text("SELECT kind, state, worker FROM job"))]
            if all(state in {"done", "failed"} for _kind, state, _worker in jobs) or \
                    time.monotonic() > deadline:
                return jobs  # type: ignore[return-value]
            time.sleep(0.2)
    finally:
        engine.dispose()


def test_the_jobs_run_in_a_worker_process_that_serve_supervises(tmp_path: Path) -> None:
    with smtp_server() as (inbox, port):
        env = _environment(tmp_path, port)
        demo = CliRunner().invoke(main, ["demo"], env=env)
        assert demo.exit_code == 0, demo.output
        account = DEMO_ACCOUNT.search(demo.output)
        assert account, demo.output
        invitations = len(inbox.wait_for(1))  # sent by `demo` itself
        with serve(env, "--threads", "4") as served:
            worker = _worker_of(served.process.pid)
            # below the server's priority (once started): a PDF gives way to the pages
            assert _eventually(lambda: os.getpriority(os.PRIO_PROCESS, worker) == os.getpriority(
                os.PRIO_PROCESS, served.process.pid) + CHILD_NICENESS)
            family = Browser(served.url)
            family.login(account.group(1), account.group(2))
            _status, dashboard = family.request("/mes-dossiers")
            dossier = re.search(r'href="/dossier/([\w-]{16,})"', dashboard)
            assert dossier, dashboard[:2000]
            complete_journey(family, dossier.group(1))
            mails = inbox.wait_for(invitations + 1, timeout=60)
            jobs = _jobs_when_done(env["DOSSIERSCO_DATABASE_URL"])
            os.kill(worker, signal.SIGKILL)
            restarted = _worker_of(served.process.pid, other_than=worker)
            returncode, _out, err = served.stop()
    assert returncode == 0, err[-3000:]
    assert _gone(restarted), "the worker outlived the server"
    assert "envoyé" in str(mails[-1][1]["Subject"])
    # the confirmation mail was the child's job, not the serving process's
    assert [(kind, state) for kind, state, _name in jobs] == [("confirmation_mail", "done")]
    assert jobs[0][2].endswith(f":{worker}")
    assert "Traceback" not in err


def test_the_worker_stops_when_the_server_is_killed(tmp_path: Path) -> None:
    env = _environment(tmp_path, 1)  # no mail is sent
    with serve(env, "--threads", "2") as served:
        worker = _worker_of(served.process.pid)
        served.process.kill()
        served.process.communicate()
        assert _gone(worker), "an orphaned worker kept running"


def test_no_worker_process_with_jobs_0(tmp_path: Path) -> None:
    env = _environment(tmp_path, 1)
    with serve(env, "--threads", "2", "--jobs", "0") as served:
        Browser(served.url).request("/")
        assert not [pid for pid in children_of(served.process.pid) if _is_worker(pid)]
        returncode, _out, _err = served.stop()
    assert returncode == 0
