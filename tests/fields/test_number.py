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
    assert F.type.display("1234.5", F) == "1\u202f234,50\u00a0€"
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


@pytest.mark.parametrize(("typed", "shown", "read"), [
    ("420,50", "420,50", "420,50\u00a0€"), ("420", "420", "420\u00a0€"),
    ("1 234,5", "1234,50", "1\u202f234,50\u00a0€"), ("0,05", "0,05", "0,05\u00a0€"),
])
def test_typed_value_comes_back_in_french(typed: str, shown: str, read: str) -> None:
    """What the family typed comes back in the field, the review and the PDF with a comma
    and all the decimals the field allows (issue 10, item 13)."""
    stored = F.type.parse_input([typed], F)
    assert F.type.form_value(stored, F) == shown
    assert F.type.display(stored, F) == read
    assert F.type.parse_input([F.type.form_value(stored, F)], F) == stored


def test_form_value_without_decimals_option() -> None:
    plain = compile_fields("- id: n\n  type: number\n").fields["n"]
    assert plain.type.form_value("12.5", plain) == "12,5"
    assert plain.type.form_value(None, plain) == ""
