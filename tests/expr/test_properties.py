"""Properties of the expression language, checked on generated expressions and values."""

from __future__ import annotations

import keyword
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine.expr import ANY, FUNCTIONS, NameInfo, check, evaluate, parse, to_json
from engine.expr.evaluate import compare
from engine.expr.nodes import (
    Binary,
    BoolOp,
    Call,
    Compare,
    IfElse,
    ListExpr,
    Literal,
    Name,
    Node,
    Unary,
    children,
    walk,
)

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
RESERVED = {"true", "false", "null", "none"}
#: accepted numbers of arguments of each function (``changed`` takes a field id)
ARITY = {"len": (1, 1), "count": (1, 1), "sum": (1, 1), "min": (1, 3), "max": (1, 3),
         "round": (1, 2), "abs": (1, 1), "today": (0, 0), "date": (1, 1), "age": (1, 2),
         "months_since": (1, 2), "year": (1, 1), "empty": (1, 1), "lower": (1, 1),
         "upper": (1, 1)}

identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s) and s not in RESERVED)
numbers = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False,
                      allow_infinity=False)
literals = st.one_of(
    numbers.map(lambda d: Literal(0, d)),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6).map(
        lambda s: Literal(0, s)),
    st.sampled_from([True, False, None]).map(lambda v: Literal(0, v)),
)
names = st.lists(identifiers, min_size=1, max_size=3).map(lambda p: Name(0, tuple(p)))


def _compound(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.lists(children, max_size=3).map(lambda items: ListExpr(0, tuple(items))),
        children.filter(lambda n: not isinstance(n, Literal)).map(lambda n: Unary(0, "-", n)),
        children.map(lambda n: Unary(0, "not", n)),
        st.builds(lambda op, a, b: Binary(0, op, a, b), st.sampled_from("+-*/%"),
                  children, children),
        st.builds(lambda op, vs: BoolOp(0, op, tuple(vs)), st.sampled_from(["and", "or"]),
                  st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda op, a, b: Compare(0, op, a, b),
                  st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"]),
                  children, children),
        st.sampled_from(sorted(ARITY)).flatmap(lambda f: st.lists(
            children, min_size=ARITY[f][0], max_size=ARITY[f][1]).map(
                lambda args: Call(0, f, tuple(args)))),
        names.map(lambda n: Call(0, "changed", (n,))),
        st.builds(lambda t, a, b: IfElse(0, t, a, b), children, children, children),
    )


nodes = st.recursive(st.one_of(literals, names), _compound, max_leaves=12)


def render(node: Node) -> str:
    """Source text of ``node``, every compound part in parentheses."""
    if isinstance(node, Literal):
        v = node.value
        if isinstance(v, bool) or v is None:
            return {True: "true", False: "false", None: "null"}[v]
        return str(v) if isinstance(v, Decimal) else repr(v)
    if isinstance(node, Name):
        return node.dotted
    if isinstance(node, ListExpr):
        return "[" + ", ".join(render(i) for i in node.items) + "]"
    if isinstance(node, Unary):
        return f"({node.op} {render(node.operand)})"
    if isinstance(node, Binary | Compare):
        return f"({render(node.left)} {node.op} {render(node.right)})"
    if isinstance(node, BoolOp):
        return "(" + f" {node.op} ".join(render(v) for v in node.values) + ")"
    if isinstance(node, Call):
        return f"{node.func}(" + ", ".join(render(a) for a in node.args) + ")"
    assert isinstance(node, IfElse)
    return f"({render(node.then)} if {render(node.test)} else {render(node.orelse)})"


@SETTINGS
@given(nodes)
def test_render_then_parse_gives_the_same_tree(node: Node) -> None:
    assert to_json(parse(render(node))) == to_json(node)


class AnyEnv:
    """Every name exists and may hold any value."""

    def lookup(self, path: tuple[str, ...]) -> NameInfo:
        return NameInfo(ANY, path[0])

    def candidates(self, path: tuple[str, ...]) -> list[str]:
        return []


class DictScope:
    def __init__(self, values: dict[str, Any], today: date = date(2027, 6, 1)) -> None:
        self.values = values
        self._today = today

    @property
    def today(self) -> date:
        return self._today

    def value(self, path: tuple[str, ...]) -> Any:
        return self.values.get(".".join(path))

    def changed(self, path: tuple[str, ...]) -> bool:
        return path[0].startswith("c")


# values as fields give them to expressions: numbers within the engine's 15-digit range
decimals = st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"),
                       allow_nan=False, allow_infinity=False, places=4)
scalars = st.one_of(st.none(), decimals, st.text(max_size=8), st.booleans(),
                    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
                    st.sampled_from(["2014-02-28", "31/12/2014", "", "1"]))
