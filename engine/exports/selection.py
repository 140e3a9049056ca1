"""Which dossiers an export covers: the staff list's filters, in the list's order, loaded in
chunks so that an export of thousands of dossiers holds a few hundred at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from engine.campaign.model import Campaign, FieldSpec
from engine.dossiers.family import family_facts
from engine.dossiers.listing import Filters, list_dossiers, versions_of
from engine.dossiers.models import (
    CampaignVersion,
    Dossier,
    DossierData,
    DossierEvent,
    Establishment,
    FamilyAccount,
    Guardianship,
    Pupil,
    StaffAccount,
    StoredFile,
)
from engine.dossiers.states import DossierState

from .memberships import UnknownCampaignError

CHUNK = 200
#: one page holding every dossier
ALL = 10_000_000


@dataclass
class Selection:
    """The dossiers of campaign ``slug`` in an establishment that ``filters`` keep (page
    ignored), optionally narrowed to ``only`` (public ids, a partial export by selection).

    ``include`` says which fields the reader may see (health data: the infirmerie only);
    ``None`` is every field.
    """

    session: Session
    establishment: Establishment
    slug: str
    campaign_of: Callable[[CampaignVersion], Campaign]
    filters: Filters = field(default_factory=Filters)
    include: Callable[[FieldSpec], bool] | None = None
    only: frozenset[str] | None = None

    def shows(self, spec: FieldSpec) -> bool:
        return self.include is None or self.include(spec)

    @cached_property
    def campaign(self) -> Campaign:
        """The campaign's latest version (columns follow it).

        :raises UnknownCampaignError: when the establishment has no such campaign.
        """
        if not self.versions:
            raise UnknownCampaignError(self.slug)
        return self.campaign_of(max(self.versions, key=lambda v: v.id))

    @cached_property
    def versions(self) -> list[CampaignVersion]:
        """The campaign's versions, held for the export: a dossier's ``campaign_version``
        is then found in the session without a statement, nor its source read again per
        row."""
        return versions_of(self.session, self.establishment.id, self.slug)

    def campaign_for(self, dossier: DossierData) -> Campaign:
        return self.campaign_of(self._versions_by_id[dossier.campaign_version_id])

    @cached_property
    def _versions_by_id(self) -> dict[int, CampaignVersion]:
        return {v.id: v for v in self.versions}

    @cached_property
    def ids(self) -> list[int]:
        listing = list_dossiers(self.session, self.establishment.id, self.slug, self.filters,
                                campaign=self.campaign, campaign_for=self.campaign_for,
                                include=self.include, per_page=ALL, details=False)
        return [r.id for r in listing.rows if self.only is None or r.public_id in self.only]

    def __len__(self) -> int:
        return len(self.ids)

    def columns(self, *columns: Any) -> Iterator[Any]:
        """Rows of the given ``Dossier`` columns, in chunks, without loading ORM objects (a
        quick first pass over thousands of dossiers)."""
        for start in range(0, len(self.ids), CHUNK):
            yield from self.session.execute(
                select(*columns).where(Dossier.id.in_(self.ids[start:start + CHUNK])))

    def most_guardians(self) -> int:
        """The most guardians holding a login on one dossier of the selection (the column
        groups of the per-guardian fields)."""
        most = 0
        for start in range(0, len(self.ids), CHUNK):
            counts = self.session.scalars(
                select(func.count(Guardianship.id)).join(
                    Dossier, Dossier.pupil_id == Guardianship.pupil_id)
                .where(Dossier.id.in_(self.ids[start:start + CHUNK])).group_by(Dossier.id))
            most = max([most, *counts])
        return most

    def dossiers(self, *, events: bool = False) -> Iterator[DossierRecord]:
        """The dossiers in the list's order, as :meth:`chunks` loads them."""
        for chunk in self.chunks(events=events):
            yield from chunk

    def chunks(self, *, events: bool = False) -> Iterator[list[DossierRecord]]:
        """The dossiers in the list's order, a chunk at a time, as read-only records: the
        dossier's columns an export reads in one statement of plain rows (no ORM instance, no
        change tracking of its JSON: most of the loading time), then the pupils (with the
        guardians when a field is answered per guardian), the files, the family facts
        (siblings, rank) and, when asked, the events and provenance: a few statements per
        chunk, none per dossier. The snapshots no export reads (what the school last
        reviewed, who typed each contact, the sealed health answers) stay in the database."""
        versions = {v.id: v.slug for v in self.versions}
        guardians = any(s.per_guardian for s in self.campaign.top_fields())
        columns = [*_RECORD_COLUMNS, *([Dossier.provenance] if events else [])]
        for start in range(0, len(self.ids), CHUNK):
            chunk = self.ids[start:start + CHUNK]
            rows = self.session.execute(select(*columns).where(Dossier.id.in_(chunk))).all()
            pupils = {p.id: p for p in self.session.scalars(
                select(Pupil).where(Pupil.id.in_({r.pupil_id for r in rows})).options(
                    *([selectinload(Pupil.guardianships).joinedload(Guardianship.account)]
                      if guardians else [])))}
            files: dict[int, list[StoredFile]] = {}
            for upload in self.session.scalars(select(StoredFile).where(
                    StoredFile.dossier_id.in_(chunk)).order_by(StoredFile.id)):
                files.setdefault(upload.dossier_id, []).append(upload)
            history: dict[int, list[DossierEvent]] = {}
            if events:
                for event in self.session.scalars(select(DossierEvent).where(
                        DossierEvent.dossier_id.in_(chunk)).order_by(DossierEvent.id)):
                    history.setdefault(event.dossier_id, []).append(event)
            facts = family_facts(self.session, [
                (r.id, r.pupil_id, versions[r.campaign_version_id]) for r in rows])
            loaded: dict[int, DossierRecord] = {}
            for row in rows:
                # the record's columns (the provenance, when read, comes after them)
                stored: dict[str, Any] = dict(zip(_RECORD_KEYS, row, strict=False))
                siblings, elder = facts[row.id]
                loaded[row.id] = DossierRecord(
                    **stored, pupil=pupils[row.pupil_id], files=files.get(row.id, []),
                    siblings=siblings, elder_siblings=elder,
                    history=(row.provenance, history.get(row.id, [])) if events else None)
            yield [loaded[i] for i in chunk if i in loaded]


