"""Association memberships chosen by the family (FSE, association sportive…)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.expr import STR, Type, list_of
from engine.i18n import gettext as _
from engine.text import LocalText

from .base import Cell, FieldType, FieldValueError, OptionContext

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec


@dataclass(frozen=True, slots=True)
class MembershipOptions:
    association_ids: tuple[str, ...]
    #: label of each id (empty when the campaign gave none)
    labels: tuple[LocalText, ...] = ()


class MembershipsField(FieldType[MembershipOptions]):
    name = "memberships"
    description = ("Check boxes listing the campaign's `associations` available to the pupil, "
                   "with their fee; required memberships are ticked and locked.")
    template = "fields/memberships.html"
    holds_memberships = True
    example = {"id": "adhesions", "type": "memberships", "label": "Adhésions"}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> MembershipOptions:
        if not ctx.association_ids:
            ctx.add("type", "a memberships field needs associations declared in the campaign")
        return MembershipOptions(ctx.association_ids, ctx.association_labels)

    def anchor(self, spec: FieldSpec) -> str:
        ids = self.options(spec).association_ids
        return f"-{ids[0]}" if ids else ""

    def value_type(self, spec: FieldSpec) -> Type:
        return list_of(STR)

    def choices(self, spec: FieldSpec) -> frozenset[str] | None:
        return frozenset(self.options(spec).association_ids)

    def parse_input(self, raw: Sequence[str], spec: FieldSpec) -> Any:
        return self.normalize([v for v in raw if v.strip()], spec)

    def unparsed(self, raw: Sequence[str], spec: FieldSpec) -> Any:
        """The campaign's associations among those posted: an id no page offers is never
        kept, not even as a draft to correct (one posted alone was stored as a string)."""
        ids = self.options(spec).association_ids
        return [a for a in ids if a in set(raw)]

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        items = [] if value is None else value if isinstance(value, list) else [value]
        ids = self.options(spec).association_ids
        chosen = {str(v) for v in items}
        if not chosen <= set(ids):
            raise FieldValueError(_("Choisissez parmi les associations proposées."))
        return [a for a in ids if a in chosen]

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        options = self.options(spec)
        names = dict(zip(options.association_ids, options.labels, strict=False))
        return ", ".join(names[v].get(lang) if v in names and names[v] else str(v) for v in value or ())

    def export(self, value: Any, spec: FieldSpec) -> dict[str, Cell]:
        chosen = set(value or ())
        return {f".{a}": a in chosen for a in self.options(spec).association_ids}

    def form_value(self, value: Any, spec: FieldSpec) -> Any:
        return list(value or [])
