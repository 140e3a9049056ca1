"""The canonical imported record: what SIECLE (or a school spreadsheet) says about a pupil,
their guardians and the school's nomenclature, each value with where it was read.

Records keep dates and phones as the file writes them; ``as_prefill()`` gives their stored
form through the field types' normalisers (``engine.fields.date``, ``engine.fields.phone``).
Records are frozen: the DB import service snapshots ``as_prefill()`` (the JSON the campaign
``prefill:`` paths address) together with ``prefill_provenance()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from engine.fields.date import iso_date
from engine.fields.phone import canonical_phone
from engine.refdata import commune_by_insee, iso_from_siecle_country

EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one value was read: file, XPath-like element (or spreadsheet row/column), and the
    line of the record element it belongs to (the row, for spreadsheets)."""

    source_file: str
    element: str
    imported_at: datetime
    line: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"source_file": self.source_file, "element": self.element,
                "imported_at": self.imported_at.isoformat(), "line": self.line}


#: one block of values read from the same element: (element prefix, line, path → suffix)
ProvenanceGroup = tuple[str, int, Mapping[str, str]]


class ProvenanceMap(Mapping[str, Provenance]):
    """Field path → Provenance, built on access from a few groups whose path tables are shared
    between records: 20,000 pupils × 40 values cost no per-value object. The first group that
    knows a path wins."""

    __slots__ = ("_groups", "imported_at", "source_file")

    def __init__(self, source_file: str, imported_at: datetime,
                 groups: Sequence[ProvenanceGroup]) -> None:
        self.source_file = source_file
        self.imported_at = imported_at
        self._groups = tuple(groups)

    def __getitem__(self, key: str) -> Provenance:
        for prefix, line, paths in self._groups:
            suffix = paths.get(key)
            if suffix is not None:
                element = f"{prefix}/{suffix}" if suffix else prefix
                return Provenance(self.source_file, element, self.imported_at, line)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for _, _, paths in self._groups for k in paths))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"ProvenanceMap({self.source_file!r}, {len(self)} values)"


def no_provenance() -> ProvenanceMap:
    return ProvenanceMap("", datetime.min, ())


@dataclass(frozen=True, slots=True)
class Address:
    """A SIECLE ADRESSE; ``country_code`` is SIECLE's 3-digit INSEE code (100 = France)."""

    address_id: str | None = None
    line1: str | None = None
    line2: str | None = None
    line3: str | None = None
    line4: str | None = None
    postal_code: str | None = None
    commune_insee: str | None = None
    commune_label: str | None = None
    foreign_commune: str | None = None
    department_code: str | None = None
    country_code: str | None = None
    country_label: str | None = None

    def as_prefill(self) -> dict[str, str]:
        """The shape of the ``address`` field type: two lines, so lines 2-4 are joined."""
        country = iso_from_siecle_country(self.country_code) if self.country_code else "FR"
        commune = self.commune_label or self.foreign_commune
        if not commune and self.commune_insee:
            found = commune_by_insee(self.commune_insee)
            commune = found.name.upper() if found else None
        return {
            "line1": self.line1 or "",
            "line2": ", ".join(x for x in (self.line2, self.line3, self.line4) if x),
            "postal_code": self.postal_code or "",
            "commune_insee": self.commune_insee or "",
            "commune": commune or "",
            "country": country or "",
        }


@dataclass(frozen=True, slots=True)
class Schooling:
    """SCOLARITE_AN_DERNIER: last year's MEF, class and school."""

    mef_code: str | None = None
    structure_code: str | None = None
    uai: str | None = None
    nature_code: str | None = None
    sigle: str | None = None
    name: str | None = None
    name_complement: str | None = None
    address_line1: str | None = None
    po_box: str | None = None
    email: str | None = None
    phone: str | None = None
    commune_insee: str | None = None
    commune_label: str | None = None

    @property
    def school_name(self) -> str | None:
        return " ".join(x for x in (self.name, self.name_complement) if x) or None


@dataclass(frozen=True, slots=True)
class Option:
    """An OPTIONS_ELEVE: a subject the pupil takes, O(bligatoire)/F(acultatif)/S."""

    code_matiere: str
    code_modalite_elect: str | None = None
    num_option: int | None = None


