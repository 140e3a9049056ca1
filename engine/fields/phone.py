"""Telephone numbers, French and international, stored in E.164 (+33612345678)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import phonenumbers

from engine.i18n import gettext as _

from .base import FieldType, FieldValueError, OptionContext

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec


@dataclass(frozen=True, slots=True)
class PhoneOptions:
    region: str = "FR"
    mobile_only: bool = False


@dataclass(frozen=True, slots=True)
class Number:
    """What the field needs of a valid number."""

    #: stored form: +33612345678
    e164: str
    #: a mobile number (or one that may be, as some countries do not tell)
    mobile: bool
    #: as people write it: national format in the field's region, international elsewhere
    text: str


#: longer texts (never valid numbers) are read without being kept in the cache
CACHED_LENGTH = 64


def _read(text: str, region: str) -> Number | str:
    """The number ``text`` means in ``region``, or why not ("unreadable", "invalid")."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return "unreadable"
    if not phonenumbers.is_valid_number(number):
        return "invalid"
    kind = phonenumbers.number_type(number)
    style = (phonenumbers.PhoneNumberFormat.NATIONAL
             if phonenumbers.region_code_for_number(number) == region
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return Number(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                  kind in (phonenumbers.PhoneNumberType.MOBILE,
                           phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE),
                  phonenumbers.format_number(number, style))


#: :func:`_read` is a pure function of its arguments; every page view evaluates the whole
#: dossier and parsing a number costs far more than a look-up
_cached_read = lru_cache(maxsize=4096)(_read)


def read_number(value: Any, region: str = "FR") -> Number | str:
    """The number ``value`` (text as written, or a spreadsheet's number cell) means in
    ``region``, or why not ("unreadable", "invalid"): the one phone normaliser."""
    text = str(value)
    return (_cached_read if len(text) <= CACHED_LENGTH else _read)(text, region)


def canonical_phone(value: Any, region: str = "FR") -> str | None:
    """The stored form of an imported phone: E.164 when it is a valid number in ``region``,
    else the text as written, so nothing the school knew is lost (the field then shows it
    with its validation message). None when empty."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    found = read_number(text, region)
    return found.e164 if isinstance(found, Number) else text


class PhoneField(FieldType[PhoneOptions]):
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
    contact_data = True

    def compile_options(self, raw: Mapping[str, Any], ctx: OptionContext) -> PhoneOptions:
        return PhoneOptions(raw.get("region", "FR"), bool(raw.get("mobile_only", False)))

    def _number(self, value: Any, spec: Any) -> Number:
        found = read_number(value, spec.options.region if spec.options else "FR")
        if found == "unreadable":
            raise FieldValueError(_("Saisissez un numéro de téléphone valide, par exemple "
                                    "06 12 34 56 78 ou +32 470 12 34 56."))
        if found == "invalid":
            raise FieldValueError(_("Ce numéro de téléphone n'existe pas ; vérifiez-le."))
        assert isinstance(found, Number)
        return found

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        if value is None or not str(value).strip():
            return None
        return self._number(value, spec).e164

    def validate(self, value: Any, spec: FieldSpec) -> Iterator[str]:
        if self.options(spec).mobile_only and not self._number(value, spec).mobile:
            yield _("Saisissez un numéro de téléphone portable.")

    def display(self, value: Any, spec: FieldSpec, lang: str | None = None) -> str:
        if self.is_empty(value):
            return ""
        try:
            return self._number(value, spec).text
        except FieldValueError:
            return str(value)

    def form_value(self, value: Any, spec: FieldSpec) -> Any:
        return self.display(value, spec) if value else ""
