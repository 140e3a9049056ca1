"""What a family posts (issue 11, items 6 and 15): every length limit on every save, invisible and
control characters, values for questions the family could not answer, forged or duplicated
row keys, the size of a dossier's answers, the PDF's work and its rate limit. The server keeps
only what the family could have answered, and a draft may be incomplete, never oversized."""

from __future__ import annotations

import io
from collections.abc import Callable
from html import unescape
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from engine.dossiers import sealed
from engine.dossiers.models import Dossier
from engine.dossiers.services import MAX_ANSWERS_SIZE, AnswersTooLarge, save_answers
from engine.dossiers.states import Actor
from engine.exports.recap import MAX_PAGES
from engine.web.wizard import PDF_RATE_LIMIT

from .confkit import Account, CsrfToken, browser, html, pdf_text, post_form, reload
from web.wizardkit import PREFILL, form_values, page_url

MakeAccount = Callable[..., Account]
MakeDossier = Callable[..., Dossier]


@pytest.fixture
def mother(make_account: MakeAccount) -> Account:
    return make_account("Claire Martin", email="claire.martin@example.fr", personne_id="1001")


@pytest.fixture
def dossier(make_dossier: MakeDossier, mother: Account) -> Dossier:
    return make_dossier(mother[0], prefill=PREFILL)


@pytest.fixture
def mum(app: Flask, csrf_token: CsrfToken, mother: Account) -> FlaskClient:
    return browser(app, csrf_token, mother)


def _answers(db_session: Session, dossier: Dossier) -> dict[str, Any]:
    """The stored answers, the sealed health ones included."""
    stored = reload(db_session, dossier)
    return {**stored.answers, **sealed.opened_answers(stored)}


def _value(answers: dict[str, Any], path: str) -> Any:
    """``id`` or ``repeat.n.child`` (``.part`` for an address part) in stored answers."""
    head, *rest = path.split(".")
    value: Any = answers.get(head)
    for part in rest:
        if value is None:
            return None
        value = value[int(part)] if part.isdigit() else value.get(part)
    return value


# -- invisible and control characters -----------------------------------------------------

#: one of each kind nobody types on purpose (NUL broke PostgreSQL's JSONB with a 500)
INVISIBLE = {
    "nul": "\x00", "soh": "\x01", "backspace": "\x08", "vertical-tab": "\x0b",
    "form-feed": "\x0c", "escape": "\x1b", "unit-separator": "\x1f", "delete": "\x7f",
    "c1-nel": "\x85", "c1-csi": "\x9b", "arabic-letter-mark": "\u061c",
    "zero-width-space": "\u200b", "zero-width-non-joiner": "\u200c",
    "zero-width-joiner": "\u200d", "left-to-right-mark": "\u200e",
    "right-to-left-mark": "\u200f", "lre": "\u202a", "rle": "\u202b", "pdf": "\u202c",
    "lro": "\u202d", "rlo": "\u202e", "word-joiner": "\u2060", "lri": "\u2066",
    "rli": "\u2067", "fsi": "\u2068", "pdi": "\u2069", "bom": "\ufeff",
    "replacement": "\ufffd",
}
#: text inputs of every kind: (page, input name, stored path)
TEXT_INPUTS = {
    "textarea": ("scolarite", "f-remarques_options", "remarques_options"),
    "text": ("eleve", "f-prenom_2", "prenom_2"),
    "phone": ("eleve", "f-telephone_eleve", "telephone_eleve"),
    "email": ("eleve", "f-email_eleve", "email_eleve"),
    "row-child": ("urgence", "f-contacts_urgence-0-nom", "contacts_urgence.0.nom"),
    "address-part": ("famille", "f-responsables-0-adresse-line1", "responsables.0.adresse.line1"),
    "health-text": ("sante", "f-medecin_traitant", "medecin_traitant"),
    "health-textarea": ("sante", "f-allergies", "allergies"),
}
TYPED = {"textarea": "Latin et {c}grec", "text": "Ma{c}rie", "phone": "06 12 34{c} 56 78",
         "email": "lea{c}@example.fr", "row-child": "Jeanne{c} DURAND",
         "address-part": "12 rue{c} des Lilas", "health-text": "Dr{c} Martin",
         "health-textarea": "Arachides{c}"}


def _refused_whole(db_session: Session, dossier: Dossier, before: dict[str, Any],
                   response: Any) -> str:
    assert response.status_code == 422, response.status_code
    assert _answers(db_session, dossier) == before  # nothing written, not even the rest
    return unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("char", list(INVISIBLE))
