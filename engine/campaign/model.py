"""Stage 4 of the campaign pipeline: the frozen, typed campaign model everything else reads."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar, cast

from engine.diagnostics import Diagnostic, Location
from engine.expr import Expression, Scope
from engine.fields.base import FieldType
from engine.text import EMPTY, LocalText

T = TypeVar("T")

#: the mark of health data (``restricted: health``), the only restriction there is
HEALTH = "health"


@dataclass(frozen=True, slots=True)
class Condition:
    """An expression written by the author, with where it was written."""

    expression: Expression
    location: Location

    @property
    def source(self) -> str:
        return self.expression.source

    @property
    def deps(self) -> frozenset[str]:
        return self.expression.deps

    def test(self, scope: Scope) -> bool:
        return self.expression.test(scope)

    def value(self, scope: Scope) -> Any:
        return self.expression.evaluate(scope)


@dataclass(frozen=True, slots=True)
class ValidationRule:
    rule: Condition
    message: LocalText


@dataclass(frozen=True, slots=True)
class FieldSpec:
    id: str
    type: FieldType[Any]
    label: LocalText
    help: LocalText = EMPTY
    required: bool | Condition = False
    visible_if: Condition | None = None
    readonly_if: Condition | None = None
    #: path into the imported record (``pupil.last_name``) or last year's dossier (``previous.x``)
    prefill: tuple[str, ...] | None = None
    #: False: shown and locked for families; only staff change it
    editable: bool = True
    on_hide: str = "clear"
    validate: tuple[ValidationRule, ...] = ()
    #: compiled expression options of the type (``expr`` of a computed field)
    expressions: Mapping[str, Condition] = field(default_factory=dict)
    #: the type's own options, as the type's ``compile_options`` built them; hooks read them
    #: typed, through ``type.options(spec)``
    options: Any = None
    #: nested fields of a repeat
    fields: tuple[FieldSpec, ...] = ()
    page_id: str = ""
    #: id of the enclosing repeat, when the field is inside one
    parent_id: str | None = None
    #: ``"health"`` for health data (its own mark, its page's or its repeat's), else None
    restricted: str | None = None
    pointer: str = ""
    location: Location = field(default_factory=Location)
    #: decided by the school (notes, destination class…): never shown to nor taken from families
    staff_only: bool = False
    #: ``scope: per_guardian``: each legal guardian answers for themselves under their own login
    #: (its own mark or its page's); never inside a repeat, never read by an expression
    per_guardian: bool = False
    #: ``required: all_guardians``: the dossier is sent only once every guardian holding a
    #: login on it has answered (``required`` is then true for each guardian)
    all_guardians: bool = False

    @property
    def key(self) -> str:
        """Qualified id: ``guardians.email`` inside a repeat, else the id."""
        return f"{self.parent_id}.{self.id}" if self.parent_id else self.id

    def walk(self) -> Iterator[FieldSpec]:
        yield self
        for child in self.fields:
            yield from child.walk()


#: the row number in an answer's key (``responsables.0.nom``)
_ROW_INDEX = re.compile(r"\.\d+(?=\.|$)")


def unindexed(key: str) -> str:
    """The field key of an answer's key: ``responsables.0.nom`` (one row of a repeat) as
    ``responsables.nom`` (any row)."""
    return _ROW_INDEX.sub("", key)


@dataclass(frozen=True, slots=True)
class Page:
    id: str
    title: LocalText
    intro: LocalText = EMPTY
    visible_if: Condition | None = None
    fields: tuple[FieldSpec, ...] = ()
    #: show the list of documents to upload on this page
    documents: bool = False
    #: ``"health"``: every field of the page is health data
    restricted: str | None = None
    pointer: str = ""
    location: Location = field(default_factory=Location)


@dataclass(frozen=True, slots=True)
class Bracket:
    """Applies to values up to ``up_to`` included (None: no upper bound)."""

    up_to: Decimal | None
    amount: Decimal
    label: str


@dataclass(frozen=True, slots=True)
class BracketTable:
    on: Condition
    on_label: LocalText
    brackets: tuple[Bracket, ...]
    #: bracket used when the value is missing (e.g. no quotient familial given): the last one
    default_label: str | None = None

    def pick(self, value: Decimal | None) -> Bracket:
        if value is None:
            if self.default_label is not None:
                return next(b for b in self.brackets if b.label == self.default_label)
            return self.brackets[-1]
        for bracket in self.brackets:
            if bracket.up_to is None or value <= bracket.up_to:
                return bracket
        return self.brackets[-1]


@dataclass(frozen=True, slots=True)
class Multiplier:
    by: Condition
    label: LocalText


@dataclass(frozen=True, slots=True)
class Reduction:
    id: str
    label: LocalText
    when: Condition
    percent: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Tariff:
    id: str
    label: LocalText
    applies_if: Condition | None
    #: a fixed unit amount, or a bracket table
    amount: Decimal | None
    brackets: BracketTable | None
    multipliers: tuple[Multiplier, ...]
    reductions: tuple[Reduction, ...]
    exempt_if: Condition | None
    exempt_label: LocalText
    help: LocalText = EMPTY
    pointer: str = ""
    location: Location = field(default_factory=Location)

    @property
    def conditions(self) -> Iterator[Condition]:
        if self.applies_if:
            yield self.applies_if
        if self.brackets:
            yield self.brackets.on
        yield from (m.by for m in self.multipliers)
        yield from (r.when for r in self.reductions)
        if self.exempt_if:
            yield self.exempt_if


@dataclass(frozen=True, slots=True)
class AssociationPrice:
    """The fee of an association when ``when`` holds (the AS at 5 € for boursiers)."""

    when: Condition
    fee: Decimal


@dataclass(frozen=True, slots=True)
class Association:
    id: str
    label: LocalText
    description: LocalText
    #: the fee, unless a price applies or the family gives the amount
    fee: Decimal
    required: bool
    available_if: Condition | None
    pointer: str = ""
    location: Location = field(default_factory=Location)
    #: prices by condition, the first that holds replaces ``fee``
    prices: tuple[AssociationPrice, ...] = ()
    #: the amount the family gives (a donation): a number expression, usually a field's id
    fee_from: Condition | None = None

    @property
    def conditions(self) -> Iterator[Condition]:
        if self.available_if:
            yield self.available_if
        yield from (p.when for p in self.prices)
        if self.fee_from:
            yield self.fee_from


@dataclass(frozen=True, slots=True)
class Payment:
    """How the school's fees are paid: in instalments (the total split equally, the rounding
    on the last), and how (the answer of a choice field: prélèvement, chèque…)."""

    instalments: tuple[LocalText, ...]
    #: id of the top-level choice field holding the payment mode
    mode: str | None = None
    pointer: str = ""
    location: Location = field(default_factory=Location)


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    id: str
    label: LocalText
    help: LocalText
    required: bool
    required_if: Condition | None
    #: why the document is asked, shown to the family (defaults to the condition in words)
    reason: LocalText
    accept: tuple[str, ...]
    max_size: int
    max_files: int
    #: path of a file to download, fill in and upload back
    template: str | None
    #: the family gives the document's date, which must be at most this many months old
    max_age_months: int | None
    #: id of the top-level repeat whose every row is asked this document (``for_each``):
    #: ``required_if`` is then read in each row, and each row's files are a slot of their own
    for_each: str | None = None
    #: ids of the row's fields naming the row in the document's label (``row_label``)
    row_label: tuple[str, ...] = ()
    pointer: str = ""
    location: Location = field(default_factory=Location)


#: between a document id and a row key in the slot of a per-row document
#: (``justificatif_identite~1001``); document ids never hold it (they are ``[a-z0-9_]``)
SLOT_SEPARATOR = "~"


def document_slot(document_id: str, row_key: str | None) -> str:
    """The slot of a document: its id, or ``<id>~<row key>`` for one row of a ``for_each``
    document. Files and declared dates are stored under it, so each row's files follow the
    row's stable key (the one the diff matches rows by), whatever its position."""
    return document_id if row_key is None else f"{document_id}{SLOT_SEPARATOR}{row_key}"


