"""The figures of a campaign the school (and the team running the platform) report: take-up,
dossiers sent per day, satisfaction, time to complete, what families change, why documents
are refused.

Dossiers and people are counted apart: each guardian rates for themselves, so a dossier is
"rated" when at least one of its guardians rated it, and the satisfaction figures count
ratings (people). Which fields changed comes from the staff diff's summaries
(:func:`engine.dossiers.listing.list_dossiers`), which never hold health fields.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.campaign.model import Campaign

from .feedback import SCORES
from .invitations import PARIS
from .listing import Filters, Row, list_dossiers
from .models import Dossier, DossierEvent, SatisfactionRating
from .review import REFUSAL_LABELS, RefusalReason
from .sealed import not_health
from .states import ActorKind, DossierState

#: one page holding every dossier
ALL: Final = 10_000_000
#: comments shown on the dashboard
LATEST_COMMENTS: Final = 5
#: fields listed among the most changed
MOST_CHANGED: Final = 10
CHUNK: Final = 1000
_K = TypeVar("_K")


def percent(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` in whole percent, rounded half up (None for nothing to count)."""
    if not whole:
        return None
    return int((Decimal(100 * part) / whole).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    #: dossiers sent for the first time that day
    sent: int
    #: dossiers sent by the end of that day
    cumulative: int


@dataclass(frozen=True, slots=True)
class Comment:
    at: datetime
    score: int
    text: str


@dataclass(frozen=True, slots=True)
class Statistics:
    """Raw counts of one campaign (or several, :func:`combined`); the rates are derived."""

    #: every dossier of the campaign, per state
    states: Mapping[DossierState, int]
    #: dossiers opened to families (all but those leaving the school)
    opened: int
    #: of those, dossiers sent at least once
    sent: int
    #: first sendings per Paris day
    sent_on: Mapping[date, int]
    #: ratings (people) per score, 1 to 5
    scores: Mapping[int, int]
    #: dossiers with at least one rating, with at least one comment
    rated_dossiers: int
    commented_dossiers: int
    #: ratings with a comment (people)
    comments: int
    #: first action of the family → first sending, per dossier sent
    completion: Sequence[timedelta]
    #: field label → dossiers where it changed (health fields never)
    changed: Mapping[str, int]
    #: refusal reason label → documents refused for it
    refusals: Mapping[str, int]
    latest_comments: Sequence[Comment] = field(default_factory=tuple)

    @property
    def dossiers(self) -> int:
        return sum(self.states.values())

    @property
    def take_up(self) -> int | None:
        return percent(self.sent, self.opened)

    @property
    def ratings(self) -> int:
        return sum(self.scores.values())

    @property
    def average(self) -> Decimal | None:
        """The mean score to one decimal (4,5 / 5)."""
        if not self.ratings:
            return None
        total = sum(score * n for score, n in self.scores.items())
        return (Decimal(total) / self.ratings).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def response_rate(self) -> int | None:
        """Dossiers sent that at least one guardian rated."""
        return percent(self.rated_dossiers, self.sent)

    @property
    def comment_rate(self) -> int | None:
        """Ratings that came with a comment."""
        return percent(self.comments, self.ratings)

    @property
    def median_completion(self) -> timedelta | None:
        if not self.completion:
            return None
        ordered = sorted(self.completion)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1]
                                                         + ordered[middle]) / 2

    def days(self) -> list[Day]:
        """Every day from the first sending to the last (days without one included)."""
        if not self.sent_on:
            return []
        day, last = min(self.sent_on), max(self.sent_on)
        out, total = [], 0
        while day <= last:
            total += self.sent_on.get(day, 0)
            out.append(Day(day, self.sent_on.get(day, 0), total))
            day += timedelta(days=1)
        return out

    def most_changed(self, limit: int = MOST_CHANGED) -> list[tuple[str, int]]:
        return sorted(self.changed.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def _paris_day(at: datetime) -> date:
    """The day a stored time (UTC) falls on at the school."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(PARIS).date()


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


def _labels(campaign: Campaign) -> dict[str, str]:
    return {spec.id: spec.label.get() for spec in campaign.top_fields()}


def campaign_statistics(session: Session, rows: Sequence[Row], *, latest: Campaign,
                        ) -> Statistics:
    """The figures of a campaign from its dossier list (every dossier, unfiltered: see
    :func:`rows_of`); ``latest``, its current version, names the fields."""
    ids = [r.id for r in rows]
    opened = [r for r in rows if r.state is not DossierState.LEAVING]
    first_sent: dict[int, datetime] = {}
    first_family: dict[int, datetime] = {}
    refusals: Counter[str] = Counter()
    ratings: list[tuple[int, int, str | None, datetime]] = []
    for chunk in _chunks(ids):
        for dossier_id, kind, at, data in session.execute(
                select(DossierEvent.dossier_id, DossierEvent.kind, DossierEvent.at,
                       DossierEvent.data)
                .where(DossierEvent.dossier_id.in_(chunk),
                       DossierEvent.kind.in_(["state_changed", "document_decided"]))):
            if kind == "state_changed" and data.get("to") == DossierState.SUBMITTED.value:
                if dossier_id not in first_sent or at < first_sent[dossier_id]:
                    first_sent[dossier_id] = at
            elif kind == "document_decided" and data.get("to") == "refused":
                reason = data.get("reason")
                refusals[REFUSAL_LABELS[RefusalReason(reason)]
                         if reason in set(RefusalReason) else "Sans motif"] += 1
        first_family.update((i, at) for i, at in session.execute(
            select(DossierEvent.dossier_id, func.min(DossierEvent.at))
            .where(DossierEvent.dossier_id.in_(chunk),
                   DossierEvent.actor_kind == ActorKind.FAMILY.value)
            .group_by(DossierEvent.dossier_id)))
        ratings += [(i, score, comment, at) for i, score, comment, at in session.execute(
            select(SatisfactionRating.dossier_id, SatisfactionRating.score,
                   SatisfactionRating.comment, SatisfactionRating.created_at)
            .where(SatisfactionRating.dossier_id.in_(chunk)))]
    opened_ids = {r.id for r in opened}
    sent = [i for i in opened_ids if i in first_sent]
    valid = [r for r in ratings if str(r[1]) in SCORES]
    commented = [r for r in valid if r[2] and r[2].strip()]
    labels = _labels(latest)
    changed = Counter(labels.get(f, f) for r in rows for f in set(r.changed_fields))
    return Statistics(
        states=Counter(r.state for r in rows), opened=len(opened), sent=len(sent),
        sent_on=Counter(_paris_day(first_sent[i]) for i in sent),
        scores={s: sum(1 for r in valid if r[1] == s) for s in range(1, 6)},
        rated_dossiers=len({r[0] for r in valid}),
        commented_dossiers=len({r[0] for r in commented}), comments=len(commented),
        completion=[first_sent[i] - first_family[i] for i in sent
                    if i in first_family and first_family[i] <= first_sent[i]],
        changed=changed, refusals=refusals,
        latest_comments=[Comment(at, score, (text or "").strip()) for _, score, text, at in
                         sorted(commented, key=lambda r: r[3], reverse=True)[:LATEST_COMMENTS]])


def rows_of(session: Session, establishment_id: int, slug: str, campaign: Campaign,
            campaign_for: Callable[[Dossier], Campaign]) -> Sequence[Row]:
    """Every dossier of the campaign as the staff list reads it (change summaries without
    health fields); ``campaign`` is its latest version."""
    return list_dossiers(session, establishment_id, slug, Filters(), campaign=campaign,
                         campaign_for=campaign_for, include=not_health, per_page=ALL).rows


def combined(parts: Sequence[Statistics]) -> Statistics:
    """The figures of several campaigns together (the medians from every dossier)."""

    def total(get: Callable[[Statistics], Mapping[_K, int]]) -> Counter[_K]:
        out: Counter[_K] = Counter()
        for part in parts:
            out.update(get(part))
        return out

    return Statistics(
        states=total(lambda s: s.states), opened=sum(s.opened for s in parts),
        sent=sum(s.sent for s in parts), sent_on=total(lambda s: s.sent_on),
        scores=total(lambda s: s.scores), rated_dossiers=sum(s.rated_dossiers for s in parts),
        commented_dossiers=sum(s.commented_dossiers for s in parts),
        comments=sum(s.comments for s in parts),
        completion=[d for s in parts for d in s.completion], changed=total(lambda s: s.changed),
        refusals=total(lambda s: s.refusals),
        latest_comments=sorted((c for s in parts for c in s.latest_comments),
                               key=lambda c: c.at, reverse=True)[:LATEST_COMMENTS])
