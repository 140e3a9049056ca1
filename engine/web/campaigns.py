"""The compiled campaign of a stored version, from the running app's cache."""

from __future__ import annotations

from engine.campaign.model import Campaign
from engine.dossiers.models import CampaignVersion
from engine.web.state import app_state


def campaign_of(version: CampaignVersion) -> Campaign:
    return app_state().campaigns.campaign_of(version)
