"""Every built-in field type through the wizard: how it renders, and what it accepts and
refuses when posted (the stored value, or the message linked from the error summary)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.models import Dossier, FamilyAccount
from engine.web import warm

from .wizardkit import page_url, post_page, text_of

Login = Callable[[str, str], TestResponse]
MakeAccount = Callable[..., tuple[FamilyAccount, str]]
MakeDossier = Callable[..., Dossier]

#: one page holding one field of each built-in type
ALL_TYPES = """\
language: 1
id: tous-les-types
title: Tous les types de champs
establishment: {uai: "0750002B", name: Collège d'essai}
opens: "2027-06-01"
closes: "2027-06-30"
pages:
  - id: tout
    title: Tous les champs
    fields:
      - {id: info, type: info, label: À lire, text: "Texte **important**."}
      - {id: texte, type: text, label: Nom d'usage, max_length: 10, pattern: "^[A-Z ]+$",
         pattern_message: Lettres majuscules seulement.}
      - {id: zone, type: textarea, label: Remarques, max_length: 20}
      - {id: nombre, type: number, label: Quotient, min: 0, max: 5000, decimals: 2, unit: €}
      - {id: entier, type: integer, label: Frères et sœurs, min: 0, max: 15}
      - {id: jour, type: date, label: Date d'arrivée, min: "2020-01-01", max: "2030-12-31"}
      - {id: courriel, type: email, label: Courriel}
      - {id: portable, type: phone, label: Portable, mobile_only: true}
      - {id: adresse, type: address, label: Adresse}
      - {id: pays, type: country, label: Pays}
      - id: radio
        type: choice
        label: Régime
        choices: [{value: externe, label: Externe}, {value: dp, label: Demi-pensionnaire}]
      - id: liste
        type: choice
        label: Sport
        widget: select
        choices: [{value: foot, label: Football}, {value: judo, label: Judo}]
      - id: plusieurs
        type: choice
        label: Langues
        multiple: true
        max_selected: 2
        choices: [{value: de, label: Allemand}, {value: es, label: Espagnol}, {value: it, label: Italien}]
      - {id: oui_non, type: boolean, label: Photo autorisée ?, required: true}
      - {id: case, type: boolean, label: Accepte les SMS, widget: checkbox}
      - {id: accord, type: consent, label: Attestation, statement: J'atteste sur l'honneur., required: true}
      - {id: photo, type: file, label: Photo, accept: [jpeg, png], max_size: 1MB}
      - id: contacts
        type: repeat
        label: Contacts
        item_label: Contact
        min: 0
        max: 2
        fields:
          - {id: nom, type: text, label: Nom, required: true}
      - {id: double, type: computed, label: Double, format: integer,
         expr: "entier * 2 if not empty(entier) else 0"}
      - {id: adhesions, type: memberships, label: Adhésions}
associations:
  - {id: fse, label: Foyer, fee: "10.00"}
"""

#: what the two required fields need, so that other fields alone decide the outcome
REQUIRED_OK = {"f-oui_non": "true", "f-accord": "true"}


@pytest.fixture
def family(client: FlaskClient, login: Login, make_account: MakeAccount,
           make_dossier: MakeDossier) -> tuple[FlaskClient, Dossier]:
    account, code = make_account()
    dossier = make_dossier(account, source=ALL_TYPES, campaign="tous-les-types")
    login(account.login, code)
    return client, dossier


def _field_html(html: str, field_id: str) -> str:
    start = html.index(f'data-key="{field_id}"')
    start = html.rindex("<div", 0, start)
    following = re.search(r'<div class="field[ "]', html[start + 4:])
    return html[start:start + 4 + following.start()] if following else html[start:]


def test_each_type_renders_with_its_widget(family: tuple[FlaskClient, Dossier]) -> None:
    client, dossier = family
    html = text_of(client.get(page_url(dossier.public_id, "tout")))
    expected = {
        "info": ["<strong>important</strong>"],
        "texte": ['<input type="text" id="f-texte" name="f-texte"', 'maxlength="10"',
                  '<label for="f-texte">'],
        "zone": ['<textarea id="f-zone" name="f-zone"', 'maxlength="20"'],
        "nombre": ['inputmode="decimal"', '<span class="unit">€</span>'],
        "entier": ['inputmode="numeric"'],
        "jour": ['<input type="date" id="f-jour"', 'min="2020-01-01"', 'max="2030-12-31"'],
        "courriel": ['<input type="email" id="f-courriel"'],
        "portable": ['<input type="tel" id="f-portable"'],
        "adresse": ['name="f-adresse-line1"', 'name="f-adresse-postal_code"',
                    'name="f-adresse-commune"', "<legend>Adresse"],
        "pays": ['<select id="f-pays" name="f-pays"', '<option value="DE">Allemagne</option>'],
        "radio": ['type="radio" id="f-radio-1" name="f-radio" value="externe"', "<legend>Régime"],
        "liste": ['<select id="f-liste" name="f-liste"', '<option value="judo">Judo</option>'],
        "plusieurs": ['type="checkbox" id="f-plusieurs-1" name="f-plusieurs" value="de"'],
        "oui_non": ['id="f-oui_non-oui"', 'id="f-oui_non-non"', 'class="required"'],
        "case": ['type="checkbox" id="f-case" name="f-case" value="true"'],
        "accord": ['type="checkbox" id="f-accord" name="f-accord" value="true" required',
                   "J&#39;atteste sur l&#39;honneur."],
        "photo": ['type="file" id="f-photo" name="upload-photo"',
                  'accept=".jpg,.jpeg,image/jpeg,.png,image/png"', 'formaction="/dossier/'],
        "contacts": ['<legend>Contacts</legend>', 'value="add:contacts"'],
        "double": ['<output id="f-double" data-computed="double"'],
        "adhesions": ['id="f-adhesions-fse" name="f-adhesions" value="fse"', "Foyer — 10,00"],
    }
    for field_id, fragments in expected.items():
        # a repeat holds fields of its own: look at the whole page for it
        part = html if field_id == "contacts" else _field_html(html, field_id)
        for fragment in fragments:
            assert fragment in part, (field_id, fragment)


GOOD: list[tuple[str, dict[str, Any], Any]] = [
    ("texte", {"f-texte": "DUPONT"}, "DUPONT"),
    ("zone", {"f-zone": "Allergie au pollen"}, "Allergie au pollen"),
    ("nombre", {"f-nombre": "1 234,5"}, "1234.5"),
    ("entier", {"f-entier": "3"}, 3),
    ("jour", {"f-jour": "2027-09-01"}, "2027-09-01"),
    ("courriel", {"f-courriel": "Parent@Example.fr"}, "Parent@example.fr"),
    ("portable", {"f-portable": "06 12 34 56 78"}, "+33612345678"),
    ("adresse", {"f-adresse-line1": "3 place Bellecour", "f-adresse-postal_code": "69002",
                 "f-adresse-commune": "Lyon", "f-adresse-country": "FR"},
     {"line1": "3 place Bellecour", "postal_code": "69002"}),
    ("pays", {"f-pays": "DE"}, "DE"),
    ("radio", {"f-radio": "dp"}, "dp"),
    ("liste", {"f-liste": "judo"}, "judo"),
    ("plusieurs", {"f-plusieurs": ["de", "es"]}, ["de", "es"]),
    ("oui_non", {"f-oui_non": "false"}, False),
    ("case", {"f-case": ["false", "true"]}, True),
    ("accord", {"f-accord": "true"}, True),
    ("photo", {"f-photo": ["forged-id"]}, []),  # only files really sent count
    ("adhesions", {"f-adhesions": "fse"}, ["fse"]),
]


@pytest.mark.parametrize(("field_id", "posted", "stored"), GOOD,
                         ids=[case[0] for case in GOOD])
def test_each_type_accepts_a_good_value(family: tuple[FlaskClient, Dossier],
                                        db_session: Session, field_id: str,
                                        posted: dict[str, Any], stored: Any) -> None:
    client, dossier = family
    response = post_page(client, dossier.public_id, "tout", {**REQUIRED_OK, **posted})
    assert response.status_code == 302, text_of(response)
    db_session.expire_all()
    value = db_session.get(Dossier, dossier.id).answers[field_id]  # type: ignore[union-attr]
    if isinstance(stored, dict):
        assert {k: value[k] for k in stored} == stored
    elif field_id == "courriel":
        assert value.lower() == stored.lower()
    else:
        assert value == stored


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("texte", {"f-texte": "dupont"}, "Lettres majuscules seulement."),
    ("texte", {"f-texte": "ABCDEFGHIJKLM"}, "10"),
    ("zone", {"f-zone": "x" * 21}, "20"),
    ("nombre", {"f-nombre": "beaucoup"}, ""),
    ("nombre", {"f-nombre": "6000"}, "5"),
    ("entier", {"f-entier": "2,5"}, ""),
    ("entier", {"f-entier": "16"}, "15"),
    ("jour", {"f-jour": "2019-12-31"}, ""),
    ("jour", {"f-jour": "31/02/2027"}, ""),
    ("courriel", {"f-courriel": "pas-un-courriel"}, ""),
    ("portable", {"f-portable": "04 72 00 00 00"}, ""),
    ("portable", {"f-portable": "12"}, ""),
    ("adresse", {"f-adresse-line1": "3 place Bellecour", "f-adresse-postal_code": "6900",
                 "f-adresse-commune": "Lyon"}, ""),
    ("adresse", {"f-adresse-line1": "", "f-adresse-postal_code": "69002",
                 "f-adresse-commune": "Lyon"}, ""),
    ("pays", {"f-pays": "ZZ"}, ""),
    ("radio", {"f-radio": "autre"}, ""),
    ("liste", {"f-liste": "tennis"}, ""),
    ("plusieurs", {"f-plusieurs": ["de", "es", "it"]}, "2"),
    ("oui_non", {"f-oui_non": None}, "obligatoire"),
    ("oui_non", {"f-oui_non": "peut-être"}, ""),
    ("accord", {"f-accord": None}, ""),
    ("adhesions", {"f-adhesions": "inconnue"}, ""),
]


@pytest.mark.parametrize(("field_id", "posted", "message"), BAD,
                         ids=[f"{case[0]}-{n}" for n, case in enumerate(BAD)])
def test_each_type_refuses_a_bad_value_with_a_linked_message(
        family: tuple[FlaskClient, Dossier], field_id: str, posted: dict[str, Any],
        message: str) -> None:
    client, dossier = family
    response = post_page(client, dossier.public_id, "tout", {**REQUIRED_OK, **posted})
    assert response.status_code == 422
    html = text_of(response)
    part = _field_html(html, field_id)
    assert "field-error" in part
    error = re.search(r'class="error-message" id="([^"]+)"[^>]*>(.*?)</p>', part, re.S)
    assert error, field_id
    assert message in error.group(2)
    summary = html[html.index('class="error-summary"'):html.index("</ul>")]
    anchor = re.search(r'href="#([^"]+)"', summary)
    assert anchor and f'id="{anchor.group(1)}"' in part


def test_computed_value_follows_the_answers(family: tuple[FlaskClient, Dossier]) -> None:
    client, dossier = family
    post_page(client, dossier.public_id, "tout", {**REQUIRED_OK, "f-entier": "4"}, action="save")
    html = text_of(client.get(page_url(dossier.public_id, "tout")))
    assert re.search(r'data-computed="double"[^>]*>8</output>', html)


def test_a_refused_address_keeps_every_part_as_typed(family: tuple[FlaskClient, Dossier],
                                                     db_session: Session) -> None:
    client, dossier = family
    response = post_page(client, dossier.public_id, "tout", {
        **REQUIRED_OK, "f-adresse-line1": "3 place Bellecour", "f-adresse-postal_code": "6900",
        "f-adresse-commune": "Lyon"})
    assert response.status_code == 422
    part = _field_html(text_of(response), "adresse")
    assert 'value="3 place Bellecour"' in part and 'value="6900"' in part
    db_session.expire_all()
    stored = db_session.get(Dossier, dossier.id).answers["adresse"]  # type: ignore[union-attr]
    assert stored["postal_code"] == "6900"


def test_a_warmed_app_loads_no_template_while_answering(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """``dossiersco serve`` warms the app before answering: no request compiles a template
    (several threads would each compile it, on the lock the other pages need)."""
    warm(app)
    loader = app.jinja_env.loader
    assert loader is not None

    def no_more_loading(*_args: Any) -> Any:
        raise AssertionError("a template was loaded after the app was warmed")

    monkeypatch.setattr(loader, "get_source", no_more_loading)
    for path, status in (("/connexion", 200), ("/etablissement/connexion", 200),
                         ("/page-inexistante", 404)):
        assert client.get(path).status_code == status
