"""Time and memory of the SIECLE importer against a bare lxml iterparse over the same files.

Run: ``python tests/benchmarks/bench_siecle_parse.py [--repeat N]``. Generates BEE_ELEVES files
of 10,000 and 20,000 pupils and BEE_RESPONSABLES files of 20,000 and 40,000 guardians in a temp
dir. Each measure runs in a fresh subprocess so peak RSS (``ru_maxrss``) belongs to that measure
alone. The measures of a file are taken in turn N times (default 3) and the best time of each
is kept, so a burst of load on the machine does not land on one side only. ``bare`` is lxml's
default iterparse (the goal is stated against it); ``bare*`` adds the importer's parser options,
which make libxml2's own work a little lighter.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

ELEVE = """      <ELEVE ELEVE_ID="{id}" ELENOET="{id}">
        <ID_NATIONAL>{id:09d}AB</ID_NATIONAL><INE_RNIE>{id:09d}AB</INE_RNIE>
        <ELENOET>{id}</ELENOET><ID_ELEVE_ETAB>{id:011d}</ID_ELEVE_ETAB>
        <NOM_DE_FAMILLE>NOM{id}</NOM_DE_FAMILLE><PRENOM>Prénom</PRENOM><PRENOM2>Deux</PRENOM2>
        <DATE_NAISS>{day:02d}/06/2011</DATE_NAISS><DOUBLEMENT>0</DOUBLEMENT>
        <CODE_PAYS>100</CODE_PAYS><ACCEPTE_SMS>1</ACCEPTE_SMS>
        <DATE_MODIFICATION>02/06/2024</DATE_MODIFICATION><CODE_REGIME>24</CODE_REGIME>
        <DATE_ENTREE>01/09/2023</DATE_ENTREE><VILLE_NAISS/><CODE_SEXE>{sex}</CODE_SEXE>
        <CODE_PAYS_NAT>100</CODE_PAYS_NAT><CODE_STATUT>ST</CODE_STATUT>
        <CODE_MEF>10110001110</CODE_MEF><CODE_DEPARTEMENT_NAISS>093</CODE_DEPARTEMENT_NAISS>
        <CODE_COMMUNE_INSEE_NAISS>93066</CODE_COMMUNE_INSEE_NAISS>
        <ADHESION_TRANSPORT>0</ADHESION_TRANSPORT><CODE_PROVENANCE>1</CODE_PROVENANCE>
        <SCOLARITE_AN_DERNIER><CODE_MEF>10010012110</CODE_MEF><CODE_STRUCTURE>6 B</CODE_STRUCTURE>
          <CODE_RNE>0752387M</CODE_RNE><SIGLE>CLG</SIGLE><DENOM_PRINC>COLLEGE</DENOM_PRINC>
          <DENOM_COMPL>ANDRE MALRAUX</DENOM_COMPL><CODE_COMMUNE_INSEE>75117</CODE_COMMUNE_INSEE>
        </SCOLARITE_AN_DERNIER>
      </ELEVE>
"""
OPTION = """      <OPTION ELEVE_ID="{id}" ELENOET="{id}">
        <OPTIONS_ELEVE><NUM_OPTION>1</NUM_OPTION><CODE_MODALITE_ELECT>O</CODE_MODALITE_ELECT>
          <CODE_MATIERE>030201</CODE_MATIERE></OPTIONS_ELEVE>
        <OPTIONS_ELEVE><NUM_OPTION>2</NUM_OPTION><CODE_MODALITE_ELECT>O</CODE_MODALITE_ELECT>
          <CODE_MATIERE>030602</CODE_MATIERE></OPTIONS_ELEVE>
      </OPTION>
"""
STRUCTURE = """      <STRUCTURES_ELEVE ELEVE_ID="{id}" ELENOET="{id}">
        <STRUCTURE><CODE_STRUCTURE>5 A</CODE_STRUCTURE><TYPE_STRUCTURE>D</TYPE_STRUCTURE>
        </STRUCTURE>
        <STRUCTURE><CODE_STRUCTURE>_5AG1</CODE_STRUCTURE><TYPE_STRUCTURE>G</TYPE_STRUCTURE>
        </STRUCTURE>
      </STRUCTURES_ELEVE>
