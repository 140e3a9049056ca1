"""Read SIECLE "BEE" XML exports (BEE_ELEVES, BEE_RESPONSABLES, BEE_NOMENCLATURES), raw or
zipped as SIECLE delivers them, into canonical records.

Streaming (``lxml.etree.iterparse``, elements cleared as they are read) keeps memory flat on
20,000-pupil files. The parser never loads a DTD nor resolves an entity, and a document with a
DOCTYPE is refused. Every problem becomes an ``ImportProblem`` with its line: nothing raises
except ``import_siecle``, on purpose, when the file must be refused as a whole.
"""

from __future__ import annotations

import gc
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

from lxml import etree

from engine.fields import FieldValueError
from engine.fields.date import read_date
from engine.refdata import OBSOLETE_PROFESSION_CODES, PARENTE_CODES

from .encoding import find_mojibake
from .errors import ImportProblem, SiecleFileError, error, warning
from .records import (
    EMPTY,
    Address,
    GuardianLink,
    GuardianRecord,
    MandatoryOption,
    Matiere,
    Mef,
    Nomenclature,
    Option,
    Programme,
    ProvenanceGroup,
    ProvenanceMap,
    PupilRecord,
    Schooling,
    Structure,
    no_provenance,
)
from .result import ImportResult, SourceInfo, index_guardians
from .values import FLAGS, clean, parse_flag

#: a path, or (file name, content) for an upload held in memory
Source = str | os.PathLike[str] | tuple[str, bytes]

KINDS = ("BEE_ELEVES", "BEE_RESPONSABLES", "BEE_NOMENCLATURES")
_RE_EXPORT = ("Refaites l'export depuis SIECLE (Consultation et Exports > Exportations > en XML) "
              "et déposez le fichier sans l'ouvrir ni l'enregistrer dans un autre logiciel.")


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps against oversized files and zip bombs (a 20,000-pupil export is about 40 MB)."""

    max_xml_bytes: int = 256 * 1024 * 1024
    max_zip_members: int = 16
    max_zip_total_bytes: int = 512 * 1024 * 1024
    max_zip_ratio: int = 200


class _TooLarge(Exception):
    pass


_TYPO = re.compile(rb"<(/?)STRICTURES_ELEVE")
_TYPO_TAIL = 20
_DECLARED = re.compile(rb"""(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)""")


class _Reader:
    """File-like wrapper for lxml: caps the size read and fixes the ``STRICTURES_ELEVE`` typo
    that SIECLE exports have been seen to carry (same length, so lines do not move)."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self._raw = raw
        self._limit = limit
        self._count = 0
        self._pending = b""
        self._line = 1
        self.typo_lines: list[int] = []
        #: the encoding the XML declaration names (UTF-8, XML's default, without one)
        self.declared = "UTF-8"

    def read(self, size: int = -1) -> bytes:
        while True:
            chunk = self._raw.read(size if size and size > 0 else 65536)
            self._count += len(chunk)
            if self._count > self._limit:
                raise _TooLarge
            data = self._pending + chunk
            if chunk:
                cut = data.rfind(b"<", max(0, len(data) - _TYPO_TAIL))
                cut = len(data) if cut == -1 else cut
                data, self._pending = data[:cut], data[cut:]
            else:
                self._pending = b""
            if data or not chunk:
                break
        if self._line == 1 and (declaration := _DECLARED.match(data)):
            self.declared = declaration[1].decode("ascii")
        if b"STRICTURES_ELEVE" in data:
            for m in _TYPO.finditer(data):
                if not m[1]:
                    self.typo_lines.append(self._line + data.count(b"\n", 0, m.start()))
            data = _TYPO.sub(rb"<\1STRUCTURES_ELEVE", data)
        self._line += data.count(b"\n")
        return data


# -- field tables: tag -> (record field, converter) -------------------------------------------
S, D, B, I = "s", "d", "b", "i"  # noqa: E741 - text (phones too: kept as written), date, flag, integer

