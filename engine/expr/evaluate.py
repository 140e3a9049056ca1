"""Evaluate a checked expression against a scope: deterministic, null-safe, never raises."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Protocol

from .functions import FUNCTIONS, full_months, full_years, is_empty
from .nodes import Binary, BoolOp, Call, Compare, IfElse, ListExpr, Literal, Name, Node, Unary

#: division results are rounded to this many decimals, identically in the browser twin
DIVISION_PLACES = Decimal("1e-10")


class Scope(Protocol):
    """Values an expression can read. Values are str, Decimal, bool, date, list or None."""

    @property
    def today(self) -> date: ...

    def value(self, path: tuple[str, ...]) -> Any: ...

    def changed(self, path: tuple[str, ...]) -> bool: ...


def truthy(value: Any) -> bool:
    """Null and empty values are false; used for conditions."""
    if isinstance(value, bool):
        return value
    return not is_empty(value) and value != Decimal(0)


def evaluate(node: Node, scope: Scope) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        return scope.value(node.path)
    if isinstance(node, ListExpr):
        return [evaluate(i, scope) for i in node.items]
    if isinstance(node, Unary):
        v = evaluate(node.operand, scope)
        if node.op == "not":
            return not truthy(v)
        return -v if isinstance(v, Decimal) else None
    if isinstance(node, BoolOp):
        if node.op == "and":
            return all(truthy(evaluate(v, scope)) for v in node.values)
        return any(truthy(evaluate(v, scope)) for v in node.values)
    if isinstance(node, Binary):
        return _binary(node.op, evaluate(node.left, scope), evaluate(node.right, scope))
    if isinstance(node, Compare):
        return compare(node.op, evaluate(node.left, scope), evaluate(node.right, scope))
    if isinstance(node, IfElse):
        branch = node.then if truthy(evaluate(node.test, scope)) else node.orelse
        return evaluate(branch, scope)
    if isinstance(node, Call):
        return _call(node, scope)
    raise TypeError(node)


def _binary(op: str, a: Any, b: Any) -> Any:
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        return ("" if a is None else str(a)) + ("" if b is None else str(b))
    if not isinstance(a, Decimal) or not isinstance(b, Decimal):
        return None
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return None
        if op == "/":
            return plain((a / b).quantize(DIVISION_PLACES, rounding=ROUND_HALF_EVEN))
        return a % b
    except InvalidOperation:
        return None


def plain(number: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (10, not 1E+1)."""
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if op in ("in", "not in"):
        if isinstance(b, list):
            found = any(_equal(a, item) for item in b)
        elif isinstance(b, str) and isinstance(a, str):
            found = a in b
        else:
            found = False
        return found if op == "in" else not found
    # ordering: two numbers, two texts or two dates; anything else (null, maps, mixed) is false
    if type(a) is not type(b) or not isinstance(a, Decimal | str | date):
        return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if is_empty(a) and is_empty(b):
        return True
    return bool(a == b)


def _call(node: Call, scope: Scope) -> Any:
    name = node.func
    if name == "changed":
        arg = node.args[0]
        return scope.changed(arg.path) if isinstance(arg, Name) else False
    args = [evaluate(a, scope) for a in node.args]
    if name == "today":
        return scope.today
    if name in ("age", "months_since"):
        start = args[0] if isinstance(args[0], date) else None
        on = args[1] if len(args) > 1 else scope.today
        if start is None or not isinstance(on, date):
            return None
        return Decimal(full_years(start, on) if name == "age" else full_months(start, on))
    return FUNCTIONS[name].impl(*args)
