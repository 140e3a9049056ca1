"""The confirmation mail of a submission: one message per guardian, each with the
récapitulatif that guardian may read.

Rendered from ``templates/mail/submitted.txt`` without Flask; the caller passes what only it
knows: the link to the dossier, how to make the PDF for one reader, and how to send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from jinja2 import Environment, FileSystemLoader

from engine.campaign.model import Campaign
from engine.config import ROOT
from engine.diagnostics import EngineError
from engine.mail import MailError

from .campaigns import Redaction, redaction_for
from .models import Dossier
from .submission import confirmation_recipients
from .summary import date_text, money_text

log = logging.getLogger(__name__)

#: plain-text mail templates, rendered as the app renders ``.txt`` files (no autoescape)
_TEMPLATES = Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=False)
_TEMPLATES.globals["money"] = money_text
_TEMPLATES.filters["frdate"] = date_text

Attachment = tuple[str, bytes, str]


class MailSender(Protocol):
    """Sends one message (``engine.mail.send_mail`` with the app's settings bound).

    :raises MailError: the message could not be sent.
    """

    def __call__(self, to: str, subject: str, text: str, *,
                 attachments: Sequence[Attachment]) -> object: ...


def confirmation_message(dossier: Dossier, campaign: Campaign, review_url: str,
                         ) -> tuple[str, str]:
    """The subject and text of the message, the same for every guardian."""
    text = _TEMPLATES.get_template("mail/submitted.txt").render(
        dossier=dossier, campaign=campaign, totals=dossier.computed, url=review_url)
    subject = f"Dossier de {dossier.pupil.first_name} envoyé – {campaign.title.get()}"
    return subject, text


def recap_filename(dossier: Dossier) -> str:
    return f"recapitulatif-{dossier.pupil.last_name}-{dossier.pupil.first_name}.pdf".lower() \
        .replace(" ", "-")


def send_confirmations(dossier: Dossier, campaign: Campaign, *, review_url: str,
                       recap: Callable[[Redaction], bytes], send: MailSender,
                       done: set[int] | None = None) -> bool:
    """Tell each guardian the dossier is sent; False if any message failed (logged).

    ``done`` (account ids) skips the guardians already told and gains each one told now, so a
    new attempt after a failure writes to nobody twice.

    ``recap`` makes the PDF as the reader with that redaction may see it; it raises an
    :class:`~engine.diagnostics.EngineError` when it cannot (a missing font, say).
    """
    # the text and subject are the same for every guardian; only the PDF is redacted per reader
    subject, text = confirmation_message(dossier, campaign, review_url)
    ok = True
    for recipient in confirmation_recipients(dossier):
        if done is not None and recipient.account_id in done:
            continue
        try:
            pdf = recap(redaction_for(dossier, recipient.account_id))
            send(recipient.email, subject, text,
                 attachments=[(recap_filename(dossier), pdf, "application/pdf")])
            if done is not None:
                done.add(recipient.account_id)
        except (MailError, EngineError) as exc:
            ok = False
            log.warning("confirmation mail not sent for dossier id=%s: %s", dossier.id, exc)
    return ok
