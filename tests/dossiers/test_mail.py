"""Mail through a real SMTP server on loopback (aiosmtpd), and to .eml files."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from pathlib import Path

import pytest
from smtpkit import Inbox, free_port

from engine.config import Settings
from engine.mail import MailError, send_mail


def test_send_over_smtp_with_attachment(plain_settings: Settings,
                                        smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = replace(plain_settings, mail_url=f"smtp://127.0.0.1:{port}",
                       mail_from="Collège Jean Moulin <secretariat@college.example>")
    send_mail(settings, "parent@example.fr", "Réinscription — votre dossier",
              "Bonjour,\nvotre dossier est enregistré.", html="<p>Bonjour,</p>",
              attachments=[("récapitulatif.pdf", b"%PDF-1.4 fake", "application/pdf")])
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["parent@example.fr"]
    assert message["Subject"] == "Réinscription — votre dossier"
    assert message["Message-ID"].endswith("@college.example>")
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "votre dossier est enregistré" in body.get_content()
    html = message.get_body(preferencelist=("html",))
    assert html is not None and "<p>Bonjour,</p>" in html.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "récapitulatif.pdf"
    assert attachment.get_content() == b"%PDF-1.4 fake"


def test_unreachable_relay_raises_mail_error(plain_settings: Settings) -> None:
    settings = replace(plain_settings, mail_url=f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(MailError):
        send_mail(settings, "parent@example.fr", "Objet", "Texte")


def test_file_transport_writes_eml(plain_settings: Settings) -> None:
    folder = Path(plain_settings.mail_url.removeprefix("file://"))
    send_mail(plain_settings, ["a@example.fr", "b@example.fr"], "Objet", "Texte")
    [eml] = list(folder.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "a@example.fr, b@example.fr"
    assert message["Subject"] == "Objet"


def test_header_injection_is_refused(plain_settings: Settings) -> None:
    with pytest.raises(ValueError):
        send_mail(plain_settings, "x@example.fr\r\nBcc: z@example.fr", "Objet", "Texte")