def slot_parts(slot: str) -> tuple[str, str | None]:
    """``(document id, row key or None)`` of a slot made by :func:`document_slot`."""
    document_id, sep, row_key = slot.partition(SLOT_SEPARATOR)
    return document_id, (row_key if sep else None)


@dataclass(frozen=True, slots=True)
class CampaignTest:
    name: str
    today: date | None
    prefill: Mapping[str, Any]
    family: Mapping[str, Any]
    answers: Mapping[str, Any]
    expect: Mapping[str, Any]
    pointer: str = ""
    location: Location = field(default_factory=Location)
    #: the answers start from the prefill, as the family's form does
    from_prefill: bool = False


#: days after ``closes`` before a campaign's personal data is deleted, when the file says not
#: (a year: next June's campaign can still prefill from this year's dossiers)
DEFAULT_RETENTION_DAYS = 365


@dataclass(frozen=True, slots=True)
class Contact:
    """Someone families may write to about their data (the DPO)."""

    name: str | None = None
    email: str | None = None
    address: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Establishment:
    uai: str
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    website: str | None = None
    #: the RGPD controller, as the privacy notice names it (None: the head of establishment)
    controller: str | None = None
    #: the data protection officer
    dpo: Contact | None = None


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    version: str
    title: LocalText
    establishment: Establishment
    opens: date
    closes: date
    languages: tuple[str, ...]
    welcome: LocalText
    audience: Condition | None
    pages: tuple[Page, ...]
    tariffs: tuple[Tariff, ...]
    associations: tuple[Association, ...]
    documents: tuple[DocumentSpec, ...]
    tests: tuple[CampaignTest, ...]
    #: every field by qualified key (``email`` or ``guardians.email``)
    fields: Mapping[str, FieldSpec]
    #: top-level field ids in the order visibility and computed values must be evaluated
    evaluation_order: tuple[str, ...]
    source_name: str = ""
    base_dir: str | None = None
    warnings: tuple[Diagnostic, ...] = ()
    #: days after ``closes`` before the dossiers, documents and accounts are deleted
    retention_days: int = DEFAULT_RETENTION_DAYS
    #: the payment schedule of the school's fees, when the campaign gives one
    payment: Payment | None = None
    #: what :meth:`derived` computed, by key (not part of the campaign's value)
    _derived: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False,
                                          compare=False)

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, once per campaign and ``key``: for values that depend on the frozen
        campaign alone and that every page view would otherwise recompute. Two threads may
        both compute a missing value; they get equal results."""
        try:
            return cast(T, self._derived[key])
        except KeyError:
            value = self._derived[key] = compute()
            return value

    def field(self, key: str) -> FieldSpec:
        return self.fields[key]

    @property
    def purge_on(self) -> date:
        """The first day the campaign's personal data may be deleted (``dossiersco purge``)."""
        return self.closes + timedelta(days=self.retention_days)

    def top_fields(self) -> Iterator[FieldSpec]:
        for page in self.pages:
            yield from page.fields

    def page(self, page_id: str) -> Page:
        return next(p for p in self.pages if p.id == page_id)


