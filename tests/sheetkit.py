"""SIECLE "Fiches élèves complètes" sheets for the tests: the 136 columns of the export at
their places (docs/import.md), in both variants of the guardians' headers, as XLSX (openpyxl)
or old binary XLS (xlwt).

Columns the importer does not read get the header ``Colonne <n>``: their real texts are not
known here (the original fixtures are binary files we do not have).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Final

import openpyxl
import xlwt

from engine.prefill.siecle_sheet import GUARDIAN_HEADERS, PUPIL_HEADERS, VARIANTS, header_of

#: where the export puts each pupil column (0-based)
PUPIL_AT: Final = {"sex": 0, "last_name": 4, "first_name": 6, "first_name_2": 7,
                   "first_name_3": 8, "birth_date": 9, "id": 11, "birth_town": 20,
                   "mef_code": 32, "division": 34}
OTHER_PUPIL_AT: Final = {1: "Pays Nat.", 13: "Date Sortie", 21: "Commune Naiss.",
                         22: "Pays Naiss.", 33: "Lib. MEF"}
#: offset of each guardian column in the guardian's block of 19
GUARDIAN_AT: Final = {"civility": 0, "last_name": 1, "first_name": 3, "phone_home": 4,
                      "relationship": 5, "phone_mobile": 6, "phone_work": 7, "email": 8,
                      "address_line1": 10, "address_line2": 11, "address_line3": 12,
                      "address_line4": 13, "commune": 14, "postal_code": 15}
GUARDIAN_BLOCKS: Final = (98, 117)
WIDTH: Final = 136


def headers(variant: str) -> list[str]:
    out = [f"Colonne {n}" for n in range(WIDTH)]
    for key, at in PUPIL_AT.items():
        out[at] = PUPIL_HEADERS[key]
    for at, text in OTHER_PUPIL_AT.items():
        out[at] = text
    for k in range(10):
        out[37 + 4 * k] = f"Clé Gestion Mat. Enseignée {k + 1}"
        out[38 + 4 * k] = f"Lib. Mat. Enseignée {k + 1}"
        out[39 + 4 * k] = f"Code Modalité Elect. {k + 1}"
    for start, suffix in zip(GUARDIAN_BLOCKS, VARIANTS[variant], strict=True):
        for key, offset in GUARDIAN_AT.items():
            out[start + offset] = header_of(key, suffix)
        out[start + 18] = f"Pays {suffix}"
    assert set(GUARDIAN_AT) == set(GUARDIAN_HEADERS)
    return out


Row = Mapping[str, str]


def row_cells(pupil: Row, guardians: Sequence[Row]) -> list[str]:
    cells = [""] * WIDTH
    for key, value in pupil.items():
        cells[PUPIL_AT[key]] = value
    for start, guardian in zip(GUARDIAN_BLOCKS, guardians, strict=False):
        for key, value in guardian.items():
            cells[start + GUARDIAN_AT[key]] = value
    return cells


def fiches_xlsx(variant: str, rows: Sequence[tuple[Row, Sequence[Row]]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Elèves Complète"
    sheet.append(headers(variant))
    for pupil, guardians in rows:
        sheet.append(row_cells(pupil, guardians))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def fiches_xls(variant: str, rows: Sequence[tuple[Row, Sequence[Row]]]) -> bytes:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Elèves Complète")
    for c, text in enumerate(headers(variant)):
        sheet.write(0, c, text)
    for r, (pupil, guardians) in enumerate(rows, start=1):
        for c, text in enumerate(row_cells(pupil, guardians)):
            if text:
                sheet.write(r, c, text)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


#: two siblings with two parents, one pupil on two rows (class and group)
SAMPLE: Final = [
    ({"id": "070803070AJ", "last_name": "DURAND", "first_name": "Léa", "sex": "F",
      "birth_date": "14/03/2014", "mef_code": "10110001110", "division": "5A"},
     [{"civility": "MME", "last_name": "DURAND", "first_name": "Sophie", "relationship": "MERE",
       "phone_mobile": "06 12 34 56 78", "email": "sophie.durand@example.org",
       "address_line1": "3 rue des Lilas", "postal_code": "69003", "commune": "LYON"},
      {"civility": "M.", "last_name": "DURAND", "first_name": "Marc", "relationship": "PERE",
       "phone_home": "04 78 00 00 00"}]),
    ({"id": "070803070AJ", "last_name": "DURAND", "first_name": "Léa", "sex": "F",
      "birth_date": "14/03/2014", "mef_code": "10110001110", "division": "5A G1"},
     [{"civility": "MME", "last_name": "DURAND", "first_name": "Sophie", "relationship": "MERE"},
      {"civility": "M.", "last_name": "DURAND", "first_name": "Marc", "relationship": "PERE"}]),
    ({"id": "070803071BK", "last_name": "MARTIN", "first_name": "Hugo", "sex": "M",
      "birth_date": "02/09/2013", "mef_code": "10210001110", "division": "4B"},
     [{"civility": "MME", "last_name": "MARTIN", "first_name": "Claire", "relationship": "MERE",
       "email": "claire.martin@example.org"}]),
]
