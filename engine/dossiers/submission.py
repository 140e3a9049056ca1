"""Submitting a dossier: freeze what the family confirmed, then tell each guardian.

The checks (no validation error, required documents present) belong to the caller, which
already holds the evaluation; this module makes the two writes and finds the recipients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

from engine.campaign.model import Campaign
from engine.diagnostics import EngineError
from engine.rules import Evaluation

from .guardian_answers import waiting_for
from .models import Dossier, Guardianship
from .sealed import family_answers
from .services import change_state, save_answers
from .states import Actor, DossierState

#: the history's event of a guardian asking to send a dossier that waits for another's answer
SUBMISSION_WAITING: Final = "submission_waiting"


class AwaitingGuardians(EngineError):
    """The answers are saved, but the dossier waits for other guardians' answers to fields
    with ``required: all_guardians`` before it goes to the school (it stays in progress)."""

    def __init__(self, waiting: list[Guardianship]) -> None:
        super().__init__(f"waiting for {len(waiting)} guardian(s)")
        self.waiting = waiting


def submit_dossier(session: Session, dossier: Dossier, expected_version: int,
                   answers: Mapping[str, Any], evaluation: Evaluation, actor: Actor, *,
                   campaign: Campaign | None = None) -> Dossier:
    """Store ``answers`` (the prefill the family confirmed included) when they differ, then
    move to submitted with the fees of ``evaluation`` frozen; ``campaign`` says which are
    health values, to seal.

    The answers are written first so that a failure between the two writes leaves an
    editable dossier with nothing lost, never a submitted one without its answers.

    A field with ``required: all_guardians`` that a guardian has not answered yet stops
    the dossier after the first write: it stays in progress, the request is recorded
    (``submission_waiting``, with the guardian keys awaited) and the last guardian to answer
    sends it.

    :raises StaleDossierError: someone saved since ``expected_version``.
    :raises NotEditableError: the dossier was already submitted.
    :raises AwaitingGuardians: the answers are saved; other guardians must answer first.
    """
    stored = family_answers(dossier, campaign) if campaign is not None else dossier.answers
    changed = {k: v for k, v in answers.items() if stored.get(k, object()) != v}
    if changed:
        save_answers(session, dossier, expected_version, changed, dossier.current_page, actor,
                     campaign=campaign)
        expected_version = dossier.row_version
    waiting = waiting_for(dossier, campaign, evaluation.visible) if campaign is not None else []
    if waiting:
        dossier.record(actor, SUBMISSION_WAITING, {"waiting": [g.guardian_key for g in waiting]})
        session.commit()
        raise AwaitingGuardians(waiting)
    return change_state(session, dossier, expected_version, DossierState.SUBMITTED, actor,
                        computed=evaluation.stored_money())


@dataclass(frozen=True, slots=True)
class Recipient:
    """A guardian to tell about the submission (account id, to know what they may see)."""

    account_id: int
    email: str


def confirmation_recipients(dossier: Dossier) -> list[Recipient]:
    """Each guardian of the pupil with an e-mail address: the account's, or else the one the
    school imported for that guardian. One message each, so nobody sees another's address."""
    guardians = dossier.prefill.get("guardians")
    imported: dict[str, str] = {}
    for i, record in enumerate(guardians if isinstance(guardians, list) else []):
        if isinstance(record, Mapping) and record.get("email"):
            key = str(record.get("personne_id") or i + 1)
            imported[key] = str(record["email"])
    out: list[Recipient] = []
    seen: set[str] = set()
    for link in sorted(dossier.pupil.guardianships, key=lambda g: g.id):
        email = (link.account.email or imported.get(link.guardian_key) or "").strip()
        if email and email.lower() not in seen:
            seen.add(email.lower())
            out.append(Recipient(link.account_id, email))
    return out
