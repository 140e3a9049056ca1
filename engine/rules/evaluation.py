"""Evaluate one dossier against its campaign: visibility, requirements, validation, computed
values, fees, memberships and documents — the single computation the family pages, the staff
pages, the exports and ``dossiersco test`` all use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.campaign.model import Campaign, Condition, FieldSpec, Tariff
from engine.fields import FieldValueError
from engine.fields.common import format_decimal, format_money, to_decimal
from engine.i18n import gettext as _

from .explain import describe
from .scope import DossierContext, DossierScope

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Fee:
    tariff_id: str
    label: str
    amount: Decimal
    explanation: str


@dataclass(frozen=True, slots=True)
class Membership:
    association_id: str
    label: str
    fee: Decimal
    required: bool


@dataclass(frozen=True, slots=True)
class RequiredDocument:
    document_id: str
    label: str
    reason: str


@dataclass(slots=True)
class Evaluation:
    """The result of evaluating a dossier; ``values`` are the answers to keep."""

    visible_pages: list[str] = field(default_factory=list)
    visible: set[str] = field(default_factory=set)
    required: set[str] = field(default_factory=set)
    readonly: set[str] = field(default_factory=set)
    values: dict[str, Any] = field(default_factory=dict)
    computed: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    fees: list[Fee] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    documents: list[RequiredDocument] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((f.amount for f in self.fees), Decimal(0)) + sum(
            (m.fee for m in self.memberships), Decimal(0))

    @property
    def valid(self) -> bool:
        return not self.errors

    def page_errors(self, campaign: Campaign, page_id: str) -> dict[str, list[str]]:
        keys = {f.id for f in campaign.page(page_id).fields}
        return {k: v for k, v in self.errors.items() if k.split(".")[0] in keys}

    def money(self) -> dict[str, Any]:
        """JSON-safe fees, memberships, documents and total: what is stored at submission."""
        return {
            "fees": [{"tariff": f.tariff_id, "label": f.label, "amount": str(f.amount),
                      "explanation": f.explanation} for f in self.fees],
            "memberships": [{"association": m.association_id, "label": m.label,
                             "fee": str(m.fee), "required": m.required}
                            for m in self.memberships],
            "documents": [{"document": d.document_id, "label": d.label, "reason": d.reason}
                          for d in self.documents],
            "computed": dict(self.computed),
            "total": str(self.total.quantize(CENT)),
        }


def evaluate_dossier(campaign: Campaign, answers: Mapping[str, Any], ctx: DossierContext,
                     *, lang: str | None = None) -> Evaluation:
    """Evaluate ``answers`` (stored or raw values, by field id) for one dossier."""
    scope = DossierScope(campaign, answers, ctx)
    result = Evaluation()
    for page in campaign.pages:
        if scope.page_visible(page.id):
            result.visible_pages.append(page.id)
        for spec in page.fields:
            _field(spec, scope, result, lang)
    _fees(campaign, scope, result, lang)
    _memberships(campaign, scope, result, lang)
    _documents(campaign, scope, result, lang)
    return result


def _is_required(spec: FieldSpec, scope: DossierScope) -> bool:
    if not spec.editable:
        return False
    if isinstance(spec.required, Condition):
        return spec.required.test(scope)
    return spec.required


def _check_value(spec: FieldSpec, raw: Any, key: str, scope: DossierScope,
                 result: Evaluation, lang: str | None) -> Any:
    """Normalise, check required/options/rules; record errors under ``key``."""
    messages: list[str] = []
    try:
        value = spec.type.normalize(raw, spec)
    except FieldValueError as exc:
        result.errors[key] = [str(exc)]
        return raw
    required = _is_required(spec, scope)
    if required:
        result.required.add(key)
    if spec.readonly_if is not None and spec.readonly_if.test(scope) or not spec.editable:
        result.readonly.add(key)
    if spec.type.is_empty(value):
        if required:
            messages.append(spec.type.required_message(spec))
    else:
        messages.extend(spec.type.validate(value, spec))
        for rule in spec.validate:
            if not rule.rule.test(scope):
                messages.append(rule.message.get(lang) or _("Valeur non valide."))
    if messages:
        result.errors[key] = messages
    return value


def _field(spec: FieldSpec, scope: DossierScope, result: Evaluation, lang: str | None) -> None:
    raw = scope.answers.get(spec.id)
    if not scope.visible(spec.id):
        if spec.on_hide == "keep" and raw is not None:
            result.values[spec.id] = raw
        return
    result.visible.add(spec.id)
    if "expr" in spec.expressions:
        result.computed[spec.id] = spec.type.normalize(scope.computed(spec), spec)
        return
    if not spec.type.has_value:
        return
    value = _check_value(spec, raw, spec.id, scope, result, lang)
    if spec.type.is_container and isinstance(value, list):
        value = [_row(spec, i, row, scope, result, lang) for i, row in enumerate(value)]
    result.values[spec.id] = value


def _row(spec: FieldSpec, index: int, row: Mapping[str, Any], scope: DossierScope,
         result: Evaluation, lang: str | None) -> dict[str, Any]:
    inner = scope.row_scope(spec, row)
    out: dict[str, Any] = {"_key": row.get("_key")}
    for child in spec.fields:
        key = f"{spec.id}.{index}.{child.id}"
        if not inner.child_visible(child):
            if child.on_hide == "keep" and row.get(child.id) is not None:
                out[child.id] = row.get(child.id)
            continue
        result.visible.add(f"{spec.id}.{child.id}")
        result.visible.add(key)
        if "expr" in child.expressions:
            out[child.id] = child.type.normalize(child.expressions["expr"].value(inner), child)
        elif child.type.has_value:
            out[child.id] = _check_value(child, row.get(child.id), key, inner, result, lang)
            if key in result.required:
                result.required.add(f"{spec.id}.{child.id}")
    return out


def _fees(campaign: Campaign, scope: DossierScope, result: Evaluation,
          lang: str | None) -> None:
    for tariff in campaign.tariffs:
        if tariff.applies_if is not None and not tariff.applies_if.test(scope):
            continue
        result.fees.append(compute_fee(tariff, scope, lang))


def compute_fee(tariff: Tariff, scope: DossierScope, lang: str | None = None) -> Fee:
    """One tariff's amount and its explanation in words."""
    label = tariff.label.get(lang)
    if tariff.exempt_if is not None and tariff.exempt_if.test(scope):
        why = tariff.exempt_label.get(lang) or _("exonération")
        return Fee(tariff.id, label, Decimal("0.00"), f"{why} : {format_money(Decimal(0))}")
    parts: list[str] = []
    if tariff.brackets is not None:
        on_value = to_decimal(tariff.brackets.on.value(scope))
        bracket = tariff.brackets.pick(on_value)
        on_label = tariff.brackets.on_label.get(lang) or tariff.brackets.on.source
        shown = format_decimal(on_value) if on_value is not None else _("non renseigné")
        parts.append(f"{on_label} {shown} → {_('tranche')} {bracket.label}")
        unit = bracket.amount
    else:
        unit = tariff.amount or Decimal(0)
    amount = unit
    factors = [format_money(unit)]
    for m in tariff.multipliers:
        by = to_decimal(m.by.value(scope))
        amount *= by if by is not None else Decimal(0)
        factors.append(f"{format_decimal(by) if by is not None else '?'} {m.label.get(lang)}"
                       .strip())
    base = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    line = " × ".join(factors)
    if tariff.multipliers:
        line += f" = {format_money(base)}"
    parts.append(line)
    applied = 0
    for reduction in tariff.reductions:
        if not reduction.when.test(scope):
            continue
        applied += 1
        if reduction.percent is not None:
            cut = (amount * reduction.percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            what = f"−{format_decimal(reduction.percent)} %"
        else:
            cut = min(reduction.amount or Decimal(0), amount)
            what = f"−{format_money(cut)}"
        amount = max(amount - cut, Decimal(0))
        parts.append(f"{reduction.label.get(lang)} {what} : −{format_money(cut)}")
    final = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    explanation = ", ".join(parts)
    if applied or (tariff.brackets is None and not tariff.multipliers):
        explanation += f" → {format_money(final)}"
    return Fee(tariff.id, label, final, explanation)


def _memberships(campaign: Campaign, scope: DossierScope, result: Evaluation,
                 lang: str | None) -> None:
    chosen: set[str] = set()
    for spec in campaign.top_fields():
        if spec.type.name == "memberships" and spec.id in result.visible:
            chosen.update(result.values.get(spec.id) or ())
    for assoc in campaign.associations:
        available = assoc.available_if is None or assoc.available_if.test(scope)
        if available and (assoc.required or assoc.id in chosen):
            result.memberships.append(Membership(assoc.id, assoc.label.get(lang), assoc.fee,
                                                 assoc.required))


def _documents(campaign: Campaign, scope: DossierScope, result: Evaluation,
               lang: str | None) -> None:
    for doc in campaign.documents:
        if doc.required_if is not None:
            if not doc.required_if.test(scope):
                continue
            reason = doc.reason.get(lang) or _("Demandé car {why}.").format(
                why=describe(doc.required_if.expression.node, campaign, lang))
        elif doc.required:
            reason = doc.reason.get(lang) or _("Demandé à toutes les familles.")
        else:
            continue
        result.documents.append(RequiredDocument(doc.id, doc.label.get(lang), reason))
