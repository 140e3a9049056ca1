"""Invitation links: e-mailed after an import, single-use, expiring, and they log in."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from smtpkit import Inbox
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.campaign import load_campaign
from engine.config import Settings
from engine.db import utcnow
from engine.dossiers.accounts import issue_invitation, reset_code
from engine.dossiers.imports import ImportReport, campaign_version_for, import_into
from engine.dossiers.invitations import send_invitations
from engine.dossiers.models import FamilyAccount, Invitation
from engine.prefill import read_siecle
from engine.web.state import app_state

ROOT = Path(__file__).parents[2]
CAMPAIGN = ROOT / "campaigns" / "college-jean-moulin.yaml"
LINK = re.compile(r"http://127\.0\.0\.1:8000(/invitation/[A-Za-z0-9_-]+)")
MakeAccount = Callable[..., tuple[FamilyAccount, str]]


def imported(app: Flask, db_session: Session, **kwargs: Any) -> ImportReport:
    """The demo exports imported with invitations, through the import service."""
    campaign = load_campaign(CAMPAIGN)
    version = campaign_version_for(db_session, campaign, CAMPAIGN.read_text("utf-8"))
    result = read_siecle(*sorted((ROOT / "campaigns" / "demo").glob("*.xml")))
    return import_into(db_session, campaign, version, result, hasher=app_state(app).hasher,
                       invite=True, **kwargs)


def links(report: ImportReport) -> list[str]:
    return [f"/invitation/{c.invitation_token}" for c in report.credentials
            if c.invitation_token]


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def paris(moment: datetime) -> str:
    """``moment`` as the mail writes it: « 23 mai 2027 à 10:00 », French time."""
    local = moment.astimezone(ZoneInfo("Europe/Paris"))
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} à {local:%H:%M}"


def in_one_hour() -> datetime:
    return utcnow() + timedelta(hours=1)


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def accept(client: FlaskClient, path: str, csrf_token: Callable[..., str],
           form_page: str | None = None) -> Any:
    """POST the link's form; the CSRF token is read from ``form_page`` (default: the link's
    own page, which an expired link no longer shows)."""
    token = csrf_token(client, form_page or path)
    return client.post(path, data={"csrf_token": token})


def test_invitation_over_smtp_logs_in_once(app: Flask, client: FlaskClient,
                                           db_session: Session, settings: Settings,
                                           smtp: tuple[Inbox, int],
                                           csrf_token: Callable[..., str]) -> None:
    inbox, port = smtp
    report = imported(app, db_session)
    campaign = load_campaign(CAMPAIGN)
    sent = send_invitations(replace(settings, mail_url=f"smtp://127.0.0.1:{port}"),
                            report.credentials, campaign.establishment)
    assert (sent.sent, sent.failed) == (3, ())
    message = next(m for _, m in inbox.messages if m["To"] == "sophie.durand@example.org")
    text = body(message)
    assert "Léa DURAND, Hugo DURAND" in text and "Collège Jean Moulin" in text
    sophie = next(c for c in report.credentials if c.display_name == "Sophie DURAND")
    assert sophie.code not in text  # the code is only on the letter
    # valid 72 hours by default, and the mail says until when (Paris time)
    assert sophie.invitation_expires_at == report.imported_at + timedelta(hours=72)
    assert f"expire le {paris(sophie.invitation_expires_at)}" in text
    match = LINK.search(text)
    assert match is not None
    path = match.group(1)

    page = client.get(path)
    assert page.status_code == 200  # opening the link does not use it (mail scanners)
    assert "Accéder à mon dossier" in page.get_data(as_text=True)
    response = accept(client, path, csrf_token)
    assert response.status_code == 302
    dashboard = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Léa" in dashboard and "Hugo" in dashboard

    other = app.test_client()
    assert other.get(path).status_code == 410  # single use
    used = db_session.scalars(select(Invitation).where(Invitation.used_at.is_not(None)))
    assert len(list(used)) == 1


def test_invitation_to_files(app: Flask, db_session: Session, settings: Settings,
                             tmp_path: Path) -> None:
    report = imported(app, db_session)
    campaign = load_campaign(CAMPAIGN)
    sent = send_invitations(settings, report.credentials, campaign.establishment)
    assert sent.sent == 3
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 3
    texts = [body(email.message_from_bytes(f.read_bytes(), policy=email.policy.default))
             for f in files]
    assert all(LINK.search(t) for t in texts)


def test_expired_unknown_and_malformed_links(app: Flask, client: FlaskClient,
                                             db_session: Session, make_account: MakeAccount,
                                             csrf_token: Callable[..., str]) -> None:
    account, _ = make_account()
    expired = issue_invitation(db_session, account, expires_at=utcnow() - timedelta(seconds=1))
    fresh = issue_invitation(db_session, account, expires_at=in_one_hour())
    db_session.commit()
    assert client.get(f"/invitation/{expired}").status_code == 410
    # the page of a link that expired while open does not log in either
    assert accept(client, f"/invitation/{expired}", csrf_token, f"/invitation/{fresh}"
                  ).status_code == 410
    assert client.get("/invitation/unknown-token").status_code == 410
    assert client.get("/invitation/" + "A" * 500).status_code == 410
    page = client.get(f"/invitation/{fresh}")
    assert page.status_code == 200
    # the POST needs the CSRF token
    assert client.post(f"/invitation/{fresh}").status_code == 400
    response = accept(client, f"/invitation/{fresh}", csrf_token)
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(FamilyAccount, account.id).last_login_at is not None  # type: ignore[union-attr]


def test_failed_mail_is_reported(app: Flask, db_session: Session, settings: Settings) -> None:
    report = imported(app, db_session)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    campaign = load_campaign(CAMPAIGN)
    sent = send_invitations(replace(settings, mail_url=f"smtp://127.0.0.1:{closed_port}"),
                            report.credentials, campaign.establishment)
    assert sent.sent == 0
    assert sorted(sent.failed) == sorted(c.login for c in report.credentials if c.email)


def test_a_new_code_voids_pending_invitations(app: Flask, client: FlaskClient,
                                              db_session: Session,
                                              make_account: MakeAccount) -> None:
    account, _ = make_account()
    token = issue_invitation(db_session, account, expires_at=in_one_hour())
    db_session.commit()
    assert client.get(f"/invitation/{token}").status_code == 200
    reset_code(db_session, app_state(app).hasher, account)
    db_session.commit()
    assert client.get(f"/invitation/{token}").status_code == 410


def test_an_odd_imported_address_gets_no_mail(app: Flask, db_session: Session,
                                              settings: Settings, tmp_path: Path) -> None:
    report = imported(app, db_session)
    sophie = next(c for c in report.credentials if c.display_name == "Sophie DURAND")
    sophie.email = "sophie.durand@example.org, intrus@example.net"
    campaign = load_campaign(CAMPAIGN)
    sent = send_invitations(settings, report.credentials, campaign.establishment)
    assert (sent.sent, sent.failed) == (2, (sophie.login,))
    recipients = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["To"]
                  for f in (tmp_path / "mail").glob("*.eml")]
    assert sorted(recipients) == ["claire.moreau@example.org", "karim.benali@example.org"]


def test_two_browsers_on_one_link_log_in_once(app: Flask, client: FlaskClient,
                                              db_session: Session, make_account: MakeAccount,
                                              csrf_token: Callable[..., str]) -> None:
    """Both open the page while the link is unused; only the first POST logs in."""
    account, _ = make_account()
    token = issue_invitation(db_session, account, expires_at=in_one_hour())
    db_session.commit()
    path = f"/invitation/{token}"
    other = app.test_client()
    first, second = csrf_token(client, path), csrf_token(other, path)
    assert client.post(path, data={"csrf_token": first}).status_code == 302
    late = other.post(path, data={"csrf_token": second})
    assert late.status_code == 410
    assert other.get("/mes-dossiers").status_code != 200


def test_the_lifetime_given_to_the_import_is_the_links_and_the_mails(
        app: Flask, client: FlaskClient, db_session: Session, settings: Settings,
        smtp: tuple[Inbox, int], csrf_token: Callable[..., str]) -> None:
    """``invitation_ttl`` (``DOSSIERSCO_INVITATION_TTL_HOURS`` in the command): links of an
    import made 61 minutes ago with a 1-hour lifetime are dead, and the mail said so."""
    inbox, port = smtp
    hour = timedelta(hours=1)
    report = imported(app, db_session, invitation_ttl=hour,
                      now=utcnow() - timedelta(minutes=61))
    campaign = load_campaign(CAMPAIGN)
    sent = send_invitations(replace(settings, mail_url=f"smtp://127.0.0.1:{port}"),
                            report.credentials, campaign.establishment)
    assert sent.sent == 3
    until = report.imported_at + hour
    assert {c.invitation_expires_at for c in report.credentials if c.email} == {until}
    assert all(f"expire le {paris(until)}" in body(m) for _, m in inbox.wait_for(3))
    stored = list(db_session.scalars(select(Invitation)))
    assert {i.expires_at - i.created_at for i in stored} == {hour}
    for path in links(report):
        assert client.get(path).status_code == 410
        assert accept(client, path, csrf_token, "/connexion").status_code == 410

    # the same lifetime, 59 minutes ago: the new links still work
    again = imported(app, db_session, invitation_ttl=hour, reset_codes=True,
                     now=utcnow() - timedelta(minutes=59))
    assert [client.get(path).status_code for path in links(again)] == [200] * 3


def test_a_reset_codes_import_voids_the_links_sent_before(
        app: Flask, client: FlaskClient, db_session: Session,
        csrf_token: Callable[..., str]) -> None:
    """New codes (``--reset-codes``): the links of the earlier invitation answer 410, even
    from a page opened before; the new links work."""
    first = links(imported(app, db_session))
    assert [client.get(path).status_code for path in first] == [200] * 3
    tokens = {path: csrf_token(client, path) for path in first}
    second = links(imported(app, db_session, reset_codes=True))
    assert len(second) == 3 and not set(first) & set(second)
    for path, token in tokens.items():
        assert client.get(path).status_code == 410
        assert client.post(path, data={"csrf_token": token}).status_code == 410
    assert client.get("/mes-dossiers").status_code != 200
    assert accept(client, second[0], csrf_token).status_code == 302
    assert client.get("/mes-dossiers").status_code == 200
