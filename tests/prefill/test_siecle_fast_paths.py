"""The SIECLE reader's shortcuts read what the general code reads: values converted inline or
from a cache, SCOLARITE_AN_DERNIER caught in the read loop, the garbage collector paused
during a read, provenance completed once the file is read."""

from __future__ import annotations

import gc
from datetime import date
from xml.sax.saxutils import escape

from hypothesis import given
from hypothesis import strategies as st

from engine.fields.date import read_date
from engine.prefill import read_siecle

from .test_siecle import ELEVES, NOMENCLATURE, RESPONSABLES, pupil_xml


@given(st.text(alphabet="0123456789 +()-./\t\u00a0²٣", max_size=20))
def test_phones_are_kept_as_written(raw: str) -> None:
    """No shortcut of a phone normaliser left in the reader: the field type reads the text."""
    result = read_siecle(("p.xml", pupil_xml(
        '<ELEVE ELEVE_ID="1"><NOM_DE_FAMILLE>A</NOM_DE_FAMILLE><DATE_NAISS>05/06/2011'
        f"</DATE_NAISS><TEL_PORTABLE>{escape(raw)}</TEL_PORTABLE></ELEVE>")))
    assert result.pupils[0].phone_mobile == (raw.strip() or None)


def test_repeated_values_read_like_the_first_ones() -> None:
    one = ('<ELEVE ELEVE_ID="{id}"><NOM_DE_FAMILLE>A</NOM_DE_FAMILLE><PRENOM>B</PRENOM>'
           "<DATE_NAISS>{d}</DATE_NAISS><DOUBLEMENT>{flag}</DOUBLEMENT></ELEVE>")
    result = read_siecle(("r.xml", pupil_xml("\n".join([
        one.format(id=1, d="05/06/2011", flag="1"), one.format(id=2, d="05/06/2011", flag="OUI"),
        one.format(id=3, d="31/02/2011", flag="0"), one.format(id=4, d="31/02/2011", flag="2"),
        one.format(id=5, d="2011-06-05", flag="true")]))))
    pupils = {p.eleve_id: p for p in result.pupils}
    assert [read_date(pupils[i].birth_date) for i in "125"] == [date(2011, 6, 5)] * 3
    assert [pupils[i].doublement for i in "12345"] == [True, True, False, None, True]
    # an invalid value is reported each time it is met, at its own line
    assert [(p.code, p.line) for p in result.problems] == [
        ("INVALID_DATE", 6), ("INVALID_DATE", 7), ("INVALID_FLAG", 7)]


def test_numbers_that_int_cannot_read_are_reported() -> None:
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<BEE_ELEVES><DONNEES><OPTIONS>\n'
           b'<OPTION ELEVE_ID="1"><OPTIONS_ELEVE><NUM_OPTION>\xc2\xb2</NUM_OPTION>'
           b"<CODE_MATIERE>030201</CODE_MATIERE></OPTIONS_ELEVE><OPTIONS_ELEVE>"
           b"<NUM_OPTION>2</NUM_OPTION><CODE_MATIERE>030602</CODE_MATIERE></OPTIONS_ELEVE>"
           b"</OPTION></OPTIONS></DONNEES></BEE_ELEVES>")
    result = read_siecle(("n.xml", xml))
    invalid = [p for p in result.problems if p.code == "INVALID_NUMBER"]
    assert [(p.line, p.element) for p in invalid] == [(3, "OPTION[@ELEVE_ID=1]/NUM_OPTION")]


def test_scolarite_an_dernier_anywhere_in_the_record_first_one_wins() -> None:
    xml = ELEVES.read_bytes()
    start = xml.index(b"<SCOLARITE_AN_DERNIER>")
    end = xml.index(b"</SCOLARITE_AN_DERNIER>") + len(b"</SCOLARITE_AN_DERNIER>")
    block = xml[start:end]
    at = xml.index(b"<NOM_DE_FAMILLE>")
    moved = (xml[:at] + block + b"<SCOLARITE_AN_DERNIER><CODE_RNE>0000000X</CODE_RNE>"
             b"</SCOLARITE_AN_DERNIER>" + xml[at:start] + xml[end:])
    plain, first = read_siecle(ELEVES).pupils[0], read_siecle(("m.xml", moved)).pupils[0]
    assert first.previous == plain.previous and first.previous is not None
    assert first.previous.uai == "0752387M"
    assert first.provenance["previous.uai"].element == (
        "ELEVE[@ELEVE_ID=1826500]/SCOLARITE_AN_DERNIER/CODE_RNE")


def test_collector_is_back_after_a_read_and_left_off_when_it_was() -> None:
    assert gc.isenabled()
    for source in (ELEVES, ("bad.xml", b"<BEE_ELEVES><DONNEES>"), ("none.xml", b"")):
        read_siecle(source)
        assert gc.isenabled()
    gc.disable()
    try:
        read_siecle(ELEVES)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_every_record_gets_its_own_provenance() -> None:
    result = read_siecle(ELEVES, RESPONSABLES, NOMENCLATURE)
    records = [*result.pupils, *result.guardians]
    assert records and all(len(r.provenance) > 3 for r in records)
    assert len({id(r.provenance) for r in records}) == len(records)
    lines = ELEVES.read_bytes().split(b"\n")
    for pupil in result.pupils:
        prov = pupil.provenance["eleve_id"]
        assert prov.element == f"ELEVE[@ELEVE_ID={pupil.eleve_id}]/@ELEVE_ID"
        assert f'ELEVE_ID="{pupil.eleve_id}"'.encode() in lines[prov.line - 1]
    for guardian in result.guardians:
        assert guardian.provenance["personne_id"].element == (
            f"PERSONNE[@PERSONNE_ID={guardian.personne_id}]/@PERSONNE_ID")