ELEVE_FIELDS: Mapping[str, tuple[str, str]] = {
    "ID_NATIONAL": ("id_national", S), "INE_RNIE": ("ine_rnie", S), "INE_BEA": ("ine_bea", S),
    "ELENOET": ("elenoet", S), "ID_ELEVE_ETAB": ("id_eleve_etab", S),
    "ID_PRV_ELE": ("id_prv_ele", S), "NOM_DE_FAMILLE": ("last_name", S),
    "PRENOM": ("first_name", S), "PRENOM2": ("first_name_2", S),
    "PRENOM3": ("first_name_3", S), "DATE_NAISS": ("birth_date", D),
    "DOUBLEMENT": ("doublement", B), "CODE_PAYS": ("birth_country_code", S),
    "ACCEPTE_SMS": ("accepts_sms", B), "DATE_MODIFICATION": ("modified_date", D),
    "CODE_REGIME": ("regime_code", S), "DATE_ENTREE": ("entry_date", D),
    "VILLE_NAISS": ("birth_town_foreign", S), "CODE_SEXE": ("sex_code", S),
    "CODE_PAYS_NAT": ("nationality_code", S), "CODE_STATUT": ("statut", S),
    "CODE_MEF": ("mef_code", S), "CODE_DEPARTEMENT_NAISS": ("birth_department", S),
    "CODE_COMMUNE_INSEE_NAISS": ("birth_commune_insee", S),
    "ADHESION_TRANSPORT": ("transport", B), "CODE_PROVENANCE": ("code_provenance", S),
    "ADRESSE_ID": ("address_id", S), "MEL": ("email", S), "TEL_PORTABLE": ("phone_mobile", S),
}
SCOLARITE_FIELDS: Mapping[str, tuple[str, str]] = {
    "CODE_MEF": ("mef_code", S), "CODE_STRUCTURE": ("structure_code", S),
    "CODE_RNE": ("uai", S), "CODE_NATURE": ("nature_code", S), "SIGLE": ("sigle", S),
    "DENOM_PRINC": ("name", S), "DENOM_COMPL": ("name_complement", S),
    "LIGNE1_ADRESSE": ("address_line1", S), "BOITE_POSTALE": ("po_box", S),
    "MEL": ("email", S), "TELEPHONE": ("phone", S), "CODE_COMMUNE_INSEE": ("commune_insee", S),
    "LL_COMMUNE_INSEE": ("commune_label", S),
}
ADRESSE_FIELDS: Mapping[str, tuple[str, str]] = {
    "LIGNE1_ADRESSE": ("line1", S), "LIGNE2_ADRESSE": ("line2", S),
    "LIGNE3_ADRESSE": ("line3", S), "LIGNE4_ADRESSE": ("line4", S),
    "COMMUNE_ETRANGERE": ("foreign_commune", S), "CODE_POSTAL": ("postal_code", S),
    "CODE_PAYS": ("country_code", S), "CODE_COMMUNE_INSEE": ("commune_insee", S),
    "LL_PAYS": ("country_label", S), "CODE_DEPARTEMENT": ("department_code", S),
    "LIBELLE_POSTAL": ("commune_label", S),
}
PERSONNE_FIELDS: Mapping[str, tuple[str, str]] = {
    "LC_CIVILITE": ("civility", S), "LL_CIVILITE": ("civility_label", S),
    "NOM_DE_FAMILLE": ("last_name", S), "PRENOM": ("first_name", S),
    "TEL_PERSONNEL": ("phone_home", S), "TEL_PORTABLE": ("phone_mobile", S),
    "TEL_PROFESSIONNEL": ("phone_work", S), "ACCEPTE_SMS": ("accepts_sms", B),
    "MEL": ("email", S), "COMMUNICATION_ADRESSE": ("communication_adresse", B),
    "ADRESSE_ID": ("address_id", S), "CODE_PROFESSION": ("profession_code", S),
}
LINK_FIELDS: Mapping[str, tuple[str, str]] = {
    "ELEVE_ID": ("eleve_id", S), "PERSONNE_ID": ("personne_id", S),
    "NIVEAU_RESPONSABILITE": ("niveau_responsabilite", S), "CODE_PARENTE": ("code_parente", S),
    "PAIE_FRAIS_SCOLAIRES": ("paie_frais_scolaires", B),
    "PERCOIT_LES_AIDES": ("percoit_aides", B), "HEBERGE_ELEVE": ("heberge_eleve", B),
    "A_CONTACTER_EN_PRIORITE": ("a_contacter_en_priorite", B),
}
MEF_FIELDS: Mapping[str, tuple[str, str]] = {
    "FORMATION": ("formation", S), "LIBELLE_LONG": ("label_long", S),
    "LIBELLE_EDITION": ("label_edition", S), "STATUT_MEF": ("statut", S),
    "MEF_RATTACHEMENT": ("mef_rattachement", S), "CODE_MEFSTAT": ("code_mefstat", S),
    "NB_OPT_OBLIG": ("nb_opt_oblig", I), "NB_OPT_MINI": ("nb_opt_mini", I),
    "DATE_OUVERTURE": ("date_ouverture", D), "DATE_FERMETURE": ("date_fermeture", D),
}
MATIERE_FIELDS: Mapping[str, tuple[str, str]] = {
    "CODE_GESTION": ("code_gestion", S), "LIBELLE_COURT": ("label_short", S),
    "LIBELLE_LONG": ("label_long", S), "LIBELLE_EDITION": ("label_edition", S),
    "MATIERE_ETP": ("matiere_etp", S),
}
PROGRAMME_FIELDS: Mapping[str, tuple[str, str]] = {
    "CODE_MEF": ("mef_code", S), "CODE_MATIERE": ("code_matiere", S),
    "CODE_MODALITE_ELECT": ("code_modalite_elect", S), "HORAIRE": ("horaire", S),
}
OPTION_OBLIGATOIRE_FIELDS: Mapping[str, tuple[str, str]] = {
    "CODE_MEF": ("mef_code", S), "CODE_MATIERE": ("code_matiere", S),
    "RANG_OPTION": ("rang", I),
}
OPTIONS_ELEVE_FIELDS: Mapping[str, tuple[str, str]] = {
    "NUM_OPTION": ("num_option", I), "CODE_MODALITE_ELECT": ("code_modalite_elect", S),
    "CODE_MATIERE": ("code_matiere", S),
}
STRUCTURE_FIELDS: Mapping[str, tuple[str, str]] = {
    "CODE_STRUCTURE": ("code", S), "TYPE_STRUCTURE": ("type", S),
}
_DIVISION_FIELDS: Mapping[str, tuple[str, str]] = {"CODE_STRUCTURE": ("division", S)}
_CONTAINERS = frozenset({"SCOLARITE_AN_DERNIER"})
_ELEVE_ID_PATHS: Mapping[str, str] = MappingProxyType({"eleve_id": "@ELEVE_ID"})
_ELENOET_PATHS: Mapping[str, str] = MappingProxyType({"elenoet": "@ELENOET"})
_PERSONNE_ID_PATHS: Mapping[str, str] = MappingProxyType({"personne_id": "@PERSONNE_ID"})


class _Table:
    """A field table split for the read loop: a text field costs one lookup, a typed one (date,
    flag, integer) a second."""

    __slots__ = ("fields", "text", "typed")

    def __init__(self, fields: Mapping[str, tuple[str, str]]) -> None:
        self.fields = fields
        self.text = {tag: name for tag, (name, conv) in fields.items() if conv == S}
        self.typed = {tag: spec for tag, spec in fields.items() if spec[1] != S}


_ELEVE, _SCOLARITE, _ADRESSE, _PERSONNE, _LINK, _MEF, _MATIERE, _PROGRAMME = map(_Table, (
    ELEVE_FIELDS, SCOLARITE_FIELDS, ADRESSE_FIELDS, PERSONNE_FIELDS, LINK_FIELDS, MEF_FIELDS,
    MATIERE_FIELDS, PROGRAMME_FIELDS))
_OPTION_OBLIGATOIRE, _OPTIONS_ELEVE, _STRUCTURE, _DIVISION = map(_Table, (
    OPTION_OBLIGATOIRE_FIELDS, OPTIONS_ELEVE_FIELDS, STRUCTURE_FIELDS, _DIVISION_FIELDS))
#: a record's provenance until the file is read and its later blocks are known
_PENDING = no_provenance()
#: completes a frozen record with the blocks that come later in the file (options, structures,
#: links, addresses, provenance) before anyone else sees it; cheaper than ``replace``
_set = object.__setattr__


