"""``dossiersco import`` (SIECLE or spreadsheet files → pupils, accounts, dossiers) and
``dossiersco demo`` (example campaigns and fictional families, ready to log in).

Bad input never shows a traceback: a French report on stderr and exit code 1, with nothing
written to the database.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import click
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine import db
from engine.campaign import check_file, check_source, parse_source
from engine.campaign.model import Campaign
from engine.config import ConfigError, Settings
from engine.dossiers.imports import ImportReport, Progress, campaign_version_for, import_into
from engine.dossiers.invitations import send_invitations
from engine.dossiers.models import CampaignVersion, Establishment, StaffRole
from engine.dossiers.staff import ensure_demo_agent
from engine.dossiers.versions import latest_version
from engine.exports.letters import write_credentials
from engine.prefill import FICHES_ELEVES, ImportFileError, ImportResult
from engine.prefill import read_files as read_import_files
from engine.security import make_hasher

#: fictional SIECLE exports imported by ``dossiersco demo``
DEMO_DIR = Path(__file__).resolve().parents[2] / "campaigns" / "demo"


def register(main: click.Group) -> None:
    main.add_command(import_command)
    main.add_command(demo_command)


class Refused(Exception):
    """Stop the command: the lines are the report, the exit code is 1."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


@dataclass(frozen=True, slots=True)
class Target:
    campaign: Campaign
    version: CampaignVersion


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise Refused([f"Configuration invalide : {exc}"]) from None


@contextmanager
def _database(settings: Settings) -> Iterator[Session]:
    """A session on the migrated database of ``settings``."""
    try:
        database = db.Database.connect(settings.database_url)
        db.upgrade(database.engine)
    except SQLAlchemyError as exc:
        raise Refused([f"Base de données inaccessible : {type(exc).__name__}."]) from None
    try:
        with database.sessions() as session:
            yield session
    finally:
        database.dispose()


def read_files(files: Sequence[str], mapping: Path | str | None) -> ImportResult:
    """Parse the files (SIECLE, or one spreadsheet with ``mapping`` or the built-in "Fiches
    élèves" one); refuse on any error."""
    if mapping is not None and len(files) != 1:
        raise Refused(["Avec --mapping ou --siecle-sheet, importez un seul tableur à la fois."])
    result = read_import_files(files, mapping)
    if not result.ok:
        raise Refused([p.as_line() for p in ImportFileError(result.problems).problems]
                      + ["Fichier refusé : rien n'a été importé."])
    return result


def resolve_campaign(session: Session, ref: str, uai: str | None,
                     campaigns_dir: Path) -> Target:
    """``ref`` is a campaign file (registered now, in the import's transaction) or the id of
    a campaign already registered (its latest version; its template files are looked up in
    ``campaigns_dir``)."""
    path = Path(ref)
    if path.is_file():
        campaign, diagnostics = check_file(path)
        if campaign is None:
            raise Refused([d.as_line() for d in diagnostics if d.is_error]
                          + ["Campagne invalide : rien n'a été importé."])
        source = path.read_text(encoding="utf-8")
        return Target(campaign, campaign_version_for(session, campaign, source, uai=uai))
    version = latest_version(session, ref)
    if version is None:
        raise Refused([f"Campagne inconnue : « {ref} » n'est ni un fichier ni l'identifiant "
                       f"d'une campagne enregistrée."])
    if uai is not None and version.establishment.uai != uai.upper():
        raise Refused([f"La campagne {ref} est celle de l'établissement "
                       f"{version.establishment.uai}, pas de {uai}."])
    campaign, diagnostics = check_source(parse_source(version.source, name=f"{ref}.yaml",
                                                      base_dir=campaigns_dir))
    if campaign is None:
        raise Refused([d.as_line() for d in diagnostics if d.is_error])
    return Target(campaign, version)


