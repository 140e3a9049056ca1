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

#: the words of conditions and of ``dossiersco explain``, by language (French by default)
WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "==": "est", "!=": "n'est pas", "<": "est inférieur à", "<=": "est au plus",
        ">": "est supérieur à", ">=": "est au moins", "in": "est parmi",
        "not in": "n'est pas parmi", "and": " et ", "or": " ou ", "yes": "oui", "no": "non",
        "null": "vide", "unanswered": " (ou pas répondu)", "not": "il est faux que {0}",
        "if": "{0} si {1}, sinon {2}",
        "changed": "« {0} » a été modifié", "not changed": "« {0} » n'a pas été modifié",
        "empty": "« {0} » n'est pas renseigné", "not empty": "« {0} » est renseigné",
        "age": "l'âge ({0})", "len": "le nombre de {0}", "count": "le nombre de {0} renseignés",
        "today": "la date du jour", "months_since": "l'ancienneté en mois de {0}",
        "pupil": "élève", "family": "famille", "guardians": "responsables",
        "previous": "dossier de l'an dernier",
        # dossiersco explain
        "page": "page", "group": "groupe", "shown": "Affiché : toujours",
        "shown when": "Affiché quand : ", "AND": " ET ",
        "hidden kept": "Masqué sinon ; masqué, sa réponse est conservée.",
        "hidden cleared": "Masqué sinon ; masqué, sa réponse est effacée.",
        "locked": "Obligatoire : non — verrouillé pour les familles (seul le secrétariat le "
                  "modifie)",
        "required when": "Obligatoire quand : ", "required yes": "Obligatoire : oui",
        "required no": "Obligatoire : non",
        "readonly when": "Non modifiable quand : ", "readonly note": " (jamais obligatoire alors)",
        "prefill": "Prérempli depuis : ", "computed": "Calculé ainsi : ",
        "depends": "Dépend de : ", "used by": "Utilisé par : ", "nothing": "rien",
        "audience": "le public de la campagne (audience)", "field": "champ", "tariff": "tarif",
        "association": "association", "document": "document", "chosen": "choisie ici",
        "multiplier": "multiplicateur", "reduction": "réduction",
    },
    "en": {
        "==": "is", "!=": "is not", "<": "is less than", "<=": "is at most",
        ">": "is more than", ">=": "is at least", "in": "is one of",
        "not in": "is not one of", "and": " and ", "or": " or ", "yes": "yes", "no": "no",
        "null": "empty", "unanswered": " (or not answered)", "not": "it is false that {0}",
        "if": "{0} if {1}, otherwise {2}",
        "changed": "« {0} » was changed", "not changed": "« {0} » was not changed",
        "empty": "« {0} » is not given", "not empty": "« {0} » is given",
        "age": "the age ({0})", "len": "the number of {0}", "count": "the number of {0} given",
        "today": "today's date", "months_since": "the months since {0}",
        "pupil": "pupil", "family": "family", "guardians": "guardians",
        "previous": "last year's dossier",
        "page": "page", "group": "group", "shown": "Shown: always",
        "shown when": "Shown when: ", "AND": " AND ",
        "hidden kept": "Hidden otherwise; when hidden its answer is kept.",
        "hidden cleared": "Hidden otherwise; when hidden its answer is cleared.",
        "locked": "Required: no — locked for families (staff only change it)",
        "required when": "Required when: ", "required yes": "Required: yes",
        "required no": "Required: no",
        "readonly when": "Read-only when: ", "readonly note": " (never required then)",
        "prefill": "Prefilled from: ", "computed": "Computed as: ",
        "depends": "Depends on: ", "used by": "Used by: ", "nothing": "nothing",
        "audience": "the campaign's audience", "field": "field", "tariff": "tariff",
        "association": "association", "document": "document", "chosen": "chosen here",
        "multiplier": "multiplier", "reduction": "reduction",
    },
}
#: inverse comparisons, to say ``not (a == b)`` without a double negative
_INVERSE = {"==": "!=", "!=": "==", "in": "not in", "not in": "in"}


def words_of(campaign: Campaign) -> dict[str, str]:
    """The words for an author: those of the campaign's default language, else French."""
    return WORDS.get(campaign.languages[0] if campaign.languages else "fr", WORDS["fr"])


