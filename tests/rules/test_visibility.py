"""Visibility, requirements, validation rules, computed values, repeat rows and changed()."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from engine.rules import DossierContext, DossierScope, VisibleFields, evaluate_dossier

from campaign.helpers import compile_fields

C = compile_fields("""\
    - id: regime
      type: choice
      choices: [externe, demi_pensionnaire]
    - id: motif
      type: text
      visible_if: regime == 'externe'
    - id: allergies
      type: text
      visible_if: regime == 'demi_pensionnaire'
      on_hide: keep
    - id: jours
      type: integer
      required: regime == 'demi_pensionnaire'
      validate:
        - rule: jours <= 5
          message: Cinq jours au plus.
    - id: cout
      type: computed
      expr: 0 if empty(jours) else jours * 4
      format: money
    - id: nom
      type: text
      prefill: pupil.last_name
      required: true
    - id: changement
      type: textarea
      visible_if: changed(nom)
      required: true
    - id: contacts
      type: repeat
      fields:
        - id: urgence
          type: boolean
        - id: telephone
          type: phone
          visible_if: urgence == true
          required: true
    """)
PUPIL = DossierContext(prefill={"pupil": {"last_name": "Martin"}}, today=date(2027, 6, 1))


def run(**answers: Any) -> Any:
    return evaluate_dossier(C, {"nom": "Martin", **answers}, PUPIL)


def test_conditions_show_and_hide() -> None:
    r = run(regime="externe", motif="loin")
    assert {"motif"} <= r.visible and "allergies" not in r.visible
    assert r.values["motif"] == "loin"
    r = run(regime="demi_pensionnaire", jours="4")
    assert "allergies" in r.visible and "motif" not in r.visible


def test_on_hide_clear_and_keep() -> None:
    r = run(regime="demi_pensionnaire", motif="loin", allergies="arachide", jours="4")
    assert "motif" not in r.values  # cleared: hidden answers are dropped
    assert r.values["allergies"] == "arachide"
    r = run(regime="externe", allergies="arachide")
    assert r.values["allergies"] == "arachide"  # kept while hidden


def test_required_condition() -> None:
    r = run(regime="demi_pensionnaire")
    assert "jours" in r.required
    assert r.errors["jours"] == ["Ce champ est obligatoire."]
    r = run(regime="externe")
    assert "jours" not in r.required and "jours" not in r.errors


def test_validate_rules() -> None:
    assert run(regime="demi_pensionnaire", jours="6").errors["jours"] == ["Cinq jours au plus."]
    assert "jours" not in run(regime="demi_pensionnaire", jours="5").errors
    assert run(jours="cinq").errors["jours"] == ["Saisissez un nombre entier."]


def test_computed_values() -> None:
    assert run(regime="demi_pensionnaire", jours="4").computed["cout"] == "16"
    assert run(regime="externe").computed["cout"] == "0"
    scope = DossierScope(C, {"jours": "3"}, PUPIL)
    assert scope.value(("cout",)) == Decimal(12)


def test_changed_with_prefill() -> None:
    r = run()
    assert "changement" not in r.visible
    r = evaluate_dossier(C, {"nom": "  martin  "}, PUPIL)
    assert "changement" in r.visible  # case differs: the family changed it
    r = evaluate_dossier(C, {"nom": "Martin-Durand"}, PUPIL)
    assert "changement" in r.visible and r.errors["changement"] == ["Ce champ est obligatoire."]
    r = evaluate_dossier(C, {"nom": "Martin"}, DossierContext(today=date(2027, 6, 1)))
    assert "changement" in r.visible  # nothing was known: any answer is a change


def test_repeat_rows() -> None:
    rows = [{"_key": "a", "urgence": True, "telephone": "06 12 34 56 78"},
            {"_key": "b", "urgence": False, "telephone": "06 00 00 00 00"},
            {"_key": "c", "urgence": True}]
    r = run(contacts=rows)
    assert r.values["contacts"][0]["telephone"] == "+33612345678"
    assert "telephone" not in r.values["contacts"][1]  # hidden in that row: cleared
    assert r.errors["contacts.2.telephone"] == ["Ce champ est obligatoire."]
    assert "contacts.0.telephone" in r.visible and "contacts.1.telephone" not in r.visible
    assert "contacts.telephone" in r.required
    scope = DossierScope(C, {"contacts": rows}, PUPIL)
    assert scope.value(("contacts", "urgence")) == [True, False, True]
    assert scope.value(("contacts", "telephone")) == ["+33612345678", None, None]



def test_a_locked_field_is_never_required() -> None:
    locked = compile_fields("""\
        - id: confirme
          type: boolean
        - id: telephone
          type: phone
          required: true
          readonly_if: confirme == true
        """)
    r = evaluate_dossier(locked, {"confirme": True}, PUPIL)
    assert "telephone" in r.readonly
    assert "telephone" not in r.required and "telephone" not in r.errors
    r = evaluate_dossier(locked, {"confirme": False}, PUPIL)
    assert r.errors["telephone"] == ["Ce champ est obligatoire."]


def test_visible_fields_are_the_evaluation_s_top_level_ones_without_validating() -> None:
    """What a diff of the fields shown reads (the staff list's change summaries): the same
    top-level fields as the whole evaluation, answers that do not fit their field included;
    a repeat's child or an unknown id is not a top-level field shown."""
    for answers in ({}, {"regime": "externe", "motif": "loin"},
                    {"regime": "demi_pensionnaire", "jours": 9, "nom": "Durand"},
                    {"jours": "pas un nombre", "contacts": [{"urgence": True}]}):
        whole = {"nom": "Martin", **answers}
        visible = evaluate_dossier(C, whole, PUPIL).visible
        lazy = VisibleFields(C, whole, PUPIL)
        assert {key for key in C.fields if key in lazy} == {
            key for key in visible if key in C.fields and C.fields[key].parent_id is None}
    assert "allergies" not in VisibleFields(C, {"regime": "externe"}, PUPIL)
    assert "changement" in VisibleFields(C, {"nom": "Durand"}, PUPIL)
    assert "telephone" not in VisibleFields(C, {"contacts": [{"urgence": True}]}, PUPIL)
    assert "inconnu" not in VisibleFields(C, {}, PUPIL) and 3 not in VisibleFields(C, {}, PUPIL)
