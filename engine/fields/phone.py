"""Telephone numbers, French and international, stored in E.164 (+33612345678)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from engine.i18n import gettext as _

from .base import FieldType, FieldValueError, OptionContext


@dataclass(frozen=True, slots=True)
class PhoneOptions:
    region: str = "FR"
    mobile_only: bool = False


class PhoneField(FieldType):
    name = "phone"
    description = ("A telephone number; national numbers are read in `region` (FR by default), "
                   "others need their +country prefix.")
    options_schema = {
        "region": {"type": "string", "pattern": "^[A-Z]{2}$", "default": "FR",
                   "description": "ISO country whose national numbers are accepted without "
                   "prefix."},
        "mobile_only": {"type": "boolean", "default": False},
    }
    example = {"id": "portable", "type": "phone", "label": "Téléphone portable",
               "mobile_only": True}

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> PhoneOptions:
        return PhoneOptions(raw.get("region", "FR"), bool(raw.get("mobile_only", False)))

    def _parse(self, value: Any, spec: Any) -> phonenumbers.PhoneNumber:
        region = spec.options.region if spec.options else "FR"
        try:
            number = phonenumbers.parse(str(value), region)
        except phonenumbers.NumberParseException:
            raise FieldValueError(_("Saisissez un numéro de téléphone valide, par exemple "
                                    "06 12 34 56 78 ou +32 470 12 34 56.")) from None
        if not phonenumbers.is_valid_number(number):
            raise FieldValueError(_("Ce numéro de téléphone n'existe pas ; vérifiez-le."))
        return number

    def normalize(self, value: Any, spec: Any) -> Any:
        if value is None or not str(value).strip():
            return None
        number = self._parse(value, spec)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def validate(self, value: Any, spec: Any) -> Iterator[str]:
        if spec.options.mobile_only:
            kind = phonenumbers.number_type(self._parse(value, spec))
            if kind not in (phonenumbers.PhoneNumberType.MOBILE,
                            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
                yield _("Saisissez un numéro de téléphone portable.")

    def display(self, value: Any, spec: Any, lang: str | None = None) -> str:
        if self.is_empty(value):
            return ""
        try:
            number = self._parse(value, spec)
        except FieldValueError:
            return str(value)
        region = spec.options.region if spec.options else "FR"
        if phonenumbers.region_code_for_number(number) == region:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def form_value(self, value: Any, spec: Any) -> Any:
        return self.display(value, spec) if value else ""