class _FileReader:
    """Reads one XML document; ``finish`` completes the records with the later blocks."""

    def __init__(self, name: str, imported_at: datetime) -> None:
        self.name = name
        self.imported_at = imported_at
        self.kind = ""
        self.problems: list[ImportProblem] = []
        self.info = SourceInfo(name, "")
        self.pupils: dict[str, tuple[PupilRecord, list[ProvenanceGroup], int]] = {}
        self.options: dict[str, tuple[list[Option], list[ProvenanceGroup], int]] = {}
        self.structures: dict[str, tuple[list[Structure], list[ProvenanceGroup], int]] = {}
        self.addresses: dict[str, tuple[Address, ProvenanceGroup]] = {}
        self.persons: dict[str, tuple[GuardianRecord, list[ProvenanceGroup], int]] = {}
        self.links: list[tuple[GuardianLink, str, str, int, tuple[str, ...]]] = []
        self.mefs: dict[str, Mef] = {}
        self.matieres: dict[str, Matiere] = {}
        self.programmes: dict[tuple[str, str], tuple[Programme, ProvenanceGroup]] = {}
        self.mandatory: list[MandatoryOption] = []
        self.nomenclature_groups: list[ProvenanceGroup] = []
        self.suspect_encoding = False
        #: the XML declaration's encoding (UTF-8 when the file declares none)
        self.declared_encoding = "UTF-8"
        self._path_cache: dict[tuple[int, str, str, tuple[str, ...]], Mapping[str, str]] = {}
        #: date texts already read as valid: the text itself (one string per distinct date)
        self._dates: dict[str, str] = {}

    # -- problems ---------------------------------------------------------------------------
    def err(self, code: str, message: str, line: int = 0, element: str = "") -> None:
        self.problems.append(error(code, message, line, element, self.name))

    def warn(self, code: str, message: str, line: int = 0, element: str = "") -> None:
        self.problems.append(warning(code, message, line, element, self.name))

    # -- generic element reading ------------------------------------------------------------
    def read_fields(self, el: Any, table: _Table, prefix: str, out: dict[str, Any],
                    extra: dict[str, str] | None,
                    nested: dict[str, Any] | None = None) -> tuple[str, ...]:
        """Non-empty children of ``el`` into ``out`` (converted; unknown ones into ``extra``;
        the first of each container element, e.g. SCOLARITE_AN_DERNIER, into ``nested``).

        Returns the tags read, in order: with ``paths`` they give the provenance.
        """
        present: list[str] = []
        append = present.append
        text_field = table.text.get
        typed_field = table.typed.get
        dates = self._dates
        # elements only (comments and processing instructions are skipped by lxml itself)
        for child in el.iterchildren(etree.Element):
            text = child.text
            if text:
                text = text.strip()
            if not text:
                if nested is not None and child.tag in _CONTAINERS:
                    nested.setdefault(child.tag, child)
                continue
            tag = child.tag
            name = text_field(tag)
            if name is not None:
                out[name] = text
                append(tag)
                continue
            spec = typed_field(tag)
            if spec is None:
                if tag not in _CONTAINERS:
                    if extra is not None:
                        extra[tag] = text
                        append(tag)
                elif nested is not None:
                    nested.setdefault(tag, child)
                continue
            name, conv = spec
            # inline: integers, 0/1/true/false flags and dates already seen in the file
            value: Any
            if conv == B:
                value = FLAGS.get(text)
            elif conv == D:
                value = dates.get(text)
            else:
                value = int(text) if text.isdecimal() else None
            if value is None:
                value = self.convert(child, tag, text, conv, prefix)
                if value is None:
                    continue
            out[name] = value
            append(tag)
        return tuple(present)

    def convert(self, child: Any, tag: str, text: str, conv: str, prefix: str) -> Any:
        """A typed value that ``read_fields`` did not read inline (another spelling of a flag,
        a date not seen yet, a number that is not one), or None after reporting why the text
        was not usable."""
        if conv == B:
            flag = parse_flag(text)
            if flag is None:
                self.warn("INVALID_FLAG", f"<{tag}> vaut « {text} » au lieu de 0/1 ou "
                          "true/false : valeur ignorée.", child.sourceline or 0,
                          f"{prefix}/{tag}")
            return flag
        if conv == D:
            # kept as written once the date normaliser reads it; a file repeats few dates
            # (entry, modification, birth dates of an age group)
            try:
                read_date(text)
            except FieldValueError as exc:
                self.err("INVALID_DATE", f"{exc} dans <{tag}>. {_RE_EXPORT}",
                         child.sourceline or 0, f"{prefix}/{tag}")
                return None
            self._dates[text] = text
            return text
        if text.isdecimal():  # what int() reads ("²" is a digit, not a decimal)
            return int(text)
        self.warn("INVALID_NUMBER", f"<{tag}> vaut « {text} » au lieu d'un nombre : valeur "
                  "ignorée.", child.sourceline or 0, f"{prefix}/{tag}")
        return None

    def paths(self, table: _Table, path_prefix: str, suffix_prefix: str,
              tags: tuple[str, ...]) -> Mapping[str, str]:
        """Field path → element suffix for the tags read; shared by records alike."""
        key = (id(table), path_prefix, suffix_prefix, tags)
        found = self._path_cache.get(key)
        if found is None:
            fields = table.fields
            found = MappingProxyType({
                path_prefix + (fields[t][0] if t in fields else f"extra.{t}"): suffix_prefix + t
                for t in tags})
            self._path_cache[key] = found
        return found

    # -- handlers per record element --------------------------------------------------------
    def on_parametres(self, el: Any) -> None:
        values = {c.tag: clean(c.text) for c in el if isinstance(c.tag, str)}
        export_date = None
        try:
            export_date = read_date(values.get("DATE_EXPORT"))
        except FieldValueError:
            self.warn("INVALID_DATE", "La date d'export (PARAMETRES/DATE_EXPORT) est illisible.",
                      el.sourceline or 0, "PARAMETRES/DATE_EXPORT")
        self.info = replace(self.info, uaj=values.get("UAJ"),
                            school_year=values.get("ANNEE_SCOLAIRE"), export_date=export_date,
                            timestamp=values.get("HORODATAGE"))

    def on_eleve(self, el: Any) -> None:
        line = el.sourceline or 0
        eleve_id = clean(el.get("ELEVE_ID"))
        if eleve_id is None:
            self.err("MISSING_ELEMENT", "Un élève (<ELEVE>) n'a pas d'attribut ELEVE_ID : "
                     f"le fichier est incomplet. {_RE_EXPORT}", line, "ELEVE")
            return
        prefix = f"ELEVE[@ELEVE_ID={eleve_id}]"
        values: dict[str, Any] = {"eleve_id": eleve_id, "provenance": _PENDING}
        extra: dict[str, str] = {}
        nested: dict[str, Any] = {}
        tags = self.read_fields(el, _ELEVE, prefix, values, extra, nested)
        groups: list[ProvenanceGroup] = [(prefix, line, _ELEVE_ID_PATHS),
                                         (prefix, line, self.paths(_ELEVE, "", "", tags))]
        sco = nested.get("SCOLARITE_AN_DERNIER")
        if sco is not None:
            sco_values: dict[str, Any] = {}
            sco_tags = self.read_fields(sco, _SCOLARITE, prefix + "/SCOLARITE_AN_DERNIER",
                                        sco_values, None)
            if sco_values:
                values["previous"] = Schooling(**sco_values)
                groups.append((prefix, line, self.paths(
                    _SCOLARITE, "previous.", "SCOLARITE_AN_DERNIER/", sco_tags)))
        values["extra"] = extra or EMPTY
        for tag, name in (("NOM_DE_FAMILLE", "last_name"), ("DATE_NAISS", "birth_date")):
            if name in values:
                continue
            child = el.find(tag)  # present but invalid was reported by ``convert``
            if child is None or clean(child.text) is None:
                self.err("MISSING_ELEMENT", f"L'élève ELEVE_ID={eleve_id} n'a pas de <{tag}>. "
                         f"{_RE_EXPORT}", line, prefix)
        if "first_name" not in values:
            self.warn("MISSING_ELEMENT", f"L'élève ELEVE_ID={eleve_id} n'a pas de prénom.",
                      line, prefix)
        attr_elenoet = clean(el.get("ELENOET"))
        if attr_elenoet and values.get("elenoet") and attr_elenoet != values["elenoet"]:
            self.warn("ELENOET_MISMATCH", f"L'élève ELEVE_ID={eleve_id} a deux ELENOET "
                      f"différents ({attr_elenoet} en attribut, {values['elenoet']} en "
                      "élément) : celui de l'élément est gardé.", line, prefix)
        elif attr_elenoet and "elenoet" not in values:
            values["elenoet"] = attr_elenoet
            groups.append((prefix, line, _ELENOET_PATHS))
        self._check_encoding(line, values.get("last_name"), values.get("first_name"))
        if eleve_id in self.pupils:
            first = self.pupils[eleve_id][2]
            self.err("DUPLICATE_ID", f"L'élève ELEVE_ID={eleve_id} apparaît deux fois (déjà "
                     f"ligne {first}). {_RE_EXPORT}", line, prefix)
            return
        self.pupils[eleve_id] = (PupilRecord(**values), groups, line)

    def on_option(self, el: Any) -> None:
        line = el.sourceline or 0
        eleve_id = clean(el.get("ELEVE_ID"))
        if eleve_id is None:
            self.warn("MISSING_ELEMENT", "Un bloc <OPTION> n'a pas d'ELEVE_ID : ignoré.", line,
                      "OPTION")
            return
        prefix = f"OPTION[@ELEVE_ID={eleve_id}]"
        options, groups, _ = self.options.setdefault(eleve_id, ([], [], line))
        for child in el.iterchildren("OPTIONS_ELEVE"):
            values: dict[str, Any] = {}
            i = len(options)
            tags = self.read_fields(child, _OPTIONS_ELEVE, prefix, values, None)
            if "code_matiere" not in values:
                self.warn("MISSING_ELEMENT", f"Une option de l'élève ELEVE_ID={eleve_id} n'a "
                          "pas de CODE_MATIERE : ignorée.", child.sourceline or line, prefix)
                continue
            options.append(Option(**values))
            groups.append((prefix, line, self.paths(
                _OPTIONS_ELEVE, f"options[{i}].", f"OPTIONS_ELEVE[{i + 1}]/", tags)))

    def on_structures_eleve(self, el: Any) -> None:
        line = el.sourceline or 0
        eleve_id = clean(el.get("ELEVE_ID"))
        if eleve_id is None:
            self.warn("MISSING_ELEMENT", "Un bloc <STRUCTURES_ELEVE> n'a pas d'ELEVE_ID : "
                      "ignoré.", line, "STRUCTURES_ELEVE")
            return
        prefix = f"STRUCTURES_ELEVE[@ELEVE_ID={eleve_id}]"
        structures, groups, _ = self.structures.setdefault(eleve_id, ([], [], line))
        for child in el.iterchildren("STRUCTURE"):
            values: dict[str, Any] = {}
            i = len(structures)
            tags = self.read_fields(child, _STRUCTURE, prefix, values, None)
            if "code" not in values:
                continue
            structures.append(Structure(**values))
            groups.append((prefix, line, self.paths(
                _STRUCTURE, f"structures[{i}].", f"STRUCTURE[{i + 1}]/", tags)))
            if values.get("type") == "D" and all(s.type != "D" for s in structures[:-1]):
                groups.append((prefix, line, self.paths(
                    _DIVISION, "", f"STRUCTURE[{i + 1}]/", ("CODE_STRUCTURE",))))

    def on_adresse(self, el: Any) -> None:
        line = el.sourceline or 0
        address_id = clean(el.get("ADRESSE_ID"))
        if address_id is None:
            self.warn("MISSING_ELEMENT", "Une <ADRESSE> n'a pas d'ADRESSE_ID : ignorée.", line,
                      "ADRESSE")
            return
        prefix = f"ADRESSE[@ADRESSE_ID={address_id}]"
        values: dict[str, Any] = {}
        tags = self.read_fields(el, _ADRESSE, prefix, values, None)
        self.addresses[address_id] = (Address(address_id=address_id, **values), (
            prefix, line, self.paths(_ADRESSE, "address.", "", tags)))

    def on_personne(self, el: Any) -> None:
        line = el.sourceline or 0
        personne_id = clean(el.get("PERSONNE_ID"))
        if personne_id is None:
            self.err("MISSING_ELEMENT", "Un responsable (<PERSONNE>) n'a pas d'attribut "
                     f"PERSONNE_ID : le fichier est incomplet. {_RE_EXPORT}", line, "PERSONNE")
            return
        prefix = f"PERSONNE[@PERSONNE_ID={personne_id}]"
        values: dict[str, Any] = {"personne_id": personne_id, "provenance": _PENDING}
        extra: dict[str, str] = {}
        tags = self.read_fields(el, _PERSONNE, prefix, values, extra)
        values["extra"] = extra or EMPTY
        if "last_name" not in values:
            self.err("MISSING_ELEMENT", f"Le responsable PERSONNE_ID={personne_id} n'a pas de "
                     f"<NOM_DE_FAMILLE>. {_RE_EXPORT}", line, prefix)
        profession = str(values.get("profession_code"))
        if profession in OBSOLETE_PROFESSION_CODES:
            self.warn("OBSOLETE_CODE", f"Le responsable PERSONNE_ID={personne_id} a le code "
                      f"profession {profession}, que SIECLE n'accepte plus "
                      f"({OBSOLETE_PROFESSION_CODES[profession]}).", line, prefix)
        self._check_encoding(line, values.get("last_name"), values.get("first_name"))
        if personne_id in self.persons:
            self.err("DUPLICATE_ID", f"Le responsable PERSONNE_ID={personne_id} apparaît deux "
                     f"fois (déjà ligne {self.persons[personne_id][2]}). {_RE_EXPORT}", line,
                     prefix)
            return
        groups: list[ProvenanceGroup] = [
            (prefix, line, _PERSONNE_ID_PATHS),
            (prefix, line, self.paths(_PERSONNE, "", "", tags))]
        self.persons[personne_id] = (GuardianRecord(**values), groups, line)

    def on_responsable_eleve(self, el: Any) -> None:
        line = el.sourceline or 0
        values: dict[str, Any] = {}
        prefix = f"RESPONSABLE_ELEVE[{len(self.links) + 1}]"
        tags = self.read_fields(el, _LINK, prefix, values, None)
        personne_id = values.pop("personne_id", None)
        if personne_id is None or "eleve_id" not in values:
            self.err("MISSING_ELEMENT", "Un lien <RESPONSABLE_ELEVE> n'a pas d'ELEVE_ID ou de "
                     f"PERSONNE_ID. {_RE_EXPORT}", line, prefix)
            return
        code = values.get("code_parente")
        if code is not None and code not in PARENTE_CODES:
            hint = " (il faut deux caractères)" if len(code) != 2 else ""
            self.warn("UNKNOWN_CODE", f"Code de parenté « {code} » inconnu{hint} pour "
                      f"PERSONNE_ID={personne_id}.", line, prefix)
        self.links.append((GuardianLink(**values), personne_id, prefix, line, tags))

    def on_mef(self, el: Any) -> None:
        line = el.sourceline or 0
        code = clean(el.get("CODE_MEF"))
        if code is None:
            self.err("MISSING_ELEMENT", f"Un <MEF> n'a pas d'attribut CODE_MEF. {_RE_EXPORT}",
                     line, "MEF")
            return
        prefix = f"MEF[@CODE_MEF={code}]"
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        tags = self.read_fields(el, _MEF, prefix, values, extra)
        if code in self.mefs:
            self.err("DUPLICATE_ID", f"Le MEF {code} apparaît deux fois.", line, prefix)
            return
        self.mefs[code] = Mef(code, extra=extra, **values)
        self.nomenclature_groups.append((prefix, line, self.paths(_MEF, f"mefs.{code}.",
                                                                  "", tags)))

    def on_matiere(self, el: Any) -> None:
        line = el.sourceline or 0
        code = clean(el.get("CODE_MATIERE"))
        if code is None:
            self.err("MISSING_ELEMENT", "Une <MATIERE> n'a pas d'attribut CODE_MATIERE. "
                     f"{_RE_EXPORT}", line, "MATIERE")
            return
        prefix = f"MATIERE[@CODE_MATIERE={code}]"
        values: dict[str, Any] = {}
        tags = self.read_fields(el, _MATIERE, prefix, values, None)
        if code in self.matieres:
            self.err("DUPLICATE_ID", f"La matière {code} apparaît deux fois.", line, prefix)
            return
        self.matieres[code] = Matiere(code, **values)
        self.nomenclature_groups.append((prefix, line, self.paths(
            _MATIERE, f"matieres.{code}.", "", tags)))

    def on_programme(self, el: Any) -> None:
        line = el.sourceline or 0
        values: dict[str, Any] = {}
        prefix = f"PROGRAMME[{len(self.programmes) + 1}]"
        tags = self.read_fields(el, _PROGRAMME, prefix, values, None)
        if "mef_code" not in values or "code_matiere" not in values:
            self.warn("MISSING_ELEMENT", "Un <PROGRAMME> sans CODE_MEF ou CODE_MATIERE est "
                      "ignoré.", line, prefix)
            return
        key = (values["mef_code"], values["code_matiere"])
        known = self.programmes.get(key)
        # O beats S: a second listing only replaces an empty or S modality
        if known is None or known[0].code_modalite_elect in (None, "S"):
            self.programmes[key] = (Programme(**values), (prefix, line, self.paths(
                _PROGRAMME, f"programmes[{key[0]},{key[1]}].", "", tags)))

    def on_option_obligatoire(self, el: Any) -> None:
        values: dict[str, Any] = {}
        prefix = f"OPTION_OBLIGATOIRE[{len(self.mandatory) + 1}]"
        tags = self.read_fields(el, _OPTION_OBLIGATOIRE, prefix, values, None)
        if "mef_code" not in values or "code_matiere" not in values:
            self.warn("MISSING_ELEMENT", "Une <OPTION_OBLIGATOIRE> sans CODE_MEF ou "
                      "CODE_MATIERE est ignorée.", el.sourceline or 0, prefix)
            return
        i = len(self.mandatory)
        self.mandatory.append(MandatoryOption(**values))
        self.nomenclature_groups.append((prefix, el.sourceline or 0, self.paths(
            _OPTION_OBLIGATOIRE, f"mandatory_options[{i}].", "", tags)))

    def _check_encoding(self, line: int, *names: Any) -> None:
        """Refuse names that are UTF-8 read as a one-byte encoding (once per file)."""
        if self.suspect_encoding:
            return
        found = next((f for n in names if isinstance(n, str) and (f := find_mojibake(n))), None)
        if found is None:
            return
        self.suspect_encoding = True
        garbled, letter = found
        if _is_utf8(self.declared_encoding):
            self.err("XML_ENCODING", f"Des accents sont encodés deux fois (« {garbled} » au "
                     f"lieu de « {letter} ») : le fichier a été ouvert comme du Windows-1252 "
                     f"puis enregistré en UTF-8. {_RE_EXPORT}", line)
            return
        self.err("XML_ENCODING", f"Le fichier est en UTF-8 mais déclare l'encodage "
                 f"{self.declared_encoding} : les accents se liraient mal (« {garbled} » au lieu "
                 f"de « {letter} »). Refaites l'export depuis SIECLE ; si le fichier a été "
                 f"modifié exprès, remplacez dans sa première ligne encoding=\"{self.declared_encoding}\" "
                 "par encoding=\"UTF-8\".", line)

    # -- building records -------------------------------------------------------------------
    def handlers(self) -> dict[str, Callable[[Any], None]]:
        common = {"PARAMETRES": self.on_parametres}
        if self.kind == "BEE_ELEVES":
            return {**common, "ELEVE": self.on_eleve, "OPTION": self.on_option,
                    "STRUCTURES_ELEVE": self.on_structures_eleve, "ADRESSE": self.on_adresse}
        if self.kind == "BEE_RESPONSABLES":
            return {**common, "PERSONNE": self.on_personne,
                    "RESPONSABLE_ELEVE": self.on_responsable_eleve,
                    "ADRESSE": self.on_adresse}
        return {**common, "MEF": self.on_mef, "MATIERE": self.on_matiere,
                "PROGRAMME": self.on_programme, "OPTION_OBLIGATOIRE": self.on_option_obligatoire}

    def _address(self, address_id: str | None, groups: list[ProvenanceGroup], owner: str,
                 owner_id: str, line: int) -> Address | None:
        if address_id is None:
            return None
        found = self.addresses.get(address_id)
        if found is None:
            self.warn("UNKNOWN_REFERENCE", f"{owner}={owner_id} renvoie à l'adresse ADRESSE_ID="
                      f"{address_id}, absente du fichier.", line)
            return None
        groups.append(found[1])
        return found[0]

    def pupil_records(self) -> list[PupilRecord]:
        out = []
        name, imported_at = self.name, self.imported_at
        for eleve_id, (record, groups, line) in self.pupils.items():
            options = self.options.pop(eleve_id, None)
            if options:
                _set(record, "options", tuple(options[0]))
                groups.extend(options[1])
            structures = self.structures.pop(eleve_id, None)
            if structures:
                _set(record, "structures", tuple(structures[0]))
                groups.extend(structures[1])
            address = self._address(record.address_id, groups, "L'élève ELEVE_ID", eleve_id,
                                    line)
            if address is not None:
                _set(record, "address", address)
            _set(record, "provenance", ProvenanceMap(name, imported_at, groups))
            out.append(record)
        for eleve_id, (_, _, line) in self.options.items():
            self.warn("UNKNOWN_REFERENCE", f"Des options sont données pour ELEVE_ID={eleve_id}, "
                      "élève absent du fichier : ignorées.", line)
        for eleve_id, (_, _, line) in self.structures.items():
            self.warn("UNKNOWN_REFERENCE", f"Des structures sont données pour ELEVE_ID="
                      f"{eleve_id}, élève absent du fichier : ignorées.", line)
        return out

    def guardian_records(self) -> list[GuardianRecord]:
        links: dict[str, list[GuardianLink]] = {}
        seen: set[tuple[str, str]] = set()
        for link, personne_id, prefix, line, tags in self.links:
            person = self.persons.get(personne_id)
            if person is None:
                self.warn("UNKNOWN_REFERENCE", f"Le lien RESPONSABLE_ELEVE vers PERSONNE_ID="
                          f"{personne_id} ne correspond à aucun responsable du fichier : "
                          "ignoré.", line)
                continue
            if (personne_id, link.eleve_id) in seen:
                self.warn("DUPLICATE_ID", f"Le responsable PERSONNE_ID={personne_id} est lié "
                          f"deux fois à l'élève ELEVE_ID={link.eleve_id} : seul le premier lien "
                          "est gardé.", line)
                continue
            seen.add((personne_id, link.eleve_id))
            known = links.setdefault(personne_id, [])
            person[1].append((prefix, line, self.paths(_LINK, f"links[{len(known)}].",
                                                       "", tags)))
            known.append(link)
        out = []
        name, imported_at = self.name, self.imported_at
        for personne_id, (record, groups, line) in self.persons.items():
            _set(record, "links", tuple(links.get(personne_id, ())))
            address = self._address(record.address_id, groups, "Le responsable PERSONNE_ID",
                                    personne_id, line)
            if address is not None:
                _set(record, "address", address)
            _set(record, "provenance", ProvenanceMap(name, imported_at, groups))
            out.append(record)
        return out

    def nomenclature(self) -> Nomenclature:
        groups = self.nomenclature_groups + [g for _, g in self.programmes.values()]
        return Nomenclature(dict(self.mefs), dict(self.matieres),
                            tuple(p for p, _ in self.programmes.values()), tuple(self.mandatory),
                            ProvenanceMap(self.name, self.imported_at, groups))


