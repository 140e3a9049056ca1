"""The allow-listed functions of the expression language: signature checks and implementations.

Every function is total: null or empty arguments give a defined result, never an exception.
The browser twin (engine/web/static/js/expr.js) implements the same table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from .types import ANY, BOOL, DATE, NUMBER, STR, Type

Checker = Callable[[Sequence[Type]], "Type | str"]
Impl = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    #: human signature, shown in errors and in the reference documentation
    signature: str
    doc: str
    check: Checker
    impl: Impl
    #: True when the function reads the scope (``changed``, ``today``) rather than its arguments
    uses_scope: bool = False


def _arity(n_min: int, n_max: int, types: Sequence[Type], expected: str) -> str | None:
    if not n_min <= len(types) <= n_max:
        return expected
    return None


def _is(t: Type, *kinds: str) -> bool:
    return t.kind in (*kinds, "any", "null")


def _numbers(args: Sequence[Any]) -> list[Decimal]:
    flat: list[Any] = []
    for a in args:
        if isinstance(a, list):
            flat.extend(a)
        else:
            flat.append(a)
    return [x for x in flat if isinstance(x, Decimal)]


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _check_len(types: Sequence[Type]) -> Type | str:
    bad = _arity(1, 1, types, "one list or text")
    if bad or not (types[0].is_list or _is(types[0], "str")):
        return "one list or text"
    return NUMBER


def _check_list_fn(result: Type) -> Checker:
    def check(types: Sequence[Type]) -> Type | str:
        if len(types) != 1 or not (types[0].is_list or _is(types[0])):
            return "one list"
        return result
    return check


def _check_sum(types: Sequence[Type]) -> Type | str:
    if len(types) != 1 or not (types[0].is_list or _is(types[0])):
        return "one list of numbers"
    item = types[0].item
    if item is not None and not _is(item, "number"):
        return "one list of numbers"
    return NUMBER


def _check_minmax(types: Sequence[Type]) -> Type | str:
    if len(types) == 1 and (types[0].is_list or _is(types[0])):
        return NUMBER
    if len(types) >= 2 and all(_is(t, "number") for t in types):
        return NUMBER
    return "a list of numbers, or two numbers or more"


def _check_round(types: Sequence[Type]) -> Type | str:
    if not 1 <= len(types) <= 2 or not all(_is(t, "number") for t in types):
        return "a number and an optional number of decimals"
    return NUMBER


def _check_abs(types: Sequence[Type]) -> Type | str:
    return NUMBER if len(types) == 1 and _is(types[0], "number") else "one number"


def _check_today(types: Sequence[Type]) -> Type | str:
    return DATE if not types else "no argument"


def _check_date(types: Sequence[Type]) -> Type | str:
    return DATE if len(types) == 1 and _is(types[0], "str", "date") else "one text 'YYYY-MM-DD'"


def _check_age(types: Sequence[Type]) -> Type | str:
    if not 1 <= len(types) <= 2 or not all(_is(t, "date") for t in types):
        return "a birth date and an optional reference date"
    return NUMBER


def _check_months(types: Sequence[Type]) -> Type | str:
    if not 1 <= len(types) <= 2 or not all(_is(t, "date") for t in types):
        return "a date and an optional reference date"
    return NUMBER


def _check_year(types: Sequence[Type]) -> Type | str:
    return NUMBER if len(types) == 1 and _is(types[0], "date") else "one date"


def _check_any1(result: Type) -> Checker:
    def check(types: Sequence[Type]) -> Type | str:
        return result if len(types) == 1 else "one argument"
    return check


def _check_text(types: Sequence[Type]) -> Type | str:
    return STR if len(types) == 1 and _is(types[0], "str") else "one text"


def _len(value: Any) -> Decimal:
    if isinstance(value, list | str):
        return Decimal(len(value))
    return Decimal(0)


def _count(value: Any) -> Decimal:
    if not isinstance(value, list):
        return Decimal(0)
    return Decimal(sum(1 for v in value if not is_empty(v) and v is not False))


def _sum(value: Any) -> Decimal:
    return sum(_numbers([value]), Decimal(0)) if isinstance(value, list) else Decimal(0)


def _min(*args: Any) -> Decimal | None:
    nums = _numbers(args)
    return min(nums) if nums else None


def _max(*args: Any) -> Decimal | None:
    nums = _numbers(args)
    return max(nums) if nums else None


def _round(value: Any, places: Any = None) -> Decimal | None:
    if not isinstance(value, Decimal):
        return None
    n = int(places) if isinstance(places, Decimal) else 0
    n = max(0, min(n, 10))
    # enough precision for every digit of the result: large values round exactly, never raise
    with localcontext() as ctx:
        ctx.prec = max(ctx.prec, value.adjusted() + n + 2)
        return value.quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP)


def _abs(value: Any) -> Decimal | None:
    return abs(value) if isinstance(value, Decimal) else None


#: the only text ``date()`` reads (Python's fromisoformat alone also takes 20270101, 2027-W01-1…)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def full_years(born: date, on: date) -> int:
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years


def full_months(start: date, on: date) -> int:
    months = (on.year - start.year) * 12 + on.month - start.month
    if on.day < start.day:
        months -= 1
    return months


def _empty(value: Any) -> bool:
    return is_empty(value)


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _upper(value: Any) -> str | None:
    return value.upper() if isinstance(value, str) else None


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        Function("len", "len(list or text)", "Number of items of a list or characters of a text "
                 "(0 when empty).", _check_len, _len),
        Function("count", "count(list)", "Number of non-empty, non-false items of a list, e.g. "
                 "count(guardians.email).", _check_list_fn(NUMBER), _count),
        Function("sum", "sum(list of numbers)", "Sum of the numbers of a list (empty items "
                 "ignored).", _check_sum, _sum),
        Function("min", "min(a, b, ...) or min(list)", "Smallest number (null when none).",
                 _check_minmax, _min),
        Function("max", "max(a, b, ...) or max(list)", "Largest number (null when none).",
                 _check_minmax, _max),
        Function("round", "round(number, decimals=0)", "Rounds half up (1.005 → 1.01 with 2 "
                 "decimals).", _check_round, _round),
        Function("abs", "abs(number)", "Absolute value.", _check_abs, _abs),
        Function("today", "today()", "The evaluation date (fixed in campaign tests).",
                 _check_today, lambda: None, uses_scope=True),
        Function("date", "date('YYYY-MM-DD')", "A date from ISO text (null when invalid).",
                 _check_date, _date),
        Function("age", "age(birth_date, on=today())", "Age in full years on a date.",
                 _check_age, lambda born, on=None: None, uses_scope=True),
        Function("months_since", "months_since(date, on=today())", "Full months from a date "
                 "until another one (freshness of a proof).", _check_months,
                 lambda start, on=None: None, uses_scope=True),
        Function("year", "year(date)", "The year of a date.", _check_year,
                 lambda d: Decimal(d.year) if isinstance(d, date) else None),
        Function("empty", "empty(value)", "True when a value is missing, empty text or an empty "
                 "list.", _check_any1(BOOL), _empty),
        Function("changed", "changed(field)", "True when the family changed the value the "
                 "school knew (prefilled).", _check_any1(BOOL), lambda _v: False, uses_scope=True),
        Function("lower", "lower(text)", "Text in lower case.", _check_text, _lower),
        Function("upper", "upper(text)", "Text in upper case.", _check_text, _upper),
    ]
}

__all__ = ["ANY", "FUNCTIONS", "Function", "full_months", "full_years", "is_empty"]
