"""The dossier scope: what expressions see of one dossier (answers, prefill, family, today).

Visibility and computed values are evaluated lazily and memoised; the compiler guarantees there
is no cycle, so the recursion always ends.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.campaign.model import Association, Campaign, FieldSpec, Tariff, membership_fields
from engine.campaign.namespace import FAMILY_KEYS, FEES_TOTAL, GUARDIAN_KEYS, PUPIL_KEYS
from engine.expr import BOOL, DATE, NUMBER, Type, is_empty
from engine.fields import FieldValueError
from engine.fields.boolean import to_bool
from engine.fields.common import to_decimal
from engine.fields.date import parse_date

from .fees import CENT, Fee, compute_fee


@dataclass(frozen=True, slots=True)
class DossierContext:
    """Everything about a dossier that is not an answer."""

    #: {"pupil": {...}, "guardians": [...], "previous": {...}} as imported
    prefill: Mapping[str, Any] = field(default_factory=dict)
    #: {"siblings": 2, "rank": 1}
    family: Mapping[str, Any] = field(default_factory=dict)
    today: date = field(default_factory=date.today)
    #: the legal guardian reading the dossier (their guardian key); None: the school or the
    #: system, for whom nobody answers the ``scope: per_guardian`` fields (not required there:
    #: each guardian's answer is checked on their own, ``engine.dossiers.guardian_answers``)
    guardian: str | None = None
    #: that guardian's own answers to the per-guardian fields, by field id
    own: Mapping[str, Any] = field(default_factory=dict)


def plain_value(value: Any) -> Any:
    """Imported JSON as expressions see it: numbers as exact decimals (from their shortest
    text, as the browser twin decodes the same JSON), at any depth."""
    if value is None or isinstance(value, bool | str | Decimal):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value)) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    return value


def record_value(value: Any, t: Type) -> Any:
    """An imported value converted to what expressions of type ``t`` expect."""
    if value is None:
        return None
    try:
        if t == DATE:
            return parse_date(value)
        if t == NUMBER:
            return to_decimal(value)
        if t == BOOL:
            return to_bool(value)
    except FieldValueError:
        return None
    if t.kind == "list":
        return plain_value(value if isinstance(value, list) else [value])
    return plain_value(value) if isinstance(value, Mapping) else str(value)


def prefill_value(spec: FieldSpec, ctx: DossierContext, row: Mapping[str, Any] | None = None,
                  ) -> Any:
    """The value the school knew for ``spec`` (None when it has no prefill)."""
    path = spec.prefill
    if path is None:
        return None
    node: Any = row if row is not None and spec.parent_id else ctx.prefill
    for part in path:
        # a dict first: the abstract Mapping check is what the diff of many dossiers pays most
        if type(node) is dict or isinstance(node, Mapping):
            node = node.get(part)
        else:
            return None
    return None if node is None else spec.type.imported(node, spec)


class DossierScope:
    """Implements :class:`engine.expr.Scope` over one dossier's answers."""

    def __init__(self, campaign: Campaign, answers: Mapping[str, Any],
                 ctx: DossierContext, *, lang: str | None = None) -> None:
        self.campaign = campaign
        self.answers = answers
        self.ctx = ctx
        #: language of the fees' labels and explanations
        self.lang = lang
        self._visible: dict[str, bool] = {}
        self._page_visible: dict[str, bool] = {}
        self._computed: dict[str, Any] = {}
        self._fees: dict[str, Fee | None] = {}
        #: parts of each top-level field hidden by their own condition (a grid's rows)
        self._hidden: dict[str, frozenset[str]] = {}
        #: stored form of each top-level answer read so far, or the message why it has none
        self._normalized: dict[str, tuple[Any, str | None]] = {}
        self.row: tuple[FieldSpec, Mapping[str, Any]] | None = None
        #: the dossier-level scope: page and field visibility, computed values and fees are
        #: evaluated there, never in a repeat row (where a child id could shadow a field id)
        self.root: DossierScope = self

    @property
    def today(self) -> date:
        return self.ctx.today

    # -- visibility -------------------------------------------------------------------------
    def page_visible(self, page_id: str) -> bool:
        if page_id not in self._page_visible:
            page = self.campaign.page(page_id)
            self._page_visible[page_id] = page.visible_if is None or page.visible_if.test(
                self.root)
        return self._page_visible[page_id]

    def visible(self, key: str) -> bool:
        """Visibility of a top-level field (page and own condition)."""
        if key not in self._visible:
            spec = self.campaign.fields[key]
            self._visible[key] = self.page_visible(spec.page_id) and (
                spec.visible_if is None or spec.visible_if.test(self.root))
        return self._visible[key]

    def row_scope(self, repeat: FieldSpec, row: Mapping[str, Any]) -> DossierScope:
        scope = DossierScope(self.campaign, self.answers, self.ctx, lang=self.lang)
        scope._visible, scope._page_visible, scope._computed, scope._fees, scope._hidden = (
            self._visible, self._page_visible, self._computed, self._fees, self._hidden)
        scope._normalized = self._normalized
        scope.row = (repeat, row)
        scope.root = self.root
        return scope

    def hidden_parts(self, spec: FieldSpec) -> frozenset[str]:
        """The parts of the top-level field ``spec`` whose own condition is false (a grid's
        rows); a condition the compiler refused hides nothing."""
        if spec.id not in self._hidden:
            self._hidden[spec.id] = frozenset(
                part for part, (sub, _) in spec.type.part_conditions(spec).items()
                if sub in spec.expressions and not spec.expressions[sub].test(self.root))
        return self._hidden[spec.id]

    def child_visible(self, child: FieldSpec) -> bool:
        """Visibility of a repeat child in the current row."""
        return child.visible_if is None or child.visible_if.test(self)

    # -- values -----------------------------------------------------------------------------
    def field_value(self, spec: FieldSpec) -> Any:
        """Expression value of a top-level field: null when hidden."""
        if not self.visible(spec.id):
            return None
        if "expr" in spec.expressions:
            return self.computed(spec)
        shown = spec.type.without_parts(self.answer(spec), spec, self.hidden_parts(spec))
        return spec.type.expr_value(shown, spec)

    def normalized(self, spec: FieldSpec) -> Any:
        """The stored form of the answer to the top-level field ``spec``, normalised once per
        evaluation (conditions, fees and validation read the same answers many times).

        :raises FieldValueError: the answer does not fit the field.
        """
        found = self._normalized.get(spec.id)
        if found is None:
            try:
                found = (spec.type.normalize(self.answers.get(spec.id), spec), None)
            except FieldValueError as exc:
                found = (None, str(exc))
            self._normalized[spec.id] = found
        value, error = found
        if error is not None:
            raise FieldValueError(error)
        return value

    def answer(self, spec: FieldSpec) -> Any:
        """:meth:`normalized`, None when the answer does not fit the field."""
        try:
            return self.normalized(spec)
        except FieldValueError:
            return None

    def stored(self, spec: FieldSpec, raw: Any) -> Any:
        try:
            return spec.type.normalize(raw, spec)
        except FieldValueError:
            return None

    def computed(self, spec: FieldSpec) -> Any:
        if spec.id not in self._computed:
            self._computed[spec.id] = spec.expressions["expr"].value(self.root)
        return self._computed[spec.id]

    # -- fees -------------------------------------------------------------------------------
    def fee(self, tariff: Tariff) -> Fee | None:
        """The fee of ``tariff`` (None when it does not apply), computed once per evaluation:
        its amount is what ``fees.<id>`` reads, and the evaluation lists it."""
        if tariff.id not in self._fees:
            root = self.root
            applies = tariff.applies_if is None or tariff.applies_if.test(root)
            self._fees[tariff.id] = compute_fee(tariff, root, self.lang) if applies else None
        return self._fees[tariff.id]

    def chosen_associations(self) -> set[str]:
        """Ids ticked in the visible memberships fields."""
        chosen: set[str] = set()
        for spec in membership_fields(self.campaign):
            if self.visible(spec.id):
                chosen.update(self.answer(spec) or ())
        return chosen

    def available_associations(self) -> list[Association]:
        """The associations offered to this pupil (``available_if``), in campaign order."""
        return [a for a in self.campaign.associations
                if a.available_if is None or a.available_if.test(self.root)]

    def membership_fee(self, assoc: Association) -> Decimal:
        """What joining ``assoc`` costs this pupil: the amount the family gives (``fee_from``,
        to the cent, never below zero), else the first price whose condition holds, else the
        association's fee."""
        root = self.root
        if assoc.fee_from is not None:
            amount = to_decimal(assoc.fee_from.value(root))
            if amount is None or not amount > 0:
                return Decimal("0.00")
            return amount.quantize(CENT, rounding=ROUND_HALF_UP)
        return next((p.fee for p in assoc.prices if p.when.test(root)), assoc.fee)

    def memberships(self) -> list[Association]:
        """Associations counted: required or chosen, when available to this pupil."""
        chosen = self.chosen_associations()
        return [a for a in self.available_associations() if a.required or a.id in chosen]

    def total(self) -> Decimal:
        """Fees plus memberships, to the cent: ``fees.total`` and the stored total."""
        fees = (self.fee(t) for t in self.campaign.tariffs)
        total = sum((f.amount for f in fees if f is not None), Decimal(0)) + sum(
            (self.membership_fee(a) for a in self.memberships()), Decimal(0))
        return total.quantize(CENT)

    def fees_value(self, name: str) -> Decimal | None:
        if name == FEES_TOTAL:
            return self.total()
        tariff = next((t for t in self.campaign.tariffs if t.id == name), None)
        fee = None if tariff is None else self.fee(tariff)
        return None if fee is None else fee.amount

    def rows_of(self, spec: FieldSpec) -> list[Mapping[str, Any]]:
        rows = self.answer(spec)
        return rows if isinstance(rows, list) else []

    def value(self, path: tuple[str, ...]) -> Any:
        head, rest = path[0], path[1:]
        if self.row is not None:
            repeat, row = self.row
            child = next((c for c in repeat.fields if c.id == head), None)
            if child is not None:
                return self._tail(child.type.expr_value(row.get(child.id), child), rest)
        spec = self.campaign.fields.get(head)
        if spec is not None and spec.parent_id is None:
            if spec.type.is_container and rest:
                if not self.visible(spec.id):
                    return None
                child = next(c for c in spec.fields if c.id == rest[0])
                out = []
                for row in self.rows_of(spec):
                    inner = self.row_scope(spec, row)
                    out.append(child.type.expr_value(row.get(child.id), child)
                               if inner.child_visible(child) else None)
                return out
            return self._tail(self.field_value(spec), rest)
        if head == "pupil" and rest:
            pupil = self.ctx.prefill.get("pupil") or {}
            t = PUPIL_KEYS.get(rest[0])
            if t is None:
                return None
            return self._tail(record_value(pupil.get(rest[0]), t), rest[1:])
        if head == "guardians":
            guardians = self.ctx.prefill.get("guardians") or []
            if not rest:
                return plain_value(list(guardians))
            t = GUARDIAN_KEYS.get(rest[0])
            return [record_value(g.get(rest[0]), t) for g in guardians] if t else None
        if head == "family" and rest:
            t = FAMILY_KEYS.get(rest[0])
            return record_value(self.ctx.family.get(rest[0]), t) if t else None
        if head == "fees" and len(rest) == 1:
            return self.fees_value(rest[0])
        if head == "previous" and rest:
            previous = self.ctx.prefill.get("previous") or {}
            raw = previous.get(rest[0])
            spec = self.campaign.fields.get(rest[0])
            if spec is not None and len(rest) == 1:
                return spec.type.expr_value(self.stored(spec, raw), spec)
            return self._tail(plain_value(raw), rest[1:])
        return None

    @staticmethod
    def _tail(value: Any, rest: tuple[str, ...]) -> Any:
        for part in rest:
            value = value.get(part) if isinstance(value, Mapping) else None
            if value == "":
                value = None
        return value

    def changed(self, path: tuple[str, ...]) -> bool:
        head = path[0]
        if self.row is not None:
            repeat, row = self.row
            child = next((c for c in repeat.fields if c.id == head), None)
            if child is not None:
                before = self._imported_row(repeat, row)
                old = prefill_value(child, self.ctx, before) if before else None
                return before is not None and not child.type.same(old, row.get(child.id), child)
        spec = self.campaign.fields.get(head)
        if spec is None:
            return False
        if spec.type.is_container and len(path) == 2:
            return self._child_changed(spec, path[1])
        old = prefill_value(spec, self.ctx)
        new = self.answers.get(spec.id)
        if spec.type.is_container:
            if is_empty(new):
                return False
            if self.stored(spec, new) is None:
                return True  # rows that are not rows: not what the school knew
            old = self.imported_rows(spec)
        return not spec.type.same(old, new, spec)

    def _child_changed(self, repeat: FieldSpec, child_id: str) -> bool:
        """``changed(repeat.child)``: some row's ``child`` differs from the imported row's (a new
        row counts when it gives a value)."""
        child = next((c for c in repeat.fields if c.id == child_id), None)
        if child is None or not child.type.has_value:
            return False
        for row in self.rows_of(repeat):
            before = self._imported_row(repeat, row)
            old = prefill_value(child, self.ctx, before) if before is not None else None
            if not child.type.same(old, row.get(child.id), child):
                return True
        return False

    def imported_rows(self, spec: FieldSpec) -> list[dict[str, Any]]:
        """Rows of a prefilled repeat as the school knew them, in the stored row form."""
        rows = prefill_value(spec, self.ctx)
        if not isinstance(rows, list):
            return []
        out = []
        for row in rows:
            if not isinstance(row, Mapping):
                continue
            stored: dict[str, Any] = {"_key": spec.type.row_key(row, spec)}  # type: ignore[attr-defined]
            for child in spec.fields:
                if child.type.has_value:
                    stored[child.id] = prefill_value(child, self.ctx, row)
            out.append(stored)
        return out

    def _imported_row(self, repeat: FieldSpec, row: Mapping[str, Any]) -> Mapping[str, Any] | None:
        rows = prefill_value(repeat, self.ctx)
        key = row.get("_key")
        if not isinstance(rows, list) or key is None:
            return None
        for imported in rows:
            if isinstance(imported, Mapping) and \
                    repeat.type.row_key(imported, repeat) == key:  # type: ignore[attr-defined]
                return imported
        return None
