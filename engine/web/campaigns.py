"""The compiled campaign of a stored version, for the running app (its campaigns folder and
field types)."""

from __future__ import annotations

from engine.campaign.model import Campaign
from engine.dossiers import campaigns
from engine.dossiers.models import CampaignVersion
from engine.web.state import app_state


def campaign_of(version: CampaignVersion) -> Campaign:
    state = app_state()
    return campaigns.campaign_of(version, state.settings.campaigns_dir, state.registry)
