"""Spreadsheet imports (CSV, XLSX, ODS, XLS) through a YAML column mapping."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import tablib

from engine.campaign.namespace import GUARDIAN_KEYS, PUPIL_KEYS
from engine.fields.date import read_date
from engine.fields.phone import canonical_phone
from engine.prefill import (
    SpreadsheetFileError,
    import_spreadsheet,
    load_mapping,
    read_spreadsheet,
)

MAPPING = """
sheet: "Elèves"
header_row: 1
pupil:
  id: "Id National"
  last_name: "Nom de famille"
  first_name: "Prénom"
  birth_date: {column: "Date Naissance", format: "%d/%m/%Y"}
  mef_code: "Code MEF"
  division: "Code Structure"
guardians:
  - last_name: "Nom repr. légal"
    first_name: "Prénom repr. légal"
    email: "Courriel repr. légal"
    phone_mobile: "Tél. portable repr. légal"
    relationship: "Lien repr. légal"
  - last_name: "Nom autre repr. légal"
"""
HEADER = ["Id National", "Nom de famille", "Prénom", "Date Naissance", "Code MEF",
          "Code Structure", "Nom repr. légal", "Prénom repr. légal", "Courriel repr. légal",
          "Tél. portable repr. légal", "Lien repr. légal", "Nom autre repr. légal"]
ROWS = [
    ["070832327JA", "ISSOLIHA", "Farid", "22/12/2004", "10310019110", "3 A", "ROCK",
     "Maryline", "rock@example.fr", "06 12 34 56 78", "10", "ISSOLIHA"],
    ["070832327JA", "ISSOLIHA", "Farid", "22/12/2004", "10310019110", "3 A G1", "ROCK",
     "Maryline", "rock@example.fr", "06 12 34 56 78", "10", "ISSOLIHA"],
    ["060375611AC", "ÉLODIE", "Zoé", "09/12/2005", "10210001110", "4 B", "=HYPERLINK(\"x\")",
     "", "", "", "", ""],
]


def csv_bytes(delimiter: str = ";", encoding: str = "utf-8-sig") -> bytes:
    lines = [delimiter.join(f'"{c}"' if delimiter in c or '"' in c else c
                            for c in (cell.replace('"', '""') for cell in row))
             for row in [HEADER, *ROWS]]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def check(result: object) -> None:
    from engine.prefill import ImportResult

    assert isinstance(result, ImportResult)
    assert result.ok, result.problems
    farid, elodie = result.pupils
    assert (farid.eleve_id, farid.id_national, farid.last_name) == (
        "070832327JA", "070832327JA", "ISSOLIHA")
    # a column with a declared format is kept as the ISO text it means
    assert farid.birth_date == "2004-12-22" and read_date(farid.birth_date) == date(2004, 12, 22)
    assert farid.mef_code == "10310019110"
    assert [s.code for s in farid.structures] == ["3 A", "3 A G1"] and farid.division == "3 A"
    assert elodie.last_name == "ÉLODIE" and elodie.first_name == "Zoé"
    guardians = result.guardians_of("070832327JA")
    assert [g.last_name for g in guardians] == ["ROCK", "ISSOLIHA"]
    rock = guardians[0]
    assert rock.phone_mobile == "06 12 34 56 78"  # as written
    assert rock.phone_mobile is not None and canonical_phone(rock.phone_mobile) == "+33612345678"
    assert rock.links[0].code_parente == "10"
    assert rock.personne_id.startswith("T") and len(rock.personne_id) == 16
    assert rock.provenance["last_name"].line == 2
    snapshot = result.prefill_for(farid)
    assert set(snapshot["pupil"]) == set(PUPIL_KEYS)
    assert set(snapshot["guardians"][0]) == set(GUARDIAN_KEYS)
    assert snapshot["pupil"]["level"] == "3e" and snapshot["pupil"]["birth_date"] == "2004-12-22"
    formula = [p for p in result.problems if p.code == "FORMULA_TEXT"]
    assert [(p.line, p.is_error) for p in formula] == [(4, False)]
    assert result.guardians_of("060375611AC")[0].last_name == '=HYPERLINK("x")'


@pytest.mark.parametrize(("delimiter", "encoding"), [(";", "utf-8-sig"), (",", "utf-8"),
                                                     (";", "cp1252"), ("\t", "iso-8859-15")])
def test_csv(delimiter: str, encoding: str) -> None:
    mapping = load_mapping(MAPPING)
    del mapping["sheet"]
    check(read_spreadsheet(("eleves.csv", csv_bytes(delimiter, encoding)), mapping))


def test_same_sheet_ids_are_stable() -> None:
    mapping = load_mapping(MAPPING)
    del mapping["sheet"]
    a = read_spreadsheet(("a.csv", csv_bytes()), mapping)
    b = read_spreadsheet(("b.csv", csv_bytes(",")), mapping)
    assert [g.personne_id for g in a.guardians] == [g.personne_id for g in b.guardians]


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "Autre"
    ws = book.create_sheet("Elèves")
    ws.append(HEADER)
    for row in ROWS:
        ws.append([date(2004, 12, 22) if c == "22/12/2004" else
                   (int(c) if c.isdigit() and len(c) == 11 else c) for c in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_with_dates_and_numbers_as_cells(tmp_path: Path) -> None:
    path = tmp_path / "eleves.xlsx"
    path.write_bytes(xlsx_bytes())
    check(read_spreadsheet(path, MAPPING))


def test_ods_with_numbers_as_cells() -> None:
    # an ODS number cell is read back as a float: the MEF code must not become "….0"
    rows = [[float(c) if c.isdigit() and len(c) == 11 else c for c in row] for row in ROWS]
    sheet = tablib.Dataset(*rows, headers=HEADER, title="Elèves")
    book = tablib.Databook([tablib.Dataset(["x"], title="Autre"), sheet])
    check(read_spreadsheet(("eleves.ods", book.export("ods")), MAPPING))


def test_xls_reader_on_a_renamed_or_broken_file() -> None:
    # no .xls writer is installed (xlwt is not a dependency): only the error path is testable
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    result = read_spreadsheet(("old.xls", data), MAPPING)
    assert [p.code for p in result.errors] == ["FILE_FORMAT"]


def test_unknown_column_gives_a_hint() -> None:
    mapping = MAPPING.replace('"Nom de famille"', '"Nom de familles"')
    result = read_spreadsheet(("e.xlsx", xlsx_bytes()), mapping)
    assert [(p.code, p.line) for p in result.errors] == [("SHEET_UNKNOWN_COLUMN", 1)]
    assert "vouliez-vous dire 'Nom de famille'" in result.errors[0].message
    assert not result.pupils


def test_unknown_sheet() -> None:
    result = read_spreadsheet(("e.xlsx", xlsx_bytes()), MAPPING.replace("Elèves", "Eleves"))
    assert [p.code for p in result.errors] == ["SHEET_NOT_FOUND"]
    assert "Elèves" in result.errors[0].message


@pytest.mark.parametrize(("text", "needle"), [
    ("pupil: {id: A}", "last_name"),
    ("pupil: {id: A, last_name: B, nom: C}", "nom"),
    ("pupil: {id: A, last_nam: B}", "did you mean 'last_name'"),
    ("pupil: {id: A, last_name: B, birth_date: {col: X}}", "column"),
    ("header_row: 0\npupil: {id: A, last_name: B}", "header_row"),
    ("pupil: [", "illisible"),
    ("guardians: []", "pupil"),
])
def test_bad_mapping(text: str, needle: str) -> None:
    with pytest.raises(SpreadsheetFileError) as info:
        load_mapping(text)
    assert any(needle in p.message for p in info.value.problems), info.value.problems
    result = read_spreadsheet(("e.csv", csv_bytes()), text)
    assert not result.ok


def test_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    assert load_mapping(path)["pupil"]["id"] == "Id National"


@pytest.mark.parametrize(("name", "data", "code"), [
    ("e.xlsx", b'<?xml version="1.0"?><BEE_ELEVES/>', "FILE_FORMAT"),
    ("e.xlsx", bytes(range(256)) * 4, "FILE_FORMAT"),
    ("e.csv", b"", "FILE_EMPTY"),
    ("e.csv", b'Id National;Nom de famille\n"070832327JA;X\n', "CSV_MALFORMED"),
    ("e.xlsx", b"PK\x03\x04broken", "FILE_FORMAT"),
])
def test_bad_files(name: str, data: bytes, code: str) -> None:
    result = read_spreadsheet((name, data), MAPPING)
    assert code in [p.code for p in result.errors], result.problems
    with pytest.raises(SpreadsheetFileError):
        import_spreadsheet((name, data), MAPPING)


def test_row_problems_carry_row_numbers() -> None:
    mapping = load_mapping(MAPPING)
    del mapping["sheet"]
    rows = [HEADER, ROWS[0], ["", "SANS", "ID", "", "", "", "", "", "", "", "", ""],
            ["070832327JA", "AUTRE", "Farid", "22/12/2004", "", "", "", "", "", "", "", ""],
            ["1", "X", "Y", "32/01/2004", "", "", "", "", "", "", "", ""]]
    data = "\n".join(";".join(r) for r in rows).encode()
    result = read_spreadsheet(("e.csv", data), mapping)
    assert [(p.code, p.line) for p in result.errors] == [
        ("MISSING_VALUE", 3), ("ROW_CONFLICT", 4), ("INVALID_DATE", 5)]
