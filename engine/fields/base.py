"""The contract of a field type: one class per type, documented hooks with safe defaults.

A plugin subclasses :class:`FieldType`, sets ``name`` and overrides only the hooks it needs.
Hooks receive the compiled :class:`~engine.campaign.model.FieldSpec`; values move between
three forms:

* *raw input*: the list of strings a browser posted for the field;
* *stored value*: canonical and JSON-safe (what dossiers keep and what prefill is normalised to);
* *expression value*: what conditions see (``Decimal``, ``date``, ``str``, ``bool``, lists).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from engine.expr import STR, Type, is_empty
from engine.i18n import gettext as _

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec


class FieldValueError(ValueError):
    """Raised by ``parse_input``/``normalize`` with a French message for the family."""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between what the school knew and what the family answered."""

    field_id: str
    label: str
    old: str
    new: str
    kind: str = "changed"  # changed | added | removed
    children: tuple[Change, ...] = ()


@dataclass(slots=True)
class OptionContext:
    """What ``compile_options`` may know of the campaign, and where it reports problems."""

    #: languages of the campaign, default first (for texts inside options)
    languages: tuple[str, ...] = ("fr",)
    #: ids of the campaign's associations (for the memberships type)
    association_ids: tuple[str, ...] = ()
    problems: list[tuple[str, str]] = field(default_factory=list)

    def add(self, key: str, message: str) -> None:
        """Report a problem with option ``key`` (an English message for campaign authors)."""
        self.problems.append((key, message))


Cell = str | int | float | bool | None


class FieldType:
    """Base class of every field type, built-in or plugin."""

    #: unique type name used in YAML (``type: date``)
    name: ClassVar[str] = ""
    #: one-line description for the reference documentation and the JSON Schema
    description: ClassVar[str] = ""
    #: JSON Schema of this type's own keys on a field (merged into the campaign schema)
    options_schema: ClassVar[Mapping[str, Any]] = {}
    #: keys of ``options_schema`` a field of this type must have
    required_options: ClassVar[tuple[str, ...]] = ()
    #: Jinja partial under templates/fields/
    template: ClassVar[str] = "fields/input.html"
    #: False for types the family does not answer (info, computed)
    has_value: ClassVar[bool] = True
    #: True for types holding nested ``fields`` (repeat)
    is_container: ClassVar[bool] = False
    #: True for types whose answer is the list of the dossier's stored files (file)
    holds_files: ClassVar[bool] = False
    #: option keys holding expressions; the compiler checks them and puts them in
    #: ``spec.expressions`` (e.g. ``expr`` of computed fields)
    expression_options: ClassVar[tuple[str, ...]] = ()
    #: an example field of this type, for the documentation and the tests
    example: ClassVar[Mapping[str, Any]] = {}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> Any:
        """Turn this type's keys (already schema-checked) into a typed, frozen options object."""
        return None

    def value_type(self, spec: FieldSpec) -> Type:
        """The type conditions see for this field."""
        return STR

    def choices(self, spec: FieldSpec) -> frozenset[str] | None:
        """Declared values, so conditions comparing this field with an unknown value fail."""
        return None

    def parse_input(self, raw: Sequence[str], spec: FieldSpec) -> Any:
        """Form strings to a stored value; raise :class:`FieldValueError` on bad input."""
        text = raw[0].strip() if raw else ""
        return self.normalize(text, spec) if text else None

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        """Any accepted representation (prefill, stored, JSON) to the canonical stored value."""
        if value is None:
            return None
        return str(value).strip() or None

    def validate(self, value: Any, spec: FieldSpec) -> Iterator[str]:
        """French messages for a canonical, non-empty value that breaks the options."""
        return iter(())

    def is_empty(self, value: Any) -> bool:
        return is_empty(value)

    def required_message(self, spec: FieldSpec) -> str:
        return _("Ce champ est obligatoire.")

    def expr_value(self, value: Any, spec: FieldSpec) -> Any:
        """Stored value to the value expressions see."""
        return value

    def same(self, old: Any, new: Any, spec: FieldSpec) -> bool:
        """Whether two values mean the same thing (after normalisation)."""
        try:
            a = self.normalize(old, spec)
        except FieldValueError:
            a = old
        try:
            b = self.normalize(new, spec)
        except FieldValueError:
            b = new
        if self.is_empty(a) and self.is_empty(b):
            return True
        return bool(a == b)

    def diff(self, old: Any, new: Any, spec: FieldSpec, lang: str | None = None) -> Change | None:
        """The change from ``old`` (prefill) to ``new`` (answer), or None when they are the same."""
        if self.same(old, new, spec):
            return None
        kind = "added" if self.is_empty(old) else "removed" if self.is_empty(new) else "changed"
        return Change(spec.id, spec.label.get(lang), self.display(old, spec, lang),
                      self.display(new, spec, lang), kind)

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        """Human text of a stored value (review page, diff, emails, PDFs)."""
        if self.is_empty(value):
            return ""
        return str(value)

    def export(self, value: Any, spec: FieldSpec) -> dict[str, Cell]:
        """Cells for tabular exports: column suffix ('' for the field's own column) to value."""
        return {"": None if self.is_empty(value) else self.display(value, spec)}

    def form_value(self, value: Any, spec: FieldSpec) -> Any:
        """The value as the HTML widget shows it."""
        return "" if value is None else str(value)
