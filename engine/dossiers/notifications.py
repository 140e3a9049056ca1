"""The family's mails of the school's review: a document refused, a dossier sent back, a
decision on a request for an option with places.

One message per guardian with an address (the recipients of the confirmation mail), so no
guardian sees another's address; the text names the pupil, the document or fields and the
school's words, never an answer, so a confidential guardian's details cannot travel in it.
Rendered from ``templates/mail/`` without Flask (the caller gives the link) into a
:class:`~engine.dossiers.messages.Notice`, which a background job sends.
"""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader

from engine.campaign.model import Campaign
from engine.config import ROOT

from .documents import slot_label
from .messages import Notice, NoticeKind, notice
from .models import Dossier, StoredFile
from .places import PlaceRequest
from .review import REFUSAL_LABELS, RefusalReason

#: plain-text mail templates (no autoescape, as the app renders ``.txt`` files)
_TEMPLATES = Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=False)


def refusal_notice(dossier: Dossier, campaign: Campaign, stored: StoredFile,
                   url: str) -> Notice:
    """The mail telling the family why a file was refused."""
    try:
        reason = REFUSAL_LABELS[RefusalReason(stored.refusal_reason or "")]
    except ValueError:
        reason = REFUSAL_LABELS[RefusalReason.OTHER]
    text = _TEMPLATES.get_template("mail/document_refused.txt").render(
        dossier=dossier, campaign=campaign, stored=stored, reason=reason, url=url,
        document=slot_label(campaign, stored.document_id, dossier.answers))
    return notice(NoticeKind.REFUSAL, dossier,
                  f"Document à renvoyer pour le dossier de {dossier.pupil.first_name}", text)


def sent_back_notice(dossier: Dossier, campaign: Campaign, url: str) -> Notice:
    """The mail of the school's correction request."""
    text = _TEMPLATES.get_template("mail/sent_back.txt").render(
        dossier=dossier, campaign=campaign, url=url,
        targets=[slot_label(campaign, t, dossier.answers) for t in dossier.correction_targets or []])
    return notice(NoticeKind.SENT_BACK, dossier,
                  f"Dossier de {dossier.pupil.first_name} à corriger – {campaign.title.get()}",
                  text)


def place_decision_notice(dossier: Dossier, campaign: Campaign, request: PlaceRequest,
                          url: str) -> Notice:
    """The mail of the school's decision on a request (accepted, refused, waiting)."""
    text = _TEMPLATES.get_template("mail/place_decided.txt").render(
        dossier=dossier, campaign=campaign, request=request, url=url)
    return notice(NoticeKind.PLACE_DECISION, dossier,
                  f"{request.spec.label.get()} : demande {request.status_label} pour "
                  f"{dossier.pupil.first_name}", text)
