"""Translation of user-facing engine messages (French source strings, gettext catalogues)."""

from __future__ import annotations

import gettext as _gettext
from functools import cache
from pathlib import Path

_LOCALE_DIR = Path(__file__).parent / "translations"
DEFAULT_LANGUAGE = "fr"


@cache
def _catalog(lang: str) -> _gettext.NullTranslations:
    return _gettext.translation("dossiersco", _LOCALE_DIR, languages=[lang], fallback=True)


def gettext(message: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Translate a French source message into ``lang`` (French itself needs no catalogue)."""
    if lang == DEFAULT_LANGUAGE:
        return message
    return _catalog(lang).gettext(message)


_ = gettext
