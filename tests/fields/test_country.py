"""The country field type."""

from __future__ import annotations

import pytest

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("- id: pays\n  type: country\n  nationality: true\n")
F = C.fields["pays"]


@pytest.mark.parametrize(("raw", "code"), [("FR", "FR"), ("fr", "FR"), ("France", "FR"),
                                           ("allemagne", "DE"), ("Germany", "DE"),
                                           (" Belgique ", "BE"), ("", None)])
def test_normalize(raw: str, code: str | None) -> None:
    assert F.type.normalize(raw, F) == code


def test_refused_and_choices() -> None:
    with pytest.raises(FieldValueError, match="pays"):
        F.type.normalize("Atlantide", F)
    assert {"FR", "DE", "BE"} <= F.type.choices(F)  # type: ignore[operator]
    assert F.options.nationality is True


def test_display_export_diff() -> None:
    assert F.type.display("DE", F) == "Allemagne"
    assert F.type.display("DE", F, "en") == "Germany"
    assert F.type.export("DE", F) == {"": "Allemagne"}
    assert F.type.diff("France", "FR", F) is None
    assert F.type.diff("FR", "DE", F) is not None
