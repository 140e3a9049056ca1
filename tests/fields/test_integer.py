"""The integer field type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("- id: n\n  type: integer\n  min: 0\n  max: 15\n")
F = C.fields["n"]


def test_normalize() -> None:
    assert F.type.normalize("3", F) == 3
    assert F.type.normalize("3,0", F) == 3
    assert F.type.normalize(" 12 ", F) == 12
    assert F.type.normalize("", F) is None
    with pytest.raises(FieldValueError, match="entier"):
        F.type.normalize("2.5", F)
    with pytest.raises(FieldValueError, match="entier"):
        F.type.normalize("deux", F)


def test_validate_display_export() -> None:
    assert list(F.type.validate(16, F)) == ["La valeur doit être inférieure ou égale à 15."]
    assert list(F.type.validate(0, F)) == []
    assert F.type.display(1500, F) == "1\u202f500"
    assert F.type.export(3, F) == {"": 3}
    assert F.type.diff("3", 3, F) is None


def test_decimals_option_is_not_allowed() -> None:
    from campaign.helpers import campaign_text, check_yaml

    _, diagnostics = check_yaml(campaign_text("- id: n\n  type: integer\n  decimals: 2\n"))
    assert [d.code.name for d in diagnostics] == ["SCHEMA_001"]


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_round_trip(n: int) -> None:
    assert F.type.normalize(str(n), F) == n
    assert F.type.normalize(F.type.normalize(str(n), F), F) == n
