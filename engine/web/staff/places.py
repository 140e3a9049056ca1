"""The requests for options with places (``places:`` on a choice's option): per option, the sent
dossiers that ask for it in the order they were sent, the places granted so far, and the
school's decision per dossier or for the ticked ones at once.

Deciding needs ``Permission.REVIEW_DOSSIERS`` (direction, secrétariat), like every review
action; each decision is audited and written in the dossier's history by
:func:`engine.dossiers.review.decide_place`, and each guardian with an address is told by mail
(accepted, waiting list, refused; not when a decision is undone): one background job for all
the mails of one post.
"""

from __future__ import annotations

from typing import Final

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from engine.campaign.model import Campaign
from engine.dossiers.listing import versions_of
from engine.dossiers.models import Dossier
from engine.dossiers.permissions import Permission
from engine.dossiers.places import (
    STATUS_LABELS,
    OptionRequests,
    PlaceRequest,
    PlaceStatus,
    request_for,
    requests_by_option,
    sent_dossiers,
)
from engine.dossiers.review import ReviewError, decide_place
from engine.dossiers.services import DossierError, StaleDossierError
from engine.dossiers.states import LABELS
from engine.web.campaigns import campaign_of
from engine.web.database import get_session

from . import bp
from .access import establishment_for, staff_actor, staff_required
from .family_mail import tell_place_decisions

#: the decisions the page offers, in the order of its buttons
DECISIONS: Final = (PlaceStatus.ACCEPTED, PlaceStatus.WAITING, PlaceStatus.REFUSED,
                    PlaceStatus.REQUESTED)
#: the buttons' words
ACTIONS: Final = {PlaceStatus.ACCEPTED: "Accepter", PlaceStatus.WAITING: "Liste d'attente",
                  PlaceStatus.REFUSED: "Refuser", PlaceStatus.REQUESTED: "Remettre à décider"}
#: most dossiers one post decides
MAX_SELECTED: Final = 2000


def _options(establishment_id: int, slug: str) -> tuple[list[OptionRequests], Campaign]:
    session = get_session()
    versions = versions_of(session, establishment_id, slug)
    if not versions:
        abort(404)
    campaign = campaign_of(max(versions, key=lambda v: v.id))
    return requests_by_option(campaign, sent_dossiers(session, versions)), campaign


def _status(text: str) -> PlaceStatus:
    try:
        return PlaceStatus(text)
    except ValueError:
        abort(400)


@bp.route("/<uai>/<slug>/places", methods=["GET", "POST"])
@staff_required
def places(uai: str, slug: str) -> Response:
    establishment = establishment_for(uai, Permission.REVIEW_DOSSIERS)
    options, campaign = _options(establishment.id, slug)
    form = FlaskForm()
    if request.method == "GET":
        return make_response(render_template(
            "staff/places.html", establishment=establishment, campaign=campaign, slug=slug,
            options=options, labels=LABELS, status_labels=STATUS_LABELS, decisions=DECISIONS,
            actions=ACTIONS, form=form))
    if not form.validate_on_submit():
        abort(400)
    option = next((o for o in options if o.key == request.form.get("option")), None)
    if option is None:
        abort(400)
    one = str(request.form.get("un") or "")
    if one:  # a row's button: "<public id> <status>"
        public_id, _, word = one.partition(" ")
        chosen, status = [public_id], _status(word)
    else:
        chosen = request.form.getlist("dossier")[:MAX_SELECTED]
        word = str(request.form.get("statut") or "")
        if not word:
            flash("Choisissez la décision à appliquer aux demandes cochées.", "error")
            return redirect(url_for("staff.places", uai=uai, slug=slug, _anchor=option.key))
        status = _status(word)
    _decide(option, campaign, set(chosen), status)
    return redirect(url_for("staff.places", uai=uai, slug=slug, _anchor=option.key))


def _decide(option: OptionRequests, campaign: Campaign, chosen: set[str],
            status: PlaceStatus) -> None:
    """Decide for each chosen dossier of the option, in the order they were sent, and say
    how it went (a refused acceptance stops the rest: the places are taken). The places
    are the campaign's latest version's, whatever version a dossier was opened with."""
    rows = [d for d, _ in option.rows if d.public_id in chosen]
    if not rows:
        flash("Cochez au moins une demande.", "error")
        return
    done = 0
    told: list[tuple[Dossier, PlaceRequest]] = []
    for dossier in rows:
        try:
            decide_place(get_session(), campaign, dossier, dossier.row_version, staff_actor(),
                         option.spec.id, status, option)
        except StaleDossierError:
            flash(f"Le dossier de {dossier.pupil.first_name} {dossier.pupil.last_name} a été "
                  "modifié entre-temps : vérifiez-le, puis recommencez.", "warning")
            continue
        except (ReviewError, DossierError) as exc:
            flash(getattr(exc, "message", str(exc)), "error")
            break
        done += 1
        decided = request_for(campaign, dossier, option.spec.id)
        if decided is not None and status is not PlaceStatus.REQUESTED:
            told.append((dossier, decided))
    tell_place_decisions(told)
    if done:
        plural = "s" if done > 1 else ""
        flash(f"« {option.label} » : {done} décision{plural} enregistrée{plural} "
              f"({STATUS_LABELS[status]}).", "success")
