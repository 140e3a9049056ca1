"""The choice field type."""

from __future__ import annotations

import pytest

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("""\
    - id: regime
      type: choice
      choices:
        - {value: externe, label: Externe}
        - {value: demi_pensionnaire, label: Demi-pensionnaire}
    - id: langues
      type: choice
      multiple: true
      min_selected: 1
      max_selected: 2
      choices: [anglais, allemand, espagnol]
    """)
ONE, MANY = C.fields["regime"], C.fields["langues"]


def test_single() -> None:
    assert ONE.type.parse_input(["externe"], ONE) == "externe"
    assert ONE.type.parse_input([" "], ONE) is None
    assert ONE.type.normalize("", ONE) is None
    with pytest.raises(FieldValueError, match="proposées"):
        ONE.type.normalize("interne", ONE)
    with pytest.raises(FieldValueError, match="seule"):
        ONE.type.normalize(["externe", "demi_pensionnaire"], ONE)
    assert ONE.type.choices(ONE) == {"externe", "demi_pensionnaire"}


def test_multiple_keeps_declared_order() -> None:
    assert MANY.type.parse_input(["espagnol", "anglais"], MANY) == ["anglais", "espagnol"]
    assert MANY.type.normalize(None, MANY) == []
    assert list(MANY.type.validate([], MANY)) == ["Cochez au moins 1 réponses."]
    assert list(MANY.type.validate(["anglais", "allemand", "espagnol"], MANY)) == [
        "Cochez au plus 2 réponses."]


def test_display_export_diff() -> None:
    assert ONE.type.display("demi_pensionnaire", ONE) == "Demi-pensionnaire"
    assert ONE.type.export("externe", ONE) == {"": "externe"}
    assert MANY.type.export(["anglais"], MANY) == {".anglais": True, ".allemand": False,
                                                   ".espagnol": False}
    assert MANY.type.display(["anglais", "espagnol"], MANY) == "anglais, espagnol"
    assert MANY.type.diff(["espagnol", "anglais"], ["anglais", "espagnol"], MANY) is None
    change = ONE.type.diff("externe", "demi_pensionnaire", ONE)
    assert change is not None and (change.old, change.new) == ("Externe", "Demi-pensionnaire")


def test_radio_with_multiple_is_refused() -> None:
    from campaign.helpers import campaign_text, check_yaml

    _, diagnostics = check_yaml(campaign_text(
        "- id: x\n  type: choice\n  multiple: true\n  widget: radio\n  choices: [a, a]\n"))
    assert sorted(d.message for d in diagnostics) == [
        "Field 'x': a multiple choice cannot use radio buttons; use checkbox. Fix this option.",
        "Field 'x': choice 'a' is declared twice. Fix this option."]
