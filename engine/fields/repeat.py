"""A group of fields repeated min..max times (guardians, emergency contacts)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.expr import ANY, Type, list_of
from engine.i18n import gettext as _
from engine.text import EMPTY, LocalText, local_text

from .base import Cell, Change, FieldType, FieldValueError, OptionContext

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec

#: key of the row identity inside each stored row (imported id, or a random id for new rows)
ROW_KEY = "_key"


@dataclass(frozen=True, slots=True)
class RepeatOptions:
    min: int = 0
    max: int = 10
    item_label: LocalText = EMPTY
    add_label: LocalText = EMPTY
    #: key of the imported rows that identifies them (e.g. personne_id) to match them in diffs
    key: str | None = None


class RepeatField(FieldType[RepeatOptions]):
    name = "repeat"
    description = ("A group of `fields` the family fills `min` to `max` times; prefilled rows "
                   "keep their imported identity (`key`) so changes are matched row by row.")
    options_schema = {
        "fields": {"type": "array", "items": {"$ref": "#/$defs/field"}, "minItems": 1},
        "min": {"type": "integer", "minimum": 0, "default": 0},
        "max": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
        "item_label": {"$ref": "#/$defs/text"},
        "add_label": {"$ref": "#/$defs/text"},
        "key": {"type": "string", "description": "Field of the imported rows that identifies "
                "them (e.g. personne_id)."},
    }
    required_options = ("fields",)
    template = "fields/repeat.html"
    is_container = True
    example = {"id": "contacts_urgence", "type": "repeat", "label": "Contacts en cas d'urgence",
               "min": 1, "max": 3, "item_label": "Contact",
               "fields": [{"id": "nom", "type": "text", "label": "Nom", "required": True},
                          {"id": "telephone", "type": "phone", "label": "Téléphone",
                           "required": True}]}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> RepeatOptions:
        lo, hi = int(raw.get("min", 0)), int(raw.get("max", 10))
        if lo > hi:
            ctx.add("min", f"min {lo} is greater than max {hi}")
        return RepeatOptions(lo, hi, local_text(raw.get("item_label"), ctx.languages),
                             local_text(raw.get("add_label"), ctx.languages), raw.get("key"))

    def value_type(self, spec: FieldSpec) -> Type:
        return list_of(ANY)

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            raise FieldValueError(_("Liste attendue."))
        rows = []
        for index, row in enumerate(value):
            if not isinstance(row, Mapping):
                raise FieldValueError(_("Liste attendue."))
            out: dict[str, Any] = {ROW_KEY: str(row.get(ROW_KEY) or self.row_key(row, spec)
                                                or f"row{index + 1}")}
            for child in spec.fields:
                if child.type.has_value:
                    out[child.id] = child.type.normalize(row.get(child.id), child)
            rows.append(out)
        return rows

    def row_key(self, row: Mapping[str, Any], spec: FieldSpec) -> str | None:
        key = self.options(spec).key
        if key and row.get(key) not in (None, ""):
            return str(row[key])
        return None

    def validate(self, value: Any, spec: FieldSpec) -> Iterator[str]:
        if len(value) < self.options(spec).min:
            yield _("Ajoutez au moins {n} élément(s).").format(n=self.options(spec).min)
        if len(value) > self.options(spec).max:
            yield _("Ajoutez au plus {n} élément(s).").format(n=self.options(spec).max)

    def expr_value(self, value: Any, spec: FieldSpec) -> Any:
        return [{c.id: c.type.expr_value(row.get(c.id), c) for c in spec.fields}
                for row in value or []]

    def is_empty(self, value: Any) -> bool:
        return not value

    def same(self, old: Any, new: Any, spec: FieldSpec) -> bool:
        return self.diff(old, new, spec) is None

    def _keyed(self, value: Any, spec: FieldSpec) -> dict[str, Mapping[str, Any]]:
        """Rows by their key, as stored (children not normalised: each child's diff does it)."""
        if value is None:
            return {}
        if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
            raise FieldValueError(_("Liste attendue."))
        return {str(row.get(ROW_KEY) or self.row_key(row, spec) or f"row{index + 1}"): row
                for index, row in enumerate(value)}

    def diff(self, old: Any, new: Any, spec: FieldSpec, lang: str | None = None) -> Change | None:
        """Rows are matched by their key: added, removed and changed rows, field by field."""
        if old == new:
            return None
        try:
            before, after = self._keyed(old, spec), self._keyed(new, spec)
        except FieldValueError:
            # not rows at all (a hostile or damaged value): compared and shown as it is
            return Change(spec.id, spec.label.get(lang), "" if old is None else str(old),
                          "" if new is None else str(new), "changed")
        values = [c for c in spec.fields if c.type.has_value]
        children: list[Change] = []
        label = ""
        for n, key in enumerate([*before, *[k for k in after if k not in before]], start=1):
            a, b = before.get(key), after.get(key)
            if a is not None and b is not None and \
                    all(a.get(c.id) == b.get(c.id) for c in values):
                continue
            label = label or self.options(spec).item_label.get(lang) or spec.label.get(lang)
            row_label = f"{label} {n}"
            if a is None or b is None:
                row = self.normalize([a if b is None else b], spec)[0]
                text = self.row_display(row, spec, lang)
                children.append(Change(key, row_label, "" if a is None else text,
                                       "" if b is None else text,
                                       "added" if a is None else "removed"))
                continue
            changes = tuple(c for child in values
                            if (c := child.type.diff(a.get(child.id), b.get(child.id), child, lang)))
            if changes:
                children.append(Change(key, row_label, "", "", "changed", changes))
        if not children:
            return None
        return Change(spec.id, spec.label.get(lang), "", "", "changed", tuple(children))

    def row_display(self, row: Mapping[str, Any], spec: FieldSpec, lang: str | None = None) -> str:
        parts = [c.type.display(row.get(c.id), c, lang) for c in spec.fields if c.type.has_value]
        return " · ".join(p for p in parts if p)

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        return " ; ".join(self.row_display(r, spec, lang) for r in value or [])

    def export(self, value: Any, spec: FieldSpec) -> dict[str, Cell]:
        cells: dict[str, Cell] = {}
        for n, row in enumerate(value or [], start=1):
            for child in spec.fields:
                if child.type.has_value:
                    for suffix, cell in child.type.export(row.get(child.id), child).items():
                        cells[f".{n}.{child.id}{suffix}"] = cell
        return cells
