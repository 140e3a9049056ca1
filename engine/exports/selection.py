"""Which dossiers an export covers: the staff list's filters, in the list's order, loaded in
chunks so that an export of thousands of dossiers holds a few hundred at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

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
        columns an export reads of the dossier and its pupil in one statement of plain rows
        (no ORM instance, no change tracking of the JSON: most of the loading time), then
        the guardians when a field is answered per guardian, the files, the family facts
        (siblings, rank) and, when asked, the events and provenance: a few statements per
        chunk, none per dossier. The snapshots no export reads (what the school last
        reviewed, who typed each contact, the sealed health answers) stay in the database."""
        versions = {v.id: v.slug for v in self.versions}
        guardians = any(s.per_guardian for s in self.campaign.top_fields())
        columns = [*_RECORD_COLUMNS, *_PUPIL_COLUMNS, *([Dossier.provenance] if events else [])]
        split = len(_RECORD_COLUMNS) + len(_PUPIL_COLUMNS)
        for start in range(0, len(self.ids), CHUNK):
            chunk = self.ids[start:start + CHUNK]
            rows: list[tuple[Any, ...]] = [tuple(r) for r in self.session.execute(
                select(*columns).join(Pupil, Pupil.id == Dossier.pupil_id)
                .where(Dossier.id.in_(chunk)))]
            # the dossier's columns by name (the pupil's, then the provenance, come after)
            read = [dict(zip(_RECORD_KEYS, row, strict=False)) for row in rows]
            links: dict[int, list[Guardianship]] | None = None
            if guardians:
                links = {}
                for link in self.session.scalars(select(Guardianship).where(
                        Guardianship.pupil_id.in_({d["pupil_id"] for d in read}))
                        .options(joinedload(Guardianship.account)).order_by(Guardianship.id)):
                    links.setdefault(link.pupil_id, []).append(link)
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
                (d["id"], d["pupil_id"], versions[d["campaign_version_id"]]) for d in read])
            loaded: dict[int, DossierRecord] = {}
            for row, stored in zip(rows, read, strict=True):
                dossier_id, pupil_id = stored["id"], stored["pupil_id"]
                pupil = PupilRecord(
                    **dict(zip(_PUPIL_KEYS, row[len(_RECORD_COLUMNS):split], strict=True)),
                    links=None if links is None else links.get(pupil_id, []))
                siblings, elder = facts[dossier_id]
                loaded[dossier_id] = DossierRecord(
                    **stored, pupil=pupil, files=files.get(dossier_id, []),
                    siblings=siblings, elder_siblings=elder,
                    history=(row[split], history.get(dossier_id, [])) if events else None)
            yield [loaded[i] for i in chunk if i in loaded]


#: the dossier's columns a record holds (:class:`DossierRecord`'s fields of the same name)
_RECORD_COLUMNS: Final = (
    Dossier.id, Dossier.public_id, Dossier.pupil_id, Dossier.campaign_version_id,
    Dossier.state, Dossier.row_version, Dossier.prefill, Dossier.answers, Dossier.corrections,
    Dossier.computed, Dossier.guardian_answers, Dossier.place_decisions,
    Dossier.submitted_at, Dossier.validated_at)
_RECORD_KEYS: Final = tuple(c.key for c in _RECORD_COLUMNS)
#: the pupil's columns a record holds (:class:`PupilRecord`'s fields of the same name)
_PUPIL_COLUMNS: Final = (Pupil.id, Pupil.establishment_id, Pupil.ine, Pupil.first_name,
                         Pupil.last_name, Pupil.birth_date)
_PUPIL_KEYS: Final = tuple(c.key for c in _PUPIL_COLUMNS)


@dataclass(slots=True)
class PupilRecord:
    """A dossier's pupil as an export reads it (:class:`~engine.dossiers.models.PupilData`),
    read with the dossier's row; its guardians only when the campaign has a field answered
    per guardian (the one reader of them in an export)."""

    id: int
    establishment_id: int
    ine: str | None
    first_name: str
    last_name: str
    birth_date: date | None
    links: list[Guardianship] | None

    @property
    def guardianships(self) -> list[Guardianship]:
        if self.links is None:
            raise LookupError("the pupils were loaded without their guardians (the campaign "
                              "has no field answered per guardian)")
        return self.links


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
    pupil: PupilRecord
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
