"""The staff exports as jobs: tables, documents ZIP, SIECLE return, PDF batches.

Each task rebuilds the agent's selection from the job's parameters (the list's filters as a
query string, the dossiers ticked), writes the file into a nameless scratch file with its
progress, then stores it under a new key in the same commit as its audit entry. A worker
killed mid-write leaves no file at all; the job is failed when a worker starts again
(:meth:`JobQueue.recover`) and can be run again.

Health data: the fields marked ``restricted: health`` are exported only when the agent who
asked reads health data (checked again when the job runs); such a job's file then needs
that permission too (:func:`engine.jobs.registry.permissions_of`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any, Final

from engine.campaign.model import FieldSpec
from engine.dossiers import audit, sealed
from engine.dossiers.listing import parse_filters
from engine.dossiers.models import Establishment, StaffAccount
from engine.dossiers.permissions import Permission, can
from engine.dossiers.states import Actor
from engine.exports.documents_zip import write_documents_zip
from engine.exports.dossier_tables import TableKind, tables_of
from engine.exports.memberships import UnknownCampaignError
from engine.exports.pdfs import infirmary_pdf, letters_pdf, new_letters, recaps_pdf
from engine.exports.selection import Selection
from engine.exports.siecle import siecle_return, write_siecle_zip
from engine.exports.tables import MIMETYPES, Format, Progress, write_tables
from engine.security import make_hasher

from .context import JobContext
from .registry import HEALTH, JobFailed, task

EXPORT_TABLE: Final = "export_table"
EXPORT_DOCUMENTS: Final = "export_documents"
EXPORT_SIECLE: Final = "export_siecle"
EXPORT_RECAPS: Final = "export_recaps"
EXPORT_INFIRMARY: Final = "export_infirmary"
EXPORT_LETTERS: Final = "export_letters"
#: every export kind (the exports page lists their jobs)
EXPORT_KINDS: Final = (EXPORT_TABLE, EXPORT_DOCUMENTS, EXPORT_SIECLE, EXPORT_RECAPS,
                       EXPORT_INFIRMARY, EXPORT_LETTERS)
ZIP: Final = "application/zip"
PDF: Final = "application/pdf"


@dataclass(frozen=True, slots=True)
class Written:
    """What a writer made: the file's name (the job's time is added), its type, and what the
    audit entry says of it besides the selection."""

    name: str
    mime: str
    audit: dict[str, Any] = field(default_factory=dict)
    keep_name: bool = False


Writer = Callable[[JobContext, Selection, IO[bytes], Progress], Written]


def _include(ctx: JobContext, establishment: Establishment) -> Callable[[FieldSpec], bool] | None:
    """Every field for an agent reading health data who asked for it, else no health field."""
    if not ctx.params.get(HEALTH):
        return sealed.not_health
    agent = ctx.session.get(StaffAccount, ctx.job.requested_by_id) \
        if ctx.job.requested_by_id is not None else None
    if agent is None or not can(agent, Permission.READ_HEALTH, establishment.id):
        raise JobFailed("Les données de santé ne sont exportées que pour l'infirmerie : "
                        "votre rôle ne le permet plus.")
    return None


def selection_of(ctx: JobContext) -> Selection:
    """The dossiers the job was asked for, as the agent's list showed them."""
    establishment = ctx.session.get(Establishment, ctx.job.establishment_id) \
        if ctx.job.establishment_id is not None else None
    if establishment is None or not ctx.job.campaign_slug:
        raise JobFailed("L'établissement ou la campagne de cet export n'existe plus.")
    only = frozenset(str(i) for i in ctx.params.get("only", ())) or None
    selection = Selection(ctx.session, establishment, ctx.job.campaign_slug,
                          ctx.campaigns.campaign_of, parse_filters(ctx.params.get("filters", {})),
                          _include(ctx, establishment), only)
    try:
        selection.campaign  # noqa: B018  # an unknown campaign fails before anything is read
    except UnknownCampaignError:
        raise JobFailed("La campagne de cet export n'existe plus.") from None
    return selection


def run_export(ctx: JobContext, export: str, writer: Writer) -> None:
    """Write the file aside, then audit and store it in one commit."""
    selection = selection_of(ctx)
    ctx.report_progress(0, len(selection))
    with ctx.scratch_file() as out:
        written = writer(ctx, selection, out, ctx.throttled_progress())
        requested_by = ctx.job.requested_by_id
        audit.record(ctx.session, Actor.staff(requested_by) if requested_by is not None
                     else Actor.system(), "export", establishment_id=selection.establishment.id,
                     data={"export": export, "campaign": selection.slug,
                           "dossiers": len(selection), "filters": ctx.params.get("filters", {}),
                           **({"chosen": sorted(selection.only)} if selection.only else {}),
                           "job": ctx.job.public_id, **written.audit})
        out.seek(0)
        ctx.store_result(written.name, out, written.mime, keep_name=written.keep_name)


