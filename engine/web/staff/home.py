"""The agent's home page: the establishments they work for, their role and campaigns."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from engine.dossiers.models import CampaignVersion, Dossier
from engine.dossiers.permissions import ROLE_LABELS, role_in
from engine.dossiers.states import LABELS
from engine.web.database import get_session

from . import bp
from .access import current_staff, establishments_of, staff_required


@bp.get("/")
@staff_required
def home() -> str:
    account = current_staff()
    assert account is not None
    db = get_session()
    places = []
    for establishment in establishments_of(account):
        counts = db.execute(
            select(CampaignVersion.slug, CampaignVersion.title, Dossier.state, func.count())
            .join(Dossier, Dossier.campaign_version_id == CampaignVersion.id)
            .where(CampaignVersion.establishment_id == establishment.id)
            .group_by(CampaignVersion.slug, CampaignVersion.title, Dossier.state)
            .order_by(CampaignVersion.slug)).all()
        campaigns: dict[str, dict[str, object]] = {}
        for slug, title, state, count in counts:
            entry = campaigns.setdefault(slug, {"slug": slug, "title": title, "states": {},
                                                "total": 0})
            entry["states"][LABELS[state]] = count  # type: ignore[index]
            entry["total"] = int(entry["total"]) + count  # type: ignore[call-overload]
        role = role_in(account, establishment.id)
        places.append({"establishment": establishment, "campaigns": list(campaigns.values()),
                       "role": ROLE_LABELS[role] if role else "Administration"})
    return render_template("staff/home.html", account=account, places=places)