def _check_writable(folder: Path) -> None:
    """Before importing: the codes are shown only once, the folder must take them."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".dossiersco-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise Refused([f"Le dossier {folder} n'est pas utilisable pour les identifiants : "
                       f"{exc.strerror or exc}."]) from None


@contextmanager
def _progress(total: int) -> Iterator[Progress]:
    with click.progressbar(length=total, label="Import", file=sys.stderr) as bar:
        yield lambda done, _total: bar.update(done - bar.pos)


def run_import(settings: Settings, session: Session, target: Target, result: ImportResult,
               *, dry_run: bool, reset_codes: bool, invite: bool, check_uai: bool,
               credentials_out: Path | None, codes_printed: bool = False,
               progress_bar: bool = True) -> ImportReport:
    """Import, then write the letters and send the invitations; print the report (the demo
    shows no progress bar: a few families, and click writes its label alone off a terminal)."""
    if credentials_out is not None and not dry_run:
        _check_writable(credentials_out)
    try:
        bar = _progress(len(result.pupils)) if progress_bar else nullcontext(None)
        with bar as progress:
            report = import_into(session, target.campaign, target.version, result,
                                 hasher=make_hasher(settings), dry_run=dry_run,
                                 progress=progress, reset_codes=reset_codes, invite=invite,
                                 check_uai=check_uai, invitation_ttl=settings.invitation_ttl)
    except ImportFileError as exc:
        raise Refused([p.as_line() for p in exc.problems]
                      + ["Import refusé : rien n'a été importé."]) from None
    for line in report.lines():
        click.echo(line)
    establishment = target.campaign.establishment
    if report.credentials and credentials_out is not None:
        paths = write_credentials(credentials_out, report.credentials, establishment,
                                  settings.base_url, slug=report.campaign,
                                  at=report.imported_at)
        click.echo(f"{len(report.credentials)} nouveau(x) code(s) : courriers et publipostage "
                   f"dans " + ", ".join(str(p) for p in paths))
    elif report.credentials and not codes_printed:
        click.echo(f"Attention : {len(report.credentials)} nouveau(x) code(s) créé(s) sans "
                   f"--credentials-out ; relancez avec --reset-codes --credentials-out DOSSIER "
                   f"pour imprimer les courriers.", err=True)
    if invite and report.credentials:
        outcome = send_invitations(settings, report.credentials, establishment)
        click.echo(f"Invitations envoyées par courriel : {outcome.sent}.")
        if outcome.failed:
            click.echo(f"Invitations non envoyées ({len(outcome.failed)}) pour les "
                       f"identifiants : {', '.join(outcome.failed)}.", err=True)
    return report


@contextmanager
def _reported() -> Iterator[None]:
    """Turn every expected failure into a French report on stderr and exit code 1."""
    try:
        yield
    except Refused as exc:
        lines = exc.lines
    except ImportFileError as exc:
        lines = [p.as_line() for p in exc.problems] + ["Rien n'a été importé."]
    except SQLAlchemyError as exc:
        lines = [f"Erreur de la base de données ({type(exc).__name__}) : rien n'a été "
                 f"importé."]
    except OSError as exc:
        lines = [f"Erreur d'écriture : {exc.strerror or exc} ({exc.filename or ''})."]
    else:
        return
    for line in lines:
        click.echo(line, err=True)
    sys.exit(1)


@click.command("import")
@click.argument("files", nargs=-1, required=True)
@click.option("--campaign", "campaign_ref", required=True, metavar="PATH_OR_ID",
              help="Campaign file, or the id of a registered campaign.")
@click.option("--establishment", metavar="UAI",
              help="School the files belong to (default: the campaign's).")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--credentials-out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the letters PDF and the mail-merge CSV of new codes.")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML column mapping: FILE is a spreadsheet (CSV, XLSX, XLS, ODS).")
@click.option("--siecle-sheet", is_flag=True,
              help="FILE is SIECLE's \"Fiches élèves complètes\" spreadsheet (XLS, XLSX): the "
                   "built-in mapping (also chosen when a lone spreadsheet has no --mapping).")
@click.option("--reset-codes", is_flag=True,
              help="Give these guardians' existing accounts a new code (and a letter).")
@click.option("--invite", is_flag=True,
              help="E-mail a single-use login link to guardians with a new code.")
@click.option("--ignore-uai", is_flag=True,
              help="Accept files exported by another school (test files).")
def import_command(files: Sequence[str], campaign_ref: str, establishment: str | None,
                   dry_run: bool, credentials_out: Path | None, mapping: Path | None,
                   siecle_sheet: bool, reset_codes: bool, invite: bool,
                   ignore_uai: bool) -> None:
    """Import SIECLE exports (or a spreadsheet) into a campaign: pupils, family accounts and
    prefilled dossiers, in one transaction. Exit 1 with a report when anything is wrong."""
    with _reported():
        settings = _settings()
        click.echo(f"Lecture de {len(files)} fichier(s)…", err=True)
        if siecle_sheet and mapping is not None:
            raise Refused(["--siecle-sheet et --mapping s'excluent : choisissez l'un des deux."])
        result = read_files(files, FICHES_ELEVES if siecle_sheet else mapping)
        with _database(settings) as session:
            target = resolve_campaign(session, campaign_ref, establishment,
                                      settings.campaigns_dir)
            run_import(settings, session, target, result, dry_run=dry_run,
                       reset_codes=reset_codes, invite=invite, check_uai=not ignore_uai,
                       credentials_out=credentials_out)


#: the demo's agents of the school: (address, name, role), one password for all (printed)
DEMO_AGENTS: Final = (("direction@demo.dossiersco.fr", "Direction (démo)", StaffRole.DIRECTION),
                      ("secretariat@demo.dossiersco.fr", "Secrétariat (démo)",
                       StaffRole.SECRETARIAT),
                      ("infirmerie@demo.dossiersco.fr", "Infirmerie (démo)",
                       StaffRole.INFIRMERIE))
DEMO_AGENT_PASSWORD: Final = "Demo-Etablissement-2027"


def _demo_agents(settings: Settings, session: Session, target: Target) -> None:
    """The school's demo agents (idempotent), printed with their password."""
    establishment = session.scalar(select(Establishment).where(
        Establishment.uai == target.campaign.establishment.uai))
    if establishment is None:
        return
    hasher = make_hasher(settings)
    for email, name, role in DEMO_AGENTS:
        ensure_demo_agent(session, hasher, establishment, email=email, display_name=name,
                          role=role, password=DEMO_AGENT_PASSWORD)
    session.commit()
    click.echo(f"\nPersonnels de démonstration (mot de passe « {DEMO_AGENT_PASSWORD} », "
               f"double authentification à activer à la première connexion sur "
               f"{settings.base_url}/etablissement/connexion) :")
    for email, name, _role in DEMO_AGENTS:
        click.echo(f"  {name:<22} {email}")


