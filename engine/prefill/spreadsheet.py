"""Read pupil and guardian lists from school spreadsheets (CSV, XLSX, XLS, ODS) through a
column mapping declared in YAML, into the same records as the SIECLE importer.

Every cell is read as text (formulas are never evaluated, ``=HYPERLINK(…)`` stays a string),
and every problem carries its row number. See docs/import.md for the mapping format.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from engine.diagnostics import did_you_mean
from engine.fields import FieldValueError
from engine.fields.date import iso_date, read_date
from engine.refdata.codes import PARENTE_CODES

from .encoding import find_mojibake
from .errors import ImportProblem, SpreadsheetFileError, error, warning
from .records import (
    Address,
    GuardianLink,
    GuardianRecord,
    ProvenanceGroup,
    ProvenanceMap,
    PupilRecord,
    Structure,
)
from .result import ImportResult, SourceInfo, index_guardians
from .siecle_sheet import FICHES_ELEVES, VARIANTS, mapping_for, recognise
from .values import clean, parse_flag

Source = str | Path | tuple[str, bytes]

#: mapping key → (record field, converter); address parts go to ``address``
PUPIL_COLUMNS: Mapping[str, tuple[str, str]] = {
    "id": ("eleve_id", "s"), "ine": ("id_national", "s"), "elenoet": ("elenoet", "s"),
    "last_name": ("last_name", "s"), "first_name": ("first_name", "s"),
    "first_name_2": ("first_name_2", "s"), "first_name_3": ("first_name_3", "s"),
    "birth_date": ("birth_date", "d"), "sex": ("sex_code", "sex"),
    "birth_commune_insee": ("birth_commune_insee", "s"),
    "birth_department": ("birth_department", "s"), "birth_town": ("birth_town_foreign", "s"),
    "birth_country": ("birth_country_code", "s"), "nationality": ("nationality_code", "s"),
    "mef_code": ("mef_code", "s"), "division": ("division", "s"),
    "regime_code": ("regime_code", "s"), "entry_date": ("entry_date", "d"),
    "accepts_sms": ("accepts_sms", "b"), "repeating": ("doublement", "b"),
    "email": ("email", "s"), "phone_mobile": ("phone_mobile", "s"),
}
GUARDIAN_COLUMNS: Mapping[str, tuple[str, str]] = {
    "id": ("personne_id", "s"), "civility": ("civility", "s"),
    "last_name": ("last_name", "s"), "first_name": ("first_name", "s"),
    "relationship": ("code_parente", "rel"), "legal_responsibility": ("niveau_responsabilite", "s"),
    "phone_home": ("phone_home", "s"), "phone_work": ("phone_work", "s"),
    "phone_mobile": ("phone_mobile", "s"), "email": ("email", "s"),
    "profession_code": ("profession_code", "s"), "pays_frais": ("paie_frais_scolaires", "b"),
    "accepts_sms": ("accepts_sms", "b"), "contact_priority": ("a_contacter_en_priorite", "b"),
    "confidential_contact": ("confidential_contact", "b"),
}
ADDRESS_COLUMNS: Mapping[str, str] = {
    "address_line1": "line1", "address_line2": "line2", "address_line3": "line3",
    "address_line4": "line4", "postal_code": "postal_code", "commune": "commune_label",
    "commune_insee": "commune_insee", "country": "country_code",
}
_LINK_FIELDS = frozenset({"code_parente", "niveau_responsabilite", "paie_frais_scolaires",
                          "a_contacter_en_priorite", "confidential_contact"})
_INE = re.compile(r"^(\d{9}[A-Z]{2}|\d{10}[A-Z])$")
#: a relationship written as its SIECLE label ("MERE", as the "Fiches élèves" export does)
_PARENTE_BY_LABEL = {label: code for code, label in PARENTE_CODES.items()}
_SEX = {"1": "1", "2": "2", "M": "1", "F": "2", "MASCULIN": "1", "FEMININ": "2",
        "FÉMININ": "2", "G": "1"}

#: caps against spreadsheet bombs (docs/import.md, "Limits"): what the zip members of an XLSX
#: or ODS may unpack to, the columns read, and blank rows in a row (a sheet whose last row is
#: numbered 1,048,576 is read as a million blank rows)
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
MAX_COLUMNS = 256
MAX_BLANK_RUN = 10_000


class _Refused(Exception):
    """The file is refused while it is read (too large once unpacked, too many rows)."""

    def __init__(self, code: str, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


_COLUMN = {"oneOf": [
    {"type": "string", "minLength": 1},
    {"type": "object", "required": ["column"], "additionalProperties": False,
     "properties": {"column": {"type": "string", "minLength": 1},
                    "format": {"type": "string", "minLength": 2}}},
]}
MAPPING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["pupil"],
    "additionalProperties": False,
    "properties": {
        "sheet": {"type": "string"},
        "header_row": {"type": "integer", "minimum": 1, "maximum": 100},
        "pupil": {"type": "object", "required": ["id", "last_name"],
                  "additionalProperties": False,
                  "properties": {k: _COLUMN for k in (*PUPIL_COLUMNS, *ADDRESS_COLUMNS)}},
        "guardians": {"type": "array", "maxItems": 4, "items": {
            "type": "object", "required": ["last_name"], "additionalProperties": False,
            "properties": {k: _COLUMN for k in (*GUARDIAN_COLUMNS, *ADDRESS_COLUMNS)}}},
    },
}


@dataclass(frozen=True, slots=True)
class _Column:
    """One column of the mapping found in the sheet: its key, header text, date format and
    position in each row."""

    key: str
    header: str
    fmt: str | None
    index: int


def load_mapping(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A validated column mapping from a YAML file, YAML text or an already-loaded mapping.

    Raises ``SpreadsheetFileError`` with one French message per mistake.
    """
    name = "correspondance"
    data: Any = source
    if isinstance(source, (str, Path)):
        try:
            if isinstance(source, Path) or ("\n" not in source
                                            and source.endswith((".yaml", ".yml"))):
                name = Path(source).name
                source = Path(source).read_text(encoding="utf-8")
            data = yaml.safe_load(source)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise SpreadsheetFileError([error("MAPPING_INVALID", f"La correspondance de "
                                              f"colonnes est illisible : {exc}", file=name)]
                                       ) from None
    validator = jsonschema.Draft202012Validator(MAPPING_SCHEMA)
    problems = [error("MAPPING_INVALID", _schema_message(e), file=name)
                for e in sorted(validator.iter_errors(data), key=lambda e: list(e.path))]
    if problems:
        raise SpreadsheetFileError(problems)
    return dict(data)


