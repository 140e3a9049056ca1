"""The campaign's tables, read back cell by cell in each format (openpyxl, odfpy, csv), on both
example campaigns; formula neutralisation in every format; the list's filters apply."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from engine.dossiers.campaigns import context_of
from engine.dossiers.diff import known_values
from engine.dossiers.listing import Filters
from engine.dossiers.models import Dossier
from engine.dossiers.states import DossierState
from engine.dossiers.versions import CampaignCache
from engine.exports.dossier_tables import (
    changes_table,
    division_tables,
    dossiers_table,
    gestion_table,
    membership_tables,
)
from engine.exports.tables import Format, Table

from .kit import TILLEULS, prefill, read_csv, read_ods, read_xlsx, selection, submit, written


def records(table: Table, fmt: Format) -> list[dict[str, Any]]:
    """The table written in ``fmt`` and read back: one dict per row, header → cell."""
    data = written([table], fmt)
    rows = read_csv(data) if fmt is Format.CSV else next(iter(
        (read_xlsx if fmt is Format.XLSX else read_ods)(data).values()))
    header = rows[0]
    return [dict(zip(header, row + [None] * (len(header) - len(row)), strict=True))
            for row in rows[1:]]


def _lea(db_session: Session, make_dossier: Any, **kwargs: Any) -> Dossier:
    dossier = make_dossier(first_name="Léa", last_name="MARTIN", prefill=prefill(), **kwargs)
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    responsables = known_values(campaign, context_of(dossier))["responsables"]
    responsables[0]["telephone_portable"] = "0611223344"
    submit(db_session, dossier, {"responsables": responsables}, "famille",
           state=DossierState.IN_PROGRESS)
    return submit(db_session, dossier, {"regime": "dp4", "boursier": False}, "restauration")


@pytest.mark.parametrize("fmt", list(Format))
def test_every_dossier_one_column_per_field(db_session: Session, make_dossier: Any,
                                            fmt: Format) -> None:
    dossier = _lea(db_session, make_dossier)
    (row,) = records(dossiers_table(selection(db_session), codes=True), fmt)
    expected_birth = {Format.XLSX: datetime(2014, 3, 2), Format.ODS: "2014-03-02",
                      Format.CSV: "02/03/2014"}[fmt]
    text = fmt is Format.CSV
    assert row["Dossier"] == dossier.public_id
    assert (row["Nom"], row["Prénom"], row["Niveau"], row["Classe"], row["État"]) == (
        "MARTIN", "Léa", "5e", "5B", "Envoyé")
    assert row["Date de naissance"] == expected_birth
    # choices by label, and by code on demand
    assert (row["Sexe"], row["Sexe (code)"]) == ("Féminin", "F")
    assert row["Régime"] == "Demi-pensionnaire 4 jours (lundi, mardi, jeudi, vendredi)"
    # repeat rows as numbered column groups, in the form the family left them
    assert row["Responsables légaux 1 – Téléphone portable"] == "06 11 22 33 44"
    assert row["Responsables légaux 2 – Nom"] == "DURAND"
    assert row["Responsables légaux 1 – Adresse (postal_code)"] == "69003"
    # money as numbers: 4 meals × 36 weeks × 4.20 (bracket D, no quotient given)
    assert row["Demi-pension 2027-2028 (€)"] == ("604,80" if text else 604.8)
    assert row["Total (€)"] == ("604,80" if text else 604.8)
    assert row["Adhésion Foyer socio-éducatif (FSE) (€)"] in ("", None)
    assert row["Document : Attestation d'assurance scolaire 2027-2028"] == "Manquant"
    assert row["Responsables légaux 1 – Ce responsable paie-t-il les frais scolaires (demi-pension) ?"] \
        in (("Oui",) if text else (True,))


@pytest.mark.parametrize("fmt", list(Format))
def test_the_other_campaign(db_session: Session, make_dossier: Any, fmt: Format) -> None:
    slug = "tilleuls-reinscription-2027"
    dossier = make_dossier(first_name="Noé", last_name="PETIT", uai="0751234K", campaign=slug,
                           source=TILLEULS.read_text(encoding="utf-8"),
                           prefill=prefill("Noé", "PETIT", "6A", level="6e"))
    submit(db_session, dossier, {"restauration": True, "fonds_social": False,
                                 "enfants_a_charge": 2}, "cantine")
    (row,) = records(dossiers_table(selection(db_session, "0751234K", slug)), fmt)
    assert (row["Nom"], row["Prénom"], row["Classe"], row["Niveau"]) == ("PETIT", "Noé", "6A",
                                                                         "6e")
    assert row["Responsables légaux 1 – Nom"] == "MARTIN"
    assert row["Responsables légaux 2 – Courriel"] == "paul.durand@example.fr"
    assert row["Nombre d'enfants à charge"] == ("2" if fmt is Format.CSV else 2)
    # 145.00 × 3 terms
    assert row["Forfait cantine (€)"] == ("435,00" if fmt is Format.CSV else 435)


@pytest.mark.parametrize("fmt", list(Format))
def test_cells_that_would_run_as_formulas_are_neutralised(db_session: Session,
                                                          make_dossier: Any,
                                                          fmt: Format) -> None:
    names = ["=HYPERLINK(\"http://x\")", "+33", "-1", "@SUM(A1)"]
    for n, name in enumerate(names):
        make_dossier(first_name=name, last_name=f"NOM{n}",
                     prefill=prefill(name, f"NOM{n}", "5B"))
    rows = records(dossiers_table(selection(db_session)), fmt)
    assert sorted(r["Prénom"] for r in rows) == sorted("'" + n for n in names)
    assert all(not str(r["Prénom"]).startswith(tuple("=+-@\t\r")) for r in rows)


@pytest.mark.parametrize("fmt", list(Format))
def test_the_writers_neutralise_every_formula_start(fmt: Format) -> None:
    values = ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "a=b"]
    table = Table("T", ["=titre"], [[v] for v in values], len(values))
    rows = read_csv(written([table], fmt)) if fmt is Format.CSV else next(iter(
        (read_xlsx if fmt is Format.XLSX else read_ods)(written([table], fmt)).values()))
    expected = ["'=titre", "'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "a=b"]
    if fmt is Format.ODS:  # XML reads a carriage return back as a line feed
        expected = [e.replace("\r", "\n") for e in expected]
    assert [r[0] for r in rows] == expected


@pytest.mark.parametrize("fmt", list(Format))
def test_changes_only_one_row_per_changed_field(db_session: Session, make_dossier: Any,
                                                fmt: Format) -> None:
    _lea(db_session, make_dossier)
    rows = records(changes_table(selection(db_session)), fmt)
    assert [(r["Nom"], r["Classe"], r["Page"], r["Champ"], r["Avant"], r["Après"])
            for r in rows] == [
        ("MARTIN", "5B", "Responsables légaux",
         "Responsables légaux – Responsable légal 1 – Téléphone portable",
         "06 12 34 56 78", "06 11 22 33 44")]
    assert rows[0]["Modifié par"] == "Famille"
    assert rows[0]["Modifié le"] not in (None, "")


def test_filters_of_the_list_apply(db_session: Session, make_dossier: Any) -> None:
    _lea(db_session, make_dossier)
    make_dossier(first_name="Zoé", last_name="ARNAUD", prefill=prefill("Zoé", "ARNAUD", "5A"))
    every = records(dossiers_table(selection(db_session)), Format.XLSX)
    assert [r["Prénom"] for r in every] == ["Zoé", "Léa"]
    only = records(dossiers_table(selection(db_session, filters=Filters(division="5B"))),
                   Format.XLSX)
    assert [r["Prénom"] for r in only] == ["Léa"]
    sent = records(dossiers_table(selection(db_session, filters=Filters(
        state=DossierState.SUBMITTED))), Format.CSV)
    assert [r["Prénom"] for r in sent] == ["Léa"]
    changed = records(changes_table(selection(db_session, filters=Filters(division="5A"))),
                      Format.CSV)
    assert changed == []


def test_gestion_list(db_session: Session, make_dossier: Any) -> None:
    _lea(db_session, make_dossier)
    (row,) = records(gestion_table(selection(db_session)), Format.XLSX)
    assert row["Régime"] == "Demi-pensionnaire 4 jours (lundi, mardi, jeudi, vendredi)"
    assert row["Demi-pension 2027-2028 – tranche (Quotient familial)"] == "D"
    assert row["Demi-pension 2027-2028 (€)"] == 604.8
    assert "4,20" in row["Demi-pension 2027-2028 – détail"]
    assert row["Total (€)"] == 604.8


def test_association_and_division_lists(db_session: Session, make_dossier: Any) -> None:
    dossier = make_dossier(first_name="Zoé", last_name="ARNAUD",
                           prefill=prefill("Zoé", "ARNAUD", "5A"))
    submit(db_session, dossier, {"adhesions": ["fse", "as"]}, "associations")
    _lea(db_session, make_dossier)
    fse, sport, donation = membership_tables(selection(db_session))
    assert donation.title == "Don à la FCPE"
    data = read_xlsx(written([fse, sport], Format.XLSX))
    assert list(data) == ["Foyer socio-éducatif (FSE)", "Association sportive (AS)"]
    assert data["Foyer socio-éducatif (FSE)"] == [
        ["Association", "Nom", "Prénom", "Classe", "Cotisation (€)", "Dossier"],
        ["Foyer socio-éducatif (FSE)", "ARNAUD", "Zoé", "5A", 10, "Envoyé"]]
    assert data["Association sportive (AS)"][1][4] == 25
    tables = division_tables(selection(db_session))
    assert [t.title for t in tables] == ["5A", "5B"]
    ods = read_ods(written(tables, Format.ODS))
    assert [r[:3] for r in ods["5B"]] == [["Classe", "Nom", "Prénom"], ["5B", "MARTIN", "Léa"]]
    # CSV holds one sheet: the divisions one after the other, each row saying its division
    assert [r[:2] for r in read_csv(written(tables, Format.CSV))] == [
        ["Classe", "Nom"], ["5A", "ARNAUD"], ["5B", "MARTIN"]]


def test_prices_by_condition_and_donations_land_in_the_rosters(db_session: Session,
                                                               make_dossier: Any) -> None:
    dossier = make_dossier(first_name="Zoé", last_name="ARNAUD",
                           prefill=prefill("Zoé", "ARNAUD", "5A"))
    submit(db_session, dossier, {"regime": "dp4", "boursier": True, "boursier_echelon": "1",
                                 "adhesions": ["as", "fcpe"], "don_fcpe": "12,50"},
           "associations")
    _, sport, donation = membership_tables(selection(db_session))
    data = read_xlsx(written([sport, donation], Format.XLSX))
    assert data["Association sportive (AS)"][1][4] == 5  # the boursiers' price
    assert data["Don à la FCPE"][1][4] == 12.5


def test_progress_is_reported(db_session: Session, make_dossier: Any) -> None:
    import io

    from engine.exports.tables import write_tables

    _lea(db_session, make_dossier)
    make_dossier(first_name="Zoé", last_name="ARNAUD", prefill=prefill("Zoé", "ARNAUD", "5A"))
    seen: list[tuple[int, int]] = []
    write_tables([dossiers_table(selection(db_session))], Format.XLSX, io.BytesIO(),
                 lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]


def test_times_are_paris_time_in_every_format() -> None:
    from datetime import UTC

    table = Table("T", ["Quand"], [[datetime(2027, 6, 1, 8, 30, tzinfo=UTC)]], 1)
    assert read_xlsx(written([table], Format.XLSX))["T"][1] == [datetime(2027, 6, 1, 10, 30)]
    assert read_ods(written([table], Format.ODS))["T"][1] == ["2027-06-01T10:30:00"]
    assert read_csv(written([table], Format.CSV))[1] == ["01/06/2027 10:30"]


def test_the_xlsx_writer_converts_each_cell_by_its_type() -> None:
    from datetime import date
    from decimal import Decimal
    from enum import StrEnum

    from openpyxl import load_workbook

    class Word(StrEnum):
        FORMULA = "=1+1"

    rows = [[Word.FORMULA, Decimal("420.50"), date(2027, 6, 1), True, 3, None, "=2"],
            [None, None, datetime(2027, 6, 1, 8, 30), False, 2.5, "x", Decimal("1")]]
    data = written([Table("T", list("ABCDEFG"), rows, 2)], Format.XLSX)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [[(c.value, c.number_format) for c in row] for row in sheet.iter_rows(min_row=2)]
    general = "General"  # openpyxl's name for no number format
    assert cells == [
        [("'=1+1", general), (420.5, general), (datetime(2027, 6, 1), "DD/MM/YYYY"),
         (True, general), (3, general), (None, general), ("'=2", general)],
        [(None, general), (None, general), (datetime(2027, 6, 1, 10, 30), "DD/MM/YYYY HH:MM"),
         (False, general), (2.5, general), ("x", general), (1, general)]]


def test_a_column_getter_reads_each_row_s_own_value() -> None:
    """The getters are worked out once per column: a choice's label once per value, a
    field of several columns exported once per value; each row still gets its own cells."""
    from engine.campaign import load_campaign
    from engine.exports.dossier_tables import field_columns

    campaign = load_campaign(TILLEULS)
    choice, grid = campaign.fields["niveau_anglais"], campaign.fields["droit_image"]
    ((_, level),) = field_columns(choice, "Niveau", False)
    assert [level(v) for v in ["natif", "courant", "natif", None, ["natif"]]] == [
        "Langue maternelle", "Courant", "Langue maternelle", None,
        choice.type.display(["natif"], choice)]
    columns = field_columns(grid, "Droit", False)
    values = [{"photo_classe": "oui", "site": "non"}, {"photo_classe": "non", "site": "oui"}]
    for value in [*values, dict(values[0])]:
        assert [get(value) for _, get in columns] == list(grid.type.export(value, grid).values())


def test_a_write_hands_the_frozen_objects_back_to_the_collector() -> None:
    import gc

    def failing() -> Any:
        assert gc.get_freeze_count() > 0  # the objects alive before the write are left out
        yield ["a"]
        raise RuntimeError("the database went away")

    before = gc.get_freeze_count()
    written([Table("T", ["A"], [["a"]], 1)], Format.XLSX)
    assert gc.get_freeze_count() == before
    with pytest.raises(RuntimeError):
        written([Table("T", ["A"], failing(), 1)], Format.CSV)
    assert gc.get_freeze_count() == before


def test_a_write_in_a_frozen_process_leaves_its_objects_frozen() -> None:
    """A server froze what it loaded (``freeze_loaded``): an export there keeps it so."""
    import gc

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        written([Table("T", ["A"], [["a"]], 1)], Format.XLSX)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
