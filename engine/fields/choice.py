"""Choices: radio buttons, a select list, or several check boxes (``multiple``)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.expr import STR, Type, list_of
from engine.i18n import gettext as _
from engine.text import LocalText, local_text

from .base import Cell, FieldType, FieldValueError, OptionContext

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: LocalText
    #: the places of an option the school grants (choosing it is a request), None: no limit
    places: int | None = None

    def request_note(self) -> str:
        """What the family reads beside an option with places."""
        return _("Demande soumise à l'accord de l'établissement, {n} places").format(
            n=self.places) if self.places is not None else ""


@dataclass(frozen=True, slots=True)
class ChoiceOptions:
    choices: tuple[Choice, ...]
    widget: str = "radio"
    multiple: bool = False
    min_selected: int | None = None
    max_selected: int | None = None
    #: the declared values, computed once (every evaluation checks answers against them)
    values: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", frozenset(c.value for c in self.choices))

    def label_of(self, value: str, lang: str | None = None) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label.get(lang)
        return value


CHOICE_ITEM = {
    "anyOf": [
        {"type": "string"},
        {"type": "object", "required": ["value"], "additionalProperties": False,
         "properties": {"value": {"type": ["string", "integer"]},
                        "label": {"$ref": "#/$defs/text"},
                        "places": {"type": "integer", "minimum": 1, "description": (
                            "Places the school grants (a choice field of one answer): "
                            "choosing this option is a request the school decides.")}}},
    ]
}


def compile_choices(raw: Sequence[Any], ctx: OptionContext, *,
                    no_places: str | None = None) -> tuple[Choice, ...]:
    """The declared choices; ``no_places`` says why an option may not have places here."""
    seen: set[str] = set()
    out: list[Choice] = []
    for i, item in enumerate(raw or ()):
        places = None
        if isinstance(item, dict):
            value = str(item["value"])
            label = local_text(item.get("label", value), ctx.languages)
            places = item.get("places")
        else:
            value, label = str(item), local_text(str(item), ctx.languages)
        if value in seen:
            ctx.add("choices", f"choice '{value}' is declared twice")
        seen.add(value)
        if places is not None and no_places is not None:
            ctx.add(f"choices/{i}/places", f"option '{value}' cannot have places: {no_places}")
            places = None
        out.append(Choice(value, label, places))
    return tuple(out)


class ChoiceField(FieldType[ChoiceOptions]):
    name = "choice"
    description = ("One value among declared `choices` (radio or select), or several with "
                   "`multiple: true` (check boxes).")
    options_schema = {
        "choices": {"type": "array", "minItems": 1, "items": CHOICE_ITEM,
                    "description": "Values with labels; a bare string is both value and label."},
        "widget": {"enum": ["radio", "select", "checkbox"], "default": "radio"},
        "multiple": {"type": "boolean", "default": False},
        "min_selected": {"type": "integer", "minimum": 0},
        "max_selected": {"type": "integer", "minimum": 1},
    }
    required_options = ("choices",)
    template = "fields/choice.html"
    example = {"id": "regime", "type": "choice", "label": "Régime",
               "choices": [{"value": "externe", "label": "Externe"},
                           {"value": "demi_pensionnaire", "label": "Demi-pensionnaire"}]}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> ChoiceOptions:
        multiple = bool(raw.get("multiple", False))
        widget = raw.get("widget", "checkbox" if multiple else "radio")
        if multiple and widget == "radio":
            ctx.add("widget", "a multiple choice cannot use radio buttons; use checkbox")
        if not multiple and widget == "checkbox":
            ctx.add("widget", "check boxes need multiple: true")
        no_places = ("a multiple choice's options are not decided one by one; make the "
                     "limited option a choice of its own (one answer), or remove places"
                     if multiple else None)
        return ChoiceOptions(compile_choices(raw.get("choices", ()), ctx, no_places=no_places),
                             widget, multiple, raw.get("min_selected"), raw.get("max_selected"))

    def anchor(self, spec: FieldSpec) -> str:
        # radio buttons and check boxes are numbered from 1; a select is the field's own input
        return "" if self.options(spec).widget == "select" else "-1"

    def value_type(self, spec: FieldSpec) -> Type:
        return list_of(STR) if self.options(spec).multiple else STR

    def choices(self, spec: FieldSpec) -> frozenset[str] | None:
        options = self.options(spec)
        return options.values

    def limited_places(self, spec: FieldSpec) -> Mapping[str, int]:
        return {c.value: c.places for c in self.options(spec).choices if c.places is not None}

    def parse_input(self, raw: Sequence[str], spec: FieldSpec) -> Any:
        values = [v.strip() for v in raw if v.strip()]
        if self.options(spec).multiple:
            return self.normalize(values, spec)
        return self.normalize(values[0], spec) if values else None

    def imported(self, value: Any, spec: FieldSpec) -> Any:
        """SIECLE's "M." or "MADAME" is the choice ``M`` or ``MME``: a code matches a value
        or a label written without case, accents, spaces or punctuation."""
        options = self.options(spec)
        if not isinstance(value, str) or value in options.values:
            return value
        wanted = _code_key(value)
        for choice in options.choices:
            if wanted in (_code_key(choice.value), _code_key(choice.label.get())):
                return choice.value
        return value

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        options = self.options(spec)
        if value is None or value == "" or value == []:
            return [] if options.multiple else None
        items = value if isinstance(value, list) else [value]
        items = [str(v) for v in items]
        unknown = [v for v in items if v not in options.values]
        if unknown:
            raise FieldValueError(_("Choisissez une des réponses proposées."))
        if options.multiple:
            return [c.value for c in options.choices if c.value in items]
        if len(items) > 1:
            raise FieldValueError(_("Choisissez une seule réponse."))
        return items[0]

    def validate(self, value: Any, spec: FieldSpec) -> Iterator[str]:
        options = self.options(spec)
        if options.multiple:
            if options.min_selected is not None and len(value) < options.min_selected:
                yield _("Cochez au moins {n} réponses.").format(n=options.min_selected)
            if options.max_selected is not None and len(value) > options.max_selected:
                yield _("Cochez au plus {n} réponses.").format(n=options.max_selected)

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        if self.is_empty(value):
            return ""
        items = value if isinstance(value, list) else [value]
        return ", ".join(self.options(spec).label_of(str(v), lang) for v in items)

    def export(self, value: Any, spec: FieldSpec) -> dict[str, Cell]:
        if self.options(spec).multiple:
            chosen = set(value or ())
            return {f".{c.value}": c.value in chosen for c in self.options(spec).choices}
        return {"": value}

    def form_value(self, value: Any, spec: FieldSpec) -> Any:
        if self.options(spec).multiple:
            return list(value or [])
        return "" if value is None else str(value)


def _code_key(text: str) -> str:
    """``text`` upper-cased, without accents and anything but letters and digits."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if c.isalnum()).upper()
