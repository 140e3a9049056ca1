"""What the school asked the family to correct, as the family's side shows it: the labels of
the fields and documents named in ``Dossier.correction_targets``, the wizard pages holding
them (the wizard opens on the first), and the values the school sets in many dossiers at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.campaign.model import Campaign, Page, slot_parts

from .documents import slot_label
from .models import Dossier
from .review import ReviewError, correct_value
from .services import DossierError
from .states import Actor, DossierState


def _holds(page: Page, campaign: Campaign, target: str) -> bool:
    if any(spec.id == target for spec in page.fields):
        return True
    document_id = slot_parts(target)[0]
    return page.documents and any(d.id == document_id for d in campaign.documents)


@dataclass(frozen=True, slots=True)
class CorrectionRequest:
    """The school's message and targets as one wizard page shows them."""

    message: str
    #: (target id, label) of the targets on this page
    here: list[tuple[str, str]]
    #: the other pages holding targets, in campaign order
    pages: list[Page]

    def highlights(self, target: str) -> bool:
        return any(t == target for t, _label in self.here)


def correction_request(dossier: Dossier, campaign: Campaign, page: Page | None,
                       visible_pages: Sequence[Page]) -> CorrectionRequest | None:
    """What to show on ``page`` of a dossier sent back; None when it was not sent back."""
    if dossier.state is not DossierState.TO_CORRECT or not dossier.correction_message:
        return None
    targets = dossier.correction_targets or []
    here = [(t, slot_label(campaign, t, dossier.answers)) for t in targets
            if page is not None and _holds(page, campaign, t)]
    pages = [p for p in target_pages(campaign, targets, visible_pages) if p is not page]
    return CorrectionRequest(dossier.correction_message, here, pages)


def target_pages(campaign: Campaign, targets: Iterable[str],
                 visible_pages: Sequence[Page]) -> list[Page]:
    """The visible pages holding at least one target, in campaign order."""
    wanted = list(targets)
    return [p for p in visible_pages if any(_holds(p, campaign, t) for t in wanted)]


def bulk_correct(session: Session, dossiers: Iterable[Dossier],
                 campaign_for: Callable[[Dossier], Campaign], actor: Actor, field_id: str,
                 value: Any) -> tuple[int, int]:
    """Set one value the school decides (a destination MEF…) in every dossier, each in its
    own transaction and audited as a correction; returns (set, skipped: changed meanwhile or
    the field unknown to the dossier's campaign version)."""
    done = skipped = 0
    for dossier in dossiers:
        try:
            correct_value(session, campaign_for(dossier), dossier, dossier.row_version, actor,
                          field_id, value)
        except (ReviewError, DossierError):
            skipped += 1
        else:
            done += 1
    return done, skipped
