"""``dossiersco adhesions`` (association rosters as text and CSV files) and ``dossiersco
export`` (the campaign's tables, the documents ZIP, the SIECLE return, the PDFs)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.dossiers.listing import Filters
from engine.dossiers.models import Establishment
from engine.dossiers.states import DossierState
from engine.dossiers.versions import CampaignCache
from engine.exports.documents_zip import write_documents_zip
from engine.exports.dossier_tables import TableKind, tables_of
from engine.exports.memberships import UnknownCampaignError, membership_rosters, write_rosters
from engine.exports.pdfs import infirmary_pdf, letters_pdf, new_letters, recaps_pdf
from engine.exports.selection import Selection
from engine.exports.siecle import siecle_return, write_siecle_zip
from engine.exports.tables import Format, write_tables
from engine.fields.common import format_money
from engine.security import make_hasher
from engine.storage import storage_from_settings

from .database import command_session


def _selection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--uai", required=True, help="UAI of the establishment."),
        click.option("--campaign", "slug", required=True,
                     help="Campaign identifier (the campaign file's id: key)."),
        click.option("--classe", "division", default="", help="Only this division."),
        click.option("--niveau", "level", default="", help="Only this level."),
        click.option("--etat", "state", type=click.Choice([s.value for s in DossierState]),
                     help="Only dossiers in this state."),
        click.option("--modifie", "changed", is_flag=True,
                     help="Only dossiers the family changed."),
        click.option("--out", "out", required=True, type=click.Path(dir_okay=False,
                                                                    path_type=Path),
                     help="File to write (replaced if present)."),
    ]):
        command = option(command)
    return command


@contextmanager
def _selection(uai: str, slug: str, division: str, level: str, state: str | None,
               changed: bool) -> Iterator[tuple[Settings, Session, Selection]]:
    with command_session() as (settings, session):
        establishment = session.query(Establishment).filter_by(uai=uai.upper()).one_or_none()
        if establishment is None:
            raise click.ClickException(f"Aucun établissement « {uai} » n'est enregistré.")
        filters = Filters(division=division, level=level,
                          state=DossierState(state) if state else None, has_changes=changed)
        selection = Selection(session, establishment, slug,
                              CampaignCache(settings.campaigns_dir).campaign_of, filters)
        try:
            selection.campaign  # noqa: B018  # fails early on an unknown campaign
        except UnknownCampaignError:
            raise click.ClickException(
                f"Aucune campagne « {slug} » n'est enregistrée pour {uai}.") from None
        yield settings, session, selection


@contextmanager
def _private_file(path: Path) -> Iterator[IO[bytes]]:
    """``path`` opened for writing, mode 0600 (pupils' data); removed if writing fails."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def register(main: click.Group) -> None:
    @main.command("adhesions")
    @click.option("--campaign", "slug", required=True,
                  help="Campaign identifier (the campaign file's id: key).")
    @click.option("--out", "folder", type=click.Path(file_okay=False, path_type=Path),
                  help="Folder for one CSV per association.")
    def adhesions_command(slug: str, folder: Path | None) -> None:
        """Who joined each association, from the sent and validated dossiers."""
        with command_session() as (settings, session):
            try:
                rosters = membership_rosters(session, slug, CampaignCache(settings.campaigns_dir))
            except UnknownCampaignError:
                raise click.ClickException(
                    f"Aucune campagne « {slug} » n'est enregistrée.") from None
        for roster in rosters:
            click.echo(f"{roster.label} : {len(roster.members)} adhérent(s), "
                       f"{format_money(roster.total)}")
        if folder is not None:
            for path in write_rosters(folder, rosters, slug):
                click.echo(f"  {path}")

    @main.group("export")
    def export_group() -> None:
        """Files for the school: tables, documents, the SIECLE return, PDFs."""

    @export_group.command("table")
    @click.argument("kind", type=click.Choice([k.value for k in TableKind]))
    @_selection_options
    @click.option("--format", "fmt", type=click.Choice([f.value for f in Format]),
                  default=Format.XLSX.value, show_default=True)
    @click.option("--codes", is_flag=True, help="Add the code of each choice beside its label.")
    def table_command(kind: str, uai: str, slug: str, division: str, level: str,
                      state: str | None, changed: bool, out: Path, fmt: str,
                      codes: bool) -> None:
        """A table of the campaign (dossiers, modifications, gestion, adhesions, classes)."""
        with _selection(uai, slug, division, level, state, changed) as (_, _s, selection), \
                _private_file(out) as handle:
            write_tables(tables_of(TableKind(kind), selection, codes=codes), Format(fmt),
                         handle)
            click.echo(f"{len(selection)} dossier(s) → {out}")

    @export_group.command("documents")
    @_selection_options
    @click.option("--document", "document_id", help="Only this document type (its id).")
    @click.option("--acceptes", "accepted", is_flag=True, help="Only accepted documents.")
    def documents_command(uai: str, slug: str, division: str, level: str, state: str | None,
                          changed: bool, out: Path, document_id: str | None,
                          accepted: bool) -> None:
        """The documents as a ZIP named division/NOM Prénom/document.ext."""
        with _selection(uai, slug, division, level, state, changed) as (settings, _, selection), \
                _private_file(out) as handle:
            count = write_documents_zip(selection, storage_from_settings(settings), handle,
                                        document_id=document_id, accepted_only=accepted)
            click.echo(f"{count} fichier(s) → {out}")

    @export_group.command("siecle")
    @_selection_options
    @click.option("--rentree", "start", type=click.DateTime(["%Y-%m-%d"]),
                  help="First day of the school year (default: 1 September after the campaign).")
    @click.option("--dossier", "only", multiple=True,
                  help="Only this dossier (its public id); repeat for several.")
    def siecle_command(uai: str, slug: str, division: str, level: str, state: str | None,
                       changed: bool, out: Path, start: datetime | None,
                       only: tuple[str, ...]) -> None:
        """The return file to SIECLE (zipped), and what keeps each pupil out of it."""
        with _selection(uai, slug, division, level, state, changed) as (_, _s, selection):
            selection.only = frozenset(only) or None
            result = siecle_return(selection, generated_at=datetime.now(UTC),
                                   start=start.date() if start else None)
        for pupil in result.blocked:
            click.echo(f"Bloqué : {pupil.last_name} {pupil.first_name} ({pupil.division}) — "
                       + " ; ".join(b.message for b in pupil.blockers))
        if not result.included:
            raise click.ClickException("Aucun élève ne peut partir dans le fichier SIECLE.")
        with _private_file(out) as handle:
            write_siecle_zip(result, handle)
        click.echo(f"{len(result.included)} élève(s) dans {result.filename} → {out}")

    @export_group.command("pdf")
    @click.argument("kind", type=click.Choice(["recapitulatifs", "fiches-infirmerie",
                                               "convocations"]))
    @_selection_options
    def pdf_command(kind: str, uai: str, slug: str, division: str, level: str,
                    state: str | None, changed: bool, out: Path) -> None:
        """Récapitulatifs, fiches infirmerie (one page per pupil) or convocations. The
        convocations give a NEW code to each family that never logged in (the code of the
        first letter stops working)."""
        with _selection(uai, slug, division, level, state, changed) as (settings, session,
                                                                         selection), \
                _private_file(out) as handle:
            if kind == "recapitulatifs":
                count = recaps_pdf(selection, handle)
            elif kind == "fiches-infirmerie":
                count = infirmary_pdf(selection, handle)
            else:
                letters = new_letters(session, make_hasher(settings), selection)
                letters_pdf(letters, selection.campaign, settings.base_url, handle)
                session.commit()
                count = len(letters)
            click.echo(f"{count} page(s) → {out}")