def test_invisible_characters_are_refused_with_their_code(
        db_session: Session, dossier: Dossier, mum: FlaskClient, char: str) -> None:
    before = _answers(db_session, dossier)
    typed = f"Latin et {INVISIBLE[char]}grec"
    page = _refused_whole(db_session, dossier, before, post_form(
        mum, dossier.public_id, "scolarite", {"f-remarques_options": typed}))
    assert f"U+{ord(INVISIBLE[char]):04X}" in page
    assert "caractères invisibles ou de contrôle" in page
    assert "Latin et grec" in page  # shown back without it, to save again
    assert post_form(mum, dossier.public_id, "scolarite",
                     {"f-remarques_options": "Latin et grec"}).status_code == 302


@pytest.mark.parametrize("kind", list(TEXT_INPUTS))
def test_a_right_to_left_override_is_refused_in_every_kind_of_input(
        db_session: Session, dossier: Dossier, mum: FlaskClient, kind: str) -> None:
    page_id, name, path = TEXT_INPUTS[kind]
    before = _answers(db_session, dossier)
    page = _refused_whole(db_session, dossier, before, post_form(
        mum, dossier.public_id, page_id, {name: TYPED[kind].format(c="\u202e")}))
    assert "U+202E" in page
    assert "\u202e" not in str(_value(_answers(db_session, dossier), path))


@pytest.mark.parametrize("encoded", ["%ED%A0%80", "%ED%BF%BF", "%C3", "%FF%FE", "%F4%90%80%80"])
def test_undecodable_bytes_and_lone_surrogates_never_reach_the_database(
        db_session: Session, dossier: Dossier, mum: FlaskClient, encoded: str) -> None:
    """``%ED%A0%80`` is a lone surrogate in UTF-8: the form decoder keeps bytes it cannot
    decode as their ``%XX`` text; whatever is stored is valid UTF-8, without U+FFFD."""
    url = page_url(dossier.public_id, "scolarite")
    data = form_values(html(mum, url))
    data.pop("f-remarques_options", None)
    body = "&".join(f"{quote(k)}={quote(v)}" for k, vs in data.items() for v in vs)
    before = _answers(db_session, dossier)
    response = mum.post(url, data=f"{body}&action=save&f-remarques_options=Latin{encoded}grec",
                        content_type="application/x-www-form-urlencoded")
    if response.status_code == 422:
        _refused_whole(db_session, dossier, before, response)
        return
    assert response.status_code == 302
    stored = str(_answers(db_session, dossier)["remarques_options"])
    stored.encode("utf-8")  # no lone surrogate
    assert "\ufffd" not in stored and stored.startswith("Latin")


# -- lengths ------------------------------------------------------------------------------

#: (page, input, stored path, the field's limit): the campaign's max_length, else the type's
LIMITS = {
    "text-60": ("eleve", "f-prenom_2", "prenom_2", 60),
    "textarea-500": ("scolarite", "f-remarques_options", "remarques_options", 500),
    "health-textarea-1000": ("sante", "f-allergies", "allergies", 1000),
    "health-text-200": ("sante", "f-medecin_traitant", "medecin_traitant", 200),
    "row-child-text": ("urgence", "f-contacts_urgence-0-nom", "contacts_urgence.0.nom", 1000),
    "address-part": ("famille", "f-responsables-0-adresse-line1", "responsables.0.adresse.line1",
                     1000),
    "phone": ("eleve", "f-telephone_eleve", "telephone_eleve", 1000),
    "email": ("eleve", "f-email_eleve", "email_eleve", 1000),
}


@pytest.mark.parametrize("size", ["one-over", "a-megabyte"])
@pytest.mark.parametrize("field", list(LIMITS))
def test_an_oversized_answer_is_never_stored(
        db_session: Session, dossier: Dossier, mum: FlaskClient, field: str, size: str) -> None:
    """1 MB in a 500-character field was kept "as typed" and made the PDF take 16 s."""
    page_id, name, path, limit = LIMITS[field]
    typed = "a" * (limit + 1 if size == "one-over" else 1_000_000)
    before = _answers(db_session, dossier)
    page = _refused_whole(db_session, dossier, before,
                          post_form(mum, dossier.public_id, page_id, {name: typed}))
    assert f"dépasse {limit} caractères" in page
    assert "a" * (limit + 1) not in page  # shown back cut to the limit
    assert len(str(_value(_answers(db_session, dossier), path) or "")) <= limit


@pytest.mark.parametrize("field", ["text-60", "textarea-500", "health-text-200"])
def test_an_answer_at_its_limit_is_stored(db_session: Session, dossier: Dossier,
                                          mum: FlaskClient, field: str) -> None:
    page_id, name, path, limit = LIMITS[field]
    assert post_form(mum, dossier.public_id, page_id, {name: "é" * limit}).status_code == 302
    assert _value(_answers(db_session, dossier), path) == "é" * limit


