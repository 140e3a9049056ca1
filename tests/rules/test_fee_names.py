"""``fees.<tariff id>`` and ``fees.total`` in expressions: typed, checked, cycle-free."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal

from engine.rules import DossierContext, evaluate_dossier

from campaign.helpers import campaign_text, check_yaml, codes, compile_fields

TARIFFS = """\
    tariffs:
      - id: cantine
        label: Cantine
        amount: "100.00"
        applies_if: dp == true
        reductions:
          - {id: aide, label: Aide, when: aide == true, amount: "30.00"}
      - id: sortie
        label: Sortie
        amount: "12.50"
    associations:
      - {id: fse, label: FSE, fee: "10.00"}
    """
FIELDS = """\
    - id: dp
      type: boolean
    - id: aide
      type: boolean
    - id: adhesions
      type: memberships
    """


def more(fields: str) -> str:
    """FIELDS followed by ``fields`` (written at any indentation)."""
    return FIELDS.rstrip(" ") + textwrap.indent(textwrap.dedent(fields), "    ")


def evaluate(campaign_fields: str, answers: dict[str, object]) -> dict[str, object]:
    campaign = compile_fields(more(campaign_fields), TARIFFS)
    return evaluate_dossier(campaign, answers, DossierContext(today=date(2027, 6, 1))).computed


def test_fees_and_total_are_numbers_expressions_read() -> None:
    computed = evaluate("""\
        - id: total
          type: computed
          format: money
          expr: fees.total
        - id: cantine_seule
          type: computed
          format: money
          expr: fees.cantine
        - id: sans_cantine
          type: computed
          format: boolean
          expr: empty(fees.cantine)
        """, {"dp": True, "aide": True, "adhesions": ["fse"]})
    assert computed == {"total": "92.50", "cantine_seule": "70.00", "sans_cantine": False}
    computed = evaluate("""\
        - id: total
          type: computed
          format: money
          expr: fees.total
        - id: sans_cantine
          type: computed
          format: boolean
          expr: empty(fees.cantine)
        """, {})
    assert computed == {"total": "12.50", "sans_cantine": True}


def test_the_total_is_the_stored_total() -> None:
    campaign = compile_fields(more("""\
        - id: total
          type: computed
          format: money
          expr: fees.total
        """), TARIFFS)
    result = evaluate_dossier(campaign, {"dp": True, "adhesions": ["fse"]},
                              DossierContext(today=date(2027, 6, 1)))
    assert result.computed["total"] == result.money()["total"] == "122.50"
    assert result.total == Decimal("122.50")


def test_fees_are_typed_and_known() -> None:
    campaign, diagnostics = check_yaml(campaign_text(more("""\
        - id: a
          type: text
          visible_if: fees.cantine == "cher"
        - id: b
          type: text
          visible_if: fees.cantinne > 0
        """), TARIFFS))
    assert campaign is None
    assert codes(diagnostics) == {"EXPR_005", "EXPR_003"}
    unknown = next(d for d in diagnostics if d.code.name == "EXPR_003")
    assert "fees.cantinne" in unknown.message and "fees.cantine" in (unknown.hint or "")


def test_a_tariff_reading_its_own_total_is_a_cycle_at_the_condition_closing_it() -> None:
    text = campaign_text(more("""\
        - id: reste
          type: computed
          format: money
          expr: fees.total
        """), TARIFFS.replace("applies_if: dp == true", "applies_if: reste > 50"))
    campaign, diagnostics = check_yaml(text)
    assert campaign is None
    cycles = [d for d in diagnostics if d.code.name == "EXPR_008"]
    assert len(cycles) == 1
    assert "fees.cantine" in cycles[0].message and "fees.total" in cycles[0].message
    assert "reste" in cycles[0].message
    # at the tariff condition that closes it, naming the other end
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "applies_if: reste" in t)
    column = text.splitlines()[line - 1].index("reste") + 1
    assert (cycles[0].location.line, cycles[0].location.column) == (line, column)
    reads = next(i for i, t in enumerate(text.splitlines(), 1) if "expr: fees.total" in t)
    assert f"'reste' reads 'fees.total' at line {reads}" in (cycles[0].hint or "")


def test_fees_reading_each_other_in_a_circle_point_at_the_condition() -> None:
    text = campaign_text(FIELDS, """\
        tariffs:
          - id: a
            label: A
            amount: "1.00"
            applies_if: fees.b > 0
          - id: b
            label: B
            amount: "1.00"
            applies_if: fees.a > 0
        """)
    campaign, diagnostics = check_yaml(text)
    assert campaign is None
    cycle = next(d for d in diagnostics if d.code.name == "EXPR_008")
    where = {i: t for i, t in enumerate(text.splitlines(), 1) if "applies_if: fees." in t}
    assert cycle.location.line in where  # one of the two conditions closing the circle
    assert cycle.location.column == where[cycle.location.line].index("fees.") + 1


def test_a_tariff_cannot_be_named_total() -> None:
    _, diagnostics = check_yaml(campaign_text(FIELDS, """\
        tariffs:
          - {id: total, label: Total, amount: "1.00"}
        """))
    assert "FIELD_008" in codes(diagnostics)


def test_an_association_offered_on_the_total_is_a_cycle_at_its_condition() -> None:
    text = campaign_text(FIELDS, TARIFFS.replace(
        '{id: fse, label: FSE, fee: "10.00"}',
        '{id: fse, label: FSE, fee: "10.00", available_if: fees.total > 100}'))
    campaign, diagnostics = check_yaml(text)
    assert campaign is None
    cycle = next(d for d in diagnostics if d.code.name == "EXPR_008")
    assert "fees.total → fees.total" in cycle.message
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "available_if" in t)
    assert cycle.location.line == line
    assert cycle.location.column == text.splitlines()[line - 1].index("fees.total") + 1
