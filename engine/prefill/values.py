"""Loose parsers for the values SIECLE and school spreadsheets carry (dates, phones, flags)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2})?)?$")
_PHONE_JUNK = re.compile(r"[\s.\-/()\u00a0]")
_TRUE = frozenset({"1", "true", "o", "oui", "y", "yes", "vrai", "x"})
_FALSE = frozenset({"0", "false", "n", "non", "no", "faux"})
#: a flag's case-folded text → its value (what ``parse_flag`` reads, as one lookup)
FLAGS: Mapping[str, bool] = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


def parse_date(text: str, fmt: str | None = None) -> date | None:
    """``dd/mm/yyyy`` as SIECLE writes it (also ISO ``yyyy-mm-dd``); None for an empty value.

    Raises ValueError with a French message for anything else, so callers report the line.
    """
    text = text.strip()
    if not text:
        return None
    if fmt is not None:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            raise ValueError(f"« {text} » n'est pas une date au format {fmt}") from None
    m = _DMY.match(text)
    if m:
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    else:
        m = _ISO.match(text)
        if not m:
            raise ValueError(f"« {text} » n'est pas une date (attendu : jj/mm/aaaa)")
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"« {text} » n'est pas une date qui existe") from None


def normalize_phone(raw: str) -> str:
    """A loose, comparable form of a phone number: French numbers in E.164 (+33…).

    Never fails: what cannot be recognised is returned without separators, so the raw value
    stays available for staff and nothing is lost.
    """
    text = raw.strip()
    compact = text.replace(" ", "")
    # digits (after an optional +) with spaces at most: nothing else for the regex to remove
    if not (compact.isdigit() or compact[:1] == "+" and compact[1:].isdigit()):
        compact = _PHONE_JUNK.sub("", text.replace("(0)", ""))
    if compact.startswith("00") and compact[2:].isdigit():
        compact = "+" + compact[2:]
    if len(compact) == 10 and compact.isdigit() and compact[0] == "0" and compact[1] != "0":
        return "+33" + compact[1:]
    if compact.startswith("+330") and len(compact) == 13 and compact[1:].isdigit():
        return "+33" + compact[4:]
    return compact


def parse_flag(text: str) -> bool | None:
    """SIECLE flags come as 0/1 or true/false; spreadsheets as oui/non. None when unknown."""
    return FLAGS.get(text.strip().casefold())


def clean(text: str | None) -> str | None:
    """Collapse surrounding blanks; an empty value is None (SIECLE writes empty elements)."""
    if text is None:
        return None
    text = text.strip()
    return text or None