def _schema_message(e: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in e.absolute_path) or "racine"
    if e.validator == "additionalProperties":
        schema = e.schema if isinstance(e.schema, Mapping) else {}
        allowed = list(schema.get("properties", {}))
        extra = sorted(set(e.instance if isinstance(e.instance, Mapping) else ()) - set(allowed))
        hints = [h for h in (did_you_mean(x, allowed) for x in extra) if h]
        return (f"{where} : clé(s) inconnue(s) {', '.join(extra)}"
                + (f" ({'; '.join(hints)})" if hints else "")
                + f". Clés possibles : {', '.join(allowed)}.")
    if e.validator == "required":
        return f"{where} : {e.message.replace('is a required property', 'est obligatoire')}."
    if e.validator == "oneOf":
        return (f"{where} : donnez le nom d'une colonne, ou {{column: \"…\", format: "
                f"\"%d/%m/%Y\"}}.")
    return f"{where} : valeur incorrecte ({e.message})."


# -- reading cells --------------------------------------------------------------------------
def _cell(value: Any) -> str:
    """Any cell as text: whole floats without ``.0`` (MEF codes), dates as dd/mm/yyyy."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y") if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then Windows-1252, then ISO-8859-15."""
    for encoding in ("utf-8-sig", "cp1252", "iso-8859-15"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("iso-8859-15", data, 0, 1, "undecodable")  # pragma: no cover


def _rows(cells: Iterable[Iterable[Any]], limit: int) -> list[list[str]]:
    """Rows as text, trailing blank cells and rows dropped. Refused as soon as more than
    ``limit`` rows hold data, or ``MAX_BLANK_RUN`` blank rows follow one another: a bomb stops
    here, not once it is all in memory."""
    rows: list[list[str]] = []
    blank = 0
    for row in cells:
        values = [_cell(v) for v in row]
        while values and not values[-1].strip():
            values.pop()
        blank = blank + 1 if not values else 0
        if blank > MAX_BLANK_RUN:
            raise _Refused("FILE_TOO_LARGE", f"Le fichier contient plus de {MAX_BLANK_RUN} lignes "
                           "vides à la suite : supprimez les lignes vides (ou mises en forme "
                           "seulement) sous le tableau, puis enregistrez-le à nouveau.")
        rows.append(values)
        if len(rows) - blank > limit:
            raise _Refused("FILE_TOO_LARGE", f"Le fichier a plus de {limit} lignes (en-tête "
                           "compris) : découpez-le en plusieurs fichiers.")
    del rows[len(rows) - blank:]
    return rows


def _read_csv(data: bytes, limit: int) -> list[list[str]]:
    text = _decode_csv(data)
    found = find_mojibake(text)
    if found is not None:
        garbled, letter = found
        line = text.count("\n", 0, text.index(garbled)) + 1
        raise _Refused("FILE_ENCODING", f"Des accents sont encodés deux fois (« {garbled} » au "
                       f"lieu de « {letter} ») : ce fichier était en UTF-8, il a été ouvert comme "
                       "du Windows-1252 (ou ISO-8859-15) puis enregistré. Repartez du fichier "
                       "d'origine et choisissez l'encodage UTF-8 en l'ouvrant dans le tableur, "
                       "ou enregistrez-le en XLSX.", line)
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        delimiter = max(";,\t", key=sample.count)
    return _rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True),
                 limit)


