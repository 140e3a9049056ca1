"""Messages to families through the school's pages, with a real SMTP server: reminders by
state from an edited template with a preview, sent as a job with a status per message and an
audit entry each, the log, a one-off message, guardians without e-mail for a paper letter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from smtpkit import Inbox
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.config import Settings
from engine.dossiers.messages import Audience, MessageError, audience_recipients, check_message
from engine.dossiers.models import AuditEntry, Dossier, MessageTemplate, SentMessage
from engine.dossiers.states import DossierState
from engine.dossiers.versions import CampaignCache
from engine.jobs import Job, JobState

from conftest import MakeAccount, MakeDossier, MakeStaff, _csrf_token
from staffkit import StaffUser

StaffLogin = Callable[[StaffUser], TestResponse]
BASE = "/etablissement/0750001A"
SLUG = "reinscription-2026"


@pytest.fixture
def settings(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:
    """The app sends through the loopback SMTP server."""
    return replace(settings, mail_url=f"smtp://127.0.0.1:{smtp[1]}")


@pytest.fixture
def families(db_session: Session, make_account: MakeAccount,
             make_dossier: MakeDossier) -> dict[str, Dossier]:
    """Léa (not started: her mother has an address, her father none), Hugo (in progress),
    Nina (sent back for correction)."""
    mother, _ = make_account("Claire Martin", email="claire@example.fr")
    father, _ = make_account("Paul Martin")
    hugo_parent, _ = make_account("Anne Petit", email="anne@example.fr")
    nina_parent, _ = make_account("Marc Roux", email="marc@example.fr")
    dossiers = {
        "lea": make_dossier(mother, father, first_name="Léa", last_name="Martin"),
        "hugo": make_dossier(hugo_parent, first_name="Hugo", last_name="Petit"),
        "nina": make_dossier(nina_parent, first_name="Nina", last_name="Roux"),
    }
    dossiers["hugo"].state = DossierState.IN_PROGRESS
    dossiers["nina"].state = DossierState.TO_CORRECT
    db_session.commit()
    return dossiers


def _post(client: FlaskClient, path: str, **data: str) -> TestResponse:
    return client.post(path, data={"csrf_token": _csrf_token(client, path), **data})


def test_reminder_by_state_with_an_edited_template(
        client: FlaskClient, db_session: Session, families: dict[str, Dossier],
        make_staff: MakeStaff, staff_login: StaffLogin, smtp: tuple[Inbox, int]) -> None:
    staff_login(make_staff())
    overview = client.get(f"{BASE}/{SLUG}/messages").get_data(as_text=True)
    assert "Dossiers non commencés" in overview and "Aucun message envoyé" in overview
    path = f"{BASE}/{SLUG}/messages/relance/not_started"
    page = client.get(path).get_data(as_text=True)
    # the preview: the first recipient with an address, placeholders filled in
    assert "Claire Martin (claire@example.fr), pour Léa Martin" in page
    assert "Collège Jean Moulin" in page and "http://127.0.0.1:8000/connexion" in page
    assert "1 sans adresse électronique" in page
    refused = _post(client, path, subject="Relance {eleve}", body="Bonjour {nom}",
                    action="save")
    assert refused.status_code == 422
    assert "variable inconnue {nom}" in refused.get_data(as_text=True)
    saved = _post(client, path, subject="Dossier de {eleve}",
                  body="Avant le {date_limite} : {lien}\n{etablissement}", action="save")
    assert saved.status_code == 200 and "Le modèle est enregistré" in saved.get_data(as_text=True)
    stored = db_session.scalars(select(MessageTemplate)).one()
    assert stored.subject == "Dossier de {eleve}"
    sent = _post(client, path, subject="Dossier de {eleve}",
                 body="Avant le {date_limite} : {lien}\n{etablissement}", action="send")
    assert sent.status_code == 302
    inbox = smtp[0].wait_for(1)
    assert [to for to, _ in inbox] == [["claire@example.fr"]]
    message = inbox[0][1]
    assert message["Subject"] == "Dossier de Léa Martin"
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "http://127.0.0.1:8000/connexion" in text and "Collège Jean Moulin" in text
    job = db_session.scalars(select(Job)).one()
    assert job.job_state is JobState.DONE and (job.progress_done, job.progress_total) == (1, 1)
    log = db_session.scalars(select(SentMessage)).one()
    assert (log.address, log.status, log.kind, log.dossier_id) == (
        "claire@example.fr", "sent", "not_started", families["lea"].id)
    actions = [e.action for e in db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert actions[-3:] == ["message.template", "message.requested", "message.sent"]
    job_page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Relance des familles" in job_page and "Terminé" in job_page
    overview = client.get(f"{BASE}/{SLUG}/messages").get_data(as_text=True)
    assert "claire@example.fr" in overview and "Envoyé" in overview


def test_audiences(db_session: Session, families: dict[str, Dossier]) -> None:
    establishment = families["lea"].pupil.establishment_id

    def names(audience: Audience) -> list[tuple[str, str | None]]:
        return [(r.guardian, r.email)
                for r in audience_recipients(db_session, establishment, SLUG, audience,
                                             CampaignCache().campaign_of)]

    assert names(Audience.NOT_STARTED) == [("Claire Martin", "claire@example.fr"),
                                           ("Paul Martin", None)]
    assert names(Audience.IN_PROGRESS) == [("Anne Petit", "anne@example.fr")]
    assert names(Audience.TO_CORRECT) == [("Marc Roux", "marc@example.fr")]
    assert len(names(Audience.NEVER_LOGGED_IN)) == 4
    assert names(Audience.WAITING_GUARDIAN) == []  # no dossier waits for a guardian
    with pytest.raises(MessageError, match="accolade"):
        check_message("Objet", "Bonjour {eleve")
    with pytest.raises(MessageError, match="une ligne"):
        check_message("Objet\nBcc: x@example.fr", "Texte")


def test_guardians_without_email_are_listed_for_a_paper_letter(
        client: FlaskClient, families: dict[str, Dossier], make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    page = client.get(f"{BASE}/{SLUG}/messages/courrier").get_data(as_text=True)
    assert "Paul Martin" in page and "Léa Martin" in page
    assert "Claire Martin" not in page and "Anne Petit" not in page


def test_a_one_off_message_from_the_dossier(
        client: FlaskClient, db_session: Session, families: dict[str, Dossier],
        make_staff: MakeStaff, staff_login: StaffLogin, smtp: tuple[Inbox, int]) -> None:
    staff_login(make_staff())
    dossier = families["hugo"]
    assert "Écrire à la famille" in client.get(
        f"{BASE}/dossier/{dossier.public_id}").get_data(as_text=True)
    path = f"{BASE}/dossier/{dossier.public_id}/message"
    assert "Anne Petit : anne@example.fr" in client.get(path).get_data(as_text=True)
    refused = _post(client, path, subject="Pièce manquante",
                    body="Merci de déposer l'attestation {piece}.", action="send")
    assert refused.status_code == 422
    assert "Merci de déposer l&#39;attestation {piece}." in refused.get_data(as_text=True)
    response = _post(client, path, subject="Pièce manquante pour {eleve}",
                     body="Merci de déposer l'attestation d'assurance.", action="send")
    assert response.status_code == 302
    (to, message), = smtp[0].wait_for(1)
    assert to == ["anne@example.fr"] and message["Subject"] == "Pièce manquante pour Hugo Petit"
    assert db_session.scalars(select(SentMessage)).one().kind == "one_off"
    assert "Pièce manquante pour Hugo Petit" in client.get(path).get_data(as_text=True)


def test_a_role_without_the_permission_sends_nothing(
        client: FlaskClient, families: dict[str, Dossier], make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    staff_login(make_staff(role="gestion"))
    assert client.get(f"{BASE}/{SLUG}/messages").status_code == 403
    assert client.get(f"{BASE}/{SLUG}/messages/relance/in_progress").status_code == 403
    assert client.get(f"{BASE}/dossier/{families['lea'].public_id}/message").status_code == 403
    assert "Messages aux familles" not in client.get(f"{BASE}/{SLUG}/").get_data(as_text=True)


def test_a_relay_down_is_recorded_per_message(
        client: FlaskClient, db_session: Session, families: dict[str, Dossier],
        make_staff: MakeStaff, staff_login: StaffLogin, smtp: tuple[Inbox, int]) -> None:
    staff_login(make_staff())
    client.application.extensions["dossiersco"].jobs.settings = replace(
        client.application.extensions["dossiersco"].settings, mail_url="smtp://127.0.0.1:9")
    response = _post(client, f"{BASE}/{SLUG}/messages/relance/in_progress", action="send",
                     subject="Relance {eleve}", body="Bonjour")
    assert response.status_code == 302
    job = db_session.scalars(select(Job)).one()
    assert job.job_state is JobState.FAILED and job.attempts == 4
    assert job.message == "1 courriel(s) sur 1 n'ont pas pu partir."
    statuses = [m.status for m in db_session.scalars(select(SentMessage))]
    assert statuses == ["failed"] * 4
    assert "Échec" in client.get(f"{BASE}/{SLUG}/messages").get_data(as_text=True)


def test_a_reminder_from_the_list_to_the_dossiers_its_filters_keep(
        client: FlaskClient, db_session: Session, families: dict[str, Dossier],
        make_staff: MakeStaff, staff_login: StaffLogin, smtp: tuple[Inbox, int]) -> None:
    staff_login(make_staff())
    listing = client.get(f"{BASE}/{SLUG}/dossiers?etat=not_started").get_data(as_text=True)
    assert "Relancer les 1 dossier de la liste" in listing
    assert f'name="dossier" value="{families["hugo"].public_id}"' not in listing  # filtered out
    # the confirmation step: how many dossiers and guardians, the first message as it will read
    path = f"{BASE}/{SLUG}/dossiers/relance?etat=not_started"
    page = client.get(path).get_data(as_text=True)
    assert "1 dossier</strong>" in page and "1 responsable recevra" in page
    assert "1 sans adresse électronique" in page
    assert "Claire Martin (claire@example.fr), pour Léa Martin" in page
    assert '<input type="hidden" name="etat" value="not_started">' in page
    assert not smtp[0].messages  # nothing is sent before the confirmation
    sent = _post(client, path, etat="not_started", subject="Dossier de {eleve}",
                 body="Avant le {date_limite}.", action="send")
    assert sent.status_code == 302
    (to, message), = smtp[0].wait_for(1)
    assert to == ["claire@example.fr"] and message["Subject"] == "Dossier de Léa Martin"
    log = db_session.scalars(select(SentMessage)).one()
    assert (log.kind, log.dossier_id) == ("selection", families["lea"].id)
    requested = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "message.requested")).one()
    assert requested.data["kind"] == "selection" and requested.data["recipients"] == 1


def test_a_reminder_to_the_dossiers_ticked_in_the_list(
        client: FlaskClient, db_session: Session, families: dict[str, Dossier],
        make_staff: MakeStaff, staff_login: StaffLogin, smtp: tuple[Inbox, int],
        make_dossier: MakeDossier, make_account: MakeAccount) -> None:
    staff_login(make_staff())
    elsewhere, _ = make_account("Ailleurs", email="ailleurs@example.fr")
    other = make_dossier(elsewhere, uai="0750002B", first_name="Autre")
    hugo, nina = families["hugo"].public_id, families["nina"].public_id
    listing = client.get(f"{BASE}/{SLUG}/dossiers").get_data(as_text=True)
    assert f'name="dossier" value="{hugo}"' in listing and "Relancer les dossiers cochés" in listing
    # ticked in the list (a GET form, no script needed); another school's dossier is ignored
    path = f"{BASE}/{SLUG}/dossiers/relance?dossier={hugo}&dossier={nina}&dossier={other.public_id}"
    page = client.get(path).get_data(as_text=True)
    assert "Relancer les dossiers cochés" in page
    assert "2 dossiers</strong>" in page and "2 responsables recevront" in page
    assert "Envoyer à 2 responsables" in page
    refused = client.post(path, data={"csrf_token": _csrf_token(client, path), "action": "send",
                                      "dossier": [hugo, nina], "subject": "Relance {nom}",
                                      "body": "Bonjour"})
    refused_page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "variable inconnue {nom}" in refused_page
    assert "Relance {nom}" in refused_page  # the agent's text is shown again, to be fixed
    sent = client.post(path, data={"csrf_token": _csrf_token(client, path), "action": "send",
                                   "dossier": [hugo, nina], "subject": "Relance {eleve}",
                                   "body": "Bonjour"})
    assert sent.status_code == 302
    received = sorted(to[0] for to, _ in smtp[0].wait_for(2))
    assert received == ["anne@example.fr", "marc@example.fr"]
    assert all(m.kind == "selection" for m in db_session.scalars(select(SentMessage)))


def test_a_list_reminder_needs_the_permission_and_the_token(
        client: FlaskClient, families: dict[str, Dossier], make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    staff_login(make_staff(role="gestion"))
    assert client.get(f"{BASE}/{SLUG}/dossiers/relance").status_code == 403
    assert "Relancer" not in client.get(f"{BASE}/{SLUG}/dossiers").get_data(as_text=True)


def test_a_list_reminder_needs_the_token_and_the_campaign(
        client: FlaskClient, families: dict[str, Dossier], make_staff: MakeStaff,
        staff_login: StaffLogin) -> None:
    staff_login(make_staff())
    assert client.post(f"{BASE}/{SLUG}/dossiers/relance",
                       data={"action": "send", "subject": "a", "body": "b"}).status_code == 400
    assert client.get(f"{BASE}/autre-campagne/dossiers/relance").status_code == 404
