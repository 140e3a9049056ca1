"""Answers per guardian (issue 14): each legal guardian signs the attestation under their own
login; the first one's submission waits for the other's answer (the dossier stays in
progress, « en attente de la réponse de … »), the last one sends it; each sees the other's
answer read-only, and a guardian the school protects is not named; the school reminds the
guardians whose answer is awaited and finds their dossiers in the list."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hostile.confkit import (
    CsrfToken,
    attachment,
    browser,
    html,
    mails,
    pdf_text,
    post_form,
    reload,
)
from sqlalchemy.orm import Session

from engine.dossiers.messages import DEFAULT_SUBJECTS, Audience, default_body
from engine.dossiers.models import Dossier, FamilyAccount
from engine.dossiers.states import DossierState
from engine.exports.dossier_tables import changes_table, dossiers_table

from .wizardkit import form_values, page_url
from conftest import MakeStaff, _csrf_token
from exports.kit import selection
from staffkit import StaffUser

Account = tuple[FamilyAccount, str]

SOURCE = """\
language: 1
id: signatures
title: Réinscription
establishment: {uai: "0750001A", name: Collège Jean Moulin}
opens: 2027-05-01
closes: 2027-06-30
pages:
  - id: eleve
    title: Élève
    fields:
      - id: regime
        type: choice
        label: Régime
        choices: [{value: externe, label: Externe}, {value: demi, label: Demi-pensionnaire}]
  - id: signature
    title: Signature
    scope: per_guardian
    fields:
      - id: attestation
        type: consent
        label: Attestation
        statement: Je certifie exacts les renseignements de ce dossier.
        required: all_guardians
      - id: informations
        type: boolean
        label: Je souhaite recevoir les informations de l'association de parents