def describe(node: Node, campaign: Campaign, lang: str | None = None,
             row: FieldSpec | None = None, words: dict[str, str] | None = None) -> str:
    """A sentence fragment saying what ``node`` tests: labels in ``lang``, framing ``words``
    (French by default); ``row`` is the repeat whose row the condition is read in."""
    return _Describer(campaign, lang, row, words or WORDS["fr"]).node(node)


class _Describer:
    def __init__(self, campaign: Campaign, lang: str | None, row: FieldSpec | None,
                 words: dict[str, str]) -> None:
        self.campaign = campaign
        self.lang = lang
        self.row = row
        self.w = words

    def spec_of(self, node: Name) -> FieldSpec | None:
        if self.row is not None:  # a sibling field of the row, by its bare id
            sibling = self.campaign.fields.get(f"{self.row.id}.{node.path[0]}")
            if sibling is not None and sibling.parent_id == self.row.id:
                return sibling
        return self.campaign.fields.get(node.dotted) or self.campaign.fields.get(node.path[0])

    def name(self, node: Name) -> str:
        spec = self.spec_of(node)
        if spec is not None:
            # what follows the field in the path: an address part, a repeat child's key
            sibling = self.row is not None and spec.parent_id == self.row.id
            rest = node.path[1 if spec.parent_id is None or sibling else 2:]
            label = spec.label.get(self.lang)
            return f"{label} ({'.'.join(rest)})" if rest else label
        if node.path[0] in ("pupil", "family", "guardians", "previous"):
            return f"{self.w[node.path[0]]} : {'.'.join(node.path[1:])}".rstrip(" :")
        return node.dotted

    def literal(self, node: Node, against: Node | None) -> str:
        if isinstance(node, Literal):
            v = node.value
            if isinstance(v, bool):
                return f"« {self.w['yes'] if v else self.w['no']} »"
            if v is None:
                return self.w["null"]
            if isinstance(v, Decimal):
                return format_decimal(v)
            spec = self.spec_of(against) if isinstance(against, Name) else None
            if spec is not None and spec.type.choices(spec) is not None \
                    and hasattr(spec.options, "label_of"):
                return f"« {spec.options.label_of(v, self.lang)} »"
            return f"« {v} »"
        if isinstance(node, ListExpr):
            return ", ".join(self.literal(i, against) for i in node.items)
        return self.node(node)

    def compare(self, op: str, left: Node, right: Node) -> str:
        text = f"{self.node(left)} {self.w[op]} {self.literal(right, left)}"
        if op in ("!=", "not in") and isinstance(left, Name):
            text += self.w["unanswered"]  # an unanswered field is different from any value
        return text

    def node(self, node: Node) -> str:
        if isinstance(node, Name):
            return f"« {self.name(node)} »"
        if isinstance(node, Literal | ListExpr):
            return self.literal(node, None)
        if isinstance(node, Compare):
            return self.compare(node.op, node.left, node.right)
        if isinstance(node, BoolOp):
            return self.w[node.op].join(self.node(v) for v in node.values)
        if isinstance(node, Unary):
            if node.op == "not":
                return self.negation(node.operand)
            return f"-{self.node(node.operand)}"
        if isinstance(node, Binary):
            return f"{self.node(node.left)} {node.op} {self.node(node.right)}"
        if isinstance(node, Call):
            return self.call(node, node.func)
        if isinstance(node, IfElse):
            return self.w["if"].format(self.node(node.then), self.node(node.test),
                                       self.node(node.orelse))
        return "?"

    def call(self, node: Call, key: str) -> str:
        args = [self.name(a) if isinstance(a, Name) else self.node(a) for a in node.args]
        template = self.w.get(key) if node.func in FUNCTION_WORDS else None
        if template:
            return template.format(*(args or [""]))
        return f"{node.func}({', '.join(args)})"

    def negation(self, operand: Node) -> str:
        """``not x`` said positively: ``not empty(x)`` is « x » est renseigné."""
        if isinstance(operand, Compare) and operand.op in _INVERSE:
            return self.compare(_INVERSE[operand.op], operand.left, operand.right)
        if isinstance(operand, Call) and operand.func in ("empty", "changed"):
            return self.call(operand, f"not {operand.func}")
        return self.w["not"].format(self.node(operand))


