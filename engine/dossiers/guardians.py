"""A guardian's own data is one thing for all their children: what is typed in one sibling's
dossier (contact, address, profession) is shown in every sibling's dossier not yet sent.

The shared values live in :class:`GuardianProfile`, one per guardian of an establishment,
keyed by the guardian's imported identity (the key of their row in the repeat prefilled from
``guardians``). A page save records the person-level values that changed
(:func:`record_changes`); opening a dossier lays the newer ones over its rows
(:func:`shared_rows`). Per-pupil values (relationship, who pays, priority contact) are never
shared, nor is anything the reader was not shown (a confidential guardian's contact details
are put back before a save, so they are never recorded as changed by the other guardian).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.campaign.model import Campaign, FieldSpec
from engine.db import utcnow
from engine.fields.repeat import ROW_KEY

from .campaigns import Redaction
from .models import Dossier, DossierData, GuardianProfile, Pupil
from .states import EDITABLE

#: keys of an imported guardian that describe the person, not their link to one pupil
PERSON_KEYS: Final = frozenset({
    "civility", "last_name", "first_name", "phone_home", "phone_work", "phone_mobile",
    "email", "address", "profession_code", "accepts_sms"})


@dataclass(frozen=True, slots=True)
class SharedChange:
    """A value taken from another of the guardian's dossiers, for the notice."""

    guardian: str
    field: str
    at: datetime
    pupil: str


def _shared_repeats(campaign: Campaign) -> tuple[tuple[FieldSpec, list[FieldSpec]], ...]:
    """The repeats prefilled from ``guardians`` and their person-level children (found once
    per campaign)."""
    return campaign.derived("guardians.shared_repeats", lambda: _find_shared_repeats(campaign))


def _find_shared_repeats(campaign: Campaign) -> tuple[tuple[FieldSpec, list[FieldSpec]], ...]:
    out = []
    for spec in campaign.top_fields():
        if spec.type.is_container and spec.prefill == ("guardians",):
            children = [c for c in spec.fields if c.type.has_value and c.editable
                        and c.prefill is not None and c.prefill[0] in PERSON_KEYS]
            if children:
                out.append((spec, children))
    return tuple(out)


def imported_keys(dossier: DossierData) -> set[str]:
    """The identities of the guardians the school imported for this pupil."""
    guardians = dossier.prefill.get("guardians")
    return {str(g["personne_id"]) for g in guardians or [] if isinstance(g, Mapping)
            and g.get("personne_id")}


def _profiles(session: Session, dossier: Dossier, keys: set[str]) -> dict[str, GuardianProfile]:
    if not keys:
        return {}
    found = session.scalars(select(GuardianProfile).where(
        GuardianProfile.establishment_id == dossier.pupil.establishment_id,
        GuardianProfile.guardian_key.in_(sorted(keys))))
    return {p.guardian_key: p for p in found}


def shared_rows(session: Session, campaign: Campaign, dossier: Dossier,
                answers: Mapping[str, Any], redaction: Redaction,
                ) -> tuple[dict[str, Any], list[SharedChange]]:
    """The writes that bring ``answers`` up to date with what the guardians entered in their
    other children's dossiers, and what they change (never a value masked from the reader);
    nothing once the dossier is sent."""
    if dossier.state not in EDITABLE:
        return {}, []
    repeats = _shared_repeats(campaign)
    profiles = _profiles(session, dossier, imported_keys(dossier)) if repeats else {}
    if not profiles:
        return {}, []
    names = _pupil_names(session, profiles)
    writes: dict[str, Any] = {}
    changes: list[SharedChange] = []
    for spec, children in repeats:
        rows = answers.get(spec.id)
        if not isinstance(rows, list):
            continue
        new_rows, changed = [], False
        for row in rows:
            profile = profiles.get(str(row.get(ROW_KEY))) if isinstance(row, Mapping) else None
            if profile is None:
                new_rows.append(row)
                continue
            row = dict(row)
            for child in children:
                source = profile.sources.get(child.id)
                if child.id not in profile.values or source is None or source[0] == dossier.id:
                    continue
                value = profile.values[child.id]
                if row.get(child.id) != value:
                    row[child.id] = value
                    changed = True
                    if redaction.masked(campaign, child, str(row.get(ROW_KEY))):
                        continue
                    who = " ".join(str(row.get(c.id) or "") for key in ("first_name", "last_name")
                                   for c in spec.fields if c.prefill == (key,)).strip()
                    changes.append(SharedChange(who, child.label.get(),
                                                datetime.fromisoformat(source[1]),
                                                names.get(source[0], "")))
            new_rows.append(row)
        if changed:
            writes[spec.id] = new_rows
    return writes, changes


