"""Tariffs: brackets, multipliers, reductions, exemption, rounding and explanations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.campaign.model import Tariff
from engine.rules import DossierContext, DossierScope, Evaluation, compute_fee, evaluate_dossier
from engine.rules import evaluation as evaluation_module
from engine.rules import scope as scope_module

from campaign.helpers import compile_fields

C = compile_fields("""\
    - id: qf
      type: number
    - id: jours
      type: integer
    - id: boursier
      type: boolean
    - id: fratrie
      type: boolean
    - id: don
      type: boolean
    """, """\
    tariffs:
      - id: cantine
        label: Cantine
        brackets:
          on: qf
          label: Quotient familial
          table:
            - {up_to: 600, amount: "2.50", label: A}
            - {up_to: "1000.50", amount: "3.50", label: B}
            - {amount: "4.50", label: C}
        multipliers:
          - {by: jours, label: jours}
        reductions:
          - {id: fratrie, label: Fratrie, when: fratrie == true, percent: "10"}
          - {id: aide, label: Aide, when: don == true, amount: "50.00"}
        exempt_if: boursier == true
        exempt_label: Boursier
      - id: sortie
        label: Sortie
        amount: "0.25"
        multipliers:
          - {by: "0.5", label: demi}
      - id: defaut
        label: Défaut
        brackets:
          on: qf
          default: B
          table:
            - {up_to: 600, amount: "1.00", label: A}
            - {up_to: 1000, amount: "2.00", label: B}
            - {amount: "3.00", label: C}
      - id: cotisation
        label: Cotisation
        amount: "12.00"
        applies_if: jours > 0
    """)
TARIFFS = {t.id: t for t in C.tariffs}


def fee(tariff: str, **answers: Any) -> Any:
    scope = DossierScope(C, answers, DossierContext(today=date(2027, 6, 1)))
    return compute_fee(TARIFFS[tariff], scope)


def test_value_on_a_bound_belongs_to_that_bracket() -> None:
    assert fee("cantine", qf="600", jours=1).amount == Decimal("2.50")
    assert fee("cantine", qf="600.01", jours=1).amount == Decimal("3.50")
    assert fee("cantine", qf="1000.50", jours=1).amount == Decimal("3.50")
    assert fee("cantine", qf="1000.51", jours=1).amount == Decimal("4.50")
    assert fee("cantine", qf="0", jours=1).amount == Decimal("2.50")


def test_missing_value_uses_default_or_last_bracket() -> None:
    assert fee("cantine", jours=1).amount == Decimal("4.50")
    assert fee("defaut").amount == Decimal("2.00")
    assert "non renseigné" in fee("defaut").explanation


def test_multipliers() -> None:
    assert fee("cantine", qf="500", jours=4).amount == Decimal("10.00")
    assert fee("cantine", qf="500").amount == Decimal("0.00")  # no days given: times 0


def test_reductions_apply_in_order_and_never_below_zero() -> None:
    # 4 × 3.50 = 14.00; −10 % = 12.60
    assert fee("cantine", qf="800", jours=4, fratrie=True).amount == Decimal("12.60")
    # 100 × 3.50 = 350.00; −10 % = 315.00; −50.00 = 265.00 (percent first, as written)
    assert fee("cantine", qf="800", jours=100, fratrie=True, don=True).amount == Decimal(
        "265.00")
    # 4 × 3.50 = 14.00; −50.00 caps at 14.00
    f = fee("cantine", qf="800", jours=4, don=True)
    assert f.amount == Decimal("0.00")
    assert "Aide" in f.explanation and "14,00" in f.explanation


def test_exemption() -> None:
    f = fee("cantine", qf="800", jours=4, boursier=True)
    assert f.amount == Decimal("0.00")
    assert f.explanation.startswith("Boursier")


def test_rounding_half_up_to_the_cent() -> None:
    assert fee("sortie").amount == Decimal("0.13")  # 0.25 × 0.5 = 0.125


def test_explanation_text() -> None:
    f = fee("cantine", qf="800", jours=4, fratrie=True)
    assert f.explanation.startswith("Quotient familial 800 → tranche B")
    assert "3,50\u00a0€ × 4 jours = 14,00\u00a0€" in f.explanation
    assert "Fratrie −10 % : −1,40\u00a0€" in f.explanation
    assert f.label == "Cantine" and f.tariff_id == "cantine"


def test_applies_if_and_total() -> None:
    ctx = DossierContext(today=date(2027, 6, 1))
    result: Evaluation = evaluate_dossier(C, {"qf": "500", "jours": "2"}, ctx)
    assert {f.tariff_id for f in result.fees} == {"cantine", "sortie", "defaut", "cotisation"}
    assert result.total == Decimal("5.00") + Decimal("0.13") + Decimal("1.00") + Decimal(
        "12.00")
    result = evaluate_dossier(C, {"qf": "500", "jours": "0"}, ctx)
    assert "cotisation" not in {f.tariff_id for f in result.fees}
    assert result.money()["total"] == "1.13"


amounts = st.decimals(min_value=0, max_value=100000, places=2).map(str)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), amounts), st.integers(0, 400), st.booleans(), st.booleans(),
       st.booleans())
def test_fee_is_never_negative_and_has_two_decimals(qf: str | None, jours: int,
                                                   fratrie: bool, don: bool,
                                                   boursier: bool) -> None:
    answers = {"qf": qf, "jours": str(jours), "fratrie": fratrie, "don": don,
               "boursier": boursier}
    for tariff in TARIFFS:
        f = fee(tariff, **answers)
        assert f.amount >= 0
        assert f.amount.as_tuple().exponent == -2
        assert f.explanation


def test_each_fee_is_computed_once_per_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    # the fees listed and the fees conditions read (fees.<id>) are the same computation
    computed: list[str] = []

    def counting(tariff: Tariff, scope: Any, lang: str | None = None) -> Any:
        computed.append(tariff.id)
        return compute_fee(tariff, scope, lang)

    for module in (scope_module, evaluation_module):
        monkeypatch.setattr(module, "compute_fee", counting, raising=False)
    result = evaluate_dossier(C, {"qf": "500", "jours": "2"}, DossierContext(
        today=date(2027, 6, 1)), lang="fr")
    assert computed == []  # nothing read them yet (a save needs no fee)
    listed = sorted(f.tariff_id for f in result.fees)  # worked out on first use
    assert sorted(computed) == listed == ["cantine", "cotisation", "defaut", "sortie"]
    assert result.fees is result.fees and len(computed) == 4