def export_task(kind: str, export: str, *, label: str,
                permission: Permission = Permission.EXPORT) -> Callable[[Writer], Writer]:
    """Register ``writer`` as the task of ``kind`` (audited as ``export``)."""

    def register(writer: Writer) -> Writer:
        task(kind, label=label, permission=permission)(
            lambda ctx: run_export(ctx, export, writer))
        return writer

    return register


@export_task(EXPORT_TABLE, "table", label="Export d'un tableau")
def _table(ctx: JobContext, selection: Selection, out: IO[bytes], progress: Progress) -> Written:
    try:
        table, fmt = TableKind(ctx.params["table"]), Format(ctx.params["format"])
    except (KeyError, ValueError):
        raise JobFailed("Ce tableau ou ce format n'existe pas.") from None
    codes = bool(ctx.params.get("codes"))
    write_tables(tables_of(table, selection, codes=codes), fmt, out, progress)
    return Written(f"{table.value}-{selection.slug}.{fmt.value}", MIMETYPES[fmt],
                   {"table": table.value, "format": fmt.value, "codes": codes})


@export_task(EXPORT_DOCUMENTS, "documents", label="Pièces justificatives (ZIP)")
def _documents(ctx: JobContext, selection: Selection, out: IO[bytes],
               progress: Progress) -> Written:
    document = ctx.params.get("document") or None
    if document is not None and document not in {d.id for d in selection.campaign.documents}:
        raise JobFailed("Ce document n'est plus demandé par la campagne.")
    accepted = bool(ctx.params.get("accepted"))
    count = write_documents_zip(selection, ctx.storage, out, document_id=document,
                                accepted_only=accepted, progress=progress)
    return Written(f"documents-{selection.slug}.zip", ZIP,
                   {"document": document or "", "accepted_only": accepted, "files": count})


@export_task(EXPORT_SIECLE, "siecle", label="Fichier de retour vers SIECLE")
def _siecle(ctx: JobContext, selection: Selection, out: IO[bytes], progress: Progress,
            ) -> Written:
    start = date.fromisoformat(ctx.params["start"]) if ctx.params.get("start") else None
    result = siecle_return(selection, generated_at=datetime.now(UTC), start=start,
                           progress=progress)
    if not result.included:
        raise JobFailed(f"Aucun élève ne peut partir dans le fichier SIECLE "
                        f"({len(result.blocked)} bloqué(s)) : la page « Retour vers SIECLE » "
                        "dit pourquoi pour chacun.")
    write_siecle_zip(result, out)
    return Written(result.filename.removesuffix(".xml") + ".zip", ZIP,
                   {"file": result.filename, "pupils": len(result.included),
                    "blocked": len(result.blocked),
                    "school_start": (start.isoformat() if start else "")}, keep_name=True)


@export_task(EXPORT_RECAPS, "recapitulatifs", label="Récapitulatifs des dossiers (PDF)")
def _recaps(ctx: JobContext, selection: Selection, out: IO[bytes], progress: Progress,
            ) -> Written:
    recaps_pdf(selection, out, progress)
    return Written(f"recapitulatifs-{selection.slug}.pdf", PDF)


@export_task(EXPORT_INFIRMARY, "fiches_infirmerie", label="Fiches infirmerie (PDF)",
             permission=Permission.READ_HEALTH)
def _infirmary(ctx: JobContext, selection: Selection, out: IO[bytes], progress: Progress,
               ) -> Written:
    infirmary_pdf(selection, out, progress)
    return Written(f"fiches-infirmerie-{selection.slug}.pdf", PDF)


@export_task(EXPORT_LETTERS, "convocations", label="Convocations des familles (PDF)")
def _letters(ctx: JobContext, selection: Selection, out: IO[bytes], progress: Progress,
             ) -> Written:
    """New codes for the families who never logged in: committed with the file (and its
    audit entry) or not at all."""
    letters = new_letters(ctx.session, make_hasher(ctx.settings), selection)
    letters_pdf(letters, selection.campaign, ctx.settings.base_url, out)
    return Written(f"convocations-{selection.slug}.pdf", PDF,
                   {"families": len(letters), "accounts": [x.account.id for x in letters]})
