"""The condition and computation language of campaigns: parse, check, evaluate, export to JSON.

A small, typed, side-effect-free subset of Python expression syntax. Expressions are parsed and
checked when a campaign loads; evaluation never raises and never calls Python's ``eval``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .checker import CheckResult, Env, NameInfo, check
from .evaluate import Scope, evaluate, truthy
from .functions import FUNCTIONS, is_empty
from .nodes import Name, Node, to_json
from .parser import ExprProblem, ExprSyntaxError, parse
from .types import ANY, BOOL, DATE, NULL, NUMBER, STR, Type, list_of


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed and checked expression, ready to evaluate."""

    source: str
    node: Node
    type: Type
    #: ids of the fields and computed values this expression reads
    deps: frozenset[str]

    def evaluate(self, scope: Scope) -> Any:
        return evaluate(self.node, scope)

    def test(self, scope: Scope) -> bool:
        return truthy(evaluate(self.node, scope))

    def to_json(self) -> Any:
        return to_json(self.node)


def compile_expression(text: str, env: Env) -> tuple[Expression | None, list[ExprProblem]]:
    """Parse and check ``text``; return the expression (None on syntax errors) and problems."""
    try:
        node = parse(text)
    except ExprSyntaxError as exc:
        return None, [exc.problem]
    result = check(node, env)
    return Expression(text, node, result.type, frozenset(result.deps)), result.problems


__all__ = [
    "ANY", "BOOL", "DATE", "FUNCTIONS", "NULL", "NUMBER", "STR", "CheckResult", "Env",
    "ExprProblem", "ExprSyntaxError", "Expression", "Name", "NameInfo", "Node", "Scope", "Type",
    "check", "compile_expression", "evaluate", "is_empty", "list_of", "parse", "to_json", "truthy",
]
