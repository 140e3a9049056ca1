"""The return file to SIECLE ("import privé", ``IMPORT_ELEVES``, schema 3.1).

What goes back is what the school knew, updated with what the family answered: every field
prefilled from ``pupil.*`` or from a ``guardians`` row writes its answer back along its prefill
path, so a phone the family changed is the phone in the file. The destination MEF and division
come from the staff-only fields ``mef_destination`` and ``division_destination``.

Only validated dossiers go in. Every other dossier of the selection, and every validated one
SIECLE would refuse (no destination MEF, a MEF code that is not 11 digits, no INSEE code for a
birth commune in France, an unknown profession, a parenté code that is not two characters —
a rule the XSD does not enforce —, an address longer than four lines of 38 characters…), is
listed with the reasons, so the school fixes the dossier and exports again.
"""

from __future__ import annotations

import re
import textwrap
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import IO, Any, Final

from lxml import etree

from engine.campaign.model import Campaign
from engine.dossiers.states import DossierState
from engine.fields.repeat import ROW_KEY
from engine.refdata.codes import PROFESSION_CODES
from engine.refdata.countries import siecle_code_of

from .dossier_tables import Prepared, prepared
from .selection import Selection
from .tables import Progress

SOFTWARE: Final = "DOSSIERSCO"
SCHEMA_VERSION: Final = "3.1"
MEF_FIELD: Final = "mef_destination"
DIVISION_FIELD: Final = "division_destination"
LINE: Final = 38
CIVILITY: Final = {"M": "1", "M.": "1", "MR": "1", "1": "1", "MME": "2", "MLLE": "2", "2": "2"}
SEX: Final = {"M": "1", "F": "2", "1": "1", "2": "2"}
#: NIVEAU_RESPONSABILITE: 1 legal guardian, 2 person in charge, else a contact
LEGAL, IN_CHARGE = "1", "2"


@dataclass(frozen=True, slots=True)
class Blocker:
    """Why a pupil is left out of the file; ``field`` is the field to fix, when there is one."""

    message: str
    field: str | None = None


@dataclass
class PupilReturn:
    public_id: str
    last_name: str
    first_name: str
    division: str
    blockers: list[Blocker] = field(default_factory=list)


@dataclass
class SiecleReturn:
    uai: str
    school_year: int
    generated_at: datetime
    pupils: list[PupilReturn]
    root: etree._Element

    @cached_property
    def xml(self) -> bytes:
        """The file, serialised when first read (the page of blocked pupils never reads
        it)."""
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8",
                              pretty_print=True)

    @property
    def included(self) -> list[PupilReturn]:
        return [p for p in self.pupils if not p.blockers]

    @property
    def blocked(self) -> list[PupilReturn]:
        return [p for p in self.pupils if p.blockers]

    @property
    def filename(self) -> str:
        """``<UAI>PRIVE<school year><yymmddhhmmss>.xml``, as SIECLE expects it."""
        return f"{self.uai}PRIVE{self.school_year}{self.generated_at:%y%m%d%H%M%S}.xml"


def school_year(campaign: Campaign) -> int:
    """The school year the return is for: the one after the campaign (a campaign closing
    before September prepares the year starting that September)."""
    return campaign.closes.year if campaign.closes.month < 9 else campaign.closes.year + 1


def school_start(campaign: Campaign) -> date:
    """The default first day of that year (the agent may give another on the page)."""
    return date(school_year(campaign), 9, 1)


