"""What the family changed of what the school knew: the heart of the school's side.

Every comparison goes through the field types' ``diff`` hook (normalised per type: "06 12 34 56
78" equals "+33612345678"; repeat rows matched by their imported identity), so the dossier view,
the changes-only export and the SIECLE return agree on what changed. Each before-value carries
its provenance (file, element, import date); each after-value who wrote it and when, from the
event log.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from engine.campaign.model import Campaign, FieldSpec, Page
from engine.fields import Change
from engine.rules import DossierContext, DossierScope, prefill_value

from .corrected import cell_key
from .guardian_answers import GuardianAnswer
from .models import DossierEvent

#: each guardian's answers to a per-guardian field (``guardian_answers.answers_of``)
GuardianReader = Callable[[FieldSpec], Sequence[GuardianAnswer]]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value the school knew came from."""

    source_file: str
    element: str
    imported_at: str
    line: int | None = None

    @classmethod
    def of(cls, data: Any) -> Origin | None:
        if not isinstance(data, Mapping) or not data.get("source_file"):
            return None
        line = data.get("line")
        return cls(str(data["source_file"]), str(data.get("element") or ""),
                   str(data.get("imported_at") or ""), line if isinstance(line, int) else None)


@dataclass(frozen=True, slots=True)
class Authorship:
    """Who last wrote a field (an actor kind and id, as events record them), and when."""

    actor_kind: str
    actor_id: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changed field: the type's :class:`Change` (with row children for repeats), where the
    old value came from, and who wrote the new one."""

    spec: FieldSpec
    change: Change
    origin: Origin | None = None
    #: origins of the rows of a repeat, by row key
    row_origins: Mapping[str, Origin] | None = None
    written: Authorship | None = None
    #: the cells of a repeat's rows the school corrected, (row key, child id) → who and when
    corrected: Mapping[tuple[str, str], Authorship] | None = None


@dataclass(frozen=True, slots=True)
class ReportedChange:
    """A guardian's change shown in this dossier but reviewed in the sibling's dossier where
    it was typed: "Téléphone portable (Responsable légal 1), déjà signalé dans le dossier de
    Léa"."""

    row: str
    field: str
    pupil: str


@dataclass(frozen=True, slots=True)
class PageChanges:
    page: Page
    changes: tuple[FieldChange, ...]
    #: changes left out because another dossier of the same guardian reports them
    reported: tuple[ReportedChange, ...] = ()


def _without_reported(change: Change, reported: Mapping[str, Mapping[str, str]],
                      ) -> tuple[Change | None, list[ReportedChange]]:
    """``change`` of a repeat without the row fields listed in ``reported`` (by row key, then
    field id); None when nothing else changed. Added and removed rows always stay."""
    rows: list[Change] = []
    left: list[ReportedChange] = []
    for row in change.children:
        elsewhere = reported.get(row.field_id, {})
        kept = tuple(c for c in row.children if c.field_id not in elsewhere)
        left += [ReportedChange(row.label, c.label, elsewhere[c.field_id])
                 for c in row.children if c.field_id in elsewhere]
        if kept or not row.children:
            rows.append(replace(row, children=kept) if row.children else row)
    return (replace(change, children=tuple(rows)) if rows else None), left


def known_values(campaign: Campaign, ctx: DossierContext,
                 only: Container[str] | None = None) -> dict[str, Any]:
    """What the school knew, field by field (prefilled fields only, or those of ``only``),
    in the stored form."""
    scope = DossierScope(campaign, {}, ctx)
    known: dict[str, Any] = {}
    for spec in _prefilled(campaign):
        if only is not None and spec.id not in only:
            continue
        known[spec.id] = scope.imported_rows(spec) if spec.type.is_container \
            else prefill_value(spec, ctx)
    return known


def _prefilled(campaign: Campaign) -> tuple[FieldSpec, ...]:
    """The top-level fields with a value and a prefill, once per campaign (the diff of
    thousands of dossiers would walk every field of each)."""
    return campaign.derived("diff.prefilled", lambda: tuple(
        s for s in campaign.top_fields() if s.prefill is not None and s.type.has_value))


def last_writers(events: Iterable[DossierEvent]) -> dict[str, Authorship]:
    """Field id → the last event that saved it (``answers_saved`` and staff corrections)."""
    out: dict[str, Authorship] = {}
    for event in events:
        if event.kind in {"answers_saved", "value_corrected"}:
            for field_id in event.data.get("fields") or ():
                out[str(field_id)] = Authorship(event.actor_kind, event.actor_id, event.at)
    return out


def cell_writers(events: Iterable[DossierEvent], corrections: Container[str],
                 ) -> dict[str, dict[tuple[str, str], Authorship]]:
    """Repeat id → (row key, child id) → the school's last correction of that cell, for the
    cells still corrected (the family's newer answer took the others back)."""
    out: dict[str, dict[tuple[str, str], Authorship]] = {}
    for event in events:
        row = event.data.get("row") if event.kind == "value_corrected" else None
        if row is None:
            continue
        for key in event.data.get("fields") or ():
            repeat_id, _, child_id = str(key).partition(".")
            if cell_key(repeat_id, str(row), child_id) in corrections:
                out.setdefault(repeat_id, {})[(str(row), child_id)] = Authorship(
                    event.actor_kind, event.actor_id, event.at)
    return out


