"""Who joined which association (foyer socio-éducatif, association sportive…): the lists the
school hands over, with the fees, from the figures frozen at submission."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from engine.diagnostics import EngineError
from engine.dossiers.models import CampaignVersion, Dossier
from engine.dossiers.recompute import frozen_money
from engine.dossiers.states import LABELS, DossierState
from engine.dossiers.versions import CampaignCache, latest_version

from .tables import csv_bytes

#: dossiers whose answers the family confirmed: their memberships count
COUNTED = (DossierState.SUBMITTED, DossierState.VALIDATED)
CSV_HEADER = ("Nom", "Prénom", "Classe", "Cotisation (€)", "Dossier")


class UnknownCampaignError(EngineError, LookupError):
    """No campaign version is stored under that identifier."""


@dataclass(frozen=True, slots=True)
class Member:
    last_name: str
    first_name: str
    division: str
    fee: Decimal
    state: DossierState


@dataclass(frozen=True, slots=True)
class Roster:
    association_id: str
    label: str
    members: tuple[Member, ...]

    @property
    def total(self) -> Decimal:
        return sum((m.fee for m in self.members), Decimal(0))


def membership_rosters(session: Session, slug: str, campaigns: CampaignCache | None = None,
                       ) -> list[Roster]:
    """One roster per association of the campaign ``slug`` (in the campaign's order, empty ones
    included), listing the pupils of sent or validated dossiers who joined it.

    :raises UnknownCampaignError: when no version of ``slug`` is stored.
    """
    campaigns = campaigns or CampaignCache()
    latest = latest_version(session, slug)
    if latest is None:
        raise UnknownCampaignError(slug)
    labels = {a.id: a.label.get(None) for a in campaigns.campaign_of(latest).associations}
    members: dict[str, list[Member]] = {key: [] for key in labels}
    dossiers = session.scalars(
        select(Dossier).join(Dossier.campaign_version)
        .where(CampaignVersion.slug == slug, Dossier.state.in_(COUNTED))
        .options(joinedload(Dossier.pupil), joinedload(Dossier.campaign_version)))
    for dossier in dossiers:
        money = frozen_money(dossier, campaigns.campaign_of(dossier.campaign_version))
        pupil_record = dossier.prefill.get("pupil")
        division = pupil_record.get("division") if isinstance(pupil_record, dict) else None
        for chosen in money.get("memberships", []):
            key = str(chosen["association"])
            # an association dropped by a later version still lists who joined it then
            labels.setdefault(key, str(chosen["label"]))
            members.setdefault(key, []).append(Member(
                dossier.pupil.last_name, dossier.pupil.first_name, str(division or ""),
                Decimal(str(chosen["fee"])), dossier.state))
    return [Roster(key, labels[key], tuple(sorted(
        found, key=lambda m: (m.last_name.casefold(), m.first_name.casefold()))))
        for key, found in members.items()]


def roster_csv(roster: Roster) -> bytes:
    """The roster for a spreadsheet (amounts with a decimal comma, as French Excel reads them)."""
    return csv_bytes(CSV_HEADER, ((m.last_name, m.first_name, m.division,
                                   f"{m.fee:.2f}".replace(".", ","), LABELS[m.state])
                                  for m in roster.members))


def write_rosters(folder: Path, rosters: Sequence[Roster], slug: str) -> list[Path]:
    """One CSV per association in ``folder`` (mode 0600: pupils' names), replaced if present."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for roster in rosters:
        name = re.sub(r"[^A-Za-z0-9_-]", "-", f"adhesions-{slug}-{roster.association_id}")
        path = folder / f"{name}.csv"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(roster_csv(roster))
        paths.append(path)
    return paths
