"""What families tell the school besides their answers: a locked, prefilled value they say is
wrong (a dispute, an event of the dossier), and the satisfaction rating after submission.

Both are written without touching the dossier row, so its version stays as the other guardian
may hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.campaign.model import Page
from engine.db import utcnow
from engine.diagnostics import EngineError
from engine.fields.common import invisible_characters

from .campaigns import Redaction
from .models import Dossier, DossierEvent, Pupil, SatisfactionRating
from .states import EDITABLE, Actor, ActorKind

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
    """The guardian rated the dossier already (one rating per guardian and dossier)."""


class RatingClosed(FeedbackError):
    """The dossier is not sent: there is nothing to rate yet."""


INVISIBLE_MESSAGE: Final = ("Ce texte contient des caractères invisibles ou de contrôle : "
                            "retirez-les, puis envoyez de nouveau.")


def _check_visible(text: str, name: str) -> None:
    """What a family writes to the school holds no control, bidi or zero-width character."""
    if any(invisible_characters(text)):
        raise InvalidFeedback({name: INVISIBLE_MESSAGE})


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
    _check_visible(message, "message")
    # an event only: the dossier row (and its version) stays as the other guardian may hold it
    event = DossierEvent(dossier_id=dossier.id, at=utcnow(), actor_kind=actor.kind.value,
                         actor_id=actor.id, kind=DISPUTED,
                         data={"page": page.id, "field": spec.id, "message": message})
    session.add(event)
    session.commit()
    return event


def disputes_of(session: Session, dossier: Dossier, page: Page,
                redaction: Redaction | None = None) -> list[DossierEvent]:
    """What the family reported about this page's locked values (never the whole history);
    not what a guardian ``redaction`` hides wrote (a confidential guardian's message may
    hold their new number or address)."""
    events = session.scalars(
        select(DossierEvent).where(DossierEvent.dossier_id == dossier.id,
                                   DossierEvent.kind == DISPUTED)
        .order_by(DossierEvent.id))
    return [e for e in events if e.data.get("page") == page.id and not (
        redaction is not None and e.actor_kind == ActorKind.FAMILY.value
        and redaction.hides_account(e.actor_id))]


def rating_of(session: Session, dossier: Dossier, account_id: int) -> SatisfactionRating | None:
    """The rating the guardian ``account_id`` gave ``dossier``, if any."""
    return session.scalar(select(SatisfactionRating)
                          .where(SatisfactionRating.dossier_id == dossier.id,
                                 SatisfactionRating.account_id == account_id))


def rate_dossier(session: Session, dossier: Dossier, account_id: int, score: str, comment: str,
                 ) -> SatisfactionRating:
    """Store the guardian ``account_id``'s rating: ``score`` « 1 » to « 5 », an optional
    ``comment``. Each guardian rates for themselves, once per dossier.

    :raises RatingClosed: the dossier is not sent.
    :raises AlreadyRated: this guardian rated it already.
    :raises InvalidFeedback: the score or the comment cannot be kept.
    """
    if dossier.state in EDITABLE:
        raise RatingClosed(f"dossier in state {dossier.state.value}")
    if rating_of(session, dossier, account_id) is not None:
        raise AlreadyRated("one rating per guardian and dossier")
    errors = {}
    if score not in SCORES:
        errors["score"] = "Choisissez une note de 1 à 5."
    if len(comment) > MAX_COMMENT:
        errors["comment"] = f"Votre commentaire dépasse {MAX_COMMENT} caractères."
    elif any(invisible_characters(comment)):
        errors["comment"] = INVISIBLE_MESSAGE
    if errors:
        raise InvalidFeedback(errors)
    rating = SatisfactionRating(dossier_id=dossier.id, account_id=account_id, score=int(score),
                                comment=comment or None)
    session.add(rating)
    try:
        session.commit()
    except IntegrityError:  # the same guardian, in another tab, at the same moment
        session.rollback()
        raise AlreadyRated("one rating per guardian and dossier") from None
    return rating


@dataclass(frozen=True, slots=True)
class RatingStatistics:
    """The ratings of some dossiers: how many, from how many people about how many dossiers,
    and their mean (None without any)."""

    ratings: int
    people: int
    dossiers: int
    average: Decimal | None


def rating_statistics(session: Session, establishment_id: int | None = None) -> RatingStatistics:
    """Ratings of every dossier, or of one establishment's; a rating older than the
    per-guardian rule counts as one person."""
    query = select(SatisfactionRating.dossier_id, SatisfactionRating.account_id,
                   SatisfactionRating.score, SatisfactionRating.id)
    if establishment_id is not None:
        query = query.join(Dossier, Dossier.id == SatisfactionRating.dossier_id).join(
            Pupil, Pupil.id == Dossier.pupil_id).where(Pupil.establishment_id == establishment_id)
    rows = session.execute(query).all()
    people = {("account", r.account_id) if r.account_id is not None else ("rating", r.id)
              for r in rows}
    average = (Decimal(sum(r.score for r in rows)) / len(rows)).quantize(Decimal("0.1")) \
        if rows else None
    return RatingStatistics(len(rows), len(people), len({r.dossier_id for r in rows}), average)
