"""Answers per guardian (issue 14): each legal guardian signs the attestation under their own
login; the first one's submission waits for the other's answer (the dossier stays in
progress, « en attente de la réponse de … »), the last one sends it; each sees the other's
answer read-only, and a guardian the school protects is not named."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hostile.confkit import CsrfToken, browser, html, post_form, reload
from sqlalchemy.orm import Session

from engine.dossiers.models import Dossier, FamilyAccount
from engine.dossiers.states import DossierState
from engine.exports.dossier_tables import changes_table, dossiers_table

from .wizardkit import form_values, page_url
from conftest import MakeStaff
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
