"""The campaign's figures on a fixture whose answers are known (tests/statskit.py): take-up,
sendings per day, satisfaction by people and by dossiers, median time, changed fields,
refusals by reason; several campaigns together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from engine.dossiers.models import Dossier
from engine.dossiers.states import DossierState
from engine.dossiers.statistics import (
    Day,
    Statistics,
    campaign_statistics,
    combined,
    percent,
    rows_of,
)
from engine.dossiers.versions import CampaignCache

from statskit import reported_figures


def _figures(db_session: Session, dossier: Dossier) -> Statistics:
    cache = CampaignCache()
    latest = cache.campaign_of(dossier.campaign_version)
    return campaign_statistics(
        db_session, rows_of(db_session, dossier.pupil.establishment_id, "reinscription-2026",
                            latest, lambda d: cache.campaign_of(d.campaign_version)),
        latest=latest)


def test_the_reported_figures_read_off_directly(db_session: Session,
                                                make_dossier: Callable[..., Dossier],
                                                make_account: Callable[..., Any]) -> None:
    stats = _figures(db_session, reported_figures(db_session, make_dossier, make_account)[0])
    assert (stats.dossiers, stats.opened, stats.sent, stats.take_up) == (51, 50, 49, 98)
    assert stats.states[DossierState.LEAVING] == 1
    assert stats.states[DossierState.NOT_STARTED] == 1
    assert stats.days() == [Day(date(2027, 6, 1), 17, 17), Day(date(2027, 6, 2), 16, 33),
                            Day(date(2027, 6, 3), 16, 49)]
    # people: 40 ratings, 26 with a comment; dossiers: 39 of the 49 sent were rated
    assert dict(stats.scores) == {1: 0, 2: 0, 3: 0, 4: 20, 5: 20}
    assert (stats.ratings, stats.average) == (40, Decimal("4.5"))
    assert (stats.rated_dossiers, stats.response_rate) == (39, 80)
    assert (stats.comments, stats.commented_dossiers, stats.comment_rate) == (26, 26, 65)
    assert stats.median_completion == timedelta(minutes=25)
    assert stats.most_changed() == [("Téléphone portable de l'élève", 3)]
    assert dict(stats.refusals) == {"Document illisible": 2, "Document périmé": 1}
    latest = stats.latest_comments
    assert len(latest) == 5 and all(c.text.startswith("Très pratique ") for c in latest)
    assert [c.at for c in latest] == sorted((c.at for c in latest), reverse=True)


def test_campaigns_together_and_an_empty_one(db_session: Session,
                                             make_dossier: Callable[..., Dossier]) -> None:
    empty = _figures(db_session, make_dossier())
    assert (empty.take_up, empty.average, empty.response_rate, empty.comment_rate,
            empty.median_completion, empty.days()) == (0, None, None, None, None, [])
    both = combined([empty, empty])
    assert (both.dossiers, both.opened, both.sent) == (2, 2, 0)
    assert percent(1, 3) == 33 and percent(1, 2) == 50 and percent(1, 0) is None