def updated_record(campaign: Campaign, p: Prepared) -> dict[str, Any]:
    """The imported record with the family's (and staff's) answers written back along the
    fields' prefill paths; rows the family added become guardians without an identifier."""
    # what is written back goes one level down (``pupil.phone_mobile``) or replaces a list
    # (the guardians' rows, new dicts): a copy of each top-level record, not a deep copy
    record = {k: dict(v) if isinstance(v, dict) else v for k, v in p.dossier.prefill.items()}
    for spec in campaign.top_fields():
        path = spec.prefill
        if path is None or not spec.type.has_value or spec.id not in p.effective:
            continue
        value = p.effective[spec.id]
        if not spec.type.is_container:
            if len(path) == 2 and isinstance(record.get(path[0]), dict):
                record[path[0]][path[1]] = value
            continue
        if len(path) != 1 or not isinstance(value, list):
            continue
        records = [r for r in record.get(path[0]) or [] if isinstance(r, dict)]
        row_key = getattr(spec.type, "row_key", lambda row, spec: None)
        by_key = {row_key(r, spec) or f"row{n}": r for n, r in enumerate(records, start=1)}
        rows = []
        for row in value:
            if not isinstance(row, Mapping):
                continue
            target = dict(by_key.get(str(row.get(ROW_KEY)), {}))
            for child in spec.fields:
                if child.prefill is not None and len(child.prefill) == 1 and child.id in row:
                    target[child.prefill[0]] = row[child.id]
            rows.append(target)
        record[path[0]] = rows
    return record


def _text(value: Any, limit: int | None = None) -> str | None:
    text = "" if value is None else re.sub(r"\s+", " ", str(value)).strip()
    return (text[:limit] if limit else text) or None


def phone_digits(value: Any) -> str | None:
    """A number as SIECLE stores it: digits (and a leading +), French ones from 0."""
    text = re.sub(r"[^\d+]", "", str(value or ""))
    if text.startswith("+33") and len(text) == 12:
        text = "0" + text[3:]
    return text[:20] or None


def _country(iso2: Any) -> str | None:
    """ISO alpha-2 → SIECLE's 3-digit country code (100 for France)."""
    if not isinstance(iso2, str) or not iso2:
        return None
    if iso2.isdigit():
        return iso2.zfill(3)[-3:]
    return siecle_code_of(iso2)


def _add(parent: etree._Element, tag: str, value: Any) -> None:
    """A child element when there is a value (booleans as true/false)."""
    if value is None or value == "":
        return
    etree.SubElement(parent, tag).text = ("true" if value else "false") \
        if isinstance(value, bool) else str(value)


def address_lines(address: Mapping[str, Any]) -> list[str]:
    """The street lines cut on words at 38 characters, as SIECLE takes them."""
    lines: list[str] = []
    for key in ("line1", "line2", "line3", "line4"):
        text = _text(address.get(key))
        if text:
            lines += textwrap.wrap(text, LINE, break_long_words=True)
    return lines


def _address(parent: etree._Element, address: Any, blockers: list[Blocker],
             whose: str) -> None:
    if not isinstance(address, Mapping) or not any(address.values()):
        return
    lines = address_lines(address)
    if len(lines) > 4:
        blockers.append(Blocker(f"Adresse de {whose} trop longue (plus de 4 lignes de "
                                f"{LINE} caractères)."))
        return
    country = _country(address.get("country") or "FR")
    if country is None:
        blockers.append(Blocker(f"Pays de l'adresse de {whose} inconnu."))
        return
    element = etree.SubElement(parent, "ADRESSE")
    for n, line in enumerate(lines, start=1):
        _add(element, f"LIGNE{n}_ADRESSE", line)
    commune = _text(address.get("commune"), 32)
    if country == "100":
        postal = _text(address.get("postal_code"))
        if not postal or not re.fullmatch(r"\d{5}", postal) or not commune:
            blockers.append(Blocker(f"Adresse de {whose} sans code postal ou commune."))
        else:
            _add(element, "CODE_POSTAL", postal)
            _add(element, "LL_POSTAL", commune)
    elif commune:
        _add(element, "COMMUNE_ETRANGERE", commune)
    else:
        blockers.append(Blocker(f"Adresse à l'étranger de {whose} sans commune."))
    _add(element, "CODE_PAYS", country)


