"""The SIECLE return: valid against schema 3.1 (lxml) plus the two-character CODE_PARENTE rule,
the family's new values in it, and the reasons each kind of blocked dossier is left out."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy.orm import Session

from engine.dossiers.campaigns import context_of
from engine.dossiers.diff import known_values
from engine.dossiers.models import Dossier
from engine.dossiers.review import correct_value
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.versions import CampaignCache
from engine.exports.dossier_tables import changes_table
from engine.exports.siecle import (
    SiecleReturn,
    address_lines,
    siecle_return,
    write_siecle_zip,
)

from .kit import TILLEULS, export_file, export_job, prefill, selection, submit
from conftest import _csrf_token

SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).parent / "data"
                                         / "schema_Import_3.1.xsd")))
WHEN = datetime(2027, 6, 20, 14, 5, 9)


def check(result: SiecleReturn) -> etree._Element:
    """The file parsed, checked against the XSD and the CODE_PARENTE rule."""
    root = etree.fromstring(result.xml)
    SCHEMA.assertValid(root)
    codes = root.findall(".//RESPONSABLES_ELEVE/*/CODE_PARENTE")
    assert codes and all(len(c.text or "") == 2 for c in codes)
    return root


def validated(session: Session, dossier: Dossier, answers: dict[str, Any] | None = None,
              page: str = "famille", **corrections: Any) -> Dossier:
    submit(session, dossier, answers or {}, page, state=DossierState.VALIDATED)
    dossier.corrections = {"mef_destination": "10310019110", "division_destination": "4B",
                           **corrections}
    session.commit()
    return dossier


def _changed_phone(session: Session, dossier: Dossier) -> dict[str, Any]:
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    rows = known_values(campaign, context_of(dossier))["responsables"]
    rows[0]["telephone_portable"] = "0611223344"
    return {"responsables": rows}


def test_the_file_carries_the_new_values(db_session: Session, make_dossier: Any) -> None:
    lea = make_dossier(first_name="Léa", last_name="MARTIN", prefill=prefill())
    validated(db_session, lea, _changed_phone(db_session, lea))
    result = siecle_return(selection(db_session), generated_at=WHEN)
    assert [p.blockers for p in result.pupils] == [[]]
    root = check(result)
    assert result.filename == "0750001APRIVE2027270620140509.xml"
    assert root.findtext("PARAMETRES/ANNEE_SCOLAIRE") == "2027"
    assert root.findtext("PARAMETRES/DATE_IMPORT") == "20/06/2027"
    (eleve,) = root.findall("DONNEES/ELEVES/ELEVE")
    assert [eleve.findtext(t) for t in ("ID_NATIONAL", "NOM_DE_FAMILLE", "PRENOM", "DATE_NAISS",
                                        "CODE_SEXE", "CODE_PAYS", "CODE_PAYS_NAT",
                                        "CODE_COMMUNE_INSEE_NAISS", "CODE_REGIME")] == [
        "070123456AB", "MARTIN", "Léa", "2014-03-02", "2", "100", "100", "69123", "24"]
    assert [eleve.findtext(f"SCOLARITE_ACTIVE/{t}") for t in (
        "CODE_MEF", "CODE_DIVISION", "CODE_STATUT", "DATE_DEB_SCO")] == [
        "10310019110", "4B", "ST", "2027-09-01"]
    assert eleve.findtext("SCOLARITE_ACTIVE/OPTIONS/OPTION/CODE_MATIERE") == "LATIN"
    assert eleve.findtext("ETABLISSEMENT_AN_DERNIER/CODE_DIVISION") == "5B"
    claire, paul = root.findall("DONNEES/PERSONNES/PERSONNE")
    # the phone the family changed, not the imported one
    assert claire.findtext("TEL_PORTABLE") == "0611223344"
    assert paul.findtext("TEL_PORTABLE") == "0798765432"
    assert [claire.findtext(t) for t in ("CODE_CIVILITE", "NOM_DE_FAMILLE", "CODE_PROFESSION",
                                         "ADRESSE/LIGNE1_ADRESSE", "ADRESSE/CODE_POSTAL",
                                         "ADRESSE/LL_POSTAL", "ADRESSE/CODE_PAYS")] == [
        "2", "MARTIN", "34", "12 rue des Lilas", "69003", "LYON", "100"]
    legal = eleve.findall("RESPONSABLES_ELEVE/LEGAL")
    assert [(x.findtext("ID_PRV_PER"), x.findtext("CODE_PARENTE")) for x in legal] == [
        ("1", "10"), ("2", "20")]
    archive = io.BytesIO()
    write_siecle_zip(result, archive)
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.namelist() == [result.filename]
        assert zipped.read(result.filename) == result.xml


def test_a_phone_the_school_corrected_in_guardian_2s_row_goes_back_to_siecle(
        db_session: Session, make_dossier: Any, make_staff: Any) -> None:
    lea = validated(db_session, make_dossier(first_name="Léa", last_name="MARTIN",
                                             prefill=prefill()))
    campaign = CampaignCache().campaign_of(lea.campaign_version)
    agent = make_staff().account
    correct_value(db_session, campaign, lea, lea.row_version, Actor.staff(agent.id),
                  "responsables.telephone_portable", "+33781223344", row="1002")
    root = check(siecle_return(selection(db_session), generated_at=WHEN))
    claire, paul = root.findall("DONNEES/PERSONNES/PERSONNE")
    assert paul.findtext("TEL_PORTABLE") == "0781223344"
    assert claire.findtext("TEL_PORTABLE") == "0612345678"
    # the changes-only table carries it too, with the agent who corrected it
    [line] = [list(r) for r in changes_table(selection(db_session)).rows
              if str(r[4]).startswith("Responsables légaux")]
    assert line[4:8] == ["Responsables légaux – Responsable légal 2 – Téléphone portable",
                         "07 98 76 54 32", line[6], "07 81 22 33 44"]
    assert agent.display_name in str(line[8])


def test_each_kind_of_blocked_dossier_says_why(db_session: Session, make_dossier: Any) -> None:
    def pupil(first: str, **changes: Any) -> Dossier:
        record = prefill(first, "BLOQUE")
        for n, guardian in enumerate(record["guardians"]):
            guardian["personne_id"] = f"{first}-{n}"
        for key, value in changes.items():
            if key.startswith("g_"):
                record["guardians"][0][key[2:]] = value
            else:
                record["pupil"][key] = value
        return make_dossier(first_name=first, last_name="BLOQUE", prefill=record)

    fine = make_dossier(first_name="Zoé", last_name="ARNAUD", prefill=prefill("Zoé", "ARNAUD"))
    validated(db_session, fine)
    validated(db_session, pupil("Sansmef"), mef_destination=None)
    validated(db_session, pupil("Mefinvalide"), mef_destination="1031")
    validated(db_session, pupil("Sansinsee", birth_commune_insee=None))
    validated(db_session, pupil("Profession", g_profession_code="07"))
    validated(db_session, pupil("Parente", g_relationship="1"))
    validated(db_session, pupil("Adresse", g_address={
        "line1": "Résidence des Grands Chênes Bâtiment C escalier 4 " * 4,
        "postal_code": "69003", "commune": "LYON", "country": "FR"}))
    submit(db_session, pupil("Envoye"), {}, "famille")
    result = siecle_return(selection(db_session), generated_at=WHEN)
    reasons = {p.first_name: [(b.message, b.field) for b in p.blockers]
               for p in result.pupils}
    assert reasons["Zoé"] == []
    assert reasons["Sansmef"] == [("Pas de MEF de destination.", "mef_destination")]
    assert reasons["Mefinvalide"] == [(
        "Code MEF de destination invalide (1031) : 11 caractères attendus.", "mef_destination")]
    assert reasons["Sansinsee"] == [(
        "Pas de code INSEE de la commune de naissance (élève né en France).",
        "commune_naissance")]
    assert reasons["Profession"] == [(
        "Profession de Claire MARTIN inconnue ou absente (code 07).", "profession")]
    assert reasons["Parente"] == [(
        "Lien de parenté de Claire invalide (1) : SIECLE attend un code de deux caractères.",
        "lien_parente")]
    assert reasons["Adresse"] == [(
        "Adresse de Claire MARTIN trop longue (plus de 4 lignes de 38 caractères).", None)]
    assert reasons["Envoye"] == [("Dossier pas encore validé par l'établissement.", None)]
    root = check(result)
    assert [e.findtext("PRENOM") for e in root.iter("ELEVE")] == ["Zoé"]
    # the blocked pupils' guardians are not left in the file
    assert len(root.findall("DONNEES/PERSONNES/PERSONNE")) == 2


def test_partial_export_by_selection(db_session: Session, make_dossier: Any) -> None:
    first = validated(db_session, make_dossier(first_name="Léa", prefill=prefill()))
    validated(db_session, make_dossier(first_name="Zoé", prefill=prefill("Zoé")))
    result = siecle_return(selection(db_session, only=frozenset({first.public_id})),
                           generated_at=WHEN)
    assert [p.first_name for p in result.included] == ["Léa"]
    assert [e.findtext("PRENOM") for e in check(result).iter("ELEVE")] == ["Léa"]


def test_the_other_campaign(db_session: Session, make_dossier: Any) -> None:
    slug = "tilleuls-reinscription-2027"
    dossier = make_dossier(first_name="Noé", last_name="PETIT", uai="0751234K", campaign=slug,
                           source=TILLEULS.read_text(encoding="utf-8"),
                           prefill=prefill("Noé", "PETIT", "6A", level="6e"))
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    rows = known_values(campaign, context_of(dossier))["parents"]
    rows[1]["mobile"] = "0655443322"
    validated(db_session, dossier, {"parents": rows}, "parents")
    root = check(siecle_return(selection(db_session, "0751234K", slug), generated_at=WHEN))
    assert root.findtext("PARAMETRES/UAJ") == "0751234K"
    assert [p.findtext("TEL_PORTABLE") for p in root.iter("PERSONNE")] == [
        "0612345678", "0655443322"]


@pytest.mark.parametrize(("text", "lines"), [
    ({"line1": "12 rue des Lilas"}, ["12 rue des Lilas"]),
    ({"line1": "Appartement 12 Résidence les Jardins de la Saône",
      "line2": "12 rue des Lilas"},
     ["Appartement 12 Résidence les Jardins", "de la Saône", "12 rue des Lilas"]),
])
def test_address_lines_are_cut_on_38_characters(text: dict[str, str], lines: list[str]) -> None:
    assert address_lines(text) == lines
    assert all(len(line) <= 38 for line in lines)


def test_command_and_page(app: Any, client: Any, db_session: Session, make_dossier: Any,
                          make_staff: Any, staff_login: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from engine.cli import main
    from engine.web.state import app_state

    lea = validated(db_session, make_dossier(first_name="Léa", prefill=prefill()))
    validated(db_session, make_dossier(first_name="Zoé", prefill=prefill("Zoé")),
              mef_destination=None)
    env = {"DOSSIERSCO_DATABASE_URL": app_state(app).settings.database_url,
           "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance")}
    out = tmp_path / "siecle.zip"
    result = CliRunner().invoke(main, ["export", "siecle", "--uai", "0750001A", "--campaign",
                                       "reinscription-2026", "--rentree", "2027-09-02",
                                       "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "Bloqué : Martin Zoé (5B) — Pas de MEF de destination." in result.output
    with zipfile.ZipFile(out) as zipped:
        (name,) = zipped.namelist()
        assert re.fullmatch(r"0750001APRIVE2027\d{12}\.xml", name)
        root = etree.fromstring(zipped.read(name))
    SCHEMA.assertValid(root)
    assert root.findtext(".//DATE_DEB_SCO") == "2027-09-02"

    staff_login(make_staff(role="secretariat"))
    base = "/etablissement/0750001A/reinscription-2026/exports/siecle"
    page = client.get(base).get_data(as_text=True)
    assert "1 élève dans le fichier" in page and "Pas de MEF de destination." in page
    assert f'value="{lea.public_id}" checked' in page
    response = export_file(client, f"{base}.zip", base, dossier=lea.public_id,
                           rentree="2027-09-03")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    # the file keeps the name SIECLE expects (no job time added to it)
    assert re.search(r"filename=0750001APRIVE2027\d{12}\.zip",
                     response.headers["Content-Disposition"])
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as zipped:
        assert b"2027-09-03" in zipped.read(zipped.namelist()[0])
    token = _csrf_token(client, base)
    assert client.post(f"{base}.zip", data={"csrf_token": token,
                                             "rentree": "hier"}).status_code == 400
    assert "Aucun élève ne peut partir" in export_job(client, f"{base}.zip?classe=6Z", base)
