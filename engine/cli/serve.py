"""``dossiersco serve``: the web application on waitress, a production-grade WSGI server.

The app migrates its database while it is built (``create_app``), so the server never answers
on a schema older than the code.
"""

from __future__ import annotations

import click
from waitress import create_server

from engine.app import create_app
from engine.config import ConfigError, Settings
from engine.web.state import app_state


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for every interface, behind a proxy).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port; 0 picks a free one.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Worker threads answering requests.")
@click.option("--jobs", "job_threads", default=1, show_default=True, type=click.IntRange(0, 16),
              help="Threads running background jobs in this process; 0 when `dossiersco "
                   "worker` runs them.")
def serve_command(host: str, port: int, threads: int, job_threads: int) -> None:
    """Serve the application, configured by the DOSSIERSCO_* environment variables."""
    try:
        settings = Settings.from_env()
        app = create_app(settings)
    except ConfigError as exc:  # a missing data key among them
        raise click.ClickException(str(exc)) from exc
    # create_server binds now, so the printed address is the one really listened on (a host
    # name resolving to several addresses gives a server listening on each). Waitress strips
    # X-Forwarded-* itself unless told otherwise; behind a proxy the app's ProxyFix (trusting
    # DOSSIERSCO_PROXY_HOPS hops) needs them.
    server = create_server(app, host=host, port=port, threads=threads, ident="dossiersco",
                           clear_untrusted_proxy_headers=settings.proxy_hops == 0)
    listening = getattr(server, "effective_listen", None) or [
        (server.effective_host, server.effective_port)]
    for address, bound in listening:
        shown = f"[{address}]" if ":" in str(address) else address
        click.echo(f"DossierSCO en service sur http://{shown}:{bound}/")
    click.echo(f"{threads} threads ; Ctrl+C pour arrêter.")
    jobs = app_state(app).jobs
    if job_threads:
        jobs.start_consumer(job_threads)
    try:
        server.run()  # returns on Ctrl+C (SIGINT): waitress catches it and stops its threads
    finally:
        server.close()
        jobs.stop_consumer()  # the running jobs finish first
    click.echo("Serveur arrêté.")


def register(main: click.Group) -> None:
    """Add ``serve`` to the ``dossiersco`` command."""
    main.add_command(serve_command)
