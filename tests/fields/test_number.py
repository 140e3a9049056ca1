"""The number field type."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("- id: qf\n  type: number\n  min: 0\n  max: '5000'\n  decimals: 2\n"
                   "  unit: €\n")
F = C.fields["qf"]


@pytest.mark.parametrize(("raw", "stored"), [
    ("12", "12"), ("12,5", "12.5"), ("12.50", "12.5"), (" 1 234,56 ", "1234.56"),
    ("1\u202f234", "1234"), (12, "12"), (12.5, "12.5"), (Decimal("3.0"), "3"), ("", None),
    (None, None),
])
def test_normalize(raw: object, stored: str | None) -> None:
    assert F.type.normalize(raw, F) == stored


@pytest.mark.parametrize("raw", ["abc", "1,2,3", "1e999", "NaN", "Infinity", True])
def test_normalize_refuses(raw: object) -> None:
    if raw is True:
        with pytest.raises(FieldValueError):
            F.type.normalize(raw, F)
        return
    with pytest.raises(FieldValueError, match="nombre"):
        F.type.normalize(raw, F)


def test_validate_bounds_and_decimals() -> None:
    assert list(F.type.validate("12.25", F)) == []
    assert list(F.type.validate("-1", F)) == ["La valeur doit être supérieure ou égale à 0."]
    assert list(F.type.validate("5001", F)) == [
        "La valeur doit être inférieure ou égale à 5\u202f000."]
    assert list(F.type.validate("1.125", F)) == ["Saisissez au plus 2 décimales."]


def test_display_export_expr_value_diff() -> None:
    assert F.type.display("1234.5", F) == "1\u202f234,5\u00a0€"
    assert F.type.export("1234.5", F) == {"": 1234.5}
    assert F.type.export(None, F) == {"": None}
    assert F.type.expr_value("12.5", F) == Decimal("12.5")
    assert F.type.diff("12,50", "12.5", F) is None
    assert F.type.diff("12", "13", F) is not None


@given(st.decimals(min_value=-10**9, max_value=10**9, places=3, allow_nan=False))
def test_comma_and_point_read_the_same(d: Decimal) -> None:
    text = f"{d:f}"
    assert F.type.normalize(text, F) == F.type.normalize(text.replace(".", ","), F)
    assert Decimal(F.type.normalize(text, F)) == d
    stored = F.type.normalize(text, F)
    assert F.type.normalize(stored, F) == stored
