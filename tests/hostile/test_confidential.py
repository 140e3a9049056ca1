"""The confidential guardian (issue 11, items 1–5): the father's contact is confidential, and the
mother must learn nothing of it — not from the pages or their JSON, the documents, a file's URL,
the récapitulatif, the confirmation mail, a dispute, nor from a validation message; and nothing
she posts erases it. The father keeps seeing and changing all of his own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from engine.dossiers.campaigns import redaction_for
from engine.dossiers.documents import add_files
from engine.dossiers.models import Dossier, StoredFile
from engine.dossiers.versions import CampaignCache
from engine.web.state import app_state

from .confkit import (
    CONTACT_PHONE,
    DISPUTE,
    FILE_NAME,
    NEW_MOBILE,
    NEW_STREET,
    PDF,
    Account,
    CsrfToken,
    attachment,
    browser,
    html,
    leaks,
    mails,
    pdf_text,
    post_form,
    refusal,
    reload,
    upload,
)
from conftest import CAMPAIGN_DAY
from web.wizardkit import PAGES, PREFILL, VALID_PAGES, page_url

MakeAccount = Callable[..., Account]
MakeDossier = Callable[..., Dossier]
#: documents every family of the example campaign sends (by the school here: both see them)
REQUIRED_DOCUMENTS = ("attestation_assurance", "fiche_infirmerie", "reglement_interieur")


@pytest.fixture
def mother(make_account: MakeAccount) -> Account:
    return make_account("Claire Martin", email="claire.martin@example.fr", personne_id="1001")


@pytest.fixture
def father(make_account: MakeAccount) -> Account:
    return make_account("Paul Durand", email="paul.durand@example.fr", personne_id="1002")


@pytest.fixture
def dossier(make_dossier: MakeDossier, mother: Account, father: Account) -> Dossier:
    """Léa's dossier; the school marked her father's contact confidential."""
    return make_dossier(mother[0], father[0], prefill=PREFILL, confidential=(2,))


@pytest.fixture
def dad(app: Flask, csrf_token: CsrfToken, father: Account) -> FlaskClient:
    return browser(app, csrf_token, father)


@pytest.fixture
def mum(app: Flask, csrf_token: CsrfToken, mother: Account) -> FlaskClient:
    return browser(app, csrf_token, mother)


def _father_fills(dad: FlaskClient, csrf_token: CsrfToken, dossier: Dossier) -> None:
    """He changes his mobile and address, names an emergency contact with a number he types,
    sends a proof of address (dated) and reports an error in a locked value."""
    pid = dossier.public_id
    assert post_form(dad, pid, "famille", {
        "f-responsables-1-telephone_portable": NEW_MOBILE[1],
        "f-responsables-1-adresse-line1": NEW_STREET}).status_code == 302
    assert post_form(dad, pid, "urgence", {
        "f-contacts_urgence-0-nom": "Jeanne DURAND", "f-contacts_urgence-0-lien": "38",
        "f-contacts_urgence-0-telephone": CONTACT_PHONE[1]}).status_code == 302
    assert refusal(dad, upload(dad, csrf_token, pid, "justificatif_domicile")) is None
    documents = f"/dossier/{pid}/documents"
    # the documents judge dates on the real day (not the campaign's test day): yesterday
    yesterday = (date.today() - timedelta(days=1)).strftime("%d/%m/%Y")
    assert refusal(dad, dad.post(f"{documents}/justificatif_domicile/date", data={
        "csrf_token": csrf_token(dad, documents), "date": yesterday})) is None
    assert dad.post(f"/dossier/{pid}/etape/eleve/signaler",
                    data={"csrf_token": csrf_token(dad, page_url(pid, "eleve")),
                          "field": "nom", "message": DISPUTE}).status_code == 302


def _his_file(db_session: Session, dossier: Dossier) -> StoredFile:
    return next(f for f in reload(db_session, dossier).files if f.filename == FILE_NAME)


def _school_documents(app: Flask, db_session: Session, dossier: Dossier) -> None:
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    for document_id in REQUIRED_DOCUMENTS:
        add_files(db_session, app_state(app).storage, campaign, dossier, document_id,
                  [(PDF, f"{document_id}.pdf")], None, today=CAMPAIGN_DAY)


def test_the_whole_round_for_both_guardians(
        app: Flask, db_session: Session, dossier: Dossier, dad: FlaskClient, mum: FlaskClient,
        csrf_token: CsrfToken, tmp_path: Path) -> None:
    """Pages and their JSON, documents, review, PDF, mails, disputes, validation messages."""
    _father_fills(dad, csrf_token, dossier)
    pid = dossier.public_id
    # she sees none of it, on any page (the markup and the embedded JSON alike)
    for page_id in PAGES:
        assert leaks(html(mum, page_url(pid, page_id))) == [], page_id
    for url in (f"/dossier/{pid}/documents", f"/dossier/{pid}/recapitulatif"):
        assert leaks(html(mum, url)) == [], url
    assert "par l'autre responsable légal" in html(mum, f"/dossier/{pid}/documents")
    assert leaks(pdf_text(mum.get(f"/dossier/{pid}/recapitulatif.pdf").data)) == []
    # he sees all of his own
    famille = html(dad, page_url(pid, "famille"))
    assert NEW_STREET in famille and NEW_MOBILE[1] in famille
    assert CONTACT_PHONE[1] in html(dad, page_url(pid, "urgence"))
    assert DISPUTE in html(dad, page_url(pid, "eleve"))
    assert FILE_NAME in html(dad, f"/dossier/{pid}/documents")
    assert FILE_NAME in pdf_text(dad.get(f"/dossier/{pid}/recapitulatif.pdf").data)
    # her saves of every page neither read nor erase anything of his
    for page_id in PAGES:
        assert post_form(mum, pid, page_id, VALID_PAGES.get(page_id, {}),
                         action="next").status_code == 302, page_id
    stored = reload(db_session, dossier)
    paul = stored.answers["responsables"][1]
    assert paul["_key"] == "1002"
    assert paul["telephone_portable"] in NEW_MOBILE
    assert paul["adresse"]["line1"] == NEW_STREET
    assert stored.answers["contacts_urgence"][0]["telephone"] in CONTACT_PHONE
    # both can send: his proof of address counts for her too, without being shown
    _school_documents(app, db_session, dossier)
    review = f"/dossier/{pid}/recapitulatif"
    version = html(mum, review).split('name="row_version" value="')[1].split('"')[0]
    assert mum.post(f"/dossier/{pid}/envoyer", data={
        "csrf_token": csrf_token(mum, review), "row_version": version}).status_code == 302
    sent = {m["To"]: pdf_text(attachment(m)) for m in mails(tmp_path)}
    assert leaks(sent["claire.martin@example.fr"]) == []
    assert FILE_NAME in sent["paul.durand@example.fr"]
    assert NEW_STREET in sent["paul.durand@example.fr"]
    assert leaks(pdf_text(mum.get(f"/dossier/{pid}/recapitulatif.pdf").data)) == []
    assert leaks(html(mum, review)) == []


@pytest.mark.parametrize("route", ["download", "preview", "replace", "delete"])
def test_his_file_is_a_404_for_her_at_every_route(
        app: Flask, db_session: Session, dossier: Dossier, dad: FlaskClient, mum: FlaskClient,
        csrf_token: CsrfToken, route: str) -> None:
    """The same answer as a file id that does not exist: nothing confirms the file exists."""
    assert refusal(dad, upload(dad, csrf_token, dossier.public_id,
                               "justificatif_domicile")) is None
    stored = _his_file(db_session, dossier)
    base = f"/dossier/{dossier.public_id}/fichiers/{stored.public_id}"
    missing = f"/dossier/{dossier.public_id}/fichiers/{'x' * 22}"
    token = csrf_token(mum, f"/dossier/{dossier.public_id}/documents")

    def call(url: str) -> int:
        if route == "download":
            return mum.get(url).status_code
        if route == "preview":
            return mum.get(url + "/apercu").status_code
        action = "/remplacer" if route == "replace" else "/supprimer"
        return mum.post(url + action, data={"csrf_token": token}).status_code

    assert call(base) == call(missing) == 404
    assert dad.get(base).status_code == 200
    assert _his_file(db_session, dossier).filename == FILE_NAME  # still there, unchanged


def test_a_file_she_sends_stays_hers_to_see(
        app: Flask, db_session: Session, dossier: Dossier, dad: FlaskClient, mum: FlaskClient,
        csrf_token: CsrfToken) -> None:
    """Only the confidential guardian's files are kept from the other: hers he sees."""
    assert refusal(mum, upload(mum, csrf_token, dossier.public_id, "justificatif_domicile",
                               name="facture-claire.pdf")) is None
    assert "facture-claire.pdf" in html(dad, f"/dossier/{dossier.public_id}/documents")
    stored = next(f for f in reload(db_session, dossier).files)
    assert dad.get(f"/dossier/{dossier.public_id}/fichiers/{stored.public_id}").status_code == 200


