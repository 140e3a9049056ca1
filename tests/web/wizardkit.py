"""Helpers for the wizard tests: read a page's form as a browser would submit it, and post it.

A page is driven like a browser without JavaScript: the form's current values (text inputs,
checked boxes and radios, selected options, textareas, hidden inputs, outside <template>) are
collected from the HTML, some are changed, and the form is posted with one ``action`` button.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.dossiers.models import Dossier

FIRST_PAGE = "eleve"
PAGES = ["eleve", "scolarite", "famille", "urgence", "vie_scolaire", "restauration",
         "associations", "sante", "pieces", "validation"]


class _FormReader(HTMLParser):
    """Name → list of values of the form marked ``data-wizard-form`` (or the first form)."""

    def __init__(self, marker: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.marker = marker
        self.values: list[tuple[str, str]] = []
        self.in_form = False
        self.done = False
        self.template_depth = 0
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen = False
        self.option_value: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.done and (self.marker is None or self.marker in a):
            self.in_form = True
        if not self.in_form:
            return
        if tag == "template":
            self.template_depth += 1
        if self.template_depth:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.values.append((name, a.get("value", "on")))
            elif kind not in {"submit", "button", "file"}:
                self.values.append((name, a.get("value", "")))
        elif tag == "select" and name and "disabled" not in a:
            self.select, self.select_first, self.select_chosen = name, None, False
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in a:
                self.values.append((self.select, value))
                self.select_chosen = True
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if not self.in_form:
            return
        if tag == "template":
            self.template_depth -= 1
        elif tag == "select" and self.select is not None:
            if not self.select_chosen and self.select_first is not None:
                self.values.append((self.select, self.select_first))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.values.append((self.textarea, self.text))
            self.textarea = None
        elif tag == "form":
            self.in_form, self.done = False, True

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data


def form_values(html: str, marker: str | None = "data-wizard-form") -> dict[str, list[str]]:
    """What a browser would post for the form, as name → values."""
    reader = _FormReader(marker)
    reader.feed(html)
    out: dict[str, list[str]] = {}
    for name, value in reader.values:
        out.setdefault(name, []).append(value)
    return out


def page_url(public_id: str, page_id: str) -> str:
    return f"/dossier/{public_id}/etape/{page_id}"


def post_page(client: FlaskClient, public_id: str, page_id: str,
              changes: Mapping[str, Any] | None = None, action: str = "next",
              html: str | None = None) -> TestResponse:
    """GET the page (unless ``html`` is given), apply ``changes`` (None removes an input),
    and post it with ``action``."""
    if html is None:
        response = client.get(page_url(public_id, page_id))
        assert response.status_code == 200, response.status_code
        html = response.get_data(as_text=True)
    data = form_values(html)
    for name, value in (changes or {}).items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = list(value) if isinstance(value, list | tuple) else [str(value)]
    data["action"] = [action]
    return client.post(page_url(public_id, page_id), data=data)


def text_of(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def squash(html: str) -> str:
    """HTML with runs of whitespace made single spaces, for phrase assertions."""
    return re.sub(r"\s+", " ", html)


#: what the school imported for a 5e pupil with two guardians (SIECLE canonical record)
PREFILL: dict[str, Any] = {
    "pupil": {"ine": "070123456AB", "last_name": "MARTIN", "first_name": "Léa",
              "birth_date": "2014-03-02", "sex": "F", "birth_commune": "Lyon",
              "birth_country": "FR", "nationality": "FR", "level": "5e", "division": "5B",
              "options": ["LATIN"]},
    "guardians": [
        {"personne_id": "1001", "civility": "MME", "last_name": "MARTIN", "first_name": "Claire",
         "relationship": "10", "phone_mobile": "0612345678", "email": "claire.martin@example.fr",
         "pays_frais": True, "accepts_sms": True, "contact_priority": True,
         "address": {"line1": "12 rue des Lilas", "postal_code": "69003", "commune": "LYON",
                     "commune_insee": "69383", "country": "FR"}},
        {"personne_id": "1002", "civility": "M", "last_name": "DURAND", "first_name": "Paul",
         "relationship": "20", "phone_mobile": "0798765432", "email": "paul.durand@example.fr",
         "address": {"line1": "8 quai Perrache", "postal_code": "69002", "commune": "LYON",
                     "commune_insee": "69382", "country": "FR"}},
    ],
}

#: the changes that make each page of the example campaign valid for PREFILL's pupil
VALID_PAGES: dict[str, dict[str, Any]] = {
    "scolarite": {"f-latin_poursuite": "true"},
    "urgence": {"f-contacts_urgence-0-nom": "Jeanne DURAND", "f-contacts_urgence-0-lien": "38",
                "f-contacts_urgence-0-telephone": "06 11 22 33 44"},
    "vie_scolaire": {"f-regime_sortie": "fin_journee", "f-droit_image": "true"},
    # no quotient: tranche D, and no CAF certificate to send
    "restauration": {"f-regime": "dp4", "f-boursier": "false", "f-mode_paiement": "cheque"},
    "sante": {"f-pai": "false"},
    "validation": {"f-attestation": "true", "f-acceptation_reglement": "true",
                   "f-reglement_demi_pension": "true"},
}


def stored_answers(db_session: Session, dossier: Dossier) -> dict[str, Any]:
    """The dossier's answers as stored now (not as the session last loaded them)."""
    db_session.expire_all()
    found = db_session.get(Dossier, dossier.id)
    assert found is not None
    return dict(found.answers)