def _check_unpacked(archive: zipfile.ZipFile, max_unpacked: int) -> None:
    """Refuse an archive whose members would unpack to more than ``max_unpacked`` bytes.

    The declared sizes are enough: zipfile stops inflating a member at its declared size (and
    then fails its CRC check), so a member that lies cannot unpack to more than it declares.
    """
    infos = archive.infolist()
    total = sum(i.file_size for i in infos)
    if total > max_unpacked:
        raise _Refused("ZIP_BOMB", f"Le tableur se décompresse en {total // 2**20} Mo (plus de "
                       f"{max_unpacked // 2**20} Mo) : il est refusé. Enregistrez en CSV les "
                       "seules colonnes utiles, ou découpez le fichier.")


def _read_xlsx(data: bytes, sheet: str | None, limit: int) -> tuple[list[list[str]], list[str]]:
    import openpyxl  # type: ignore[import-untyped]

    # data_only=False: a formula cell is read as its text ("=HYPERLINK(…)"), never evaluated
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        names = list(book.sheetnames)
        if sheet is not None and sheet not in names:
            return [], names
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        # max_col: without it every row is padded to the sheet's declared width (up to 16,384)
        return _rows(ws.iter_rows(values_only=True, max_col=MAX_COLUMNS), limit), names
    finally:
        book.close()


def _read_xls(data: bytes, sheet: str | None, limit: int) -> tuple[list[list[str]], list[str]]:
    import xlrd

    book = xlrd.open_workbook(file_contents=data)
    names = list(book.sheet_names())
    if sheet is not None and sheet not in names:
        return [], names
    ws = book.sheet_by_name(sheet) if sheet is not None else book.sheet_by_index(0)

    def cells(r: int) -> list[Any]:
        return [xlrd.xldate.xldate_as_datetime(c.value, book.datemode)
                if c.ctype == xlrd.XL_CELL_DATE else c.value for c in ws.row(r)[:MAX_COLUMNS]]

    return _rows((cells(r) for r in range(ws.nrows)), limit), names


