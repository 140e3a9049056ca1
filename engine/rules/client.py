"""The campaign as the browser twin reads it: conditions as expression JSON, amounts as text.

The browser re-evaluates visibility, requirements, computed values, fees and documents live
with ``engine/web/static/js/expr.js`` and ``rules.js``; the server stays authoritative and
re-evaluates everything on every save. The model holds the campaign only (labels, rules, type
options), never a family's data: that comes with each evaluation as answers and context.
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from engine.campaign.model import Campaign, Condition, FieldSpec
from engine.campaign.namespace import FAMILY_KEYS, GUARDIAN_KEYS, PUPIL_KEYS
from engine.expr import Type
from engine.fields.patterns import Pattern
from engine.text import LocalText

from .evaluation import document_reason


def _cond(cond: Condition | None) -> Any:
    return None if cond is None else cond.expression.to_json()


def _json(value: Any, lang: str | None) -> Any:
    """A type option as JSON: texts in ``lang``, amounts and dates as text, patterns by source."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, LocalText):
        return value.get(lang)
    if isinstance(value, re.Pattern | Pattern):
        return value.pattern
    if isinstance(value, tuple | list | frozenset):
        return [_json(v, lang) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name), lang) for f in fields(value)}
    return None  # an option the browser has no use for (plugin objects)


def _field(spec: FieldSpec, lang: str | None) -> dict[str, Any]:
    required: Any = spec.required
    if isinstance(required, Condition):
        required = {"when": _cond(required)}
    out: dict[str, Any] = {
        "id": spec.id, "key": spec.key, "type": spec.type.name, "page": spec.page_id,
        "parent": spec.parent_id, "label": spec.label.get(lang),
        "value_type": spec.type.value_type(spec).kind, "editable": spec.editable,
        "has_value": spec.type.has_value, "is_container": spec.type.is_container,
        "input_parts": list(spec.type.parts(spec)),
        "part_conditions": {part: _cond(spec.expressions.get(sub))
                            for part, (sub, _) in spec.type.part_conditions(spec).items()
                            if sub in spec.expressions},
        "conditional_parts": spec.type.conditional_parts,
        "on_hide": spec.on_hide, "required": required, "visible_if": _cond(spec.visible_if),
        "per_guardian": spec.per_guardian,
        "readonly_if": _cond(spec.readonly_if),
        "prefill": ".".join(spec.prefill) if spec.prefill else None,
        "required_message": spec.type.required_message(spec),
        "validate": [{"rule": _cond(r.rule), "message": r.message.get(lang)}
                     for r in spec.validate],
        "options": _json(spec.options, lang),
    }
    if "expr" in spec.expressions:
        out["expr"] = _cond(spec.expressions["expr"])
        out["format"] = getattr(spec.options, "format", None)
    if spec.fields:
        out["fields"] = [c.key for c in spec.fields]
    return out


def _kinds(keys: dict[str, Type]) -> dict[str, str]:
    return {k: t.kind for k, t in keys.items()}


def client_model(campaign: Campaign, lang: str | None = None) -> dict[str, Any]:
    """JSON-safe description of everything the browser evaluates."""
    return {
        "version": campaign.version,
        "order": list(campaign.evaluation_order),
        "namespace": {"pupil": _kinds(PUPIL_KEYS), "guardians": _kinds(GUARDIAN_KEYS),
                      "family": _kinds(FAMILY_KEYS)},
        "pages": [{"id": p.id, "visible_if": _cond(p.visible_if),
                   "fields": [f.id for f in p.fields]} for p in campaign.pages],
        "fields": {key: _field(spec, lang) for key, spec in campaign.fields.items()},
        "tariffs": [{
            "id": t.id, "label": t.label.get(lang), "applies_if": _cond(t.applies_if),
            "amount": None if t.amount is None else str(t.amount),
            "brackets": None if t.brackets is None else {
                "on": _cond(t.brackets.on),
                "label": t.brackets.on_label.get(lang) or t.brackets.on.source,
                "default": t.brackets.default_label,
                "table": [{"up_to": None if b.up_to is None else str(b.up_to),
                           "amount": str(b.amount), "label": b.label}
                          for b in t.brackets.brackets]},
            "multipliers": [{"by": _cond(m.by), "label": m.label.get(lang)}
                            for m in t.multipliers],
            "reductions": [{"id": r.id, "label": r.label.get(lang), "when": _cond(r.when),
                            "percent": None if r.percent is None else str(r.percent),
                            "amount": None if r.amount is None else str(r.amount)}
                           for r in t.reductions],
            "exempt_if": _cond(t.exempt_if), "exempt_label": t.exempt_label.get(lang),
        } for t in campaign.tariffs],
        "associations": [{"id": a.id, "label": a.label.get(lang), "fee": str(a.fee),
                          "required": a.required, "available_if": _cond(a.available_if),
                          "prices": [{"when": _cond(p.when), "fee": str(p.fee)}
                                     for p in a.prices],
                          "fee_from": _cond(a.fee_from)}
                         for a in campaign.associations],
        "payment": None if campaign.payment is None else {
            "instalments": [label.get(lang) for label in campaign.payment.instalments]},
        "documents": [{
            "id": d.id, "label": d.label.get(lang), "required": d.required,
            "required_if": _cond(d.required_if), "reason": document_reason(d, campaign, lang),
            "for_each": d.for_each,
        } for d in campaign.documents],
    }
