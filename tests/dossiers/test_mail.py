"""Mail through a real SMTP server on loopback (aiosmtpd), and to .eml files."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from engine.config import Settings
from engine.mail import MailError, send_mail


class Inbox:
    """aiosmtpd handler keeping every received message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


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
    settings = replace(plain_settings, mail_url=f"smtp://127.0.0.1:{_free_port()}")
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
