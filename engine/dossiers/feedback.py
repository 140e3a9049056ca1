"""What families tell the school besides their answers: a locked, prefilled value they say is
wrong (a dispute, an event of the dossier), and the satisfaction rating after submission.

Both are written without touching the dossier row, so its version stays as the other guardian
may hold it.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.campaign.model import Page
from engine.db import utcnow
from engine.diagnostics import EngineError

from .models import Dossier, DossierEvent, SatisfactionRating
from .states import EDITABLE, Actor

MAX_MESSAGE: Final = 1000
MAX_COMMENT: Final = 2000
SCORES: Final = frozenset({"1", "2", "3", "4", "5"})
DISPUTED: Final = "prefill_disputed"


class FeedbackError(EngineError):
    """Base of the refusals of this module."""


class NotDisputable(FeedbackError):
    """The field named is not a locked field of the page."""


class InvalidFeedback(FeedbackError):
    """What the family wrote cannot be kept; ``errors`` by input name, in French."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class AlreadyRated(FeedbackError):
    """The dossier has its rating already (one per dossier)."""


class RatingClosed(FeedbackError):
    """The dossier is not sent: there is nothing to rate yet."""


def dispute_prefill(session: Session, dossier: Dossier, page: Page, field_id: str,
                    message: str, actor: Actor) -> DossierEvent:
    """Record that the family says the locked value of ``field_id`` on ``page`` is wrong.

    :raises NotDisputable: ``field_id`` is not a locked field of ``page``.
    :raises InvalidFeedback: the message is empty or longer than :data:`MAX_MESSAGE`.
    """
    spec = next((s for s in page.fields if s.id == field_id and not s.editable), None)
    if spec is None:
        raise NotDisputable(f"{field_id!r} is not a locked field of page {page.id!r}")
    if not message or len(message) > MAX_MESSAGE:
        raise InvalidFeedback({"message": f"Décrivez l'erreur en quelques mots ({MAX_MESSAGE} "
                                          "caractères au plus)."})
    # an event only: the dossier row (and its version) stays as the other guardian may hold it
    event = DossierEvent(dossier_id=dossier.id, at=utcnow(), actor_kind=actor.kind.value,
                         actor_id=actor.id, kind=DISPUTED,
                         data={"page": page.id, "field": spec.id, "message": message})
    session.add(event)
    session.commit()
    return event


def disputes_of(session: Session, dossier: Dossier, page: Page) -> list[DossierEvent]:
    """What the family reported about this page's locked values (never the whole history)."""
    events = session.scalars(
        select(DossierEvent).where(DossierEvent.dossier_id == dossier.id,
                                   DossierEvent.kind == DISPUTED)
        .order_by(DossierEvent.id))
    return [e for e in events if e.data.get("page") == page.id]


def rating_of(session: Session, dossier: Dossier) -> SatisfactionRating | None:
    return session.scalar(select(SatisfactionRating)
                          .where(SatisfactionRating.dossier_id == dossier.id))


def rate_dossier(session: Session, dossier: Dossier, score: str, comment: str,
                 ) -> SatisfactionRating:
    """Store the family's rating: ``score`` « 1 » to « 5 », an optional ``comment``.

    :raises RatingClosed: the dossier is not sent.
    :raises AlreadyRated: it was rated already.
    :raises InvalidFeedback: the score or the comment cannot be kept.
    """
    if dossier.state in EDITABLE:
        raise RatingClosed(f"dossier in state {dossier.state.value}")
    if rating_of(session, dossier) is not None:
        raise AlreadyRated("one rating per dossier")
    errors = {}
    if score not in SCORES:
        errors["score"] = "Choisissez une note de 1 à 5."
    if len(comment) > MAX_COMMENT:
        errors["comment"] = f"Votre commentaire dépasse {MAX_COMMENT} caractères."
    if errors:
        raise InvalidFeedback(errors)
    rating = SatisfactionRating(dossier_id=dossier.id, score=int(score), comment=comment or None)
    session.add(rating)
    session.commit()
    return rating