def test_his_files_count_against_the_documents_limit_for_her(
        dossier: Dossier, dad: FlaskClient, mum: FlaskClient, csrf_token: CsrfToken) -> None:
    """Two files at most: after his two, her page offers no upload and a post is refused."""
    for n in (1, 2):
        assert refusal(dad, upload(dad, csrf_token, dossier.public_id, "justificatif_domicile",
                                   name=f"p{n}-{FILE_NAME}")) is None
    page = html(mum, f"/dossier/{dossier.public_id}/documents")
    assert "2 fichiers ont été envoyés par l'autre responsable légal" in page
    assert leaks(page) == []
    refused = refusal(mum, upload(mum, csrf_token, dossier.public_id, "justificatif_domicile",
                                  name="x.pdf"))
    assert refused is not None and "au plus 2 fichier" in refused
    assert "x.pdf" not in html(mum, f"/dossier/{dossier.public_id}/documents")


def test_his_dispute_is_not_shown_to_her(dossier: Dossier, dad: FlaskClient, mum: FlaskClient,
                                         csrf_token: CsrfToken) -> None:
    pid = dossier.public_id
    for who, message in ((dad, DISPUTE), (mum, "Le nom s'écrit Martin-Durand")):
        assert who.post(f"/dossier/{pid}/etape/eleve/signaler",
                        data={"csrf_token": csrf_token(who, page_url(pid, "eleve")),
                              "field": "nom", "message": message}).status_code == 302
    hers, his = html(mum, page_url(pid, "eleve")), html(dad, page_url(pid, "eleve"))
    assert DISPUTE not in hers and "Martin-Durand" in hers
    assert DISPUTE in his and "Martin-Durand" in his


