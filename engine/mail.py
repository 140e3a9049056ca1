"""Outgoing e-mail: SMTP (``smtp://``, ``smtps://``) or ``.eml`` files (``file://``).

The file transport lets an embedded install work before the school has a mail relay; the
files can be opened in any mail client.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from engine.config import Settings
from engine.diagnostics import EngineError

SMTP_TIMEOUT = 30


class MailError(EngineError):
    """The message could not be handed to the relay or written."""


def build_message(sender: str, to: Sequence[str], subject: str, text: str,
                  html: str | None = None,
                  attachments: Iterable[tuple[str, bytes, str]] = ()) -> EmailMessage:
    """A MIME message; header values with CR or LF are refused by ``EmailMessage`` itself."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = parseaddr(sender)[1].rpartition("@")[2] or "dossiersco.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=filename)
    return message


def send_mail(settings: Settings, to: str | Sequence[str], subject: str, text: str,
              html: str | None = None,
              attachments: Iterable[tuple[str, bytes, str]] = ()) -> EmailMessage:
    """Send one message through the transport of ``settings.mail_url`` and return it.

    :raises MailError: the relay refused or could not be reached, or the folder is not writable.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    message = build_message(settings.mail_from, recipients, subject, text, html, attachments)
    url = urlsplit(settings.mail_url)
    try:
        if url.scheme == "file":
            _write_eml(Path(unquote(url.path)), message)
        else:
            _send_smtp(settings.mail_url, message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"mail not sent: {type(exc).__name__}") from exc
    return message


def _write_eml(folder: Path, message: EmailMessage) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(message.as_bytes())
    tmp.replace(folder / name)


def _send_smtp(mail_url: str, message: EmailMessage) -> None:
    """``smtp://[user:password@]host[:port][?starttls=true]`` or ``smtps://`` (implicit TLS)."""
    url = urlsplit(mail_url)
    host = url.hostname or "localhost"
    options = parse_qs(url.query)
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if url.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(host, url.port or 465, timeout=SMTP_TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(host, url.port or 25, timeout=SMTP_TIMEOUT)
    with smtp:
        if url.scheme == "smtp" and options.get("starttls", ["false"])[0] == "true":
            smtp.starttls(context=context)
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)
