"""Parse expression text into our AST, through Python's own parser and an allow-list.

Python's ``ast`` gives exact offsets and a grammar authors already know; only the constructs
listed here are accepted, and nothing is ever evaluated by Python.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from engine.diagnostics import Code, EngineError

from .nodes import Binary, BoolOp, Call, Compare, IfElse, ListExpr, Literal, Name, Node, Unary

#: longest accepted expression text
MAX_LENGTH = 2000
#: deepest accepted nesting
MAX_DEPTH = 40

_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.In: "in", ast.NotIn: "not in"}
_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}
_CONSTANT_NAMES: dict[str, bool | None] = {
    "true": True, "false": False, "null": None, "none": None,
}


@dataclass(frozen=True, slots=True)
class ExprProblem:
    """A problem inside an expression, at ``offset`` characters from its start."""

    code: Code
    context: dict[str, object] = field(default_factory=dict)
    offset: int = 0
    hint: str | None = None

    @property
    def message(self) -> str:
        return self.code.format(**self.context)


class ExprSyntaxError(EngineError):
    def __init__(self, problem: ExprProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def parse(text: str) -> Node:
    """Parse ``text``; raise :class:`ExprSyntaxError` on anything outside the language."""
    if len(text) > MAX_LENGTH:
        raise ExprSyntaxError(ExprProblem(Code.EXPR_010, {"limit": f"{MAX_LENGTH} characters"}))
    stripped = text.strip()
    if not stripped:
        raise ExprSyntaxError(ExprProblem(Code.EXPR_001, {"problem": "the expression is empty"}))
    lead = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        offset = lead + max((exc.offset or 1) - 1, 0) if (exc.lineno or 1) == 1 else lead
        problem = _author_mistake(stripped)
        if problem is not None:
            raise ExprSyntaxError(ExprProblem(
                Code.EXPR_001, {"problem": problem[0]}, lead + problem[1])) from None
        message = exc.msg.split(". Maybe you meant")[0]
        raise ExprSyntaxError(ExprProblem(Code.EXPR_001, {
            "problem": f"{message}; check the quotes, brackets and operators at this column"},
            offset)) from None
    except (ValueError, RecursionError, MemoryError):
        raise ExprSyntaxError(ExprProblem(Code.EXPR_010, {"limit": f"depth {MAX_DEPTH}"})) from None
    return _Converter(stripped, lead).convert(tree.body, 0)


#: words authors write in French where the language wants its own
_FRENCH_WORDS = {"ou": "or", "et": "and", "non": "not"}


def _author_mistake(text: str) -> tuple[str, int] | None:
    """The usual mistake behind a syntax error, in the author's words, and its offset: ``=``
    for ``==``, French ``ou``/``et``/``non``."""
    offsets = [0]
    for line in text.split("\n"):
        offsets.append(offsets[-1] + len(line) + 1)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        tokens = []  # the tokens read before the problem are enough
    for before, tok in zip([None, *tokens], tokens, strict=False):
        where = offsets[tok.start[0] - 1] + tok.start[1]
        if tok.type == tokenize.OP and tok.string == "=":
            if before is not None and before.string in ("<", ">", "!"):
                return f"write '{before.string}=' without a space", where
            return "'=' does not compare: write '==' (e.g. regime == \"externe\")", where
        if tok.type == tokenize.NAME and tok.string in _FRENCH_WORDS:
            word = _FRENCH_WORDS[tok.string]
            return f"'{tok.string}' is not a word of the language: write '{word}'", where
    return None


class _Converter:
    def __init__(self, text: str, lead: int) -> None:
        self.text = text
        self.lead = lead

    def fail(self, node: ast.AST, code: Code, **ctx: object) -> ExprSyntaxError:
        return ExprSyntaxError(ExprProblem(code, ctx, self.offset(node)))

    def offset(self, node: ast.AST) -> int:
        col = getattr(node, "col_offset", 0)
        line = getattr(node, "lineno", 1)
        if line > 1:  # multi-line (folded) expression: count the characters of previous lines
            col += sum(len(x) + 1 for x in self.text.split("\n")[: line - 1])
        return self.lead + col

    def convert(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(node, Code.EXPR_010, limit=f"depth {MAX_DEPTH}")
        off = self.offset(node)
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self.constant(node, off)
        if isinstance(node, ast.Name):
            if node.id in _CONSTANT_NAMES:
                return Literal(off, _CONSTANT_NAMES[node.id])
            if node.id in ("True", "False", "None"):
                return Literal(off, {"True": True, "False": False, "None": None}[node.id])
            return Name(off, (node.id,))
        if isinstance(node, ast.Attribute):
            parts: list[str] = [node.attr]
            base: ast.AST = node.value
            while isinstance(base, ast.Attribute):
                parts.append(base.attr)
                base = base.value
            if not isinstance(base, ast.Name):
                raise self.fail(node, Code.EXPR_002, construct="Attribute access on a value")
            parts.append(base.id)
            if any(p.startswith("_") for p in parts):
                raise self.fail(node, Code.EXPR_002, construct="A name starting with '_'")
            return Name(off, tuple(reversed(parts)))
        if isinstance(node, ast.List | ast.Tuple):
            return ListExpr(off, tuple(self.convert(e, d) for e in node.elts))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return Unary(off, "not", self.convert(node.operand, d))
            if isinstance(node.op, ast.USub):
                operand = self.convert(node.operand, d)
                if isinstance(operand, Literal) and isinstance(operand.value, Decimal):
                    return Literal(off, -operand.value)
                return Unary(off, "-", operand)
            if isinstance(node.op, ast.UAdd):
                return self.convert(node.operand, d)
            raise self.fail(node, Code.EXPR_002, construct="Bitwise operators")
        if isinstance(node, ast.BinOp):
            op = _BIN.get(type(node.op))
            if op is None:
                raise self.fail(node, Code.EXPR_002, construct=f"Operator {type(node.op).__name__}")
            return Binary(off, op, self.convert(node.left, d), self.convert(node.right, d))
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return BoolOp(off, op, tuple(self.convert(v, d) for v in node.values))
        if isinstance(node, ast.Compare):
            return self.compare(node, off, d)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise self.fail(node, Code.EXPR_002, construct="Calling a method")
            if node.keywords:
                raise self.fail(node, Code.EXPR_002, construct="Keyword arguments")
            if any(isinstance(a, ast.Starred) for a in node.args):
                raise self.fail(node, Code.EXPR_002, construct="Argument unpacking")
            return Call(off, node.func.id, tuple(self.convert(a, d) for a in node.args))
        if isinstance(node, ast.IfExp):
            return IfElse(off, self.convert(node.test, d), self.convert(node.body, d),
                          self.convert(node.orelse, d))
        construct = {
            "Subscript": "Indexing with []", "Lambda": "lambda", "ListComp": "Comprehensions",
            "GeneratorExp": "Comprehensions", "DictComp": "Comprehensions", "Dict": "Dictionaries",
            "Set": "Sets", "JoinedStr": "f-strings", "NamedExpr": "Assignment (:=)",
            "Await": "await", "Starred": "Unpacking",
        }.get(type(node).__name__, type(node).__name__)
        raise self.fail(node, Code.EXPR_002, construct=construct)

    def constant(self, node: ast.Constant, off: int) -> Literal:
        value = node.value
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return Literal(off, value)
        if isinstance(value, int | float):
            segment = ast.get_source_segment(self.text, node) or repr(value)
            try:
                number = Decimal(segment.replace("_", ""))
            except InvalidOperation:
                raise self.fail(node, Code.EXPR_002, construct=f"The number {segment}") from None
            if not number.is_finite() or abs(number.adjusted()) > 15:
                raise self.fail(node, Code.EXPR_002, construct=f"The number {segment}")
            return Literal(off, number)
        raise self.fail(node, Code.EXPR_002, construct=f"The literal {type(value).__name__}")

    def compare(self, node: ast.Compare, off: int, d: int) -> Node:
        left = self.convert(node.left, d)
        parts: list[Node] = []
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            name = _CMP.get(type(op))
            if name is None:
                raise self.fail(node, Code.EXPR_002, construct="'is' (use == or !=)")
            right = self.convert(comparator, d)
            parts.append(Compare(off, name, left, right))
            left = right
        return parts[0] if len(parts) == 1 else BoolOp(off, "and", tuple(parts))
