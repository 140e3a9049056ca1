"""Which reader a set of uploaded files goes to: SIECLE's XML exports (raw or zipped), or one
spreadsheet, read with its column mapping or, without one, as SIECLE's "Fiches élèves
complètes" export. One place for the command and the web import."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import error
from .result import ImportResult
from .siecle import read_siecle
from .siecle_sheet import FICHES_ELEVES
from .spreadsheet import Source, read_spreadsheet

_SHEET_SUFFIXES = (".csv", ".xlsx", ".xls", ".ods")


def _head(source: Source) -> tuple[str, bytes]:
    if isinstance(source, tuple):
        return source[0], source[1][:8]
    with Path(source).open("rb") as handle:
        return Path(source).name, handle.read(8)


def is_spreadsheet(source: Source) -> bool:
    """An XLS, XLSX or ODS by its first bytes and zip directory (never unpacked), or a CSV by
    its name."""
    try:
        name, head = _head(source)
    except OSError:  # the reader says why
        return False
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return True
    if head.startswith(b"PK\x03\x04"):
        try:
            data = source[1] if isinstance(source, tuple) else Path(source).read_bytes()
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return bool({"xl/workbook.xml", "content.xml"} & set(archive.namelist()))
        except (zipfile.BadZipFile, OSError):
            return False
    return name.lower().endswith(".csv")


def read_files(sources: Sequence[Source],
               mapping: Mapping[str, Any] | str | Path | None = None) -> ImportResult:
    """Read the files of one import; never raises on bad content (check ``result.ok``).

    With a ``mapping`` (or :data:`FICHES_ELEVES`) the one file is a spreadsheet; without, a
    lone spreadsheet is read as the "Fiches élèves" export, anything else as SIECLE XML.
    """
    sheet = mapping is not None or (len(sources) == 1 and is_spreadsheet(sources[0]))
    if not sheet:
        return read_siecle(*sources)
    if len(sources) != 1:
        return ImportResult(problems=(error(
            "FILE_FORMAT", "Un tableur s'importe seul : déposez un seul fichier avec sa "
            "correspondance des colonnes."),))
    return read_spreadsheet(sources[0], FICHES_ELEVES if mapping is None else mapping)
