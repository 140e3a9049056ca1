"""Telling the family about a review decision, from a staff route: the link to their dossier
on this deployment around :mod:`engine.dossiers.notifications`, and one background job per
action that sends the mails (the page never waits for the mail relay; a relay down is
retried, each message logged with the other messages to families)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import url_for

from engine.dossiers.messages import Notice
from engine.dossiers.models import Dossier, StoredFile
from engine.dossiers.notifications import (
    place_decision_notice,
    refusal_notice,
    sent_back_notice,
)
from engine.dossiers.places import PlaceRequest
from engine.jobs.tasks import FAMILY_NOTICE
from engine.web.campaigns import campaign_of
from engine.web.state import app_state

from .access import current_staff


def _link(endpoint: str, dossier: Dossier) -> str:
    return app_state().settings.base_url.rstrip("/") + url_for(endpoint,
                                                               public_id=dossier.public_id)


def _queue(dossier: Dossier, notices: Sequence[Notice]) -> None:
    """One job sending ``notices`` (about dossiers of ``dossier``'s campaign); none when no
    guardian has an address. Called once the decision is committed."""
    addressed = [n.to_params() for n in notices if n.recipients]
    if not addressed:
        return
    account = current_staff()
    assert account is not None
    app_state().jobs.enqueue(FAMILY_NOTICE, {"notices": addressed}, requested_by=account.id,
                             establishment_id=dossier.pupil.establishment_id,
                             campaign_slug=dossier.campaign_version.slug)


def tell_refusal(dossier: Dossier, stored: StoredFile) -> None:
    _queue(dossier, [refusal_notice(dossier, campaign_of(dossier.campaign_version), stored,
                                    _link("documents.overview", dossier))])


def tell_sent_back(dossier: Dossier) -> None:
    _queue(dossier, [sent_back_notice(dossier, campaign_of(dossier.campaign_version),
                                      _link("family.dossier", dossier))])


def tell_place_decisions(decided: Sequence[tuple[Dossier, PlaceRequest]]) -> None:
    """The decisions taken at once on an option's requests: one job for all their mails."""
    if decided:
        _queue(decided[0][0], [
            place_decision_notice(dossier, campaign_of(dossier.campaign_version), request,
                                  _link("family.dossier", dossier))
            for dossier, request in decided])
