"""Texts written by campaign authors: a French string, or a map by language."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class LocalText:
    """A text in one or more languages; the first language of the campaign is the fallback."""

    texts: tuple[tuple[str, str], ...]

    def get(self, lang: str | None = None) -> str:
        if lang is not None:
            for code, text in self.texts:
                if code == lang:
                    return text
        return self.texts[0][1] if self.texts else ""

    def __str__(self) -> str:
        return self.get()

    def __bool__(self) -> bool:
        return any(text for _, text in self.texts)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.texts)

    def placeholders(self) -> Iterator[str]:
        """Names used as ``{{ name }}`` in any language version."""
        for _, text in self.texts:
            for match in PLACEHOLDER.finditer(text):
                yield match.group(1)

    def render(self, lang: str | None, value_of: Callable[[str], str]) -> str:
        """The text with each ``{{ name }}`` replaced by ``value_of(name)``."""
        return PLACEHOLDER.sub(lambda m: value_of(m.group(1)), self.get(lang))


EMPTY = LocalText(())


def local_text(raw: object, languages: tuple[str, ...]) -> LocalText:
    """Build from the YAML value (already schema-checked: a string or a map of strings)."""
    if raw is None:
        return EMPTY
    if isinstance(raw, dict):
        ordered = [(lang, str(raw[lang])) for lang in languages if lang in raw]
        ordered += [(k, str(v)) for k, v in raw.items() if k not in languages]
        return LocalText(tuple(ordered))
    return LocalText(((languages[0] if languages else "fr", str(raw)),))
