"""What an evaluation starts from and asks to be written back: the effective answers (the
prefill where the family has not answered), the ``on_hide`` policy and the answers a submission
confirms. Pure functions of a campaign, answers and their evaluation, shared by the family
wizard, the campaign tests and, next, the staff's edits."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from engine.campaign.model import Campaign, FieldSpec, membership_fields
from engine.fields import FieldValueError
from engine.fields.repeat import ROW_KEY

from .evaluation import Evaluation
from .scope import DossierContext, DossierScope, prefill_value


def on_hide_writes(campaign: Campaign, answers: Mapping[str, Any], evaluation: Evaluation,
                   ) -> dict[str, Any]:
    """The writes the ``on_hide: clear`` policy asks for: hidden answers dropped (as None),
    hidden children of repeat rows emptied, hidden parts (a grid's rows) taken out. Locked
    fields always show the school's value and are never written."""
    out: dict[str, Any] = {}
    for spec in campaign.top_fields():
        if not spec.type.has_value or not spec.editable or spec.id not in answers:
            continue
        value = answers[spec.id]
        if spec.id not in evaluation.visible:
            if spec.on_hide == "clear" and value is not None:
                out[spec.id] = None
            continue
        if spec.type.conditional_parts and spec.on_hide == "clear":
            hidden = frozenset(p for p in spec.type.parts(spec)
                               if f"{spec.id}.{p}" not in evaluation.visible)
            shown = spec.type.without_parts(value, spec, hidden)
            if shown != value:
                out[spec.id] = shown
        if spec.type.is_container and isinstance(value, list):
            rows, changed = [], False
            for n, row in enumerate(value):
                row = dict(row) if isinstance(row, Mapping) else row
                for child in spec.fields:
                    key = f"{spec.id}.{n}.{child.id}"
                    if isinstance(row, dict) and child.type.has_value and \
                            key not in evaluation.visible and child.on_hide == "clear" and \
                            row.get(child.id) is not None:
                        row[child.id] = None
                        changed = True
                rows.append(row)
            if changed:
                out[spec.id] = rows
    return out


def confirmed_answers(campaign: Campaign, answers: Mapping[str, Any]) -> dict[str, Any]:
    """What a submission stores as the family's answers: every editable field's value, the
    prefill the family confirmed by leaving it included."""
    return {spec.id: answers[spec.id] for spec in campaign.top_fields()
            if spec.editable and spec.type.has_value and spec.id in answers}


def offered_memberships(campaign: Campaign, answers: Mapping[str, Any], ctx: DossierContext,
                        ) -> dict[str, list[str]]:
    """The memberships answers holding an association not offered to the pupil, without it:
    such a choice is neither billed nor kept, so what is stored never disagrees with the
    bill."""
    scope = DossierScope(campaign, answers, ctx)
    offered = {a.id for a in scope.available_associations()}
    out: dict[str, list[str]] = {}
    for spec in membership_fields(campaign):
        value = answers.get(spec.id)
        if isinstance(value, list) and not {str(v) for v in value} <= offered:
            out[spec.id] = [v for v in value if str(v) in offered]
    return out


def effective_answers(campaign: Campaign, answers: Mapping[str, Any],
                      ctx: DossierContext, corrected: Container[str] = ()) -> dict[str, Any]:
    """The answers with what the school knew filled in where the family has not answered yet.

    Locked fields (``editable: false``) always show the school's value: the one it corrected
    (the keys of ``corrected``, already in ``answers``), else the imported one; a prefilled
    repeat starts with the imported rows. A key present in ``answers`` (even as None: cleared
    on purpose) wins over the prefill. A per-guardian field (``scope: per_guardian``) holds
    the reading guardian's own answer (``ctx.own``), never another guardian's.
    """
    out = dict(answers)
    for spec in _prefilled_or_per_guardian(campaign):
        if spec.per_guardian and spec.id not in out and spec.id in ctx.own:
            out[spec.id] = ctx.own[spec.id]
        if spec.prefill is None or not spec.type.has_value:
            continue
        if (spec.editable or spec.id in corrected) and spec.id in out:
            continue
        if spec.type.is_container:
            rows = DossierScope(campaign, {}, ctx).imported_rows(spec)
            for n, row in enumerate(rows, start=1):
                row[ROW_KEY] = row[ROW_KEY] or f"row{n}"
            out[spec.id] = _canonical(spec, rows)
        else:
            out[spec.id] = _canonical(spec, prefill_value(spec, ctx))
    out.update(offered_memberships(campaign, out, ctx))  # unavailable ones count nowhere
    return out


def _prefilled_or_per_guardian(campaign: Campaign) -> tuple[FieldSpec, ...]:
    """The fields :func:`effective_answers` may fill in (found once per campaign)."""
    return campaign.derived("rules.prefilled_or_per_guardian", lambda: tuple(
        spec for spec in campaign.top_fields()
        if spec.per_guardian or (spec.prefill is not None and spec.type.has_value)))


def _canonical(spec: FieldSpec, value: Any) -> Any:
    """The stored form of an imported value; as imported when it does not fit the field (the
    family then sees it and the validation message)."""
    try:
        return spec.type.normalize(value, spec)
    except FieldValueError:
        return value
