"""``dossiersco import`` through click's CliRunner: reports, credentials outputs, and every
bad-file case of issue 5 refused with exit code 1, no traceback and the database untouched."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from pypdf import PdfReader
from sheetkit import SAMPLE, fiches_xlsx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.campaign.model import Establishment
from engine.cli import main
from engine.db import Base
from engine.dossiers.accounts import Credential
from engine.dossiers.models import FamilyAccount, Invitation
from engine.exports.letters import CSV_HEADER, credentials_csv, pdf_text, write_credentials

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "campaigns" / "demo"
ELEVES = DEMO / "ElevesAvecAdresses.xml"
RESPONSABLES = DEMO / "ResponsablesAvecAdresses.xml"
CAMPAIGN = ROOT / "campaigns" / "college-jean-moulin.yaml"


@pytest.fixture
def cli(app: Flask, database_url: str, tmp_path: Path) -> CliRunner:
    """A runner whose environment points the command at the test database."""
    return CliRunner(env={
        "DOSSIERSCO_DATABASE_URL": database_url,
        "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
        "DOSSIERSCO_SECRET_KEY": "test-secret-key",
        "DOSSIERSCO_MAIL_URL": (tmp_path / "mail").as_uri(),
        "DOSSIERSCO_BASE_URL": "https://dossiers.college.example",
    })


def run(cli: CliRunner, *args: str | Path) -> Result:
    return cli.invoke(main, ["import", *map(str, args)], catch_exceptions=True)


def row_counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables}


def mail_texts(folder: Path) -> list[str]:
    """The plain-text body of each message the mail folder received."""
    texts = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",))
        assert body is not None
        texts.append(body.get_content())
    return texts


def test_import_with_credentials(cli: CliRunner, db_session: Session, tmp_path: Path) -> None:
    out = tmp_path / "courriers"
    result = run(cli, ELEVES, RESPONSABLES, "--campaign", CAMPAIGN, "--credentials-out", out)
    assert result.exit_code == 0, result.output
    assert "élèves : 4 créés, 0 mis à jour, 0 inchangé, 1 ignoré" in result.stdout
    assert "dossiers : 4 créés" in result.stdout
    assert "1 élève ignoré : hors du public de la campagne (audience)" in result.stdout
    assert "Import" in result.stderr  # the progress bar
    pdf_path, = out.glob("*.pdf")
    csv_path, = out.glob("*.csv")
    assert pdf_path.stat().st_mode & 0o777 == 0o600

    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert tuple(rows[0]) == CSV_HEADER
    by_name = {r[2]: r for r in rows[1:]}
    assert sorted(by_name) == ["Claire MOREAU", "Karim BENALI", "Marc DURAND", "Sophie DURAND"]
    sophie = by_name["Sophie DURAND"]
    assert sophie[3:] == ["sophie.durand@example.org", "Léa DURAND, Hugo DURAND",
                          "https://dossiers.college.example"]
    account = db_session.scalar(select(FamilyAccount).where(FamilyAccount.login == sophie[0]))
    assert account is not None and account.personne_id == "8000001"

    pages = PdfReader(pdf_path).pages
    assert len(pages) == 4
    text = next(p.extract_text() for p in pages if "Sophie DURAND" in p.extract_text())
    for expected in ("Collège Jean Moulin", "https://dossiers.college.example", sophie[0],
                     sophie[1], "Léa DURAND, Hugo DURAND", "Code secret",
                     "ne le communiquez à personne"):
        assert expected in " ".join(text.split()), expected

    # the same files again: nothing new, no new letters
    again = run(cli, ELEVES, RESPONSABLES, "--campaign", "college-jean-moulin-2027",
                "--credentials-out", out)
    assert again.exit_code == 0, again.output
    assert "dossiers : 0 créé, 0 mis à jour, 4 inchangés" in again.stdout
    assert len(list(out.iterdir())) == 2


def test_dry_run(cli: CliRunner, db_session: Session) -> None:
    before = row_counts(db_session)
    result = run(cli, ELEVES, RESPONSABLES, "--campaign", CAMPAIGN, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Simulation (--dry-run)")
    assert "dossiers : 4 créés" in result.stdout
    assert row_counts(db_session) == before


def test_new_codes_without_letters_are_warned(cli: CliRunner) -> None:
    result = run(cli, ELEVES, RESPONSABLES, "--campaign", CAMPAIGN)
    assert result.exit_code == 0
    assert "--reset-codes --credentials-out" in result.stderr


def test_spreadsheet_with_mapping(cli: CliRunner, db_session: Session, tmp_path: Path) -> None:
    sheet = tmp_path / "eleves.csv"
    sheet.write_text("Id;Nom;Prénom;Naissance;MEF\nE1;MARTIN;Zoé;01/02/2014;10110001110\n",
                     encoding="utf-8")
    mapping = tmp_path / "colonnes.yaml"
    mapping.write_text("pupil: {id: Id, last_name: Nom, first_name: Prénom, "
                       "birth_date: Naissance, mef_code: MEF}\n", encoding="utf-8")
    result = run(cli, sheet, "--mapping", mapping, "--campaign", CAMPAIGN)
    assert result.exit_code == 0, result.output
    assert "dossiers : 1 créé" in result.stdout
    assert "dossier sans compte famille" in result.stdout


def _xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["Nom", "Prénom"])  # type: ignore[union-attr]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ElevesAvecAdresses.xml", b"<BEE_ELEVES>" + b" " * 50_000_000)
    return buffer.getvalue()


DEMO_XML = ELEVES.read_bytes()
BAD_FILES = {
    "malformed": (DEMO_XML.replace(b"</ELEVES>", b""), "XML_MALFORMED"),
    "truncated": (DEMO_XML[: len(DEMO_XML) // 2], "XML_MALFORMED"),
    "external entity": (b'<?xml version="1.0"?>\n<!DOCTYPE BEE_ELEVES [<!ENTITY x SYSTEM '
                        b'"file:///etc/passwd">]>\n<BEE_ELEVES>&x;</BEE_ELEVES>',
                        "XML_DTD_FORBIDDEN"),
    "entity bomb": (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY a "aaaaaaaaaa">'
                    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<BEE_ELEVES>&c;'
                    b'</BEE_ELEVES>', "XML_DTD_FORBIDDEN"),
    "spreadsheet renamed": (_xlsx(), "FILE_SPREADSHEET"),
    "wrong encoding": (DEMO_XML.replace(b'encoding="ISO-8859-15"', b'encoding="UTF-8"'),
                       "XML_ENCODING"),
    "missing birth date": (DEMO_XML.replace(b"<DATE_NAISS>14/03/2014</DATE_NAISS>", b""),
                           "MISSING_ELEMENT"),
    "duplicate id": (DEMO_XML.replace(b'ELEVE_ID="9000002"', b'ELEVE_ID="9000001"'),
                     "DUPLICATE_ID"),
    "binary": (b"\x00\x01\x02\x89PNG\r\n", "XML_NOT_XML"),
    "empty": (b"", "FILE_EMPTY"),
    "zip bomb": (_zip_bomb(), "ZIP_BOMB"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_refused(cli: CliRunner, db_session: Session, tmp_path: Path,
                             case: str) -> None:
    content, code = BAD_FILES[case]
    bad = tmp_path / ("eleves.zip" if case == "zip bomb" else "ElevesAvecAdresses.xml")
    bad.write_bytes(content)
    result = run(cli, bad, RESPONSABLES, "--campaign", CAMPAIGN)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a report, not a traceback
    assert "Traceback" not in result.output
    assert code in result.stderr
    assert "rien n'a été importé" in result.stderr
    assert not any(row_counts(db_session).values())


def test_line_numbers_in_the_report(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "ElevesAvecAdresses.xml"
    bad.write_bytes(DEMO_XML.replace(b"<DATE_NAISS>14/03/2014</DATE_NAISS>",
                                     b"<DATE_NAISS>31/02/2014</DATE_NAISS>"))
    line = DEMO_XML[:DEMO_XML.index(b"14/03/2014")].count(b"\n") + 1
    result = run(cli, bad, "--campaign", CAMPAIGN)
    assert result.exit_code == 1
    assert f"ElevesAvecAdresses.xml:{line}: INVALID_DATE (erreur)" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--campaign", "nope-2027"], "Campagne inconnue"),
    (["--campaign", str(DEMO / "ElevesAvecAdresses.xml")], "Campagne invalide"),
    (["--campaign", str(CAMPAIGN), "--establishment", "0750001A"], "UAI_MISMATCH"),
    (["--campaign", str(CAMPAIGN), "--mapping", str(CAMPAIGN)], "un seul tableur"),
])
def test_bad_arguments(cli: CliRunner, db_session: Session, args: list[str],
                       message: str) -> None:
    result = run(cli, ELEVES, RESPONSABLES, *args)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert message in result.stderr
    assert not any(row_counts(db_session).values())


def test_missing_file_and_unwritable_folder(cli: CliRunner, db_session: Session,
                                            tmp_path: Path) -> None:
    missing = run(cli, tmp_path / "absent.xml", "--campaign", CAMPAIGN)
    assert missing.exit_code == 1 and "FILE_UNREADABLE" in missing.stderr
    blocker = tmp_path / "fichier"
    blocker.write_text("")
    unwritable = run(cli, ELEVES, RESPONSABLES, "--campaign", CAMPAIGN,
                     "--credentials-out", blocker / "sous-dossier")
    assert unwritable.exit_code == 1
    assert "n'est pas utilisable pour les identifiants" in unwritable.stderr
    assert row_counts(db_session)["family_account"] == 0


def test_csv_cells_never_become_formulas() -> None:
    cred = Credential(login="ABCDEFGHJK", code="ABCD-EFGH-JKMN", display_name="=HYPERLINK(1)",
                      email="-x@example.org", personne_id="1", pupils=["@Zoé MARTIN"])
    row = credentials_csv([cred], "https://x.example").decode("utf-8-sig").splitlines()[1]
    assert row.split(";")[2:5] == ["'=HYPERLINK(1)", "'-x@example.org", "'@Zoé MARTIN"]


def test_pdf_text_keeps_french_and_replaces_the_rest() -> None:
    assert pdf_text("Cœur d’Élodie — 12 €") == "Coeur d'Élodie - 12 EUR"
    assert pdf_text("李") == "?"


def test_reset_codes_with_invitations(cli: CliRunner, tmp_path: Path) -> None:
    assert run(cli, ELEVES, RESPONSABLES, "--campaign", CAMPAIGN).exit_code == 0
    out = tmp_path / "nouveaux"
    result = run(cli, ELEVES, RESPONSABLES, "--campaign", CAMPAIGN, "--reset-codes",
                 "--invite", "--credentials-out", out)
    assert result.exit_code == 0, result.output
    assert "4 comptes famille mis à jour : nouveau code" in result.stdout
    assert "4 nouveau(x) code(s)" in result.stdout
    assert "Invitations envoyées par courriel : 3." in result.stdout
    csv_path, = out.glob("*.csv")
    assert len(csv_path.read_text("utf-8-sig").splitlines()) == 5
    texts = mail_texts(tmp_path / "mail")
    assert len(texts) == 3
    assert all("https://dossiers.college.example/invitation/" in text for text in texts)


def test_invitations_last_the_configured_hours(cli: CliRunner, db_session: Session,
                                               tmp_path: Path) -> None:
    """DOSSIERSCO_INVITATION_TTL_HOURS sets the stored expiry and the one the mail states."""
    result = cli.invoke(main, ["import", str(ELEVES), str(RESPONSABLES), "--campaign",
                               str(CAMPAIGN), "--invite"],
                        env={"DOSSIERSCO_INVITATION_TTL_HOURS": "24"})
    assert result.exit_code == 0, result.output
    stored = list(db_session.scalars(select(Invitation)))
    assert len(stored) == 3
    assert {i.expires_at - i.created_at for i in stored} == {timedelta(hours=24)}
    until = stored[0].expires_at.astimezone(ZoneInfo("Europe/Paris"))
    month = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")[until.month - 1]
    texts = mail_texts(tmp_path / "mail")
    assert len(texts) == 3
    assert all(f"expire le {until.day} {month} {until.year} à {until:%H:%M}" in text
               for text in texts)


@pytest.mark.parametrize("hours", ["0", "169", "trois jours"])
def test_a_bad_invitation_lifetime_stops_the_command(cli: CliRunner, db_session: Session,
                                                     hours: str) -> None:
    result = cli.invoke(main, ["import", str(ELEVES), str(RESPONSABLES), "--campaign",
                               str(CAMPAIGN), "--invite"],
                        env={"DOSSIERSCO_INVITATION_TTL_HOURS": hours})
    assert result.exit_code == 1
    assert "Configuration invalide : DOSSIERSCO_INVITATION_TTL_HOURS" in result.stderr
    assert not any(row_counts(db_session).values())


def test_campaign_registered_for_another_school(cli: CliRunner, db_session: Session) -> None:
    assert run(cli, ELEVES, RESPONSABLES, "--campaign", CAMPAIGN).exit_code == 0
    before = row_counts(db_session)
    result = run(cli, ELEVES, "--campaign", CAMPAIGN, "--establishment", "0750001A")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "CAMPAIGN_ESTABLISHMENT" in result.stderr
    assert row_counts(db_session) == before


def test_value_too_long_for_the_database(cli: CliRunner, db_session: Session,
                                         tmp_path: Path) -> None:
    bad = tmp_path / "ElevesAvecAdresses.xml"
    bad.write_bytes(DEMO_XML.replace(b"<PRENOM>Hugo</PRENOM>", b"<PRENOM>" + b"H" * 150
                                     + b"</PRENOM>"))
    result = run(cli, bad, RESPONSABLES, "--campaign", CAMPAIGN)
    assert result.exit_code == 1, result.output
    assert "VALUE_TOO_LONG" in result.stderr and "ELEVE_ID=9000002" in result.stderr
    assert "rien n'a été importé" in result.stderr
    assert not any(row_counts(db_session).values())


def test_letters_never_overwrite_earlier_ones(tmp_path: Path) -> None:
    cred = Credential(login="ABCDEFGHJK", code="ABCD-EFGH-JKMN", display_name="Paul MARTIN",
                      email=None, personne_id="1", pupils=["Zoé MARTIN"])
    at = datetime(2027, 5, 20, 8, 0, tzinfo=UTC)
    school = Establishment(uai="0691234A", name="Collège Jean Moulin")
    first = write_credentials(tmp_path, [cred], school, "https://x.example", slug="../c", at=at)
    second = write_credentials(tmp_path, [cred], school, "https://x.example", slug="../c", at=at)
    assert [p.name for p in first] == ["identifiants----c-20270520-080000.pdf",
                                       "identifiants----c-20270520-080000.csv"]
    assert [p.name for p in second] == ["identifiants----c-20270520-080000-2.pdf",
                                        "identifiants----c-20270520-080000-2.csv"]
    assert all(p.parent == tmp_path for p in first + second)


SHARED = ROOT / "tests" / "prefill" / "samples"


def test_the_readme_sample_command(cli: CliRunner, db_session: Session) -> None:
    """The README's first import: the shared samples, other schools' files, a dry run."""
    result = run(cli, SHARED / "eleves_avec_adresse_simple.xml",
                 SHARED / "responsables_avec_adresses_simple.xml", SHARED / "nomenclature_simple.xml",
                 "--campaign", CAMPAIGN, "--ignore-uai", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "élèves : 0 créé, 0 mis à jour, 0 inchangé, 2 ignorés" in result.stdout
    assert "TAG_TYPO (avertissement)" in result.stdout
    assert not any(row_counts(db_session).values())
    refused = run(cli, SHARED / "eleves_avec_adresse_simple.xml", "--campaign", CAMPAIGN)
    assert refused.exit_code == 1 and "UAI_MISMATCH" in refused.stderr


def test_mapping_file_of_any_name(cli: CliRunner, tmp_path: Path) -> None:
    """--mapping is a file: its name need not end in .yaml to be read as one."""
    sheet = tmp_path / "eleves.csv"
    sheet.write_text("Id;Nom\nE1;MARTIN\n", encoding="utf-8")
    mapping = tmp_path / "colonnes.txt"
    mapping.write_text("pupil: {id: Id, last_name: Nom}\n", encoding="utf-8")
    result = run(cli, sheet, "--mapping", mapping, "--campaign", CAMPAIGN, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "élèves : " in result.stdout


@pytest.mark.parametrize("flag", [["--siecle-sheet"], []], ids=["flag", "recognised"])
def test_siecle_fiches_eleves_sheet_without_a_mapping(cli: CliRunner, db_session: Session,
                                                      tmp_path: Path, flag: list[str]) -> None:
    """SIECLE's "Fiches élèves complètes" XLSX: no mapping file, by the flag or recognised."""
    path = tmp_path / "ExportFichesEleves.xlsx"
    path.write_bytes(fiches_xlsx("repr-leg-autre", SAMPLE))
    result = run(cli, path, "--campaign", CAMPAIGN, *flag)
    assert result.exit_code == 0, result.stderr
    assert "élèves : 2 créés" in result.stdout
    assert "comptes famille : 3 créés" in result.stdout
    assert row_counts(db_session)["family_account"] == 3


def test_siecle_sheet_flag_refuses_a_mapping_too(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "ExportFichesEleves.xlsx"
    path.write_bytes(fiches_xlsx("repr-leg-1-2", SAMPLE))
    mapping = tmp_path / "m.yaml"
    mapping.write_text("pupil: {id: Id National, last_name: Nom de famille}\n", "utf-8")
    result = run(cli, path, "--campaign", CAMPAIGN, "--siecle-sheet", "--mapping", mapping)
    assert result.exit_code == 1 and "s'excluent" in result.stderr
