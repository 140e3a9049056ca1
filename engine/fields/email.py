"""E-mail addresses, checked for syntax (never for deliverability: no DNS at request time)."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email

from engine.i18n import gettext as _

from .base import FieldType, FieldValueError


class EmailField(FieldType):
    name = "email"
    description = "An e-mail address (syntax checked, domain lower-cased)."
    example = {"id": "courriel", "type": "email", "label": "Adresse électronique",
               }

    def normalize(self, value: Any, spec: Any) -> Any:
        if value is None or not str(value).strip():
            return None
        try:
            result = validate_email(str(value).strip(), check_deliverability=False)
        except EmailNotValidError:
            raise FieldValueError(
                _("Saisissez une adresse électronique valide, par exemple nom@exemple.fr.")
            ) from None
        return str(result.normalized)