@dataclass(frozen=True, slots=True)
class Structure:
    """A STRUCTURE: type D is a division (class), G a group."""

    code: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class PupilRecord:
    """One ELEVE with its options, structures and address."""

    eleve_id: str
    last_name: str | None = None
    first_name: str | None = None
    first_name_2: str | None = None
    first_name_3: str | None = None
    birth_date: str | None = None
    elenoet: str | None = None
    id_national: str | None = None
    ine_rnie: str | None = None
    ine_bea: str | None = None
    id_eleve_etab: str | None = None
    id_prv_ele: str | None = None
    sex_code: str | None = None
    birth_commune_insee: str | None = None
    birth_department: str | None = None
    birth_town_foreign: str | None = None
    birth_country_code: str | None = None
    nationality_code: str | None = None
    mef_code: str | None = None
    statut: str | None = None
    regime_code: str | None = None
    entry_date: str | None = None
    modified_date: str | None = None
    accepts_sms: bool | None = None
    doublement: bool | None = None
    transport: bool | None = None
    code_provenance: str | None = None
    email: str | None = None
    phone_mobile: str | None = None
    previous: Schooling | None = None
    options: tuple[Option, ...] = ()
    structures: tuple[Structure, ...] = ()
    address_id: str | None = None
    address: Address | None = None
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    provenance: Mapping[str, Provenance] = field(default_factory=no_provenance)

    @property
    def ine(self) -> str | None:
        """The national id: ID_NATIONAL, else INE_RNIE, else INE_BEA."""
        return self.id_national or self.ine_rnie or self.ine_bea

    @property
    def division(self) -> str | None:
        """The class: the first STRUCTURE of type D (groups are type G)."""
        return next((s.code for s in self.structures if s.type == "D"), None)

    def as_prefill(self, nomenclature: Nomenclature | None = None) -> dict[str, Any]:
        """The ``pupil.*`` keys of the campaign language (docs/import.md), JSON-safe."""
        prev = self.previous or Schooling()
        mef = nomenclature.mefs.get(self.mef_code) if nomenclature and self.mef_code else None
        birth_commune = self.birth_town_foreign
        if self.birth_commune_insee:
            found = commune_by_insee(self.birth_commune_insee)
            birth_commune = found.name if found else birth_commune
        return {
            "eleve_id": self.eleve_id,
            "ine": self.ine,
            "elenoet": self.elenoet,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "first_name_2": self.first_name_2,
            "first_name_3": self.first_name_3,
            "birth_date": iso_date(self.birth_date),
            "sex": SEX_CODES.get(self.sex_code or ""),
            "birth_commune_insee": self.birth_commune_insee,
            "birth_commune": birth_commune,
            "birth_department": self.birth_department,
            "birth_country": iso_from_siecle_country(self.birth_country_code),
            "nationality": iso_from_siecle_country(self.nationality_code),
            "mef_code": self.mef_code,
            "mef_label": mef.label_long if mef else None,
            "level": level_from_mef(self.mef_code, nomenclature),
            "division": self.division,
            "previous_mef_code": prev.mef_code,
            "previous_division": prev.structure_code,
            "previous_school_uai": prev.uai,
            "previous_school_name": prev.school_name,
            "regime_code": self.regime_code,
            "options": [o.code_matiere for o in self.options],
            "accepts_sms": self.accepts_sms,
            "address": self.address.as_prefill() if self.address else None,
            "entry_date": iso_date(self.entry_date),
            "repeating": self.doublement,
            "phone_mobile": canonical_phone(self.phone_mobile),
            "email": self.email,
        }

    def prefill_provenance(self) -> dict[str, Provenance]:
        """``pupil.<key>`` → where its value was read (derived keys point at their source)."""
        return _provenance_of(self.provenance, "pupil", PUPIL_PREFILL_SOURCES)


@dataclass(frozen=True, slots=True)
class GuardianLink:
    """A RESPONSABLE_ELEVE: how one guardian relates to one pupil."""

    eleve_id: str
    code_parente: str | None = None
    niveau_responsabilite: str | None = None
    paie_frais_scolaires: bool | None = None
    percoit_aides: bool | None = None
    heberge_eleve: bool | None = None
    a_contacter_en_priorite: bool | None = None
    #: the school keeps this guardian's contact from the pupil's other guardians (a column
    #: of the school's own spreadsheet: SIECLE does not carry it); None: not said
    confidential_contact: bool | None = None