_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False,
    "remove_comments": True, "remove_pis": True, "remove_blank_text": True,
}
_RECORD_TAGS = ("PARAMETRES", "ELEVE", "OPTION", "STRUCTURES_ELEVE", "ADRESSE", "PERSONNE",
                "RESPONSABLE_ELEVE", "MEF", "MATIERE", "PROGRAMME", "OPTION_OBLIGATOIRE")


def _is_utf8(encoding: str) -> bool:
    return encoding.replace("_", "-").upper() in {"UTF-8", "UTF8"}


def _syntax_problem(reader: _FileReader, exc: etree.XMLSyntaxError) -> None:
    msg = str(exc.msg or exc)
    line = exc.lineno or 0
    lowered = msg.lower()
    if "document is empty" in lowered or "start tag expected" in lowered and line <= 1:
        reader.err("XML_NOT_XML", f"Ce fichier n'est pas un fichier XML. {_RE_EXPORT}", line)
    elif ("encoding" in lowered or "utf-8" in lowered or "bytes:" in lowered) \
            and _is_utf8(reader.declared_encoding):
        reader.err("XML_ENCODING", "Le fichier déclare l'encodage UTF-8 mais semble être en "
                   f"ISO-8859-15 (ou Windows-1252), l'encodage des exports SIECLE (ligne {line} : "
                   f"{msg}). {_RE_EXPORT}", line)
    elif "encoding" in lowered or "utf-8" in lowered or "bytes:" in lowered:
        reader.err("XML_ENCODING", "Le fichier contient des caractères qui ne correspondent pas "
                   f"à son encodage déclaré (ligne {line} : {msg}). {_RE_EXPORT}", line)
    elif "entity" in lowered or "doctype" in lowered:
        reader.err("XML_DTD_FORBIDDEN", "Le fichier contient des entités ou une DTD, ce "
                   f"qu'un export SIECLE ne contient jamais : refusé ({msg}).", line)
    else:
        reader.err("XML_MALFORMED", f"Le fichier XML est mal formé à la ligne {line} : {msg}. "
                   f"Il a peut-être été tronqué ou modifié. {_RE_EXPORT}", line)