class _Persons:
    """The PERSONNES block: one entry per guardian (siblings share it), numbered in order."""

    def __init__(self) -> None:
        self.element = etree.Element("PERSONNES")
        self.numbers: dict[str, int] = {}
        #: guardians of the pupil being written, kept only if the pupil goes in
        self.pending: list[tuple[str, etree._Element]] = []

    def commit(self) -> None:
        self.element.extend(e for _, e in self.pending)
        self.pending.clear()

    def rollback(self) -> None:
        for key, _ in self.pending:
            del self.numbers[key]
        self.pending.clear()

    def number(self, guardian: Mapping[str, Any], blockers: list[Blocker]) -> int | None:
        """The ID_PRV_PER of ``guardian``, written on first sight; None when it is refused."""
        known = _text(guardian.get("personne_id"))
        if known and known in self.numbers:
            return self.numbers[known]
        name = " ".join(x for x in (_text(guardian.get("first_name")),
                                    _text(guardian.get("last_name"))) if x) or "un responsable"
        found: list[Blocker] = []
        civility = CIVILITY.get(str(guardian.get("civility") or "").upper())
        if civility is None:
            found.append(Blocker(f"Civilité de {name} inconnue.", "civilite"))
        profession = _text(guardian.get("profession_code"))
        if profession not in PROFESSION_CODES:
            found.append(Blocker(f"Profession de {name} inconnue ou absente"
                                 f"{f' (code {profession})' if profession else ''}.",
                                 "profession"))
        if not _text(guardian.get("last_name")) or not _text(guardian.get("first_name")):
            found.append(Blocker(f"Nom ou prénom de {name} manquant."))
        element = etree.Element("PERSONNE")
        number = len(self.numbers) + 1
        _add(element, "ID_PRV_PER", number)
        _add(element, "CODE_CIVILITE", civility)
        _add(element, "NOM_DE_FAMILLE", _text(guardian.get("last_name"), 100))
        _add(element, "PRENOM", _text(guardian.get("first_name"), 100))
        _address(element, guardian.get("address"), found, name)
        shares = guardian.get("shares_address")
        _add(element, "COMMUNICATION_ADRESSE", shares if isinstance(shares, bool) else None)
        _add(element, "CODE_PROFESSION", profession)
        _add(element, "TEL_PERSONNEL", phone_digits(guardian.get("phone_home")))
        _add(element, "TEL_PROFESSIONNEL", phone_digits(guardian.get("phone_work")))
        _add(element, "TEL_PORTABLE", phone_digits(guardian.get("phone_mobile")))
        sms = guardian.get("accepts_sms")
        _add(element, "ACCEPTE_SMS", sms if isinstance(sms, bool) else None)
        _add(element, "EMAIL", _text(guardian.get("email"), 254))
        if found:
            blockers += found
            return None
        key = known or f"new{number}"
        self.pending.append((key, element))
        self.numbers[key] = number
        return number


def _links(guardians: Sequence[Mapping[str, Any]], persons: _Persons,
           blockers: list[Blocker]) -> etree._Element | None:
    element = etree.Element("RESPONSABLES_ELEVE")
    groups: dict[str, list[etree._Element]] = {"LEGAL": [], "PERSONNE_EN_CHARGE": [],
                                               "CONTACT": []}
    for guardian in guardians:
        level = str(guardian.get("legal_responsibility") or LEGAL)
        tag = "LEGAL" if level == LEGAL else "PERSONNE_EN_CHARGE" if level == IN_CHARGE \
            else "CONTACT"
        parente = str(guardian.get("relationship") or "")
        if len(parente) != 2:
            blockers.append(Blocker(
                f"Lien de parenté de {_text(guardian.get('first_name')) or 'un responsable'} "
                f"{'absent' if not parente else f'invalide ({parente})'} : SIECLE attend un "
                f"code de deux caractères.", "lien_parente"))
            continue
        number = persons.number(guardian, blockers)
        if number is None:
            continue
        link = etree.Element(tag)
        _add(link, "ID_PRV_PER", number)
        _add(link, "CODE_PARENTE", parente)
        if tag != "CONTACT":
            pays = guardian.get("pays_frais")
            _add(link, "PAIE_FRAIS_SCOLAIRES", pays if isinstance(pays, bool) else None)
            lives = guardian.get("lives_with_pupil")
            _add(link, "HEBERGE_ELEVE", lives if isinstance(lives, bool) else True)
            if tag == "LEGAL":
                aid = guardian.get("receives_aid")
                _add(link, "PERCOIT_LES_AIDES", aid if isinstance(aid, bool) else None)
            priority = guardian.get("contact_priority")
            _add(link, "A_CONTACTER_EN_PRIORITE",
                 priority if isinstance(priority, bool) else None)
        groups[tag].append(link)
    if not groups["LEGAL"]:
        blockers.append(Blocker("Aucun responsable légal transmissible."))
    if len(groups["LEGAL"]) > 2:
        blockers.append(Blocker("Plus de deux responsables légaux."))
    for links in groups.values():
        element.extend(links)
    return element


