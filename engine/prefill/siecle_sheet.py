"""The built-in mapping of SIECLE's own spreadsheet export, "Fiches élèves complètes" (XLS or
XLSX, one row per pupil and group, the guardians side by side), so that a school without access
to the BEE XML exports needs no mapping file.

Two variants of the guardians' headers are seen in the wild: "… Repr. Lég. 1" / "… Repr. Lég. 2"
(2018/19 exports) and "… Repr. Lég." / "… Autre Repr. Lég." (2019/20 on). A sheet is recognised
from its header row (:func:`recognise`); the mapping then names only the columns the sheet
has, so an export with fewer columns still reads. The header texts are listed in
docs/import.md (they come from the original application's fixtures; see there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

#: the name of the built-in mapping, for the form and ``dossiersco import --siecle-sheet``
FICHES_ELEVES: Final = "siecle-fiches-eleves"

#: pupil mapping key → header of the export
PUPIL_HEADERS: Final[Mapping[str, str]] = {
    "sex": "Sexe",
    "last_name": "Nom de famille",
    "first_name": "Prénom",
    "first_name_2": "Prénom 2",
    "first_name_3": "Prénom 3",
    "birth_date": "Date Naissance",
    "id": "Id National",
    "birth_town": "Ville Naiss. Etrangère",
    "mef_code": "Code MEF",
    "division": "Code Structure",
}
#: guardian mapping key → header, before the guardian's suffix
GUARDIAN_HEADERS: Final[Mapping[str, str]] = {
    "civility": "Civilité",
    "last_name": "Nom",
    "first_name": "Prénom",
    "phone_home": "Tél. Personnel",
    "relationship": "Lien",
    "phone_mobile": "Tél. Portable",
    "phone_work": "Tél. Professionnel",
    "email": "Courriel",
    "address_line1": "Ligne 1 Adresse",
    "address_line2": "Ligne 2 Adresse",
    "address_line3": "Ligne 3 Adresse",
    "address_line4": "Ligne 4 Adresse",
    "commune": "Commune",
    "postal_code": "Code Postal",
}
#: the guardians' suffixes of each variant, first guardian first
VARIANTS: Final[Mapping[str, tuple[str, str]]] = {
    "repr-leg-1-2": ("Repr. Lég. 1", "Repr. Lég. 2"),
    "repr-leg-autre": ("Repr. Lég.", "Autre Repr. Lég."),
}
#: without these the sheet is not this export (the mapping's required keys among them)
_REQUIRED_PUPIL: Final = ("id", "last_name", "birth_date")


def _fold(header: str) -> str:
    """How headers are compared: case and blanks ignored, as the reader does."""
    return " ".join(header.split()).casefold()


def header_of(key: str, suffix: str) -> str:
    """The header of a guardian's column: ``Nom Repr. Lég. 1``, ``Nom Autre Repr. Lég.``."""
    return f"{GUARDIAN_HEADERS[key]} {suffix}"


def mapping_for(header: Sequence[str], variant: str) -> dict[str, Any]:
    """The mapping of ``variant`` restricted to the columns of ``header`` (a mapping as
    :func:`engine.prefill.load_mapping` takes it)."""
    present = {_fold(h) for h in header if h}
    pupil = {key: text for key, text in PUPIL_HEADERS.items() if _fold(text) in present}
    guardians = []
    for suffix in VARIANTS[variant]:
        columns = {key: header_of(key, suffix) for key in GUARDIAN_HEADERS
                   if _fold(header_of(key, suffix)) in present}
        if "last_name" in columns:
            guardians.append(columns)
    return {"pupil": pupil, "guardians": guardians}


def recognise(header: Sequence[str]) -> str | None:
    """The variant whose headers this header row has (pupil identity and the first guardian's
    name), else None."""
    present = {_fold(h) for h in header if h}
    if not all(_fold(PUPIL_HEADERS[key]) in present for key in _REQUIRED_PUPIL):
        return None
    # "Nom Repr. Lég." is a prefix of "Nom Repr. Lég. 1": test the numbered variant first
    for variant, suffixes in VARIANTS.items():
        if _fold(header_of("last_name", suffixes[0])) in present:
            return variant
    return None
