"""Files whose encoding lies (issue 11, item 17): a UTF-8 SIECLE export that declares
ISO-8859-15, a double-encoded CSV. Each is refused with a located error that says which encoding
the file really looks like, instead of importing garbled names ("LÃ©a")."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.prefill import ImportResult, read_siecle, read_spreadsheet
from engine.prefill.encoding import find_mojibake

DEMO = Path(__file__).resolve().parents[2] / "campaigns" / "demo"
DECLARATION = b'encoding="ISO-8859-15"'
MAPPING = {"pupil": {"id": "Id", "last_name": "Nom", "first_name": "Prénom"}}


def _demo(name: str) -> str:
    text = (DEMO / name).read_bytes().decode("iso-8859-15")
    # a guardian with an accented name: the demo's have none
    return text.replace("<PRENOM>", "<PRENOM>Hélène ", 1) if name.startswith("Resp") else text


def _utf8_declared(name: str, declared: str) -> bytes:
    return _demo(name).replace('encoding="ISO-8859-15"', f'encoding="{declared}"').encode()


def _errors(result: ImportResult) -> list[tuple[str, int]]:
    return [(p.code, p.line) for p in result.problems if p.is_error]


def _zipped(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, data)
    return out.getvalue()


SIECLE_LIES: dict[str, Callable[[], tuple[str, bytes]]] = {
    "pupils-utf8-declared-iso-8859-15":
        lambda: ("ElevesAvecAdresses.xml", _utf8_declared("ElevesAvecAdresses.xml",
                                                          "ISO-8859-15")),
    "guardians-utf8-declared-iso-8859-15":
        lambda: ("ResponsablesAvecAdresses.xml",
                 _utf8_declared("ResponsablesAvecAdresses.xml", "ISO-8859-15")),
    "pupils-utf8-declared-windows-1252":
        lambda: ("ElevesAvecAdresses.xml", _utf8_declared("ElevesAvecAdresses.xml",
                                                          "windows-1252")),
    "pupils-utf8-declared-latin-1":
        lambda: ("ElevesAvecAdresses.xml", _utf8_declared("ElevesAvecAdresses.xml",
                                                          "ISO-8859-1")),
    "zipped-utf8-declared-iso-8859-15":
        lambda: ("export.zip", _zipped("ElevesAvecAdresses.xml", _utf8_declared(
            "ElevesAvecAdresses.xml", "ISO-8859-15"))),
}


@pytest.mark.parametrize("make", SIECLE_LIES.values(), ids=SIECLE_LIES.keys())
def test_a_utf8_export_declaring_a_one_byte_encoding_is_refused(
        make: Callable[[], tuple[str, bytes]]) -> None:
    result = read_siecle(make())
    [(code, line)] = _errors(result)
    assert code == "XML_ENCODING" and line > 1
    message = result.problems[0].message
    assert "est en UTF-8 mais déclare l'encodage" in message
    assert "« Ã© » au lieu de « é »" in message or "« Ã« » au lieu de « ë »" in message
    assert 'encoding="UTF-8"' in message  # the fix


def test_a_double_encoded_export_declared_utf8_is_refused() -> None:
    twice = _demo("ElevesAvecAdresses.xml").encode().decode("cp1252").encode()
    result = read_siecle(("ElevesAvecAdresses.xml", twice.replace(DECLARATION,
                                                                  b'encoding="UTF-8"')))
    assert [code for code, _ in _errors(result)] == ["XML_ENCODING"]
    assert "encodés deux fois" in result.problems[0].message


def test_an_iso_8859_15_export_declaring_utf8_says_so() -> None:
    data = (DEMO / "ElevesAvecAdresses.xml").read_bytes().replace(DECLARATION,
                                                                  b'encoding="UTF-8"')
    result = read_siecle(("ElevesAvecAdresses.xml", data))
    assert [code for code, _ in _errors(result)] == ["XML_ENCODING"]
    assert "semble être en ISO-8859-15" in result.problems[0].message


@pytest.mark.parametrize("declared, encoding", [("ISO-8859-15", "iso-8859-15"),
                                                ("UTF-8", "utf-8")])
def test_honest_exports_keep_their_accents(declared: str, encoding: str) -> None:
    text = _demo("ElevesAvecAdresses.xml").replace('encoding="ISO-8859-15"',
                                                   f'encoding="{declared}"')
    result = read_siecle(("ElevesAvecAdresses.xml", text.encode(encoding)))
    assert result.ok, result.problems
    assert "Léa" in {p.first_name for p in result.pupils}


CSV = "Id;Nom;Prénom\r\nE001;MARTIN;Léa\r\nE002;DURAND;Inès\r\nE003;LEFÈVRE;Noël\r\n"


def _double(text: str) -> bytes:
    return text.encode("utf-8").decode("cp1252").encode("utf-8")


CSV_LIES = {
    "double-encoded": _double(CSV),
    "double-encoded-with-bom": b"\xef\xbb\xbf" + _double(CSV),
    "double-encoded-from-iso-8859-15": CSV.encode().decode("iso-8859-15").encode(),
    "double-encoded-on-a-later-line": (CSV.split("\r\n", 2)[0] + "\r\n" + "E000;A;B\r\n"
                                       ).encode() + _double(CSV.split("\r\n", 1)[1]),
}


@pytest.mark.parametrize("data", CSV_LIES.values(), ids=CSV_LIES.keys())
def test_a_double_encoded_csv_is_refused(data: bytes) -> None:
    result = read_spreadsheet(("eleves.csv", data), MAPPING)
    [(code, line)] = _errors(result)
    assert code == "FILE_ENCODING" and line >= 1
    assert "encodés deux fois" in result.problems[0].message
    assert "UTF-8" in result.problems[0].message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "iso-8859-15"])
def test_honest_csv_keep_their_accents(encoding: str) -> None:
    result = read_spreadsheet(("eleves.csv", CSV.encode(encoding)), MAPPING)
    assert result.ok, result.problems
    assert [p.first_name for p in result.pupils] == ["Léa", "Inès", "Noël"]


@pytest.mark.parametrize("text", ["SÃO PAULO", "João Conceição", "Â l'Â", "Ãé", "Mme Aßmann"])
def test_real_names_are_not_taken_for_mojibake(text: str) -> None:
    assert find_mojibake(text) is None
