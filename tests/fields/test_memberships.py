"""The memberships field type."""

from __future__ import annotations

import pytest

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("- id: adhesions\n  type: memberships\n", """\
    associations:
      - {id: fse, label: FSE, fee: "8.00"}
      - {id: as, label: Association sportive, fee: "15.00"}
    """)
F = C.fields["adhesions"]


def test_options_and_choices() -> None:
    assert F.options.association_ids == ("fse", "as")
    assert F.type.choices(F) == {"fse", "as"}


def test_normalize_keeps_declared_order() -> None:
    assert F.type.parse_input(["as", "fse", " "], F) == ["fse", "as"]
    assert F.type.normalize(None, F) == []
    assert F.type.normalize("as", F) == ["as"]
    with pytest.raises(FieldValueError, match="associations"):
        F.type.normalize(["chorale"], F)


def test_export_display_diff() -> None:
    assert F.type.export(["as"], F) == {".fse": False, ".as": True}
    assert F.type.display(["fse", "as"], F) == "FSE, Association sportive"
    assert F.type.display([], F) == ""
    change = F.type.diff(["fse"], ["fse", "as"], F)
    assert change is not None and (change.old, change.new) == ("FSE", "FSE, Association sportive")
    assert F.type.diff(["as", "fse"], ["fse", "as"], F) is None
    assert F.type.diff([], ["as"], F) is not None
