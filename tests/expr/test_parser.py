"""The expression parser: every construct of the language accepted, everything else refused
with the right code at the right offset."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.diagnostics import Code
from engine.expr import compile_expression, parse, to_json
from engine.expr.parser import MAX_DEPTH, MAX_LENGTH, ExprSyntaxError


class NoNames:
    def lookup(self, path: tuple[str, ...]) -> None:
        return None

    def candidates(self, path: tuple[str, ...]) -> list[str]:
        return []


def refused(text: str) -> tuple[Code, int]:
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    return info.value.problem.code, info.value.problem.offset


@pytest.mark.parametrize(("text", "json"), [
    ("a", {"ref": ["a"]}),
    ("pupil.address.commune", {"ref": ["pupil", "address", "commune"]}),
    ("12", {"num": "12"}),
    ("12.50", {"num": "12.50"}),
    ("1_000", {"num": "1000"}),
    ("-3", {"num": "-3"}),
    ("+3", {"num": "3"}),
    ("'x'", {"lit": "x"}),
    ('"x"', {"lit": "x"}),
    ("true", {"lit": True}), ("True", {"lit": True}), ("false", {"lit": False}),
    ("null", {"lit": None}), ("none", {"lit": None}), ("None", {"lit": None}),
    ("[1, 'a']", {"list": [{"num": "1"}, {"lit": "a"}]}),
    ("(1, 2)", {"list": [{"num": "1"}, {"num": "2"}]}),
    ("[]", {"list": []}),
    ("not a", {"op": "not", "args": [{"ref": ["a"]}]}),
    ("-a", {"op": "-", "args": [{"ref": ["a"]}]}),
    ("a + b * c", {"op": "+", "args": [{"ref": ["a"]}, {"op": "*", "args": [
        {"ref": ["b"]}, {"ref": ["c"]}]}]}),
    ("a - b / c % d", {"op": "-", "args": [{"ref": ["a"]}, {"op": "%", "args": [
        {"op": "/", "args": [{"ref": ["b"]}, {"ref": ["c"]}]}, {"ref": ["d"]}]}]}),
    ("a and b or c", {"op": "or", "args": [{"op": "and", "args": [
        {"ref": ["a"]}, {"ref": ["b"]}]}, {"ref": ["c"]}]}),
    ("a and b and c", {"op": "and", "args": [{"ref": ["a"]}, {"ref": ["b"]}, {"ref": ["c"]}]}),
    ("a == 1", {"op": "==", "args": [{"ref": ["a"]}, {"num": "1"}]}),
    ("a != 1", {"op": "!=", "args": [{"ref": ["a"]}, {"num": "1"}]}),
    ("a <= 1", {"op": "<=", "args": [{"ref": ["a"]}, {"num": "1"}]}),
    ("a in ['x']", {"op": "in", "args": [{"ref": ["a"]}, {"list": [{"lit": "x"}]}]}),
    ("a not in ['x']", {"op": "not in", "args": [{"ref": ["a"]}, {"list": [{"lit": "x"}]}]}),
    ("1 < a <= 3", {"op": "and", "args": [
        {"op": "<", "args": [{"num": "1"}, {"ref": ["a"]}]},
        {"op": "<=", "args": [{"ref": ["a"]}, {"num": "3"}]}]}),
    ("x if c else y", {"if": [{"ref": ["c"]}, {"ref": ["x"]}, {"ref": ["y"]}]}),
    ("age(b, today())", {"call": "age", "args": [{"ref": ["b"]}, {"call": "today",
                                                                   "args": []}]}),
    ("  a == 1  ", {"op": "==", "args": [{"ref": ["a"]}, {"num": "1"}]}),
    ("(a ==\n 1)", {"op": "==", "args": [{"ref": ["a"]}, {"num": "1"}]}),
])
def test_accepted(text: str, json: object) -> None:
    assert to_json(parse(text)) == json


def test_numbers_are_exact_decimals() -> None:
    node = parse("0.1")
    assert node.value == Decimal("0.1")  # type: ignore[attr-defined]
    assert parse("1e3").value == Decimal("1E+3")  # type: ignore[attr-defined]


@pytest.mark.parametrize(("text", "code", "offset"), [
    ("().__class__", Code.EXPR_002, 0),
    ("a.__class__", Code.EXPR_002, 0),
    ("x + a._secret", Code.EXPR_002, 4),
    ("a.b()", Code.EXPR_002, 0),
    ("lambda: 1", Code.EXPR_002, 0),
    ("[x for x in y]", Code.EXPR_002, 0),
    ("(x for x in y)", Code.EXPR_002, 0),
    ("{k: 1 for k in y}", Code.EXPR_002, 0),
    ("a[0]", Code.EXPR_002, 0),
    ("x == a[1:2]", Code.EXPR_002, 5),
    ("f'{a}'", Code.EXPR_002, 0),
    ("a is None", Code.EXPR_002, 0),
    ("a is not b", Code.EXPR_002, 0),
    ("(x := 1)", Code.EXPR_002, 1),
    ("{1: 2}", Code.EXPR_002, 0),
    ("{1}", Code.EXPR_002, 0),
    ("~a", Code.EXPR_002, 0),
    ("a ** 2", Code.EXPR_002, 0),
    ("a // 2", Code.EXPR_002, 0),
    ("a & b", Code.EXPR_002, 0),
    ("a << 1", Code.EXPR_002, 0),
    ("len(x=1)", Code.EXPR_002, 0),
    ("len(*a)", Code.EXPR_002, 0),
    ("0x10", Code.EXPR_002, 0),
    ("1j", Code.EXPR_002, 0),
    ("b'x'", Code.EXPR_002, 0),
    ("...", Code.EXPR_002, 0),
    ("1e400", Code.EXPR_002, 0),
    ("a + (b is c)", Code.EXPR_002, 5),
    ("", Code.EXPR_001, 0),
    ("   ", Code.EXPR_001, 0),
    ("a ==", Code.EXPR_001, 0),
    ("a = 1", Code.EXPR_001, 2),
    ("yield", Code.EXPR_001, 0),
    ("import os", Code.EXPR_001, 0),
    ("a and and b", Code.EXPR_001, 6),
    ("  a and and b", Code.EXPR_001, 8),
])
def test_refused(text: str, code: Code, offset: int) -> None:
    assert refused(text) == (code, offset)


@pytest.mark.parametrize(("text", "words", "offset"), [
    ('regime = "externe"', "write '=='", 7),
    ("a == 1 ou b == 2", "write 'or'", 7),
    ("a == 1 et b == 2", "write 'and'", 7),
    ("non a", "write 'not'", 0),
    ("a < = 2", "write '<=' without a space", 4),
])
def test_usual_mistakes_are_told_in_the_authors_words(text: str, words: str, offset: int) -> None:
    with pytest.raises(ExprSyntaxError, match=words) as raised:
        parse(text)
    assert raised.value.problem.offset == offset


def test_refused_messages_name_the_construct() -> None:
    with pytest.raises(ExprSyntaxError, match="lambda"):
        parse("lambda: 1")
    with pytest.raises(ExprSyntaxError, match="'is'"):
        parse("a is None")
    with pytest.raises(ExprSyntaxError, match="Indexing"):
        parse("a[0]")


@pytest.mark.parametrize("text", ["__import__('os')", "eval('1')", "open('/etc/passwd')",
                                  "getattr(1, 'b')", "exec('x')"])
def test_builtins_are_unknown_functions(text: str) -> None:
    expr, problems = compile_expression(text, NoNames())
    assert [p.code for p in problems][:1] == [Code.EXPR_004]
    assert problems[0].offset == 0


def test_too_long() -> None:
    text = " or ".join(["a"] * (MAX_LENGTH // 4 + 1))
    assert len(text) > MAX_LENGTH
    assert refused(text)[0] is Code.EXPR_010
    assert to_json(parse("a" * MAX_LENGTH)) == {"ref": ["a" * MAX_LENGTH]}


def test_too_deep() -> None:
    ok = "(" * (MAX_DEPTH - 2) + "1" + ")" * (MAX_DEPTH - 2)
    assert to_json(parse("-" + ok)) == {"num": "-1"}
    assert refused("not " * (MAX_DEPTH + 5) + "a")[0] is Code.EXPR_010
    assert refused("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5))[0] is Code.EXPR_010
    assert refused("(" * 500 + "1" + ")" * 500)[0] in (Code.EXPR_010, Code.EXPR_001)


def test_offsets_of_nodes() -> None:
    node = parse("a and b == 'x'")
    assert node.offset == 0
    assert node.values[1].offset == 6  # type: ignore[attr-defined]
    assert node.values[1].right.offset == 11  # type: ignore[attr-defined]
    assert parse("  a").offset == 2