def _parse_xml(stream: IO[bytes], name: str, imported_at: datetime,
               limits: Limits) -> _FileReader:
    reader = _FileReader(name, imported_at)
    wrapped = _Reader(stream, limits.max_xml_bytes)
    handlers: dict[str, Callable[[Any], None]] = {}
    # end events of the records only: the root is checked at the first record (or at the end
    # of a file without any), which halves the events Python sees
    events = etree.iterparse(wrapped, events=("end",), tag=_RECORD_TAGS, **_PARSER_OPTIONS)
    try:
        for _, el in events:
            if not reader.kind:
                reader.declared_encoding = wrapped.declared
                if not _accept_root(reader, el.getroottree()):
                    return reader
                handlers = reader.handlers()
            handler = handlers.get(el.tag)
            if handler is None:
                continue
            handler(el)
            el.clear(keep_tail=False)
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
        if not reader.kind:  # a file without any record: its root alone is checked
            if events.root is None:
                reader.err("XML_ROOT_UNKNOWN", _root_message(None), 1)
            else:
                _accept_root(reader, events.root.getroottree())
    except etree.XMLSyntaxError as exc:
        reader.declared_encoding = wrapped.declared
        _syntax_problem(reader, exc)
    except _TooLarge:
        reader.err("FILE_TOO_LARGE", f"Le fichier dépasse {limits.max_xml_bytes // 2**20} Mo : "
                   "ce n'est pas un export SIECLE d'un seul établissement.")
    for line in wrapped.typo_lines:
        reader.warn("TAG_TYPO", "La balise <STRICTURES_ELEVE> (faute de frappe connue des "
                    "exports SIECLE) est lue comme <STRUCTURES_ELEVE>.", line, "STRICTURES_ELEVE")
    return reader