@dataclass(frozen=True, slots=True)
class GuardianRecord:
    """One PERSONNE; siblings share it through several ``links``."""

    personne_id: str
    civility: str | None = None
    civility_label: str | None = None
    last_name: str | None = None
    first_name: str | None = None
    phone_home: str | None = None
    phone_work: str | None = None
    phone_mobile: str | None = None
    email: str | None = None
    accepts_sms: bool | None = None
    communication_adresse: bool | None = None
    profession_code: str | None = None
    address_id: str | None = None
    address: Address | None = None
    links: tuple[GuardianLink, ...] = ()
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    provenance: Mapping[str, Provenance] = field(default_factory=no_provenance)

    def link_for(self, eleve_id: str) -> GuardianLink | None:
        return next((k for k in self.links if k.eleve_id == eleve_id), None)

    def as_prefill(self, eleve_id: str | None = None) -> dict[str, Any]:
        """One row of ``guardians`` for the pupil ``eleve_id`` (link values are per pupil)."""
        link = self.link_for(eleve_id) if eleve_id is not None else None
        link = link or GuardianLink(eleve_id or "")
        return {
            "personne_id": self.personne_id,
            "civility": self.civility,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "relationship": link.code_parente,
            "legal_responsibility": link.niveau_responsabilite,
            "phone_home": canonical_phone(self.phone_home),
            "phone_work": canonical_phone(self.phone_work),
            "phone_mobile": canonical_phone(self.phone_mobile),
            "email": self.email,
            "profession_code": self.profession_code,
            "pays_frais": link.paie_frais_scolaires,
            "accepts_sms": self.accepts_sms,
            "address": self.address.as_prefill() if self.address else None,
            "contact_priority": link.a_contacter_en_priorite,
            "lives_with_pupil": link.heberge_eleve,
            "receives_aid": link.percoit_aides,
            "shares_address": self.communication_adresse,
        }

    def prefill_provenance(self, eleve_id: str | None = None) -> dict[str, Provenance]:
        """Row key → provenance; link keys come from this pupil's RESPONSABLE_ELEVE."""
        index = next((i for i, k in enumerate(self.links) if k.eleve_id == eleve_id), None)
        sources = {k: v.replace("links[]", f"links[{index}]") for k, v in
                   GUARDIAN_PREFILL_SOURCES.items() if index is not None or "links[]" not in v}
        return _provenance_of(self.provenance, "", sources)


@dataclass(frozen=True, slots=True)
class Mef:
    """A MEF of the school's nomenclature (11-character code, tied to a school year)."""

    code: str
    label_long: str | None = None
    label_edition: str | None = None
    formation: str | None = None
    statut: str | None = None
    mef_rattachement: str | None = None
    code_mefstat: str | None = None
    nb_opt_oblig: int | None = None
    nb_opt_mini: int | None = None
    date_ouverture: str | None = None
    date_fermeture: str | None = None
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True, slots=True)
class Matiere:
    """A subject: 6-digit CODE_MATIERE and the short mnemonic CODE_GESTION (e.g. LCALA)."""

    code_matiere: str
    code_gestion: str | None = None
    label_short: str | None = None
    label_long: str | None = None
    label_edition: str | None = None
    matiere_etp: str | None = None


@dataclass(frozen=True, slots=True)
class Programme:
    """A subject offered in a MEF with its modalité (O beats S when both are listed)."""

    mef_code: str
    code_matiere: str
    code_modalite_elect: str | None = None
    horaire: str | None = None


@dataclass(frozen=True, slots=True)
class MandatoryOption:
    """An OPTION_OBLIGATOIRE: the rank of a compulsory option in a MEF."""

    mef_code: str
    code_matiere: str
    rang: int | None = None


@dataclass(frozen=True, slots=True)
class Nomenclature:
    """BEE_NOMENCLATURES: MEFs, subjects, programmes and compulsory options."""

    mefs: Mapping[str, Mef] = field(default_factory=dict)
    matieres: Mapping[str, Matiere] = field(default_factory=dict)
    programmes: tuple[Programme, ...] = ()
    mandatory_options: tuple[MandatoryOption, ...] = ()
    provenance: Mapping[str, Provenance] = field(default_factory=no_provenance)

    def as_prefill(self) -> dict[str, Any]:
        """JSON-safe copy, for storing next to the campaign version."""
        return {
            "mefs": {c: {"code": m.code, "label_long": m.label_long,
                         "label_edition": m.label_edition, "formation": m.formation,
                         "statut": m.statut, "level": level_from_mef(c, self)}
                     for c, m in self.mefs.items()},
            "matieres": {c: {"code_matiere": m.code_matiere, "code_gestion": m.code_gestion,
                             "label_short": m.label_short, "label_long": m.label_long}
                         for c, m in self.matieres.items()},
            "programmes": [{"mef_code": p.mef_code, "code_matiere": p.code_matiere,
                            "code_modalite_elect": p.code_modalite_elect}
                           for p in self.programmes],
            "mandatory_options": [{"mef_code": o.mef_code, "code_matiere": o.code_matiere,
                                   "rang": o.rang} for o in self.mandatory_options],
        }