def _pupil(p: Prepared, number: int, uai: str, start: date, persons: _Persons,
           blockers: list[Blocker]) -> etree._Element:
    record = updated_record(p.campaign, p)
    pupil = record.get("pupil") if isinstance(record.get("pupil"), dict) else {}
    assert isinstance(pupil, dict)
    element = etree.Element("ELEVE")
    _add(element, "ID_PRV_ELE", number)
    ine = _text(pupil.get("ine")) or p.dossier.pupil.ine
    _add(element, "ID_NATIONAL", ine if ine and re.fullmatch(r"\w{11}", ine) else None)
    last = _text(pupil.get("last_name"), 100) or p.dossier.pupil.last_name
    _add(element, "NOM_DE_FAMILLE", last)
    _add(element, "PRENOM", _text(pupil.get("first_name"), 100) or p.dossier.pupil.first_name)
    _add(element, "PRENOM2", _text(pupil.get("first_name_2"), 100))
    _add(element, "PRENOM3", _text(pupil.get("first_name_3"), 100))
    nationality = _country(pupil.get("nationality"))
    if nationality is None:
        blockers.append(Blocker("Nationalité absente ou inconnue.", "nationalite"))
    _add(element, "CODE_PAYS_NAT", nationality)
    birth = _text(pupil.get("birth_date")) or (p.dossier.pupil.birth_date.isoformat()
                                               if p.dossier.pupil.birth_date else None)
    if birth is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth):
        blockers.append(Blocker("Date de naissance absente.", "date_naissance"))
    _add(element, "DATE_NAISS", birth)
    sex = SEX.get(str(pupil.get("sex") or "").upper())
    if sex is None:
        blockers.append(Blocker("Sexe non renseigné.", "sexe"))
    _add(element, "CODE_SEXE", sex)
    country = _country(pupil.get("birth_country"))
    if country is None:
        blockers.append(Blocker("Pays de naissance absent ou inconnu.", "pays_naissance"))
    _add(element, "CODE_PAYS", country)
    if country == "100":
        insee = _text(pupil.get("birth_commune_insee"))
        if insee is None or not re.fullmatch(r"[0-9AB]{5}", insee):
            blockers.append(Blocker("Pas de code INSEE de la commune de naissance (élève né "
                                    "en France).", "commune_naissance"))
        _add(element, "CODE_COMMUNE_INSEE_NAISS", insee)
    elif country is not None:
        town = _text(pupil.get("birth_commune"), 32)
        if town is None:
            blockers.append(Blocker("Ville de naissance à l'étranger absente.",
                                    "commune_naissance"))
        _add(element, "VILLE_NAISS", town)
    _address(element, pupil.get("address"), blockers, "l'élève")
    _add(element, "TEL_PORTABLE", phone_digits(pupil.get("phone_mobile")))
    _add(element, "EMAIL", _text(pupil.get("email"), 254))
    _add(element, "ADHESION_TRANSPORT", False)
    regime = _text(pupil.get("regime_code"))
    if regime is None or len(regime) > 2:
        blockers.append(Blocker("Code de régime SIECLE absent (il vient de l'import)."))
    _add(element, "CODE_REGIME", regime)
    repeating = pupil.get("repeating")
    _add(element, "DOUBLEMENT", repeating if isinstance(repeating, bool) else False)
    guardians = [g for g in record.get("guardians") or [] if isinstance(g, Mapping)]
    links = _links(guardians, persons, blockers)
    if links is not None:
        element.append(links)
    schooling = etree.SubElement(element, "SCOLARITE_ACTIVE")
    mef = _text(p.answers.get(MEF_FIELD))
    if mef is None:
        blockers.append(Blocker("Pas de MEF de destination.", MEF_FIELD))
    elif not re.fullmatch(r"\d{10}[0-9A-Z]", mef):
        blockers.append(Blocker(f"Code MEF de destination invalide ({mef}) : 11 caractères "
                                f"attendus.", MEF_FIELD))
    _add(schooling, "CODE_MEF", mef)
    division = _text(p.answers.get(DIVISION_FIELD))
    if division is not None and len(division) > 8:
        blockers.append(Blocker(f"Division de destination trop longue ({division}) : 8 "
                                f"caractères au plus.", DIVISION_FIELD))
    _add(schooling, "CODE_DIVISION", division)
    _add(schooling, "CODE_STATUT", "ST")
    _add(schooling, "DATE_DEB_SCO", start.isoformat())
    options = etree.SubElement(schooling, "OPTIONS")
    for code in [c for c in pupil.get("options") or [] if isinstance(c, str)][:12]:
        option = etree.SubElement(options, "OPTION")
        _add(option, "CODE_MATIERE", code[:6])
        _add(option, "CODE_MODALITE_ELECT", "O")
    last_year = etree.SubElement(element, "ETABLISSEMENT_AN_DERNIER")
    _add(last_year, "CODE_RNE", uai)
    _add(last_year, "CODE_PROVENANCE", "1")
    current_mef = _text(pupil.get("mef_code"))
    _add(last_year, "CODE_MEF", current_mef if current_mef and len(current_mef) == 11
         else None)
    current = _text(pupil.get("division"))
    _add(last_year, "CODE_DIVISION", current if current and len(current) <= 8 else None)
    etree.SubElement(last_year, "OPTIONS_AN_DERNIER")
    return element


