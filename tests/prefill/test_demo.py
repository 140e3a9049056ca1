"""``dossiersco demo``: example campaigns and fictional families, idempotent, ready to log in."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.cli import main
from engine.cli.imports import DEMO_AGENT_PASSWORD
from engine.db import Base
from engine.dossiers.models import CampaignVersion

from conftest import CSRF_INPUT

ROOT = Path(__file__).parents[2]
LOGIN_LINE = re.compile(r"^  (?P<name>.+?)\s+(?P<login>[A-Z0-9]{10})  (?P<code>[A-Z0-9-]{14})  "
                        r"\((?P<pupils>.+)\)$", re.M)


def row_counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables}


def test_demo_twice_then_log_in(app: Flask, client: FlaskClient, db_session: Session,
                                database_url: str, tmp_path: Path,
                                login: Callable[[str, str], TestResponse]) -> None:
    runner = CliRunner(env={
        "DOSSIERSCO_DATABASE_URL": database_url,
        "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
        "DOSSIERSCO_SECRET_KEY": "test-secret-key",
        "DOSSIERSCO_MAIL_URL": (tmp_path / "mail").as_uri(),
    })
    first = runner.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    assert "http://127.0.0.1:8000/connexion" in first.stdout
    accounts = {m["name"]: m for m in LOGIN_LINE.finditer(first.stdout)}
    assert set(accounts) == {"Sophie DURAND", "Marc DURAND", "Karim BENALI", "Claire MOREAU"}
    assert accounts["Sophie DURAND"]["pupils"] == "Léa DURAND, Hugo DURAND"
    # every example campaign is registered, the demo families go to the school of the files
    slugs = set(db_session.scalars(select(CampaignVersion.slug)))
    assert {"college-jean-moulin-2027", "tilleuls-reinscription-2027"} <= slugs
    # the guardians with an e-mail address got an invitation (file transport)
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 3
    counts = row_counts(db_session)

    second = runner.invoke(main, ["demo"])
    assert second.exit_code == 0, second.output
    assert "dossiers : 0 créé, 0 mis à jour, 4 inchangés" in second.stdout
    fresh = {m["name"]: m for m in LOGIN_LINE.finditer(second.stdout)}
    assert {n: m["login"] for n, m in fresh.items()} == \
        {n: m["login"] for n, m in accounts.items()}
    assert fresh["Sophie DURAND"]["code"] != accounts["Sophie DURAND"]["code"]
    # the school's demo agents, printed with their password, log in (then enrol the 2FA)
    assert "direction@demo.dossiersco.fr" in first.stdout
    staff_page = client.get("/etablissement/connexion").get_data(as_text=True)
    token = CSRF_INPUT.search(staff_page)
    assert token is not None
    staff_login = client.post("/etablissement/connexion", data={
        "csrf_token": token.group(1), "email": "secretariat@demo.dossiersco.fr",
        "password": DEMO_AGENT_PASSWORD})
    assert staff_login.headers["Location"] == "/etablissement/double-authentification"
    client.post("/etablissement/deconnexion", data={"csrf_token": token.group(1)})
    # the same rows (the new codes replaced the pending invitations by new ones)
    assert row_counts(db_session) == counts
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 6

    # the old code no longer works, the fresh one does and shows the prefilled dossiers
    sophie = fresh["Sophie DURAND"]
    assert login(sophie["login"], accounts["Sophie DURAND"]["code"]).status_code == 200
    response = login(sophie["login"], sophie["code"])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Léa" in page and "Hugo" in page and "Inès" not in page


def test_a_broken_example_campaign_does_not_stop_the_demo(app: Flask, database_url: str,
                                                          tmp_path: Path) -> None:
    campaigns = tmp_path / "campaigns"
    shutil.copytree(ROOT / "campaigns" / "files", campaigns / "files")
    shutil.copy(ROOT / "campaigns" / "college-jean-moulin.yaml", campaigns)
    (campaigns / "a-casser.yaml").write_text("language: 1\nid: [\n", encoding="utf-8")
    env = {"DOSSIERSCO_DATABASE_URL": database_url,
           "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
           "DOSSIERSCO_SECRET_KEY": "test-secret-key",
           "DOSSIERSCO_MAIL_URL": (tmp_path / "mail").as_uri(),
           "DOSSIERSCO_CAMPAIGNS_DIR": str(campaigns)}
    result = CliRunner(env=env).invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert "Campagne a-casser.yaml ignorée" in result.stderr
    assert len(LOGIN_LINE.findall(result.stdout)) == 4

    (campaigns / "college-jean-moulin.yaml").unlink()
    alone = CliRunner(env=env).invoke(main, ["demo"])
    assert alone.exit_code == 1
    assert isinstance(alone.exception, SystemExit)
    assert "Aucune campagne valide" in alone.stderr


def test_demo_output_reads_as_french_sentences(app: Flask, database_url: str,
                                               tmp_path: Path) -> None:
    """No stray « Campagne …: » or « Import » line, counts agreeing with their noun, and the
    next step true for ``dossiersco demo`` alone and for scripts/demo.sh (issue 10, item 17)."""
    env = {"DOSSIERSCO_DATABASE_URL": database_url,
           "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
           "DOSSIERSCO_SECRET_KEY": "test-secret-key",
           "DOSSIERSCO_MAIL_URL": (tmp_path / "mail").as_uri()}
    alone = CliRunner(env=env).invoke(main, ["demo"])
    assert alone.exit_code == 0, alone.output
    lines = alone.output.splitlines()
    assert not [line for line in lines if re.fullmatch(r"Campagne \S+ :|Import.*", line.strip())
                and not line.startswith("Import enregistré")]
    assert "  - 1 compte famille ignoré : pas représentant légal" in alone.stdout
    assert "  - 1 élève ignoré : hors du public" in alone.stdout
    assert "/connexion après avoir lancé « dossiersco serve »" in alone.stdout
    served = CliRunner(env=env).invoke(main, ["demo", "--serving"])
    assert served.exit_code == 0, served.output
    assert "Ouvrez http://127.0.0.1:8000/connexion et connectez-vous" in served.stdout
    assert "dossiersco serve" not in served.stdout
    assert "--serving" in (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8")