values = st.one_of(scalars, st.lists(scalars, max_size=4),
                   st.dictionaries(st.sampled_from(["commune", "postal_code"]), st.text(
                       max_size=5), max_size=2))


def well_formed(node: Node) -> bool:
    """Parsed, and every call has an accepted number of arguments (types may mismatch:
    evaluation is null-safe even then)."""
    problems = check(node, AnyEnv()).problems
    return not any(p.code.name == "EXPR_006" and "argument" in p.message for p in problems)


def scope_for(node: Node, data: st.DataObject) -> DictScope:
    paths = {n.dotted for n in walk(node) if isinstance(n, Name)}
    return DictScope({p: data.draw(values, label=p) for p in sorted(paths)})


@SETTINGS
@given(nodes, st.data())
def test_evaluation_never_raises_and_is_deterministic(node: Node, data: st.DataObject) -> None:
    assert well_formed(node)
    scope = scope_for(node, data)
    first = evaluate(node, scope)
    assert first is None or isinstance(first, str | Decimal | bool | date | list | dict)
    assert evaluate(node, scope) == first
    assert evaluate(parse(render(node)), DictScope(dict(scope.values))) == first


def _eval(text: str, **scope: Any) -> Any:
    return evaluate(parse(text), DictScope(scope))


@SETTINGS
@given(decimals, decimals)
def test_arithmetic_laws(x: Decimal, y: Decimal) -> None:
    assert _eval("x + 0", x=x) == x
    assert _eval("x * 1", x=x) == x
    assert _eval("x - x", x=x) == 0
    assert _eval("x + y", x=x, y=y) == _eval("y + x", x=x, y=y)
    assert _eval("x * y", x=x, y=y) == _eval("y * x", x=x, y=y)
    assert _eval("x / 0", x=x) is None
    assert _eval("x % 0", x=x) is None
    assert _eval("x / y", x=x, y=Decimal(0)) is None
    assert _eval("-(-x)", x=x) == x
    if y != 0 and abs(x) < 10**6 and abs(y) > Decimal("0.01"):
        q = _eval("x / y", x=x, y=y)
        assert abs(q - x / y) <= Decimal("1e-10")


@SETTINGS
@given(scalars)
def test_arithmetic_with_a_non_number_is_null(v: Any) -> None:
    assume(not isinstance(v, Decimal))
    for op in "-*/%":
        assert _eval(f"x {op} 2", x=v) is None
    if not isinstance(v, str):
        assert _eval("x + 2", x=v) is None


@SETTINGS
@given(scalars)
def test_comparisons_with_null(v: Any) -> None:
    for op in ("<", "<=", ">", ">="):
        assert compare(op, None, v) is False
        assert compare(op, v, None) is False
    empty = v is None or v == ""
    assert compare("==", v, None) is empty
    assert compare("!=", v, None) is not empty
    assert compare("==", None, v) is empty
    assert _eval("x == null", x=v) is empty


@SETTINGS
@given(scalars, scalars)
def test_equality_is_symmetric_and_ne_is_its_negation(a: Any, b: Any) -> None:
    assert compare("==", a, b) == compare("==", b, a)
    assert compare("!=", a, b) is not compare("==", a, b)
    assert compare("==", a, a) is True


def test_booleans_never_equal_numbers() -> None:
    assert compare("==", True, Decimal(1)) is False
    assert compare("==", False, Decimal(0)) is False
    assert compare("<", True, False) is False


def test_round_half_up_and_huge_values_do_not_raise() -> None:
    assert _eval("round(x, 2)", x=Decimal("1.005")) == Decimal("1.01")
    assert _eval("round(x)", x=Decimal("2.5")) == Decimal(3)
    assert _eval("round(x * x, 2)", x=Decimal("1e15")) == Decimal("1e30")
    assert _eval("round(x, 2)", x=Decimal("123456789012345678901234567.895")) == Decimal(
        "123456789012345678901234567.90")
    assert _eval("x / y", x=Decimal("1e15"), y=Decimal("1e-15")) in (None, Decimal("1e30"))


def test_generator_covers_every_function() -> None:
    assert set(ARITY) | {"changed"} == set(FUNCTIONS)



def test_walk_reaches_the_names_under_every_kind_of_node() -> None:
    node = parse("(a if changed(b) else max(c, -d)) + len([e, 1]) > 0 and not (f in g)")
    assert next(walk(node)) is node
    # an if-else's test comes before its branches, as in children()
    assert [n.dotted for n in walk(node) if isinstance(n, Name)] == [
        "b", "a", "c", "d", "e", "f", "g"]
    assert children(parse("x")) == ()
