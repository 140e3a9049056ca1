"""A campaign whose figures are the ones the original team reported, to read off directly:
98 % take-up, 80 % of dossiers rated, 4,5 / 5, 65 % of ratings with a comment.

51 dossiers: one leaving the school (not counted), one never started, 49 sent over three
days (17, 16, 16) each 1 to 49 minutes after the family's first action (median 25 min);
39 dossiers rated by one guardian, one of them by its second guardian too (40 ratings:
20 × 5, 20 × 4; 26 with a comment); 3 families changed the pupil's phone; three
documents refused (twice illegible, once expired).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.dossiers.feedback import rate_dossier
from engine.dossiers.models import Dossier, DossierEvent
from engine.dossiers.services import change_state
from engine.dossiers.states import Actor, DossierState

FIRST_DAY = datetime(2027, 6, 1, 6, 0, tzinfo=UTC)  # 8:00 in Paris
SENT = 49


def reported_figures(db_session: Session, make_dossier: Callable[..., Dossier],
                     make_account: Callable[..., Any]) -> list[Dossier]:
    """The campaign of the module docstring; its dossiers (sent ones first)."""
    first, _ = make_account("Claire Martin")
    second, _ = make_account("Paul Durand")
    dossiers = [make_dossier(first, second, first_name=f"Élève{n:02d}", last_name="MARTIN",
                             prefill={"pupil": {"first_name": f"Élève{n:02d}",
                                                "last_name": "MARTIN", "level": "5e",
                                                "phone_mobile": "0612345678"}},
                             answers={"telephone_eleve": "0700000001"} if n < 3 else None)
                for n in range(SENT + 2)]
    family = Actor.family(first.id)
    for k, dossier in enumerate(dossiers[:SENT]):
        change_state(db_session, dossier, dossier.row_version, DossierState.IN_PROGRESS, family)
        change_state(db_session, dossier, dossier.row_version, DossierState.SUBMITTED, family)
        start = FIRST_DAY + timedelta(days=k % 3)
        for event in dossier.events:
            if event.kind == "state_changed":
                sent = event.data["to"] == DossierState.SUBMITTED.value
                db_session.execute(update(DossierEvent).where(DossierEvent.id == event.id)
                                   .values(at=start + timedelta(minutes=k + 1) if sent
                                           else start))
    leaving = dossiers[SENT + 1]
    change_state(db_session, leaving, leaving.row_version, DossierState.LEAVING,
                 Actor.staff(1))
    db_session.commit()
    for k, dossier in enumerate(dossiers[:39]):
        rate_dossier(db_session, dossier, first.id, "5" if k < 20 else "4",
                     f"Très pratique {k}" if k < 26 else "")
    rate_dossier(db_session, dossiers[0], second.id, "4", "")
    for reason in ("illisible", "illisible", "perime"):
        dossiers[1].record(Actor.staff(1), "document_decided",
                           {"file": "x", "document": "justificatif_domicile",
                            "from": "to_review", "to": "refused", "reason": reason})
    dossiers[2].record(Actor.staff(1), "document_decided",
                       {"file": "y", "document": "justificatif_domicile", "from": "to_review",
                        "to": "accepted", "reason": None})
    db_session.commit()
    return dossiers
