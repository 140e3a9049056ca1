"""``dossiersco serve``: the web application on waitress (one process, the embedded default) or
on gunicorn (``--workers N``: several processes, for an install behind a reverse proxy).

The database is migrated once, before any process answers: by ``create_app`` in the waitress
process, by the gunicorn master before it starts its workers (which then build their app
without migrating). Sizing and the reverse proxy: docs/deployment.md.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from typing import Any, Final

import click
from flask import Flask
from waitress import create_server

from engine.app import create_app
from engine.config import ConfigError, Settings
from engine.web import freeze_loaded, warm
from engine.web.state import app_state

from .logs import configure_logging, formatter_for
from .worker import WorkerProcess

#: waitress, sized for 200 families at once on 2 cores (docs/deployment.md, "Capacity"): open
#: connections cost a file descriptor each, not a thread (waitress reads a request whole before
#: a thread sees it), so a slow client holds a connection slot, never a thread
CONNECTION_LIMIT: Final = 1000
#: seconds a connection may stay silent (idle keep-alive, a client that stopped sending)
CHANNEL_TIMEOUT: Final = 30
#: waitress refuses a body this many times the app's limit before reading it (its own short
#: English page); below that, the app's French 413 (or the documents page's message) answers
BODY_LIMIT_MARGIN: Final = 4
#: file descriptors kept beyond the connections (database, storage, logs)
SPARE_DESCRIPTORS: Final = 64
#: gunicorn: seconds a worker may spend on one request before it is restarted
WORKER_TIMEOUT: Final = 60
#: gunicorn: seconds an idle keep-alive connection stays open. Longer than nginx's upstream
#: ``keepalive_timeout`` (60 s, docs/deployment.md) so that nginx, never gunicorn, closes an
#: idle connection: a request sent on a connection at the moment the server closes it is lost
#: (a reset, a 502 through nginx). An idle connection holds no thread in gthread workers; with
#: 5 s, 200 families clicking every few seconds on a busy machine lost requests that way
#: (docs/performance.md)
KEEPALIVE: Final = 75


def _settings(processes: int) -> Settings:
    try:
        return Settings.from_env(processes=processes)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _built(factory: Callable[[], Flask]) -> Flask:
    try:
        return factory()
    except ConfigError as exc:  # a missing data key among them
        raise click.ClickException(str(exc)) from exc


def _descriptors_for(connections: int) -> int:
    """Raise the soft limit of open files to what ``connections`` need (up to the hard
    limit); the connections that fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + SPARE_DESCRIPTORS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return connections if soft == resource.RLIM_INFINITY else min(connections,
                                                                   soft - SPARE_DESCRIPTORS)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for every interface, behind a proxy).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port; 0 picks a free one.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Threads answering requests (in each process).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="App processes; more than 1 runs gunicorn and needs DOSSIERSCO_SECRET_KEY "
                   "and DOSSIERSCO_RATELIMIT_STORAGE=redis://….")
@click.option("--server", type=click.Choice(["auto", "waitress", "gunicorn"]), default="auto",
              show_default=True, help="auto: waitress for one process, gunicorn for several.")
@click.option("--connection-limit", default=CONNECTION_LIMIT, show_default=True,
              type=click.IntRange(10, 100_000), help="waitress: open connections at most.")
@click.option("--jobs", "job_threads", default=None, type=click.IntRange(0, 16),
              help="waitress: threads of the background-job worker this command starts as "
                   "its child process (default 1; 0 when `dossiersco worker` runs them "
                   "elsewhere). With gunicorn, run `dossiersco worker`.")
def serve_command(host: str, port: int, threads: int, workers: int, server: str,
                  connection_limit: int, job_threads: int | None) -> None:
    """Serve the application, configured by the DOSSIERSCO_* environment variables."""
    if server == "auto":
        server = "waitress" if workers == 1 else "gunicorn"
    if server == "waitress" and workers > 1:
        raise click.UsageError("waitress runs one process: --workers needs --server gunicorn")
    if server == "gunicorn":
        if job_threads:
            raise click.UsageError("with gunicorn, background jobs run in `dossiersco worker`")
        _serve_gunicorn(host, port, threads, workers)
    else:
        _serve_waitress(host, port, threads, connection_limit,
                        1 if job_threads is None else job_threads)


