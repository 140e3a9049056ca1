"""The family wizard over HTTP, without JavaScript: every page of the example campaign, saving
and resuming, prefill, on_hide, the error summary, repeats, conflicts, access and CSRF."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.models import Dossier, DossierEvent, FamilyAccount

from .wizardkit import (
    PAGES,
    PREFILL,
    VALID_PAGES,
    form_values,
    page_url,
    post_page,
    squash,
    stored_answers,
    text_of,
)

Login = Callable[[str, str], TestResponse]
MakeAccount = Callable[..., tuple[FamilyAccount, str]]
MakeDossier = Callable[..., Dossier]


def _model(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="dossier-model">(.*?)</script>',
                      html, re.S)
    assert match
    data: dict[str, Any] = json.loads(match.group(1))
    return data


# -- pages ----------------------------------------------------------------------------------

def test_every_page_of_the_example_campaign_renders(family: FlaskClient,
                                                    dossier: Dossier) -> None:
    for n, page_id in enumerate(PAGES, start=1):
        response = family.get(page_url(dossier.public_id, page_id))
        assert response.status_code == 200, page_id
        html = text_of(response)
        assert f"Étape {n} sur {len(PAGES)}" in html, page_id
        assert 'aria-current="step"' in html
        assert 'name="row_version"' in html
        assert 'role="alert"' not in html  # no error shown before the family posts
        assert "<script>" not in html and "style=" not in html  # CSP: static files only
        assert _model(html)["page"] == page_id


def test_walking_every_page_saves_each_and_reaches_the_review(
        family: FlaskClient, dossier: Dossier, db_session: Session) -> None:
    for page_id in PAGES:
        response = post_page(family, dossier.public_id, page_id, VALID_PAGES.get(page_id))
        assert response.status_code == 302, (page_id, squash(text_of(response))[:2000])
    assert response.headers["Location"].endswith(f"/dossier/{dossier.public_id}/recapitulatif")
    answers = stored_answers(db_session, dossier)
    assert answers["regime"] == "dp4"
    assert answers["latin_poursuite"] is True
    assert answers["contacts_urgence"][0]["nom"] == "Jeanne DURAND"
    # the imported guardians, confirmed as they were, are now the family's answers
    assert [r["_key"] for r in answers["responsables"]] == ["1001", "1002"]
    review = text_of(family.get(f"/dossier/{dossier.public_id}/recapitulatif"))
    assert "Récapitulatif avant envoi" in review
    assert "Demi-pensionnaire 4 jours" in review
    assert "604,80" in review  # 4,20 € × 4 × 36 (tranche D: no quotient given)


def test_welcome_then_resume_where_the_family_left_off(family: FlaskClient,
                                                      dossier: Dossier) -> None:
    welcome = family.get(f"/dossier/{dossier.public_id}")
    assert welcome.status_code == 200
    assert "Commencer" in text_of(welcome)
    assert page_url(dossier.public_id, "eleve") in text_of(welcome)
    saved = post_page(family, dossier.public_id, "scolarite", {"f-latin_poursuite": "true"},
                      action="save")
    assert saved.status_code == 302
    resumed = family.get(f"/dossier/{dossier.public_id}")
    assert resumed.status_code == 302
    assert resumed.headers["Location"].endswith(page_url(dossier.public_id, "scolarite"))


def test_next_previous_and_stepper(family: FlaskClient, dossier: Dossier) -> None:
    html = text_of(family.get(page_url(dossier.public_id, "scolarite")))
    assert re.search(r'aria-current="step">\s*Options pour la rentrée', html)
    # hidden pages are kept out of the count; the previous button saves and goes back
    back = post_page(family, dossier.public_id, "scolarite", action="previous")
    assert back.headers["Location"].endswith(page_url(dossier.public_id, "eleve"))
    unknown = family.get(page_url(dossier.public_id, "nulle-part"))
    assert unknown.status_code == 404


def test_prefilled_values_shown_and_locked_ones_read_only(
        family: FlaskClient, dossier: Dossier, db_session: Session) -> None:
    html = text_of(family.get(page_url(dossier.public_id, "eleve")))
    assert re.search(r'value="MARTIN" readonly aria-readonly="true"', html)
    assert "070123456AB" in html
    assert "Inexacte ?" in html
    # an editable prefilled repeat shows the imported rows
    famille = text_of(family.get(page_url(dossier.public_id, "famille")))
    assert 'value="Claire"' in famille and 'value="06 12 34 56 78"' in famille
    # a forged value for a locked field is ignored
    post_page(family, dossier.public_id, "eleve", {"f-nom": "PIRATE", "f-ine": "X"})
    answers = stored_answers(db_session, dossier)
    assert "nom" not in answers and "ine" not in answers
    assert "PIRATE" not in text_of(family.get(page_url(dossier.public_id, "eleve")))


def test_telling_the_school_a_locked_value_is_wrong(family: FlaskClient, dossier: Dossier,
                                                   db_session: Session,
                                                   csrf_token: Callable[..., str]) -> None:
    url = page_url(dossier.public_id, "eleve")
    token = csrf_token(family, url)
    response = family.post(f"{url}/signaler", data={
        "csrf_token": token, "field": "date_naissance",
        "message": "Elle est née le 3 mars, pas le 2."})
    assert response.status_code == 302
    events = db_session.query(DossierEvent).filter_by(dossier_id=dossier.id,
                                                     kind="prefill_disputed").all()
    assert [e.data["field"] for e in events] == ["date_naissance"]
    assert events[0].data["message"] == "Elle est née le 3 mars, pas le 2."
    page = text_of(family.get(url))
    assert "transmis au secrétariat" in page
    assert "Elle est née le 3 mars, pas le 2." in page
    # an editable field, an unknown field or an empty message are refused
    assert family.post(f"{url}/signaler", data={"csrf_token": token, "field": "email_eleve",
                                                "message": "x"}).status_code == 400
    assert family.post(f"{url}/signaler", data={"csrf_token": token, "field": "zzz",
                                                "message": "x"}).status_code == 400
    family.post(f"{url}/signaler", data={"csrf_token": token, "field": "nom", "message": " "})
    assert "Décrivez l&#39;erreur" in text_of(family.get(url))
    assert db_session.query(DossierEvent).filter_by(kind="prefill_disputed").count() == 1


def test_intro_and_info_texts_are_markdown_with_answers_escaped(
        family: FlaskClient, dossier: Dossier) -> None:
    html = text_of(family.get(page_url(dossier.public_id, "eleve")))
    assert "Réinscription de Léa MARTIN en 4e pour l'année 2027-2028." in html
    vie = text_of(family.get(page_url(dossier.public_id, "vie_scolaire")))
    assert "<strong>Sortie libre</strong>" in vie
    # an answer inserted in a text is data, never markup
    post_page(family, dossier.public_id, "vie_scolaire", {"f-regime_sortie": "libre"},
              action="save")
    validation = text_of(family.get(page_url(dossier.public_id, "validation")))
    assert "sortie : Sortie libre." in validation


# -- validation and on_hide -----------------------------------------------------------------

def test_errors_next_to_fields_and_summary_linking_to_inputs(
        family: FlaskClient, dossier: Dossier, db_session: Session) -> None:
    response = post_page(family, dossier.public_id, "vie_scolaire",
                         {"f-droit_image": "true"})
    assert response.status_code == 422
    html = text_of(response)
    assert html.count('role="alert"') == 1
    summary = html[html.index('class="error-summary"'):]
    link = re.search(r'<a href="#([^"]+)">Régime de sortie : ([^<]+)</a>', summary)
    assert link and link.group(1) == "f-regime_sortie-1"
    assert f'id="{link.group(1)}"' in html
    assert 'id="f-regime_sortie-error"' in html
    assert "<title>Erreur : " in html
    # saved anyway: nothing typed is lost
    assert stored_answers(db_session, dossier)["droit_image"] is True


def test_invalid_value_is_kept_as_typed_and_explained(family: FlaskClient,
                                                     dossier: Dossier,
                                                     db_session: Session) -> None:
    response = post_page(family, dossier.public_id, "restauration",
                         {"f-regime": "dp4", "f-quotient_familial": "beaucoup"})
    assert response.status_code == 422
    html = text_of(response)
    assert 'value="beaucoup"' in html
    assert 'href="#f-quotient_familial"' in html
    assert stored_answers(db_session, dossier)["quotient_familial"] == "beaucoup"
    fixed = post_page(family, dossier.public_id, "restauration",
                      {"f-regime": "dp4", "f-quotient_familial": "612,5",
                       "f-mode_paiement": "cheque"})
    assert fixed.status_code == 302
    assert stored_answers(db_session, dossier)["quotient_familial"] == "612.5"


def test_hidden_answers_follow_on_hide(family: FlaskClient, dossier: Dossier,
                                       db_session: Session) -> None:
    post_page(family, dossier.public_id, "restauration",
              {"f-regime": "dp4", "f-quotient_familial": "300", "f-boursier": "true",
               "f-boursier_echelon": "2"}, action="save")
    assert stored_answers(db_session, dossier)["quotient_familial"] == "300"
    html = text_of(family.get(page_url(dossier.public_id, "restauration")))
    assert re.search(r'data-key="quotient_familial"[^>]*>', html)
    assert not re.search(r'data-key="quotient_familial"[^>]*hidden', html)
    # externe: the demi-pension questions disappear and (on_hide: clear) their answers too
    post_page(family, dossier.public_id, "restauration", {"f-regime": "externe"})
    answers = stored_answers(db_session, dossier)
    assert answers["quotient_familial"] is None
    assert answers["boursier"] is None and answers["boursier_echelon"] is None
    html = text_of(family.get(page_url(dossier.public_id, "restauration")))
    assert re.search(r'data-key="quotient_familial"[^>]*hidden', html)


def test_on_hide_keep_keeps_the_answer(make_dossier: MakeDossier, client: FlaskClient,
                                       login: Login, mother: tuple[FamilyAccount, str],
                                       db_session: Session) -> None:
    sixth = {"pupil": {**PREFILL["pupil"], "level": "6e", "first_name_2": "Marie"}}
    dossier = make_dossier(mother[0], prefill=sixth)
    login(mother[0].login, mother[1])
    html = text_of(client.get(page_url(dossier.public_id, "eleve")))
    assert re.search(r'data-key="prenom_2"[^>]*hidden', html)  # hidden in 6e, still in the form
    post_page(client, dossier.public_id, "eleve", html=html)
    answers = stored_answers(db_session, dossier)
    assert answers["prenom_2"] == "Marie"  # on_hide: keep
    assert answers["telephone_eleve"] is None


# -- grids ----------------------------------------------------------------------------------

def test_a_grid_asks_each_row_and_hides_a_row_by_its_condition(
        family: FlaskClient, dossier: Dossier, db_session: Session) -> None:
    post_page(family, dossier.public_id, "restauration", {"f-regime": "dp4"}, action="save")
    post_page(family, dossier.public_id, "vie_scolaire", {"f-regime_sortie": "libre"},
              action="save")
    html = text_of(family.get(page_url(dossier.public_id, "vie_scolaire")))
    assert re.search(r'data-key="jours_sortie_libre"(?![^>]*hidden)[^>]*>', html)
    assert re.search(r'data-part-key="jours_sortie_libre.lundi"(?![^>]*hidden)[^>]*>', html)
    # the lunch break is asked of externes only
    assert re.search(r'data-part-key="jours_sortie_libre.pause_midi"[^>]*hidden', html)
    response = post_page(family, dossier.public_id, "vie_scolaire", {
        "f-consentement_sortie_libre": "true", "f-droit_image": "true",
        "f-jours_sortie_libre-lundi": "true", "f-jours_sortie_libre-mardi": "false",
        "f-jours_sortie_libre-pause_midi": "true"}, html=html)
    assert response.status_code == 422
    errors = text_of(response)
    assert 'href="#f-jours_sortie_libre-lundi-oui"' in errors
    assert 'id="f-jours_sortie_libre-lundi-oui"' in errors
    assert "Répondez pour chaque ligne." in errors
    # the hidden row's answer is not kept (on_hide: clear)
    assert stored_answers(db_session, dossier)["jours_sortie_libre"] == {"lundi": True, "mardi": False}
    days = {f"f-jours_sortie_libre-{d}": "true" for d in ("mercredi", "jeudi", "vendredi")}
    response = post_page(family, dossier.public_id, "vie_scolaire", days, html=errors)
    assert response.status_code == 302
    review = squash(text_of(family.get(f"/dossier/{dossier.public_id}/recapitulatif")))
    assert "Lundi : Oui, Mardi : Non, Mercredi : Oui, Jeudi : Oui, Vendredi : Oui" in review


# -- repeats --------------------------------------------------------------------------------

def test_repeat_rows_are_added_and_removed_without_javascript(
        family: FlaskClient, dossier: Dossier, db_session: Session) -> None:
    url = page_url(dossier.public_id, "urgence")
    html = text_of(family.get(url))
    assert "Contact 1" in html and 'value="add:contacts_urgence"' in html
    # min 1: the only row cannot be removed
    assert re.search(r'value="remove:contacts_urgence:0"[^>]*hidden', html)
    post_page(family, dossier.public_id, "urgence", action="remove:contacts_urgence:0")
    assert len(stored_answers(db_session, dossier)["contacts_urgence"]) == 1  # refused by the server
    added = post_page(family, dossier.public_id, "urgence",
                      {"f-contacts_urgence-0-nom": "Jeanne DURAND"}, action="add:contacts_urgence")
    assert added.status_code == 302
    assert added.headers["Location"].endswith(f"{url}#f-contacts_urgence")
    rows = stored_answers(db_session, dossier)["contacts_urgence"]
    assert len(rows) == 2 and rows[0]["nom"] == "Jeanne DURAND"
    for _ in range(3):  # max 3
        post_page(family, dossier.public_id, "urgence", action="add:contacts_urgence")
    html = text_of(family.get(url))
    assert len(stored_answers(db_session, dossier)["contacts_urgence"]) == 3
    assert re.search(r'value="add:contacts_urgence"[^>]*hidden', html)
    post_page(family, dossier.public_id, "urgence", action="remove:contacts_urgence:0")
    rows = stored_answers(db_session, dossier)["contacts_urgence"]
    assert len(rows) == 2 and all(r.get("nom") != "Jeanne DURAND" for r in rows)


def test_rows_beyond_the_maximum_are_never_read(family: FlaskClient, dossier: Dossier,
                                                 db_session: Session) -> None:
    forged = {}
    for n in range(10):
        forged[f"f-contacts_urgence-{n}-_key"] = f"k{n}"
        forged[f"f-contacts_urgence-{n}-nom"] = f"Contact {n}"
    post_page(family, dossier.public_id, "urgence", forged, action="save")
    assert [r["nom"] for r in stored_answers(db_session, dossier)["contacts_urgence"]] == [
        "Contact 0", "Contact 1", "Contact 2"]  # max: 3


@pytest.mark.parametrize("action", ["add:nulle_part", "remove:contacts_urgence:9",
                                    "remove:contacts_urgence:x", "add:regime",
                                    "remove:contacts_urgence:²"])
def test_bad_row_action_is_a_400(family: FlaskClient, dossier: Dossier, action: str) -> None:
    assert post_page(family, dossier.public_id, "urgence", action=action).status_code == 400


def test_repeat_row_template_for_the_browser(family: FlaskClient, dossier: Dossier) -> None:
    html = text_of(family.get(page_url(dossier.public_id, "urgence")))
    template = html[html.index("<template"):html.index("</template>")]
    assert 'name="f-contacts_urgence-__N__-nom"' in template
    assert "f-contacts_urgence-1-" not in html  # one row only outside the template


# -- conflicts ------------------------------------------------------------------------------

def test_two_guardians_saving_at_once_never_lose_a_write(
        app: Flask, family: FlaskClient, dossier: Dossier, father: tuple[FamilyAccount, str],
        csrf_token: Callable[..., str], db_session: Session) -> None:
    other = app.test_client()
    other.post("/connexion", data={"csrf_token": csrf_token(other), "login": father[0].login,
                                   "code": father[1]})
    url = page_url(dossier.public_id, "restauration")
    mine = text_of(family.get(url))
    theirs = text_of(other.get(url))
    assert post_page(other, dossier.public_id, "restauration",
                     {"f-regime": "dp5", "f-quotient_familial": "900",
                      "f-mode_paiement": "prelevement"}, html=theirs).status_code == 302
    stale = post_page(family, dossier.public_id, "restauration",
                      {"f-regime": "externe"}, html=mine)
    assert stale.status_code == 409
    html = squash(text_of(stale))
    assert "a été modifié par un autre responsable" in html
    assert "<dt>Régime</dt><dd>Demi-pensionnaire 5 jours</dd>" in html
    assert "<dt>Quotient familial CAF</dt><dd>900 €</dd>" in html  # squash: the no-break space too
    assert "Échelon de la bourse" not in html.split("<form")[0]  # hidden for them
    # my choice is still in the form, theirs is still stored
    assert re.search(r'value="externe" checked', html)
    assert stored_answers(db_session, dossier)["regime"] == "dp5"
    # re-posting the page as shown (with the new version) saves it deliberately
    again = post_page(family, dossier.public_id, "restauration", html=text_of(stale))
    assert again.status_code == 302
    assert stored_answers(db_session, dossier)["regime"] == "externe"


def test_missing_or_bad_row_version_is_a_400(family: FlaskClient, dossier: Dossier) -> None:
    assert post_page(family, dossier.public_id, "eleve", {"row_version": None}).status_code == 400
    assert post_page(family, dossier.public_id, "eleve", {"row_version": "x"}).status_code == 400


# -- access and CSRF ------------------------------------------------------------------------

def _wizard_urls(app: Flask, public_id: str) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("wizard.") or rule.endpoint == "family.dossier":
            values = {"public_id": public_id, "page_id": "eleve"}
            url = rule.build(values)[1]  # type: ignore[index]
            urls.extend((method, url) for method in sorted(rule.methods or ())
                        if method in {"GET", "POST"})
    return urls


def test_another_familys_dossier_is_404_on_every_wizard_route(
        app: Flask, family: FlaskClient, dossier: Dossier, make_account: MakeAccount,
        make_dossier: MakeDossier, csrf_token: Callable[..., str], db_session: Session) -> None:
    stranger, _ = make_account("Autre Famille")
    foreign = make_dossier(stranger, first_name="Nina", last_name="Durand", prefill=PREFILL)
    token = csrf_token(family, page_url(dossier.public_id, "eleve"))
    routes = _wizard_urls(app, foreign.public_id)
    assert len(routes) >= 9
    for method, url in routes:
        response = family.open(url, method=method,
                               data={"csrf_token": token, "row_version": "1", "score": "5",
                                     "field": "nom", "message": "x", "action": "next"})
        assert response.status_code == 404, (method, url)
        assert "Nina" not in text_of(response)
    for method, url in _wizard_urls(app, secrets.token_urlsafe(16)):
        assert family.open(url, method=method, data={"csrf_token": token}).status_code == 404
    assert stored_answers(db_session, foreign) == {}


def test_post_without_csrf_token_is_refused(family: FlaskClient, dossier: Dossier,
                                            db_session: Session) -> None:
    html = text_of(family.get(page_url(dossier.public_id, "restauration")))
    data = form_values(html)
    data.pop("csrf_token")
    data["f-regime"] = ["dp5"]
    response = family.post(page_url(dossier.public_id, "restauration"), data=data)
    assert response.status_code == 400
    assert "Le formulaire a expiré" in text_of(response)
    assert stored_answers(db_session, dossier) == {}
    for path in ["envoyer", "avis", "etape/eleve/signaler"]:
        assert family.post(f"/dossier/{dossier.public_id}/{path}").status_code == 400


def test_not_logged_in_goes_to_the_login_page(client: FlaskClient, dossier: Dossier) -> None:
    response = client.get(page_url(dossier.public_id, "eleve"))
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


def test_inserted_values_are_text_never_markup(make_dossier: MakeDossier, client: FlaskClient,
                                               login: Login,
                                               mother: tuple[FamilyAccount, str]) -> None:
    odd = {"pupil": {**PREFILL["pupil"], "first_name": "Jean-*Marc* <b>"}}
    dossier = make_dossier(mother[0], prefill=odd)
    login(mother[0].login, mother[1])
    html = text_of(client.get(page_url(dossier.public_id, "validation")))
    # in the Markdown info text and in the plain consent statement alike
    assert "<p>Jean-*Marc* &lt;b&gt; sera en 4e" in html
    assert "responsable légal de Jean-*Marc* &lt;b&gt;, je certifie" in html
    assert "<em>Marc</em>" not in html and "<b>" not in html
