"""Choices with places over HTTP: the family reads that an option with places is a request
the school decides, and later its decision; the school decides per dossier or for the ticked
ones, in the order the dossiers were sent, never beyond the places (a clear message), audited,
in the dossier's history, mailed to the family (one job per post, retried per message); a
family choosing another option makes a new request (the decision is reset); the tables carry
the request's status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from smtpkit import Inbox
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.listing import versions_of
from engine.dossiers.models import (
    AuditEntry,
    Dossier,
    DossierEvent,
    Establishment,
    FamilyAccount,
    SentMessage,
    StaffRole,
)
from engine.dossiers.places import PlaceStatus, requests_by_option, sent_dossiers
from engine.dossiers.review import ReviewError, decide_place, send_back
from engine.dossiers.services import change_state, save_answers
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.versions import CampaignCache
from engine.exports.dossier_tables import TableKind, tables_of
from engine.exports.selection import Selection
from engine.jobs import Job, JobState
from engine.jobs.tasks import FAMILY_NOTICE

from conftest import MakeAccount, MakeDossier, MakeStaff, _csrf_token, family_browser
from staffkit import StaffUser

StaffLogin = Callable[[StaffUser], TestResponse]
BASE = "/etablissement/0750001A"
PLACES = f"{BASE}/places-2027/places"

CAMPAIGN = """\
language: 1
id: places-2027
title: Réinscription
establishment: {uai: "0750001A", name: Collège Jean Moulin, email: college@example.fr}
opens: "2020-01-01"
closes: "2099-12-31"
pages:
  - id: options
    title: Options
    fields:
      - id: section
        type: choice
        label: Section européenne
        choices:
          - {value: non, label: Non merci}
          - {value: europe, label: Section européenne anglais, places: 2}
tariffs:
  - id: voyage
    label: Voyage de la section
    applies_if: section == "europe"
    amount: "40.00"
