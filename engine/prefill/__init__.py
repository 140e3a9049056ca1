"""Import layer: SIECLE exports and school spreadsheets → canonical pupil/guardian records.

Pure readers, no database: the database import is :mod:`engine.dossiers.imports` (pupils,
accounts, dossiers from an ``ImportResult``), its e-mails :mod:`engine.dossiers.invitations`
and its command :mod:`engine.cli.imports`.
"""

from __future__ import annotations

from .errors import ImportFileError, ImportProblem, SiecleFileError, SpreadsheetFileError
from .records import (
    Address,
    GuardianLink,
    GuardianRecord,
    MandatoryOption,
    Matiere,
    Mef,
    Nomenclature,
    Option,
    Programme,
    Provenance,
    PupilRecord,
    Schooling,
    Structure,
    level_from_mef,
)
from .result import ImportResult, SourceInfo
from .siecle import Limits, detect_kind, import_siecle, read_siecle
from .siecle_sheet import FICHES_ELEVES
from .sources import is_spreadsheet, read_files
from .spreadsheet import import_spreadsheet, load_mapping, read_spreadsheet

__all__ = [
    "FICHES_ELEVES", "Address", "GuardianLink", "GuardianRecord", "ImportFileError", "ImportProblem",
    "ImportResult", "Limits", "MandatoryOption", "Matiere", "Mef", "Nomenclature", "Option",
    "Programme", "Provenance", "PupilRecord", "Schooling", "SiecleFileError",
    "SourceInfo", "SpreadsheetFileError", "Structure", "detect_kind", "import_siecle",
    "is_spreadsheet", "read_files",
    "level_from_mef", "load_mapping", "read_siecle", "read_spreadsheet", "import_spreadsheet",
]
