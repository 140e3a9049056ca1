"""``dossiersco export`` and the staff download routes: permissions, filters, audit."""

from __future__ import annotations

import io
import re
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
from engine.jobs import Job
from engine.web.state import app_state

from .kit import SLUG, export_file, export_job, prefill, read_csv, read_xlsx, submit
from conftest import _csrf_token
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


def test_staff_exports_are_jobs_and_audited(client: FlaskClient, db_session: Session,
                                            make_dossier: Any,
                                            make_staff: Callable[..., StaffUser],
                                            staff_login: Callable[[StaffUser], TestResponse],
                                            ) -> None:
    submit(db_session, make_dossier(first_name="Léa", last_name="MARTIN", prefill=prefill()),
           {"regime": "externe"}, "restauration")
    make_dossier(first_name="Zoé", last_name="ARNAUD", prefill=prefill("Zoé", "ARNAUD", "5A"))
    staff_login(make_staff(role="gestion"))
    page = client.get(BASE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'action="{BASE}/modifications.xlsx"' in html
    # the title is the title (the page's sections were once repeated inside it)
    assert re.search(r"<title>[^<]*exports – DossierSCO</title>", html)
    assert html.count('id="siecle"') == 1
    response = export_file(client, f"{BASE}/dossiers.xlsx?classe=5B", BASE)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        f"attachment; filename=dossiers-{SLUG}-")
    assert response.headers["Cache-Control"] == "no-store, private"
    sheet = read_xlsx(response.get_data())["Dossiers"]
    assert [r[1] for r in sheet[1:]] == ["MARTIN"]
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
    assert entry.data["export"] == "table" and entry.data["table"] == "dossiers"
    assert entry.data["dossiers"] == 1
    assert entry.data["filters"] == {"classe": "5B"} and entry.data["format"] == "xlsx"
    # each export is its own file in the history: a second one never replaces the first
    again = export_file(client, f"{BASE}/dossiers.csv?classe=5B", BASE)
    assert read_csv(again.get_data())[1][1] == "MARTIN"
    jobs = db_session.scalars(select(Job).where(Job.kind == "export_table")).all()
    assert len(jobs) == 2 and len({j.result_key for j in jobs}) == 2
    listing = client.get(BASE).get_data(as_text=True)
    assert all(f"/taches/{j.public_id}/fichier" in listing for j in jobs)
    zipped = export_file(client, f"{BASE}/documents.zip", BASE, acceptes="1")
    assert zipfile.ZipFile(io.BytesIO(zipped.get_data())).namelist() == []
    token = _csrf_token(client, BASE)
    assert client.post(f"{BASE}/documents.zip", data={"csrf_token": token,
                                                       "document": "inconnu"}).status_code == 404
    assert client.post(f"{BASE}/inconnu.xlsx", data={"csrf_token": token}).status_code == 404
    assert client.post(f"{BASE}/dossiers.exe", data={"csrf_token": token}).status_code == 404
    assert client.post(f"{BASE}/dossiers.csv").status_code == 400  # no CSRF token
    assert client.post("/etablissement/0750001A/inconnue/exports/dossiers.csv",
                       data={"csrf_token": token}).status_code == 404
    # a hostile query string is dropped, never a 500
    assert client.get(f"{BASE}?uai=X&slug=Y&kind=Z").status_code == 200


def test_a_siecle_export_that_nobody_can_leave_in_fails_honestly(
        client: FlaskClient, db_session: Session, make_dossier: Any,
        make_staff: Callable[..., StaffUser],
        staff_login: Callable[[StaffUser], TestResponse]) -> None:
    make_dossier(prefill=prefill())
    staff_login(make_staff(role="secretariat"))
    html = export_job(client, f"{BASE}/siecle.zip", f"{BASE}/siecle")
    assert "Aucun élève ne peut partir dans le fichier SIECLE (1 bloqué(s))" in html
    assert "/fichier" not in html and "Relancer la tâche" in html


def test_health_exports_need_the_infirmerie(
        app: Flask, client: FlaskClient, db_session: Session, make_dossier: Any,
        make_staff: Callable[..., StaffUser],
        staff_login: Callable[[StaffUser], TestResponse]) -> None:
    make_dossier(prefill=prefill())
    nurse = make_staff("infirmiere@college.fr", role="infirmerie")
    staff_login(nurse)
    token = _csrf_token(client, "/etablissement/")
    queued = client.post(f"{BASE}/fiches-infirmerie.pdf", data={"csrf_token": token})
    job_page = queued.headers["Location"]
    assert "/fichier" in client.get(job_page).get_data(as_text=True)
    job = db_session.scalars(select(Job).where(Job.kind == "export_infirmary")).one()
    assert job.params["health"] is True
    # the direction reads no health data: neither the job nor its file
    client.post("/etablissement/deconnexion", data={"csrf_token": token})
    staff_login(make_staff("direction@college.fr", role="direction"))
    assert client.get(job_page).status_code == 403
    assert client.get(f"{job_page}/fichier").status_code == 403
    assert job.public_id not in client.get(f"{BASE}").get_data(as_text=True)


def test_roles_without_export_are_refused(client: FlaskClient, make_dossier: Any,
                                          make_staff: Callable[..., StaffUser],
                                          staff_login: Callable[[StaffUser], TestResponse]
                                          ) -> None:
    make_dossier(prefill=prefill())
    staff_login(make_staff(role="lecture"))
    assert client.get(BASE).status_code == 403
    token = _csrf_token(client, "/etablissement/")
    assert client.post(f"{BASE}/dossiers.csv", data={"csrf_token": token}).status_code == 403
