"""Tables for the school's spreadsheets: CSV, XLSX and ODS written to a binary stream.

CSV is ``;``-separated UTF-8 with a BOM (French Excel splits on ``;`` and reads the accents
right). XLSX is written by openpyxl in write-only mode (rows go to a temporary file, memory
stays flat). In every format a text cell that a spreadsheet would run as a formula is
neutralised with a leading apostrophe: names and answers come from outside.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any, Final
from zoneinfo import ZoneInfo

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
#: times are stored in UTC and shown as the school reads a clock
PARIS: Final = ZoneInfo("Europe/Paris")

#: a cell of an exported table (dates stay dates, amounts numbers)
Value = str | int | float | bool | Decimal | date | datetime | None
#: ``progress(done, total)``: called as rows are written (a job shows it)
Progress = Callable[[int, int], None]


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    ODS = "ods"


MIMETYPES: Final = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.ODS: "application/vnd.oasis.opendocument.spreadsheet",
}


@dataclass(frozen=True, slots=True)
class Table:
    """One sheet: a title, a header and rows produced lazily (``total`` of them, for progress)."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Value]]
    total: int = 0


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def local_time(value: datetime) -> datetime:
    """A stored time (UTC, aware or not) as a naive Paris time: spreadsheets know no zones."""
    aware = value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(PARIS).replace(tzinfo=None)


def _csv_text(value: Value) -> str:
    """A cell as French Excel reads it: decimal comma, dates dd/mm/yyyy, Oui/Non."""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, float | Decimal):
        return str(value).replace(".", ",")
    if isinstance(value, datetime):
        return local_time(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return safe_cell(value)


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self.progress = 0, total, progress

    def rows(self, rows: Iterable[Sequence[Value]]) -> Iterable[Sequence[Value]]:
        for row in rows:
            yield row
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, max(self.total, self.done))


def write_csv(tables: Sequence[Table], stream: IO[bytes], counter: _Counter) -> None:
    """Every table one after the other under the first header (CSV holds one sheet)."""
    text = codecs.getwriter("utf-8")(stream)
    text.write("\ufeff")
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in tables[0].header] if tables else [])
    for table in tables:
        for row in counter.rows(table.rows):
            writer.writerow([_csv_text(v) for v in row])


def _sheet_title(title: str, used: set[str]) -> str:
    """A sheet name spreadsheets accept: 31 characters, no ``[]:*?/\\``, unique."""
    base = "".join("-" if c in "[]:*?/\\" else c for c in title)[:28] or "Feuille"
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        name = f"{base[:26]} {n}"
    used.add(name.casefold())
    return name


class _Converters(dict[type, Callable[[Any], Any] | None]):
    """The XLSX writer's conversion of a cell, found once per type of value (not by a chain
    of type checks per cell): dates get their display format, amounts become numbers, text
    is neutralised; None for a value openpyxl takes as it is."""

    def __init__(self, sheet: Any) -> None:
        super().__init__()
        from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

        def dated(value: date | datetime, number_format: str) -> Any:
            out = WriteOnlyCell(sheet, value)
            out.number_format = number_format
            return out

        self.moment: Callable[[datetime], Any] = \
            lambda v: dated(local_time(v), "DD/MM/YYYY HH:MM")
        self.day: Callable[[date], Any] = lambda v: dated(v, "DD/MM/YYYY")

    def __missing__(self, kind: type) -> Callable[[Any], Any] | None:
        found: Callable[[Any], Any] | None = \
            self.moment if issubclass(kind, datetime) else \
            self.day if issubclass(kind, date) else \
            safe_cell if issubclass(kind, str) else \
            float if issubclass(kind, Decimal) else None
        self[kind] = found
        return found


def write_xlsx(tables: Sequence[Table], stream: IO[bytes], counter: _Counter) -> None:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    used: set[str] = set()
    for table in tables:
        sheet = book.create_sheet(_sheet_title(table.title, used))
        sheet.append([safe_cell(h) for h in table.header])
        convert = _Converters(sheet)
        for row in counter.rows(table.rows):
            # most cells are text, neutralised inline (it cannot start with "=": openpyxl
            # writes it as text), or None and numbers, written as they are
            sheet.append([("'" + v if v[:1] in FORMULA_STARTS else v) if type(v) is str
                          else v if (c := convert[type(v)]) is None else c(v) for v in row])
    if not tables:
        book.create_sheet("Feuille")
    book.save(stream)


def write_ods(tables: Sequence[Table], stream: IO[bytes], counter: _Counter) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table as OdsTable
    from odf.table import TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()

    def cell(value: Value) -> Any:
        if value is None or value == "":
            return TableCell()
        if isinstance(value, bool):
            out = TableCell(valuetype="boolean", booleanvalue="true" if value else "false")
            text = "Oui" if value else "Non"
        elif isinstance(value, int | float | Decimal):
            out = TableCell(valuetype="float", value=str(value))
            text = str(value)
        elif isinstance(value, datetime):
            local = local_time(value)
            out = TableCell(valuetype="date", datevalue=local.isoformat())
            text = local.strftime("%d/%m/%Y %H:%M")
        elif isinstance(value, date):
            out = TableCell(valuetype="date", datevalue=value.isoformat())
            text = value.strftime("%d/%m/%Y")
        else:
            out = TableCell(valuetype="string")
            text = safe_cell(value)
        out.addElement(P(text=text))
        return out

    used: set[str] = set()
    for table in tables or [Table("Feuille", [], [])]:
        sheet = OdsTable(name=_sheet_title(table.title, used))
        for row in [list(table.header), *counter.rows(table.rows)]:
            line = TableRow()
            for value in row:
                line.addElement(cell(value))
            sheet.addElement(line)
        document.spreadsheet.addElement(sheet)
    document.write(stream)


WRITERS: Final = {Format.CSV: write_csv, Format.XLSX: write_xlsx, Format.ODS: write_ods}


@contextmanager
def _young_objects_collected() -> Iterator[None]:
    """Leave the objects alive before a write out of the garbage collector's full passes
    during it (``gc.freeze``), then hand them back.

    A table of thousands of dossiers allocates enough objects that last a chunk to trigger
    full collections, each of which walked every object of the application (the campaigns,
    the ORM's mappings…) for nothing: a fifth of the time of a 2,000-dossier XLSX. The
    write's own objects are still collected as usual, so memory stays flat. The switch is
    process-wide: another thread's objects made before the write are not collected during
    it, and a write ending in another thread may hand them back first (which only costs that
    write the saving). A process that froze its objects already (``dossiersco serve``)
    keeps them so: nothing is frozen or handed back."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def write_tables(tables: Sequence[Table], fmt: Format, stream: IO[bytes],
                 progress: Progress | None = None) -> None:
    """Write ``tables`` (one sheet each; one after the other in CSV) to ``stream``."""
    with _young_objects_collected():
        WRITERS[fmt](tables, stream, _Counter(sum(t.total for t in tables), progress))
