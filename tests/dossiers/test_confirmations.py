"""The confirmation mails of a submission (dossiers.confirmations), with the sender and the PDF
passed in: no Flask, no relay."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from engine.campaign import load_campaign
from engine.campaign.model import Campaign
from engine.config import ROOT
from engine.dossiers.campaigns import Redaction
from engine.dossiers.confirmations import confirmation_message, recap_filename, send_confirmations
from engine.dossiers.models import Dossier, FamilyAccount
from engine.exports.recap import FontMissingError
from engine.mail import MailError

MakeAccount = Callable[..., tuple[FamilyAccount, str]]
URL = "https://dossiers.example/dossier/abc/recapitulatif"


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return load_campaign(ROOT / "campaigns" / "college-jean-moulin.yaml")


@pytest.fixture
def dossier(db_session: Session, make_account: MakeAccount,
            make_dossier: Callable[..., Dossier]) -> Dossier:
    mother = make_account("Claire Martin", email="claire@example.fr")[0]
    father = make_account("Paul Durand", email="paul@example.fr")[0]
    prefill = {"pupil": {"last_name": "Martin", "first_name": "Léa"},
               "guardians": [{"last_name": "Martin"}, {"last_name": "Durand"}]}
    found = make_dossier(mother, father, first_name="Léa", last_name="Martin",
                         prefill=prefill, confidential=(2,))
    found.submitted_at = datetime(2027, 6, 10, 8, 30, tzinfo=UTC)
    found.computed = {"fees": [{"label": "Cantine", "amount": "120.5", "explanation": "4 j"}],
                      "memberships": [], "total": "120.50"}
    db_session.commit()
    return found


class Outbox:
    def __init__(self, fail_for: str | None = None) -> None:
        self.sent: list[tuple[str, str, str, Sequence[tuple[str, bytes, str]]]] = []
        self.fail_for = fail_for

    def __call__(self, to: str, subject: str, text: str, *,
                 attachments: Sequence[tuple[str, bytes, str]]) -> None:
        if to == self.fail_for:
            raise MailError("mail not sent: ConnectionRefusedError")
        self.sent.append((to, subject, text, attachments))


def test_the_message_says_what_was_sent_and_where_to_read_it(dossier: Dossier,
                                                             campaign: Campaign) -> None:
    subject, text = confirmation_message(dossier, campaign, URL)
    assert subject == f"Dossier de Léa envoyé – {campaign.title.get()}"
    assert "a bien été envoyé au collège le 10/06/2027" in text
    assert "- Cantine : 120,50\u00a0€ (4 j)" in text
    assert URL in text


def test_one_message_per_guardian_with_the_pdf_that_guardian_may_read(
        dossier: Dossier, campaign: Campaign) -> None:
    outbox, readers = Outbox(), []

    def recap(redaction: Redaction) -> bytes:
        readers.append(bool(redaction))
        return b"%PDF-fake"

    assert send_confirmations(dossier, campaign, review_url=URL, recap=recap, send=outbox)
    assert [to for to, *_ in outbox.sent] == ["claire@example.fr", "paul@example.fr"]
    # the father's contact is confidential: only the mother's PDF is redacted
    assert readers == [True, False]
    _to, _subject, _text, attachments = outbox.sent[0]
    assert attachments == [(recap_filename(dossier), b"%PDF-fake", "application/pdf")]
    assert recap_filename(dossier) == "recapitulatif-martin-léa.pdf"


def test_a_failed_message_is_reported_and_the_others_still_go(dossier: Dossier,
                                                               campaign: Campaign) -> None:
    outbox = Outbox(fail_for="claire@example.fr")
    assert not send_confirmations(dossier, campaign, review_url=URL,
                                  recap=lambda _r: b"%PDF-fake", send=outbox)
    assert [to for to, *_ in outbox.sent] == ["paul@example.fr"]


def test_a_pdf_that_cannot_be_made_is_a_failed_message(dossier: Dossier,
                                                        campaign: Campaign) -> None:
    def recap(_redaction: Redaction) -> bytes:
        raise FontMissingError("DejaVu Sans not found")

    outbox = Outbox()
    assert not send_confirmations(dossier, campaign, review_url=URL, recap=recap, send=outbox)
    assert outbox.sent == []
