"""One tariff's fee and its explanation in words: the only fee computation of the engine
(the browser twin, engine/web/static/js/rules.js, mirrors it word for word)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from engine.campaign.model import Tariff
from engine.expr import Scope
from engine.fields.common import format_decimal, format_money, to_decimal
from engine.i18n import gettext as _

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Fee:
    tariff_id: str
    label: str
    amount: Decimal
    explanation: str


def split_in_instalments(total: Decimal, count: int) -> list[Decimal]:
    """``total`` in ``count`` equal instalments to the cent (rounded down), what is left over
    on the last: 100,00 € in 3 is 33,33 + 33,33 + 33,34."""
    total = total.quantize(CENT, rounding=ROUND_HALF_UP)
    each = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    return [each] * (count - 1) + [total - each * (count - 1)]


def compute_fee(tariff: Tariff, scope: Scope, lang: str | None = None) -> Fee:
    """One tariff's amount and its explanation in words."""
    label = tariff.label.get(lang)
    if tariff.exempt_if is not None and tariff.exempt_if.test(scope):
        why = tariff.exempt_label.get(lang) or _("exonération")
        return Fee(tariff.id, label, Decimal("0.00"), f"{why} : {format_money(Decimal(0))}")
    parts: list[str] = []
    if tariff.brackets is not None:
        on_value = to_decimal(tariff.brackets.on.value(scope))
        bracket = tariff.brackets.pick(on_value)
        on_label = tariff.brackets.on_label.get(lang) or tariff.brackets.on.source
        shown = format_decimal(on_value) if on_value is not None else _("non renseigné")
        parts.append(f"{on_label} {shown} → {_('tranche')} {bracket.label}")
        unit = bracket.amount
    else:
        unit = tariff.amount or Decimal(0)
    amount = unit
    factors = [format_money(unit)]
    for m in tariff.multipliers:
        by = to_decimal(m.by.value(scope))
        amount *= by if by is not None else Decimal(0)
        factors.append(f"{format_decimal(by) if by is not None else '?'} {m.label.get(lang)}"
                       .strip())
    base = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    line = " × ".join(factors)
    if tariff.multipliers:
        line += f" = {format_money(base)}"
    parts.append(line)
    applied = 0
    for reduction in tariff.reductions:
        if not reduction.when.test(scope):
            continue
        applied += 1
        if reduction.percent is not None:
            cut = (amount * reduction.percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            what = f"−{format_decimal(reduction.percent)} %"
        else:
            cut = min(reduction.amount or Decimal(0), amount)
            what = f"−{format_money(cut)}"
        amount = max(amount - cut, Decimal(0))
        parts.append(f"{reduction.label.get(lang)} {what} : −{format_money(cut)}")
    final = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    explanation = ", ".join(parts)
    if applied or (tariff.brackets is None and not tariff.multipliers):
        explanation += f" → {format_money(final)}"
    return Fee(tariff.id, label, final, explanation)
