"""The visible answers of a dossier, as one reader may see them: the view model of the review
page, the PDF récapitulatif and, next, the staff's view and exports.

Sections follow the visible pages; entries the visible fields with a value (answers, computed
values, repeats as rows of cells). Masked cells (another guardian's confidential contact) carry
no text: each renderer words them its own way. Pure: no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from engine.campaign.model import Campaign, FieldSpec, Page, family_campaign
from engine.fields import FieldValueError
from engine.fields.common import format_date, format_money
from engine.fields.repeat import ROW_KEY
from engine.rules import Evaluation

from .models import StoredFile


class Redactor(Protocol):
    """Says which values one reader must not see (see ``engine.dossiers.campaigns.Redaction``)."""

    def masked(self, campaign: Campaign, spec: FieldSpec, row_key: str | None) -> bool: ...

    def hides_file(self, stored: StoredFile) -> bool: ...

    def hides_account(self, account_id: object) -> bool: ...


@dataclass(frozen=True, slots=True)
class Cell:
    """One child field of a repeat row."""

    spec: FieldSpec
    label: str
    text: str
    #: no answer (the PDF leaves such cells out, the review page shows a dash)
    empty: bool
    #: hidden from this reader: ``text`` is empty
    masked: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a repeat: ``index`` is its position in the stored list."""

    index: int
    cells: tuple[Cell, ...]
    #: the row's key (its identity, ``_key``)
    key: str = ""


@dataclass(frozen=True, slots=True)
class Entry:
    """One visible field of a page: its text, or its rows for a repeat (``rows`` not None)."""

    spec: FieldSpec
    label: str
    text: str = ""
    empty: bool = True
    rows: tuple[Row, ...] | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """One visible page and its entries (possibly none: a page of documents or notices)."""

    page: Page
    title: str
    entries: tuple[Entry, ...]


def field_text(spec: FieldSpec, value: Any, lang: str | None = None) -> str:
    """What a reader sees for a stored value (choice labels, formatted dates…); a value the
    field cannot read shows as stored."""
    try:
        return spec.type.display(spec.type.normalize(value, spec), spec, lang)
    except FieldValueError:
        return "" if value is None else str(value)


def money_text(value: Decimal | str) -> str:
    """An amount as stored (Decimal or its JSON text) in French: « 12,50 € »."""
    return format_money(Decimal(str(value)))


def date_text(value: date | datetime | None) -> str:
    return format_date(value) if value else ""


def _empty(spec: FieldSpec, value: Any) -> bool:
    return value is None or spec.type.is_empty(value)


def visible_answers(campaign: Campaign, evaluation: Evaluation, answers: Mapping[str, Any],
                    computed: Mapping[str, Any], *, redactor: Redactor | None = None,
                    lang: str | None = None) -> list[Section]:
    """The sections of the visible pages of ``evaluation``.

    ``answers`` are the values shown (already redacted for the reader where it matters);
    ``computed`` the computed values (live, or frozen at submission); ``redactor`` marks the
    cells this reader must not see.
    """
    sections = []
    for page in campaign.pages:
        if page.id not in evaluation.visible_pages:
            continue
        entries: list[Entry] = []
        for spec in page.fields:
            if spec.id not in evaluation.visible:
                continue
            label = spec.label.get(lang)
            if "expr" in spec.expressions:
                value = computed.get(spec.id)
            elif spec.type.is_container:
                entries.append(Entry(spec, label, rows=tuple(
                    _rows(campaign, spec, answers.get(spec.id), evaluation, redactor, lang))))
                continue
            elif spec.type.has_value:
                value = answers.get(spec.id)
            else:
                continue
            entries.append(Entry(spec, label, field_text(spec, value, lang), _empty(spec, value)))
        sections.append(Section(page, page.title.get(lang), tuple(entries)))
    return sections


def review_text(campaign: Campaign, evaluation: Evaluation, answers: Mapping[str, Any],
                lang: str | None = None) -> str:
    """The review page as plain lines: its sections (« Label : answer »), then the fees,
    memberships, total and payment schedule; for campaign tests (``expect: review``)."""
    lines: list[str] = []
    for section in visible_answers(family_campaign(campaign), evaluation, answers,
                                   evaluation.computed, lang=lang):
        lines.append(section.title)
        for entry in section.entries:
            if entry.rows is None:
                lines.append(f"{entry.label} : {entry.text}")
                continue
            lines.append(entry.label)
            lines.extend(f"{cell.label} : {cell.text}" for row in entry.rows
                         for cell in row.cells)
    money = evaluation.money()
    lines += [f"{f['label']} : {money_text(f['amount'])}" for f in money["fees"]]
    lines += [f"Adhésion : {m['label']} : {money_text(m['fee'])}" for m in money["memberships"]]
    lines.append(f"Total : {money_text(money['total'])}")
    lines += [f"{i['label']} : {money_text(i['amount'])}" for i in money["instalments"]]
    return "\n".join(lines)


def _rows(campaign: Campaign, spec: FieldSpec, value: Any, evaluation: Evaluation,
          redactor: Redactor | None, lang: str | None) -> list[Row]:
    rows = []
    for n, row in enumerate(value if isinstance(value, list) else []):
        if not isinstance(row, Mapping):
            continue
        cells = []
        for child in spec.fields:
            if not child.type.has_value or f"{spec.id}.{n}.{child.id}" not in evaluation.visible:
                continue
            label = child.label.get(lang)
            if redactor is not None and redactor.masked(campaign, child, str(row.get(ROW_KEY))):
                cells.append(Cell(child, label, "", True, masked=True))
            else:
                found = row.get(child.id)
                cells.append(Cell(child, label, field_text(child, found, lang), _empty(child, found)))
        rows.append(Row(n, tuple(cells), str(row.get(ROW_KEY) or "")))
    return rows
