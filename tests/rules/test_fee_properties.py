"""Property-based tests of fees against a reference written with exact fractions: brackets at
their edges, every reduction and exemption of the example campaigns, rounding half up.

tests/rules/test_fees.py checks hand-picked cases; here hypothesis draws the tables, the
values around each bound, the percentages and the amounts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.campaign import load_campaign
from engine.rules import DossierContext, DossierScope, compute_fee, evaluate_dossier

from campaign.helpers import compile_fields

ROOT = Path(__file__).parents[2]
TODAY = date(2027, 6, 1)


def half_up(x: Fraction) -> Fraction:
    """Round to the cent, ties away from zero (the rule of the language, for x >= 0)."""
    cents = x * 100
    whole = cents.numerator // cents.denominator
    if cents - whole >= Fraction(1, 2):
        whole += 1
    return Fraction(whole, 100)


def dec(x: Fraction) -> Decimal:
    return Decimal(x.numerator) / Decimal(x.denominator)


money = st.integers(0, 2_000_000).map(lambda c: Fraction(c, 100))  # 0.00 to 20 000.00
percent = st.integers(0, 10_000).map(lambda c: Fraction(c, 100))  # 0.00 % to 100.00 %


# -- brackets ---------------------------------------------------------------------------------

@st.composite
def tables(draw: st.DrawFn) -> list[tuple[Fraction | None, Fraction]]:
    bounds = sorted(draw(st.sets(st.integers(0, 500_000), min_size=1, max_size=5)))
    rows: list[tuple[Fraction | None, Fraction]] = [
        (Fraction(b, 100), draw(money)) for b in bounds]
    if draw(st.booleans()):
        rows.append((None, draw(money)))
    return rows


def _amount(f: Fraction) -> str:
    return f"{dec(f):.2f}"


def _campaign_with(table: list[tuple[Fraction | None, Fraction]]) -> Any:
    lines = "\n".join(
        f"                - {{{'' if up is None else f'up_to: {_amount(up)!r}, '}"
        f"amount: {_amount(amount)!r}, label: T{i}}}"
        for i, (up, amount) in enumerate(table))
    return compile_fields("""\
        - id: qf
          type: number
        """, f"""\
        tariffs:
          - id: t
            label: T
            brackets:
              on: qf
              label: QF
              table:
{lines}
        """)


@settings(max_examples=60, deadline=None)
@given(tables(), st.data())
def test_the_bracket_of_a_value_is_the_first_whose_bound_it_does_not_pass(
        table: list[tuple[Fraction | None, Fraction]], data: st.DataObject) -> None:
    campaign = _campaign_with(table)
    bounds = [up for up, _ in table if up is not None]
    edge = data.draw(st.sampled_from(bounds))
    for value in (edge - Fraction(1, 100), edge, edge + Fraction(1, 100), Fraction(0),
                  bounds[-1] + 1):
        scope = DossierScope(campaign, {"qf": f"{dec(value):.2f}"}, DossierContext(today=TODAY))
        fee = compute_fee(campaign.tariffs[0], scope)
        expected = next((i for i, (up, _) in enumerate(table) if up is None or value <= up),
                        len(table) - 1)
        assert fee.amount == dec(table[expected][1]).quantize(Decimal("0.01")), (value, table)
        assert f"→ tranche T{expected}," in fee.explanation


# -- reductions, exemptions, rounding ----------------------------------------------------------

REDUCTIONS = compile_fields("""\
    - id: unit
      type: number
    - id: times
      type: integer
    - id: p
      type: number
    - id: cut
      type: number
    - id: free
      type: boolean
    """, """\
    tariffs:
      - id: t
        label: T
        amount: "1.00"
        multipliers:
          - {by: unit, label: "€"}
          - {by: times, label: fois}
        reductions:
          - {id: pct, label: Pourcentage, when: not empty(p), percent: "1"}
          - {id: fixe, label: Fixe, when: not empty(cut), amount: "1.00"}
        exempt_if: free == true
      - id: pct_only
        label: P
        amount: "1.00"
        multipliers:
          - {by: unit, label: "€"}
          - {by: times, label: fois}
          - {by: "p / 100", label: taux}
    """)


@settings(max_examples=300, deadline=None)
@given(money, st.integers(0, 400), st.one_of(st.none(), percent), st.one_of(st.none(), money),
       st.booleans())
def test_fee_matches_exact_arithmetic(unit: Fraction, times: int, p: Fraction | None,
                                      cut: Fraction | None, free: bool) -> None:
    """unit × times, then −p % rounded half up, then −cut (never below zero), then rounded;
    an exemption gives 0.00 whatever the rest."""
    answers = {"unit": f"{dec(unit):.2f}", "times": times, "free": free,
               "p": None if p is None else f"{dec(p):.2f}",
               "cut": None if cut is None else f"{dec(cut):.2f}"}
    scope = DossierScope(REDUCTIONS, answers, DossierContext(today=TODAY))
    # tariff t: the drawn p and cut switch on its own 1 % and 1.00 € reductions;
    # tariff pct_only: the drawn percentage applied through a multiplier
    fee = compute_fee(REDUCTIONS.tariffs[0], scope)
    if free:
        assert fee.amount == Decimal("0.00")
        assert fee.explanation == "exonération : 0,00\u00a0€"
        return
    amount = unit * times
    if p is not None:
        amount -= half_up(amount / 100)
    if cut is not None:
        amount = max(amount - min(Fraction(1), amount), Fraction(0))
    assert fee.amount == dec(half_up(amount)).quantize(Decimal("0.01"))
    assert fee.amount.as_tuple().exponent == -2
    rate = compute_fee(REDUCTIONS.tariffs[1], scope)
    if p is None:
        assert rate.amount == Decimal("0.00")  # a multiplier giving null counts as 0
    else:
        assert rate.amount == dec(half_up(unit * times * p / 100)).quantize(Decimal("0.01"))


# -- every reduction and exemption of the example campaigns ------------------------------------

JEAN_MOULIN = load_campaign(ROOT / "campaigns" / "college-jean-moulin.yaml")
TILLEULS = load_campaign(ROOT / "campaigns" / "college-les-tilleuls.yaml")
PRICES = [(Fraction(450), Fraction(150, 100)), (Fraction(800), Fraction(240, 100)),
          (Fraction(1200), Fraction(330, 100)), (None, Fraction(420, 100))]
quotients = st.one_of(
    st.none(),
    st.sampled_from([450, 800, 1200]).flatmap(
        lambda b: st.sampled_from([b - Fraction(1, 100), Fraction(b), b + Fraction(1, 100)])),
    st.integers(0, 500_000).map(lambda c: Fraction(c, 100)))


@settings(max_examples=300, deadline=None)
@given(quotients, st.sampled_from(["dp4", "dp5", "externe"]), st.integers(1, 4),
       st.sampled_from([None, "1", "2", "3"]))
def test_jean_moulin_canteen(qf: Fraction | None, regime: str, rank: int,
                             echelon: str | None) -> None:
    answers: dict[str, Any] = {"regime": regime, "boursier": echelon is not None,
                               "boursier_echelon": echelon}
    if qf is not None:
        answers["quotient_familial"] = f"{dec(qf):.2f}".replace(".", ",")
    ctx = DossierContext(prefill={"pupil": {"level": "5e"}}, family={"siblings": rank,
                                                                     "rank": rank}, today=TODAY)
    result = evaluate_dossier(JEAN_MOULIN, answers, ctx)
    fees = {f.tariff_id: f for f in result.fees}
    if regime == "externe":
        assert fees == {}
        return
    fee = fees["cantine"]
    if echelon == "3":
        assert fee.amount == Decimal("0.00")
        assert fee.explanation == "Exonération (boursier échelon 3) : 0,00\u00a0€"
        return
    price = next(p for up, p in PRICES if up is None or (qf is not None and qf <= up)) \
        if qf is not None else PRICES[-1][1]
    amount = price * (4 if regime == "dp4" else 5) * 36
    if rank >= 2:
        amount -= half_up(amount * 20 / 100)
        assert "Réduction fratrie −20 % : −" in fee.explanation
    assert fee.amount == dec(half_up(amount)).quantize(Decimal("0.01"))
    assert result.money()["total"] == f"{fee.amount:.2f}"


@settings(max_examples=100, deadline=None)
@given(st.booleans(), st.booleans(), st.integers(1, 4))
def test_tilleuls_flat_fee(canteen: bool, social: bool, siblings: int) -> None:
    ctx = DossierContext(prefill={"pupil": {"level": "6e"}},
                         family={"siblings": siblings, "rank": 1}, today=TODAY)
    result = evaluate_dossier(TILLEULS, {"restauration": canteen, "fonds_social": social}, ctx)
    fees = {f.tariff_id: f.amount for f in result.fees}
    if not canteen:
        assert fees == {}
        return
    amount = Decimal("435.00")
    if siblings >= 2:
        amount -= Decimal("30.00")
    if social:
        amount = Decimal("0.00")  # 500.00 takes only what remains
    assert fees == {"forfait_cantine": amount}