#: what she may type as an emergency contact's number: his real number (the right guess), his
#: new one, another made-up one (the wrong guess)
RULE_MESSAGE = "Ce numéro est celui d'un responsable légal"
GUESSES = {"his-imported-mobile": "07 98 76 54 32", "his-new-mobile": NEW_MOBILE[1],
           "wrong-guess": "07 81 22 33 44"}


@pytest.mark.parametrize("guess", list(GUESSES))
def test_a_validation_rule_is_no_oracle_on_his_number(
        dossier: Dossier, dad: FlaskClient, mum: FlaskClient, guess: str) -> None:
    """« Ce numéro est celui d'un responsable légal » would confirm a right guess: the rule
    reads what she may see, so every guess gets the same answer."""
    pid = dossier.public_id
    assert post_form(dad, pid, "famille", {
        "f-responsables-1-telephone_portable": NEW_MOBILE[1]}).status_code == 302
    response = post_form(mum, pid, "urgence", {
        "f-contacts_urgence-0-nom": "Jeanne DURAND",
        "f-contacts_urgence-0-telephone": GUESSES[guess]}, action="next")
    assert response.status_code == 302, guess
    assert RULE_MESSAGE not in unescape(response.get_data(as_text=True))
    # her own number is hers to know: the rule still speaks about it
    own = post_form(mum, pid, "urgence", {"f-contacts_urgence-0-telephone": "06 12 34 56 78"},
                    action="next")
    assert own.status_code == 422
    assert RULE_MESSAGE in unescape(own.get_data(as_text=True))


#: pages whose form does not hold the guardians' rows, and actions naming those rows
OTHER_PAGES = [p for p in PAGES if p != "famille"]
ROW_ACTIONS = ["add:responsables", "remove:responsables:0", "remove:responsables:1"]


@pytest.mark.parametrize("action", ROW_ACTIONS)
@pytest.mark.parametrize("page_id", OTHER_PAGES)
def test_a_row_action_of_another_page_is_refused(
        db_session: Session, dossier: Dossier, mum: FlaskClient, page_id: str,
        action: str) -> None:
    """Posting ``add:responsables`` from the emergency page replaced both guardians' rows
    with one empty row: an action applies to the page it was posted from only."""
    response = post_form(mum, dossier.public_id, page_id, {}, action=action)
    assert response.status_code == 400, (page_id, action)
    stored = reload(db_session, dossier)
    assert "responsables" not in stored.answers


def test_she_cannot_remove_his_row_nor_a_row_holding_his_number(
        db_session: Session, dossier: Dossier, dad: FlaskClient, mum: FlaskClient) -> None:
    pid = dossier.public_id
    assert post_form(dad, pid, "urgence", {
        "f-contacts_urgence-0-nom": "Jeanne DURAND",
        "f-contacts_urgence-0-telephone": CONTACT_PHONE[1]}).status_code == 302
    assert post_form(mum, pid, "urgence", {}, action="add:contacts_urgence").status_code == 302
    for page_id, action in (("famille", "remove:responsables:1"),
                            ("urgence", "remove:contacts_urgence:0")):
        post_form(mum, pid, page_id, {}, action=action)
    stored = reload(db_session, dossier)
    assert [r["_key"] for r in stored.answers["responsables"]] == ["1001", "1002"]
    assert stored.answers["contacts_urgence"][0]["telephone"] in CONTACT_PHONE


