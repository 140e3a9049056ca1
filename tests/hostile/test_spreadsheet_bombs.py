"""Spreadsheet bombs (issue 11, item 16): an XLSX or ODS that unpacks to far more than it weighs,
a sheet declaring a million rows, too many rows. Each is refused with an import error code
while it is read, before it is all in memory."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Iterator

import openpyxl
import pytest
import tablib

from engine.prefill import read_spreadsheet
from engine.prefill.spreadsheet import MAX_UNPACKED_BYTES

MAPPING = {"pupil": {"id": "Id", "last_name": "Nom"}}
SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
              b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def _xlsx(rows: int = 1) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Id", "Nom"])
    for n in range(rows):
        sheet.append([f"E{n:05d}", "DURAND"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _inline_rows(first: int, count: int) -> Iterator[bytes]:
    for r in range(first, first + count):
        yield (f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>E{r:07d}</t></is></c>'
               f'<c r="B{r}" t="inlineStr"><is><t>DURAND</t></is></c></row>').encode()


def _replace_member(data: bytes, member: str, chunks: Callable[[], Iterator[bytes]]) -> bytes:
    """``data`` (a zip) with ``member`` rewritten from ``chunks``, streamed and deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            if info.filename == member:
                with target.open(member, "w", force_zip64=True) as stream:
                    for chunk in chunks():
                        stream.write(chunk)
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


def _bomb_sheet(size: int) -> Callable[[], Iterator[bytes]]:
    """A sheet of ``size`` bytes: one header row, then the same row again and again."""
    row = next(_inline_rows(2, 1))

    def chunks() -> Iterator[bytes]:
        yield SHEET_HEAD + b"<sheetData>" + next(_inline_rows(1, 1))
        block = row * (1024 * 1024 // len(row))
        for _ in range(size // len(block) + 1):
            yield block
        yield b"</sheetData></worksheet>"
    return chunks


def _codes(data: bytes, name: str, **kwargs: int) -> list[str]:
    result = read_spreadsheet((name, data), MAPPING, **kwargs)
    return [p.code for p in result.problems if p.is_error]


def test_an_xlsx_bomb_is_refused_before_parsing() -> None:
    data = _replace_member(_xlsx(), SHEET, _bomb_sheet(MAX_UNPACKED_BYTES + 2**20))
    assert len(data) < 2 * 2**20  # a few hundred kilobytes, unpacking to more than 128 MB
    result = read_spreadsheet(("eleves.xlsx", data), MAPPING)
    assert [p.code for p in result.problems] == ["ZIP_BOMB"]
    assert "Mo" in result.problems[0].message and result.problems[0].file == "eleves.xlsx"


def test_an_ods_bomb_is_refused_before_parsing() -> None:
    book = tablib.Databook()
    book.add_sheet(tablib.Dataset(["E00001", "DURAND"], headers=["Id", "Nom"], title="Elèves"))
    ods = book.export("ods")

    def content() -> Iterator[bytes]:
        with zipfile.ZipFile(io.BytesIO(ods)) as archive:
            original = archive.read("content.xml")
        cut = original.index(b"</office:text>") if b"</office:text>" in original else 0
        yield original[:cut] if cut else original
        yield b"<!--" + b" " * (MAX_UNPACKED_BYTES + 2**20) + b"-->"

    assert _codes(_replace_member(ods, "content.xml", content), "eleves.ods") == ["ZIP_BOMB"]


def _lie_about_size(data: bytes, member: str, declared: int) -> bytes:
    """``data`` with the uncompressed size of ``member`` rewritten in both zip headers."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    assert info.file_size < 2**32 and info.compress_size < 2**32  # no zip64 extra to patch
    struct.pack_into("<I", out, info.header_offset + 22, declared)
    central = out.find(b"PK\x01\x02")
    while out[central + 46:central + 46 + struct.unpack_from("<H", out, central + 28)[0]] \
            != member.encode():
        central = out.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", out, central + 24, declared)
    return bytes(out)


def test_a_member_that_lies_about_its_size_is_refused() -> None:
    def sheet() -> Iterator[bytes]:
        yield SHEET_HEAD + b"<sheetData>"
        yield from _inline_rows(1, 200_000)
        yield b"</sheetData></worksheet>"

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_xlsx())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == SHEET:
                target.writestr(SHEET, b"".join(sheet()))
            else:
                target.writestr(info, source.read(info))
    data = _lie_about_size(out.getvalue(), SHEET, 4096)
    assert _codes(data, "eleves.xlsx") == ["FILE_FORMAT"]  # stopped at 4 KB: bad CRC


def test_a_sheet_declaring_a_million_rows_is_refused() -> None:
    """The dimension says A1:XFD1048576 and the last row is numbered 1,048,576: openpyxl
    would yield a million rows of 16,384 cells."""
    def sheet() -> Iterator[bytes]:
        yield SHEET_HEAD + b'<dimension ref="A1:XFD1048576"/><sheetData>'
        yield from _inline_rows(1, 2)
        yield b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        yield b"</sheetData></worksheet>"

    result = read_spreadsheet(("eleves.xlsx", _replace_member(_xlsx(), SHEET, sheet)), MAPPING)
    assert [p.code for p in result.problems] == ["FILE_TOO_LARGE"]
    assert "lignes vides à la suite" in result.problems[0].message


def test_a_sheet_declaring_16384_columns_reads_only_the_first_ones() -> None:
    """openpyxl pads every row to the declared width: 2,000 rows would be 32 million cells."""
    def sheet() -> Iterator[bytes]:
        yield SHEET_HEAD + b'<dimension ref="A1:XFD2001"/><sheetData>'
        yield b'<row r="1"><c r="A1" t="inlineStr"><is><t>Id</t></is></c><c r="B1" ' \
              b't="inlineStr"><is><t>Nom</t></is></c></row>'
        yield from _inline_rows(2, 2000)
        yield b"</sheetData></worksheet>"

    result = read_spreadsheet(("eleves.xlsx", _replace_member(_xlsx(), SHEET, sheet)), MAPPING)
    assert result.ok, result.problems
    assert len(result.pupils) == 2000


def _csv(rows: int) -> bytes:
    return ("Id;Nom\r\n" + "".join(f"E{n:05d};DURAND\r\n" for n in range(rows))).encode()


def _ods(rows: int) -> bytes:
    data = tablib.Dataset(*[(f"E{n:05d}", "DURAND") for n in range(rows)], headers=["Id", "Nom"])
    book = tablib.Databook()
    book.add_sheet(data)
    return book.export("ods")


@pytest.mark.parametrize("name, make", [("eleves.csv", _csv), ("eleves.xlsx", _xlsx),
                                        ("eleves.ods", _ods)])
def test_rows_are_capped_while_reading(name: str, make: Callable[[int], bytes]) -> None:
    assert _codes(make(5), name, max_rows=5) == []
    assert _codes(make(6), name, max_rows=5) == ["FILE_TOO_LARGE"]


def test_a_csv_of_too_many_rows_is_refused() -> None:
    result = read_spreadsheet(("eleves.csv", _csv(20_001)), MAPPING)
    assert [p.code for p in result.problems if p.is_error] == ["FILE_TOO_LARGE"]
    assert "20001 lignes" in result.problems[0].message
