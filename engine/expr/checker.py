"""Static checks of a parsed expression: names, functions, types, declared choices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from engine.diagnostics import Code, did_you_mean

from .functions import FUNCTIONS
from .nodes import Binary, BoolOp, Call, Compare, IfElse, ListExpr, Literal, Name, Node, Unary
from .parser import ExprProblem
from .types import ANY, BOOL, NULL, NUMBER, STR, Type, compatible, join, list_of


@dataclass(frozen=True, slots=True)
class NameInfo:
    """What a name refers to, as far as the checker needs to know."""

    type: Type
    #: the top-level field (or computed value) the name depends on, for the dependency graph
    field_id: str | None = None
    #: declared choice values when the name is a choice field (or a projection of one)
    choices: frozenset[str] | None = None


class Env(Protocol):
    def lookup(self, path: tuple[str, ...]) -> NameInfo | None: ...

    def candidates(self, path: tuple[str, ...]) -> Iterable[str]: ...


@dataclass(slots=True)
class CheckResult:
    type: Type
    deps: set[str] = field(default_factory=set)
    problems: list[ExprProblem] = field(default_factory=list)


def check(node: Node, env: Env) -> CheckResult:
    """Infer the type of ``node`` and collect every problem and every field it depends on."""
    result = CheckResult(ANY)
    result.type = _Checker(env, result).visit(node)
    return result


class _Checker:
    def __init__(self, env: Env, result: CheckResult) -> None:
        self.env = env
        self.result = result
        self.names: dict[int, NameInfo] = {}

    def problem(self, node: Node, code: Code, hint: str | None = None, **ctx: object) -> None:
        self.result.problems.append(ExprProblem(code, ctx, node.offset, hint))

    def visit(self, node: Node) -> Type:
        if isinstance(node, Literal):
            v = node.value
            if v is None:
                return NULL
            if isinstance(v, bool):
                return BOOL
            if isinstance(v, Decimal):
                return NUMBER
            return STR
        if isinstance(node, Name):
            info = self.env.lookup(node.path)
            if info is None:
                self.problem(node, Code.EXPR_003, did_you_mean(node.dotted,
                             self.env.candidates(node.path)), name=node.dotted)
                return ANY
            if info.field_id:
                self.result.deps.add(info.field_id)
            self.names[id(node)] = info
            return info.type
        if isinstance(node, ListExpr):
            item: Type = NULL
            for i in node.items:
                item = join(item, self.visit(i))
            return list_of(ANY if item == NULL else item)
        if isinstance(node, Unary):
            t = self.visit(node.operand)
            if node.op == "not":
                self.expect_bool(node.operand, t)
                return BOOL
            if t.kind not in ("number", "any", "null"):
                self.problem(node, Code.EXPR_005, problem=f"cannot negate {t}")
            return NUMBER
        if isinstance(node, BoolOp):
            for operand in node.values:
                self.expect_bool(operand, self.visit(operand))
            return BOOL
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, IfElse):
            self.expect_bool(node.test, self.visit(node.test))
            return join(self.visit(node.then), self.visit(node.orelse))
        raise TypeError(node)

    def expect_bool(self, node: Node, t: Type) -> None:
        if t.kind not in ("bool", "any", "null"):
            self.problem(node, Code.EXPR_005, "use empty(x) or a comparison",
                         problem=f"'and', 'or' and 'not' need true/false values, not {t}")

    def binary(self, node: Binary) -> Type:
        lt, rt = self.visit(node.left), self.visit(node.right)
        if node.op == "+" and lt.kind == "str" and rt.kind in ("str", "any", "null"):
            return STR
        if node.op == "+" and rt.kind == "str" and lt.kind in ("any", "null"):
            return STR
        for t in (lt, rt):
            if t.kind not in ("number", "any", "null"):
                self.problem(node, Code.EXPR_005,
                             problem=f"'{node.op}' needs numbers, not {t}")
                return ANY
        return NUMBER

    def compare(self, node: Compare) -> Type:
        lt, rt = self.visit(node.left), self.visit(node.right)
        if node.op in ("in", "not in"):
            if rt.kind == "str":
                if lt.kind not in ("str", "any", "null"):
                    self.problem(node, Code.EXPR_005, problem=f"cannot look for {lt} in text")
            elif rt.is_list:
                assert rt.item is not None
                if lt.is_list or not compatible(lt, rt.item):
                    self.problem(node, Code.EXPR_005, problem=f"cannot look for {lt} in a {rt}")
                self.check_choices(node.left, node.right)
                self.check_choices(node.right, node.left)
            elif rt.kind not in ("any", "null"):
                self.problem(node, Code.EXPR_005, problem=f"'in' needs a list or text, not {rt}")
            return BOOL
        if node.op in ("==", "!="):
            if not compatible(lt, rt):
                self.problem(node, Code.EXPR_005, problem=f"comparing {lt} with {rt}")
            self.check_choices(node.left, node.right)
            self.check_choices(node.right, node.left)
            return BOOL
        ordered = ("number", "date", "str")
        known = [t for t in (lt, rt) if t.kind not in ("any", "null")]
        if any(t.kind not in ordered for t in known) or (len(known) == 2 and lt.kind != rt.kind):
            self.problem(node, Code.EXPR_005, problem=f"ordering {lt} against {rt}")
        return BOOL

    def check_choices(self, name_side: Node, literal_side: Node) -> None:
        """Report string literals compared with a choice field that are not declared choices."""
        info = self.names.get(id(name_side))
        if info is None or info.choices is None:
            return
        literals: list[Literal] = []
        if isinstance(literal_side, Literal):
            literals = [literal_side]
        elif isinstance(literal_side, ListExpr):
            literals = [i for i in literal_side.items if isinstance(i, Literal)]
        for lit in literals:
            if isinstance(lit.value, str) and lit.value not in info.choices:
                assert isinstance(name_side, Name)
                self.problem(lit, Code.EXPR_007, did_you_mean(lit.value, info.choices),
                             value=lit.value, field=name_side.dotted,
                             declared=", ".join(sorted(info.choices)))

    def call(self, node: Call) -> Type:
        fn = FUNCTIONS.get(node.func)
        types = [self.visit(a) for a in node.args]
        if fn is None:
            self.problem(node, Code.EXPR_004, did_you_mean(node.func, FUNCTIONS), name=node.func)
            return ANY
        if fn.name == "changed" and (len(node.args) != 1 or not isinstance(node.args[0], Name)
                                     or self.names.get(id(node.args[0])) is None):
            self.problem(node, Code.EXPR_006, name=fn.name, expected="one field id",
                         actual=", ".join(str(t) for t in types) or "nothing")
            return BOOL
        outcome = fn.check(types)
        if isinstance(outcome, str):
            self.problem(node, Code.EXPR_006, name=fn.name, expected=outcome,
                         actual=", ".join(str(t) for t in types) or "nothing")
            return ANY
        return outcome
