"""E-mail addresses, checked for syntax (never for deliverability: no DNS at request time)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from email_validator import EmailNotValidError, validate_email

from engine.i18n import gettext as _

from .base import FieldType, FieldValueError

if TYPE_CHECKING:
    from engine.campaign.model import FieldSpec

#: longer texts (never valid addresses) are checked without being kept in the cache
CACHED_LENGTH = 320


def _check(text: str) -> str | None:
    """The normalised form of ``text``, None when it is not an address."""
    try:
        return str(validate_email(text, check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


#: :func:`_check` is a pure function of the text; every page view evaluates the whole dossier
#: and syntax checking an address (IDNA included) costs far more than a look-up
_cached_check = lru_cache(maxsize=4096)(_check)


class EmailField(FieldType[None]):
    name = "email"
    description = "An e-mail address (syntax checked, domain lower-cased)."
    contact_data = True
    example = {"id": "courriel", "type": "email", "label": "Adresse électronique",
               }

    def normalize(self, value: Any, spec: FieldSpec) -> Any:
        if value is None or not str(value).strip():
            return None
        text = str(value).strip()
        normalized = (_cached_check if len(text) <= CACHED_LENGTH else _check)(text)
        if normalized is None:
            raise FieldValueError(
                _("Saisissez une adresse électronique valide, par exemple nom@exemple.fr."))
        return normalized