#: the dossier's columns a record holds (:class:`DossierRecord`'s fields of the same name)
_RECORD_COLUMNS: Final = (
    Dossier.id, Dossier.public_id, Dossier.pupil_id, Dossier.campaign_version_id,
    Dossier.state, Dossier.row_version, Dossier.prefill, Dossier.answers, Dossier.corrections,
    Dossier.computed, Dossier.guardian_answers, Dossier.place_decisions,
    Dossier.submitted_at, Dossier.validated_at)
_RECORD_KEYS: Final = tuple(c.key for c in _RECORD_COLUMNS)


@dataclass(slots=True)
class DossierRecord:
    """A dossier as an export reads it (:class:`~engine.dossiers.models.DossierData`): its
    columns as read, its pupil and files, its family facts; the history only when the
    export asked for it. Read-only: nothing here is saved."""

    id: int
    public_id: str
    pupil_id: int
    campaign_version_id: int
    state: DossierState
    row_version: int
    prefill: dict[str, Any]
    answers: dict[str, Any]
    corrections: dict[str, Any]
    computed: dict[str, Any]
    guardian_answers: dict[str, Any]
    place_decisions: dict[str, dict[str, str]]
    submitted_at: datetime | None
    validated_at: datetime | None
    pupil: Pupil
    files: list[StoredFile]
    siblings: int | None
    elder_siblings: int | None
    #: provenance and events, when the export asked for them
    history: tuple[dict[str, Any], list[DossierEvent]] | None

    @property
    def provenance(self) -> dict[str, Any]:
        return self._history()[0]

    @property
    def events(self) -> list[DossierEvent]:
        return self._history()[1]

    def _history(self) -> tuple[dict[str, Any], list[DossierEvent]]:
        if self.history is None:
            raise LookupError("the dossiers were loaded without their history (events=True)")
        return self.history


def actor_names(session: Session, actors: Sequence[tuple[str, str | None]]
                ) -> dict[tuple[str, str | None], str]:
    """(actor kind, id) → a name: guardians and agents by name, the import as "Import"."""
    names: dict[tuple[str, str | None], str] = {("system", None): "Import"}
    family = {int(i) for k, i in actors if k == "family" and i and i.isdigit()}
    staff = {int(i) for k, i in actors if k == "staff" and i and i.isdigit()}
    if family:
        for account in session.scalars(select(FamilyAccount).where(
                FamilyAccount.id.in_(family))):
            names[("family", str(account.id))] = account.display_name
    if staff:
        for agent in session.scalars(select(StaffAccount).where(StaffAccount.id.in_(staff))):
            names[("staff", str(agent.id))] = f"{agent.display_name} (établissement)"
    return names