def _accept_root(reader: _FileReader, tree: Any) -> bool:
    """Take the export kind from the root element, or report why the file is refused."""
    root = tree.getroot()
    if root.tag not in KINDS:
        reader.err("XML_ROOT_UNKNOWN", _root_message(root.tag), 1)
        return False
    if tree.docinfo.doctype:
        reader.err("XML_DTD_FORBIDDEN", "Le fichier déclare une DTD (<!DOCTYPE>), ce qu'un "
                   "export SIECLE ne contient jamais : refusé par sécurité.", root.sourceline or 1)
        return False
    reader.kind = root.tag
    reader.info = SourceInfo(reader.name, root.tag, version=root.get("VERSION"))
    return True


def _root_message(tag: object) -> str:
    return (f"L'élément racine est <{tag}> : ce fichier n'est pas un export SIECLE attendu "
            f"({', '.join(KINDS)}). Choisissez l'export « Élèves avec adresses », "
            "« Responsables avec adresses » ou « Nomenclatures » dans SIECLE.")


_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def detect_kind(head: bytes) -> str | None:
    """The BEE export kind from the first bytes of a file (its root element), if visible."""
    m = re.search(rb"<(BEE_[A-Z_]+)[\s>/]", head[:4096])
    kind = m[1].decode("ascii") if m else None
    return kind if kind in KINDS else None


