"""``dossiersco export`` and the staff download routes: permissions, filters, audit."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.cli import main
from engine.dossiers.models import AuditEntry
from engine.web.state import app_state

from .kit import SLUG, prefill, read_csv, read_xlsx, submit
from staffkit import StaffUser

BASE = f"/etablissement/0750001A/{SLUG}/exports"


def _env(app: Flask, tmp_path: Path) -> dict[str, str]:
    return {"DOSSIERSCO_DATABASE_URL": app_state(app).settings.database_url,
            "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance")}


def test_command_writes_each_table(app: Flask, db_session: Session, make_dossier: Any,
                                   tmp_path: Path) -> None:
    submit(db_session, make_dossier(first_name="Léa", last_name="MARTIN", prefill=prefill()),
           {"regime": "externe"}, "restauration")
    make_dossier(first_name="Zoé", last_name="ARNAUD", prefill=prefill("Zoé", "ARNAUD", "5A"))
    out = tmp_path / "dossiers.csv"
    result = CliRunner().invoke(main, ["export", "table", "dossiers", "--uai", "0750001A",
                                       "--campaign", SLUG, "--format", "csv", "--classe", "5B",
                                       "--out", str(out)], env=_env(app, tmp_path))
    assert result.exit_code == 0, result.output
    assert "1 dossier(s)" in result.output and out.stat().st_mode & 0o777 == 0o600
    rows = read_csv(out.read_bytes())
    assert [r[1:3] for r in rows[1:]] == [["MARTIN", "Léa"]]
    xlsx = tmp_path / "classes.xlsx"
    assert CliRunner().invoke(main, ["export", "table", "classes", "--uai", "0750001A",
                                     "--campaign", SLUG, "--out", str(xlsx)],
                              env=_env(app, tmp_path)).exit_code == 0
    assert list(read_xlsx(xlsx.read_bytes())) == ["5A", "5B"]
    unknown = CliRunner().invoke(main, ["export", "table", "gestion", "--uai", "0750001A",
                                        "--campaign", "inconnue", "--out", str(xlsx)],
                                 env=_env(app, tmp_path))
    assert unknown.exit_code == 1 and "Aucune campagne « inconnue »" in unknown.output
    zipped = tmp_path / "pieces.zip"
    assert CliRunner().invoke(main, ["export", "documents", "--uai", "0750001A", "--campaign",
                                     SLUG, "--out", str(zipped)],
                              env=_env(app, tmp_path)).exit_code == 0
    assert zipfile.ZipFile(zipped).namelist() == []


def test_staff_downloads_are_audited(client: FlaskClient, db_session: Session,
                                     make_dossier: Any, make_staff: Callable[..., StaffUser],
                                     staff_login: Callable[[StaffUser], TestResponse]) -> None:
    submit(db_session, make_dossier(first_name="Léa", last_name="MARTIN", prefill=prefill()),
           {"regime": "externe"}, "restauration")
    make_dossier(first_name="Zoé", last_name="ARNAUD", prefill=prefill("Zoé", "ARNAUD", "5A"))
    staff_login(make_staff(role="gestion"))
    page = client.get(BASE)
    assert page.status_code == 200
    assert f'{BASE}/modifications.xlsx' in page.get_data(as_text=True)
    response = client.get(f"{BASE}/dossiers.xlsx?classe=5B")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=dossiers-")
    assert response.headers["Cache-Control"] == "no-store, private"
    sheet = read_xlsx(response.get_data())["Dossiers"]
    assert [r[1] for r in sheet[1:]] == ["MARTIN"]
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
    assert entry.data["export"] == "dossiers" and entry.data["dossiers"] == 1
    assert entry.data["filters"] == {"classe": "5B"} and entry.data["format"] == "xlsx"
    assert client.get(f"{BASE}/documents.zip?acceptes=1").status_code == 200
    assert client.get(f"{BASE}/documents.zip?document=inconnu").status_code == 404
    assert client.get(f"{BASE}/inconnu.xlsx").status_code == 404
    assert client.get(f"{BASE}/dossiers.exe").status_code == 404
    assert client.get("/etablissement/0750001A/inconnue/exports/dossiers.csv").status_code \
        == 404


def test_roles_without_export_are_refused(client: FlaskClient, make_dossier: Any,
                                          make_staff: Callable[..., StaffUser],
                                          staff_login: Callable[[StaffUser], TestResponse]
                                          ) -> None:
    make_dossier(prefill=prefill())
    staff_login(make_staff(role="lecture"))
    assert client.get(BASE).status_code == 403
    assert client.get(f"{BASE}/dossiers.csv").status_code == 403
