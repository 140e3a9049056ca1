"""The file field type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.fields.file import parse_size

from campaign.helpers import compile_fields

C = compile_fields("- id: photo\n  type: file\n  accept: [jpeg, png]\n  max_size: 2MB\n"
                   "  max_files: 2\n")
F = C.fields["photo"]


def test_options() -> None:
    assert F.options.accept == ("jpeg", "png")
    assert F.options.max_size == 2 * 1024 * 1024
    assert F.options.max_files == 2


@pytest.mark.parametrize(("text", "size"), [("5MB", 5 * 1024 * 1024), ("500 Ko", 500 * 1024),
                                            ("2.5 MB", int(2.5 * 1024 * 1024)), ("12o", 12),
                                            ("5GB", None), ("MB", None), ("-1MB", None)])
def test_parse_size(text: str, size: int | None) -> None:
    assert parse_size(text) == size


def test_normalize_validate_display_export() -> None:
    assert F.type.normalize(None, F) == []
    assert F.type.normalize("abc", F) == ["abc"]
    assert F.type.parse_input(["a", " ", "b"], F) == ["a", "b"]
    assert list(F.type.validate(["a", "b", "c"], F)) == ["Joignez au plus 2 fichiers."]
    assert list(F.type.validate(["a"], F)) == []
    assert F.type.expr_value(["a", "b"], F) == Decimal(2)
    assert F.type.display(["a", "b"], F) == "2 fichier(s)"
    assert F.type.display([], F) == ""
    assert F.type.export(["a"], F) == {"": "1 fichier(s)"}
    assert F.type.diff([], ["a"], F) is not None