@click.command("demo")
@click.option("--serving", is_flag=True,
              help="The app is started right after (scripts/demo.sh): say so, not how to.")
def demo_command(serving: bool) -> None:
    """Register the example campaigns and import fictional families; print how to log in.

    Running it again changes no data but gives the demo guardians fresh codes.
    """
    with _reported():
        settings = _settings()
        result = read_files([str(p) for p in sorted(DEMO_DIR.glob("*.xml"))], None)
        uais = {s.uaj for s in result.sources}
        imported = 0
        with _database(settings) as session:
            for path in sorted(settings.campaigns_dir.glob("*.yaml")):
                try:
                    target = resolve_campaign(session, str(path), None, settings.campaigns_dir)
                except Refused as exc:  # one broken example must not stop the demo
                    click.echo(f"Campagne {path.name} ignorée :", err=True)
                    for line in exc.lines:
                        click.echo(f"  {line}", err=True)
                    session.rollback()
                    continue
                session.commit()
                if target.campaign.establishment.uai not in uais:
                    continue
                report = run_import(settings, session, target, result, dry_run=False,
                                    reset_codes=True, invite=True, check_uai=True,
                                    credentials_out=None, codes_printed=True,
                                    progress_bar=False)
                imported += 1
                _demo_agents(settings, session, target)
                click.echo("\nComptes de démonstration (identifiant / code secret) :")
                for cred in report.credentials:
                    click.echo(f"  {cred.display_name:<20} {cred.login}  {cred.code}"
                               f"  ({', '.join(cred.pupils)})")
        if not imported:
            raise Refused([f"Aucune campagne valide de {settings.campaigns_dir} n'est celle de "
                           f"l'établissement des fichiers de démonstration "
                           f"({', '.join(sorted(filter(None, uais)))})."])
        then = "" if serving else " après avoir lancé « dossiersco serve »"
        click.echo(f"\nOuvrez {settings.base_url}/connexion{then} et connectez-vous avec l'un "
                   f"de ces comptes.")
        click.echo(f"Les courriels d'invitation sont envoyés selon DOSSIERSCO_MAIL_URL "
                   f"({settings.mail_url}).")
