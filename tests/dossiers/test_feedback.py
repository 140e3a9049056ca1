"""Disputes of locked values and satisfaction ratings (dossiers.feedback), without Flask."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from engine.campaign import load_campaign
from engine.campaign.model import Campaign
from engine.config import ROOT
from engine.dossiers.feedback import (
    MAX_COMMENT,
    MAX_MESSAGE,
    AlreadyRated,
    InvalidFeedback,
    NotDisputable,
    RatingClosed,
    RatingStatistics,
    dispute_prefill,
    disputes_of,
    rate_dossier,
    rating_of,
    rating_statistics,
)
from engine.dossiers.models import Dossier, FamilyAccount
from engine.dossiers.states import Actor, DossierState


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return load_campaign(ROOT / "campaigns" / "college-jean-moulin.yaml")


@pytest.fixture
def dossier(make_account: Callable[..., tuple[FamilyAccount, str]],
            make_dossier: Callable[..., Dossier]) -> Dossier:
    return make_dossier(make_account("Claire Martin")[0])


def test_a_dispute_of_a_locked_value_is_an_event_of_its_page(
        db_session: Session, dossier: Dossier, campaign: Campaign) -> None:
    eleve, famille = campaign.page("eleve"), campaign.page("famille")
    version = dossier.row_version
    event = dispute_prefill(db_session, dossier, eleve, "nom", "Mon nom est mal écrit",
                            Actor.family(7))
    assert (event.kind, event.actor_id) == ("prefill_disputed", "7")
    assert event.data == {"page": "eleve", "field": "nom", "message": "Mon nom est mal écrit"}
    assert [e.id for e in disputes_of(db_session, dossier, eleve)] == [event.id]
    assert disputes_of(db_session, dossier, famille) == []
    db_session.refresh(dossier)
    assert dossier.row_version == version  # the other guardian's copy stays current


@pytest.mark.parametrize("field_id", ["prenom_2", "inconnu", "responsables"])
def test_only_a_locked_field_of_the_page_can_be_disputed(
        db_session: Session, dossier: Dossier, campaign: Campaign, field_id: str) -> None:
    with pytest.raises(NotDisputable):
        dispute_prefill(db_session, dossier, campaign.page("eleve"), field_id, "Erreur",
                        Actor.family(7))


@pytest.mark.parametrize("message", ["", "x" * (MAX_MESSAGE + 1)])
def test_a_dispute_needs_a_short_message(db_session: Session, dossier: Dossier,
                                         campaign: Campaign, message: str) -> None:
    with pytest.raises(InvalidFeedback) as refused:
        dispute_prefill(db_session, dossier, campaign.page("eleve"), "nom", message,
                        Actor.family(7))
    assert list(refused.value.errors) == ["message"]
    assert disputes_of(db_session, dossier, campaign.page("eleve")) == []


def test_a_sent_dossier_is_rated_once(db_session: Session, dossier: Dossier) -> None:
    account = dossier.pupil.guardianships[0].account_id
    with pytest.raises(RatingClosed):
        rate_dossier(db_session, dossier, account, "5", "")
    dossier.state = DossierState.SUBMITTED
    db_session.commit()
    with pytest.raises(InvalidFeedback) as refused:
        rate_dossier(db_session, dossier, account, "6", "x" * (MAX_COMMENT + 1))
    assert set(refused.value.errors) == {"score", "comment"}
    assert rating_of(db_session, dossier, account) is None
    rating = rate_dossier(db_session, dossier, account, "4", "")
    assert (rating.score, rating.comment) == (4, None)
    assert rating_of(db_session, dossier, account) is rating
    with pytest.raises(AlreadyRated):
        rate_dossier(db_session, dossier, account, "5", "Très bien")


def test_each_guardian_rates_for_themselves(
        db_session: Session, make_account: Callable[..., tuple[FamilyAccount, str]],
        make_dossier: Callable[..., Dossier]) -> None:
    sophie, marc = make_account("Sophie")[0], make_account("Marc")[0]
    lea = make_dossier(sophie, marc, first_name="Léa")
    hugo = make_dossier(sophie, first_name="Hugo")
    for d in (lea, hugo):
        d.state = DossierState.SUBMITTED
    db_session.commit()
    assert rating_statistics(db_session) == RatingStatistics(0, 0, 0, None)
    rate_dossier(db_session, lea, sophie.id, "4", "")
    assert rating_of(db_session, lea, marc.id) is None  # Marc is not thanked for it
    rate_dossier(db_session, lea, marc.id, "2", "Trop long")
    rate_dossier(db_session, hugo, sophie.id, "5", "")
    with pytest.raises(AlreadyRated):
        rate_dossier(db_session, lea, sophie.id, "5", "")
    assert rating_statistics(db_session) == RatingStatistics(3, 2, 2, Decimal("3.7"))
    assert rating_statistics(db_session, lea.pupil.establishment_id).people == 2
    assert rating_statistics(db_session, -1) == RatingStatistics(0, 0, 0, None)