def _row_origins(spec: FieldSpec, ctx: DossierContext,
                 provenance: Mapping[str, Any]) -> dict[str, Origin]:
    """Row key → the provenance of the imported row (its first known value's source)."""
    rows = prefill_value(spec, ctx)
    if not isinstance(rows, list) or spec.prefill is None:
        return {}
    root = ".".join(spec.prefill)
    out: dict[str, Origin] = {}
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            continue
        key = spec.type.row_key(row, spec) or f"row{index + 1}"  # type: ignore[attr-defined]
        prefix = f"{root}[{index}]."
        origin = next((o for k, v in provenance.items() if k.startswith(prefix)
                       if (o := Origin.of(v)) is not None), None)
        if origin is not None:
            out[key] = origin
    return out


def dossier_changes(campaign: Campaign, answers: Mapping[str, Any], ctx: DossierContext, *,
                    before: Mapping[str, Any] | None = None,
                    provenance: Mapping[str, Any] | None = None,
                    events: Sequence[DossierEvent] = (),
                    visible: Container[str] | None = None,
                    include: Callable[[FieldSpec], bool] | None = None,
                    reported: Mapping[str, Mapping[str, str]] | None = None,
                    corrections: Container[str] = (),
                    per_guardian: GuardianReader | None = None,
                    since: datetime | None = None,
                    lang: str | None = None) -> list[PageChanges]:
    """The changed fields of ``answers`` (stored, without the prefill filled in), grouped by
    page in campaign order.

    ``before`` is what the answers are compared with: by default what the school knew
    (:func:`known_values`: prefilled fields only); a snapshot of earlier answers gives "what
    changed since the school last looked". A field the family never answered is unchanged.
    ``visible`` limits the diff to fields shown to the family (asked only about the fields
    answered and known, so it may work their visibility out lazily); ``include`` to fields the
    viewer may read (health data); ``reported`` (from
    :func:`engine.dossiers.guardians.reported_elsewhere`) leaves out the guardians' changes
    another of their children's dossiers reports, listed in :attr:`PageChanges.reported`;
    ``corrections`` (the keys of ``Dossier.corrections``) marks the cells of repeat rows the
    school corrected (:attr:`FieldChange.corrected`). ``per_guardian`` reads each guardian's
    answers to the per-guardian fields: one change per guardian who answered (« Attestation –
    Marie DUPONT »), against what the school knew, or only those given after ``since`` (when
    the school last looked).
    """
    before = known_values(campaign, ctx, answers) if before is None else before
    provenance = provenance or {}
    writers = last_writers(events)
    cells = cell_writers(events, corrections)
    pages = []
    for page in campaign.pages:
        changes = []
        elsewhere: list[ReportedChange] = []
        for spec in page.fields:
            # what is free to test first: ``visible`` may work visibility out when asked
            if include is not None and not include(spec):
                continue
            if spec.per_guardian:
                if per_guardian is not None and (visible is None or spec.id in visible):
                    changes += _guardian_changes(spec, per_guardian(spec), ctx, since, lang)
                continue
            if spec.id not in before or spec.id not in answers or not spec.type.has_value or \
                    (visible is not None and spec.id not in visible):
                continue
            change = spec.type.diff(before[spec.id], answers[spec.id], spec, lang)
            if change is not None and reported and spec.type.is_container:
                change, left = _without_reported(change, reported)
                elsewhere += left
            if change is None:
                continue
            origin = None
            if spec.prefill is not None and not spec.type.is_container:
                origin = Origin.of(provenance.get(".".join(spec.prefill)))
            changes.append(FieldChange(
                spec, change, origin,
                _row_origins(spec, ctx, provenance) if spec.type.is_container else None,
                writers.get(spec.id), cells.get(spec.id)))
        if changes or elsewhere:
            pages.append(PageChanges(page, tuple(changes), tuple(elsewhere)))
    return pages


def _guardian_changes(spec: FieldSpec, answers: Sequence[GuardianAnswer], ctx: DossierContext,
                      since: datetime | None, lang: str | None) -> list[FieldChange]:
    known = prefill_value(spec, ctx)
    out = []
    for answer in answers:
        if answer.at is None or (since is not None and answer.at <= since):
            continue
        change = spec.type.diff(known, answer.value, spec, lang)
        if change is not None:
            out.append(FieldChange(
                spec, replace(change, label=f"{change.label} – {answer.name}"),
                written=Authorship("family", str(answer.guardianship.account_id), answer.at)))
    return out


def changed_field_ids(pages: Iterable[PageChanges]) -> set[str]:
    return {c.spec.id for p in pages for c in p.changes}
