"""The staff list of a campaign's dossiers: search, filters, sort, pages and counts.

One light query reads what the list shows (no answers but the few the regime and
memberships filters read, no snapshot); which fields changed comes from :class:`ChangeSummary`,
read for the rows shown (for every row when a filter reads the changes) and recomputed only
for dossiers saved since it was written; documents and import conflicts are
counted by two grouped queries. Filtering and sorting then run over these rows in memory:
2,000 dossiers are a few hundred kilobytes.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import lru_cache, partial
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defer

from engine.campaign.model import Campaign, FieldSpec, membership_fields
from engine.rules import VisibleFields

from .awaiting import STATES as WAITING_STATES
from .awaiting import waiting_dossiers
from .campaigns import context_of, effective_answers
from .corrected import corrected_answers
from .diff import dossier_changes
from .family import load_families
from .guardian_answers import answers_of
from .guardians import SharedProfiles, reported_elsewhere
from .models import CampaignVersion, ChangeSummary, Dossier, DossierEvent, Pupil, StoredFile
from .places import SENT, is_request, limited_fields
from .sealed import is_health
from .states import DossierState

PER_PAGE: Final = 50
#: states in which the family has answered something the school may review
REVIEWABLE: Final = frozenset({DossierState.IN_PROGRESS, DossierState.SUBMITTED,
                               DossierState.TO_CORRECT, DossierState.VALIDATED})


class Sort(StrEnum):
    NAME = "nom"
    DIVISION = "classe"
    STATE = "etat"
    SUBMITTED = "envoi"
    UPDATED = "modification"


@dataclass(frozen=True, slots=True)
class Filters:
    """What the agent asked for (every field optional; parsed from the query string by the
    web layer, and used by the exports too)."""

    q: str = ""
    state: DossierState | None = None
    level: str = ""
    division: str = ""
    has_changes: bool = False
    changed_page: str = ""
    documents: str = ""  # "" | "pending" | "refused"
    conflicts: bool = False
    #: sent dossiers with a request for an option with places not decided yet
    undecided: bool = False
    #: dossiers a guardian asked to send that wait for another guardian's answer
    waiting: bool = False
    #: a value of the campaign's regime field (:func:`regime_field`), as :func:`token` spells it
    regime: str = ""
    #: an association id: dossiers whose memberships include it
    membership: str = ""
    sort: Sort = Sort.NAME
    descending: bool = False
    page: int = 1


def parse_filters(args: Mapping[str, str]) -> Filters:
    """The filters of a query string (the list's, the exports', a job's parameters); what is
    unknown or too long is dropped, never an error."""
    try:
        state = DossierState(args.get("etat", "")) if args.get("etat") else None
    except ValueError:
        state = None
    try:
        sort = Sort(args.get("tri", Sort.NAME.value))
    except ValueError:
        sort = Sort.NAME
    page = str(args.get("page", "1"))
    documents = args.get("documents", "")
    return Filters(
        q=str(args.get("q", ""))[:100], state=state, level=str(args.get("niveau", ""))[:20],
        division=str(args.get("classe", ""))[:20], has_changes=args.get("modifie") == "1",
        changed_page=str(args.get("page_modifiee", ""))[:100],
        documents=documents if documents in {"pending", "refused"} else "",
        conflicts=args.get("conflits") == "1", undecided=args.get("a_decider") == "1",
        waiting=args.get("attente") == "1", regime=str(args.get("regime", ""))[:100],
        membership=str(args.get("adhesion", ""))[:100], sort=sort,
        descending=args.get("ordre") == "desc",
        page=int(page) if page.isascii() and page.isdigit() and len(page) < 6 else 1)


def filter_query(filters: Filters) -> dict[str, str]:
    """The query string of ``filters`` (page left out, empty values too): what
    :func:`parse_filters` reads back, what a job keeps and the audit trail records."""
    data = {"q": filters.q, "etat": filters.state.value if filters.state else "",
            "niveau": filters.level, "classe": filters.division,
            "modifie": "1" if filters.has_changes else "", "page_modifiee": filters.changed_page,
            "documents": filters.documents, "conflits": "1" if filters.conflicts else "",
            "a_decider": "1" if filters.undecided else "",
            "attente": "1" if filters.waiting else "",
            "regime": filters.regime, "adhesion": filters.membership,
            "tri": filters.sort.value if filters.sort is not Sort.NAME else "",
            "ordre": "desc" if filters.descending else ""}
    return {k: v for k, v in data.items() if v}


@dataclass(slots=True)
class Row:
    id: int
    public_id: str
    state: DossierState
    last_name: str
    first_name: str
    ine: str | None
    level: str
    division: str
    submitted_at: datetime | None
    updated_at: datetime
    changed_fields: list[str] = field(default_factory=list)
    changed_pages: list[str] = field(default_factory=list)
    documents: Counter[str] = field(default_factory=Counter)
    conflicts: int = 0
    #: the regime answer (:func:`token`), "" when unanswered
    regime: str = ""
    #: the association ids the family chose (worked out only for the filter ``adhesion``)
    memberships: frozenset[str] = frozenset()
    #: sent, with a request for an option with places not decided yet (worked out only for
    #: the filter ``a_decider``)
    undecided: bool = False
    #: waiting for a guardian's answer (worked out only for the filter ``attente``)
    waiting: bool = False


@dataclass(frozen=True, slots=True)
class Listing:
    rows: Sequence[Row]
    #: rows after filtering, before pagination
    total: int
    page: int
    pages: int
    #: counts per state of the dossiers matching every filter but the state
    state_counts: Mapping[DossierState, int]
    #: every division and level of the campaign, for the filter menus
    divisions: Sequence[str]
    levels: Sequence[str]
    #: the campaign's regime field and its values as (token, label), for the filter menu
    regime_field: FieldSpec | None = None
    regimes: Sequence[tuple[str, str]] = ()
    #: the campaign's associations as (id, label)
    associations: Sequence[tuple[str, str]] = ()


@lru_cache(maxsize=16_384)
def _fold(text: str) -> str:
    """Lower case without accents, for searching names as typed; remembered, as every listing
    sorts and searches the same few thousand names again."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                   if not unicodedata.combining(c))


def versions_of(session: Session, establishment_id: int, slug: str) -> list[CampaignVersion]:
    return list(session.scalars(select(CampaignVersion).where(
        CampaignVersion.establishment_id == establishment_id, CampaignVersion.slug == slug)))


#: the changed fields and the changed pages of a dossier, as its change summary holds them
Changes = tuple[list[str], list[str]]


#: what a change summary never reads of a dossier: where the prefill came from, the frozen
#: fees, the health answers (out of the summaries)
_NOT_SUMMARISED: Final = (defer(Dossier.provenance), defer(Dossier.computed),
                          defer(Dossier.sealed_answers))


def _summaries(session: Session, rows: Iterable[tuple[int, int, DossierState]],
               campaign_for: Callable[[Dossier], Campaign],
               include: Callable[[FieldSpec], bool] | None) -> dict[int, Changes]:
    """The changes of each reviewable dossier of ``rows`` (id, row version, state), read from
    its summary, recomputed (and stored) only where the dossier's version moved since."""
    wanted = {dossier_id: version for dossier_id, version, state in rows if state in REVIEWABLE}
    if not wanted:
        return {}
    found: dict[int, Changes] = {}
    for dossier_id, version, fields, pages in session.execute(
            select(ChangeSummary.dossier_id, ChangeSummary.row_version, ChangeSummary.fields,
                   ChangeSummary.pages).where(ChangeSummary.dossier_id.in_(list(wanted)))):
        if version == wanted[dossier_id]:
            found[dossier_id] = (fields, pages)
    stale = sorted(wanted.keys() - found.keys())
    for start in range(0, len(stale), 200):
        chunk = list(session.scalars(select(Dossier).where(
            Dossier.id.in_(stale[start:start + 200])).options(*_NOT_SUMMARISED)))
        load_families(session, chunk)  # a few statements for the chunk, none per dossier
        shared = SharedProfiles.load(session, chunk)
        fresh = [refresh_summary(session, dossier, campaign_for(dossier), include, shared)
                 for dossier in chunk]
        found.update((summary.dossier_id, (summary.fields, summary.pages))
                     for summary in fresh)
        _store(session, fresh)
    if stale:
        session.commit()
    return found


#: the columns of a change summary that a recomputation replaces
_SUMMARY_VALUES: Final = ("row_version", "fields", "pages")


def _store(session: Session, summaries: Sequence[ChangeSummary]) -> None:
    """Write recomputed summaries in one upsert, in dossier order. Two agents listing at once
    compute the same summaries: the second's write replaces the first's instead of colliding
    with the row it just inserted, and both take the rows' locks in the same order, so neither
    waits on the other in a deadlock (each was a 500 or a 503 on PostgreSQL under load).
    The statement is the same whatever the number of rows (the values are parameters): it is
    compiled once, not for each listing."""
    if not summaries:
        return
    rows = [{"dossier_id": s.dossier_id, **{name: getattr(s, name) for name in _SUMMARY_VALUES}}
            for s in sorted(summaries, key=lambda s: s.dossier_id)]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    upsert = insert(ChangeSummary)
    session.execute(upsert.on_conflict_do_update(
        index_elements=[ChangeSummary.dossier_id],
        set_={name: upsert.excluded[name] for name in _SUMMARY_VALUES}), rows)


def refresh_summary(session: Session, dossier: Dossier, campaign: Campaign,
                    include: Callable[[FieldSpec], bool] | None = None,
                    shared: SharedProfiles | None = None) -> ChangeSummary:
    """Recompute the change summary of ``dossier`` (not stored: the listing stores them).
    A page's refresh passes its guardians' profiles (``shared``), loaded with the other
    dossiers of the page."""
    ctx = context_of(dossier)
    answers = corrected_answers(dossier.answers, dossier.corrections)
    visible = VisibleFields(campaign, effective_answers(campaign, answers, ctx), ctx)
    reported = reported_elsewhere(session, campaign, dossier, answers, shared)
    per_guardian = partial(answers_of, dossier)
    pages = dossier_changes(campaign, answers, ctx, visible=visible, include=include,
                            reported=reported, per_guardian=per_guardian)
    return ChangeSummary(dossier_id=dossier.id, row_version=dossier.row_version,
                         fields=list(dict.fromkeys(c.spec.id for p in pages for c in p.changes)),
                         pages=[p.page.id for p in pages if p.changes])


def regime_field(campaign: Campaign) -> FieldSpec | None:
    """The answer that decides the canteen: the first field (in campaign order) that a
    tariff's ``applies_if`` reads (``regime`` for ``applies_if: regime in ["dp4", "dp5"]``,
    ``restauration`` for ``restauration == true``), so the filter follows the campaign
    whatever the field is called; None for a campaign without such a tariff."""

    def find() -> FieldSpec | None:
        deps: set[str] = set()
        for tariff in campaign.tariffs:
            if tariff.applies_if is not None:
                deps |= tariff.applies_if.deps
        return next((s for s in campaign.top_fields() if s.id in deps and s.type.has_value
                     and not s.type.is_container and not is_health(s)), None)

    return campaign.derived("listing.regime_field", find)


def token(value: Any) -> str:
    """A stored value as the regime filter spells it in a query string ("" for none)."""
    if value is None or value == "" or value == []:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True,
                                                           ensure_ascii=False)