def _open(source: Source) -> tuple[str, IO[bytes]]:
    if isinstance(source, tuple):
        import io

        return source[0], io.BytesIO(source[1])
    path = Path(source)
    return path.name, path.open("rb")


def _zip_members(name: str, stream: IO[bytes], limits: Limits,
                 problems: list[ImportProblem]) -> Iterator[tuple[str, IO[bytes]]]:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, EOFError):
        problems.append(error("ZIP_INVALID", f"L'archive zip est illisible. {_RE_EXPORT}",
                              file=name))
        return
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        names = {i.filename for i in infos}
        if "[Content_Types].xml" in names or "mimetype" in names:
            problems.append(_spreadsheet_problem(name))
            return
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if (len(infos) > limits.max_zip_members or total > limits.max_zip_total_bytes
                or total / packed > limits.max_zip_ratio):
            problems.append(error("ZIP_BOMB", f"L'archive contient {len(infos)} fichiers pour "
                                  f"{total // 2**20} Mo décompressés : elle dépasse les limites "
                                  "d'un export SIECLE et est refusée.", file=name))
            return
        xml = [i for i in infos if i.filename.lower().endswith(".xml")]
        if not xml:
            problems.append(error("ZIP_NO_XML", "L'archive ne contient aucun fichier .xml. "
                                  f"{_RE_EXPORT}", file=name))
            return
        for info in xml:
            try:
                with archive.open(info) as member:
                    yield f"{name}!{info.filename}", member
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error,
                    EOFError) as exc:
                problems.append(error("ZIP_INVALID", f"Le fichier {info.filename} de l'archive "
                                      f"est illisible ({exc}). {_RE_EXPORT}", file=name))


