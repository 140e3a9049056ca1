"""The school's actions on a dossier: send back with targets, validate (one, or in bulk only
those with nothing to look at), leaving, document decisions, corrections — each through the
state machine with its staff actor, and audited in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.dossiers import audit
from engine.dossiers.models import Dossier, StoredFile
from engine.dossiers.review import (
    Blockers,
    DocumentDecision,
    RefusalReason,
    ReviewError,
    bulk_validate,
    correct_value,
    decide_document,
    mark_leaving,
    send_back,
    validate,
)
from engine.dossiers.services import StaleDossierError, change_state
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.versions import CampaignCache

from conftest import MakeAccount, MakeDossier, MakeStaff


def _submitted(db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier,
               first_name: str = "Léa") -> Dossier:
    account, _ = make_account()
    dossier = make_dossier(account, first_name=first_name)
    family = Actor.family(account.id)
    change_state(db_session, dossier, dossier.row_version, DossierState.IN_PROGRESS, family)
    change_state(db_session, dossier, dossier.row_version, DossierState.SUBMITTED, family)
    return dossier


def _actions(db_session: Session) -> list[str]:
    return [e.action for e in reversed(audit.entries(db_session))]


def test_send_back_then_resubmit(db_session: Session, make_account: MakeAccount,
                                 make_dossier: MakeDossier, make_staff: MakeStaff) -> None:
    dossier = _submitted(db_session, make_account, make_dossier)
    agent = Actor.staff(make_staff().account.id)
    with pytest.raises(ReviewError):
        send_back(db_session, dossier, dossier.row_version, agent, message="  ")
    dossier.answers = {"telephone_eleve": "0611111111"}
    db_session.commit()
    send_back(db_session, dossier, dossier.row_version, agent,
              message="Le justificatif de domicile est illisible.",
              targets=["justificatif_domicile", "justificatif_domicile"])
    assert dossier.state is DossierState.TO_CORRECT
    assert dossier.correction_targets == ["justificatif_domicile"]
    assert dossier.reviewed_answers == {"telephone_eleve": "0611111111"}
    assert _actions(db_session) == ["dossier_sent_back"]
    change_state(db_session, dossier, dossier.row_version, DossierState.SUBMITTED,
                 Actor.family(1))
    assert dossier.correction_targets == [] and dossier.correction_message is None
    assert audit.verify_chain(db_session)[1] is None


def test_validate_and_leaving_go_through_the_state_machine(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier,
        make_staff: MakeStaff) -> None:
    dossier = _submitted(db_session, make_account, make_dossier)
    agent = Actor.staff(make_staff().account.id)
    stale = dossier.row_version - 1
    with pytest.raises(StaleDossierError):
        validate(db_session, dossier, stale, agent)
    validate(db_session, dossier, dossier.row_version, agent)
    assert dossier.state is DossierState.VALIDATED and dossier.validated_at is not None
    with pytest.raises(ReviewError):
        validate(db_session, dossier, dossier.row_version, agent)
    mark_leaving(db_session, dossier, dossier.row_version, agent, reason="Déménagement")
    assert dossier.state is DossierState.LEAVING and dossier.leaving_reason == "Déménagement"
    [*_, last] = dossier.events
    assert (last.kind, last.actor_kind, last.actor_id) == ("state_changed", "staff", agent.id)
    assert _actions(db_session) == ["dossier_validated", "dossier_leaving"]


def test_bulk_validation_skips_dossiers_with_something_to_look_at(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier,
        make_staff: MakeStaff) -> None:
    plain = _submitted(db_session, make_account, make_dossier, "Léa")
    busy = _submitted(db_session, make_account, make_dossier, "Hugo")
    draft = make_dossier(make_account()[0], first_name="Zoé")
    agent = Actor.staff(make_staff().account.id)
    done, skipped = bulk_validate(
        db_session, [plain, busy, draft], agent,
        lambda d: Blockers(changes=1) if d.id == busy.id else Blockers())
    assert (done, skipped) == (1, 2)
    assert plain.state is DossierState.VALIDATED
    assert busy.state is DossierState.SUBMITTED and draft.state is DossierState.NOT_STARTED


def _file(db_session: Session, dossier: Dossier) -> StoredFile:
    stored = StoredFile(dossier_id=dossier.id, document_id="justificatif_domicile",
                        storage_key="k" * 32, filename="facture.pdf", sha256="0" * 64, size=10,
                        mime_type="application/pdf")
    db_session.add(stored)
    db_session.commit()
    return stored


def test_document_decisions_need_a_reason_and_can_be_undone(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier,
        make_staff: MakeStaff) -> None:
    dossier = _submitted(db_session, make_account, make_dossier)
    stored = _file(db_session, dossier)
    agent = Actor.staff(make_staff().account.id)
    with pytest.raises(ReviewError):
        decide_document(db_session, dossier, stored, agent, DocumentDecision.REFUSED)
    with pytest.raises(ReviewError):
        decide_document(db_session, dossier, stored, agent, DocumentDecision.REFUSED,
                        reason=RefusalReason.OTHER)
    decide_document(db_session, dossier, stored, agent, DocumentDecision.REFUSED,
                    reason=RefusalReason.ILLEGIBLE)
    assert (stored.review_status, stored.refusal_reason) == ("refused", "illisible")
    assert stored.reviewed_by_id == int(agent.id or 0)
    decide_document(db_session, dossier, stored, agent, DocumentDecision.TO_REVIEW)
    assert (stored.review_status, stored.refusal_reason, stored.reviewed_at) == (
        "to_review", None, None)
    other = _submitted(db_session, make_account, make_dossier, "Hugo")
    with pytest.raises(ReviewError):
        decide_document(db_session, other, stored, agent, DocumentDecision.ACCEPTED)
    assert _actions(db_session) == ["document_decided", "document_decided"]


def test_a_correction_is_stored_apart_and_audited(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier,
        make_staff: MakeStaff) -> None:
    dossier = _submitted(db_session, make_account, make_dossier)
    agent = Actor.staff(make_staff().account.id)
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    with pytest.raises(ReviewError):
        correct_value(db_session, campaign, dossier, dossier.row_version, agent, "nope", 1)
    correct_value(db_session, campaign, dossier, dossier.row_version, agent, "classe_actuelle",
                  "5B")
    fresh = db_session.scalars(select(Dossier).where(Dossier.id == dossier.id)).one()
    assert fresh.corrections == {"classe_actuelle": "5B"}
    assert fresh.answers.get("classe_actuelle") is None
    assert fresh.events[-1].data == {"fields": ["classe_actuelle"]}
    assert _actions(db_session) == ["value_corrected"]