def _first(*values: Any) -> Any:
    """The school's correction, else the family's answer, else what was imported."""
    return next((v for v in values if v is not None), None)


def list_dossiers(session: Session, establishment_id: int, slug: str, filters: Filters, *,
                  campaign: Campaign, campaign_for: Callable[[Dossier], Campaign],
                  include: Callable[[FieldSpec], bool] | None = None,
                  per_page: int = PER_PAGE, details: bool = True) -> Listing:
    """The page of dossiers of campaign ``slug`` in the establishment that ``filters`` ask
    for. ``campaign`` is its latest version (its regime and memberships fields are the ones
    filtered); ``campaign_for`` gives each dossier's own version, whose changes are counted;
    ``include`` leaves out of the change counts the fields the viewer may not read.

    Without ``details`` (an export, which reads only which rows and in what order), the
    changes, documents, conflicts and regime of each row are worked out only when a filter
    reads them; with them, the changes only for the rows of the page unless a filter reads
    them. The memberships and undecided requests, which no page shows, are worked out only
    for their filters."""
    versions = [v.id for v in versions_of(session, establishment_id, slug)]
    level = Dossier.prefill["pupil"]["level"].as_string()
    division = Dossier.prefill["pupil"]["division"].as_string()
    regime = regime_field(campaign)
    read_regime = regime if details or filters.regime else None
    memberships = membership_fields(campaign) if filters.membership else ()
    read: list[Any] = []
    if read_regime is not None:
        read += [Dossier.corrections[read_regime.id], Dossier.answers[read_regime.id]]
        if read_regime.prefill is not None:
            read.append(Dossier.prefill[tuple(read_regime.prefill)])
    regime_width = len(read)
    for spec in memberships:
        read += [Dossier.corrections[spec.id], Dossier.answers[spec.id]]
    limited = limited_fields(campaign) if filters.undecided else ()
    members_end = len(read)
    for spec in limited:
        read += [Dossier.corrections[spec.id], Dossier.answers[spec.id]]
    if limited:
        read.append(Dossier.place_decisions)
    base = session.execute(
        select(Dossier.id, Dossier.public_id, Dossier.state, Dossier.row_version,
               Dossier.submitted_at, Dossier.updated_at, Pupil.last_name, Pupil.first_name,
               Pupil.ine, level, division, *read)
        .join(Pupil, Pupil.id == Dossier.pupil_id)
        .where(Dossier.campaign_version_id.in_(versions), Pupil.establishment_id
               == establishment_id)).all() if versions else []
    # a filter on changes reads every row's; otherwise only the rows shown are worked out
    # (below, once the page is known): a family's save makes its summary stale, and a page
    # of 50 costs a recomputation for the few saved since among them, not for all
    every_change = bool(filters.has_changes or filters.changed_page)
    summaries = _summaries(session, ((r[0], r[3], r[2]) for r in base), campaign_for,
                           include) if every_change else {}
    documents: dict[int, Counter[str]] = {}
    conflicts: Counter[int] = Counter()
    ids = [r[0] for r in base] if details or filters.documents or filters.conflicts else []
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        for dossier_id, status, count in session.execute(
                select(StoredFile.dossier_id, StoredFile.review_status, func.count())
                .where(StoredFile.dossier_id.in_(chunk))
                .group_by(StoredFile.dossier_id, StoredFile.review_status)):
            documents.setdefault(dossier_id, Counter())[status] = count
        for dossier_id, kind, count in session.execute(
                select(DossierEvent.dossier_id, DossierEvent.kind, func.count())
                .where(DossierEvent.dossier_id.in_(chunk),
                       DossierEvent.kind.in_(["import_conflict", "import_conflict_resolved"]))
                .group_by(DossierEvent.dossier_id, DossierEvent.kind)):
            conflicts[dossier_id] += count if kind == "import_conflict" else -count
    waiting = waiting_dossiers(session, (r[0] for r in base if r[2] in WAITING_STATES),
                               campaign_for) if filters.waiting else set()
    rows = []
    regime_values: dict[str, Any] = {}
    for (dossier_id, public_id, state, _version, submitted, updated, last, first, ine, lvl,
         div, *answers) in base:
        changed, changed_pages = summaries.get(dossier_id, ([], []))
        row = Row(dossier_id, public_id, state, last, first, ine, lvl or "", div or "",
                  submitted, updated, list(changed), list(changed_pages),
                  documents.get(dossier_id, Counter()), max(0, conflicts[dossier_id]),
                  waiting=dossier_id in waiting)
        if read_regime is not None:
            correction, answer, *imported = answers[:regime_width]
            value = _first(correction, answer, *(read_regime.type.imported(v, read_regime)
                                                 for v in imported if v is not None))
            row.regime = token(value)
            regime_values.setdefault(row.regime, value)
        chosen: set[str] = set()
        rest = answers[regime_width:members_end]
        for correction, answer in zip(rest[::2], rest[1::2], strict=True):
            value = _first(correction, answer)
            if isinstance(value, list):
                chosen.update(str(a) for a in value)
        row.memberships = frozenset(chosen)
        if limited and state in SENT:
            *asked, decisions = answers[members_end:]
            row.undecided = any(
                is_request(spec, _first(correction, answer), decisions or {})
                for spec, correction, answer in zip(limited, asked[::2], asked[1::2],
                                                    strict=True))
        rows.append(row)
    any_state = replace(filters, state=None)
    matching = [r for r in rows if _matches(r, any_state)]
    counts = Counter(r.state for r in matching)
    if filters.state is not None:
        matching = [r for r in matching if r.state is filters.state]
    matching.sort(key=_sort_key(filters.sort), reverse=filters.descending)
    pages = max(1, -(-len(matching) // per_page))
    page = min(max(1, filters.page), pages)
    shown = matching[(page - 1) * per_page:page * per_page]
    if details and not every_change:
        row_versions = {r[0]: r[3] for r in base}
        changes = _summaries(session, ((r.id, row_versions[r.id], r.state) for r in shown),
                             campaign_for, include)
        for row in shown:
            changed, changed_pages = changes.get(row.id, ([], []))
            row.changed_fields, row.changed_pages = list(changed), list(changed_pages)
    return Listing(shown, len(matching), page, pages,
                   {s: counts.get(s, 0) for s in DossierState},
                   sorted({r.division for r in rows if r.division}),
                   sorted({r.level for r in rows if r.level}),
                   regime, _regimes(regime, regime_values) if regime is not None else (),
                   [(a.id, a.label.get()) for a in campaign.associations])


def _regimes(spec: FieldSpec, found: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(token, label) of every declared value of the regime field and every value found."""
    values: dict[str, Any] = {token(v): v for v in spec.type.choices(spec) or ()}
    values.update(found)
    values.pop("", None)
    return sorted(((t, spec.type.display(v, spec) or t) for t, v in values.items()),
                  key=lambda pair: _fold(pair[1]))


def _matches(row: Row, filters: Filters) -> bool:
    if filters.q:
        needle = _fold(filters.q.strip())
        if needle and needle not in _fold(f"{row.last_name} {row.first_name}") and \
                needle not in _fold(f"{row.first_name} {row.last_name}") and \
                (row.ine or "").casefold() != needle:
            return False
    if filters.state is not None and row.state is not filters.state:
        return False
    if filters.level and row.level != filters.level:
        return False
    if filters.division and row.division != filters.division:
        return False
    if filters.has_changes and not row.changed_fields:
        return False
    if filters.changed_page and filters.changed_page not in row.changed_pages:
        return False
    if filters.documents == "pending" and not row.documents.get("to_review"):
        return False
    if filters.documents == "refused" and not row.documents.get("refused"):
        return False
    if filters.regime and row.regime != filters.regime:
        return False
    if filters.membership and filters.membership not in row.memberships:
        return False
    if filters.undecided and not row.undecided:
        return False
    if filters.waiting and not row.waiting:
        return False
    return not (filters.conflicts and not row.conflicts)


def _sort_key(sort: Sort) -> Callable[[Row], Any]:
    name: Callable[[Row], Any] = lambda r: (_fold(r.last_name), _fold(r.first_name))  # noqa: E731
    return {
        Sort.NAME: name,
        Sort.DIVISION: lambda r: (r.division, *name(r)),
        Sort.STATE: lambda r: (list(DossierState).index(r.state), *name(r)),
        Sort.SUBMITTED: lambda r: (r.submitted_at is None, r.submitted_at or datetime.min,
                                   *name(r)),
        Sort.UPDATED: lambda r: (r.updated_at, *name(r)),
    }[sort]