def _read_ods(data: bytes, sheet: str | None, limit: int) -> tuple[list[list[str]], list[str]]:
    import tablib

    book = tablib.Databook()
    book.load(data, format="ods", headers=False)
    sheets = {s.title: s for s in book.sheets()}
    names = list(sheets)
    if sheet is not None and sheet not in sheets:
        return [], names
    chosen = sheets[sheet] if sheet is not None else book.sheets()[0]
    return _rows((row[:MAX_COLUMNS] for row in chosen), limit), names


def _table(name: str, data: bytes, sheet: str | None, problems: list[ImportProblem], *,
           limit: int, max_unpacked: int) -> list[list[str]] | None:
    """The rows of the file (at most ``limit`` with data), or None after adding a problem (bad,
    unrecognised or too large file)."""
    head = data[:8]
    rows: list[list[str]]
    names: list[str] = []
    try:
        if head.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = set(archive.namelist())
                if {"xl/workbook.xml", "content.xml"} & members:
                    _check_unpacked(archive, max_unpacked)
            if "xl/workbook.xml" in members:
                rows, names = _read_xlsx(data, sheet, limit)
            elif "content.xml" in members:
                rows, names = _read_ods(data, sheet, limit)
            else:
                problems.append(error("FILE_FORMAT", "Ce fichier est une archive zip, pas un "
                                      "tableur. Un export SIECLE zippé se dépose dans l'import "
                                      "SIECLE.", file=name))
                return None
        elif head.startswith(b"\xd0\xcf\x11\xe0"):
            rows, names = _read_xls(data, sheet, limit)
        elif data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            problems.append(error("FILE_FORMAT", "Ce fichier est du XML (peut-être un export "
                                  "SIECLE renommé) : déposez-le dans l'import SIECLE.",
                                  file=name))
            return None
        elif b"\x00" in data[:4096]:
            problems.append(error("FILE_FORMAT", "Ce fichier n'est ni un CSV ni un tableur "
                                  "(XLSX, XLS, ODS) : enregistrez-le dans l'un de ces formats.",
                                  file=name))
            return None
        else:
            rows = _read_csv(data, limit)
    except _Refused as exc:
        problems.append(error(exc.code, exc.message, exc.line, file=name))
        return None
    except csv.Error as exc:
        problems.append(error("CSV_MALFORMED", f"Le CSV est mal formé ({exc}) : vérifiez les "
                              "guillemets.", file=name))
        return None
    except Exception as exc:  # third-party readers raise anything on a bad file
        problems.append(error("FILE_FORMAT", f"Le tableur est illisible ({type(exc).__name__}"
                              "). Ouvrez-le et enregistrez-le à nouveau en XLSX, ODS ou CSV.",
                              file=name))
        return None
    if sheet is not None and not rows and names and sheet not in names:
        hint = did_you_mean(sheet, names)
        problems.append(error("SHEET_NOT_FOUND", f"La feuille « {sheet} » n'existe pas "
                              f"(feuilles : {', '.join(names)})" + (f" — {hint}" if hint else "")
                              + ".", file=name))
        return None
    return rows


def _is_formula(text: str) -> bool:
    if not text or text[0] not in "=+-@":
        return False
    return text[0] in "=@" or not text[1:2].isdigit() and text[1:2] not in (" ", "(", "")