def membership_fields(campaign: Campaign) -> tuple[FieldSpec, ...]:
    """The fields whose answers are the chosen associations (found once per campaign)."""
    return campaign.derived("membership_fields", lambda: tuple(
        spec for spec in campaign.top_fields() if spec.type.holds_memberships))


def freeze_fields(fields: Mapping[str, FieldSpec]) -> Mapping[str, FieldSpec]:
    return MappingProxyType(dict(fields))


def family_campaign(campaign: Campaign) -> Campaign:
    """The campaign as families see it: without its staff-only fields (nor a page holding only
    those). The compiler refuses a family-facing expression that reads a staff-only field, so
    nothing the family sees depends on what was removed. Computed once per campaign."""
    return campaign.derived("family_campaign", lambda: _without_staff_only(campaign))


def _without_staff_only(campaign: Campaign) -> Campaign:
    hidden = {spec.id for spec in campaign.top_fields() if spec.staff_only}
    if not hidden:
        return campaign
    pages = tuple(replace(p, fields=tuple(f for f in p.fields if f.id not in hidden))
                  for p in campaign.pages
                  if p.documents or any(f.id not in hidden for f in p.fields) or not p.fields)
    return replace(campaign, pages=pages,
                   fields=freeze_fields({k: s for k, s in campaign.fields.items()
                                         if (s.parent_id or s.id) not in hidden}),
                   evaluation_order=tuple(i for i in campaign.evaluation_order
                                          if i not in hidden))


def staff_only_fields(campaign: Campaign) -> list[FieldSpec]:
    """The fields the school alone fills in, in campaign order."""
    return [spec for spec in campaign.top_fields() if spec.staff_only]
