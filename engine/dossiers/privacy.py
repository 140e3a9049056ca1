"""What is held about one guardian and their children, as that guardian may read it: the
right of access (RGPD art. 15) served by the family side (« Mes données », JSON and PDF).

Each dossier is opened as the family pages open it (:func:`~engine.dossiers.answers.
open_dossier`): health answers of their own children included, staff-only fields left out, the
other guardian's contact details removed when the school marked them confidential. Of the
guardians' shared details, messages and ratings, only this guardian's own are included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.campaign.model import Campaign
from engine.db import utcnow
from engine.rules import Evaluation

from .answers import DossierView, open_dossier
from .documents import slot_label
from .models import (
    CampaignVersion,
    FamilyAccount,
    GuardianProfile,
    Guardianship,
    SatisfactionRating,
    SentMessage,
)
from .services import dossiers_of_account
from .states import LABELS
from .versions import latest_version

#: the version of the JSON layout, for whoever reads the file later
FORMAT: Final = "dossiersco-donnees-1"


@dataclass(frozen=True, slots=True)
class HeldData:
    """One guardian's account, their children's dossiers as they see them, and their own
    shared details, messages received and ratings given."""

    account: FamilyAccount
    dossiers: list[DossierView]
    profiles: list[GuardianProfile]
    messages: list[SentMessage]
    ratings: list[SatisfactionRating]
    at: datetime

    def as_json(self) -> dict[str, Any]:
        """Everything, JSON-ready (dates in ISO 8601, amounts as strings)."""
        account = self.account
        out: dict[str, Any] = _plain({
            "format": FORMAT,
            "generated_at": self.at,
            "account": {"login": account.login, "name": account.display_name,
                        "email": account.email, "created_at": account.created_at,
                        "last_login_at": account.last_login_at},
            "dossiers": [_dossier(view) for view in self.dossiers],
            "guardian_details": [{"establishment": p.establishment_id, "values": p.values,
                                  "updated_at": p.updated_at} for p in self.profiles],
            "messages_received": [{"at": m.at, "address": m.address, "subject": m.subject,
                                   "status": m.status} for m in self.messages],
            "ratings": [{"score": r.score, "comment": r.comment, "at": r.created_at}
                        for r in self.ratings],
        })
        return out


def seen_evaluation(view: DossierView) -> Evaluation:
    """The dossier's evaluation with the values its reader may not see removed."""
    return replace(view.evaluation,
                   values=view.redaction.answers(view.campaign, view.evaluation.values))


def _dossier(view: DossierView) -> dict[str, Any]:
    dossier, pupil = view.dossier, view.dossier.pupil
    est = view.campaign.establishment
    return {
        "reference": dossier.reference,
        "campaign": view.campaign.title.get(),
        "establishment": {"uai": est.uai, "name": est.name},
        "pupil": {"first_name": pupil.first_name, "last_name": pupil.last_name,
                  "birth_date": pupil.birth_date, "ine": pupil.ine},
        "state": LABELS[dossier.state],
        "created_at": dossier.created_at, "submitted_at": dossier.submitted_at,
        "validated_at": dossier.validated_at,
        "correction_message": dossier.correction_message,
        "answers": {k: v for k, v in seen_evaluation(view).values.items()
                    if k in _family_fields(view.campaign)},
        "imported": view.redaction.prefill(dossier.prefill),
        "fees": dict(dossier.computed),
        "documents": [{"document": f.document_id,
                       "label": slot_label(view.campaign, f.document_id, dossier.answers),
                       "filename": f.filename, "size": f.size,
                       "type": f.mime_type, "received_at": f.created_at,
                       "status": f.review_status, "refusal_reason": f.refusal_reason,
                       "refusal_note": f.refusal_note} for f in dossier.files],
        "history": [{"at": e.at, "what": e.kind, "by": e.actor_kind} for e in dossier.events],
        "purge_on": view.campaign.purge_on,
    }


def _family_fields(campaign: Campaign) -> frozenset[str]:
    return campaign.derived("family_field_ids",
                            lambda: frozenset(spec.id for spec in campaign.top_fields()))


def _plain(value: Any) -> Any:
    """``value`` with dates, decimals and other scalars as JSON understands them."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def held_data(session: Session, account: FamilyAccount,
              campaign_of: Callable[[CampaignVersion], Campaign], today: date) -> HeldData:
    """What is held about ``account`` and its children, as that guardian may read it."""
    views = [open_dossier(d, campaign_of(d.campaign_version), account.id, today=today,
                          session=session) for d in dossiers_of_account(session, account.id)]
    keys = select(Guardianship.guardian_key).where(Guardianship.account_id == account.id)
    establishments = {view.dossier.pupil.establishment_id for view in views}
    profiles = list(session.scalars(select(GuardianProfile).where(
        GuardianProfile.guardian_key.in_(keys),
        GuardianProfile.establishment_id.in_(establishments)).order_by(GuardianProfile.id)))
    messages = list(session.scalars(select(SentMessage).where(
        SentMessage.account_id == account.id).order_by(SentMessage.id)))
    ratings = list(session.scalars(select(SatisfactionRating).where(
        SatisfactionRating.account_id == account.id).order_by(SatisfactionRating.id)))
    return HeldData(account, views, profiles, messages, ratings, utcnow())


def notice_campaigns(session: Session, establishment_id: int,
                     campaign_of: Callable[[CampaignVersion], Campaign]) -> list[Campaign]:
    """The current version of each campaign of the establishment, newest first: what its
    privacy notice describes (the newest one's ``establishment`` says who to write to)."""
    slugs = session.scalars(select(CampaignVersion.slug).where(
        CampaignVersion.establishment_id == establishment_id).group_by(CampaignVersion.slug)
        .order_by(func.max(CampaignVersion.id).desc()))
    out = []
    for slug in slugs:
        version = latest_version(session, slug)
        if version is not None and version.establishment_id == establishment_id:
            out.append(campaign_of(version))
    return out
