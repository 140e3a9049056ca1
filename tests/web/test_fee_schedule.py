"""The fee panel of the family's form shows the school's fees in instalments, as the server
splits them (the page without a script); form.js redraws the same list live from the browser
twin's ``instalments`` (tests/rules/test_twin.py proves both split alike)."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from engine.dossiers.models import Dossier
from engine.dossiers.services import save_answers
from engine.dossiers.states import Actor

from conftest import MakeAccount, MakeDossier, family_browser

CAMPAIGN = """\
language: 1
id: echeancier-2027
title: Réinscription
establishment: {uai: "0750001A", name: Collège Jean Moulin}
opens: "2020-01-01"
closes: "2099-12-31"
payment:
  instalments: [Premier trimestre, Deuxième trimestre, Troisième trimestre]
pages:
  - id: cantine
    title: Cantine
    fields:
      - id: jours
        type: integer
        label: Jours de cantine par semaine
        min: 0
        max: 5
tariffs:
  - id: pension
    label: Pension
    applies_if: jours > 0
    amount: "25.00"
    multipliers:
      - {by: jours, label: jours}
"""


def _schedule(page: str) -> tuple[bool, list[tuple[str, str]]]:
    """Whether the panel's schedule is shown, and its (label, amount) lines."""
    block = re.search(r'<div class="fees__schedule" data-fees-schedule( hidden)?>(.*?)</div>',
                      page, re.S)
    assert block, page[:3000]
    lines = re.findall(r'fees__label">([^<]*)</span> <span class="fees__amount">([^<]*)<',
                       block.group(2))
    return block.group(1) is None, lines


def test_the_form_shows_the_schedule_without_a_script(
        app: Flask, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier) -> None:
    account, code = make_account(email="parent@example.fr")
    dossier: Dossier = make_dossier(account, source=CAMPAIGN, campaign="echeancier-2027")
    browser = family_browser(app, account, code)
    url = f"/dossier/{dossier.public_id}/etape/cantine"
    shown, lines = _schedule(browser.get(url).get_data(True))
    assert not shown and not lines  # no fee yet: the list is there, hidden, for form.js
    save_answers(db_session, dossier, dossier.row_version, {"jours": 4}, "cantine",
                 Actor.family(account.id))
    page = browser.get(url).get_data(True)
    shown, lines = _schedule(page)
    assert shown
    assert lines == [("Premier trimestre", "33,33\u00a0€"), ("Deuxième trimestre", "33,33\u00a0€"),
                     ("Troisième trimestre", "33,34\u00a0€")]
    assert 'payés en <span data-fees-count>3</span> fois' in page
