"""Mojibake: UTF-8 text read as a one-byte encoding ("Ã©" for "é"), found so that an import is
refused with the fix instead of storing garbled names."""

from __future__ import annotations

import re
from typing import Final

#: the two bytes of an accented letter (0xC2/0xC3 then 0x80–0xBF) read one by one: Â or Ã
#: followed by a non-ASCII character; each candidate is checked by decoding it back
_SUSPECT: Final = re.compile("[\u00c2\u00c3][^\x00-\x7f]")
_ONE_BYTE: Final = ("cp1252", "iso-8859-15")


def find_mojibake(text: str) -> tuple[str, str] | None:
    """The first pair of ``text`` that is an accented letter's UTF-8 read as Windows-1252 or
    ISO-8859-15, with the letter it stands for (``("Ã©", "é")``); None when there is none."""
    for match in _SUSPECT.finditer(text):
        pair = match.group()
        for encoding in _ONE_BYTE:
            try:
                return pair, pair.encode(encoding).decode("utf-8")
            except UnicodeError:
                continue
    return None
