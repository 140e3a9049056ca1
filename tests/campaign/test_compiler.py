"""Stage 3: schema-checked data to the frozen Campaign, with exact locations and hints."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engine.campaign import Campaign
from engine.campaign.model import unindexed
from engine.diagnostics import CampaignError, Severity

from campaign.helpers import (
    campaign_text,
    check_yaml,
    codes,
    compile_fields,
    compile_yaml,
)

FIELDS = """\
- id: nom
  type: text
  required: true
- id: regime
  type: choice
  choices: [externe, demi_pensionnaire]
- id: motif
  type: textarea
  visible_if: regime == 'externe'
- id: repas
  type: computed
  expr: nb_jours * 4
  visible_if: regime == 'demi_pensionnaire'
- id: nb_jours
  type: integer
  visible_if: regime == 'demi_pensionnaire'
- id: contacts
  type: repeat
  fields:
    - id: nom
      type: text
    - id: joignable
      type: boolean
    - id: telephone
      type: phone
      visible_if: joignable == true
"""


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return compile_fields(FIELDS)


def test_header(campaign: Campaign) -> None:
    assert campaign.id == "demo"
    assert campaign.opens == date(2027, 5, 1) and campaign.closes == date(2027, 6, 30)
    assert campaign.languages == ("fr",)
    assert campaign.establishment.uai == "0123456A"
    assert str(campaign.title) == "Réinscription"
    assert len(campaign.version) == 16


def test_fields_by_key_and_repeat_children(campaign: Campaign) -> None:
    assert set(campaign.fields) == {"nom", "regime", "motif", "repas", "nb_jours", "contacts",
                                    "contacts.nom", "contacts.joignable",
                                    "contacts.telephone"}
    child = campaign.fields["contacts.nom"]
    assert child.parent_id == "contacts" and child.id == "nom" and child.key == "contacts.nom"
    assert campaign.fields["nom"].parent_id is None
    assert [c.key for c in campaign.fields["contacts"].fields] == [
        "contacts.nom", "contacts.joignable", "contacts.telephone"]
    assert campaign.fields["contacts"].fields[2] is campaign.fields["contacts.telephone"]
    assert [f.id for f in campaign.pages[0].fields][:2] == ["nom", "regime"]
    assert campaign.fields["nom"].required is True
    assert campaign.fields["motif"].type.name == "textarea"


def test_evaluation_order_respects_dependencies(campaign: Campaign) -> None:
    order = campaign.evaluation_order
    assert set(order) == {"nom", "regime", "motif", "repas", "nb_jours", "contacts"}
    assert order.index("regime") < order.index("motif")
    assert order.index("nb_jours") < order.index("repas")
    assert order.index("regime") < order.index("nb_jours")


def test_conditions_are_compiled_with_locations(campaign: Campaign) -> None:
    motif = campaign.fields["motif"]
    assert motif.visible_if is not None
    assert motif.visible_if.source == "regime == 'externe'"
    assert motif.visible_if.deps == frozenset({"regime"})
    loc = motif.visible_if.location
    # the fields start on line 13 of campaign_text; motif's visible_if is their 9th line
    assert (loc.file, loc.line, loc.column) == ("inline.yaml", 21, 21)
    assert loc.pointer == "/pages/0/fields/2/visible_if"
    repas = campaign.fields["repas"]
    assert repas.expressions["expr"].deps == frozenset({"nb_jours"})
    tel = campaign.fields["contacts.telephone"]
    assert tel.visible_if is not None and tel.visible_if.deps == frozenset(
        {"contacts.joignable"})


def _only(text: str) -> tuple[str, int, int, str | None]:
    campaign, diagnostics = check_yaml(text)
    assert campaign is None
    (d,) = [d for d in diagnostics if d.is_error]
    return d.code.name, d.location.line, d.location.column, d.hint


@pytest.mark.parametrize(("scalar", "line", "column"), [
    ("nb == 'x' or nbb > 2", 17, 19 + 15),                 # plain
    ('"nb == \'x\' or nbb > 2"', 17, 19 + 1 + 15),         # double quoted
    ("'nb == ''x'' or nbb > 2'", 17, 19 + 1 + 17),          # single quoted, '' escapes
    ('"nb == \\u0027x\' or nbb > 2"', 17, 19 + 1 + 20),    # double quoted, \u escape
    ("nb == 'x' or\n            nbb > 2", 18, 11),            # plain, folded on two lines
])
def test_column_inside_expression_is_exact(scalar: str, line: int, column: int) -> None:
    text = campaign_text(f"""\
        - id: nb
          type: text
        - id: autre
          type: text
          visible_if: {scalar}
        """)
    assert text.splitlines()[line - 1][column - 1:column + 2] == "nbb"
    code, got_line, got_col, hint = _only(text)
    assert (code, got_line, got_col) == ("EXPR_003", line, column)
    assert hint == "did you mean 'nb'?"


def test_block_scalar_reports_at_its_start() -> None:
    text = campaign_text("""\
        - id: nb
          type: text
        - id: autre
          type: text
          visible_if: >
            nb == 'x' or nbb > 2
        """)
    code, line, col, _ = _only(text)
    assert code == "EXPR_003" and line == 17


def test_did_you_mean_hints() -> None:
    _, _, _, hint = _only(campaign_text("- id: x\n  type: chioce\n  choices: [a]\n"))
    assert hint == "did you mean 'choice'?"
    _, _, _, hint = _only(campaign_text("- id: x\n  type: text\n- id: y\n  type: text\n"
                                        "  visible_if: lenn(x) > 1\n"))
    assert hint is not None and "'len'" in hint
    _, _, _, hint = _only(campaign_text("- id: x\n  type: date\n  prefill: pupil.birthdate\n"))
    assert hint is not None and "'pupil.birth_date'" in hint


def test_warnings_do_not_block_loading() -> None:
    campaign = compile_fields("""\
        - id: regime
          type: choice
          choices: [a, b]
        - id: jamais
          type: text
          visible_if: regime == 'a' and regime == 'b'
        - id: classe
          type: text
          editable: false
        """)
    assert {d.code.name for d in campaign.warnings} == {"FIELD_004", "FIELD_007"}
    assert all(d.severity is Severity.WARNING for d in campaign.warnings)


def test_repeat_row_condition_reads_its_row() -> None:
    # a child's condition on a sibling is satisfiable: no "never visible" diagnostic
    campaign = compile_fields("""\
        - id: contacts
          type: repeat
          fields:
            - id: urgence
              type: boolean
            - id: telephone
              type: phone
              required: true
              visible_if: urgence == true
        """)
    assert campaign.warnings == ()


def test_errors_raise_campaign_error_listing_all() -> None:
    with pytest.raises(CampaignError) as info:
        compile_fields("- id: a\n  type: txt\n- id: a\n  type: text\n")
    assert codes(list(info.value.diagnostics)) == {"FIELD_001", "FIELD_002"}
    assert "2 error(s)" in str(info.value)


def test_campaign_is_immutable(campaign: Campaign) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        campaign.id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        campaign.fields["x"] = campaign.fields["nom"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        campaign.fields["nom"].required = False  # type: ignore[misc]
    assert isinstance(campaign.pages, tuple) and isinstance(campaign.pages[0].fields, tuple)


def test_tariffs_documents_associations_tests_compiled(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "fiche.pdf").write_bytes(b"%PDF-1.4\n")
    text = campaign_text("""\
        - id: qf
          type: number
        - id: adhesions
          type: memberships
        """, """\
        tariffs:
          - id: cantine
            label: Cantine
            brackets:
              on: qf
              default: B
              table:
                - {up_to: 600, amount: "2.50", label: A}
                - {amount: "4.00", label: B}
            reductions:
              - {id: fratrie, label: Fratrie, when: family.rank >= 2, percent: "10"}
        associations:
          - {id: fse, label: FSE, fee: "8.00"}
        documents:
          - id: fiche
            label: Fiche
            template: fiche.pdf
            max_size: 2MB
        tests:
          - name: t
            answers: {qf: 500}
        """)
    campaign = compile_yaml(text, base_dir=tmp_path)
    (tariff,) = campaign.tariffs
    assert tariff.brackets is not None
    assert [b.up_to for b in tariff.brackets.brackets] == [Decimal(600), None]
    assert tariff.brackets.default_label == "B"
    assert tariff.reductions[0].percent == Decimal(10)
    assert campaign.associations[0].fee == Decimal("8.00")
    assert campaign.documents[0].max_size == 2 * 1024 * 1024
    assert campaign.documents[0].template == "fiche.pdf"
    assert campaign.tests[0].answers == {"qf": 500}
    assert campaign.fields["adhesions"].options.association_ids == ("fse",)


def test_an_answer_key_without_its_row_numbers_is_the_field_key() -> None:
    assert unindexed("responsables.0.nom") == "responsables.nom"
    assert unindexed("responsables.12") == "responsables"
    assert unindexed("v2.nom") == "v2.nom"


def test_previous_paths_are_checked_against_last_years_campaign_by_id(tmp_path: Path) -> None:
    """``…-2027`` finds ``…-2026`` next to it (here by its id, whatever the file's name)."""
    last_year = campaign_text("""\
        - id: regime
          type: choice
          choices: [externe, demi_pensionnaire]
        """).replace("id: demo", "id: demo-2026")
    (tmp_path / "last-year.yaml").write_text(last_year, encoding="utf-8")
    this_year = campaign_text("""\
        - id: regime
          type: choice
          choices: [externe, demi_pensionnaire]
          prefill: previous.regime
        - id: regime_2
          type: text
          prefill: previous.regimes
        """).replace("id: demo", "id: demo-2027")
    campaign, diagnostics = check_yaml(this_year, base_dir=tmp_path)
    assert campaign is None
    (bad,) = diagnostics
    assert bad.code.name == "FIELD_006" and "previous.regime" in (bad.hint or "")
    fixed = this_year.replace("previous.regimes", "previous.regime")
    campaign, diagnostics = check_yaml(fixed, base_dir=tmp_path)
    assert campaign is not None and diagnostics == []


def test_guardian_row_prefill_typos_get_a_suggestion() -> None:
    _, diagnostics = check_yaml(campaign_text("""\
        - id: responsables
          type: repeat
          prefill: guardians
          fields:
            - id: tel
              type: phone
              prefill: guardians.phone_mobil
            - id: cp
              type: text
              prefill: address.postcode
        """))
    hints = {d.location.line: d.hint or "" for d in diagnostics if d.code.name == "FIELD_006"}
    assert len(hints) == 2
    assert all("did you mean" in h for h in hints.values())
    assert "'phone_mobile'" in "".join(hints.values())
    assert "'address.postal_code'" in "".join(hints.values())
