"""Dossiers waiting for a guardian's answer (``required: all_guardians``, see
docs/campaign-language.md, "Answers per guardian"): a guardian asked to send the dossier
(``submission_waiting`` in its history since it was last sent) and another guardian has not
answered yet, so it stays in progress (or to correct). The reminder audience
``waiting_guardian`` and the list's filter ``attente`` read them here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from engine.campaign.model import Campaign
from engine.rules import evaluate_dossier

from .campaigns import context_of, effective_answers
from .corrected import corrected_answers
from .guardian_answers import waiting_for
from .models import Dossier, DossierEvent, Guardianship, Pupil
from .states import DossierState
from .submission import SUBMISSION_WAITING

#: where a dossier waits: a guardian's request to send leaves its state as it was
STATES: Final = (DossierState.IN_PROGRESS, DossierState.TO_CORRECT)
_CHUNK: Final = 1000


def requested(session: Session, dossier_ids: Iterable[int]) -> set[int]:
    """The dossiers among ``dossier_ids`` whose sending a guardian asked for, waiting for
    another guardian, since they were last sent."""
    ids = list(dossier_ids)
    found: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        found.update(session.scalars(
            select(DossierEvent.dossier_id).distinct()
            .join(Dossier, Dossier.id == DossierEvent.dossier_id)
            .where(DossierEvent.dossier_id.in_(ids[start:start + _CHUNK]),
                   DossierEvent.kind == SUBMISSION_WAITING,
                   or_(Dossier.submitted_at.is_(None), DossierEvent.at > Dossier.submitted_at))))
    return found


def asks_every_guardian(campaign: Campaign) -> bool:
    """Whether a field of the campaign has ``required: all_guardians`` (a dossier can wait)."""
    return any(spec.all_guardians for spec in campaign.top_fields())


def awaited(dossier: Dossier, campaign: Campaign) -> list[Guardianship]:
    """The guardians who have not answered every shown field with ``required:
    all_guardians`` (the school's reading of the answers decides what is shown)."""
    if not asks_every_guardian(campaign):
        return []
    ctx = context_of(dossier)
    answers = corrected_answers(dossier.answers, dossier.corrections)
    visible = evaluate_dossier(campaign, effective_answers(campaign, answers, ctx,
                                                           dossier.corrections), ctx).visible
    return waiting_for(dossier, campaign, visible)


def waiting_dossiers(session: Session, dossier_ids: Iterable[int],
                     campaign_for: Callable[[Dossier], Campaign]) -> set[int]:
    """The dossiers among ``dossier_ids`` (in :data:`STATES`) that wait for a guardian's
    answer a guardian asked to send them with."""
    asked = sorted(requested(session, dossier_ids))
    found: set[int] = set()
    for start in range(0, len(asked), _CHUNK):
        for dossier in session.scalars(
                select(Dossier).where(Dossier.id.in_(asked[start:start + _CHUNK]))
                .options(selectinload(Dossier.pupil).selectinload(Pupil.guardianships)
                         .selectinload(Guardianship.account))):
            if awaited(dossier, campaign_for(dossier)):
                found.add(dossier.id)
    return found
