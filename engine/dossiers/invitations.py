"""E-mail the invitations an import prepared: one message per guardian with an address.

Sent after the import is committed (a mail relay failure must not undo the import); a failed
message is reported, and the guardian still has the letter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from email_validator import EmailNotValidError, validate_email
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from engine.campaign.model import Establishment
from engine.config import ROOT, Settings
from engine.mail import MailError, send_mail

from .accounts import Credential

#: the path prefix of invitation links: the web route (``engine.web.invitations``) serves it,
#: the e-mails written outside any request link to it
PATH = "/invitation/"
PARIS = ZoneInfo("Europe/Paris")
_TEMPLATES = Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=False,
                         undefined=StrictUndefined, keep_trailing_newline=True)


#: the path of staff invitation and reset links, ``<STAFF_LINK_PATH>/<purpose>/<token>``: the
#: staff route (``engine.web.staff.auth.set_password``) serves it, the CLI and mails link to it
STAFF_LINK_PATH = "/etablissement/lien"
STAFF_LINK_SUBJECTS = {"invitation": "DossierSCO : votre compte pour l'espace établissement",
                       "reset": "DossierSCO : choisir un nouveau mot de passe"}


def invitation_url(settings: Settings, token: str) -> str:
    """The absolute link to put in the e-mail."""
    return f"{settings.base_url.rstrip('/')}{PATH}{token}"


def staff_link_url(base_url: str, purpose: str, token: str) -> str:
    """The absolute link of a staff invitation or reset token (``TokenPurpose`` value)."""
    return f"{base_url.rstrip('/')}{STAFF_LINK_PATH}/{purpose}/{token}"


def send_staff_link(settings: Settings, email: str, display_name: str, purpose: str, token: str,
                    *, expires: datetime, school: str | None = None) -> None:
    """E-mail a staff invitation or reset link.

    :raises MailError: the relay refused the message; the caller tells the agent.
    """
    text = _TEMPLATES.get_template("mail/staff_link.txt").render(
        display_name=display_name, invitation=purpose == "invitation", school=school,
        link=staff_link_url(settings.base_url, purpose, token),
        expires=format_datetime(expires, "d MMMM y 'à' HH:mm", tzinfo=PARIS, locale="fr_FR"))
    send_mail(settings, email, STAFF_LINK_SUBJECTS[purpose], text)


@dataclass(frozen=True, slots=True)
class SentInvitations:
    sent: int
    #: login of each guardian whose message failed (never the address: it goes to a terminal)
    failed: tuple[str, ...]


def invitation_text(settings: Settings, credential: Credential,
                    establishment: Establishment) -> str:
    """The message of one prepared invitation; it states when the link stops working (the
    expiry stored with it, from ``Settings.invitation_ttl`` at the import)."""
    assert credential.invitation_token is not None
    assert credential.invitation_expires_at is not None
    return _TEMPLATES.get_template("mail/invitation.txt").render(
        display_name=credential.display_name, school=establishment.name,
        pupils=", ".join(credential.pupils) or "votre enfant",
        expires=format_datetime(credential.invitation_expires_at, "d MMMM y 'à' HH:mm",
                                tzinfo=PARIS, locale="fr_FR"),
        link=invitation_url(settings, credential.invitation_token),
        base_url=settings.base_url, login=credential.login)


def send_invitations(settings: Settings, credentials: Sequence[Credential],
                     establishment: Establishment) -> SentInvitations:
    """Send every prepared invitation of ``credentials``."""
    sent, failed = 0, []
    subject = f"{establishment.name} : dossier de réinscription en ligne"
    for cred in credentials:
        if cred.invitation_token is None or not cred.email:
            continue
        try:
            # one plain address: an imported "a@x.fr, b@y.fr" must not send the link twice
            address = validate_email(cred.email, check_deliverability=False).normalized
        except EmailNotValidError:
            failed.append(cred.login)
            continue
        text = invitation_text(settings, cred, establishment)
        try:
            send_mail(settings, address, subject, text)
        except MailError:
            failed.append(cred.login)
        else:
            sent += 1
    return SentInvitations(sent, tuple(failed))