def _serve_waitress(host: str, port: int, threads: int, connection_limit: int,
                    job_threads: int) -> None:
    settings = _settings(1)
    configure_logging(settings)
    app = _built(lambda: create_app(settings))
    app_state(app).database.refresh_statistics()
    warm(app)
    freeze_loaded()
    # create_server binds now, so the printed address is the one really listened on (a host
    # name resolving to several addresses gives a server listening on each). Waitress strips
    # X-Forwarded-* itself unless told otherwise; behind a proxy the app's ProxyFix (trusting
    # DOSSIERSCO_PROXY_HOPS hops) needs them. poll(), not select(): select stops at 1024
    # descriptors.
    server = create_server(
        app, host=host, port=port, threads=threads, ident="dossiersco",
        connection_limit=_descriptors_for(connection_limit), channel_timeout=CHANNEL_TIMEOUT,
        asyncore_use_poll=True,
        max_request_body_size=settings.max_request_bytes * BODY_LIMIT_MARGIN,
        clear_untrusted_proxy_headers=settings.proxy_hops == 0)
    listening = getattr(server, "effective_listen", None) or [
        (server.effective_host, server.effective_port)]
    for address, bound in listening:
        shown = f"[{address}]" if ":" in str(address) else address
        click.echo(f"DossierSCO en service sur http://{shown}:{bound}/")
    click.echo(f"{threads} threads ; Ctrl+C pour arrêter.")
    worker = WorkerProcess(job_threads) if job_threads and not settings.queue_immediate else None
    if worker is not None:
        worker.start()
    try:
        server.run()  # returns on Ctrl+C (SIGINT): waitress catches it and stops its threads
    finally:
        server.close()
        if worker is not None:
            worker.stop()  # the running jobs finish first
    click.echo("Serveur arrêté.")


def _serve_gunicorn(host: str, port: int, threads: int, workers: int) -> None:
    # imported here: gunicorn runs on Unix only, and the embedded default never needs it
    import gunicorn.http.wsgi
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter
    from gunicorn.glogging import Logger

    settings = _settings(workers)
    configure_logging(settings)
    # migrate and check the data keys once, here, before any worker answers
    master_app = _built(lambda: create_app(settings))
    app_state(master_app).database.refresh_statistics()  # once, for every worker
    app_state(master_app).database.dispose()  # no connection crosses the fork
    warm(master_app)  # before the fork: every worker starts with them
    freeze_loaded()  # and shares their pages with the master (no collection touches them)
    # the Server header names the product, never the server and its version
    gunicorn.http.wsgi.SERVER = "dossiersco"

    class _Logger(Logger):  # type: ignore[misc]  # gunicorn ships no type hints
        """gunicorn's own lines in the configured format; its access log stays off (the app
        writes ``dossiersco.access``, without personal data)."""

        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for handler in self.error_log.handlers:
                handler.setFormatter(formatter_for(settings))

    def _ready(arbiter: Arbiter) -> None:
        for listener in arbiter.LISTENERS:
            click.echo(f"DossierSCO en service sur {listener}/")
        click.echo(f"gunicorn : {workers} processus × {threads} threads ; tâches de fond : "
                   "`dossiersco worker` ; Ctrl+C pour arrêter.")

    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers, "worker_class": "gthread", "threads": threads,
        "timeout": WORKER_TIMEOUT, "graceful_timeout": 30, "keepalive": KEEPALIVE,
        # X-Forwarded-* are the app's ProxyFix's (DOSSIERSCO_PROXY_HOPS), not gunicorn's
        "forwarded_allow_ips": "", "accesslog": None, "errorlog": "-", "loglevel": "info",
        "logger_class": _Logger, "proc_name": "dossiersco", "control_socket_disable": True,
        "when_ready": _ready,
    }

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Flask:
            # in each worker, after the fork: its own connections, no second migration
            configure_logging(settings)
            app = create_app(settings, auto_migrate=False)
            warm(app)  # its own app's templates (compiled by the master: from the cache)
            freeze_loaded()
            return app

    master = os.getpid()
    try:
        _Gunicorn().run()
    finally:  # a worker leaves through here too (SystemExit after its fork): say it once
        if os.getpid() == master:
            click.echo("Serveur arrêté.")


def register(main: click.Group) -> None:
    """Add ``serve`` to the ``dossiersco`` command."""
    main.add_command(serve_command)
