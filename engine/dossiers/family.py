"""The family facts expressions read (``family.siblings``, ``family.rank``) from the database.

A sibling is a child sharing a guardian account with the pupil who has a dossier in a campaign
of the same slug (this pupil included); rank 1 is the eldest (no birth date: last; same birth
date: the first imported). Both counts are subqueries correlated to the ``dossier`` of the
enclosing query, so the family pages' lookup (``services.dossier_of_account``) loads them with
the dossier in one statement; :func:`family_of` runs them alone for a dossier loaded otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, distinct, func, or_, select
from sqlalchemy.orm import Session, aliased, object_session
from sqlalchemy.orm.attributes import set_committed_value

from .models import CampaignVersion, Dossier, DossierData, Guardianship, Pupil

_sibling = aliased(Pupil)
_sibling_guardian = aliased(Guardianship)
_sibling_dossier = aliased(Dossier)
_sibling_version = aliased(CampaignVersion)
_own_guardian = aliased(Guardianship)
_own_version = aliased(CampaignVersion)
_own_pupil = aliased(Pupil)


def _count_siblings(*criteria: ColumnElement[bool]) -> Any:
    return (
        select(func.count(distinct(_sibling.id)))
        .join(_sibling_guardian, _sibling_guardian.pupil_id == _sibling.id)
        .join(_sibling_dossier, _sibling_dossier.pupil_id == _sibling.id)
        .join(_sibling_version, _sibling_version.id == _sibling_dossier.campaign_version_id)
        .where(_sibling_guardian.account_id.in_(
                   select(_own_guardian.account_id)
                   .where(_own_guardian.pupil_id == Dossier.pupil_id).correlate(Dossier)),
               _sibling_version.slug == select(_own_version.slug)
               .where(_own_version.id == Dossier.campaign_version_id).correlate(Dossier)
               .scalar_subquery(),
               *criteria)
        .correlate(Dossier).scalar_subquery())


#: an unknown birth date sorts last
_sibling_born = func.coalesce(_sibling.birth_date, date.max)
_own_born = func.coalesce(
    select(_own_pupil.birth_date).where(_own_pupil.id == Dossier.pupil_id).correlate(Dossier)
    .scalar_subquery(),
    date.max)
#: the number of siblings, this pupil included (0 when the pupil has no guardian account)
SIBLINGS: Any = _count_siblings()
#: the number of siblings born before this pupil (the same day: imported before)
ELDER_SIBLINGS: Any = _count_siblings(or_(
    _sibling_born < _own_born,
    and_(_sibling_born == _own_born, _sibling.id < Dossier.pupil_id)))


def family_of(dossier: DossierData) -> dict[str, int]:
    """``siblings``: the children sharing a guardian with this pupil who have a dossier in the
    same campaign (this one included); ``rank``: 1 for the eldest of them."""
    siblings, elder = dossier.siblings, dossier.elder_siblings
    if siblings is None or elder is None:  # not loaded with the dossier
        session = object_session(dossier)
        if session is None:
            raise ValueError("the dossier is not attached to a database session")
        siblings, elder = session.execute(
            select(SIBLINGS, ELDER_SIBLINGS).where(Dossier.id == dossier.id)).one()
    return {"siblings": max(siblings, 1), "rank": elder + 1}


def load_families(session: Session, dossiers: Sequence[Dossier]) -> None:
    """Load the family facts of many dossiers at once (what :func:`family_of` reads)."""
    facts = family_facts(session, [(d.id, d.pupil_id, d.campaign_version.slug)
                                   for d in dossiers])
    for dossier in dossiers:
        siblings, elder = facts[dossier.id]
        set_committed_value(dossier, "siblings", siblings)
        set_committed_value(dossier, "elder_siblings", elder)


def family_facts(session: Session, dossiers: Sequence[tuple[int, int, str]]
                 ) -> dict[int, tuple[int, int]]:
    """The family facts of many dossiers, given as (dossier id, pupil id, campaign slug):
    dossier id → (siblings, elder siblings), in two statements (the correlated counts cost a
    scan per dossier, too slow for an export of thousands). The same rule: siblings share a
    guardian account and have a dossier in a campaign of the same slug; the eldest first,
    then the first imported."""
    pupils = {pupil_id for _, pupil_id, _ in dossiers}
    if not pupils:
        return {}
    accounts: dict[int, set[int]] = defaultdict(set)
    for pupil_id, account_id in session.execute(
            select(Guardianship.pupil_id, Guardianship.account_id)
            .where(Guardianship.pupil_id.in_(pupils))):
        accounts[pupil_id].add(account_id)
    wanted = set().union(*accounts.values()) if accounts else set()
    children: dict[int, set[tuple[int, date, str]]] = defaultdict(set)
    if wanted:
        for account_id, pupil_id, born, slug in session.execute(
                select(Guardianship.account_id, Pupil.id, Pupil.birth_date, CampaignVersion.slug)
                .join(Pupil, Pupil.id == Guardianship.pupil_id)
                .join(Dossier, Dossier.pupil_id == Pupil.id)
                .join(CampaignVersion, CampaignVersion.id == Dossier.campaign_version_id)
                .where(Guardianship.account_id.in_(wanted))):
            children[account_id].add((pupil_id, born or date.max, slug))
    facts: dict[int, tuple[int, int]] = {}
    for dossier_id, pupil_id, slug in dossiers:
        siblings = {(born, sibling) for account in accounts.get(pupil_id, ())
                    for sibling, born, s in children[account] if s == slug}
        own = next((k for k in siblings if k[1] == pupil_id), None)
        facts[dossier_id] = (len(siblings),
                             sum(1 for k in siblings if own is not None and k < own))
    return facts