"""
PERSONNE = """      <PERSONNE PERSONNE_ID="{id}">
        <LC_CIVILITE>MME</LC_CIVILITE><LL_CIVILITE>MADAME</LL_CIVILITE>
        <NOM_DE_FAMILLE>NOM{id}</NOM_DE_FAMILLE><PRENOM>Prénom</PRENOM>
        <TEL_PERSONNEL>+33231204444</TEL_PERSONNEL><TEL_PORTABLE>06 12 34 56 78</TEL_PORTABLE>
        <ACCEPTE_SMS>1</ACCEPTE_SMS><TEL_PROFESSIONNEL/><MEL>p{id}@example.fr</MEL>
        <COMMUNICATION_ADRESSE>1</COMMUNICATION_ADRESSE><ADRESSE_ID>{id}</ADRESSE_ID>
        <CODE_PROFESSION>75</CODE_PROFESSION>
      </PERSONNE>
"""
LINK = """      <RESPONSABLE_ELEVE><ELEVE_ID>{pupil}</ELEVE_ID><PERSONNE_ID>{id}</PERSONNE_ID>
        <NIVEAU_RESPONSABILITE>1</NIVEAU_RESPONSABILITE><CODE_PARENTE>10</CODE_PARENTE>
        <PAIE_FRAIS_SCOLAIRES>1</PAIE_FRAIS_SCOLAIRES><PERCOIT_LES_AIDES>false</PERCOIT_LES_AIDES>
        <HEBERGE_ELEVE>true</HEBERGE_ELEVE><A_CONTACTER_EN_PRIORITE>true</A_CONTACTER_EN_PRIORITE>
      </RESPONSABLE_ELEVE>
"""
ADRESSE = """      <ADRESSE ADRESSE_ID="{id}"><LIGNE1_ADRESSE>{id} RUE DES HOMMETS</LIGNE1_ADRESSE>
        <LIGNE2_ADRESSE/><LIGNE3_ADRESSE/><LIGNE4_ADRESSE/><COMMUNE_ETRANGERE/>
        <CODE_POSTAL>14270</CODE_POSTAL><CODE_PAYS>100</CODE_PAYS>
        <CODE_COMMUNE_INSEE>14431</CODE_COMMUNE_INSEE><LL_PAYS>FRANCE</LL_PAYS>
        <CODE_DEPARTEMENT>014</CODE_DEPARTEMENT><LIBELLE_POSTAL>MEZIDON</LIBELLE_POSTAL>
      </ADRESSE>
"""
HEAD = ('<?xml version="1.0" encoding="ISO-8859-15"?>\n<{root} VERSION="3.0">\n<PARAMETRES>'
        "<UAJ>0752387M</UAJ><ANNEE_SCOLAIRE>2024</ANNEE_SCOLAIRE></PARAMETRES>\n<DONNEES>\n")


def write_eleves(path: Path, n: int) -> None:
    with path.open("w", encoding="iso-8859-15") as f:
        f.write(HEAD.format(root="BEE_ELEVES") + "    <ELEVES>\n")
        for i in range(1, n + 1):
            f.write(ELEVE.format(id=i, day=i % 28 + 1, sex=i % 2 + 1))
        f.write("    </ELEVES>\n    <OPTIONS>\n")
        for i in range(1, n + 1):
            f.write(OPTION.format(id=i))
        f.write("    </OPTIONS>\n    <STRUCTURES>\n")
        for i in range(1, n + 1):
            f.write(STRUCTURE.format(id=i))
        f.write("    </STRUCTURES>\n</DONNEES>\n</BEE_ELEVES>\n")


def write_responsables(path: Path, n: int) -> None:
    with path.open("w", encoding="iso-8859-15") as f:
        f.write(HEAD.format(root="BEE_RESPONSABLES") + "    <PERSONNES>\n")
        for i in range(1, n + 1):
            f.write(PERSONNE.format(id=i))
        f.write("    </PERSONNES>\n    <RESPONSABLES>\n")
        for i in range(1, n + 1):
            f.write(LINK.format(id=i, pupil=(i + 1) // 2))
        f.write("    </RESPONSABLES>\n    <ADRESSES>\n")
        for i in range(1, n + 1):
            f.write(ADRESSE.format(id=i))
        f.write("    </ADRESSES>\n</DONNEES>\n</BEE_RESPONSABLES>\n")


def bare(path: Path, **options: Any) -> int:
    """The floor: stream every record element and clear it, reading nothing."""
    count = 0
    for _, el in etree.iterparse(str(path), events=("end",), tag=(
            "ELEVE", "OPTION", "STRUCTURES_ELEVE", "PERSONNE", "RESPONSABLE_ELEVE", "ADRESSE"),
            **options):
        count += 1
        el.clear(keep_tail=False)
        while el.getprevious() is not None:
            del el.getparent()[0]
    return count


def bare_options(path: Path) -> int:
    """The same with the importer's parser options (no blank text nodes, no comments...)."""
    from engine.prefill.siecle import _PARSER_OPTIONS

    return bare(path, **_PARSER_OPTIONS)


