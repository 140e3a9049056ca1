"""The date field type."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("- id: naissance\n  type: date\n  min: 2000-01-01\n  max: 2020-12-31\n")
F = C.fields["naissance"]


@pytest.mark.parametrize(("raw", "stored"), [
    ("31/12/2014", "2014-12-31"), ("1/2/2014", "2014-02-01"), ("01.02.2014", "2014-02-01"),
    ("01-02-2014", "2014-02-01"), ("2014-02-01", "2014-02-01"), (date(2014, 2, 1), "2014-02-01"),
    ("", None), (None, None),
])
def test_normalize(raw: object, stored: str | None) -> None:
    assert F.type.normalize(raw, F) == stored


@pytest.mark.parametrize("raw", ["30/02/2014", "2014-13-01", "demain", "12/2014", "31/12/14"])
def test_normalize_refuses(raw: str) -> None:
    with pytest.raises(FieldValueError, match="date valide"):
        F.type.normalize(raw, F)


def test_validate_bounds() -> None:
    assert list(F.type.validate("2010-06-01", F)) == []
    assert list(F.type.validate("1999-12-31", F)) == [
        "La date doit être postérieure ou égale au 01/01/2000."]
    assert list(F.type.validate("2021-01-01", F)) == [
        "La date doit être antérieure ou égale au 31/12/2020."]


def test_display_export_expr_diff() -> None:
    assert F.type.display("2014-02-01", F) == "01/02/2014"
    assert F.type.export("2014-02-01", F) == {"": "01/02/2014"}
    assert F.type.expr_value("2014-02-01", F) == date(2014, 2, 1)
    assert F.type.form_value("2014-02-01", F) == "2014-02-01"
    assert F.type.diff("01/02/2014", "2014-02-01", F) is None
    change = F.type.diff("2014-02-01", "2014-02-02", F)
    assert change is not None and (change.old, change.new) == ("01/02/2014", "02/02/2014")


@given(st.dates())
def test_french_format_round_trip(d: date) -> None:
    shown = F.type.display(d.isoformat(), F)
    # the year on four digits everywhere (strftime("%Y") depends on the platform below 1000)
    assert shown == f"{d.day:02d}/{d.month:02d}/{d.year:04d}"
    assert F.type.normalize(shown, F) == d.isoformat()
    assert F.type.normalize(d.isoformat(), F) == d.isoformat()