#: functions said in words (the others are written as in the expression)
FUNCTION_WORDS = frozenset({"changed", "empty", "age", "len", "count", "today", "months_since"})


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
    brackets, multipliers, reductions, exemption), associations, documents, the audience; in
    the words of the campaign's default language, the keys as the file writes them."""
    w = words_of(campaign)
    key = spec.key
    out: list[str] = []
    if reads(campaign.audience, key, campaign):
        out.append(w["audience"])
    out += [f"{w['page']} {p.id}" for p in campaign.pages if reads(p.visible_if, key, campaign)]
    for other in campaign.fields.values():
        if other is spec:
            continue
        row = campaign.fields[other.parent_id] if other.parent_id else None
        conditions = (other.visible_if, other.readonly_if,
                      other.required if isinstance(other.required, Condition) else None,
                      *other.expressions.values(), *(r.rule for r in other.validate))
        if any(reads(c, key, campaign, row) for c in conditions):
            out.append(f"{w['field']} {other.key}")
    for tariff in campaign.tariffs:
        parts = [what for cond, what in (
            (tariff.applies_if, "applies_if"),
            (tariff.brackets.on if tariff.brackets else None, "brackets"),
            *((m.by, f"{w['multiplier']} « {m.label.get(None) or m.by.source} »")
              for m in tariff.multipliers),
            *((r.when, f"{w['reduction']} {r.id}") for r in tariff.reductions),
            (tariff.exempt_if, "exempt_if")) if reads(cond, key, campaign)]
        if parts:
            out.append(f"{w['tariff']} {tariff.id} ({', '.join(parts)})")
    for assoc in campaign.associations:
        parts = [name for cond, name in (
            (assoc.available_if, "available_if"), *((p.when, "prices") for p in assoc.prices),
            (assoc.fee_from, "fee_from")) if reads(cond, key, campaign)]
        if parts:
            out.append(f"{w['association']} {assoc.id} ({', '.join(dict.fromkeys(parts))})")
        elif spec.type.holds_memberships and spec.parent_id is None:
            out.append(f"{w['association']} {assoc.id} ({w['chosen']})")
    out += [f"{w['document']} {d.id} (required_if)" for d in campaign.documents
            if reads(d.required_if, key, campaign,
                     campaign.fields[d.for_each] if d.for_each else None)]
    return out


def explain_field(campaign: Campaign, spec: FieldSpec) -> list[str]:
    """``dossiersco explain``: when ``spec`` is shown, required, locked, how it is filled in,
    what it reads and what reads it; in the campaign's default language."""
    w = words_of(campaign)
    page = campaign.page(spec.page_id)
    row = campaign.fields[spec.parent_id] if spec.parent_id else None

    def said(cond: Condition, in_row: FieldSpec | None = row) -> str:
        return f"{describe(cond.expression.node, campaign, row=in_row, words=w)}  [{cond.source}]"

    lines = [f"{spec.key} — « {spec.label} » ({spec.type.name}), {w['page']} « {page.title} » "
             f"({spec.location.file}:{spec.location.line})"]
    shown: list[str] = []
    if page.visible_if:
        shown.append(f"{w['page']} : " + said(page.visible_if, None))
    if row is not None and row.visible_if:
        shown.append(f"{w['group']} « {row.label} » : " + said(row.visible_if, None))
    if spec.visible_if:
        shown.append(said(spec.visible_if))
    lines.append(w["shown when"] + w["AND"].join(shown) if shown else w["shown"])
    if shown:
        lines.append(w["hidden kept"] if spec.on_hide == "keep" else w["hidden cleared"])
    if not spec.editable:
        lines.append(w["locked"])
    elif isinstance(spec.required, Condition):
        lines.append(w["required when"] + said(spec.required))
    else:
        lines.append(w["required yes"] if spec.required else w["required no"])
    if spec.readonly_if:
        lines.append(w["readonly when"] + said(spec.readonly_if) + w["readonly note"])
    if spec.prefill:
        lines.append(w["prefill"] + ".".join(spec.prefill))
    if "expr" in spec.expressions:
        lines.append(w["computed"] + said(spec.expressions["expr"]))
    deps: set[str] = set()
    for cond in (page.visible_if, spec.visible_if, spec.readonly_if,
                 spec.required if isinstance(spec.required, Condition) else None,
                 *spec.expressions.values(), *(r.rule for r in spec.validate)):
        if cond is not None:
            deps |= cond.deps
    deps -= {spec.key, spec.id if row is None else f"{row.id}.{spec.id}"}  # not on itself
    lines.append(w["depends"] + (", ".join(sorted(deps)) or w["nothing"]))
    lines.append(w["used by"] + (", ".join(used_by(campaign, spec)) or w["nothing"]))
    return lines
