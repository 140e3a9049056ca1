"""Which dossiers an export covers: the staff list's filters, in the list's order, loaded in
chunks so that an export of thousands of dossiers holds a few hundred at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from engine.campaign.model import Campaign, FieldSpec
from engine.dossiers.family import load_families
from engine.dossiers.listing import Filters, list_dossiers, versions_of
from engine.dossiers.models import (
    CampaignVersion,
    Dossier,
    Establishment,
    FamilyAccount,
    Guardianship,
    Pupil,
    StaffAccount,
)

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

    def campaign_for(self, dossier: Dossier) -> Campaign:
        return self.campaign_of(dossier.campaign_version)

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

    def dossiers(self, *, events: bool = False) -> Iterator[Dossier]:
        """The dossiers in the list's order, as :meth:`chunks` loads them."""
        for chunk in self.chunks(events=events):
            yield from chunk

    def chunks(self, *, events: bool = False) -> Iterator[list[Dossier]]:
        """The dossiers in the list's order, a chunk at a time, with pupil, files, the family
        facts (siblings, rank), the guardians when a field is answered per guardian and, when
        asked, events and provenance loaded: a few statements per chunk, none per dossier.

        Read-only: the JSON an export reads (prefill, answers, corrections, figures, and the
        provenance with the events) comes in plain dicts from one more statement, without
        the change tracking a save needs (a third of the loading time); the snapshots no
        export reads (what the school last reviewed, who typed each contact, the sealed
        health answers) are left in the database."""
        self.versions  # noqa: B018  # in the session: each dossier's version without a join
        guardians = any(s.per_guardian for s in self.campaign.top_fields())
        read = [Dossier.prefill, Dossier.answers, Dossier.corrections, Dossier.computed,
                Dossier.guardian_answers, Dossier.place_decisions,
                *([Dossier.provenance] if events else [])]
        unread = [Dossier.reviewed_answers, Dossier.contact_owners, Dossier.sealed_answers,
                  *([] if events else [Dossier.provenance])]
        for start in range(0, len(self.ids), CHUNK):
            chunk = self.ids[start:start + CHUNK]
            loaded = {d.id: d for d in self.session.scalars(
                select(Dossier).where(Dossier.id.in_(chunk)).options(
                    joinedload(Dossier.pupil), selectinload(Dossier.files),
                    *([joinedload(Dossier.pupil).selectinload(Pupil.guardianships)
                       .joinedload(Guardianship.account)] if guardians else []),
                    *(defer(c) for c in (*read, *unread)),
                    *([selectinload(Dossier.events)] if events else [])))}
            for dossier_id, *values in self.session.execute(
                    select(Dossier.id, *read).where(Dossier.id.in_(chunk))):
                for column, value in zip(read, values, strict=True):
                    set_committed_value(loaded[dossier_id], column.key, value)
            load_families(self.session, list(loaded.values()))
            yield [loaded[i] for i in chunk if i in loaded]


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
