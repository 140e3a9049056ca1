"""SIECLE's own spreadsheet export "Fiches élèves complètes" read with the built-in mapping:
recognised from its headers in both variants, XLSX and XLS, no mapping file."""

from __future__ import annotations

import pytest
from sheetkit import SAMPLE, fiches_xls, fiches_xlsx, headers

from engine.prefill import read_spreadsheet
from engine.prefill.siecle_sheet import FICHES_ELEVES, VARIANTS, recognise


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_both_variants_are_recognised_from_the_headers(variant: str) -> None:
    assert recognise(headers(variant)) == variant
    assert recognise(headers(variant)[:20]) is None  # no guardian column: not this export
    assert recognise(["Nom", "Prénom", "Classe"]) is None


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("writer", [fiches_xlsx, fiches_xls], ids=["xlsx", "xls"])
def test_the_export_reads_without_a_mapping(variant: str, writer: object) -> None:
    data = writer(variant, SAMPLE)  # type: ignore[operator]
    suffix = "xlsx" if writer is fiches_xlsx else "xls"
    for mapping in (None, FICHES_ELEVES):
        result = read_spreadsheet((f"ExportFichesEleves.{suffix}", data), mapping)
        assert result.ok, [p.as_line() for p in result.problems]
        assert [p.eleve_id for p in result.pupils] == ["070803070AJ", "070803071BK"]
        lea = result.pupils[0]
        snapshot = result.prefill_for(lea)
        pupil = snapshot["pupil"]
        assert (pupil["last_name"], pupil["first_name"], pupil["birth_date"], pupil["sex"]) == \
            ("DURAND", "Léa", "2014-03-14", "F")
        assert pupil["ine"] == "070803070AJ"
        assert pupil["mef_code"] == "10110001110" and pupil["level"] == "5e"
        # the class from the first row, the group from the repeated one
        assert pupil["division"] == "5A"
        assert [s.code for s in lea.structures] == ["5A", "5A G1"]
        mother, father = snapshot["guardians"]
        assert (mother["last_name"], mother["first_name"], mother["civility"]) == \
            ("DURAND", "Sophie", "MME")
        # the label SIECLE writes, as its code
        assert (mother["relationship"], father["relationship"]) == ("10", "20")
        assert mother["phone_mobile"] == "+33612345678"
        assert mother["email"] == "sophie.durand@example.org"
        assert mother["address"]["line1"] == "3 rue des Lilas"
        assert mother["address"]["postal_code"] == "69003"
        assert father["phone_home"] == "+33478000000"
        provenance = result.prefill_provenance_for(lea)
        assert provenance["guardians[0].email"].element.endswith(
            f"Courriel {VARIANTS[variant][0]}")
        hugo = result.prefill_for(result.pupils[1])
        assert [g["first_name"] for g in hugo["guardians"]] == ["Claire"]


def test_another_sheet_without_a_mapping_is_refused_with_the_line() -> None:
    data = b"Nom;Pr\xc3\xa9nom;Classe\nDURAND;L\xc3\xa9a;5A\n"
    result = read_spreadsheet(("eleves.csv", data))
    assert [(p.code, p.line) for p in result.problems] == [("SHEET_NOT_RECOGNISED", 1)]
    assert "correspondance" in result.problems[0].message