def visit(path: Path) -> int:
    """Bare streaming that also touches every value (tag and text of each child): the floor
    for any importer that reads the fields with lxml from Python."""
    count = 0
    for _, el in etree.iterparse(str(path), events=("end",), tag=(
            "ELEVE", "OPTION", "STRUCTURES_ELEVE", "PERSONNE", "RESPONSABLE_ELEVE", "ADRESSE")):
        for child in el:
            count += bool(child.tag and child.text)
            for leaf in child:
                count += bool(leaf.tag and leaf.text)
        el.clear(keep_tail=False)
        while el.getprevious() is not None:
            del el.getparent()[0]
    return count


def importer(path: Path) -> int:
    from engine.prefill import read_siecle

    result = read_siecle(path)
    assert result.ok, result.errors[:3]
    return len(result.pupils) + len(result.guardians)


def measure(mode: str, path: str, trace: bool) -> None:
    """Child process: time without tracing, then (``trace``) the Python heap peak with
    tracemalloc."""
    fn = {"bare": bare, "bare*": bare_options, "visit": visit, "importer": importer}[mode]
    if mode in ("importer", "bare*"):
        import engine.prefill  # noqa: F401 - module import time is not parse time
        from engine.refdata import commune_by_insee

        commune_by_insee("75056")  # load the reference tables outside the timing
    start = time.perf_counter()
    count = fn(Path(path))
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = 0
    if trace:
        tracemalloc.start()
        fn(Path(path))
        peak = tracemalloc.get_traced_memory()[1]
    print(json.dumps({"seconds": seconds, "count": count, "rss_kb": rss, "heap": peak}))


def run(mode: str, path: Path, trace: bool) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--measure", mode, str(path), str(int(trace))],
                         check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out))


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    """The fastest time, the largest peak RSS and the heap peak (traced on the first run)."""
    return {"seconds": min(r["seconds"] for r in runs), "count": runs[0]["count"],
            "rss_kb": max(r["rss_kb"] for r in runs), "heap": runs[0]["heap"]}


def main(repeat: int) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, writer, n in (("BEE_ELEVES", write_eleves, 10_000),
                                 ("BEE_ELEVES", write_eleves, 20_000),
                                 ("BEE_RESPONSABLES", write_responsables, 20_000),
                                 ("BEE_RESPONSABLES", write_responsables, 40_000)):
            path = Path(tmp) / f"{label}_{n}.xml"
            writer(path, n)
            runs: dict[str, list[dict[str, float]]] = {
                "bare": [], "bare*": [], "visit": [], "importer": []}
            for turn in range(repeat):
                for mode, done in runs.items():
                    done.append(run(mode, path, trace=turn == 0))
            rows.append((f"{label} {n:,}", path.stat().st_size / 2**20,
                         *(best(runs[mode]) for mode in runs)))
    print(f"{'file':<24}{'MB':>6}{'bare s':>8}{'bare* s':>9}{'visit s':>9}{'import s':>10}"
          f"{'x bare':>8}{'x bare*':>8}{'x visit':>8}{'bare RSS':>10}{'imp RSS':>9}"
          f"{'imp heap':>10}{'heap/rec':>9}")
    for name, mb, b, o, v, i in rows:
        t = i["seconds"]
        print(f"{name:<24}{mb:>6.1f}{b['seconds']:>8.2f}{o['seconds']:>9.2f}{v['seconds']:>9.2f}"
              f"{t:>10.2f}{t / b['seconds']:>8.2f}{t / o['seconds']:>8.2f}{t / v['seconds']:>8.2f}"
              f"{b['rss_kb'] / 1024:>9.0f}M{i['rss_kb'] / 1024:>8.0f}M"
              f"{i['heap'] / 2**20:>9.0f}M{i['heap'] / i['count'] / 1024:>8.1f}K")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--measure":
        measure(sys.argv[2], sys.argv[3], sys.argv[4] == "1")
    elif len(sys.argv) == 3 and sys.argv[1] == "--repeat":
        main(int(sys.argv[2]))
    else:
        main(3)