# -- building records -----------------------------------------------------------------------
class _Builder:
    def __init__(self, name: str, imported_at: datetime, mapping: Mapping[str, Any],
                 header: list[str], header_row: int) -> None:
        self.name = name
        self.imported_at = imported_at
        self.problems: list[ImportProblem] = []
        self.header_row = header_row
        self.pupil_columns, self.guardian_columns = self._columns(header, mapping)
        self.pupils: dict[str, tuple[dict[str, Any], list[ProvenanceGroup], int]] = {}
        self.structures: dict[str, list[Structure]] = {}
        self.guardians: dict[str, tuple[dict[str, Any], list[ProvenanceGroup]]] = {}

    def _columns(self, header: list[str], mapping: Mapping[str, Any]
                 ) -> tuple[list[_Column], list[list[_Column]]]:
        """The mapped columns of the pupil and of each guardian, found once in the header row:
        exact match first, then ignoring case and blanks. A missing one is a problem."""
        exact: dict[str, int] = {}
        loose: dict[str, int] = {}
        for i, h in enumerate(header):
            exact.setdefault(h.strip(), i)
            loose.setdefault(" ".join(h.split()).casefold(), i)

        def find(where: str, specs: Mapping[str, Any]) -> list[_Column]:
            out = []
            for key, spec in specs.items():
                column, fmt = (spec, None) if isinstance(spec, str) else \
                    (str(spec["column"]), spec.get("format"))
                found = exact.get(column.strip())
                if found is None:
                    found = loose.get(" ".join(column.split()).casefold())
                if found is None:
                    hint = did_you_mean(column, [h for h in header if h.strip()])
                    self.problems.append(error(
                        "SHEET_UNKNOWN_COLUMN", f"{where}.{key} : la colonne « {column} » "
                        f"n'existe pas à la ligne d'en-tête {self.header_row}"
                        + (f" ({hint.replace('did you mean', 'vouliez-vous dire')})"
                           if hint else "")
                        + ".", self.header_row, column, self.name))
                    continue
                out.append(_Column(key, column, fmt, found))
            return out

        return find("pupil", mapping["pupil"]), [
            find(f"guardians[{n}]", guardian)
            for n, guardian in enumerate(mapping.get("guardians", []))]

    def _values(self, row: list[str], n: int, columns: list[_Column],
                table: Mapping[str, tuple[str, str]],
                prov: dict[str, str]) -> dict[str, Any] | None:
        """The mapped cells of one row, converted; ``prov`` gets field path → column."""
        values: dict[str, Any] = {}
        address: dict[str, str] = {}
        ok = True
        for spec in columns:
            key = spec.key
            if spec.index >= len(row):
                continue
            text = clean(row[spec.index])
            if text is None:
                continue
            if _is_formula(text):
                self.problems.append(warning(
                    "FORMULA_TEXT", f"La cellule « {spec.header} » commence par « {text[0]} » "
                    "(formule ?) : elle est gardée comme texte, sans être calculée.", n,
                    spec.header, self.name))
            if key in ADDRESS_COLUMNS:
                address[ADDRESS_COLUMNS[key]] = text
                prov[f"address.{ADDRESS_COLUMNS[key]}"] = spec.header
                continue
            name, conv = table[key]
            value: Any = text
            if conv == "d":
                # kept as written once the date normaliser reads it; in a declared format,
                # which only this column knows, as the ISO text it means
                try:
                    day = read_date(text, spec.fmt)
                except FieldValueError as exc:
                    self.problems.append(error("INVALID_DATE", f"{exc} (colonne « "
                                               f"{spec.header} »).", n, spec.header, self.name))
                    ok = False
                    continue
                if spec.fmt is not None and day is not None:
                    value = day.isoformat()
            elif conv == "b":
                value = parse_flag(text)
                if value is None:
                    self.problems.append(warning("INVALID_FLAG", f"« {text} » n'est pas oui/non "
                                                 f"(colonne « {spec.header} ») : ignoré.", n,
                                                 spec.header, self.name))
                    continue
            elif conv == "sex":
                value = _SEX.get(text.upper(), text)
            elif conv == "rel":
                value = _PARENTE_BY_LABEL.get(text.upper(), text)
            values[name] = value
            prov[name] = spec.header
        if address:
            values["address"] = Address(**address)
        return values if ok else None

    def add_row(self, row: list[str], n: int) -> None:
        prov: dict[str, str] = {}
        values = self._values(row, n, self.pupil_columns, PUPIL_COLUMNS, prov)
        if values is None:
            return
        eleve_id = values.get("eleve_id")
        if not eleve_id:
            self.problems.append(error("MISSING_VALUE", "Cette ligne n'a pas d'identifiant "
                                       "d'élève (colonne de « pupil.id ») : complétez-la ou "
                                       "supprimez-la.", n, file=self.name))
            return
        if "id_national" not in values and _INE.match(eleve_id):
            values["id_national"] = eleve_id
            prov["id_national"] = prov["eleve_id"]
        division = values.pop("division", None)
        known = self.pupils.get(eleve_id)
        if known is None:
            self.structures[eleve_id] = [Structure(division, "D")] if division else []
            if division:
                prov["structures[0].code"] = prov["division"]
            self.pupils[eleve_id] = (values, [(f"row[{n}]", n, prov)], n)
        else:
            self._merge(eleve_id, known, values, n, division, prov.get("division"))
        for g, columns in enumerate(self.guardian_columns):
            self._guardian(row, n, eleve_id, g, columns)

    def _merge(self, eleve_id: str,
               known: tuple[dict[str, Any], list[ProvenanceGroup], int],
               values: dict[str, Any], n: int, division: str | None,
               column: str | None) -> None:
        """SIECLE spreadsheets repeat a pupil on one row per group: same identity, new group."""
        first, groups, first_row = known
        for key in ("last_name", "first_name", "birth_date"):
            if key in values and key in first and _canonical(key, values[key]) != \
                    _canonical(key, first[key]):
                self.problems.append(error(
                    "ROW_CONFLICT", f"L'élève {eleve_id} apparaît aussi ligne {first_row} avec "
                    f"un autre {_FR_FIELD[key]} (« {first[key]} » / « {values[key]} ») : "
                    "corrigez l'une des deux lignes.", n, file=self.name))
        structures = self.structures[eleve_id]
        if division and all(s.code != division for s in structures):
            if column is not None:
                paths = {f"structures[{len(structures)}].code": column}
                if not structures:
                    paths["division"] = column
                groups.append((f"row[{n}]", n, paths))
            structures.append(Structure(division, "G" if structures else "D"))

    def _guardian(self, row: list[str], n: int, eleve_id: str, g: int,
                  columns: list[_Column]) -> None:
        prov: dict[str, str] = {}
        values = self._values(row, n, columns, GUARDIAN_COLUMNS, prov)
        if not values or not (values.get("last_name") or values.get("email")):
            return
        link_values = {k: values.pop(k) for k in list(values) if k in _LINK_FIELDS}
        personne_id = values.get("personne_id") or _guardian_id(
            eleve_id, values.get("last_name"), values.get("first_name"), g)
        values["personne_id"] = personne_id
        link = GuardianLink(eleve_id, **link_values)
        links = {f"links[{{}}].{k}": prov.pop(k) for k in _LINK_FIELDS if k in prov}
        known = self.guardians.get(personne_id)
        if known is None:
            values["links"] = (link,)
            self.guardians[personne_id] = (values, [(f"row[{n}]", n, prov)])
            known = self.guardians[personne_id]
        elif any(k.eleve_id == eleve_id for k in known[0]["links"]):
            return
        else:
            known[0]["links"] = (*known[0]["links"], link)
        i = len(known[0]["links"]) - 1
        known[1].append((f"row[{n}]", n, {k.format(i): v for k, v in links.items()}))

    def records(self) -> tuple[list[PupilRecord], list[GuardianRecord]]:
        pupils = []
        for eleve_id, (values, groups, _) in self.pupils.items():
            values["structures"] = tuple(self.structures[eleve_id])
            values["provenance"] = ProvenanceMap(self.name, self.imported_at, groups)
            pupils.append(PupilRecord(**values))
        guardians = [GuardianRecord(**values, provenance=ProvenanceMap(self.name,
                                                                       self.imported_at, groups))
                     for values, groups in self.guardians.values()]
        return pupils, guardians


