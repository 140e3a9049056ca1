"""Conditions in words, for families ("why is this document asked?") and for authors
(``dossiersco explain``)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from engine.campaign.model import Campaign, Condition, FieldSpec
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
    walk,
)
from engine.fields.common import format_decimal

_OPS = {"==": "est", "!=": "n'est pas", "<": "est inférieur à", "<=": "est au plus",
        ">": "est supérieur à", ">=": "est au moins", "in": "est parmi",
        "not in": "n'est pas parmi"}
_FUNCS = {"changed": "« {0} » a été modifié", "empty": "« {0} » n'est pas renseigné",
          "age": "l'âge ({0})", "len": "le nombre de {0}", "count": "le nombre de {0} renseignés",
          "today": "la date du jour", "months_since": "l'ancienneté en mois de {0}"}
_RECORD = {"pupil": "élève", "family": "famille", "guardians": "responsables",
           "previous": "dossier de l'an dernier"}


def describe(node: Node, campaign: Campaign, lang: str | None = None) -> str:
    """A French sentence fragment saying what ``node`` tests."""
    d = _Describer(campaign, lang)
    return d.node(node)


class _Describer:
    def __init__(self, campaign: Campaign, lang: str | None) -> None:
        self.campaign = campaign
        self.lang = lang

    def name(self, node: Name) -> str:
        key = node.dotted
        spec = self.campaign.fields.get(key) or self.campaign.fields.get(node.path[0])
        if spec is not None:
            label = spec.label.get(self.lang)
            return label if key == spec.key else f"{label} ({'.'.join(node.path[1:])})"
        if node.path[0] in _RECORD:
            return f"{_RECORD[node.path[0]]} : {'.'.join(node.path[1:])}".rstrip(" :")
        return key

    def literal(self, node: Node, against: Node | None) -> str:
        if isinstance(node, Literal):
            v = node.value
            if isinstance(v, bool):
                return "oui" if v else "non"
            if v is None:
                return "vide"
            if isinstance(v, Decimal):
                return format_decimal(v)
            if isinstance(against, Name):
                spec = self.campaign.fields.get(against.dotted)
                if spec is not None and spec.type.choices(spec) is not None \
                        and hasattr(spec.options, "label_of"):
                    return f"« {spec.options.label_of(v, self.lang)} »"
            return f"« {v} »"
        if isinstance(node, ListExpr):
            return ", ".join(self.literal(i, against) for i in node.items)
        return self.node(node)

    def node(self, node: Node) -> str:
        if isinstance(node, Name):
            return f"« {self.name(node)} »"
        if isinstance(node, Literal | ListExpr):
            return self.literal(node, None)
        if isinstance(node, Compare):
            if isinstance(node.right, Literal) and isinstance(node.right.value, bool) \
                    and node.op in ("==", "!="):
                yes = node.right.value == (node.op == "==")
                return f"{self.node(node.left)} est {'coché / oui' if yes else 'non'}"
            return f"{self.node(node.left)} {_OPS[node.op]} {self.literal(node.right, node.left)}"
        if isinstance(node, BoolOp):
            joiner = " et " if node.op == "and" else " ou "
            return joiner.join(self.node(v) for v in node.values)
        if isinstance(node, Unary):
            if node.op == "not":
                return f"non ({self.node(node.operand)})"
            return f"-{self.node(node.operand)}"
        if isinstance(node, Binary):
            return f"{self.node(node.left)} {node.op} {self.node(node.right)}"
        if isinstance(node, Call):
            args = [self.name(a) if isinstance(a, Name) else self.node(a) for a in node.args]
            template = _FUNCS.get(node.func)
            if template:
                return template.format(*(args or [""]))
            return f"{node.func}({', '.join(args)})"
        if isinstance(node, IfElse):
            return (f"{self.node(node.then)} si {self.node(node.test)}, sinon "
                    f"{self.node(node.orelse)}")
        return "?"


def _paths(node: Node) -> Iterator[tuple[str, ...]]:
    """Every name an expression reads (the argument of ``changed`` included)."""
    return (n.path for n in walk(node) if isinstance(n, Name))


def reads(cond: Condition | None, key: str, campaign: Campaign,
          row: FieldSpec | None = None) -> bool:
    """Whether ``cond`` reads the field ``key`` (``id``, or ``repeat.child``); ``row`` is the
    repeat whose rows the condition is evaluated in, where a child's bare id means that child.
    """
    if cond is None:
        return False
    for path in _paths(cond.expression.node):
        if row is not None and any(c.id == path[0] for c in row.fields):
            name = f"{row.id}.{path[0]}"
        elif len(path) > 1 and f"{path[0]}.{path[1]}" in campaign.fields:
            name = f"{path[0]}.{path[1]}"
        else:
            name = path[0]
        if name == key:
            return True
    return False


def used_by(campaign: Campaign, spec: FieldSpec) -> list[str]:
    """Everything of the campaign whose rules read ``spec``: pages, fields, tariffs (and their
    brackets, multipliers, reductions, exemption), associations, documents, the audience."""
    key = spec.key
    out: list[str] = []
    if reads(campaign.audience, key, campaign):
        out.append("the campaign's audience")
    out += [f"page {p.id}" for p in campaign.pages if reads(p.visible_if, key, campaign)]
    for other in campaign.fields.values():
        if other is spec:
            continue
        row = campaign.fields[other.parent_id] if other.parent_id else None
        conditions = (other.visible_if, other.readonly_if,
                      other.required if isinstance(other.required, Condition) else None,
                      *other.expressions.values(), *(r.rule for r in other.validate))
        if any(reads(c, key, campaign, row) for c in conditions):
            out.append(f"field {other.key}")
    for tariff in campaign.tariffs:
        parts = [what for cond, what in (
            (tariff.applies_if, "applies_if"),
            (tariff.brackets.on if tariff.brackets else None, "brackets"),
            *((m.by, f"multiplier « {m.label.get(None) or m.by.source} »")
              for m in tariff.multipliers),
            *((r.when, f"reduction {r.id}") for r in tariff.reductions),
            (tariff.exempt_if, "exemption")) if reads(cond, key, campaign)]
        if parts:
            out.append(f"tariff {tariff.id} ({', '.join(parts)})")
    for assoc in campaign.associations:
        if reads(assoc.available_if, key, campaign):
            out.append(f"association {assoc.id} (available_if)")
        elif spec.type.holds_memberships and spec.parent_id is None:
            out.append(f"association {assoc.id} (chosen here)")
    out += [f"document {d.id} (required_if)" for d in campaign.documents
            if reads(d.required_if, key, campaign)]
    return out
