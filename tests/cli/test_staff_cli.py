"""``dossiersco staff create|reset`` and ``dossiersco audit verify`` through click's runner, on
the test database: the printed link works once, ``--send`` mails it over real SMTP, a tampered
audit entry makes ``verify`` fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from smtpkit import Inbox, free_port
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine.cli import main
from engine.dossiers.models import AuditEntry, StaffAccount, StaffRole
from engine.dossiers.services import ensure_establishment

from conftest import _csrf_token

LINK = re.compile(r"http://127\.0\.0\.1:8000(/etablissement/lien/(invitation|reset)/[\w-]+)")
PASSWORD = "Un-Mot-De-Passe-42"


def _env(database_url: str, tmp_path: Path, mail_url: str | None = None) -> dict[str, str]:
    return {"DOSSIERSCO_DATABASE_URL": database_url,
            "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
            "DOSSIERSCO_SECRET_KEY": "test-secret-key",
            "DOSSIERSCO_MAIL_URL": mail_url or (tmp_path / "mail").as_uri()}


@pytest.fixture
def cli(app: Flask, database_url: str, tmp_path: Path) -> CliRunner:
    """A runner on the test database (``app`` empties the tables afterwards)."""
    return CliRunner(env=_env(database_url, tmp_path))


@pytest.fixture
def school(db_session: Session) -> str:
    ensure_establishment(db_session, uai="0750001A", name="Collège Jean Moulin")
    db_session.commit()
    return "0750001A"


def _use_link(client: FlaskClient, path: str) -> int:
    token = _csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "password": PASSWORD,
                                       "confirm": PASSWORD})
    return response.status_code


def test_create_prints_a_single_use_invitation_link(cli: CliRunner, client: FlaskClient,
                                                     db_session: Session, school: str) -> None:
    result = cli.invoke(main, ["staff", "create", "Principale@College.fr", "--establishment",
                               school, "--role", "direction", "--name", "Mme Principale"])
    assert result.exit_code == 0, result.output
    assert "Compte créé pour principale@college.fr" in result.output
    match = LINK.search(result.output)
    assert match and match.group(2) == "invitation"
    account = db_session.scalar(select(StaffAccount).where(
        StaffAccount.email == "principale@college.fr"))
    assert account is not None and account.display_name == "Mme Principale"
    assert [m.role for m in account.memberships] == [StaffRole.DIRECTION]
    assert _use_link(client, match.group(1)) == 302
    assert client.get(match.group(1)).status_code == 410  # single use
    again = cli.invoke(main, ["staff", "create", "principale@college.fr", "--establishment",
                              school, "--role", "lecture"])
    assert again.exit_code == 1 and "existe déjà" in again.output
    verified = cli.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "1 entrée vérifiée" in verified.output


def test_create_refuses_bad_arguments(cli: CliRunner, school: str) -> None:
    missing = cli.invoke(main, ["staff", "create", "a@college.fr"])
    assert missing.exit_code == 2 and "--establishment and --role are required" in missing.output
    unknown = cli.invoke(main, ["staff", "create", "a@college.fr", "--establishment",
                                "0999999Z", "--role", "direction"])
    assert unknown.exit_code == 1 and "Établissement 0999999Z inconnu" in unknown.output
    invalid = cli.invoke(main, ["staff", "create", "pas-une-adresse", "--establishment", school,
                                "--role", "direction"])
    assert invalid.exit_code == 1 and "Adresse électronique invalide" in invalid.output
    role = cli.invoke(main, ["staff", "create", "a@college.fr", "--establishment", school,
                             "--role", "chef"])
    assert role.exit_code == 2


def test_admin_needs_no_establishment(cli: CliRunner, db_session: Session) -> None:
    result = cli.invoke(main, ["staff", "create", "admin@academie.fr", "--admin"])
    assert result.exit_code == 0, result.output
    account = db_session.scalar(select(StaffAccount))
    assert account is not None and account.is_admin and account.memberships == []


def test_reset_prints_a_reset_link(cli: CliRunner, client: FlaskClient, school: str) -> None:
    cli.invoke(main, ["staff", "create", "sec@college.fr", "--establishment", school,
                      "--role", "secretariat"])
    result = cli.invoke(main, ["staff", "reset", "SEC@college.fr"])
    assert result.exit_code == 0, result.output
    match = LINK.search(result.output)
    assert match and match.group(2) == "reset"
    assert _use_link(client, match.group(1)) == 302
    unknown = cli.invoke(main, ["staff", "reset", "personne@college.fr"])
    assert unknown.exit_code == 1 and "Aucun compte" in unknown.output


def test_send_mails_the_links(app: Flask, database_url: str, tmp_path: Path, school: str,
                              smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    cli = CliRunner(env=_env(database_url, tmp_path, f"smtp://127.0.0.1:{port}"))
    created = cli.invoke(main, ["staff", "create", "sec@college.fr", "--establishment", school,
                                "--role", "secretariat", "--send"])
    assert created.exit_code == 0, created.output
    assert "Lien envoyé par courriel à sec@college.fr" in created.output
    assert LINK.search(created.output) is None  # the link is in the mail only
    reset = cli.invoke(main, ["staff", "reset", "sec@college.fr", "--send"])
    assert reset.exit_code == 0, reset.output
    (to1, invitation), (to2, reset_mail) = inbox.wait_for(2)
    assert to1 == to2 == ["sec@college.fr"]
    body = invitation.get_content()
    assert "Collège Jean Moulin" in body and "/etablissement/lien/invitation/" in body
    assert "/etablissement/lien/reset/" in reset_mail.get_content()


def test_send_failure_still_gives_the_link(app: Flask, database_url: str, tmp_path: Path,
                                           school: str) -> None:
    cli = CliRunner(env=_env(database_url, tmp_path, f"smtp://127.0.0.1:{free_port()}"))
    result = cli.invoke(main, ["staff", "create", "sec@college.fr", "--establishment", school,
                               "--role", "secretariat", "--send"])
    assert result.exit_code == 1
    assert "Courriel non envoyé" in result.output and LINK.search(result.output)


def test_audit_verify_detects_tampering(cli: CliRunner, db_session: Session,
                                        school: str) -> None:
    for n in range(3):
        cli.invoke(main, ["staff", "create", f"agent{n}@college.fr", "--establishment", school,
                          "--role", "lecture"])
    assert "3 entrées vérifiées" in cli.invoke(main, ["audit", "verify"]).output
    # an UPDATE outside the ORM, as someone with database access would do
    db_session.execute(text("UPDATE audit_entry SET action = 'x' WHERE seq = 2"))
    db_session.commit()
    result = cli.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert "altéré à l'entrée 2" in result.output and "1 entrée correcte avant" in result.output
    assert db_session.scalar(select(AuditEntry.action).where(AuditEntry.seq == 1)) == \
        "staff_created"