def siecle_return(selection: Selection, *, generated_at: datetime,
                  start: date | None = None, sending: int = 1,
                  progress: Progress | None = None) -> SiecleReturn:
    """The file for the selection's validated dossiers, and every dossier's blockers."""
    campaign = selection.campaign
    uai = selection.establishment.uai
    year = school_year(campaign)
    start = start or school_start(campaign)
    persons = _Persons()
    eleves = etree.Element("ELEVES")
    pupils = []
    total = len(selection)
    for done, p in enumerate(prepared(selection), start=1):
        d = p.dossier
        result = PupilReturn(d.public_id, d.pupil.last_name, d.pupil.first_name, p.division)
        if d.state is not DossierState.VALIDATED:
            result.blockers.append(Blocker("Dossier pas encore validé par l'établissement."))
        else:
            element = _pupil(p, len(eleves) + 1, uai, start, persons, result.blockers)
            # a pupil left out leaves none of their new guardians behind
            if result.blockers:
                persons.rollback()
            else:
                persons.commit()
                eleves.append(element)
        pupils.append(result)
        if progress is not None:
            progress(done, total)
    root = etree.Element("IMPORT_ELEVES", VERSION=SCHEMA_VERSION)
    parameters = etree.SubElement(root, "PARAMETRES")
    _add(parameters, "UAJ", uai)
    _add(parameters, "ANNEE_SCOLAIRE", year)
    _add(parameters, "DATE_IMPORT", f"{generated_at:%d/%m/%Y}")
    _add(parameters, "NUM_ENVOI", sending)
    _add(parameters, "LOGICIEL", SOFTWARE)
    data = etree.SubElement(root, "DONNEES")
    data.append(persons.element)
    data.append(eleves)
    return SiecleReturn(uai, year, generated_at, pupils, root)


def write_siecle_zip(result: SiecleReturn, stream: IO[bytes]) -> None:
    """The file zipped, as SIECLE's import screen takes it."""
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(result.filename,
                                         result.generated_at.timetuple()[:6]), result.xml,
                         compress_type=zipfile.ZIP_DEFLATED)
