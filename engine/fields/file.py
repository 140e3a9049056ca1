"""File uploads attached to a field (e.g. a photo); documents have their own campaign section."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.expr import NUMBER, Type
from engine.i18n import gettext as _

from .base import FieldType, OptionContext, UploadLimits

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec

#: file kinds authors may accept; the upload check identifies them from content
FILE_KINDS = ("pdf", "jpeg", "png", "heic")
SIZE_PATTERN = r"^\d+(\.\d+)?\s*(B|KB|MB|Ko|Mo|o)$"
_SIZE = re.compile(SIZE_PATTERN, re.IGNORECASE)
_UNITS = {"b": 1, "o": 1, "kb": 1024, "ko": 1024, "mb": 1024 * 1024, "mo": 1024 * 1024}
DEFAULT_MAX_SIZE = 10 * 1024 * 1024


def parse_size(text: Any) -> int | None:
    """Bytes from '5MB', '500 Ko', '2.5 MB'; None when not a size."""
    match = _SIZE.match(str(text).strip())
    if not match:
        return None
    number = float(str(text).strip()[: match.start(2)].strip())
    return int(number * _UNITS[match.group(2).lower()])


ACCEPT_SCHEMA = {"type": "array", "items": {"enum": list(FILE_KINDS)}, "minItems": 1,
                 "uniqueItems": True}
SIZE_SCHEMA = {"type": "string", "pattern": SIZE_PATTERN, "description": "e.g. 5MB"}


@dataclass(frozen=True, slots=True)
class FileOptions:
    accept: tuple[str, ...] = FILE_KINDS
    max_size: int = DEFAULT_MAX_SIZE
    max_files: int = 1


class FileField(FieldType[FileOptions]):
    name = "file"
    description = ("One or several uploaded files checked by content (`accept`: pdf, jpeg, png, "
                   "heic), each at most `max_size`.")
    options_schema = {"accept": ACCEPT_SCHEMA, "max_size": SIZE_SCHEMA,
                      "max_files": {"type": "integer", "minimum": 1, "maximum": 10}}
    template = "fields/file.html"
    holds_files = True
    example = {"id": "photo", "type": "file", "label": "Photo d'identité",
               "accept": ["jpeg", "png", "heic"], "max_size": "5MB"}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> FileOptions:
        size = parse_size(raw["max_size"]) if "max_size" in raw else DEFAULT_MAX_SIZE
        return FileOptions(tuple(raw.get("accept", FILE_KINDS)), size or DEFAULT_MAX_SIZE,
                           int(raw.get("max_files", 1)))

    def upload_limits(self, spec: FieldSpec) -> UploadLimits:
        options = self.options(spec)
        return UploadLimits(options.accept, options.max_size, options.max_files)

    def value_type(self, spec: FieldSpec) -> Type:
        return NUMBER

    def parse_input(self, raw: Sequence[str], spec: FieldSpec) -> Any:
        return self.normalize(list(raw), spec)

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        """Stored value: the list of stored-file ids attached to the field."""
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        return [str(v) for v in items if str(v).strip()]

    def validate(self, value: Any, spec: FieldSpec) -> Iterator[str]:
        if len(value) > self.options(spec).max_files:
            yield _("Joignez au plus {n} fichiers.").format(n=self.options(spec).max_files)

    def expr_value(self, value: Any, spec: FieldSpec) -> Any:
        from decimal import Decimal
        return Decimal(len(value or []))

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        n = len(value or [])
        return "" if not n else _("{n} fichier(s)").format(n=n)
