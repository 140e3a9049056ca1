"""The phone field type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("- id: tel\n  type: phone\n- id: mobile\n  type: phone\n"
                   "  mobile_only: true\n- id: be\n  type: phone\n  region: BE\n")
TEL, MOBILE, BE = C.fields["tel"], C.fields["mobile"], C.fields["be"]


@pytest.mark.parametrize("raw", ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78",
                                 "06.12.34.56.78", "+33612345678", "0033612345678"])
def test_french_forms_normalise_to_e164(raw: str) -> None:
    assert TEL.type.normalize(raw, TEL) == "+33612345678"


def test_same_number_is_no_change() -> None:
    assert TEL.type.diff("06 12 34 56 78", "+33612345678", TEL) is None
    assert TEL.type.same("06 12 34 56 78", "+33612345678", TEL)
    change = TEL.type.diff("06 12 34 56 78", "06 12 34 56 79", TEL)
    assert change is not None and change.new == "06 12 34 56 79"


def test_foreign_numbers_and_region() -> None:
    assert TEL.type.normalize("+32 470 12 34 56", TEL) == "+32470123456"
    assert TEL.type.display("+32470123456", TEL) == "+32 470 12 34 56"
    assert BE.type.normalize("0470 12 34 56", BE) == "+32470123456"
    assert BE.type.display("+32470123456", BE) == "0470 12 34 56"


@pytest.mark.parametrize("raw", ["abc", "06 12", "+33 1 23", "01 00 00 00 00 00 00"])
def test_refused(raw: str) -> None:
    with pytest.raises(FieldValueError):
        TEL.type.normalize(raw, TEL)


def test_mobile_only() -> None:
    assert list(MOBILE.type.validate("+33612345678", MOBILE)) == []
    assert list(MOBILE.type.validate("+33123456789", MOBILE)) == [
        "Saisissez un numéro de téléphone portable."]


def test_display_export() -> None:
    assert TEL.type.display("+33612345678", TEL) == "06 12 34 56 78"
    assert TEL.type.export("+33612345678", TEL) == {"": "06 12 34 56 78"}
    assert TEL.type.form_value(None, TEL) == ""


@given(st.sampled_from(["6", "7", "1", "2", "9"]), st.text("0123456789", min_size=8,
                                                          max_size=8),
       st.sampled_from([" ", ".", "", "-"]))
def test_normalisation_is_idempotent(first: str, rest: str, sep: str) -> None:
    raw = "0" + first + sep.join(rest[i:i + 2] for i in range(0, 8, 2))
    try:
        stored = TEL.type.normalize(raw, TEL)
    except FieldValueError:
        return
    assert TEL.type.normalize(stored, TEL) == stored
    assert TEL.type.normalize(TEL.type.display(stored, TEL), TEL) == stored