#: ways to post his row without its key, hoping the rows' protection follows the key only
REKEYED = {"empty-key": "", "new-key": "new-0123456789ab", "her-key": "1001",
           "made-up": "row7", "imported-looking": "1003"}


@pytest.mark.parametrize("key", list(REKEYED))
def test_his_row_reposted_under_another_key_stays_his(
        db_session: Session, dossier: Dossier, mum: FlaskClient, key: str) -> None:
    """She posts the page with his row's key changed (and his details typed over): his row is
    kept as it was, and the post cannot exceed the repeat's two rows."""
    pid = dossier.public_id
    response = post_form(mum, pid, "famille", {
        "f-responsables-1-_key": REKEYED[key],
        "f-responsables-1-telephone_portable": "06 66 66 66 66"})
    assert response.status_code in (302, 400), key
    stored = reload(db_session, dossier).answers
    if response.status_code == 400:  # refused whole: nothing written
        assert "responsables" not in stored
        return
    rows = stored["responsables"]
    assert len(rows) <= 2
    paul = next(r for r in rows if r["_key"] == "1002")
    assert paul["telephone_portable"] in ("+33798765432", "0798765432")


def test_details_he_types_in_a_new_row_are_masked_for_her(
        app: Flask, db_session: Session, make_dossier: MakeDossier, mother: Account,
        father: Account, csrf_token: CsrfToken) -> None:
    """Masking followed only the row with the imported key: he removes his imported row,
    adds a new one with his details, and she must still not see them."""
    prefill = {**PREFILL, "guardians": PREFILL["guardians"][:1] + [
        {**PREFILL["guardians"][1], "personne_id": ""}]}
    dossier = make_dossier(mother[0], father[0], prefill=prefill, confidential=(2,))
    dad, mum = browser(app, csrf_token, father), browser(app, csrf_token, mother)
    pid = dossier.public_id
    assert post_form(dad, pid, "famille", {}, action="remove:responsables:1").status_code == 302
    assert post_form(dad, pid, "famille", {}, action="add:responsables").status_code == 302
    assert post_form(dad, pid, "famille", {
        "f-responsables-1-nom": "DURAND", "f-responsables-1-prenom": "Paul",
        "f-responsables-1-lien_parente": "20",
        "f-responsables-1-telephone_portable": NEW_MOBILE[1],
        "f-responsables-1-adresse-line1": NEW_STREET}).status_code == 302
    stored = reload(db_session, dossier)
    assert stored.answers["responsables"][1]["telephone_portable"] in NEW_MOBILE
    for page_id in PAGES:
        assert leaks(html(mum, page_url(pid, page_id)), (*NEW_MOBILE, NEW_STREET)) == []
    assert leaks(pdf_text(mum.get(f"/dossier/{pid}/recapitulatif.pdf").data),
                 (*NEW_MOBILE, NEW_STREET)) == []
    assert NEW_STREET in html(dad, page_url(pid, "famille"))


def test_the_redaction_names_his_account_files_and_locations(
        db_session: Session, dossier: Dossier, dad: FlaskClient, csrf_token: CsrfToken,
        mother: Account, father: Account) -> None:
    _father_fills(dad, csrf_token, dossier)
    stored = reload(db_session, dossier)
    hidden = redaction_for(stored, mother[0].id)
    assert hidden.accounts == {str(father[0].id)}
    assert "contacts_urgence/" in " ".join(hidden.owned)
    assert hidden.hides_file(_his_file(db_session, dossier))
    assert not redaction_for(stored, father[0].id)


def test_an_account_not_a_guardian_is_told_nothing(
        app: Flask, dossier: Dossier, make_account: MakeAccount, csrf_token: CsrfToken) -> None:
    stranger = browser(app, csrf_token, make_account("Autre Parent"))
    assert stranger.get(f"/dossier/{dossier.public_id}/documents").status_code == 404


def test_what_he_types_in_her_row_does_not_reach_her_other_childs_dossier(
        db_session: Session, make_dossier: MakeDossier, mother: Account, father: Account,
        dossier: Dossier, dad: FlaskClient, mum: FlaskClient) -> None:
    """The guardians' own data is shared across siblings (``guardian_profile``): a number he
    types in her row is masked from her in this dossier, and must not come back to her,
    unmasked, in her other child's."""
    tom = make_dossier(mother[0], father[0], prefill=PREFILL, first_name="Tom",
                       confidential=(2,))
    typed = ("0758000005", "07 58 00 00 05", "+33758000005")
    assert post_form(dad, dossier.public_id, "famille", {
        "f-responsables-0-telephone_portable": typed[1]}).status_code == 302
    assert leaks(html(mum, page_url(dossier.public_id, "famille")), typed) == []
    assert leaks(html(mum, page_url(tom.public_id, "famille")), typed) == []
