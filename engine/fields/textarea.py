"""Multi-line text."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from .base import FieldType, OptionContext
from .common import LENGTH_SCHEMA
from .text import TextOptions, check_length, compile_text_options

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec

#: most characters of a textarea without ``max_length``
MAX_TEXTAREA_CHARS: Final = 10_000


class TextareaField(FieldType[TextOptions]):
    name = "textarea"
    description = "Several lines of free text."
    options_schema = {**LENGTH_SCHEMA, "rows": {"type": "integer", "minimum": 2, "maximum": 30}}
    template = "fields/textarea.html"
    example = {"id": "remarques", "type": "textarea", "label": "Remarques", "max_length": 1000}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> TextOptions:
        return compile_text_options(raw, ctx)

    def max_chars(self, spec: FieldSpec) -> int:
        return self.options(spec).max_length or MAX_TEXTAREA_CHARS

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        if value is None:
            return None
        lines = [line.rstrip() for line in str(value).replace("\r\n", "\n").split("\n")]
        return "\n".join(lines).strip() or None

    def validate(self, value: Any, spec: FieldSpec) -> Iterator[str]:
        yield from check_length(value, self.options(spec))
