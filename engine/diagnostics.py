"""The error catalogue: stable codes of problems in campaign files (with severity, location
and hints), in import files and in uploads, and :class:`EngineError`, the root of every error
the engine raises on purpose.

Domain errors carry a code, never an HTTP status: the web layer maps codes to statuses.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum, StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Detail:
    """A catalogue entry: a title for developers and a message template for authors."""

    title: str
    template: str


class Code(Enum):
    """Stable diagnostic codes. A number is never reused; add new codes at the end of an area."""

    # Reading the YAML source
    YAML_001 = Detail("syntax error", "YAML syntax error: {problem}.")
    YAML_002 = Detail(
        "duplicate key", "Key '{key}' appears twice in the same group of keys (first at line {line}). "
        "Keep only one.")
    YAML_003 = Detail("custom tag", "Tag '{tag}' is not allowed: campaign files are plain data. "
                      "Remove it.")
    YAML_004 = Detail(
        "file too large", "The file is {size} bytes; campaign files are limited to {limit} bytes. "
        "Remove unused parts.")
    YAML_005 = Detail(
        "alias", "YAML anchors and aliases (&/*) are not allowed in campaign files; "
        "repeat the content instead.")
    YAML_006 = Detail("encoding", "The file is not valid UTF-8 text: {problem}. Save it as "
                      "UTF-8.")
    YAML_007 = Detail("not a mapping", "A campaign file must start with keys (language: 1, "
                      "id: …), not with a list or a text.")
    YAML_008 = Detail("unreadable", "The file cannot be read: {problem}. Check its path and "
                      "permissions.")
    YAML_009 = Detail("too deep", "The file nests more than {limit} levels deep. Flatten it (no "
                      "campaign needs so many levels).")
    YAML_010 = Detail("comma in a value between braces", "Inside {{…}} a comma ends a value, so "
                      "'{text}' was read as '{first}' and a key '{rest}'. Put the value in "
                      "quotes: {key}: \"{text}\".")
    # JSON Schema shape
    SCHEMA_001 = Detail("unknown key", "Unknown key '{key}' in {where}. Remove it or fix its "
                       "spelling.")
    SCHEMA_002 = Detail("wrong type", "{where} must be {expected}, not {actual}.")
    SCHEMA_003 = Detail("missing key", "Required key '{key}' is missing in {where}. Add it.")
    SCHEMA_004 = Detail("invalid value", "{where}: {problem}.")
    SCHEMA_005 = Detail("unsupported language version", "language: {value} is not supported; "
                        "this engine reads language: 1. Write language: 1.")
    # Fields
    FIELD_001 = Detail("unknown field type", "Field '{field}' has unknown type '{type}'. Use a "
                       "built-in type, or install the plugin that provides it.")
    FIELD_002 = Detail("duplicate id", "Id '{id}' is already used at line {line}; ids must be unique "
                       "in their scope. Rename one of them.")
    FIELD_003 = Detail("invalid option", "Field '{field}': {problem}. Fix this option.")
    FIELD_004 = Detail("never visible", "Field '{field}' can never be visible: {reason}. Fix the "
                       "condition, or remove the field.")
    FIELD_005 = Detail("required but never visible", "Field '{field}' is required but can never be "
                       "visible, so no dossier could be completed: {reason}. Fix the condition.")
    FIELD_006 = Detail("bad prefill path", "Field '{field}': prefill path '{path}' is not known; "
                       "{known}.")
    FIELD_007 = Detail("locked without prefill", "Field '{field}' is not editable by families and "
                       "has no prefill or computed value: it will always be empty. Add a prefill, "
                       "make it editable, or make it a computed field.")
    FIELD_008 = Detail("reserved id", "Id '{id}' is reserved ({reason}); choose another id.")
    FIELD_009 = Detail("required but locked", "Field '{field}' is required but {lock}: a locked "
                       "field is never required, since the family cannot fill it in. {fix}")
    FIELD_010 = Detail("prefill type mismatch", "Field '{field}' is {this}, but '{path}' in last "
                       "year's campaign is {that}: the prefill could not be read. Prefill it "
                       "from a field of the same kind, or change the field's type.")
    FIELD_011 = Detail("previous campaign unknown", "Field '{field}': 'prefill: {path}' cannot be "
                       "checked, since last year's campaign is not known. Add "
                       "previous_campaign: <its file or id> at the top of the file.")
    FIELD_012 = Detail("key without effect", "Field '{field}' is of type {type}, which asks the "
                       "family nothing: '{key}' has no effect on it. Remove '{key}'.")
    FIELD_013 = Detail("staff-only misuse", "'{field}' cannot use staff_only this way: {problem}.")
    FIELD_014 = Detail("misplaced health mark", "Field '{field}': {problem}.")
    FIELD_015 = Detail("health data read outside it", "{where} reads '{name}', which is health "
                       "data: every role would see what it decides. Read it only from health "
                       "data (marked restricted: health), or do not mark '{name}'.")
    FIELD_016 = Detail("per-guardian misuse", "{where} cannot be answered per guardian this "
                       "way: {problem}.")
    # Expressions
    EXPR_001 = Detail("syntax", "Expression syntax error: {problem}.")
    EXPR_002 = Detail("not allowed", "{construct} is not allowed in expressions. Write it with "
                      "the operators and functions of the language.")
    EXPR_003 = Detail("unknown name", "Unknown name '{name}'. Use a field id, or pupil.*, "
                      "family.*, guardians.*, previous.*, fees.*.")
    EXPR_004 = Detail("unknown function", "Unknown function '{name}'. Use a function of the "
                      "language.")
    EXPR_005 = Detail("type mismatch", "Type mismatch: {problem}. Compare values of the same "
                      "kind (codes are texts in quotes: == \"10\").")
    EXPR_006 = Detail("wrong arguments", "Function '{name}' expects {expected}, got {actual}. "
                      "Give it {expected}.")
    EXPR_007 = Detail("undeclared choice", "'{value}' is not a declared choice of '{field}' "
                      "(declared: {declared}). Use one of the declared values.")
    EXPR_008 = Detail("cycle", "Dependency cycle: {cycle}. Break the circle: one of these "
                      "must stop reading the next.")
    EXPR_009 = Detail("not boolean", "A condition must be true/false, but this expression is "
                      "{type}. Compare it: x == \"a\", x > 0, not empty(x).")
    EXPR_010 = Detail("too complex", "Expression is too long or too deeply nested (limit {limit}). "
                      "Simplify it, or split it with a computed field.")
    EXPR_011 = Detail("audience reads answers", "The audience is decided on the imported record, "
                      "before any dossier exists: it cannot read '{name}'. Use pupil.* or "
                      "guardians.*, e.g. pupil.level in [\"6e\", \"5e\"].")
    # Rules: tariffs, associations, documents, tests
    RULE_001 = Detail("unknown reference", "{where} refers to unknown {kind} '{name}'. Use "
                      "the name of an existing {kind}.")
    RULE_002 = Detail("bracket order", "Tariff '{tariff}': bracket bounds must increase "
                      "({previous} then {current}). Sort the brackets by increasing "
                      "up_to.")
    RULE_003 = Detail("invalid amount", "{where}: '{value}' is not an amount in euros: {fix}.")
    RULE_004 = Detail("bad size", "{where}: '{value}' is not a size (use e.g. 5MB, 500KB).")
    RULE_005 = Detail("bad template", "{where}: template file '{path}' does not exist next to the "
                      "campaign file. Put it there and give its path relative to the campaign.")
    RULE_006 = Detail("invalid bracket", "Tariff '{tariff}': {problem}.")
    RULE_007 = Detail("bounded last bracket", "Tariff '{tariff}': the last bracket stops at "
                      "up_to {up_to}, yet values above it get it too. Remove its up_to, or add "
                      "a last bracket without up_to for the values above {up_to}.")
    RULE_008 = Detail("invalid percentage", "{where}: '{value}' is not a percentage between 0 "
                      "and 100: {fix}.")
    RULE_009 = Detail("document per row", "Document '{document}': {problem}.")
    TEST_001 = Detail("unknown field in test", "Test '{test}': unknown field '{field}'. Use "
                      "an id of the campaign.")
    TEST_002 = Detail("bad test value", "Test '{test}': {problem}.")
    # Campaign-level
    CAMPAIGN_001 = Detail("dates", "The campaign closes ({closes}) before it opens ({opens}). "
                          "Put closes on or after opens.")
    CAMPAIGN_002 = Detail("language", "The text of {where} has no version in the default "
                          "language '{lang}', which every reader falls back to. Add it.")
    CAMPAIGN_003 = Detail("plugin", "Field-type plugin '{name}' could not be loaded: {problem}. "
                          "Fix or uninstall it.")
    CAMPAIGN_004 = Detail("previous campaign not found", "previous_campaign: '{name}' is not found "
                          "next to this file (looked for {looked}); previous.* paths are not "
                          "checked. Give the file's path relative to this campaign.")
    CAMPAIGN_005 = Detail("previous campaign invalid", "previous_campaign: '{name}' has errors, so "
                          "previous.* paths are not checked. Run dossiersco validate on it.")
    CAMPAIGN_006 = Detail("missing translation", "The text of {where} has no version in {missing}, "
                          "a language of the campaign: those readers see the '{default}' text. "
                          "Write it by language: {key}: {{{example}}}.")

    @property
    def title(self) -> str:
        return self.value.title

    def format(self, **context: object) -> str:
        return self.value.template.format(**context)


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem is: 1-based line and column in ``file`` and an RFC 6901 pointer."""

    file: str = "<string>"
    line: int = 0
    column: int = 0
    pointer: str = ""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: Code
    message: str
    location: Location = field(default_factory=Location)
    severity: Severity = Severity.ERROR
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def as_dict(self) -> dict[str, object]:
        loc = asdict(self.location)
        return {
            **loc,
            "code": self.code.name,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }

    def as_line(self) -> str:
        loc = self.location
        text = f"{loc.file}:{loc.line}:{loc.column}: {self.code.name} {self.message}"
        if self.severity is Severity.WARNING:
            text = f"{loc.file}:{loc.line}:{loc.column}: {self.code.name} (warning) {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


