"""Wording and accessibility of the family pages (issue 10, items 13 and 15)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.dossiers.models import Dossier, FamilyAccount
from engine.fields.country import country_names

from .wizardkit import page_url, post_page, text_of
from campaign.helpers import campaign_text, check_yaml

Account = tuple[FamilyAccount, str]


@pytest.fixture
def guardian(client: FlaskClient, login: Callable[[str, str], TestResponse], mother: Account,
             dossier: Dossier) -> FlaskClient:
    login(mother[0].login, mother[1])
    return client


def _page(client: FlaskClient, dossier: Dossier, page_id: str) -> str:
    return text_of(client.get(page_url(dossier.public_id, page_id)))


def _input(html: str, name: str) -> str:
    match = re.search(rf'<(?:input|select)[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert match is not None, name
    return match.group(0)


def test_guardians_inputs_say_what_the_browser_may_fill(
        guardian: FlaskClient, dossier: Dossier) -> None:
    html = _page(guardian, dossier, "famille")
    expected = {"nom": "family-name", "prenom": "given-name", "email": "email",
                "telephone_portable": "mobile tel", "adresse-line1": "address-line1",
                "adresse-postal_code": "postal-code", "adresse-commune": "address-level2",
                "adresse-country": "country"}
    for part, token in expected.items():
        assert f'autocomplete="{token}"' in _input(html, f"f-responsables-0-{part}"), part
    # the pupil's own data is not the parent's: nothing to fill from the browser
    pupil = _page(guardian, dossier, "eleve")
    assert "autocomplete=" not in _input(pupil, "f-telephone_eleve")


def test_remove_button_reads_as_one_phrase_and_country_is_a_list(
        guardian: FlaskClient, dossier: Dossier) -> None:
    html = _page(guardian, dossier, "famille")
    assert re.search(r"<span data-row-number>Retirer responsable légal 1</span>", html)
    assert "Pays (code" not in html
    country = _input(html, "f-responsables-0-adresse-country")
    assert country.startswith("<select")
    options = re.findall(r'<option value="([A-Z]{2})"( selected)?>',
                         html.split('name="f-responsables-0-adresse-country"')[1]
                         .split("</select>")[0])
    assert options[0] == ("FR", " selected")
    # the value posted is the code, the address keeps it
    response = post_page(guardian, dossier.public_id, "famille",
                         {"f-responsables-0-adresse-country": "FR"})
    assert response.status_code in (302, 422)


def test_countries_france_first_then_alphabetical_ignoring_accents() -> None:
    names = list(country_names("fr").values())
    assert names[0] == "France"
    assert names.index("Égypte") < names.index("Espagne") < names.index("Zimbabwe")


def test_documents_page_shows_no_asterisk_it_speaks_of(
        guardian: FlaskClient, dossier: Dossier) -> None:
    html = _page(guardian, dossier, "pieces")
    assert "astérisque" not in html
    assert '<span class="document__tag">obligatoire</span>' in html
    assert "Document demandé à toutes les familles." in html


def test_without_javascript_the_fee_effect_comes_back_from_the_server(
        guardian: FlaskClient, dossier: Dossier) -> None:
    """Issue 10, item 10: the total under the fields is the server's after the post."""
    response = post_page(guardian, dossier.public_id, "restauration",
                         {"f-regime": "dp4", "f-quotient_familial": "450"}, action="save")
    assert response.status_code == 302
    html = text_of(guardian.get(page_url(dossier.public_id, "restauration")))
    effect = re.search(r'<p class="fee-effect" data-fee-effect>.*?</p>', html, re.S)
    assert effect is not None
    assert "216,00\u00a0€" in effect.group(0)
    assert html.index("data-fee-effect") < html.index("data-wizard-nav")
    assert 'aria-describedby="f-quotient_familial-hint f-quotient_familial-unit"' in html


def test_consent_links_to_the_document_it_accepts(guardian: FlaskClient,
                                                  dossier: Dossier) -> None:
    html = text_of(guardian.get(page_url(dossier.public_id, "validation")))
    block = html[html.index('data-key="acceptation_reglement"'):]
    block = block[:block.index("</fieldset>") + 300]
    assert f'href="/dossier/{dossier.public_id}/modeles/reglement_interieur"' in block
    assert "Lire « Règlement intérieur signé »" in html


def test_the_half_board_rules_are_linked_from_their_consent(guardian: FlaskClient,
                                                            dossier: Dossier) -> None:
    """Issue 10, item 15: « J'accepte le règlement de la demi-pension » links to it."""
    assert post_page(guardian, dossier.public_id, "restauration",
                     {"f-regime": "dp4", "f-quotient_familial": "450"},
                     action="save").status_code == 302
    html = text_of(guardian.get(page_url(dossier.public_id, "validation")))
    block = html[html.index('data-key="reglement_demi_pension"'):]
    block = block[:block.index("</fieldset>")]
    assert f'href="/dossier/{dossier.public_id}/modeles/reglement_interieur"' in block
    served = guardian.get(f"/dossier/{dossier.public_id}/modeles/reglement_interieur")
    assert served.status_code == 200 and served.data.startswith(b"%PDF")


def test_consent_naming_an_unknown_document_is_a_campaign_error() -> None:
    campaign, diagnostics = check_yaml(campaign_text(
        "- {id: ok, type: consent, label: Règlement, document: reglement}\n"))
    assert campaign is None
    assert any("no document 'reglement'" in d.message for d in diagnostics)
