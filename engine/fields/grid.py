"""Grids: one question asked for several rows (a sortie authorisation per day, a droit à
l'image per use), each row answered yes/no or with one of the grid's ``choices``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.expr import ANY, BOOL, STR, Type
from engine.i18n import gettext as _
from engine.text import LocalText, local_text

from .base import Cell, Change, FieldType, FieldValueError, OptionContext
from .boolean import to_bool
from .choice import CHOICE_ITEM, Choice, compile_choices
from .common import format_yes_no

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec

#: what a row id looks like (a field id: it is written in conditions, ``sorties.mercredi``)
ROW_ID = r"^[a-z][a-z0-9_]*$"


@dataclass(frozen=True, slots=True)
class GridRow:
    id: str
    label: LocalText
    #: source of the condition showing the row (None: always shown with the grid)
    visible_if: str | None = None


@dataclass(frozen=True, slots=True)
class GridOptions:
    rows: tuple[GridRow, ...]
    #: the answer of each row; empty: yes/no
    choices: tuple[Choice, ...] = ()
    #: the declared choice values, computed once
    values: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", frozenset(c.value for c in self.choices))

    def label_of(self, value: Any, lang: str | None = None) -> str:
        if isinstance(value, bool):
            return format_yes_no(value, lang)
        return next((c.label.get(lang) for c in self.choices if c.value == value), str(value))


class GridField(FieldType[GridOptions]):
    name = "grid"
    description = ("One question for several `rows` (days, uses of a photo), each answered "
                   "yes/no, or with one of `choices`; a row may have its own `visible_if`. "
                   "Conditions read a row as `id.row`.")
    options_schema = {
        "rows": {"type": "array", "minItems": 1, "maxItems": 30, "items": {
            "type": "object", "required": ["id", "label"], "additionalProperties": False,
            "properties": {"id": {"type": "string", "pattern": ROW_ID},
                           "label": {"$ref": "#/$defs/text"},
                           "visible_if": {"$ref": "#/$defs/expression"}}},
                 "description": "The rows, each asked the field's question."},
        "choices": {"type": "array", "minItems": 2, "items": CHOICE_ITEM,
                    "description": "The answer of each row, one of these; yes/no without."},
    }
    required_options = ("rows",)
    template = "fields/grid.html"
    conditional_parts = True
    example = {"id": "droit_image", "type": "grid", "label": "Droit à l'image",
               "rows": [{"id": "photo_classe", "label": "Photo de classe"},
                        {"id": "site", "label": "Site du collège"}]}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> GridOptions:
        rows: list[GridRow] = []
        for item in raw.get("rows") or ():
            ident = str(item["id"])
            if any(r.id == ident for r in rows):
                ctx.add("rows", f"row '{ident}' is declared twice; give each row its own id")
            condition = item.get("visible_if")
            rows.append(GridRow(ident, local_text(item.get("label"), ctx.languages),
                                None if condition is None else str(condition)))
        return GridOptions(tuple(rows), compile_choices(
            raw.get("choices", ()), ctx, no_places="a grid's answers are not requests; ask "
            "the limited option in a choice field of its own (one answer)"))

    def parts(self, spec: FieldSpec) -> tuple[str, ...]:
        return tuple(r.id for r in self.options(spec).rows)

    def part_conditions(self, spec: FieldSpec) -> Mapping[str, tuple[str, str]]:
        return {r.id: (f"rows/{i}/visible_if", r.visible_if)
                for i, r in enumerate(self.options(spec).rows) if r.visible_if is not None}

    def anchor(self, spec: FieldSpec) -> str:
        # the first row's first radio button: « Oui », or the first choice
        first = self.options(spec).rows[0].id
        return f"-{first}-1" if self.options(spec).choices else f"-{first}-oui"

    def value_type(self, spec: FieldSpec) -> Type:
        return ANY

    def part_type(self, spec: FieldSpec, part: str) -> Type | None:
        if part not in self.parts(spec):
            return None
        return STR if self.options(spec).choices else BOOL

    def parse_input(self, raw: Sequence[str], spec: FieldSpec) -> Any:
        # the web layer posts one input per row, in ``parts`` order
        return self.normalize(dict(zip(self.parts(spec), raw, strict=False)), spec)

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        """``{row: answer}`` for the answered rows, in the rows' order; a row the campaign
        does not declare (any more) is not kept."""
        if value is None or value == "":
            return None
        if not isinstance(value, Mapping):
            raise FieldValueError(_("Répondez ligne par ligne."))
        options = self.options(spec)
        out: dict[str, Any] = {}
        for row in options.rows:
            answer = value.get(row.id)
            if answer is None or (isinstance(answer, str) and not answer.strip()):
                continue
            if options.choices:
                answer = str(answer).strip()
                if answer not in options.values:
                    raise FieldValueError(_("Choisissez une des réponses proposées."))
                out[row.id] = answer
            else:
                out[row.id] = to_bool(answer)
        return out or None

    def without_parts(self, value: Any, spec: FieldSpec, hidden: frozenset[str]) -> Any:
        if not hidden or not isinstance(value, Mapping):
            return value
        return {k: v for k, v in value.items() if k not in hidden} or None

    def answered(self, value: Any, spec: FieldSpec, hidden: frozenset[str]) -> bool:
        given = value if isinstance(value, Mapping) else {}
        return all(r.id in given for r in self.options(spec).rows if r.id not in hidden)

    def required_message(self, spec: FieldSpec) -> str:
        return _("Répondez pour chaque ligne.")

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        if self.is_empty(value):
            return ""
        options = self.options(spec)
        return ", ".join(f"{r.label.get(lang)} : {options.label_of(value[r.id], lang)}"
                         for r in options.rows if r.id in value)

    def diff(self, old: Any, new: Any, spec: FieldSpec, lang: str | None = None) -> Change | None:
        """One change per row whose answer differs."""
        if self.same(old, new, spec):
            return None
        try:
            before, after = self.normalize(old, spec) or {}, self.normalize(new, spec) or {}
        except FieldValueError:  # not a grid's answer (a damaged value): shown as it is
            return super().diff(old, new, spec, lang)
        options = self.options(spec)
        children = tuple(
            Change(r.id, r.label.get(lang),
                   options.label_of(before[r.id], lang) if r.id in before else "",
                   options.label_of(after[r.id], lang) if r.id in after else "",
                   "added" if r.id not in before else "removed" if r.id not in after
                   else "changed")
            for r in options.rows if before.get(r.id) != after.get(r.id))
        # old and new read as the whole answer (as every type's); the rows are the children
        return Change(spec.id, spec.label.get(lang), self.display(before or None, spec, lang),
                      self.display(after or None, spec, lang),
                      "added" if not before else "removed" if not after else "changed", children)

    def export(self, value: Any, spec: FieldSpec) -> dict[str, Cell]:
        given = value if isinstance(value, Mapping) else {}
        return {f".{r.id}": given.get(r.id) for r in self.options(spec).rows}

    def form_value(self, value: Any, spec: FieldSpec) -> Any:
        given = value if isinstance(value, Mapping) else {}
        out: dict[str, str] = {}
        for row in self.options(spec).rows:
            answer = given.get(row.id)
            out[row.id] = "" if answer is None else (
                ("true" if answer else "false") if isinstance(answer, bool) else str(answer))
        return out