class CodedError(EngineError):
    """An action refused for a reason the person can fix: a stable ``code`` (``REVIEW_003``,
    for tests and logs) and a French ``message`` shown as is on the page. The one shape of
    the school's side's errors (staff accounts, review, messages)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ImportCode(StrEnum):
    """Stable codes of the problems of an import file (``ImportProblem.code``), documented in
    ``docs/import.md``. The value is what reports and logs show."""

    # reading the file
    FILE_EMPTY = "FILE_EMPTY"
    FILE_ENCODING = "FILE_ENCODING"
    FILE_FORMAT = "FILE_FORMAT"
    FILE_SPREADSHEET = "FILE_SPREADSHEET"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    FILE_UNREADABLE = "FILE_UNREADABLE"
    DUPLICATE_FILE = "DUPLICATE_FILE"
    ZIP_BOMB = "ZIP_BOMB"
    ZIP_INVALID = "ZIP_INVALID"
    ZIP_NO_XML = "ZIP_NO_XML"
    XML_DTD_FORBIDDEN = "XML_DTD_FORBIDDEN"
    XML_ENCODING = "XML_ENCODING"
    XML_MALFORMED = "XML_MALFORMED"
    XML_NOT_XML = "XML_NOT_XML"
    XML_ROOT_UNKNOWN = "XML_ROOT_UNKNOWN"
    CSV_MALFORMED = "CSV_MALFORMED"
    SHEET_NOT_FOUND = "SHEET_NOT_FOUND"
    SHEET_NO_HEADER = "SHEET_NO_HEADER"
    SHEET_UNKNOWN_COLUMN = "SHEET_UNKNOWN_COLUMN"
    MAPPING_INVALID = "MAPPING_INVALID"
    # records
    MISSING_ELEMENT = "MISSING_ELEMENT"
    MISSING_VALUE = "MISSING_VALUE"
    INVALID_DATE = "INVALID_DATE"
    INVALID_FLAG = "INVALID_FLAG"
    INVALID_NUMBER = "INVALID_NUMBER"
    DUPLICATE_ID = "DUPLICATE_ID"
    ROW_CONFLICT = "ROW_CONFLICT"
    FORMULA_TEXT = "FORMULA_TEXT"
    TAG_TYPO = "TAG_TYPO"
    ELENOET_MISMATCH = "ELENOET_MISMATCH"
    UNKNOWN_CODE = "UNKNOWN_CODE"
    OBSOLETE_CODE = "OBSOLETE_CODE"
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"
    # the database import
    UAI_MISMATCH = "UAI_MISMATCH"
    CAMPAIGN_ESTABLISHMENT = "CAMPAIGN_ESTABLISHMENT"
    VALUE_TOO_LONG = "VALUE_TOO_LONG"
    # files, found late: added at the end of the catalogue
    SHEET_NOT_RECOGNISED = "SHEET_NOT_RECOGNISED"
    #: another import of the establishment is running (web imports: one at a time)
    IMPORT_RUNNING = "IMPORT_RUNNING"


class UploadCode(StrEnum):
    """Stable codes of a refused document write (upload inspection and document rules),
    documented in ``docs/campaign-language.md`` (documents)."""

    # the file's content (``engine.storage.inspection``)
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    TYPE = "type"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    ACTIVE_CONTENT = "active_content"
    TOO_MANY_PAGES = "too_many_pages"
    TOO_MANY_PIXELS = "too_many_pixels"
    # the document rules (``engine.dossiers.documents``)
    UNKNOWN = "unknown"
    MISSING = "missing"
    NOT_EDITABLE = "not_editable"
    STALE = "stale"
    TOO_MANY_FILES = "too_many_files"
    DOSSIER_FULL = "dossier_full"
    DATE = "date"
    ACCEPTED = "accepted"
    CLOSED = "closed"


class CampaignError(EngineError):
    """A campaign could not be loaded; ``diagnostics`` lists every problem found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error]
        first = errors[0].as_line() if errors else "no error"
        super().__init__(f"{len(errors)} error(s) in campaign; first: {first}")


def strict_translations(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """``diagnostics`` with missing translations as errors (``validate --strict-translations``):
    a school that publishes in several languages can refuse a half-translated campaign."""
    codes = (Code.CAMPAIGN_002, Code.CAMPAIGN_006)
    return [replace(d, severity=Severity.ERROR) if d.code in codes else d for d in diagnostics]


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean' hint from close matches, or None."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)
    if not matches:
        return None
    return "did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.location.file, d.location.line, d.location.column, d.code.name)


def to_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.as_dict() for d in diagnostics], ensure_ascii=False, indent=2)


def pointer_from(parts: Iterable[str | int]) -> str:
    """RFC 6901 JSON pointer from path parts."""
    out = ""
    for part in parts:
        out = child_pointer(out, part)
    return out


def child_pointer(pointer: str, part: str | int) -> str:
    """The pointer one step below ``pointer`` (cheaper than rebuilding it from a path)."""
    text = str(part)
    if "~" in text or "/" in text:
        text = text.replace("~", "~0").replace("/", "~1")
    return f"{pointer}/{text}"
