"""A dossier's money, stable: the figures any staff view or export shows, and the only way they
change after submission (a staff recompute, previewed first and recorded).

At submission the fees, memberships, documents and total the family saw are frozen in
``Dossier.computed`` (``Evaluation.money()``). A later change of the campaign's rules never
moves them by itself: :func:`frozen_money` keeps returning them, :func:`recompute_preview`
shows what the current rules would give, and :func:`apply_recompute` stores that, under the
optimistic lock, with a ``fees_recomputed`` event holding both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from engine.campaign import short_hash
from engine.campaign.model import Campaign
from engine.dossiers.campaigns import context_of, effective_answers
from engine.rules import DossierContext, evaluate_dossier

from .documents import slot_label
from .models import Dossier, DossierData
from .services import DossierError, _check_version, _transaction
from .states import EDITABLE, Actor
from .versions import version_with_hash


class NothingFrozenError(DossierError):
    """The dossier has no frozen figures (never submitted, or editable again): its fees are
    always the live ones, there is nothing to recompute."""


class UnknownCampaignVersionError(DossierError):
    """The campaign to recompute with is not a stored version of the dossier's campaign."""


def is_frozen(dossier: DossierData) -> bool:
    """Whether the dossier's figures are the ones frozen at submission."""
    return dossier.state not in EDITABLE and bool(dossier.computed)


def live_money(dossier: DossierData, campaign: Campaign, ctx: DossierContext | None = None,
               ) -> dict[str, Any]:
    """The figures of the dossier under ``campaign`` now: the evaluation the family pages
    make (answers completed with the prefill, the dossier's context)."""
    ctx = ctx or context_of(dossier)
    answers = effective_answers(campaign, dossier.answers, ctx)
    return evaluate_dossier(campaign, answers, ctx).stored_money()


def frozen_money(dossier: DossierData, campaign: Campaign, *, today: date | None = None,
                 ) -> dict[str, Any]:
    """The ONE function any staff view or export calls for a dossier's figures: the frozen
    ones once submitted, the live evaluation while the family can still change answers.

    Same JSON shape either way (``Evaluation.money()``): fees with explanations, memberships,
    documents, computed values, total.
    """
    if is_frozen(dossier):
        return dict(dossier.computed)
    return live_money(dossier, campaign, context_of(dossier, today))


@dataclass(frozen=True, slots=True)
class Change:
    """One line of a recompute preview (a fee, a membership, a document or a computed value):
    ``before`` / ``after`` are None when the line is absent on that side."""

    key: str
    label: str
    before: Any
    after: Any

    @property
    def changed(self) -> bool:
        return bool(self.before != self.after)


@dataclass(frozen=True, slots=True)
class RecomputePreview:
    """What a recompute would change, for staff to read before applying it."""

    dossier_id: int
    #: the dossier's row version the preview was made from
    dossier_version: int
    #: hash of the campaign the new figures come from (``Campaign.version``: the
    #: :func:`~engine.campaign.short_hash` of the stored ``CampaignVersion.version``)
    campaign_version: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    fees: tuple[Change, ...]
    memberships: tuple[Change, ...]
    documents: tuple[Change, ...]
    computed: tuple[Change, ...]
    total: Change

    @property
    def changed(self) -> bool:
        lines = (*self.fees, *self.memberships, *self.documents, *self.computed, self.total)
        return any(line.changed for line in lines)


def _lines(before: list[Mapping[str, Any]], after: list[Mapping[str, Any]], key: str,
           value: str) -> tuple[Change, ...]:
    """Lines matched by ``key`` (tariff, association, document id), in the order of ``after``
    then of what disappeared."""
    old = {item[key]: item for item in before}
    new = {item[key]: item for item in after}
    keys = [*new, *[k for k in old if k not in new]]
    return tuple(Change(k, (new.get(k) or old[k])["label"],
                        old[k][value] if k in old else None,
                        new[k][value] if k in new else None) for k in keys)


def recompute_preview(session: Session, dossier: Dossier, campaign: Campaign, *,
                      today: date | None = None) -> RecomputePreview:
    """Before (frozen) and after (``campaign``'s rules now) per fee, membership, document,
    computed value and total.

    :raises NothingFrozenError: the dossier's figures are live, not frozen.
    """
    if not is_frozen(dossier):
        raise NothingFrozenError("the dossier's figures are not frozen")
    session.refresh(dossier)
    before = dict(dossier.computed)
    after = live_money(dossier, campaign, context_of(dossier, today))
    computed_keys = [*after.get("computed", {}),
                     *[k for k in before.get("computed", {}) if k not in after.get("computed",
                                                                                    {})]]
    return RecomputePreview(
        dossier_id=dossier.id, dossier_version=dossier.row_version,
        campaign_version=campaign.version, before=before, after=after,
        fees=_lines(before.get("fees", []), after["fees"], "tariff", "amount"),
        memberships=_lines(before.get("memberships", []), after["memberships"],
                           "association", "fee"),
        documents=tuple(  # a per-row document's line names its row
            replace(c, label=slot_label(campaign, c.key, dossier.answers))
            for c in _lines(before.get("documents", []), after["documents"], "document",
                            "reason")),
        computed=tuple(Change(k, k, before.get("computed", {}).get(k),
                              after["computed"].get(k)) for k in computed_keys),
        total=Change("total", "Total", before.get("total"), after["total"]))


def _amounts(money: Mapping[str, Any]) -> dict[str, Any]:
    """The figures an event keeps: amounts by tariff and association, documents, total (no
    answer, no explanation text)."""
    return {"fees": {f["tariff"]: f["amount"] for f in money.get("fees", [])},
            "memberships": {m["association"]: m["fee"] for m in money.get("memberships", [])},
            "documents": [d["document"] for d in money.get("documents", [])],
            "total": money.get("total")}


def apply_recompute(session: Session, dossier: Dossier, expected_version: int,
                    preview: RecomputePreview, actor: Actor) -> Dossier:
    """Store the previewed figures (and the campaign version they come from), if the dossier
    has not changed since the preview was made; record a ``fees_recomputed`` event.

    :raises StaleDossierError: the dossier changed since ``expected_version``.
    :raises NothingFrozenError: the dossier is editable again (its figures are live).
    :raises UnknownCampaignVersionError: the preview's campaign is not a stored version of
        this dossier's campaign.
    """
    if preview.dossier_id != dossier.id:
        raise ValueError("this preview was made for another dossier")
    _check_version(session, dossier, expected_version)
    if preview.dossier_version != expected_version:
        _check_version(session, dossier, preview.dossier_version)
    if not is_frozen(dossier):
        raise NothingFrozenError("the dossier's figures are not frozen")
    current = dossier.campaign_version
    target = current if short_hash(current.version) == preview.campaign_version else \
        version_with_hash(session, current.slug, preview.campaign_version)
    if target is None:
        raise UnknownCampaignVersionError(
            f"campaign version {preview.campaign_version} of '{current.slug}' is not stored")
    with _transaction(session, dossier):
        dossier.computed = dict(preview.after)
        dossier.campaign_version = target
        dossier.record(actor, "fees_recomputed", {
                "before": _amounts(preview.before), "after": _amounts(preview.after),
                "campaign_version": {"before": current.version, "after": target.version},
                "changed": preview.changed})
    return dossier
