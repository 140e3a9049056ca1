"""The statistics of a campaign, and of all an establishment's campaigns together (for the
direction and the deployment administrator): the figures of
:mod:`engine.dossiers.statistics`, with server-drawn charts."""

from __future__ import annotations

from typing import Any

from flask import render_template
from sqlalchemy import select

from engine.dossiers.models import CampaignVersion, Establishment
from engine.dossiers.permissions import Permission
from engine.dossiers.states import LABELS, DossierState
from engine.dossiers.statistics import Statistics, campaign_statistics, combined, rows_of
from engine.web.database import get_session

from . import bp
from .access import establishment_for, staff_required
from .charts import (
    average_text,
    duration_text,
    percent_text,
    scores_chart,
    sent_per_day,
)
from .context import campaign_for, latest_campaign


def _page(**context: Any) -> str:
    stats: Statistics = context["stats"]
    return render_template(
        "staff/statistics.html", per_day=sent_per_day(stats), scores=scores_chart(stats),
        labels=LABELS, states=list(DossierState), duration_text=duration_text,
        percent_text=percent_text, average_text=average_text(stats), **context)


@bp.get("/<uai>/<slug>/statistiques")
@staff_required
def statistics(uai: str, slug: str) -> str:
    establishment = establishment_for(uai, Permission.LIST_DOSSIERS)
    campaign = latest_campaign(establishment, slug)
    session = get_session()
    stats = campaign_statistics(session, rows_of(session, establishment.id, slug, campaign,
                                                 campaign_for), latest=campaign)
    return _page(establishment=establishment, campaign=campaign, slug=slug, stats=stats,
                 campaigns=[])


def _slugs(establishment: Establishment) -> list[str]:
    return sorted(set(get_session().scalars(select(CampaignVersion.slug).where(
        CampaignVersion.establishment_id == establishment.id))))


@bp.get("/<uai>/statistiques")
@staff_required
def establishment_statistics(uai: str) -> str:
    """Every campaign of the establishment side by side, then their figures together."""
    establishment = establishment_for(uai, Permission.MANAGE_CAMPAIGNS)
    session = get_session()
    campaigns = []
    for slug in _slugs(establishment):
        campaign = latest_campaign(establishment, slug)
        campaigns.append((slug, campaign, campaign_statistics(
            session, rows_of(session, establishment.id, slug, campaign, campaign_for), latest=campaign)))
    stats = combined([c[2] for c in campaigns])
    return _page(establishment=establishment, campaign=None, slug=None, stats=stats,
                 campaigns=campaigns, average_of=average_text)
