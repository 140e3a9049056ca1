"""Issue 10's wrong-result and lost-data defects, over HTTP without JavaScript: each test
failed before its fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.app import create_app
from engine.config import Settings
from engine.dossiers.guardians import SharedProfiles, reported_elsewhere
from engine.dossiers.listing import refresh_summary
from engine.dossiers.models import Dossier, FamilyAccount
from engine.dossiers.states import DossierState
from engine.refdata.communes import commune_code
from engine.web.state import app_state

from .wizardkit import PREFILL, form_values, page_url, post_page, squash, stored_answers, text_of
from staffkit import StaffUser

Login = Callable[[str, str], TestResponse]
MakeDossier = Callable[..., Dossier]


# -- 1. questions revealed by a post come back on the same page -----------------------------

def test_choosing_half_board_shows_the_quotient_before_moving_on(
        family: FlaskClient, dossier: Dossier, db_session: Session) -> None:
    response = post_page(family, dossier.public_id, "restauration", {"f-regime": "dp5"})
    assert response.status_code == 200, response.headers.get("Location")
    html = squash(text_of(response))
    assert "nouvelles questions" in html
    assert 'role="alert"' not in html  # no error for what the family had not seen
    assert 'data-name="f-quotient_familial">' in html  # shown now, not hidden
    assert 'data-name="f-boursier">' in html
    assert 'data-name="f-mode_paiement">' in html
    assert stored_answers(db_session, dossier)["regime"] == "dp5"
    # the page as shown now: the family answers the new questions and moves on
    moved = post_page(family, dossier.public_id, "restauration",
                      {"f-quotient_familial": "612,50", "f-boursier": "false",
                       "f-mode_paiement": "prelevement"},
                      html=text_of(response))
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith("/associations")
    assert stored_answers(db_session, dossier)["quotient_familial"] == "612.5"


def test_a_required_consent_revealed_by_a_choice_is_shown_without_an_error(
        family: FlaskClient, dossier: Dossier) -> None:
    response = post_page(family, dossier.public_id, "vie_scolaire",
                         {"f-regime_sortie": "libre", "f-droit_image": "true"})
    assert response.status_code == 200
    html = squash(text_of(response))
    assert 'role="alert"' not in html and 'id="f-consentement_sortie_libre-error"' not in html
    assert 'data-name="f-consentement_sortie_libre">' in html
    again = post_page(family, dossier.public_id, "vie_scolaire", html=text_of(response))
    assert again.status_code == 422  # seen now: required
    assert 'id="f-consentement_sortie_libre-error"' in text_of(again)


def test_errors_on_questions_already_shown_stay(family: FlaskClient, dossier: Dossier) -> None:
    response = post_page(family, dossier.public_id, "vie_scolaire",
                         {"f-regime_sortie": "libre", "f-droit_image": None})
    assert response.status_code == 422
    html = text_of(response)
    assert 'href="#f-droit_image' in html and "nouvelles questions" in html
    assert 'href="#f-consentement_sortie_libre' not in html


def test_with_javascript_the_revealed_questions_were_seen(
        family: FlaskClient, dossier: Dossier) -> None:
    """A script posts no <noscript> input: the family saw the questions appear live."""
    html = text_of(family.get(page_url(dossier.public_id, "restauration")))
    data = form_values(html)
    assert data.pop("shown")
    data.update({"f-regime": ["dp4"], "f-mode_paiement": ["cheque"], "action": ["next"]})
    response = family.post(page_url(dossier.public_id, "restauration"), data=data)
    assert response.status_code == 302


# -- 2. an association not offered to the pupil is neither shown, stored nor printed ---------

def _sixth_grader(make_dossier: MakeDossier, mother: tuple[FamilyAccount, str],
                  answers: dict[str, Any] | None = None) -> Dossier:
    prefill = {**PREFILL, "pupil": {**PREFILL["pupil"], "level": "6e"}}
    return make_dossier(mother[0], prefill=prefill, answers=answers)


def test_an_unavailable_membership_is_not_offered_and_a_posted_one_is_dropped(
        client: FlaskClient, login: Login, mother: tuple[FamilyAccount, str],
        make_dossier: MakeDossier, db_session: Session) -> None:
    dossier = _sixth_grader(make_dossier, mother)
    login(mother[0].login, mother[1])
    html = text_of(client.get(page_url(dossier.public_id, "associations")))
    assert 'value="fse"' in html and 'value="as"' not in html
    response = post_page(client, dossier.public_id, "associations",
                         {"f-adhesions": ["fse", "as"]}, action="save", html=html)
    assert response.status_code == 302
    assert stored_answers(db_session, dossier)["adhesions"] == ["fse"]
    shown = squash(text_of(client.get(response.headers["Location"])))
    assert "Association sportive (AS)" in shown and "pas proposée" in shown


def test_a_stored_unavailable_membership_counts_nowhere(
        client: FlaskClient, login: Login, mother: tuple[FamilyAccount, str],
        make_dossier: MakeDossier) -> None:
    dossier = _sixth_grader(make_dossier, mother, answers={"adhesions": ["fse", "as"]})
    login(mother[0].login, mother[1])
    review = squash(text_of(client.get(f"/dossier/{dossier.public_id}/recapitulatif")))
    assert "fse, as" not in review and "25,00" not in review
    assert "10,00" in review


# -- 5. SIECLE's civility codes tick the campaign's choices ----------------------------------

def test_siecle_civility_is_ticked_and_shown(
        client: FlaskClient, login: Login, mother: tuple[FamilyAccount, str],
        make_dossier: MakeDossier) -> None:
    father = {**PREFILL["guardians"][1], "civility": "M."}
    dossier = make_dossier(mother[0], prefill={**PREFILL,
                                               "guardians": [PREFILL["guardians"][0], father]})
    login(mother[0].login, mother[1])
    html = text_of(client.get(page_url(dossier.public_id, "famille")))
    assert form_values(html)["f-responsables-1-civilite"] == ["M"]
    review = squash(text_of(client.get(f"/dossier/{dossier.public_id}/recapitulatif")))
    assert "Monsieur" in review


# -- 6. the INSEE code follows a move ---------------------------------------------------------

def test_the_commune_code_follows_the_new_address(
        family: FlaskClient, dossier: Dossier, db_session: Session) -> None:
    response = post_page(family, dossier.public_id, "famille", {
        "f-responsables-0-adresse-line1": "40 cours Gambetta",
        "f-responsables-0-adresse-postal_code": "69007"}, action="save")
    assert response.status_code == 302
    (claire, _) = stored_answers(db_session, dossier)["responsables"]
    assert claire["adresse"]["postal_code"] == "69007"
    assert claire["adresse"]["commune_insee"] == "69387"  # Lyon 7e, no longer 69383 (3e)


@pytest.mark.parametrize(("postal_code", "commune", "current", "code"), [
    ("69007", "LYON", "69383", "69387"),  # moved within Lyon: the new arrondissement
    ("69003", "LYON", "69383", "69383"),
    ("14270", "OUEZY", "14431", "14482"),  # same postal code, another commune chosen
    ("14270", "MEZIDON VALLEE D AUGE", "14431", "14431"),
    ("14270", "QUELQUE PART", "14431", "14431"),  # a name the table lacks: still consistent
    ("14000", "CAEN CEDEX", "69383", "14118"),  # the postal code's only commune
    ("14270", "NULLE PART", "69383", ""),  # stale and ambiguous: unknown rather than wrong
])
def test_commune_code(postal_code: str, commune: str, current: str, code: str) -> None:
    assert commune_code(postal_code, commune, current) == code


# -- 8. the rating belongs to the person ------------------------------------------------------

def test_the_other_guardian_is_not_thanked_for_a_rating_they_did_not_give(
        client: FlaskClient, login: Login, mother: tuple[FamilyAccount, str],
        father: tuple[FamilyAccount, str], dossier: Dossier, db_session: Session,
        csrf_token: Callable[..., str]) -> None:
    dossier.state = DossierState.SUBMITTED
    db_session.commit()
    url = f"/dossier/{dossier.public_id}/avis"
    login(mother[0].login, mother[1])
    token = csrf_token(client, f"/dossier/{dossier.public_id}/confirmation")
    assert client.post(url, data={"csrf_token": token, "score": "4"}).status_code == 302
    client.post("/deconnexion", data={"csrf_token": token})
    client.delete_cookie("session")
    login(father[0].login, father[1])
    page = text_of(client.get(f"/dossier/{dossier.public_id}/confirmation"))
    assert "la note de 4 sur 5" not in page and 'name="score"' in page
    token = csrf_token(client, f"/dossier/{dossier.public_id}/confirmation")
    assert client.post(url, data={"csrf_token": token, "score": "2"}).status_code == 302
    assert "la note de 2 sur 5" in text_of(client.get(f"/dossier/{dossier.public_id}/confirmation"))


# -- 9. two tabs of the same guardian ---------------------------------------------------------

def test_a_stale_save_merges_what_only_one_tab_changed(
        family: FlaskClient, dossier: Dossier, db_session: Session) -> None:
    url = page_url(dossier.public_id, "vie_scolaire")
    first, second = text_of(family.get(url)), text_of(family.get(url))
    assert post_page(family, dossier.public_id, "vie_scolaire",
                     {"f-regime_sortie": "fin_journee"}, action="save",
                     html=first).status_code == 302
    merged = post_page(family, dossier.public_id, "vie_scolaire", {"f-droit_image": "true"},
                       action="save", html=second)
    assert merged.status_code == 302
    stored = stored_answers(db_session, dossier)
    assert (stored["regime_sortie"], stored["droit_image"]) == ("fin_journee", True)
    shown = squash(text_of(family.get(merged.headers["Location"])))
    assert "par vous-même, dans un autre onglet" in shown


def test_a_conflict_between_two_tabs_says_it_was_the_same_guardian(
        family: FlaskClient, dossier: Dossier, db_session: Session) -> None:
    url = page_url(dossier.public_id, "vie_scolaire")
    first, second = text_of(family.get(url)), text_of(family.get(url))
    post_page(family, dossier.public_id, "vie_scolaire", {"f-regime_sortie": "fin_journee"},
              action="save", html=first)
    stale = post_page(family, dossier.public_id, "vie_scolaire",
                      {"f-regime_sortie": "interdite"}, action="save", html=second)
    assert stale.status_code == 409
    html = squash(text_of(stale))
    assert "Vous avez enregistré ce dossier dans un autre onglet" in html
    assert "Un autre responsable légal" not in html
    assert stored_answers(db_session, dossier)["regime_sortie"] == "fin_journee"


def test_a_stale_save_merges_the_rows_of_a_repeat_child_by_child(
        app: Flask, family: FlaskClient, dossier: Dossier, father: tuple[FamilyAccount, str],
        csrf_token: Callable[..., str], db_session: Session) -> None:
    other = app.test_client()
    other.post("/connexion", data={"csrf_token": csrf_token(other), "login": father[0].login,
                                   "code": father[1]})
    url = page_url(dossier.public_id, "famille")
    mine, theirs = text_of(family.get(url)), text_of(other.get(url))
    assert post_page(other, dossier.public_id, "famille",
                     {"f-responsables-1-telephone_portable": "07 81 22 33 44"}, action="save",
                     html=theirs).status_code == 302
    merged = post_page(family, dossier.public_id, "famille",
                       {"f-responsables-0-telephone_portable": "06 99 88 77 66"}, action="save",
                       html=mine)
    assert merged.status_code == 302
    claire, paul = stored_answers(db_session, dossier)["responsables"]
    assert claire["telephone_portable"] == "+33699887766"
    assert paul["telephone_portable"] == "+33781223344"
    assert "par un autre responsable légal" in squash(
        text_of(family.get(merged.headers["Location"])))


# -- 7. the campaign's dates are enforced -----------------------------------------------------

@pytest.mark.parametrize(("day", "window"), [(date(2026, 12, 1), "upcoming"),
                                             (date(2027, 7, 1), "closed")])
def test_outside_its_dates_a_dossier_cannot_change(
        app: Flask, settings: Settings, make_account: Callable[..., Any],
        make_dossier: MakeDossier, db_session: Session, csrf_token: Callable[..., str],
        day: date, window: str) -> None:
    client = create_app(replace(settings, today=day)).test_client()
    account, code = make_account("Claire Martin", personne_id="1001")
    dossier = make_dossier(account, prefill=PREFILL)
    client.post("/connexion", data={"csrf_token": csrf_token(client), "login": account.login,
                                    "code": code})
    home = squash(text_of(client.get(f"/dossier/{dossier.public_id}")))
    if window == "upcoming":
        assert "La campagne ouvre le <strong>01/06/2027</strong>" in home
        assert "Commencer" not in home
    else:
        assert "close depuis le <strong>30/06/2027</strong>" in home
        assert "ce.0691234a@ac-lyon.fr" in home
    assert client.get(page_url(dossier.public_id, "eleve")).status_code == 302
    token = csrf_token(client, f"/dossier/{dossier.public_id}")
    posted = client.post(page_url(dossier.public_id, "restauration"), data={
        "csrf_token": token, "row_version": "1", "f-regime": "externe", "action": "save"})
    assert posted.status_code == 302
    sent = client.post(f"/dossier/{dossier.public_id}/envoyer",
                       data={"csrf_token": token, "row_version": "1"})
    assert sent.status_code == 302
    assert stored_answers(db_session, dossier) == {}
    db_session.refresh(dossier)
    assert dossier.state is DossierState.NOT_STARTED
    dashboard = squash(text_of(client.get("/mes-dossiers")))
    assert ("Ouverture le 01/06/2027" if window == "upcoming"
            else "Campagne close depuis le 30/06/2027") in dashboard


def test_the_dashboard_shows_the_deadline(family: FlaskClient) -> None:
    assert "À envoyer au plus tard le <strong>30/06/2027</strong>" in squash(
        text_of(family.get("/mes-dossiers")))


# -- 4. a guardian's own data is one thing for all their children -----------------------------

def test_a_guardians_new_contact_reaches_the_siblings_dossier(
        family: FlaskClient, dossier: Dossier, make_dossier: MakeDossier,
        mother: tuple[FamilyAccount, str], father: tuple[FamilyAccount, str],
        db_session: Session) -> None:
    hugo = make_dossier(mother[0], father[0], first_name="Hugo", prefill=PREFILL)
    sent = make_dossier(mother[0], father[0], first_name="Zoé", prefill=PREFILL)
    sent.state = DossierState.SUBMITTED
    db_session.commit()
    assert post_page(family, dossier.public_id, "famille", {
        "f-responsables-0-telephone_portable": "07 81 22 33 44",
        "f-responsables-0-adresse-line1": "40 cours Gambetta",
        "f-responsables-0-adresse-postal_code": "69007"}, action="save").status_code == 302
    html = text_of(family.get(page_url(hugo.public_id, "famille")))
    values = form_values(html)
    assert values["f-responsables-0-telephone_portable"] == ["07 81 22 33 44"]
    assert values["f-responsables-0-adresse-line1"] == ["40 cours Gambetta"]
    assert values["f-responsables-1-telephone_portable"] == ["07 98 76 54 32"]  # Paul's: his
    notes = squash(html)
    assert "Téléphone portable de Claire MARTIN : valeur modifiée le" in notes
    assert "dans le dossier de Léa" in notes
    assert "dossier de Léa" not in squash(text_of(family.get(page_url(dossier.public_id,
                                                                      "famille"))))
    # saved in Hugo's dossier as shown; the sent dossier keeps what was sent
    assert post_page(family, hugo.public_id, "famille", action="save",
                     html=html).status_code == 302
    (claire, _) = stored_answers(db_session, hugo)["responsables"]
    assert claire["telephone_portable"] == "+33781223344"
    assert claire["adresse"]["postal_code"] == "69007"
    assert stored_answers(db_session, sent) == {}


def test_the_school_reviews_a_shared_change_once(
        app: Flask, family: FlaskClient, dossier: Dossier, make_dossier: MakeDossier,
        mother: tuple[FamilyAccount, str], father: tuple[FamilyAccount, str],
        db_session: Session, make_staff: Callable[..., StaffUser],
        staff_login: Callable[[StaffUser], TestResponse],
        csrf_token: Callable[..., str]) -> None:
    hugo = make_dossier(mother[0], father[0], first_name="Hugo", prefill=PREFILL)
    assert post_page(family, dossier.public_id, "famille", {
        "f-responsables-0-telephone_portable": "07 81 22 33 44"},
        action="save").status_code == 302
    # Hugo's dossier shown and saved as prefilled: the new phone is carried over, not retyped
    html = text_of(family.get(page_url(hugo.public_id, "famille")))
    assert post_page(family, hugo.public_id, "famille", action="save",
                     html=html).status_code == 302
    campaign = app_state(app).campaigns.campaign_of(hugo.campaign_version)
    for found, kept in ((dossier, {"famille"}), (hugo, set())):
        db_session.expire_all()
        loaded = db_session.get(Dossier, found.id)
        assert loaded is not None
        assert set(refresh_summary(db_session, loaded, campaign).pages) == kept
        db_session.commit()
    # a page of dossiers (the list's refresh, an export's chunk): their guardians' profiles
    # and the pupils' names in two statements, none per dossier, the same values
    db_session.expire_all()
    page = [db_session.get(Dossier, d.id) for d in (dossier, hugo)]
    answers = {d.id: {**d.answers, **d.corrections} for d in page if d is not None}
    statements: list[str] = []
    listen = (db_session.get_bind(), "before_cursor_execute",
              lambda *args: statements.append(args[2]))
    event.listen(*listen)
    try:
        shared = SharedProfiles.load(db_session, [d for d in page if d is not None])
        batched = {d.id: reported_elsewhere(db_session, campaign, d, answers[d.id], shared)
                   for d in page if d is not None}
    finally:
        event.remove(*listen)
    assert len(statements) == 2
    assert batched == {d.id: reported_elsewhere(db_session, campaign, d, answers[d.id])
                       for d in page if d is not None}
    assert not batched[dossier.id] and list(batched[hugo.id].values()) == [
        {"telephone_portable": "Léa"}]
    family.post("/deconnexion", data={"csrf_token": csrf_token(family, "/mes-dossiers")})
    staff_login(make_staff())
    lea_view = squash(text_of(family.get(f"/etablissement/0750001A/dossier/{dossier.public_id}")))
    hugo_view = squash(text_of(family.get(f"/etablissement/0750001A/dossier/{hugo.public_id}")))
    assert "<ins>07 81 22 33 44</ins>" in lea_view and "Déjà signalé" not in lea_view
    assert "<ins>07 81 22 33 44</ins>" not in hugo_view
    assert "Téléphone portable (Responsable légal 1) — dossier de Léa" in hugo_view


def test_a_confidential_guardians_change_is_shared_without_being_shown(
        app: Flask, client: FlaskClient, login: Login, make_dossier: MakeDossier,
        mother: tuple[FamilyAccount, str], father: tuple[FamilyAccount, str],
        csrf_token: Callable[..., str], db_session: Session) -> None:
    lea = make_dossier(mother[0], father[0], prefill=PREFILL, confidential=(2,))
    hugo = make_dossier(mother[0], father[0], first_name="Hugo", prefill=PREFILL,
                        confidential=(2,))
    paul = app.test_client()
    paul.post("/connexion", data={"csrf_token": csrf_token(paul), "login": father[0].login,
                                  "code": father[1]})
    assert post_page(paul, lea.public_id, "famille", {
        "f-responsables-1-telephone_portable": "07 81 22 33 44"},
        action="save").status_code == 302
    login(mother[0].login, mother[1])
    html = text_of(client.get(page_url(hugo.public_id, "famille")))
    assert "07 81 22 33 44" not in html and "+33781223344" not in html
    assert "Paul DURAND" not in html.split("<form")[0]  # no notice about his masked data
    own = text_of(paul.get(page_url(hugo.public_id, "famille")))
    assert form_values(own)["f-responsables-1-telephone_portable"] == ["07 81 22 33 44"]
