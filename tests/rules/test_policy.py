"""What an evaluation asks to be written back: on_hide and the answers a submission confirms."""

from __future__ import annotations

from datetime import date

from engine.rules import DossierContext, evaluate_dossier
from engine.rules.policy import confirmed_answers, on_hide_writes

from campaign.helpers import compile_fields

CTX = DossierContext(prefill={"pupil": {"last_name": "MARTIN"}}, family={}, today=date(2027, 6, 1))
FIELDS = """\
    - id: regime
      type: choice
      choices: [externe, demi-pension]
    - id: jours
      type: text
      visible_if: regime == 'demi-pension'
    - id: allergies
      type: text
      visible_if: regime == 'demi-pension'
      on_hide: keep
    - id: nom
      type: text
      prefill: pupil.last_name
      editable: false
      visible_if: regime == 'demi-pension'
    - id: contacts
      type: repeat
      min: 0
      max: 3
      fields:
        - id: nom
          type: text
        - id: portable
          type: phone
          visible_if: nom != ''
    - id: notice
      type: info
      text: Bienvenue
    """


def test_hidden_answers_are_cleared_unless_kept_and_locked_ones_never_written() -> None:
    campaign = compile_fields(FIELDS)
    answers = {"regime": "externe", "jours": "lundi", "allergies": "arachide", "nom": "MARTIN"}
    writes = on_hide_writes(campaign, answers, evaluate_dossier(campaign, answers, CTX))
    assert writes == {"jours": None}


def test_hidden_children_of_rows_are_emptied_in_a_copy() -> None:
    campaign = compile_fields(FIELDS)
    rows = [{"_key": "a", "nom": "", "portable": "0612345678"},
            {"_key": "b", "nom": "Lou", "portable": "0698765432"}]
    answers = {"regime": "externe", "contacts": rows}
    writes = on_hide_writes(campaign, answers, evaluate_dossier(campaign, answers, CTX))
    assert writes == {"contacts": [{"_key": "a", "nom": "", "portable": None},
                                   {"_key": "b", "nom": "Lou", "portable": "0698765432"}]}
    assert rows[0]["portable"] == "0612345678"  # the answers given are not changed


def test_nothing_to_write_when_every_answer_is_shown() -> None:
    campaign = compile_fields(FIELDS)
    answers = {"regime": "demi-pension", "jours": "lundi", "contacts": []}
    assert on_hide_writes(campaign, answers, evaluate_dossier(campaign, answers, CTX)) == {}


def test_a_submission_confirms_the_editable_answers_only() -> None:
    campaign = compile_fields(FIELDS)
    answers = {"regime": "externe", "nom": "MARTIN", "notice": "x", "contacts": []}
    assert confirmed_answers(campaign, answers) == {"regime": "externe", "contacts": []}