"""


@pytest.fixture
def mother(make_account: Callable[..., Account]) -> Account:
    return make_account("Claire MARTIN", email="claire@example.fr", personne_id="1001")


@pytest.fixture
def father(make_account: Callable[..., Account]) -> Account:
    return make_account("Paul DURAND", email="paul@example.fr", personne_id="1002")


def _dossier(make_dossier: Callable[..., Dossier], mother: Account, father: Account,
             confidential: tuple[int, ...] = ()) -> Dossier:
    return make_dossier(mother[0], father[0], source=SOURCE, campaign="signatures",
                        confidential=confidential)


def _submit(client: FlaskClient, csrf_token: CsrfToken, dossier: Dossier) -> tuple[int, str]:
    review = f"/dossier/{dossier.public_id}/recapitulatif"
    page = html(client, review)
    version = page.split('name="row_version" value="')[1].split('"')[0]
    response = client.post(f"/dossier/{dossier.public_id}/envoyer", data={
        "csrf_token": csrf_token(client, review), "row_version": version})
    if response.status_code == 302:
        return 302, unescape(html(client, response.headers["Location"]))
    return response.status_code, unescape(response.get_data(as_text=True))


def _sign(client: FlaskClient, dossier: Dossier, **values: str) -> None:
    assert post_form(client, dossier.public_id, "eleve", {"f-regime": "demi"}).status_code == 302
    assert post_form(client, dossier.public_id, "signature", {
        f"f-{k}": v for k, v in values.items()}).status_code == 302


def test_both_guardians_sign_under_their_own_login(
        app: Flask, client: FlaskClient, db_session: Session,
        make_dossier: Callable[..., Dossier], mother: Account, father: Account,
        csrf_token: CsrfToken, make_staff: MakeStaff,
        staff_login: Callable[[StaffUser], object]) -> None:
    dossier = _dossier(make_dossier, mother, father)
    mum, dad = browser(app, csrf_token, mother), browser(app, csrf_token, father)
    _sign(mum, dossier, attestation="true", informations="true")
    # her submission is kept, but the dossier waits for the father
    status, page = _submit(mum, csrf_token, dossier)
    assert status == 302
    assert "En attente de la réponse de Paul DURAND" in page
    assert "quand Paul DURAND aura répondu" in page
    stored = reload(db_session, dossier)
    assert stored.state is DossierState.IN_PROGRESS
    assert stored.events[-1].kind == "submission_waiting"
    assert set(stored.guardian_answers["attestation"]) == {"1001"}
    assert "attestation" not in stored.answers
    # he sees her answer, read-only, and answers for himself (his box is not ticked)
    signature = unescape(html(dad, page_url(dossier.public_id, "signature")))
    assert "Claire MARTIN : Oui, le " in signature
    assert 'name="f-attestation" value="true" checked' not in signature
    # and in his récapitulatif, under his own (not given yet)
    review = unescape(html(dad, f"/dossier/{dossier.public_id}/recapitulatif"))
    attestation = review.split("<dt>Attestation</dt>")[1].split("</dd>")[0]
    assert "Vous : pas encore répondu" in attestation
    assert "Claire MARTIN : Oui, le " in attestation
    # he cannot send it without his own signature
    status, page = _submit(dad, csrf_token, dossier)
    assert status == 422
    assert "Signature" in page
    _sign(dad, dossier, attestation="true", informations="false")
    status, _ = _submit(dad, csrf_token, dossier)
    assert status == 302
    stored = reload(db_session, dossier)
    assert stored.state is DossierState.SUBMITTED
    answers = stored.guardian_answers
    assert answers["attestation"]["1001"]["value"] is True
    assert answers["attestation"]["1002"]["account"] == str(father[0].id)
    assert answers["informations"]["1001"]["value"] is True
    assert answers["informations"]["1002"]["value"] is False  # « non » is his answer
    # the school sees who answered what and when, in the review, the diff and the tables
    staff_login(make_staff())
    view = unescape(client.get(f"/etablissement/0750001A/dossier/{dossier.public_id}")
                    .get_data(as_text=True))
    review = view.split('id="par-responsable"')[1].split("</section>")[0]
    assert "Claire MARTIN : Oui, le " in review and "Paul DURAND : Oui, le " in review
    assert "envoi demandé, en attente de la réponse d'un autre responsable légal" in view
    changes = view.split('id="modifications"')[1].split("</section>")[0]
    assert "Attestation – Claire MARTIN" in changes and "Attestation – Paul DURAND" in changes
    table = dossiers_table(selection(db_session, slug="signatures"))
    (row,) = [dict(zip(table.header, line, strict=True)) for line in table.rows]
    assert row["Attestation – responsable légal 1"] is True
    assert row["Attestation – responsable légal 2"] is True
    assert row["Je souhaite recevoir les informations de l'association de parents – "
               "responsable légal 2"] is False
    assert str(row["Attestation – responsable légal 1 (qui, quand)"]).startswith(
        "Claire MARTIN, ")
    changed = [line[4] for line in changes_table(selection(db_session, slug="signatures")).rows]
    assert "Attestation – Paul DURAND" in changed


def test_a_protected_guardian_is_not_named_to_the_other(
        app: Flask, make_dossier: Callable[..., Dossier], mother: Account, father: Account,
        csrf_token: CsrfToken) -> None:
    """The school marked the father's contact confidential: the mother learns whether he
    answered, never his name nor the date."""
    dossier = _dossier(make_dossier, mother, father, confidential=(2,))
    mum, dad = browser(app, csrf_token, mother), browser(app, csrf_token, father)
    _sign(dad, dossier, attestation="true")
    status, page = _submit(dad, csrf_token, dossier)
    assert status == 302 and "En attente de la réponse de Claire MARTIN" in page
    signature = unescape(html(mum, page_url(dossier.public_id, "signature")))
    assert "L'autre responsable légal a répondu" in signature
    assert "Paul DURAND" not in signature
    _sign(mum, dossier, attestation="true")
    status, page = _submit(mum, csrf_token, dossier)
    assert status == 302 and "Paul DURAND" not in page


def _recaps(tmp_path: Path) -> dict[str, str]:
    """The text of the récapitulatif attached to each guardian's confirmation mail."""
    return {str(m["To"]): " ".join(pdf_text(attachment(m)).split()) for m in mails(tmp_path)}


def test_the_confirmation_pdf_says_what_each_guardian_answered(
        app: Flask, make_dossier: Callable[..., Dossier], mother: Account, father: Account,
        csrf_token: CsrfToken, tmp_path: Path) -> None:
    """The PDF of the confirmation mail, made without a guardian's login, lists each
    guardian's answer and date to every per-guardian field, and who has not answered."""
    dossier = _dossier(make_dossier, mother, father)
    mum, dad = browser(app, csrf_token, mother), browser(app, csrf_token, father)
    _sign(mum, dossier, attestation="true", informations="true")
    _sign(dad, dossier, attestation="true")
    assert _submit(dad, csrf_token, dossier)[0] == 302
    recaps = _recaps(tmp_path)
    assert set(recaps) == {"claire@example.fr", "paul@example.fr"}
    for text in recaps.values():
        attestation = text.split("Attestation ")[1].split("Je souhaite")[0]
        assert "Claire MARTIN : Oui, le " in attestation
        assert "Paul DURAND : Oui, le " in attestation
        informations = text.split("parents ")[1]
        assert "Claire MARTIN : Oui, le " in informations
        assert "Paul DURAND : pas encore répondu" in informations


