"""The contract of a field type: one class per type, documented hooks with safe defaults.

A plugin subclasses :class:`FieldType` (generic over its options object: ``FieldType[MyOptions]``),
sets ``name`` and overrides only the hooks it needs. Hooks receive the compiled
:class:`~engine.campaign.model.FieldSpec` and read its options through :meth:`FieldType.options`,
so mypy checks them. Everything the rest of the engine needs to know of a type is a hook or a class
flag here: a new type never adds a ``type.name == ...`` test elsewhere. Values move between
three forms:

* *raw input*: the list of strings a browser posted for the field;
* *stored value*: canonical and JSON-safe (what dossiers keep and what prefill is normalised to);
* *expression value*: what conditions see (``Decimal``, ``date``, ``str``, ``bool``, lists).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from engine.expr import STR, Type, is_empty
from engine.i18n import gettext as _
from engine.text import LocalText

from .common import MAX_INPUT_CHARS

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
    #: their labels, in the same order (what a family reads instead of the ids)
    association_labels: tuple[LocalText, ...] = ()
    #: ids of the campaign's documents (a consent links to one)
    document_ids: tuple[str, ...] = ()
    problems: list[tuple[str, str]] = field(default_factory=list)

    def add(self, key: str, message: str) -> None:
        """Report a problem with option ``key`` (an English message for campaign authors)."""
        self.problems.append((key, message))


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """What the files uploaded into a field must respect."""

    #: file kinds, identified from content (see ``engine.fields.file.FILE_KINDS``)
    accept: tuple[str, ...]
    #: bytes, per file
    max_size: int
    max_files: int


Cell = str | int | float | bool | None

#: HTML autocomplete token of a guardian's own data, by the last part of its prefill path
#: (WCAG 1.3.5: the browser offers what it knows of the person filling the form)
GUARDIAN_AUTOCOMPLETE: dict[str, str] = {
    "last_name": "family-name", "first_name": "given-name", "email": "email",
    "phone_mobile": "mobile tel", "phone_home": "home tel", "phone_work": "work tel",
}

#: the options object of a field type (what its ``compile_options`` returns)
OptionsT = TypeVar("OptionsT")


class FieldType(Generic[OptionsT]):
    """Base class of every field type, built-in or plugin."""

    #: unique type name used in YAML (``type: date``)
    name: ClassVar[str] = ""
    #: one-line description for the reference documentation and the JSON Schema
    description: ClassVar[str] = ""
    #: JSON Schema of this type's own keys on a field (merged into the campaign schema)
    options_schema: ClassVar[Mapping[str, Any]] = {}
    #: keys of ``options_schema`` a field of this type must have
    required_options: ClassVar[tuple[str, ...]] = ()
    #: Jinja partial (under templates/fields/, or in a plugin's ``assets_dir``)
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
    #: names of the inputs of a type entered in several inputs (``f-<id>-<part>`` in forms, in
    #: this order in ``parse_input``'s ``raw``); empty for one input
    input_parts: ClassVar[tuple[str, ...]] = ()
    #: True for types whose parts are each shown or hidden by their own condition (a grid's
    #: rows, see ``part_conditions``): an evaluation lists ``<key>.<part>`` of every part shown
    conditional_parts: ClassVar[bool] = False
    #: True for types holding contact details (masked in a confidential guardian's rows)
    contact_data: ClassVar[bool] = False
    #: True for types whose answer is the list of chosen association ids (``fees.total`` and
    #: the memberships read them)
    holds_memberships: ClassVar[bool] = False
    #: folder of a plugin's own templates (``template`` is looked up there first) and browser
    #: twin script; built-in types use the app's folders
    assets_dir: ClassVar[Path | None] = None
    #: file in ``assets_dir`` registering the type in the browser twin
    #: (``DossierRules.registerType``), loaded by wizard pages after rules.js
    script: ClassVar[str | None] = None

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> OptionsT:
        """Turn this type's keys (already schema-checked) into a typed, frozen options object.

        The default is for types without options, declared ``FieldType[None]``."""
        return cast(OptionsT, None)

    def options(self, spec: FieldSpec) -> OptionsT:
        """The options of ``spec``, as this type's ``compile_options`` built them."""
        return cast(OptionsT, spec.options)

    def part_type(self, spec: FieldSpec, part: str) -> Type | None:
        """The type conditions see for ``<id>.<part>`` (e.g. ``adresse.postal_code``); None
        when the value has no such part."""
        return None

    def parts(self, spec: FieldSpec) -> tuple[str, ...]:
        """Names of the field's inputs when it is entered in several (``input_parts``, or what
        its options declare: a grid's rows), in the order ``parse_input`` reads them."""
        return self.input_parts

    def part_conditions(self, spec: FieldSpec) -> Mapping[str, tuple[str, str]]:
        """The conditions written in the type's options that show a part: part name to (JSON
        pointer under the field, expression source). The compiler checks each and keeps it in
        ``spec.expressions`` under its pointer; a part whose condition is false is hidden."""
        return {}

    def without_parts(self, value: Any, spec: FieldSpec, hidden: frozenset[str]) -> Any:
        """The stored value without what the ``hidden`` parts hold (nothing for most types)."""
        return value

    def answered(self, value: Any, spec: FieldSpec, hidden: frozenset[str]) -> bool:
        """Whether a required field is answered, its ``hidden`` parts aside."""
        return not self.is_empty(value)

    def anchor(self, spec: FieldSpec) -> str:
        """Suffix of the id of the field's first input (``f-<id><suffix>``), where the error
        summary's link puts the focus."""
        parts = self.parts(spec)
        return f"-{parts[0]}" if parts else ""

    def upload_limits(self, spec: FieldSpec) -> UploadLimits | None:
        """What files uploaded into a top-level field of this type must respect; None for
        types that hold no files."""
        return None

    def max_chars(self, spec: FieldSpec) -> int:
        """The most characters one input of the field may hold, spaces folded: a post over
        it is refused and never stored (a draft may be incomplete, never oversized)."""
        return MAX_INPUT_CHARS

    def unparsed(self, raw: Sequence[str], spec: FieldSpec) -> Any:
        """What the page keeps of inputs ``parse_input`` refused, so the family corrects what
        they typed."""
        parts = self.parts(spec)
        if parts:
            return dict(zip(parts, raw, strict=True))
        return raw[0] if len(raw) == 1 else list(raw)

    def value_type(self, spec: FieldSpec) -> Type:
        """The type conditions see for this field."""
        return STR

    def choices(self, spec: FieldSpec) -> frozenset[str] | None:
        """Declared values, so conditions comparing this field with an unknown value fail."""
        return None

    def limited_places(self, spec: FieldSpec) -> Mapping[str, int]:
        """The values whose choice is a request the school decides, with their number of
        places (``places:`` on a choice's option; ``engine.dossiers.places``)."""
        return {}

    def imported(self, value: Any, spec: FieldSpec) -> Any:
        """An imported value (SIECLE, a spreadsheet) spelled as the field stores it, when the
        school's code is written differently from the campaign's; as imported otherwise."""
        return value

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
        if old == new:  # the common case of a diff, without normalising
            return True
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

    def autocomplete(self, spec: FieldSpec) -> str | None:
        """The ``autocomplete`` token of the field's input: the guardian's own data, known
        from where it is prefilled; None for another person's (the pupil's, a contact's), which
        the browser must not fill with the parent's."""
        path = spec.prefill
        if not path or path[0] == "pupil":
            return None
        return GUARDIAN_AUTOCOMPLETE.get(path[-1])

    def form_value(self, value: Any, spec: FieldSpec) -> Any:
        """The value as the HTML widget shows it."""
        return "" if value is None else str(value)
