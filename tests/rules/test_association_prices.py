"""Associations priced by condition (the AS at 5 € for boursiers) and free amounts (a donation):
the membership carries what this pupil pays, the total counts it, no school fee is made; and
the payment schedule of the school's fees."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.rules import DossierContext, evaluate_dossier
from engine.rules.fees import split_in_instalments

from campaign.helpers import campaign_text, check_yaml, codes, compile_fields

FIELDS = """\
- id: boursier
  type: boolean
- id: adhesions
  type: memberships
- id: don
  type: number
  visible_if: '"fcpe" in adhesions'
  min: 1
  max: 200
"""
ASSOCIATIONS = """\
associations:
  - id: as
    label: AS
    fee: "25.00"
    prices:
      - {when: boursier == true, fee: "5.00"}
      - {when: boursier == false, fee: "20.00"}
  - id: fcpe
    label: FCPE
    fee_from: don
"""
C = compile_fields(FIELDS, ASSOCIATIONS)


def money(answers: dict[str, object]) -> tuple[dict[str, str], str]:
    result = evaluate_dossier(C, answers, DossierContext(today=date(2027, 6, 10)))
    data = result.money()
    assert not data["fees"]  # an association's price is never a fee of the school
    return {m["association"]: m["fee"] for m in data["memberships"]}, data["total"]


@pytest.mark.parametrize(("answers", "fees", "total"), [
    ({"adhesions": ["as"]}, {"as": "25.00"}, "25.00"),
    ({"adhesions": ["as"], "boursier": True}, {"as": "5.00"}, "5.00"),
    ({"adhesions": ["as"], "boursier": False}, {"as": "20.00"}, "20.00"),
    ({"adhesions": ["fcpe"], "don": "12,505"}, {"fcpe": "12.51"}, "12.51"),
    ({"adhesions": ["fcpe"]}, {"fcpe": "0.00"}, "0.00"),
    ({"adhesions": ["fcpe"], "don": "-5"}, {"fcpe": "0.00"}, "0.00"),
    ({"adhesions": ["as"], "don": "50"}, {"as": "25.00"}, "25.00"),  # hidden: not counted
])
def test_what_each_member_pays(answers: dict[str, object], fees: dict[str, str],
                               total: str) -> None:
    assert money(answers) == (fees, total)


def test_fees_total_reads_the_membership_prices() -> None:
    campaign = compile_fields(FIELDS + "- id: total\n  type: computed\n  expr: fees.total\n"
                              "  format: money\n", ASSOCIATIONS)
    result = evaluate_dossier(campaign, {"adhesions": ["as", "fcpe"], "boursier": True,
                                         "don": "10"}, DossierContext())
    assert Decimal(result.computed["total"]) == Decimal("15.00")


@pytest.mark.parametrize(("association", "code"), [
    ("{id: x, label: X}", "SCHEMA_003"),
    ("{id: x, label: X, fee_from: inconnu}", "EXPR_003"),
    ("{id: x, label: X, fee_from: boursier}", "EXPR_005"),
    ("{id: x, label: X, fee: '1.00', prices: [{when: boursier == 1, fee: '2.00'}]}",
     "EXPR_005"),
])
def test_association_mistakes(association: str, code: str) -> None:
    _, diagnostics = check_yaml(campaign_text(FIELDS, f"associations:\n  - {association}\n"))
    assert code in codes(diagnostics), [d.as_line() for d in diagnostics]


# -- the payment schedule of the school's fees ------------------------------------------------

@given(st.decimals(min_value=0, max_value=10**6, places=2), st.integers(1, 12))
def test_instalments_are_equal_the_rest_on_the_last(total: Decimal, count: int) -> None:
    due = split_in_instalments(total, count)
    assert len(due) == count and sum(due) == total
    assert len(set(due[:-1])) <= 1 and Decimal(0) <= due[-1] - due[0] < count * Decimal("0.01")
    assert all(d == d.quantize(Decimal("0.01")) for d in due)


def test_a_hundred_in_three() -> None:
    assert [str(d) for d in split_in_instalments(Decimal("100"), 3)] == ["33.33", "33.33",
                                                                         "33.34"]


PAYMENT = """\
tariffs:
  - {id: cantine, label: Cantine, amount: "100.00"}
payment:
  instalments: [Un, Deux, Trois]
  mode: mode
"""


def test_the_schedule_splits_the_school_fees_only() -> None:
    campaign = compile_fields(FIELDS + "- id: mode\n  type: choice\n  choices: [cheque, "
                              "especes]\n", ASSOCIATIONS + PAYMENT)
    result = evaluate_dossier(campaign, {"adhesions": ["as"]}, DossierContext())
    assert result.money()["instalments"] == [
        {"label": "Un", "amount": "33.33"}, {"label": "Deux", "amount": "33.33"},
        {"label": "Trois", "amount": "33.34"}]
    assert result.money()["total"] == "125.00"


@pytest.mark.parametrize("mode", ["inconnu", "don", "adhesions"])
def test_the_mode_is_a_choice_field(mode: str) -> None:
    _, diagnostics = check_yaml(campaign_text(FIELDS, ASSOCIATIONS + PAYMENT.replace(
        "mode: mode", f"mode: {mode}")))
    assert "RULE_001" in codes(diagnostics)
