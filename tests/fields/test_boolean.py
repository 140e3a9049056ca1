"""The boolean field type."""

from __future__ import annotations

import pytest

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("- id: photo\n  type: boolean\n- id: case\n  type: boolean\n"
                   "  widget: checkbox\n")
F, BOX = C.fields["photo"], C.fields["case"]


@pytest.mark.parametrize(("raw", "value"), [
    ("oui", True), ("Non", False), ("true", True), ("0", False), ("on", True), (True, True),
    (False, False), ("", None), (None, None)])
def test_normalize(raw: object, value: bool | None) -> None:
    assert F.type.normalize(raw, F) is value


def test_parse_input() -> None:
    assert F.type.parse_input([], F) is None
    assert BOX.type.parse_input([], BOX) is False
    assert F.type.parse_input(["false", "true"], F) is True
    with pytest.raises(FieldValueError, match="oui ou par non"):
        F.type.normalize("peut-être", F)


def test_display_export_diff() -> None:
    assert F.type.display(True, F) == "Oui"
    assert F.type.display(False, F) == "Non"
    assert F.type.display(None, F) == ""
    assert F.type.export(False, F) == {"": False}
    assert F.type.form_value(True, F) == "true"
    assert F.type.diff("oui", True, F) is None
    change = F.type.diff(True, False, F)
    assert change is not None and (change.old, change.new) == ("Oui", "Non")
