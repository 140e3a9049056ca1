"""``dossiersco worker``: run the background jobs in a process of their own.

``dossiersco serve`` (waitress) starts one as its child (:class:`WorkerProcess`, ``--jobs``):
a PDF or an export then runs on the machine's other core instead of taking the serving
process's interpreter lock from the families' pages. A worker started by hand is for installs
where the jobs share a Redis queue (``DOSSIERSCO_QUEUE_URL``) between several web servers.
See docs/jobs.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Final

import click

from engine.config import ConfigError, Settings
from engine.jobs import JobQueue

from .logs import configure_logging

#: seconds between a child worker's unexpected exit and its restart
RESTART_DELAY: Final = 5.0
#: seconds a child worker has to finish its running jobs when ``serve`` stops
STOP_TIMEOUT: Final = 60.0
#: scheduling priority of a child worker, below the server's: on a machine as busy as the
#: load test's, a PDF waits for a free core rather than delaying a family's page
CHILD_NICENESS: Final = 10


class WorkerProcess:
    """``dossiersco worker`` as a child of ``dossiersco serve``, restarted if it dies and
    stopped (its running jobs finished) with the server.

    The child runs at a lower priority than the server (``CHILD_NICENESS``), and stops when
    its standard input closes: when :meth:`stop` closes it, and when the
    server dies without stopping it (the system closes the pipe). A signal would do neither:
    one sent while the child is still starting interrupts its imports, and it runs in a
    session of its own so that a Ctrl+C in the terminal reaches the server only (a worker
    stopping by itself would be restarted)."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        #: held to replace the process, and to stop: no restart after the stop took it
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "worker", "--workers", str(self.threads),
             "--lifeline", "--niceness", str(CHILD_NICENESS)], stdin=subprocess.PIPE,
            start_new_session=True)

    def start(self) -> None:
        self._process = self._spawn()
        self._supervisor = threading.Thread(target=self._supervise, name="dossiersco-worker",
                                            daemon=True)
        self._supervisor.start()

    def _supervise(self) -> None:
        while True:
            assert self._process is not None
            code = self._process.wait()
            if self._stopping.wait(RESTART_DELAY):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                click.echo(f"Le travailleur des tâches de fond s'est arrêté (code {code}) : "
                           "redémarrage.", err=True)
                self._process = self._spawn()

    def stop(self) -> None:
        """Let the worker finish its running jobs and stop; kill it if they take longer than
        ``STOP_TIMEOUT``."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if self._supervisor is not None:
            self._supervisor.join()


@click.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Threads running jobs at once.")
@click.option("--lifeline", is_flag=True, hidden=True,
              help="Stop when standard input closes (the `serve` that started the worker).")
@click.option("--niceness", default=0, show_default=True, type=click.IntRange(0, 19),
              help="Lower the worker's scheduling priority by this much (jobs then give way "
                   "to the web server on a shared machine).")
def worker_command(workers: int, lifeline: bool, niceness: int) -> None:
    """Run queued jobs until Ctrl+C (the running jobs finish first)."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if settings.queue_immediate:
        raise click.ClickException("DOSSIERSCO_QUEUE_IMMEDIATE est activé : les tâches sont "
                                   "exécutées sur place, sans travailleur.")
    configure_logging(settings)
    if niceness:
        os.nice(niceness)
    queue = JobQueue.from_settings(settings)
    if interrupted := queue.recover():
        click.echo(f"{interrupted} tâche(s) interrompue(s) par l'arrêt d'un travailleur : "
                   "marquée(s) en échec, à relancer.")
    where = "Redis" if settings.queue_url else f"{settings.instance_dir / 'queue.sqlite3'}"
    click.echo(f"Travailleur DossierSCO : {workers} thread(s), file d'attente {where} ; "
               "Ctrl+C pour arrêter.")
    try:
        queue.consumer(workers, child=lifeline).run()
    finally:
        queue.database.dispose()
    click.echo("Travailleur arrêté.")


def register(main: click.Group) -> None:
    """Add ``worker`` to the ``dossiersco`` command."""
    main.add_command(worker_command)
