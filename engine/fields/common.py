"""Schema fragments and helpers shared by several built-in field types."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.i18n import gettext as _

LENGTH_SCHEMA: dict[str, Any] = {
    "min_length": {"type": "integer", "minimum": 0},
    "max_length": {"type": "integer", "minimum": 1},
}

#: most characters one input may hold when its type sets no lower limit (``max_chars``)
MAX_INPUT_CHARS = 1000

#: characters nobody types on purpose, refused in every text input: C0 and C1 controls (tab
#: and line breaks aside), bidirectional controls (U+202E turns "gpj.exe" into "exe.jpg"),
#: zero-width characters, byte-order marks, lone surrogates and U+FFFD (what undecodable
#: bytes such as ``%ED%A0%80`` become)
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f"
                       "\u202a-\u202e\u2060-\u2069\ufeff\ufffd\ud800-\udfff]")


def invisible_characters(text: str) -> Iterator[str]:
    """The code points (« U+202E ») of the characters of ``text`` that :data:`INVISIBLE`
    refuses, each once."""
    seen: set[str] = set()
    for match in INVISIBLE.finditer(text):
        code = f"U+{ord(match.group()):04X}"
        if code not in seen:
            seen.add(code)
            yield code


NUMBER_LIKE: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}],
}


def to_decimal(value: Any) -> Decimal | None:
    """Decimal from an int, float, Decimal or French/English numeric text, else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    text = str(value).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    text = text.replace(",", ".")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number.adjusted()) > 15:
        return None
    return number


def format_date(value: date) -> str:
    """dd/mm/yyyy with a four-digit year: ``strftime("%Y")`` pads years before 1000 or not
    depending on the platform and the Python version (the browser twin writes the same)."""
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def format_yes_no(value: bool, lang: str | None = None) -> str:
    """« Oui » / « Non »: every yes/no the family reads (fields, computed values, texts)."""
    return _("Oui", lang or "fr") if value else _("Non", lang or "fr")


def format_decimal(value: Decimal) -> str:
    """French display: comma as decimal separator, narrow no-break space for thousands."""
    sign = "-" if value < 0 else ""
    text = f"{abs(value):f}"
    whole, _, frac = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = "\u202f".join(groups)
    return sign + out + ("," + frac if frac else "")


def format_money(value: Decimal) -> str:
    return format_decimal(value.quantize(Decimal("0.01"))) + "\u00a0€"