@dataclass(frozen=True, slots=True)
class SharedProfiles:
    """The profiles of the guardians of many dossiers and the first names of the pupils
    whose dossiers their values were typed in: two statements for a page of dossiers (the
    list's refresh, an export's chunk), where one dossier at a time took two each."""

    #: dossier id → {guardian key: profile}
    by_dossier: Mapping[int, Mapping[str, GuardianProfile]]
    #: dossier id → the pupil's first name
    names: Mapping[int, str]

    @classmethod
    def load(cls, session: Session, dossiers: Sequence[DossierData]) -> SharedProfiles:
        keys = {d.id: imported_keys(d) for d in dossiers}
        wanted = set().union(*keys.values()) if keys else set()
        by_dossier: dict[int, dict[str, GuardianProfile]] = {}
        if wanted:
            for dossier_id, profile in session.execute(
                    select(Dossier.id, GuardianProfile)
                    .join(Pupil, Pupil.id == Dossier.pupil_id)
                    .join(GuardianProfile, GuardianProfile.establishment_id
                          == Pupil.establishment_id)
                    .where(Dossier.id.in_(list(keys)),
                           GuardianProfile.guardian_key.in_(sorted(wanted)))):
                if profile.guardian_key in keys[dossier_id]:
                    by_dossier.setdefault(dossier_id, {})[profile.guardian_key] = profile
        sources = {s[0] for found in by_dossier.values() for p in found.values()
                   for s in p.sources.values()}
        names = {dossier_id: first for dossier_id, first in session.execute(
            select(Dossier.id, Pupil.first_name).join(Pupil, Pupil.id == Dossier.pupil_id)
            .where(Dossier.id.in_(sorted(sources))))} if sources else {}
        return cls(by_dossier, names)


def reported_elsewhere(session: Session, campaign: Campaign, dossier: DossierData,
                       answers: Mapping[str, Any], shared: SharedProfiles | None = None,
                       ) -> dict[str, dict[str, str]]:
    """The guardians' values of ``answers`` that were typed in another of their children's
    dossiers, so the school reviews each change once: {row key: {field id: that pupil's
    first name}}. ``shared``: the profiles loaded with the other dossiers of a page."""
    repeats = _shared_repeats(campaign)
    if not repeats:
        return {}
    if shared is None:
        shared = SharedProfiles.load(session, [dossier])
    profiles = shared.by_dossier.get(dossier.id, {})
    out: dict[str, dict[str, str]] = {}
    for spec, children in repeats:
        for row in answers.get(spec.id) or []:
            profile = profiles.get(str(row.get(ROW_KEY))) if isinstance(row, Mapping) else None
            if profile is None:
                continue
            for child in children:
                source = profile.sources.get(child.id)
                if source is not None and source[0] != dossier.id \
                        and child.id in profile.values \
                        and child.type.same(profile.values[child.id], row.get(child.id), child):
                    out.setdefault(str(row[ROW_KEY]), {})[child.id] = \
                        shared.names.get(source[0], "")
    return out


def _pupil_names(session: Session, profiles: Mapping[str, GuardianProfile]) -> dict[int, str]:
    ids = {s[0] for p in profiles.values() for s in p.sources.values()}
    found = session.scalars(select(Dossier).where(Dossier.id.in_(sorted(ids))))
    return {d.id: d.pupil.first_name for d in found}


def record_changes(session: Session, campaign: Campaign, dossier: Dossier,
                   before: Mapping[str, Any], after: Mapping[str, Any],
                   writer: int | None = None) -> None:
    """Remember the person-level values of the guardians' rows that a save changed, for
    their other children's dossiers; in its own transaction, after the dossier's.

    A guardian ``writer`` whose contact is confidential changes only their own profile: what
    they typed in another guardian's row would otherwise reach that guardian's other
    children's dossiers, where nothing masks it."""
    keys = imported_keys(dossier)
    hidden = {g.guardian_key for g in dossier.pupil.guardianships
              if g.account_id == writer and g.confidential_contact}
    if hidden:
        keys &= hidden
    changed: dict[str, dict[str, Any]] = {}
    for spec, children in _shared_repeats(campaign):
        old = {str(r.get(ROW_KEY)): r for r in before.get(spec.id) or []
               if isinstance(r, Mapping)}
        for row in after.get(spec.id) or []:
            key = str(row.get(ROW_KEY)) if isinstance(row, Mapping) else ""
            if key not in keys:
                continue
            previous = old.get(key, {})
            for child in children:
                if child.id in row and not child.type.same(previous.get(child.id),
                                                           row.get(child.id), child):
                    changed.setdefault(key, {})[child.id] = row.get(child.id)
    if not changed:
        return
    now = utcnow()
    try:
        profiles = _profiles(session, dossier, set(changed))
        for key, values in changed.items():
            profile = profiles.get(key)
            if profile is None:
                profile = GuardianProfile(establishment_id=dossier.pupil.establishment_id,
                                          guardian_key=key, values={}, sources={})
                session.add(profile)
            # a value carried over from a sibling's dossier keeps the dossier it was typed in
            entered = {k: v for k, v in values.items()
                       if k not in profile.values or profile.values[k] != v}
            if not entered:
                continue
            profile.values = {**profile.values, **entered}
            profile.sources = {**profile.sources,
                               **{k: [dossier.id, now.isoformat()] for k in entered}}
            profile.updated_at = now
        session.commit()
    except IntegrityError:  # the same guardian's first change saved at the same moment
        session.rollback()
        record_changes(session, campaign, dossier, before, after)
