"""The grid field type: one question for several rows, each yes/no or one of the choices,
rows shown by their own conditions."""

from __future__ import annotations

from datetime import date

import pytest

from engine.fields import FieldValueError
from engine.rules import DossierContext, evaluate_dossier

from campaign.helpers import campaign_text, check_yaml, codes, compile_fields

FIELDS = """\
- id: regime
  type: choice
  choices: [externe, demi_pensionnaire]
- id: sorties
  type: grid
  label: Autorisation de sortie
  required: true
  rows:
    - {id: lundi, label: Lundi}
    - {id: mercredi, label: Mercredi, visible_if: 'regime == "externe"'}
- id: droit_image
  type: grid
  label: Droit à l'image
  rows:
    - {id: classe, label: Photo de classe}
    - {id: presse, label: Presse}
  choices:
    - {value: oui, label: J'autorise}
    - {value: non, label: Je n'autorise pas}
    - {value: flou, label: Visage flouté}
- id: presse_note
  type: text
  visible_if: droit_image.presse == "oui"
- id: sortie_lundi
  type: computed
  expr: sorties.lundi
  format: boolean
"""
C = compile_fields(FIELDS)
GRID, IMAGE = C.fields["sorties"], C.fields["droit_image"]
CTX = DossierContext(today=date(2027, 6, 10))


def test_normalize_keeps_the_answered_rows_in_order() -> None:
    assert GRID.type.normalize({"mercredi": "non", "lundi": "oui"}, GRID) == {
        "lundi": True, "mercredi": False}
    assert GRID.type.normalize({"lundi": "", "ancien": True}, GRID) is None
    assert GRID.type.normalize(None, GRID) is None
    assert IMAGE.type.normalize({"presse": "flou"}, IMAGE) == {"presse": "flou"}


@pytest.mark.parametrize(("spec", "value", "message"), [
    (GRID, ["oui"], "ligne par ligne"), (GRID, {"lundi": "peut-être"}, "oui ou par non"),
    (IMAGE, {"classe": "partout"}, "réponses proposées")])
def test_normalize_refuses(spec: object, value: object, message: str) -> None:
    with pytest.raises(FieldValueError, match=message):
        GRID.type.normalize(value, spec)  # type: ignore[arg-type]


def test_parse_input_reads_one_input_per_row() -> None:
    assert GRID.type.parts(GRID) == ("lundi", "mercredi")
    assert GRID.type.parse_input(["true", ""], GRID) == {"lundi": True}
    assert IMAGE.type.parse_input(["", "non"], IMAGE) == {"presse": "non"}
    assert GRID.type.unparsed(["x", ""], GRID) == {"lundi": "x", "mercredi": ""}
    assert GRID.type.anchor(GRID) == "-lundi-oui" and IMAGE.type.anchor(IMAGE) == "-classe-1"


def test_display_export_form_value() -> None:
    value = {"lundi": True, "mercredi": False}
    assert GRID.type.display(value, GRID) == "Lundi : Oui, Mercredi : Non"
    assert IMAGE.type.display({"presse": "flou"}, IMAGE) == "Presse : Visage flouté"
    assert GRID.type.export(value, GRID) == {".lundi": True, ".mercredi": False}
    assert IMAGE.type.export(None, IMAGE) == {".classe": None, ".presse": None}
    assert GRID.type.form_value({"lundi": False}, GRID) == {"lundi": "false", "mercredi": ""}


def test_diff_lists_the_changed_rows() -> None:
    assert GRID.type.diff({"lundi": "oui"}, {"lundi": True}, GRID) is None
    change = GRID.type.diff({"lundi": True}, {"lundi": False, "mercredi": True}, GRID)
    assert change is not None
    assert [(c.label, c.old, c.new, c.kind) for c in change.children] == [
        ("Lundi", "Oui", "Non", "changed"), ("Mercredi", "", "Oui", "added")]


def evaluate(answers: dict[str, object]):  # type: ignore[no-untyped-def]
    return evaluate_dossier(C, answers, CTX)


def test_a_hidden_row_is_neither_required_nor_kept() -> None:
    result = evaluate({"regime": "demi_pensionnaire", "sorties": {"lundi": True,
                                                                  "mercredi": True}})
    assert "sorties.lundi" in result.visible and "sorties.mercredi" not in result.visible
    assert "sorties" not in result.errors
    assert result.values["sorties"] == {"lundi": True}


def test_every_shown_row_of_a_required_grid_is_answered() -> None:
    result = evaluate({"regime": "externe", "sorties": {"lundi": True}})
    assert "sorties.mercredi" in result.visible
    assert result.errors["sorties"] == ["Répondez pour chaque ligne."]
    assert evaluate({"regime": "externe"}).errors["sorties"] == ["Répondez pour chaque ligne."]


def test_conditions_read_a_row() -> None:
    result = evaluate({"regime": "externe", "sorties": {"lundi": True},
                       "droit_image": {"presse": "oui"}})
    assert "presse_note" in result.visible and result.computed["sortie_lundi"] is True
    assert "presse_note" not in evaluate({"droit_image": {"presse": "non"}}).visible


def test_on_hide_keep_keeps_a_hidden_row() -> None:
    kept = compile_fields(FIELDS.replace("  required: true\n", "  on_hide: keep\n", 1))
    result = evaluate_dossier(kept, {"regime": "demi_pensionnaire",
                                     "sorties": {"mercredi": False}}, CTX)
    assert result.values["sorties"] == {"mercredi": False}


@pytest.mark.parametrize(("snippet", "code"), [
    ("rows: [{id: a, label: A}, {id: a, label: B}]", "FIELD_003"),
    ("rows: [{id: a, label: A, visible_if: 'inconnu == 1'}]", "EXPR_003"),
    ("rows: [{id: a, label: A}, {id: b, label: B, visible_if: g.a}]", "EXPR_008"),
    ("rows: []", "SCHEMA_004"),
])
def test_grid_mistakes(snippet: str, code: str) -> None:
    _, diagnostics = check_yaml(campaign_text(f"- id: g\n  type: grid\n  {snippet}\n"))
    assert code in codes(diagnostics)


def test_a_grid_cannot_be_inside_a_repeat() -> None:
    _, diagnostics = check_yaml(campaign_text(
        "- id: r\n  type: repeat\n  fields:\n    - id: g\n      type: grid\n"
        "      rows: [{id: a, label: A}]\n"))
    assert "FIELD_003" in codes(diagnostics)
