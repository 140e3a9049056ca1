"""Postal addresses: lines, postal code and commune (INSEE code), or a foreign address."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.expr import ANY, STR, Type
from engine.i18n import gettext as _
from engine.refdata.communes import commune_code

from .base import Cell, FieldType, FieldValueError, OptionContext

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec

PARTS = ("line1", "line2", "postal_code", "commune_insee", "commune", "country")
_CP = re.compile(r"^\d{5}$")
_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


@dataclass(frozen=True, slots=True)
class AddressOptions:
    allow_foreign: bool = True


class AddressField(FieldType[AddressOptions]):
    name = "address"
    description = ("A postal address: two lines, postal code, commune (with its INSEE code) "
                   "and country (ISO code, FR by default). Conditions see the commune's "
                   "postal code with `id.postal_code` style paths.")
    options_schema = {"allow_foreign": {"type": "boolean", "default": True}}
    template = "fields/address.html"
    input_parts = PARTS
    contact_data = True
    example = {"id": "adresse", "type": "address", "label": "Adresse",
               "prefill": "pupil.address"}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> AddressOptions:
        return AddressOptions(bool(raw.get("allow_foreign", True)))

    def value_type(self, spec: FieldSpec) -> Type:
        return ANY

    def part_type(self, spec: FieldSpec, part: str) -> Type | None:
        return STR if part in PARTS else None

    def parse_input(self, raw: Sequence[str], spec: FieldSpec) -> Any:
        # the web layer posts the parts in input_parts order
        parts = {k: (raw[i].strip() if i < len(raw) else "") for i, k in enumerate(PARTS)}
        return self.normalize(parts, spec)

    @staticmethod
    def _cleaned(value: Any) -> dict[str, str] | None:
        """The parts with spaces collapsed, the country (France by default) and the commune in
        capitals; None for an empty address. Nothing checked, no commune looked up."""
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise FieldValueError(_("Adresse incomplète."))
        out = {k: " ".join(str(value.get(k) or "").split()) for k in PARTS}
        out["country"] = (out["country"] or "FR").upper()
        out["commune"] = out["commune"].upper()
        if not any(out[k] for k in ("line1", "line2", "postal_code", "commune")):
            return None
        return out

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        out = self._cleaned(value)
        if out is None:
            return None
        if out["country"] == "FR":
            if not _CP.match(out["postal_code"]):
                raise FieldValueError(_("Le code postal doit comporter 5 chiffres."))
            if out["commune_insee"]:
                if not _INSEE.match(out["commune_insee"]):
                    raise FieldValueError(_("Le code commune INSEE n'est pas valide."))
                # the code is derived: it follows the postal code and commune (a move)
                out["commune_insee"] = commune_code(out["postal_code"], out["commune"],
                                                    out["commune_insee"])
        elif spec is not None and self.options(spec) and not self.options(spec).allow_foreign:
            raise FieldValueError(_("L'adresse doit être en France."))
        return out

    def validate(self, value: Any, spec: FieldSpec) -> Iterator[str]:
        if not value.get("line1"):
            yield _("Indiquez le numéro et la voie.")
        if not value.get("commune"):
            yield _("Indiquez la commune.")

    def expr_value(self, value: Any, spec: FieldSpec) -> Any:
        return value

    def same(self, old: Any, new: Any, spec: FieldSpec) -> bool:
        if old == new:  # the common case of a diff
            return True

        def key(v: Any) -> Any:
            try:
                n = self._cleaned(v)
            except FieldValueError:
                return v
            if n is None:
                return None
            # the INSEE code is derived data (so not looked up): two addresses differing only
            # by it are the same
            return tuple((k, n[k].upper()) for k in PARTS if k != "commune_insee")
        return bool(key(old) == key(new))

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        if not value:
            return ""
        lines = [value.get("line1"), value.get("line2"),
                 f"{value.get('postal_code', '')} {value.get('commune', '')}".strip()]
        if value.get("country") not in (None, "", "FR"):
            lines.append(value["country"])
        return ", ".join(x for x in lines if x)

    def export(self, value: Any, spec: FieldSpec) -> dict[str, Cell]:
        value = value or {}
        return {f".{k}": value.get(k) or None for k in PARTS}

    def form_value(self, value: Any, spec: FieldSpec) -> Any:
        value = value or {}
        return {k: value.get(k, "") for k in PARTS}