"""


@pytest.fixture
def app(make_app: Callable[..., Flask], smtp: tuple[Inbox, int]) -> Flask:
    return make_app(mail_url=f"smtp://127.0.0.1:{smtp[1]}")


def _sent(db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier,
          first_name: str, choice: str = "europe", account: FamilyAccount | None = None,
          ) -> tuple[Dossier, FamilyAccount, str]:
    """A dossier sent with ``section: choice``, through the services a family's save uses
    (by ``account``, else a new guardian's)."""
    code = ""
    if account is None:
        account, code = make_account(email=f"parent.{first_name.lower()}@example.fr")
    dossier = make_dossier(account, first_name=first_name, source=CAMPAIGN,
                           campaign="places-2027")
    family = Actor.family(account.id)
    save_answers(db_session, dossier, dossier.row_version, {"section": choice}, "options",
                 family)
    change_state(db_session, dossier, dossier.row_version, DossierState.SUBMITTED, family)
    return dossier, account, code


def _post(client: FlaskClient, **data: Any) -> TestResponse:
    return client.post(PLACES, data={"csrf_token": _csrf_token(client, PLACES),
                                     "option": "section--europe", **data})


def _fresh(db_session: Session, dossier: Dossier) -> Dossier:
    db_session.expire_all()
    found = db_session.get(Dossier, dossier.id)
    assert found is not None
    return found


def test_the_family_reads_that_an_option_with_places_is_a_request(
        app: Flask, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier) -> None:
    account, code = make_account(email="parent@example.fr")
    dossier = make_dossier(account, source=CAMPAIGN, campaign="places-2027")
    browser = family_browser(app, account, code)
    form = browser.get(f"/dossier/{dossier.public_id}/etape/options").get_data(True)
    assert "Section européenne anglais <span class=\"choice__request\">Demande soumise à " \
           "l&#39;accord de l&#39;établissement, 2 places</span>" in form
    assert "Non merci</label>" in form  # an option without places is a plain answer
    browser.post(f"/dossier/{dossier.public_id}/etape/options", data={
        "csrf_token": _csrf_token(browser, f"/dossier/{dossier.public_id}/etape/options"),
        "row_version": str(_fresh(db_session, dossier).row_version), "f-section": "europe"})
    review = browser.get(f"/dossier/{dossier.public_id}/recapitulatif").get_data(True)
    assert "Votre demande soumise à l'accord du collège" in review
    assert "<strong>Section européenne anglais</strong> (2 places)" in review
    assert "demandé</span> <span class=\"hint\">le collège décidera après l'envoi" in review


def test_the_school_decides_in_order_never_beyond_the_places_and_the_family_is_told(
        app: Flask, client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin,
        smtp: tuple[Inbox, int]) -> None:
    lea, lea_account, lea_code = _sent(db_session, make_account, make_dossier, "Léa")
    hugo, *_ = _sent(db_session, make_account, make_dossier, "Hugo")
    ines, *_ = _sent(db_session, make_account, make_dossier, "Inès")
    _sent(db_session, make_account, make_dossier, "Zoé", choice="non")
    staff_login(make_staff())
    page = client.get(PLACES).get_data(True)
    assert "<strong>0 / 2</strong> places accordées" in page and "3 demandes" in page
    assert page.index("Martin Léa") < page.index("Martin Hugo") < page.index("Martin Inès")
    assert "Zoé" not in page  # her answer is no request

    response = _post(client, un=f"{lea.public_id} accepted")
    assert response.status_code == 302
    assert _fresh(db_session, lea).place_decisions == {
        "section": {"value": "europe", "status": "accepted"}}
    # the ticked ones in the order they were sent: Hugo gets the last place, Inès is refused
    response = _post(client, dossier=[ines.public_id, hugo.public_id], statut="accepted")
    page = client.get(PLACES).get_data(True)
    assert "Les 2 places de « Section européenne anglais » sont déjà accordées" in page
    assert "<strong>2 / 2</strong> places accordées" in page
    assert _fresh(db_session, hugo).place_decisions["section"]["status"] == "accepted"
    assert _fresh(db_session, ines).place_decisions == {}
    _post(client, un=f"{ines.public_id} waiting")
    assert _fresh(db_session, ines).place_decisions["section"]["status"] == "waiting"

    audit = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "place_decided").order_by(AuditEntry.id)).all()
    assert [(e.dossier_id, e.data["to"]) for e in audit] == [
        (lea.id, "accepted"), (hugo.id, "accepted"), (ines.id, "waiting")]
    assert all("europe" not in str(e.data) for e in audit)  # no answer in the audit trail
    history = client.get(f"{BASE}/dossier/{lea.public_id}").get_data(True)
    assert "décision sur une demande d&#39;option à places limitées" in history
    assert 'Section européenne anglais</strong> – <span class="badge badge--place-accepted">' \
        in history

    mails = smtp[0].wait_for(3)
    assert [to for to, _ in mails][0] == ["parent.léa@example.fr"] or \
        mails[0][0] == [lea_account.email]
    text = mails[0][1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Section européenne : Section européenne anglais – accepté" in text
    assert "liste d'attente" in mails[2][1].get_body(("plain",)).get_content()  # type: ignore[union-attr]

    family = family_browser(app, lea_account, lea_code)
    review = family.get(f"/dossier/{lea.public_id}/recapitulatif").get_data(True)
    assert 'badge--place-accepted">accepté</span>' in review
    dashboard = family.get("/mes-dossiers").get_data(True)
    assert 'Section européenne : Section européenne anglais – <span class="badge ' \
        'badge--place-accepted">accepté</span>' in dashboard
    # undone: back to "demandé", the family not mailed again
    _post(client, un=f"{lea.public_id} requested")
    assert _fresh(db_session, lea).place_decisions == {}
    assert len(smtp[0].messages) == 3


def test_a_bulk_decision_is_one_job_and_a_retry_resends_only_the_failed_message(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin,
        smtp: tuple[Inbox, int]) -> None:
    """A guardian of two pupils gets a message about each; the second one cannot leave (its
    pupil's name, imported with a line break, cannot be a mail subject), so every retry
    writes that one again and never the first."""
    lea, parent, _ = _sent(db_session, make_account, make_dossier, "Léa")
    hugo, *_ = _sent(db_session, make_account, make_dossier, "Hugo\nBis", account=parent)
    ines, ines_parent, _ = _sent(db_session, make_account, make_dossier, "Inès")
    staff_login(make_staff())
    response = _post(client, dossier=[lea.public_id, hugo.public_id, ines.public_id],
                     statut="waiting")
    assert response.status_code == 302
    assert "3 décisions enregistrées" in client.get(PLACES).get_data(True)
    job = db_session.scalars(select(Job)).one()
    assert (job.kind, job.job_state, job.attempts) == (FAMILY_NOTICE, JobState.FAILED, 4)
    assert job.message == "1 courriel(s) sur 3 n'ont pas pu partir."
    logged = [(m.dossier_id, m.kind, m.status, m.job_id)
              for m in db_session.scalars(select(SentMessage).order_by(SentMessage.id))]
    assert logged == [(lea.id, "place_decision", "sent", job.id),
                      (hugo.id, "place_decision", "failed", job.id),
                      (ines.id, "place_decision", "sent", job.id)] + [
                          (hugo.id, "place_decision", "failed", job.id)] * 3
    mails = smtp[0].wait_for(2)
    assert [to for to, _ in mails] == [[parent.email], [ines_parent.email]]
    assert all("liste d'attente" in m.get_body(("plain",)).get_content()  # type: ignore[union-attr]
               for _, m in mails)


def test_a_family_choosing_another_option_makes_a_new_request(
        app: Flask, client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    lea, account, code = _sent(db_session, make_account, make_dossier, "Léa")
    agent = make_staff()
    staff_login(agent)
    _post(client, un=f"{lea.public_id} refused")
    send_back(db_session, _fresh(db_session, lea), _fresh(db_session, lea).row_version,
              Actor.staff(agent.account.id), message="Vérifiez l'option.")
    family = Actor.family(account.id)
    found = _fresh(db_session, lea)
    save_answers(db_session, found, found.row_version, {"section": "non"}, "options", family)
    save_answers(db_session, found, found.row_version, {"section": "europe"}, "options", family)
    found = _fresh(db_session, lea)
    assert found.place_decisions == {}
    kinds = [e.kind for e in db_session.scalars(select(DossierEvent).where(
        DossierEvent.dossier_id == lea.id))]
    assert kinds.count("place_request_reset") == 1
    browser = family_browser(app, account, code)
    review = browser.get(f"/dossier/{lea.public_id}/recapitulatif").get_data(True)
    assert 'badge--place-requested">demandé</span>' in review


def test_deciding_needs_review_rights_and_a_known_option(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    lea, *_ = _sent(db_session, make_account, make_dossier, "Léa")
    staff_login(make_staff(role=StaffRole.DIRECTION))
    token = _csrf_token(client, PLACES)
    for data in ({"option": "section--autre", "un": f"{lea.public_id} accepted"},
                 {"option": "section--europe", "un": f"{lea.public_id} admis"},
                 {"option": "section--europe", "statut": "accepted"}):
        response = client.post(PLACES, data={"csrf_token": token, **data})
        assert response.status_code in (302, 400), data
    assert _fresh(db_session, lea).place_decisions == {}
    assert "Cochez au moins une demande." in client.get(PLACES).get_data(True)
    client.post(PLACES, data={"csrf_token": token, "option": "section--europe",
                              "dossier": lea.public_id, "statut": ""})
    assert "Choisissez la décision" in client.get(PLACES).get_data(True)
    assert client.post(PLACES, data={"option": "section--europe",
                                     "un": f"{lea.public_id} accepted"}).status_code == 400


def test_the_tables_carry_the_request_status(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    lea, *_ = _sent(db_session, make_account, make_dossier, "Léa")
    _sent(db_session, make_account, make_dossier, "Zoé", choice="non")
    staff_login(make_staff())
    _post(client, un=f"{lea.public_id} accepted")
    db_session.expire_all()
    establishment = db_session.scalars(select(Establishment)).one()
    chosen = Selection(db_session, establishment, "places-2027", CampaignCache().campaign_of)
    [table] = tables_of(TableKind.DOSSIERS, chosen)
    column = list(table.header).index("Section européenne – demande")
    assert sorted(str(row[column]) for row in table.rows) == ["None", "accepté"]
    [gestion] = tables_of(TableKind.GESTION, chosen)
    column = list(gestion.header).index("Section européenne – demande")
    assert sorted(str(row[column]) for row in gestion.rows) == ["None", "accepté"]
    [division] = tables_of(TableKind.DIVISIONS, chosen)
    column = list(division.header).index("Section européenne – demande")
    assert sorted(str(row[column]) for row in division.rows) == [
        "None", "Section européenne anglais : accepté"]


def test_the_list_filters_the_requests_to_decide(
        client: FlaskClient, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier, make_staff: MakeStaff, staff_login: StaffLogin) -> None:
    lea, *_ = _sent(db_session, make_account, make_dossier, "Léa")
    hugo, *_ = _sent(db_session, make_account, make_dossier, "Hugo")
    _sent(db_session, make_account, make_dossier, "Zoé", choice="non")
    staff_login(make_staff())
    _post(client, un=f"{hugo.public_id} refused")
    listing = f"{BASE}/places-2027/dossiers"
    page = client.get(listing).get_data(True)
    assert 'name="a_decider"' in page and f'href="{PLACES}"' in page
    page = client.get(f"{listing}?a_decider=1").get_data(True)
    assert "Martin Léa" in page and "Martin Hugo" not in page and "Martin Zoé" not in page


def test_two_agents_accepting_at_once_never_give_more_than_the_places(
        app: Flask, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier) -> None:
    """Each agent's page counted the places when it loaded: the acceptance recounts them in
    the database, under the establishment's lock, so the later one is refused."""
    dossiers = [_sent(db_session, make_account, make_dossier, name)[0]
                for name in ("Léa", "Hugo", "Inès")]
    establishment = db_session.scalars(select(Establishment)).one()
    versions = versions_of(db_session, establishment.id, "places-2027")
    campaign = CampaignCache(registry=app.extensions["dossiersco"].registry).campaign_of(
        versions[0])
    # both agents' pages, loaded before either decided: 0 of 2 places taken
    first, second = (next(o for o in requests_by_option(campaign, sent_dossiers(
        db_session, versions)) if o.value == "europe") for _ in range(2))
    agent = Actor.staff(1)
    decide_place(db_session, campaign, dossiers[0], dossiers[0].row_version, agent,
                 "section", PlaceStatus.ACCEPTED, first)
    decide_place(db_session, campaign, dossiers[1], dossiers[1].row_version, agent,
                 "section", PlaceStatus.ACCEPTED, first)
    with pytest.raises(ReviewError, match="2 places"):
        decide_place(db_session, campaign, dossiers[2], dossiers[2].row_version, agent,
                     "section", PlaceStatus.ACCEPTED, second)
    assert _fresh(db_session, dossiers[2]).place_decisions == {}