#: SIECLE CODE_SEXE → the ``sex`` key of the campaign language
SEX_CODES: Mapping[str, str] = MappingProxyType({"1": "M", "2": "F", "M": "M", "F": "F"})

#: first three digits of a collège MEF code → level (10010012110 = 6EME … 10310019110 = 3EME)
MEF_PREFIX_LEVELS: Mapping[str, str] = MappingProxyType(
    {"100": "6e", "101": "5e", "102": "4e", "103": "3e"})
_LABEL_LEVEL = re.compile(r"^\s*([3-6])\s*(?:EME|E|ÈME)\b", re.IGNORECASE)


def level_from_mef(code: str | None, nomenclature: Nomenclature | None = None) -> str | None:
    """``6e``…``3e``: from the MEF label in the nomenclature (``5EME…``), else the code pattern."""
    if not code:
        return None
    mef = nomenclature.mefs.get(code) if nomenclature else None
    for label in (mef.label_long, mef.label_edition) if mef else ():
        m = _LABEL_LEVEL.match(label or "")
        if m:
            return f"{m[1]}e"
    return MEF_PREFIX_LEVELS.get(code[:3])


def _provenance_of(prov: Mapping[str, Provenance], root: str,
                   sources: Mapping[str, str]) -> dict[str, Provenance]:
    out: dict[str, Provenance] = {}
    for key, path in sources.items():
        for candidate in path.split("|"):
            if candidate in prov:
                out[f"{root}.{key}" if root else key] = prov[candidate]
                break
    return out


#: prefill key → record field path(s) it is read from ("a|b": first present)
PUPIL_PREFILL_SOURCES: Mapping[str, str] = MappingProxyType({
    "eleve_id": "eleve_id", "ine": "id_national|ine_rnie|ine_bea", "elenoet": "elenoet",
    "last_name": "last_name", "first_name": "first_name", "first_name_2": "first_name_2",
    "first_name_3": "first_name_3", "birth_date": "birth_date", "sex": "sex_code",
    "birth_commune_insee": "birth_commune_insee",
    "birth_commune": "birth_commune_insee|birth_town_foreign",
    "birth_department": "birth_department", "birth_country": "birth_country_code",
    "nationality": "nationality_code", "mef_code": "mef_code", "mef_label": "mef_code",
    "level": "mef_code", "division": "division", "previous_mef_code": "previous.mef_code",
    "previous_division": "previous.structure_code", "previous_school_uai": "previous.uai",
    "previous_school_name": "previous.name|previous.name_complement",
    "regime_code": "regime_code", "options": "options[0].code_matiere",
    "accepts_sms": "accepts_sms",
    "address": "address.postal_code|address.line1|address.commune_insee",
    "entry_date": "entry_date", "repeating": "doublement", "phone_mobile": "phone_mobile",
    "email": "email",
})

GUARDIAN_PREFILL_SOURCES: Mapping[str, str] = MappingProxyType({
    "personne_id": "personne_id", "civility": "civility", "last_name": "last_name",
    "first_name": "first_name", "relationship": "links[].code_parente",
    "legal_responsibility": "links[].niveau_responsabilite", "phone_home": "phone_home",
    "phone_work": "phone_work", "phone_mobile": "phone_mobile", "email": "email",
    "profession_code": "profession_code", "pays_frais": "links[].paie_frais_scolaires",
    "accepts_sms": "accepts_sms",
    "address": "address.postal_code|address.line1|address.commune_insee",
    "contact_priority": "links[].a_contacter_en_priorite",
    "lives_with_pupil": "links[].heberge_eleve", "receives_aid": "links[].percoit_aides",
    "shares_address": "communication_adresse",
})
