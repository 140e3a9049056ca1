"""What every staff page of a campaign or a dossier needs to know of its request: the dossier
of the URL (in the agent's establishment), the campaign's latest version, the list's filters
read from the query string, and which fields the agent may read.

The staff modules (dossiers, actions, exports, messages, jobs) share these helpers; none of
them registers a route.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from flask import abort, redirect, request, url_for
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager, joinedload
from werkzeug.wrappers import Response

from engine.campaign.model import Campaign, FieldSpec
from engine.dossiers import sealed
from engine.dossiers.family import load_families
from engine.dossiers.listing import Filters, parse_filters, versions_of
from engine.dossiers.models import CampaignVersion, Dossier, Establishment, Pupil
from engine.dossiers.permissions import Permission, can
from engine.web.campaigns import campaign_of
from engine.web.database import get_session

from .access import current_staff


def campaign_for(dossier: Dossier) -> Campaign:
    """The campaign version the dossier was opened with."""
    return campaign_of(dossier.campaign_version)


def viewer_include(establishment: Establishment) -> Callable[[FieldSpec], bool] | None:
    """Which fields the agent may read: health data for the infirmerie only (``None``: all)."""
    account = current_staff()
    if account is not None and can(account, Permission.READ_HEALTH, establishment.id):
        return None
    return sealed.not_health


#: the query-string keys of the list's filters (and of the exports and reminders it leads to)
FILTER_ARGS: Final = ("q", "etat", "niveau", "classe", "modifie", "page_modifiee", "documents",
                      "conflits", "a_decider", "attente", "regime", "adhesion", "tri", "ordre")


def list_filters(args: Mapping[str, str] | None = None) -> Filters:
    """The list's filters from a query string (the request's by default); anything unknown
    or malformed is ignored, never an error (:func:`engine.dossiers.listing.parse_filters`)."""
    return parse_filters(request.args if args is None else args)


def latest_campaign(establishment: Establishment, slug: str) -> Campaign:
    """The campaign ``slug`` of the establishment in its latest version, else 404."""
    versions = versions_of(get_session(), establishment.id, slug)
    if not versions:
        abort(404)
    return campaign_of(max(versions, key=lambda v: v.id))


#: :func:`dossier_in`'s query, built once, with what the dossier's pages read in the same
#: round trip: the pupil and the campaign version (its source only when the compiled campaign
#: is not cached yet)
_DOSSIER_IN = (
    select(Dossier).join(Pupil, Pupil.id == Dossier.pupil_id)
    .where(Dossier.public_id == bindparam("public_id"),
           Pupil.establishment_id == bindparam("establishment_id"))
    .options(contains_eager(Dossier.pupil),
             joinedload(Dossier.campaign_version).defer(CampaignVersion.source)))


def dossier_in(establishment: Establishment, public_id: str) -> Dossier:
    """The dossier ``public_id`` of the establishment, else 404 (whatever exists elsewhere).
    Its family facts are loaded with it by the lookups of :func:`load_families`, indexed by
    pupil and guardian: the correlated counts ``family_of`` runs otherwise scan every dossier
    of the campaign on SQLite, at each reading of the dossier's context (9 ms a view among
    2,000 dossiers)."""
    if len(public_id) > 32:
        abort(404)
    session = get_session()
    dossier = session.scalar(_DOSSIER_IN, {"public_id": public_id,
                                           "establishment_id": establishment.id})
    if dossier is None:
        abort(404)
    load_families(session, [dossier])
    return dossier


def back_to_dossier(uai: str, public_id: str, anchor: str | None = None) -> Response:
    """Where a dossier's action goes once done: the dossier's page."""
    return redirect(url_for("staff.dossier", uai=uai, public_id=public_id, _anchor=anchor))
