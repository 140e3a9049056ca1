"""The textarea field type."""

from __future__ import annotations

from campaign.helpers import compile_fields

C = compile_fields("- id: remarques\n  type: textarea\n  max_length: 10\n")
F = C.fields["remarques"]


def test_normalize_keeps_lines_trims_ends() -> None:
    assert F.type.normalize("  un  \r\ndeux   \n\n", F) == "un\ndeux"
    assert F.type.normalize("\n  \n", F) is None


def test_validate_display_export() -> None:
    assert list(F.type.validate("x" * 11, F)) == ["Saisissez au plus 10 caractères."]
    assert list(F.type.validate("x" * 10, F)) == []
    assert F.type.display("a\nb", F) == "a\nb"
    assert F.type.export("a\nb", F) == {"": "a\nb"}
    assert F.type.diff("a\r\nb", "a\nb", F) is None
