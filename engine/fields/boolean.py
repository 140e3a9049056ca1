"""Yes/no questions and consents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.expr import BOOL, Type
from engine.i18n import gettext as _
from engine.text import EMPTY, LocalText, local_text

from .base import FieldType, FieldValueError, OptionContext
from .common import format_yes_no

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec

_TRUE = {"true", "1", "oui", "yes", "on", "o", "y"}
_FALSE = {"false", "0", "non", "no", "off", "n"}


def to_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if not text:
        return None
    raise FieldValueError(_("Répondez par oui ou par non."))


@dataclass(frozen=True, slots=True)
class BooleanOptions:
    widget: str = "radio"
    statement: LocalText = EMPTY
    #: consent: id of the campaign document whose template the family reads before ticking
    document: str | None = None


class BooleanField(FieldType[BooleanOptions]):
    name = "boolean"
    description = "A yes/no question (radio buttons Oui/Non, or a single check box)."
    options_schema = {"widget": {"enum": ["radio", "checkbox"], "default": "radio"}}
    template = "fields/boolean.html"
    example = {"id": "autorisation_photo", "type": "boolean",
               "label": "Autorisez-vous la prise de photos de votre enfant ?"}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> BooleanOptions:
        return BooleanOptions(raw.get("widget", "radio"),
                              local_text(raw.get("statement"), ctx.languages))

    def anchor(self, spec: FieldSpec) -> str:
        # radio buttons: the « Oui » one; a check box is the field's own input
        return "" if self.options(spec).widget == "checkbox" else "-oui"

    def value_type(self, spec: FieldSpec) -> Type:
        return BOOL

    def parse_input(self, raw: Sequence[str], spec: FieldSpec) -> Any:
        values = [v for v in raw if v.strip()]
        if not values:
            return False if self.options(spec).widget == "checkbox" else None
        return to_bool(values[-1])

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        return to_bool(value)

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        if value is None:
            return ""
        return format_yes_no(value, lang)

    def export(self, value: Any, spec: FieldSpec) -> dict[str, Any]:
        return {"": value}

    def form_value(self, value: Any, spec: FieldSpec) -> Any:
        return "" if value is None else ("true" if value else "false")


class ConsentField(BooleanField):
    name = "consent"
    description = ("A statement the family must tick (attestation, règlement intérieur); "
                   "`required: true` means it must be ticked.")
    options_schema = {"statement": {"$ref": "#/$defs/text",
                                    "description": "The text next to the check box."},
                      "document": {"type": "string",
                                   "description": "Id of a campaign document with a "
                                   "`template`: the statement links to it (the règlement)."}}
    template = "fields/consent.html"
    example = {"id": "attestation", "type": "consent", "label": "Attestation",
               "statement": "J'atteste l'exactitude des informations fournies.",
               "required": True}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> BooleanOptions:
        document = raw.get("document")
        if document is not None and document not in ctx.document_ids:
            ctx.add("document", f"no document '{document}' in the campaign")
        return BooleanOptions("checkbox", local_text(raw.get("statement"), ctx.languages),
                              document)

    def is_empty(self, value: Any) -> bool:
        return value is not True

    def required_message(self, spec: FieldSpec) -> str:
        return _("Cochez la case pour continuer.")
