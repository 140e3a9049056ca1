"""Problems found while reading an import file, as data, and the exception that carries them.

Imports are all-or-nothing: a caller refuses the whole file when any problem is an error.
Messages are in French because school staff read them; codes are stable for tests and logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.diagnostics import EngineError, ImportCode, Severity


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One problem: ``line`` is 1-based (row number for spreadsheets), 0 when unknown."""

    code: ImportCode
    severity: Severity
    message: str
    line: int = 0
    element: str = ""
    file: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def as_line(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        level = "erreur" if self.is_error else "avertissement"
        return f"{where}: {self.code} ({level}) {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "severity": self.severity.value, "message": self.message,
                "line": self.line, "element": self.element, "file": self.file}


def error(code: str, message: str, line: int = 0, element: str = "",
          file: str = "") -> ImportProblem:
    """An error; ``code`` is a name of the catalogue (:class:`~engine.diagnostics.ImportCode`)."""
    return ImportProblem(ImportCode(code), Severity.ERROR, message, line, element, file)


def warning(code: str, message: str, line: int = 0, element: str = "",
            file: str = "") -> ImportProblem:
    """A warning; ``code`` is a name of the catalogue (:class:`~engine.diagnostics.ImportCode`)."""
    return ImportProblem(ImportCode(code), Severity.WARNING, message, line, element, file)


class ImportFileError(EngineError):
    """An import file was refused; ``problems`` lists every problem found (errors first)."""

    def __init__(self, problems: Iterable[ImportProblem]) -> None:
        ordered = sorted(problems, key=lambda p: (not p.is_error, p.file, p.line))
        self.problems = tuple(ordered)
        errors = [p for p in self.problems if p.is_error]
        first = errors[0].as_line() if errors else "aucune erreur"
        super().__init__(f"{len(errors)} erreur(s) dans le fichier importé ; "
                         f"première : {first}")


class SiecleFileError(ImportFileError):
    """A SIECLE (BEE XML) export was refused."""


class SpreadsheetFileError(ImportFileError):
    """A CSV/XLSX/XLS/ODS file or its column mapping was refused."""
