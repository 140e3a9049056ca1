"""docs/deployment.md, followed on one machine as a new user would (issue 15): `dossiersco
migrate`, `dossiersco demo`, two app processes (`serve --workers 2`, gunicorn) and `dossiersco
worker`, on PostgreSQL, Redis (a key prefix and a queue name of the test's own), a real S3
server and a real SMTP server, all on loopback. A demo family logs in with its code, posts
every wizard page, uploads the required documents and sends its dossier; an agent of the
school logs in (password, second factor enrolled) and opens it. Afterwards the documents are
objects of the bucket, the worker process (not an app process) sent the confirmation mail, and
no process logged an error."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner
from s3kit import S3Server
from smtpkit import smtp_server
from sqlalchemy import create_engine, text

from engine.cli import main
from engine.config import new_data_key

from .journeykit import DEMO_ACCOUNT, REQUIRED_DOCUMENTS, complete_journey
from .serverkit import children_of, serve
from conftest import CAMPAIGN_DAY, _postgres_schema
from faults.httpkit import Browser
from rediskit import shared_redis_url, unique_prefix

pytestmark = pytest.mark.postgres

AGENT, AGENT_PASSWORD = "secretariat@demo.dossiersco.fr", "Demo-Etablissement-2027"
UAI = "0691234A"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A schema of the test's own in the machine's PostgreSQL, dropped afterwards."""
    with _postgres_schema() as url:
        yield url


def _environment(tmp_path: Path, database_url: str, storage_url: str, smtp_port: int,
                 ) -> dict[str, str]:
    """The environment file of docs/deployment.md, for this machine's services."""
    prefix = unique_prefix()
    return {
        "DOSSIERSCO_BASE_URL": "http://127.0.0.1:8000",
        "DOSSIERSCO_DATABASE_URL": database_url,
        "DOSSIERSCO_SECRET_KEY": secrets.token_urlsafe(48),
        "DOSSIERSCO_DATA_KEY": new_data_key(),
        "DOSSIERSCO_CODE_KEY": new_data_key(),
        "DOSSIERSCO_RATELIMIT_STORAGE": shared_redis_url(),
        "DOSSIERSCO_RATELIMIT_PREFIX": prefix,
        "DOSSIERSCO_QUEUE_URL": shared_redis_url(),
        "DOSSIERSCO_QUEUE_NAME": prefix,
        "DOSSIERSCO_STORAGE_URL": storage_url,
        "DOSSIERSCO_MAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "DOSSIERSCO_MAIL_FROM": "Collège Jean Moulin <ne-pas-repondre@college.example.fr>",
        "DOSSIERSCO_AUTO_MIGRATE": "false",
        "DOSSIERSCO_LOG_FORMAT": "json",
        "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
        "DOSSIERSCO_TODAY": CAMPAIGN_DAY.isoformat(),
    }


def _agent_opens(browser: Browser, public_id: str) -> str:
    """The demo secretary logs in, enrols a second factor and opens the dossier."""
    status, page = browser.post("/etablissement/connexion",
                                {"email": AGENT, "password": AGENT_PASSWORD},
                                "/etablissement/connexion")
    assert status == 302, (status, page[:1000])
    status, page = browser.request("/etablissement/double-authentification")
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert status == 200 and secret, page[:1000]
    status, _page = browser.post("/etablissement/double-authentification",
                                 {"code": pyotp.TOTP(secret.group(1)).now()},
                                 "/etablissement/double-authentification")
    assert status == 302, status
    status, page = browser.request(f"/etablissement/{UAI}/dossier/{public_id}")
    assert status == 200, status
    return page


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "engine.cli", "worker", "--workers", "1"],
                                env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)


def test_two_app_processes_and_a_worker_serve_a_family_journey(
        tmp_path: Path, postgres_url: str, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    runner = CliRunner()
    with smtp_server() as (inbox, port):
        env = _environment(tmp_path, postgres_url, s3_server.storage_url(bucket), port)
        migrated = runner.invoke(main, ["migrate"], env=env)
        assert migrated.exit_code == 0, migrated.output
        demo = runner.invoke(main, ["demo"], env=env)
        assert demo.exit_code == 0, demo.output
        account = DEMO_ACCOUNT.search(demo.output)
        assert account, demo.output
        invitations = len(inbox.wait_for(1))  # sent by `demo` itself
        worker = _worker(env, tmp_path / "worker.log")
        try:
            with serve(env, "--workers", "2", "--threads", "4") as served:
                family = Browser(served.url)
                family.login(account.group(1), account.group(2))
                status, dashboard = family.request("/mes-dossiers")
                dossier = re.search(r'href="/dossier/([\w-]{16,})"', dashboard)
                assert status == 200 and dossier, dashboard[:2000]
                complete_journey(family, dossier.group(1))
                view = _agent_opens(Browser(served.url), dossier.group(1))
                for document in REQUIRED_DOCUMENTS:
                    assert f"{document}.pdf" in view
                mails = inbox.wait_for(invitations + 1, timeout=60)  # the worker, on a busy machine
                assert len(children_of(served.process.pid)) == 2  # forked at start
                status, health = family.request("/sante")
                assert status == 200 and json.loads(health)["storage"] == "ok"
                returncode, _out, err = served.stop()
        finally:
            worker.send_signal(signal.SIGINT)
            worker.wait(timeout=60)
    assert returncode == 0
    recipients, confirmation = mails[-1]
    assert recipients == ["karim.benali@example.org"]
    assert "envoyé" in str(confirmation["Subject"])
    # the documents are objects of the bucket, named by the rows' keys
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        keys = set(conn.scalars(text("SELECT storage_key FROM stored_file")))
        jobs = conn.execute(text("SELECT kind, state, worker FROM job")).all()
    engine.dispose()
    listed = s3_server.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    assert len(keys) == 3 and {entry["Key"] for entry in listed} == keys
    # the confirmation mail was the worker's job, not an app process's
    assert [(kind, state) for kind, state, _worker_name in jobs] == [("confirmation_mail", "done")]
    assert jobs[0][2].endswith(f":{worker.pid}")
    logs = err + (tmp_path / "worker.log").read_text()
    assert '"level": "ERROR"' not in logs and "Traceback" not in logs
