"""One normaliser per value kind: a phone or a date in any representation the readers produce
(SIECLE text, spreadsheet cells, records, snapshots) means what the field type gives for the
form a family types, and ``same`` says so whichever side it is given first."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from typing import Any

import openpyxl
from hypothesis import assume, given
from hypothesis import strategies as st

from engine.expr import DATE
from engine.fields.phone import Number, read_number
from engine.prefill import PupilRecord, read_siecle, read_spreadsheet
from engine.prefill.records import GuardianRecord
from engine.prefill.spreadsheet import _cell
from engine.rules.scope import record_value

from campaign.helpers import compile_fields

C = compile_fields("- id: tel\n  type: phone\n- id: naissance\n  type: date\n")
TEL, BIRTH = C.fields["tel"], C.fields["naissance"]

#: a French number's nine digits after the trunk 0, in the ranges the numbering plan assigns
french = st.from_regex(r"[1-79][0-9]{8}", fullmatch=True).filter(
    lambda d: isinstance(read_number("0" + d), Number))


def phone_forms(digits: str) -> list[Any]:
    """What SIECLE exports, spreadsheets and families write for one number."""
    pairs = " ".join(digits[i:i + 2] for i in range(1, 9, 2))
    return ["0" + digits, f"0{digits[0]} {pairs}", f"0{digits[0]}.{pairs.replace(' ', '.')}",
            f"+33{digits}", f"+33 {digits[0]} {pairs}", f"+33 (0){digits[0]} {pairs}",
            f"0033{digits}", f"  0{digits[0]} {pairs}\u00a0",
            # a number cell: the leading 0 is lost, the reader writes the integer
            _cell(float(digits)), int(digits)]


@given(french)
def test_every_phone_form_normalises_like_the_typed_one(digits: str) -> None:
    typed = TEL.type.normalize(f"0{digits[0]} " + " ".join(
        digits[i:i + 2] for i in range(1, 9, 2)), TEL)
    assert typed == "+33" + digits
    for form in phone_forms(digits):
        assert TEL.type.normalize(form, TEL) == typed
        assert TEL.type.same(form, typed, TEL) and TEL.type.same(typed, form, TEL)
        # what a record's snapshot holds is the field's stored form
        text = str(form)
        assert PupilRecord("1", phone_mobile=text).as_prefill()["phone_mobile"] == typed
        assert GuardianRecord("g", phone_home=text).as_prefill()["phone_home"] == typed


def date_forms(d: date) -> list[Any]:
    """What SIECLE, spreadsheet cells (openpyxl/xlrd/ODS give date and datetime objects, the
    reader writes them as text), browsers and families give for one date."""
    at_ten = datetime.combine(d, time(10, 30))
    return [d, datetime.combine(d, time()), at_ten, d.isoformat(), d.strftime("%d/%m/%Y"),
            f"{d.day}/{d.month}/{d.year}", d.strftime("%d.%m.%Y"), d.strftime("%d/%m/%Y 00:00:00"),
            _cell(d), _cell(datetime.combine(d, time())), _cell(at_ten), f" {d.isoformat()} "]


@given(st.dates(min_value=date(1000, 1, 1)))
def test_every_date_form_normalises_like_the_typed_one(d: date) -> None:
    typed = BIRTH.type.normalize(d.strftime("%d/%m/%Y"), BIRTH)
    assert typed == d.isoformat()
    for form in date_forms(d):
        assert BIRTH.type.normalize(form, BIRTH) == typed
        assert BIRTH.type.same(form, typed, BIRTH) and BIRTH.type.same(typed, form, BIRTH)
        assert record_value(form, DATE) == d  # what audience expressions see (age(...))
        if isinstance(form, str):
            assert PupilRecord("1", birth_date=form).as_prefill()["birth_date"] == typed


def test_the_examples_of_the_issue() -> None:
    phones = ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "+33612345678"]
    dates: list[Any] = ["01/09/2012", "2012-09-01", date(2012, 9, 1)]
    for group, spec in ((phones, TEL), (dates, BIRTH)):
        assert len({spec.type.normalize(v, spec) for v in group}) == 1
        assert all(spec.type.same(a, b, spec) for a in group for b in group)


def test_readers_give_the_field_types_stored_forms() -> None:
    """A SIECLE file and an XLSX sheet with a date cell and a number cell, end to end."""
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<BEE_ELEVES VERSION="3.0"><DONNEES><ELEVES>'
           b'<ELEVE ELEVE_ID="1"><NOM_DE_FAMILLE>A</NOM_DE_FAMILLE><DATE_NAISS>01/09/2012'
           b"</DATE_NAISS><TEL_PORTABLE>06 12 34 56 78</TEL_PORTABLE></ELEVE>"
           b"</ELEVES></DONNEES></BEE_ELEVES>")
    siecle = read_siecle(("e.xml", xml))
    book = openpyxl.Workbook()
    book.active.append(["Id", "Nom", "Naissance", "Portable"])
    book.active.append(["1", "A", datetime(2012, 9, 1), 612345678])
    data = io.BytesIO()
    book.save(data)
    sheet = read_spreadsheet(("e.xlsx", data.getvalue()), {"pupil": {
        "id": "Id", "last_name": "Nom", "birth_date": "Naissance", "phone_mobile": "Portable"}})
    for result in (siecle, sheet):
        assert result.ok, result.problems
        pupil = result.prefill_for(result.pupils[0])["pupil"]
        assert pupil["birth_date"] == BIRTH.type.normalize(date(2012, 9, 1), BIRTH)
        assert pupil["phone_mobile"] == TEL.type.normalize("06 12 34 56 78", TEL)


values = st.one_of(st.none(), st.text(max_size=20), st.dates().map(str),
                   french.map(lambda d: "0" + d), st.sampled_from(
                       ["06 12 34 56 78", "+33612345678", "01/09/2012", "2012-09-01", "", " "]))


@given(values, values)
def test_same_is_symmetric(a: Any, b: Any) -> None:
    for spec in (TEL, BIRTH):
        assert spec.type.same(a, b, spec) == spec.type.same(b, a, spec)
        assert spec.type.same(a, a, spec)


@given(st.dates(), st.dates())
def test_different_dates_are_not_the_same(a: date, b: date) -> None:
    assume(a != b)
    assert not BIRTH.type.same(a.strftime("%d/%m/%Y"), b.isoformat(), BIRTH)