def _canonical(key: str, value: Any) -> Any:
    """What a repeated row's identity value means: dates are written several ways."""
    return iso_date(value) if key == "birth_date" else value


_FR_FIELD = {"last_name": "nom", "first_name": "prénom", "birth_date": "date de naissance"}


def _guardian_id(eleve_id: str, last_name: str | None, first_name: str | None, rank: int) -> str:
    """Deterministic id for a guardian row without one: re-importing the same sheet gives the
    same ids. Siblings' guardians are not merged (the sheet does not say they are one person)."""
    key = "|".join((eleve_id, (last_name or "").casefold(), (first_name or "").casefold(),
                    str(rank)))
    return "T" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:15]


def read_spreadsheet(source: Source, mapping: Mapping[str, Any] | str | Path | None = None, *,
                     imported_at: datetime | None = None, max_rows: int = 20_000,
                     max_bytes: int = 32 * 1024 * 1024,
                     max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> ImportResult:
    """Read one spreadsheet with a column mapping (see ``load_mapping``); never raises on bad
    content: check ``result.ok``.

    Without a mapping (or with :data:`FICHES_ELEVES`) the sheet must be SIECLE's "Fiches élèves
    complètes" export, recognised from its header row (:mod:`engine.prefill.siecle_sheet`).
    """
    when = imported_at or datetime.now(UTC)
    builtin = mapping is None or mapping == FICHES_ELEVES
    try:
        spec: dict[str, Any] = {} if mapping is None or builtin else load_mapping(mapping)
    except SpreadsheetFileError as exc:
        return ImportResult(problems=exc.problems)
    if isinstance(source, tuple):
        name, data = source
    else:
        name = Path(source).name
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            return ImportResult(problems=(error("FILE_UNREADABLE", f"Le fichier ne peut pas "
                                                f"être lu ({exc}).", file=name),))
    problems: list[ImportProblem] = []
    if len(data) > max_bytes:
        problems.append(error("FILE_TOO_LARGE", f"Le fichier dépasse {max_bytes // 2**20} Mo.",
                              file=name))
        return ImportResult(problems=tuple(problems))
    if not data.strip():
        return ImportResult(problems=(error("FILE_EMPTY", "Le fichier est vide.", file=name),))
    header_row = int(spec.get("header_row", 1))
    rows = _table(name, data, spec.get("sheet"), problems, limit=header_row + max_rows,
                  max_unpacked=max_unpacked_bytes)
    if rows is None:
        return ImportResult(problems=tuple(problems))
    if len(rows) < header_row:
        problems.append(error("SHEET_NO_HEADER", f"Le fichier n'a pas de ligne d'en-tête "
                              f"{header_row}.", file=name))
        return ImportResult(problems=tuple(problems))
    if builtin:
        variant = recognise(rows[0])
        if variant is None:
            problems.append(error(
                "SHEET_NOT_RECOGNISED", "Ce tableur n'est pas l'export SIECLE « Fiches élèves "
                "complètes » (colonnes « Id National », « Nom de famille », « Date Naissance » "
                f"et « Nom {VARIANTS['repr-leg-1-2'][0]} » ou « Nom "
                f"{VARIANTS['repr-leg-autre'][0]} ») : donnez un fichier de correspondance des "
                "colonnes.", 1, file=name))
            return ImportResult(problems=tuple(problems))
        spec = mapping_for(rows[0], variant)
    builder = _Builder(name, when, spec, rows[header_row - 1], header_row)
    if not any(p.is_error for p in builder.problems):
        for n, row in enumerate(rows[header_row:], start=header_row + 1):
            if any(cell.strip() for cell in row):
                builder.add_row(row, n)
    pupils, guardians = builder.records()
    frozen = tuple(guardians)
    return ImportResult((SourceInfo(name, "SPREADSHEET"),), tuple(pupils), frozen, None,
                        tuple(problems + builder.problems), index_guardians(frozen))


def import_spreadsheet(source: Source, mapping: Mapping[str, Any] | str | Path, *,
                       imported_at: datetime | None = None) -> ImportResult:
    """``read_spreadsheet``, raising ``SpreadsheetFileError`` if any problem is an error."""
    result = read_spreadsheet(source, mapping, imported_at=imported_at)
    result.raise_for_errors(SpreadsheetFileError)
    return result

