"""Single-line text."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.i18n import gettext as _
from engine.text import EMPTY, LocalText, local_text

from .base import FieldType, OptionContext
from .common import LENGTH_SCHEMA, MAX_INPUT_CHARS
from .patterns import Pattern, PatternError, compile_pattern

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec


@dataclass(frozen=True, slots=True)
class TextOptions:
    min_length: int | None = None
    max_length: int | None = None
    pattern: Pattern | None = None
    pattern_message: LocalText = EMPTY
    placeholder: LocalText = EMPTY
    autocomplete: str | None = None


def compile_text_options(raw: Mapping[str, Any], ctx: OptionContext) -> TextOptions:
    pattern = None
    if raw.get("pattern") is not None:
        try:
            pattern = compile_pattern(str(raw["pattern"]))
        except PatternError as exc:
            ctx.add("pattern", str(exc))
    lo, hi = raw.get("min_length"), raw.get("max_length")
    if lo is not None and hi is not None and lo > hi:
        ctx.add("min_length", f"min_length {lo} is greater than max_length {hi}")
    return TextOptions(lo, hi, pattern, local_text(raw.get("pattern_message"), ctx.languages),
                       local_text(raw.get("placeholder"), ctx.languages), raw.get("autocomplete"))


def check_length(value: str, options: TextOptions) -> Iterator[str]:
    if options.min_length is not None and len(value) < options.min_length:
        yield _("Saisissez au moins {n} caractères.").format(n=options.min_length)
    if options.max_length is not None and len(value) > options.max_length:
        yield _("Saisissez au plus {n} caractères.").format(n=options.max_length)


class TextField(FieldType[TextOptions]):
    name = "text"
    description = "One line of text."
    options_schema = {
        **LENGTH_SCHEMA,
        "pattern": {"type": "string", "description": "Regular expression the whole text must "
                    "match (RE2 syntax that JavaScript reads the same way: no backreferences, "
                    "lookarounds or inline flags)."},
        "pattern_message": {"$ref": "#/$defs/text", "description": "Message shown when the "
                            "pattern does not match."},
        "placeholder": {"$ref": "#/$defs/text", "description": "Example shown in the empty "
                        "input."},
        "autocomplete": {"type": "string", "description": "HTML autocomplete token, e.g. "
                         "family-name."},
    }
    example = {"id": "nom_usage", "type": "text", "label": "Nom d'usage", "max_length": 60}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> TextOptions:
        return compile_text_options(raw, ctx)

    def max_chars(self, spec: FieldSpec) -> int:
        return self.options(spec).max_length or MAX_INPUT_CHARS

    def autocomplete(self, spec: FieldSpec) -> str | None:
        """The campaign's ``autocomplete`` option, else the default of its prefill path."""
        return self.options(spec).autocomplete or super().autocomplete(spec)

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        if value is None:
            return None
        return " ".join(str(value).split()) or None

    def validate(self, value: Any, spec: FieldSpec) -> Iterator[str]:
        options = self.options(spec)
        yield from check_length(value, options)
        if options.pattern is not None and not options.pattern.fullmatch(value):
            yield options.pattern_message.get() or _("Le format n'est pas valide.")
