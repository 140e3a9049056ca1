"""Loose parsers for the flags and texts SIECLE and school spreadsheets carry.

Dates and phones are kept as written: their normalisers are the field types'
(``engine.fields.date.read_date``, ``engine.fields.phone.canonical_phone``).
"""

from __future__ import annotations

from collections.abc import Mapping

_TRUE = frozenset({"1", "true", "o", "oui", "y", "yes", "vrai", "x"})
_FALSE = frozenset({"0", "false", "n", "non", "no", "faux"})
#: a flag's case-folded text → its value (what ``parse_flag`` reads, as one lookup)
FLAGS: Mapping[str, bool] = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


def parse_flag(text: str) -> bool | None:
    """SIECLE flags come as 0/1 or true/false; spreadsheets as oui/non. None when unknown."""
    return FLAGS.get(text.strip().casefold())


def clean(text: str | None) -> str | None:
    """Collapse surrounding blanks; an empty value is None (SIECLE writes empty elements)."""
    if text is None:
        return None
    text = text.strip()
    return text or None
