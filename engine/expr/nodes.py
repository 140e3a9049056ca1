"""The expression AST: small frozen nodes, each with its offset in the source text."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    offset: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: str | Decimal | bool | None


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A field id or a dotted path such as ``pupil.birth_date`` or ``guardians.email``."""

    path: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class ListExpr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "not" or "-"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # + - * / %
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class BoolOp(Node):
    op: str  # and / or
    values: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: str  # == != < <= > >= in "not in"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class IfElse(Node):
    test: Node
    then: Node
    orelse: Node


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``, in source order (as ``ast.iter_child_nodes``)."""
    if isinstance(node, ListExpr):
        return node.items
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary | Compare):
        return (node.left, node.right)
    if isinstance(node, BoolOp):
        return node.values
    if isinstance(node, Call):
        return node.args
    if isinstance(node, IfElse):
        return (node.test, node.then, node.orelse)
    return ()


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it, parents first (as ``ast.walk``)."""
    yield node
    for child in children(node):
        yield from walk(child)


def to_json(node: Node) -> Any:
    """The JSON form the browser interpreter reads (engine/web/static/js/expr.js)."""
    if isinstance(node, Literal):
        if isinstance(node.value, Decimal):
            return {"num": str(node.value)}
        return {"lit": node.value}
    if isinstance(node, Name):
        return {"ref": list(node.path)}
    if isinstance(node, ListExpr):
        return {"list": [to_json(i) for i in node.items]}
    if isinstance(node, Unary):
        return {"op": node.op, "args": [to_json(node.operand)]}
    if isinstance(node, Binary | Compare):
        return {"op": node.op, "args": [to_json(node.left), to_json(node.right)]}
    if isinstance(node, BoolOp):
        return {"op": node.op, "args": [to_json(v) for v in node.values]}
    if isinstance(node, Call):
        return {"call": node.func, "args": [to_json(a) for a in node.args]}
    if isinstance(node, IfElse):
        return {"if": [to_json(node.test), to_json(node.then), to_json(node.orelse)]}
    raise TypeError(f"unknown node {node!r}")
