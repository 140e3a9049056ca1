"""Choices with places (``places:`` on a choice's option): choosing such an option is a request
the school decides, dossier by dossier, within the option's places.

A dossier's request is its current value of the field (the school's correction winning over
the family's answer) when that value is an option with places. Its status is the school's
decision (``Dossier.place_decisions``) when the decision was made on that same value, else
"demandé": a family choosing another option (or coming back to one) makes a new request, which
``services.save_answers`` records by dropping the old decision. Only sent dossiers (submitted,
to correct, validated) are requests the school sees and decides.

The writes (a decision, in bulk too) are :func:`engine.dossiers.review.decide_place`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from engine.campaign.model import Campaign, FieldSpec

from .corrected import corrected_answers
from .models import CampaignVersion, Dossier, DossierData, Establishment
from .states import DossierState


class PlaceStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    WAITING = "waiting"
    REFUSED = "refused"


#: what families and staff read for each status
STATUS_LABELS: Final[Mapping[PlaceStatus, str]] = {
    PlaceStatus.REQUESTED: "demandé",
    PlaceStatus.ACCEPTED: "accepté",
    PlaceStatus.WAITING: "liste d'attente",
    PlaceStatus.REFUSED: "refusé",
}

#: the states of a dossier whose requests the school sees and decides (sent at least once)
SENT: Final = frozenset({DossierState.SUBMITTED, DossierState.TO_CORRECT,
                         DossierState.VALIDATED})


@dataclass(frozen=True, slots=True)
class PlaceRequest:
    """One dossier's request for an option with places."""

    spec: FieldSpec
    value: str
    places: int
    status: PlaceStatus

    @property
    def option_label(self) -> str:
        return self.spec.type.display(self.value, self.spec)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def limited_fields(campaign: Campaign) -> tuple[FieldSpec, ...]:
    """The top-level fields with at least one option with places, in campaign order."""
    return tuple(s for s in campaign.top_fields() if s.type.limited_places(s))


def current_values(dossier: DossierData) -> dict[str, Any]:
    """The answers as the school reads them: its corrections win."""
    return corrected_answers(dossier.answers, dossier.corrections)


def _request(spec: FieldSpec, value: Any, decision: Any) -> PlaceRequest | None:
    places = spec.type.limited_places(spec).get(value) if isinstance(value, str) else None
    if places is None:
        return None
    status = PlaceStatus.REQUESTED
    if isinstance(decision, Mapping) and decision.get("value") == value:
        try:
            status = PlaceStatus(str(decision.get("status")))
        except ValueError:
            status = PlaceStatus.REQUESTED
    return PlaceRequest(spec, value, places, status)


def is_request(spec: FieldSpec, value: Any, decisions: Mapping[str, Any]) -> bool:
    """Whether ``value`` of ``spec`` is a request the school has not decided yet."""
    request = _request(spec, value, decisions.get(spec.id))
    return request is not None and request.status is PlaceStatus.REQUESTED


def requests_of(campaign: Campaign, dossier: DossierData) -> list[PlaceRequest]:
    """The dossier's requests, in campaign order (none when no option with places is chosen)."""
    values = current_values(dossier)
    decisions = dossier.place_decisions or {}
    found = (_request(s, values.get(s.id), decisions.get(s.id)) for s in limited_fields(campaign))
    return [r for r in found if r is not None]


def request_for(campaign: Campaign, dossier: DossierData, field_id: str) -> PlaceRequest | None:
    return next((r for r in requests_of(campaign, dossier) if r.spec.id == field_id), None)


def kept_decisions(decisions: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The decisions still on the value they were made on (the others are reset)."""
    return {key: d for key, d in decisions.items()
            if isinstance(d, Mapping) and values.get(key) == d.get("value")}


@dataclass
class OptionRequests:
    """The requests for one option with places, in the order the dossiers were sent."""

    spec: FieldSpec
    value: str
    label: str
    places: int
    rows: list[tuple[Dossier, PlaceRequest]] = field(default_factory=list)

    def count(self, status: PlaceStatus) -> int:
        return sum(1 for _, r in self.rows if r.status is status)

    @property
    def accepted(self) -> int:
        return self.count(PlaceStatus.ACCEPTED)

    @property
    def left(self) -> int:
        return max(self.places - self.accepted, 0)

    @property
    def key(self) -> str:
        return f"{self.spec.id}--{self.value}"


def accepted_now(session: Session, dossier: Dossier, field_id: str, value: str) -> int:
    """How many other dossiers of ``dossier``'s campaign hold an acceptance of ``value`` for
    ``field_id``, read under a lock that serialises the school's acceptances in the
    establishment (a no-op UPDATE of its row: the row lock on PostgreSQL, the write lock on
    SQLite), so that two agents accepting at once are counted one after the other. The lock
    is held until the caller's transaction ends."""
    version = dossier.campaign_version
    session.execute(update(Establishment).where(Establishment.id == version.establishment_id)
                    .values(id=Establishment.id))
    decisions = session.scalars(
        select(Dossier.place_decisions).join(CampaignVersion)
        .where(CampaignVersion.establishment_id == version.establishment_id,
               CampaignVersion.slug == version.slug, Dossier.id != dossier.id,
               Dossier.state.in_(tuple(SENT))))
    return sum(1 for found in decisions
               if (found or {}).get(field_id) == {"value": value,
                                                   "status": PlaceStatus.ACCEPTED.value})


def sent_dossiers(session: Session, versions: Iterable[CampaignVersion]) -> list[Dossier]:
    """The sent dossiers of the campaign's versions, first sent first."""
    ids = [v.id for v in versions]
    return list(session.scalars(
        select(Dossier).where(Dossier.campaign_version_id.in_(ids),
                              Dossier.state.in_(tuple(SENT)))
        .options(selectinload(Dossier.pupil)).order_by(Dossier.submitted_at, Dossier.id)))


def requests_by_option(campaign: Campaign, dossiers: Iterable[Dossier]) -> list[OptionRequests]:
    """Every option with places of ``campaign`` (its latest version) and its requests among
    ``dossiers`` (sent ones, in order), options without a request included."""
    options: dict[tuple[str, str], OptionRequests] = {}
    for spec in limited_fields(campaign):
        for value, places in spec.type.limited_places(spec).items():
            options[spec.id, value] = OptionRequests(spec, value, spec.type.display(value, spec),
                                                     places)
    for dossier in dossiers:
        for request in requests_of(campaign, dossier):
            options[request.spec.id, request.value].rows.append((dossier, request))
    return list(options.values())
