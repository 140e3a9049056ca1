"""Associations priced by condition (the AS at 5 € for boursiers) and free amounts (a donation):
the membership carries what this pupil pays, the total counts it, no school fee is made."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.rules import DossierContext, evaluate_dossier

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
