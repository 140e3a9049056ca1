"""What an importer returns: the records, the files they came from, and every problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .errors import ImportFileError, ImportProblem
from .records import GuardianRecord, Nomenclature, Provenance, PupilRecord


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One file read: its kind (BEE_ELEVES, BEE_RESPONSABLES, BEE_NOMENCLATURES, SPREADSHEET)
    and, for SIECLE, the PARAMETRES block (school UAI, school year, export date)."""

    source_file: str
    kind: str
    version: str | None = None
    uaj: str | None = None
    school_year: str | None = None
    export_date: date | None = None
    timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Records plus problems. ``ok`` is False as soon as one problem is an error: the caller
    must then refuse the whole import (``raise_for_errors``)."""

    sources: tuple[SourceInfo, ...] = ()
    pupils: tuple[PupilRecord, ...] = ()
    guardians: tuple[GuardianRecord, ...] = ()
    nomenclature: Nomenclature | None = None
    problems: tuple[ImportProblem, ...] = ()
    _guardians_by_pupil: Mapping[str, tuple[GuardianRecord, ...]] = field(
        default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def errors(self) -> tuple[ImportProblem, ...]:
        return tuple(p for p in self.problems if p.is_error)

    @property
    def warnings(self) -> tuple[ImportProblem, ...]:
        return tuple(p for p in self.problems if not p.is_error)

    def raise_for_errors(self, exc: type[ImportFileError] = ImportFileError) -> None:
        if not self.ok:
            raise exc(self.problems)

    def guardians_of(self, eleve_id: str) -> tuple[GuardianRecord, ...]:
        """Guardians linked to a pupil, by NIVEAU_RESPONSABILITE then A_CONTACTER_EN_PRIORITE."""
        return self._guardians_by_pupil.get(eleve_id, ())

    def prefill_for(self, pupil: PupilRecord) -> dict[str, Any]:
        """``{"pupil": …, "guardians": […]}``: the snapshot the campaign ``prefill:`` paths read."""
        return {"pupil": pupil.as_prefill(self.nomenclature),
                "guardians": [g.as_prefill(pupil.eleve_id) for g in self.guardians_of(
                    pupil.eleve_id)]}

    def prefill_provenance_for(self, pupil: PupilRecord) -> dict[str, Provenance]:
        """Provenance keyed like the snapshot: ``pupil.birth_date``, ``guardians[0].email``."""
        out = pupil.prefill_provenance()
        for i, guardian in enumerate(self.guardians_of(pupil.eleve_id)):
            for key, prov in guardian.prefill_provenance(pupil.eleve_id).items():
                out[f"guardians[{i}].{key}"] = prov
        return out


def index_guardians(guardians: tuple[GuardianRecord, ...]) -> dict[str, tuple[GuardianRecord, ...]]:
    """eleve_id → guardians, legal guardians (level 1) and priority contacts first."""
    by_pupil: dict[str, list[tuple[tuple[str, int, int], GuardianRecord]]] = {}
    for order, guardian in enumerate(guardians):
        for link in guardian.links:
            key = (link.niveau_responsabilite or "9", 0 if link.a_contacter_en_priorite else 1,
                   order)
            by_pupil.setdefault(link.eleve_id, []).append((key, guardian))
    return {e: tuple(g for _, g in sorted(rows, key=lambda r: r[0]))
            for e, rows in by_pupil.items()}
