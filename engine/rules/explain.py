"""Conditions in words, for families ("why is this document asked?") and for authors
(``dossiersco explain``)."""

from __future__ import annotations

from decimal import Decimal

from engine.campaign.model import Campaign
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