def test_the_confirmation_pdf_does_not_name_a_protected_guardian(
        app: Flask, make_dossier: Callable[..., Dossier], mother: Account, father: Account,
        csrf_token: CsrfToken, tmp_path: Path) -> None:
    dossier = _dossier(make_dossier, mother, father, confidential=(2,))
    mum, dad = browser(app, csrf_token, mother), browser(app, csrf_token, father)
    _sign(dad, dossier, attestation="true")
    _sign(mum, dossier, attestation="true")
    assert _submit(mum, csrf_token, dossier)[0] == 302
    recaps = _recaps(tmp_path)
    hers = recaps["claire@example.fr"]
    assert "Claire MARTIN : Oui, le " in hers
    assert "L'autre responsable légal : a répondu" in hers and "DURAND" not in hers
    assert "Paul DURAND : Oui, le " in recaps["paul@example.fr"]


def test_two_guardians_signing_at_once_lose_nothing(
        app: Flask, db_session: Session, make_dossier: Callable[..., Dossier],
        mother: Account, father: Account, csrf_token: CsrfToken) -> None:
    """Both open the signature page, he signs first: her stale form is merged, not refused,
    and each keeps their own signature."""
    dossier = _dossier(make_dossier, mother, father)
    mum, dad = browser(app, csrf_token, mother), browser(app, csrf_token, father)
    url = page_url(dossier.public_id, "signature")
    her_form = form_values(html(mum, url))
    _sign(dad, dossier, attestation="true")
    her_form.update({"f-attestation": ["true"], "f-informations": ["true"],
                     "action": ["save"]})
    response = mum.post(url, data=her_form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    stored = reload(db_session, dossier).guardian_answers
    assert set(stored["attestation"]) == {"1001", "1002"}
    assert stored["informations"]["1001"]["value"] is True


def test_a_reminder_goes_to_the_guardian_whose_answer_is_awaited_naming_nobody(
        app: Flask, client: FlaskClient, make_dossier: Callable[..., Dossier],
        make_account: Callable[..., Account], mother: Account, father: Account,
        csrf_token: CsrfToken, make_staff: MakeStaff,
        staff_login: Callable[[StaffUser], object], tmp_path: Path) -> None:
    """Claire, whom the school protects, asked to send Léa's dossier; Paul has not signed:
    the reminder goes to him alone, and neither it nor its preview names her. Hugo's
    dossier is in progress, signed by one guardian, but nobody asked to send it."""
    waiting = _dossier(make_dossier, mother, father, confidential=(1,))
    mum = browser(app, csrf_token, mother)
    _sign(mum, waiting, attestation="true")
    assert _submit(mum, csrf_token, waiting)[0] == 302
    anne = make_account("Anne PETIT", email="anne@example.fr", personne_id="2001")
    marc = make_account("Marc PETIT", email="marc@example.fr", personne_id="2002")
    quiet = make_dossier(anne[0], marc[0], first_name="Hugo", last_name="Petit",
                         source=SOURCE, campaign="signatures")
    _sign(browser(app, csrf_token, anne), quiet, attestation="true")

    staff_login(make_staff())
    base = "/etablissement/0750001A/signatures"
    overview = unescape(html(client, f"{base}/messages"))
    row = overview.split("Responsables dont la réponse est attendue")[1].split("</tr>")[0]
    assert "<td>1</td><td>0</td>" in row
    path = f"{base}/messages/relance/waiting_guardian"
    page = unescape(html(client, path))
    assert "Paul DURAND" in page and "paul@example.fr" in page
    assert "Claire" not in page and "claire@" not in page and "PETIT" not in page
    sent = client.post(path, data={
        "csrf_token": _csrf_token(client, path), "action": "send",
        "subject": DEFAULT_SUBJECTS[Audience.WAITING_GUARDIAN],
        "body": default_body(Audience.WAITING_GUARDIAN.value)})
    assert sent.status_code == 302
    (message,) = mails(tmp_path)
    assert message["To"] == "paul@example.fr"
    assert message["Subject"] == "Réinscription de Léa Martin : votre réponse est attendue"
    text = message.get_content()
    assert "votre propre réponse" in text and "Claire" not in text and "claire@" not in text

    # the list keeps the dossiers waiting for a guardian
    listed = html(client, f"{base}/dossiers?attente=1")
    assert waiting.public_id in listed and quiet.public_id not in listed
    assert quiet.public_id in html(client, f"{base}/dossiers")
    # once Paul has signed, nobody is awaited (even before the dossier is sent)
    _sign(browser(app, csrf_token, father), waiting, attestation="true")
    row = unescape(html(client, f"{base}/messages")).split(
        "Responsables dont la réponse est attendue")[1].split("</tr>")[0]
    assert "<td>0</td><td>0</td>" in row
    assert waiting.public_id not in html(client, f"{base}/dossiers?attente=1")