def _spreadsheet_problem(name: str) -> ImportProblem:
    return error("FILE_SPREADSHEET", "Ce fichier est un tableur (Excel ou Calc), pas un export "
                 "XML SIECLE. Déposez-le dans l'import de tableur avec sa correspondance de "
                 "colonnes, ou choisissez l'export XML dans SIECLE.", file=name)


def _read_source(source: Source, imported_at: datetime, limits: Limits,
                 problems: list[ImportProblem]) -> list[_FileReader]:
    try:
        name, stream = _open(source)
    except OSError as exc:
        problems.append(error("FILE_UNREADABLE", f"Le fichier ne peut pas être lu ({exc}).",
                              file=str(source)))
        return []
    readers: list[_FileReader] = []
    with stream:
        head = stream.read(8)
        stream.seek(0)
        if not head.strip():
            problems.append(error("FILE_EMPTY", f"Le fichier est vide. {_RE_EXPORT}", file=name))
        elif head.startswith(_ZIP):
            for member_name, member in _zip_members(name, stream, limits, problems):
                readers.append(_parse_xml(member, member_name, imported_at, limits))
        elif head.startswith(_OLE):
            problems.append(_spreadsheet_problem(name))
        else:
            readers.append(_parse_xml(stream, name, imported_at, limits))
    return readers


def read_siecle(*sources: Source, imported_at: datetime | None = None,
                limits: Limits = Limits()) -> ImportResult:
    """Read one or more SIECLE exports (any mix of the three kinds, raw or zipped).

    Never raises on bad content: check ``result.ok`` (or call ``import_siecle``).
    """
    with _collector_paused():
        return _read_siecle(sources, imported_at or datetime.now(UTC), limits)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a read, then turn it back on.

    A read allocates hundreds of thousands of objects that all live until the result is
    returned, which triggers collections, full ones as the heap grows: about a fifth of the
    time of a 20,000-record file, for nothing, since records hold no reference cycles (lxml's
    parser leaves one small cycle per file, collected once the collector is back). Memory is
    freed by reference counting as usual. The switch is process-wide: other threads run
    without cyclic collections for the few seconds of a read, and a second read in another
    thread may turn the collector back on before the first one ends (which only costs that one
    time).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _read_siecle(sources: Iterable[Source], when: datetime, limits: Limits) -> ImportResult:
    problems: list[ImportProblem] = []
    readers: list[_FileReader] = []
    for source in sources:
        readers.extend(_read_source(source, when, limits, problems))
    pupils: list[PupilRecord] = []
    guardians: list[GuardianRecord] = []
    nomenclature: Nomenclature | None = None
    for reader in readers:
        if reader.kind == "BEE_ELEVES":
            pupils.extend(reader.pupil_records())
        elif reader.kind == "BEE_RESPONSABLES":
            guardians.extend(reader.guardian_records())
        elif reader.kind == "BEE_NOMENCLATURES":
            if nomenclature is not None:
                reader.warn("DUPLICATE_FILE", "Plusieurs nomenclatures ont été déposées : seule "
                            "la dernière est gardée.")
            nomenclature = reader.nomenclature()
        problems.extend(reader.problems)
    problems.extend(_cross_checks(pupils, guardians,
                                  any(r.kind == "BEE_ELEVES" for r in readers)))
    frozen_guardians = tuple(guardians)
    return ImportResult(tuple(r.info for r in readers if r.kind), tuple(pupils),
                        frozen_guardians, nomenclature, tuple(problems),
                        index_guardians(frozen_guardians))


def import_siecle(*sources: Source, imported_at: datetime | None = None,
                  limits: Limits = Limits()) -> ImportResult:
    """``read_siecle``, raising ``SiecleFileError`` (with every problem) if any is an error."""
    result = read_siecle(*sources, imported_at=imported_at, limits=limits)
    result.raise_for_errors(SiecleFileError)
    return result


def _cross_checks(pupils: Iterable[PupilRecord], guardians: Iterable[GuardianRecord],
                  have_pupils: bool) -> list[ImportProblem]:
    """Across files: the same pupil twice (ELEVE_ID or INE), links to pupils not imported."""
    problems: list[ImportProblem] = []
    by_id: dict[str, PupilRecord] = {}
    by_ine: dict[str, PupilRecord] = {}
    for pupil in pupils:
        if pupil.eleve_id in by_id:
            line, where = _where(pupil)
            problems.append(error("DUPLICATE_ID", f"L'élève ELEVE_ID={pupil.eleve_id} est "
                                  "présent dans deux fichiers.", line, file=where))
        by_id.setdefault(pupil.eleve_id, pupil)
        ine = pupil.ine
        if ine and ine in by_ine and by_ine[ine].eleve_id != pupil.eleve_id:
            line, where = _where(pupil)
            problems.append(error("DUPLICATE_ID", f"L'INE {ine} est celui de deux élèves "
                                  f"(ELEVE_ID={by_ine[ine].eleve_id} et {pupil.eleve_id}). "
                                  "Corrigez la fiche dans SIECLE puis refaites l'export.",
                                  line, file=where))
        by_ine.setdefault(ine or "", pupil)
    if have_pupils:
        for guardian in guardians:
            for i, link in enumerate(guardian.links):
                if link.eleve_id not in by_id:
                    line, where = _where(guardian, f"links[{i}].eleve_id")
                    problems.append(warning(
                        "UNKNOWN_REFERENCE", f"Le responsable PERSONNE_ID={guardian.personne_id}"
                        f" est lié à l'élève ELEVE_ID={link.eleve_id}, absent de l'export des "
                        "élèves.", line, file=where))
    return problems


def _where(record: PupilRecord | GuardianRecord, path: str = "eleve_id") -> tuple[int, str]:
    """Line and file of a record's value at ``path``, for a problem (provenance is built on
    demand: only a record with a problem pays for it)."""
    prov = record.provenance.get(path)
    return (prov.line, prov.source_file) if prov else (0, "")
