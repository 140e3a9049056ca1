"""Telling the family about a review decision, from a staff route: the link to their dossier
on this deployment and the app's mail settings around :mod:`engine.dossiers.notifications`."""

from __future__ import annotations

from functools import partial

from flask import url_for

from engine.dossiers.models import Dossier, StoredFile
from engine.dossiers.notifications import (
    place_decision_message,
    refusal_message,
    sent_back_message,
    tell_family,
)
from engine.dossiers.places import PlaceRequest
from engine.mail import send_mail
from engine.web.campaigns import campaign_of
from engine.web.state import app_state


def _link(endpoint: str, dossier: Dossier) -> str:
    return app_state().settings.base_url.rstrip("/") + url_for(endpoint,
                                                               public_id=dossier.public_id)


def tell_refusal(dossier: Dossier, stored: StoredFile) -> int:
    subject, text = refusal_message(dossier, campaign_of(dossier.campaign_version), stored,
                                    _link("documents.overview", dossier))
    return tell_family(dossier, subject, text, partial(send_mail, app_state().settings))


def tell_sent_back(dossier: Dossier) -> int:
    subject, text = sent_back_message(dossier, campaign_of(dossier.campaign_version),
                                      _link("family.dossier", dossier))
    return tell_family(dossier, subject, text, partial(send_mail, app_state().settings))


def tell_place_decision(dossier: Dossier, request: PlaceRequest) -> int:
    subject, text = place_decision_message(dossier, campaign_of(dossier.campaign_version),
                                           request, _link("family.dossier", dossier))
    return tell_family(dossier, subject, text, partial(send_mail, app_state().settings))
