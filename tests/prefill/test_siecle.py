"""SIECLE BEE imports: the shared samples field by field, variants and bad files."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.campaign.namespace import GUARDIAN_KEYS, PUPIL_KEYS
from engine.fields.date import read_date
from engine.fields.phone import canonical_phone
from engine.prefill import (
    Limits,
    Option,
    SiecleFileError,
    Structure,
    detect_kind,
    import_siecle,
    read_siecle,
)

SAMPLES = Path(__file__).parent / "samples"
ELEVES = SAMPLES / "eleves_avec_adresse_simple.xml"
RESPONSABLES = SAMPLES / "responsables_avec_adresses_simple.xml"
NOMENCLATURE = SAMPLES / "nomenclature_simple.xml"
WHEN = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def codes(result: object) -> list[str]:
    return [p.code for p in result.problems]  # type: ignore[attr-defined]


def error_codes(result: object) -> list[str]:
    return [p.code for p in result.errors]  # type: ignore[attr-defined]


def test_eleves_sample_field_by_field() -> None:
    result = read_siecle(ELEVES, imported_at=WHEN)
    assert result.ok
    assert sorted(codes(result)) == ["ELENOET_MISMATCH", "TAG_TYPO"]
    typo = next(p for p in result.problems if p.code == "TAG_TYPO")
    assert typo.line == 134 and not typo.is_error
    info = result.sources[0]
    assert (info.kind, info.version, info.uaj, info.school_year, info.export_date) == (
        "BEE_ELEVES", "3.0", "0752387M", "2019", date(2019, 7, 6))
    farid, lacos = result.pupils
    assert farid.eleve_id == "1826500" and farid.elenoet == "5496"
    assert farid.id_national == farid.ine_rnie == farid.ine == "070832327JA"
    assert farid.ine_bea is None and farid.id_eleve_etab == "05386252387"
    assert (farid.last_name, farid.first_name, farid.first_name_2, farid.first_name_3) == (
        "ISSOLIHA", "FArid", "Keita", None)
    # dates and phones are kept as written; the field types read them
    assert farid.birth_date == "22/12/2004" and read_date(farid.birth_date) == date(2004, 12, 22)
    assert farid.doublement is False and farid.accepts_sms is False
    assert farid.birth_country_code == "100" and farid.nationality_code == "335"
    assert read_date(farid.modified_date) == date(2019, 6, 2)
    assert read_date(farid.entry_date) == date(2019, 2, 12)
    assert farid.regime_code == "24" and farid.sex_code == "1" and farid.statut == "ST"
    assert farid.mef_code == "10310019110" and farid.birth_department == "093"
    assert farid.birth_commune_insee == "93066" and farid.birth_town_foreign is None
    assert farid.transport is False and farid.code_provenance == "1"
    prev = farid.previous
    assert prev is not None
    assert (prev.mef_code, prev.structure_code, prev.uai, prev.nature_code, prev.sigle) == (
        "10210001110", "4 D", "0752387M", "340", "CLG")
    assert prev.school_name == "COLLEGE ANDRE MALRAUX"
    assert (prev.address_line1, prev.po_box, prev.email, prev.phone) == (
        "5 bis rue Saint-Ferdinand", None, "ce.0752387M@ac-paris.fr", "0145744915")
    assert (prev.commune_insee, prev.commune_label) == ("75117", "PARIS 17E  ARRONDISSEMENT")
    assert farid.options == (Option("030201", "O", 1), Option("030602", "O", 2))
    assert farid.structures == (Structure("3 A", "D"),) and farid.division == "3 A"
    # the second pupil: INE_BEA, ID_PRV_ELE, PRENOM3, the ELENOET element wins
    assert lacos.elenoet == "8193" and lacos.ine_bea == "0113014881M"
    assert lacos.id_prv_ele == "9065" and lacos.first_name_3 == "PRENOM3"
    assert lacos.accepts_sms is None and read_date(lacos.birth_date) == date(2002, 12, 9)
    assert lacos.options[2] == Option("061300", "F", 3)
    # read through the STRICTURES_ELEVE typo
    assert lacos.division == "TS3"


def test_provenance_of_every_value() -> None:
    farid = read_siecle(ELEVES, imported_at=WHEN).pupils[0]
    prov = farid.provenance["birth_date"]
    assert prov.source_file == "eleves_avec_adresse_simple.xml"
    assert prov.element == "ELEVE[@ELEVE_ID=1826500]/DATE_NAISS"
    assert prov.imported_at == WHEN and prov.line == 11  # the line of <ELEVE>
    assert farid.provenance["previous.uai"].element == (
        "ELEVE[@ELEVE_ID=1826500]/SCOLARITE_AN_DERNIER/CODE_RNE")
    assert farid.provenance["options[1].code_matiere"].element == (
        "OPTION[@ELEVE_ID=1826500]/OPTIONS_ELEVE[2]/CODE_MATIERE")
    assert farid.provenance["division"].element == (
        "STRUCTURES_ELEVE[@ELEVE_ID=1826500]/STRUCTURE[1]/CODE_STRUCTURE")
    # every field read from the file has a provenance entry
    for name in ("last_name", "first_name", "mef_code", "regime_code", "id_national"):
        assert name in farid.provenance


def test_pupil_prefill_matches_the_campaign_namespace() -> None:
    result = read_siecle(ELEVES, NOMENCLATURE, imported_at=WHEN)
    farid = result.pupils[0]
    snapshot = result.prefill_for(farid)
    pupil = snapshot["pupil"]
    assert set(pupil) == set(PUPIL_KEYS)
    assert pupil["birth_date"] == "2004-12-22" and pupil["sex"] == "M"
    assert pupil["level"] == "3e" and pupil["division"] == "3 A"
    assert pupil["birth_commune"] == "Saint-Denis" and pupil["birth_country"] == "FR"
    assert pupil["nationality"] == "ML" and pupil["options"] == ["030201", "030602"]
    assert pupil["previous_school_name"] == "COLLEGE ANDRE MALRAUX"
    assert snapshot["guardians"] == []
    prov = result.prefill_provenance_for(farid)
    assert prov["pupil.birth_date"].element.endswith("/DATE_NAISS")
    assert prov["pupil.level"].element.endswith("/CODE_MEF")


def test_responsables_sample_and_siblings() -> None:
    result = read_siecle(RESPONSABLES, imported_at=WHEN)
    assert result.ok
    rock, truc, lovelace = result.guardians
    assert rock.personne_id == "209401" and rock.civility == "MME"
    assert rock.civility_label == "MADAME" and rock.last_name == "ROCK"
    assert rock.phone_home == "+33231204444"
    assert rock.phone_mobile is not None and canonical_phone(rock.phone_mobile) == "+33764444288"
    assert rock.phone_work is None and rock.accepts_sms is True
    assert rock.email == "rock33445570@hotmail.fr" and rock.communication_adresse is True
    assert rock.profession_code == "75" and rock.address_id == "189317"
    assert rock.address is not None
    assert (rock.address.line1, rock.address.line2, rock.address.postal_code) == (
        "18 RUE DES HOMMETS", "MEZIDON CANON", "14270")
    assert (rock.address.commune_insee, rock.address.commune_label) == (
        "14431", "MEZIDON VALLEE D AUGE")
    assert rock.address.department_code == "014" and rock.address.country_label == "FRANCE"
    link = rock.links[0]
    assert (link.eleve_id, link.code_parente, link.niveau_responsabilite) == ("610308", "10", "1")
    assert link.paie_frais_scolaires and link.percoit_aides and link.heberge_eleve
    assert link.a_contacter_en_priorite
    assert truc.links[0].paie_frais_scolaires is False and truc.profession_code == "78"
    assert lovelace.links[0].eleve_id == "610305"
    # two guardians for pupil 610308, the priority contact first
    assert [g.personne_id for g in result.guardians_of("610308")] == ["209401", "209406"]
    row = rock.as_prefill("610308")
    assert set(row) == set(GUARDIAN_KEYS)
    assert row["address"]["commune"] == "MEZIDON VALLEE D AUGE" and row["pays_frais"] is True
    assert rock.prefill_provenance("610308")["relationship"].element == (
        "RESPONSABLE_ELEVE[1]/CODE_PARENTE")
    assert rock.provenance["address.postal_code"].element == (
        "ADRESSE[@ADRESSE_ID=189317]/CODE_POSTAL")


def test_guardian_shared_by_siblings() -> None:
    xml = RESPONSABLES.read_bytes().replace(
        b"<ELEVE_ID>610305</ELEVE_ID>\n        <PERSONNE_ID>209400</PERSONNE_ID>",
        b"<ELEVE_ID>610305</ELEVE_ID>\n        <PERSONNE_ID>209401</PERSONNE_ID>")
    result = read_siecle(("resp.xml", xml))
    rock = next(g for g in result.guardians if g.personne_id == "209401")
    assert [k.eleve_id for k in rock.links] == ["610308", "610305"]
    assert result.guardians_of("610305") == (rock,)
    assert rock.as_prefill("610305")["pays_frais"] is False
    assert rock.as_prefill("610308")["pays_frais"] is True


def test_nomenclature_sample_and_o_beats_s() -> None:
    result = read_siecle(NOMENCLATURE)
    nom = result.nomenclature
    assert result.ok and nom is not None
    mef = nom.mefs["10110001110"]
    assert (mef.label_long, mef.label_edition, mef.formation, mef.statut) == (
        "5EME", "5ème", "5G", "1")
    assert mef.nb_opt_oblig == 2 and read_date(mef.date_fermeture) == date(9999, 12, 31)
    assert mef.extra["MEF_SELORIG"] == "1"
    latin = nom.matieres["020300"]
    assert (latin.code_gestion, latin.label_short) == ("LCALA", "LCA LATIN")
    assert nom.programmes[0].code_modalite_elect == "F"
    assert nom.mandatory_options[0].rang == 1
    assert nom.as_prefill()["mefs"]["10110001110"]["level"] == "5e"
    prog = (b"<PROGRAMME><CODE_MEF>10110001110</CODE_MEF><CODE_MATIERE>061300</CODE_MATIERE>"
            b"<CODE_MODALITE_ELECT>%s</CODE_MODALITE_ELECT></PROGRAMME>")
    for order in ((b"S", b"O"), (b"O", b"S")):
        xml = NOMENCLATURE.read_bytes().replace(
            b"<PROGRAMMES>", b"<PROGRAMMES>" + prog % order[0] + prog % order[1])
        nom2 = read_siecle(("n.xml", xml)).nomenclature
        assert nom2 is not None
        maths = [p for p in nom2.programmes if p.code_matiere == "061300"]
        assert [p.code_modalite_elect for p in maths] == ["O"]


def test_double_structure_division_is_first_of_type_d() -> None:
    xml = ELEVES.read_bytes().replace(
        b"""<STRUCTURE>
          <CODE_STRUCTURE>3 A</CODE_STRUCTURE>""", b"""<STRUCTURE>
          <CODE_STRUCTURE>_301P1</CODE_STRUCTURE>
          <TYPE_STRUCTURE>G</TYPE_STRUCTURE>
        </STRUCTURE>
        <STRUCTURE>
          <CODE_STRUCTURE>301</CODE_STRUCTURE>""")
    farid = read_siecle(("double.xml", xml)).pupils[0]
    assert farid.structures == (Structure("_301P1", "G"), Structure("301", "D"))
    assert farid.division == "301"
    assert farid.provenance["division"].element.endswith("STRUCTURE[2]/CODE_STRUCTURE")


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_zipped_delivery() -> None:
    data = zipped({"ElevesAvecAdresses.xml": ELEVES.read_bytes(),
                   "ResponsablesAvecAdresses.xml": RESPONSABLES.read_bytes()})
    result = read_siecle(("ExportXML.zip", data))
    assert result.ok and len(result.pupils) == 2 and len(result.guardians) == 3
    assert result.pupils[0].provenance["last_name"].source_file == (
        "ExportXML.zip!ElevesAvecAdresses.xml")


def test_zip_bomb_and_bad_zips() -> None:
    bomb = zipped({"big.xml": b"<BEE_ELEVES>" + b" " * 5_000_000 + b"</BEE_ELEVES>"})
    assert error_codes(read_siecle(("bomb.zip", bomb))) == ["ZIP_BOMB"]
    many = zipped({f"f{i}.xml": b"<x/>" for i in range(20)})
    assert error_codes(read_siecle(("many.zip", many))) == ["ZIP_BOMB"]
    small = Limits(max_zip_total_bytes=1000)
    assert error_codes(read_siecle(("e.zip", zipped({"e.xml": ELEVES.read_bytes()})),
                                   limits=small)) == ["ZIP_BOMB"]
    assert error_codes(read_siecle(("none.zip", zipped({"a.txt": b"hello"})))) == ["ZIP_NO_XML"]
    assert error_codes(read_siecle(("cut.zip", zipped({"a.xml": b"x"})[:30]))) == [
        "ZIP_INVALID"]


def test_utf8_file_and_detect_kind() -> None:
    xml = NOMENCLATURE.read_bytes().decode("iso-8859-15").replace(
        'encoding="ISO-8859-15"', 'encoding="UTF-8"').encode("utf-8")
    nom = read_siecle(("n.xml", xml)).nomenclature
    assert nom is not None and nom.mefs["10110001110"].label_edition == "5ème"
    assert detect_kind(xml) == "BEE_NOMENCLATURES"
    assert detect_kind(b"<html>") is None


BAD = {
    "unclosed": (b'<?xml version="1.0"?>\n<BEE_ELEVES>\n<DONNEES>\n</BEE_ELEVES>', "XML_MALFORMED",
                 4),
    "truncated": (ELEVES.read_bytes()[:2000], "XML_MALFORMED", 0),
    "empty": (b"", "FILE_EMPTY", 0),
    "wrong encoding": ('<?xml version="1.0" encoding="UTF-8"?>\n<BEE_ELEVES>\n<PARAMETRES>'
                       '<UAJ>é</UAJ></PARAMETRES></BEE_ELEVES>'.encode("latin-1"),
                       "XML_ENCODING", 3),
    "wrong root": (b"<BEE_STRUCTURES VERSION='1'><DONNEES/></BEE_STRUCTURES>",
                   "XML_ROOT_UNKNOWN", 1),
    "xxe": (b'<?xml version="1.0"?>\n<!DOCTYPE BEE_ELEVES [<!ENTITY e SYSTEM '
            b'"file:///etc/passwd">]>\n<BEE_ELEVES>&e;</BEE_ELEVES>', "XML_DTD_FORBIDDEN", 0),
    "billion laughs": (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                       + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)
                                                                  if i > 1 else b"&lol;") * 10)
                                  for i in range(1, 10))
                       + b']>\n<BEE_ELEVES>&lol9;</BEE_ELEVES>', "XML_DTD_FORBIDDEN", 0),
    "external dtd": (b'<?xml version="1.0"?>\n<!DOCTYPE BEE_ELEVES SYSTEM '
                     b'"http://127.0.0.1:9/x.dtd">\n<BEE_ELEVES/>', "XML_DTD_FORBIDDEN", 0),
    "undeclared entity": (b"<BEE_ELEVES>&e;</BEE_ELEVES>", "XML_MALFORMED", 1),
    "xlsx renamed": (zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>"}),
                     "FILE_SPREADSHEET", 0),
    "xls renamed": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "FILE_SPREADSHEET",
                    0),
    "binary": (bytes(range(256)), "XML_NOT_XML", 0),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_are_refused_with_a_problem(case: str) -> None:
    data, code, line = BAD[case]
    result = read_siecle((f"{case}.xml", data))
    assert not result.ok and not result.pupils
    assert code in error_codes(result), result.problems
    problem = next(p for p in result.errors if p.code == code)
    if line:
        assert problem.line == line
    assert problem.message and problem.file == f"{case}.xml"
    with pytest.raises(SiecleFileError) as info:
        import_siecle((f"{case}.xml", data))
    assert info.value.problems[0].is_error


def test_xxe_content_never_appears() -> None:
    data = BAD["xxe"][0]
    result = read_siecle(("x.xml", data))
    assert all("root:" not in p.message for p in result.problems)


def pupil_xml(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<BEE_ELEVES VERSION="3.0">\n<DONNEES>'
            f"<ELEVES>\n{body}\n</ELEVES></DONNEES></BEE_ELEVES>").encode()


def test_missing_mandatory_elements() -> None:
    result = read_siecle(("m.xml", pupil_xml(
        "<ELEVE><NOM_DE_FAMILLE>A</NOM_DE_FAMILLE></ELEVE>\n"
        '<ELEVE ELEVE_ID="2"><PRENOM>B</PRENOM><DATE_NAISS>01/01/2010</DATE_NAISS></ELEVE>\n'
        '<ELEVE ELEVE_ID="3"><NOM_DE_FAMILLE>C</NOM_DE_FAMILLE><DATE_NAISS/></ELEVE>')))
    problems = [(p.code, p.line) for p in result.errors]
    assert problems == [("MISSING_ELEMENT", 4), ("MISSING_ELEMENT", 5),
                        ("MISSING_ELEMENT", 6)]
    assert "NOM_DE_FAMILLE" in result.errors[1].message
    assert "DATE_NAISS" in result.errors[2].message
    resp = read_siecle(("r.xml", b"<BEE_RESPONSABLES><DONNEES><PERSONNES>\n<PERSONNE>"
                        b"<NOM_DE_FAMILLE>X</NOM_DE_FAMILLE></PERSONNE></PERSONNES></DONNEES>"
                        b"</BEE_RESPONSABLES>"))
    assert [(p.code, p.line) for p in resp.errors] == [("MISSING_ELEMENT", 2)]


def test_invalid_dates_and_duplicate_ids() -> None:
    one = ('<ELEVE ELEVE_ID="{id}"><ID_NATIONAL>{ine}</ID_NATIONAL><NOM_DE_FAMILLE>A'
           "</NOM_DE_FAMILLE><DATE_NAISS>{d}</DATE_NAISS></ELEVE>")
    result = read_siecle(("d.xml", pupil_xml("\n".join([
        one.format(id=1, ine="1", d="31/02/2010"), one.format(id=2, ine="2", d="2010-13-01"),
        one.format(id=3, ine="3", d="01/01/2010"), one.format(id=3, ine="4", d="01/01/2010"),
        one.format(id=5, ine="3", d="01/01/2010")]))))
    assert [(p.code, p.line) for p in result.errors] == [
        ("INVALID_DATE", 4), ("INVALID_DATE", 5), ("DUPLICATE_ID", 7), ("DUPLICATE_ID", 8)]
    assert "n'est pas une date qui existe" in result.errors[0].message
    persons = b"".join(b'<PERSONNE PERSONNE_ID="9"><NOM_DE_FAMILLE>X</NOM_DE_FAMILLE>'
                       b"</PERSONNE>\n" for _ in range(2))
    resp = read_siecle(("r.xml", b"<BEE_RESPONSABLES><DONNEES><PERSONNES>\n" + persons
                        + b"</PERSONNES></DONNEES></BEE_RESPONSABLES>"))
    assert [(p.code, p.line) for p in resp.errors] == [("DUPLICATE_ID", 3)]


def test_file_too_large_is_refused() -> None:
    result = read_siecle(ELEVES, limits=Limits(max_xml_bytes=1000))
    assert error_codes(result) == ["FILE_TOO_LARGE"]


def test_missing_file() -> None:
    assert error_codes(read_siecle(SAMPLES / "nope.xml")) == ["FILE_UNREADABLE"]


def test_comments_and_processing_instructions_inside_records_are_ignored(
        tmp_path: Path) -> None:
    original = (SAMPLES / "eleves_avec_adresse_simple.xml").read_bytes()
    at = original.index(b"<NOM_DE_FAMILLE>")
    annotated = tmp_path / "annotated.xml"
    annotated.write_bytes(original[:at] + b"<!-- vu -->\n<?outil x?>" + original[at:])
    plain, noted = read_siecle(SAMPLES / "eleves_avec_adresse_simple.xml"), read_siecle(annotated)
    assert noted.ok and len(noted.pupils) == len(plain.pupils)
    for a, b in zip(plain.pupils, noted.pupils, strict=True):
        assert a.last_name == b.last_name and a.extra == b.extra and a.birth_date == b.birth_date
