"""Property tests: the normalisers the readers rely on and the XML importer never fail
unexpectedly."""

from __future__ import annotations

from datetime import date

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.fields.date import read_date
from engine.fields.phone import Number, canonical_phone, read_number
from engine.prefill import read_siecle
from engine.prefill.values import parse_flag

from .test_siecle import ELEVES


@given(st.dates(min_value=date(1000, 1, 1)))
def test_dates_round_trip(d: date) -> None:
    assert read_date(d.strftime("%d/%m/") + f"{d.year:04d}") == d
    assert read_date(f"{d.year:04d}-{d.month:02d}-{d.day:02d}") == d


@given(st.text())
def test_date_parser_only_raises_value_error(text: str) -> None:
    try:
        result = read_date(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert result is None or isinstance(result, date)


@given(st.from_regex(r"0[1-9]( ?[0-9]{2}){4}", fullmatch=True))
def test_french_numbers_normalise_to_e164(raw: str) -> None:
    # the phone field's normaliser checks the numbering plan: an unassigned range is kept
    assume(isinstance(read_number(raw), Number))
    normalized = canonical_phone(raw)
    assert normalized == "+33" + raw.replace(" ", "")[1:]
    assert canonical_phone(normalized) == normalized
    assert canonical_phone("0033" + raw[1:]) == normalized


@given(st.text())
def test_phone_normaliser_never_fails(raw: str) -> None:
    assert canonical_phone(raw) is None or isinstance(canonical_phone(raw), str)
    assert parse_flag(raw) in (True, False, None)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_problems_or_records(data: bytes) -> None:
    result = read_siecle(("fuzz.xml", data))
    assert result.problems or result.sources


SAMPLE = ELEVES.read_bytes()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(SAMPLE)), st.integers(0, 40), st.binary(max_size=40))
def test_mutated_sample_gives_problems_or_records(at: int, cut: int, junk: bytes) -> None:
    data = SAMPLE[:at] + junk + SAMPLE[at + cut:]
    result = read_siecle(("mutant.xml", data))
    assert result.ok or result.errors