def test_spaces_folded_away_do_not_count_against_the_limit(
        db_session: Session, dossier: Dossier, mum: FlaskClient) -> None:
    """« Marie  Claire » with extra spaces is 60 characters once folded, as stored."""
    typed = "  " + "a " * 30 + "   "
    assert post_form(mum, dossier.public_id, "eleve", {"f-prenom_2": typed}).status_code == 302
    assert _value(_answers(db_session, dossier), "prenom_2") == ("a " * 30).strip()


def test_a_dossiers_answers_are_capped_on_every_save(
        app: Flask, db_session: Session, dossier: Dossier) -> None:
    """Whatever writes (a page, the staff, a job): over the cap, nothing is written."""
    before = _answers(db_session, dossier)
    with pytest.raises(AnswersTooLarge):
        save_answers(db_session, dossier, dossier.row_version,
                     {f"f{n}": "x" * 10_000 for n in range(MAX_ANSWERS_SIZE // 10_000 + 1)},
                     "eleve", Actor.system())
    assert _answers(db_session, dossier) == before


def test_the_pdf_of_an_oversized_dossier_is_bounded(
        make_dossier: MakeDossier, mother: Account, app: Flask, csrf_token: CsrfToken) -> None:
    """A dossier stored before the limits (3 MB in one answer) still makes a short PDF."""
    dossier = make_dossier(mother[0], prefill=PREFILL,
                           answers={"remarques_options": "mot " * 750_000})
    client = browser(app, csrf_token, mother)
    response = client.get(f"/dossier/{dossier.public_id}/recapitulatif.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert text.count("mot") < 1000
    assert len(PdfReader(io.BytesIO(response.data)).pages) <= MAX_PAGES


def test_the_pdf_is_rate_limited_per_account(
        app: Flask, dossier: Dossier, mum: FlaskClient, make_dossier: MakeDossier,
        make_account: MakeAccount, csrf_token: CsrfToken) -> None:
    """Eight PDFs in parallel took every server thread: a guardian gets a few a minute, and
    another family is not slowed by it."""
    allowed = int(PDF_RATE_LIMIT.split()[0])
    url = f"/dossier/{dossier.public_id}/recapitulatif.pdf"
    statuses = [mum.get(url).status_code for _ in range(allowed + 2)]
    assert statuses[:allowed] == [200] * allowed and statuses[allowed:] == [429, 429]
    other = make_account("Autre Parent")
    theirs = make_dossier(other[0], prefill=PREFILL, first_name="Tom")
    client = browser(app, csrf_token, other)
    assert client.get(f"/dossier/{theirs.public_id}/recapitulatif.pdf").status_code == 200


# -- what the family could not have answered ---------------------------------------------

#: (page, the post, the field that must stay unanswered): questions hidden for a 5e pupil, or
#: by the post's own answers
HIDDEN = {
    "lv2-6e-only": ("scolarite", {"f-lv2": "allemand"}, "lv2"),
    "latin-debut-6e-only": ("scolarite", {"f-latin_debut": "true"}, "latin_debut"),
    "grec-4e-only": ("scolarite", {"f-grec": "true"}, "grec"),
    "quotient-when-externe": ("restauration", {"f-regime": "externe",
                                               "f-quotient_familial": "300"},
                              "quotient_familial"),
    "boursier-when-externe": ("restauration", {"f-regime": "externe", "f-boursier": "true"},
                              "boursier"),
    "echelon-when-not-boursier": ("restauration", {"f-regime": "dp4", "f-boursier": "false",
                                                   "f-boursier_echelon": "3"},
                                  "boursier_echelon"),
    "sortie-libre-consent": ("vie_scolaire", {"f-regime_sortie": "interdite",
                                              "f-consentement_sortie_libre": "true"},
                             "consentement_sortie_libre"),
    "pai-renewal-without-pai": ("sante", {"f-pai": "false", "f-pai_renouvellement": "true"},
                                "pai_renouvellement"),
}


@pytest.mark.parametrize("case", list(HIDDEN))
def test_a_value_for_a_hidden_question_is_not_stored(
        db_session: Session, dossier: Dossier, mum: FlaskClient, case: str) -> None:
    page_id, changes, field = HIDDEN[case]
    assert post_form(mum, dossier.public_id, page_id, changes).status_code == 302
    assert _answers(db_session, dossier).get(field) in (None, False, [])


def test_a_question_revealed_and_answered_in_the_same_post_is_stored(
        db_session: Session, dossier: Dossier, mum: FlaskClient) -> None:
    """The script shows the question live: the post reveals it, so it could be answered."""
    assert post_form(mum, dossier.public_id, "restauration", {
        "f-regime": "dp4", "f-quotient_familial": "300"}).status_code == 302
    assert str(_answers(db_session, dossier)["quotient_familial"]) == "300"


@pytest.mark.parametrize("posted", [["as"], ["fse", "zzz"], ["as", "as"], ["../fse"]])
def test_an_association_not_offered_is_not_stored(
        make_dossier: MakeDossier, mother: Account, app: Flask, csrf_token: CsrfToken,
        db_session: Session, posted: list[str]) -> None:
    """The AS is offered to 5e and 4e pupils only: a 3e pupil's post of it is dropped."""
    prefill = {**PREFILL, "pupil": {**PREFILL["pupil"], "level": "3e"}}
    dossier = make_dossier(mother[0], prefill=prefill)
    client = browser(app, csrf_token, mother)
    post_form(client, dossier.public_id, "associations", {"f-adhesions": posted})
    assert set(_answers(db_session, dossier).get("adhesions") or []) <= {"fse"}


# -- row keys -----------------------------------------------------------------------------

@pytest.mark.parametrize("page_id,repeat,n", [("famille", "responsables", 1),
                                              ("urgence", "contacts_urgence", 1),
                                              ("urgence", "contacts_urgence", 2)])
def test_the_same_row_key_twice_is_refused(
        db_session: Session, dossier: Dossier, mum: FlaskClient, page_id: str, repeat: str,
        n: int) -> None:
    pid = dossier.public_id
    for _ in range(n):
        post_form(mum, pid, page_id, {}, action=f"add:{repeat}")
    data = form_values(html(mum, page_url(pid, page_id)))
    before = _answers(db_session, dossier)
    data[f"f-{repeat}-{n}-_key"] = data[f"f-{repeat}-0-_key"]
    data["action"] = ["save"]
    assert mum.post(page_url(pid, page_id), data=data).status_code == 400
    assert _answers(db_session, dossier) == before


#: keys a row may be posted with that the dossier never gave it
FORGED = {"unknown-person-id": "2001", "prefill-position": "row2", "path": "../../etc",
          "long": "k" * 80, "bad-new-key": "new-XYZ", "html": "<b>1</b>"}


@pytest.mark.parametrize("forged", list(FORGED))
def test_a_forged_row_key_becomes_a_fresh_one(
        db_session: Session, dossier: Dossier, mum: FlaskClient, forged: str) -> None:
    """A row posted under a key the dossier does not hold is a new row: it cannot claim an
    imported guardian's identity (whose shared data other dossiers read) nor collide."""
    pid = dossier.public_id
    post_form(mum, pid, "famille", {}, action="add:responsables")
    assert post_form(mum, pid, "famille", {
        "f-responsables-1-_key": FORGED[forged], "f-responsables-1-nom": "DURAND",
        "f-responsables-1-prenom": "Paul"}).status_code == 302
    keys = [r["_key"] for r in _answers(db_session, dossier)["responsables"]]
    assert keys[0] == "1001" and keys[1] != FORGED[forged]
    assert keys[1].startswith("new-") and len(set(keys)) == 2


def test_rows_beyond_the_repeats_maximum_are_not_read(
        db_session: Session, dossier: Dossier, mum: FlaskClient) -> None:
    """Three contacts at most: a fourth and a fifth row in the post are ignored."""
    pid = dossier.public_id
    extra: dict[str, Any] = {}
    for n in range(5):
        extra |= {f"f-contacts_urgence-{n}-_key": "", f"f-contacts_urgence-{n}-nom": f"C{n}",
                  f"f-contacts_urgence-{n}-telephone": "06 11 22 33 44"}
    assert post_form(mum, pid, "urgence", extra).status_code == 302
    assert [r["nom"] for r in _answers(db_session, dossier)["contacts_urgence"]] == \
        ["C0", "C1", "C2"]


# -- what a family writes to the school ---------------------------------------------------

@pytest.mark.parametrize("char", ["nul", "rlo", "zero-width-space", "bom"])
def test_a_report_with_invisible_characters_is_refused(
        db_session: Session, dossier: Dossier, mum: FlaskClient, csrf_token: CsrfToken,
        char: str) -> None:
    pid = dossier.public_id
    response = mum.post(f"/dossier/{pid}/etape/eleve/signaler", follow_redirects=True, data={
        "csrf_token": csrf_token(mum, page_url(pid, "eleve")), "field": "nom",
        "message": f"Le nom{INVISIBLE[char]} est faux"})
    assert "caractères invisibles ou de contrôle" in unescape(response.get_data(as_text=True))
    assert not [e for e in reload(db_session, dossier).events if e.kind == "prefill_disputed"]
