"""Evaluate one dossier against its campaign: visibility, requirements, validation, computed
values, fees, memberships and documents — the single computation the family pages, the staff
pages, the exports and ``dossiersco test`` all use."""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from engine.campaign.model import Campaign, Condition, DocumentSpec, FieldSpec, document_slot
from engine.fields import FieldValueError
from engine.fields.repeat import ROW_KEY
from engine.i18n import gettext as _

from .explain import describe
from .fees import CENT, Fee, split_in_instalments
from .scope import DossierContext, DossierScope


@dataclass(frozen=True, slots=True)
class Membership:
    association_id: str
    label: str
    fee: Decimal
    required: bool


@dataclass(frozen=True, slots=True)
class RequiredDocument:
    #: the slot: the document's id, or ``<id>~<row key>`` for one row of a ``for_each``
    #: document (:func:`engine.campaign.model.document_slot`)
    document_id: str
    #: the document's label
    label: str
    reason: str
    #: the campaign document
    spec_id: str = ""
    #: the stable key of the row a per-row document is asked for
    row_key: str | None = None
    #: what names that row (« Marie DUPONT »)
    row_name: str | None = None

    @property
    def title(self) -> str:
        """The label with the row's (« Justificatif d'identité — Marie DUPONT »)."""
        return self.label if self.row_name is None else f"{self.label} \u2014 {self.row_name}"


@dataclass(frozen=True, slots=True)
class Instalment:
    """One payment of the school's fees (``payment.instalments``)."""

    label: str
    amount: Decimal


@dataclass(slots=True, eq=False)  # the lazy lists are not fields to compare
class Evaluation:
    """The result of evaluating a dossier; ``values`` are the answers to keep.

    Fees, memberships and documents are worked out on first use from the evaluation's scope:
    a page save needs visibility and errors only, a page view or an export reads them too.
    """

    visible_pages: list[str] = field(default_factory=list)
    visible: set[str] = field(default_factory=set)
    required: set[str] = field(default_factory=set)
    readonly: set[str] = field(default_factory=set)
    values: dict[str, Any] = field(default_factory=dict)
    computed: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    #: what fees, memberships and documents are read from (None: an empty evaluation)
    scope: DossierScope | None = field(default=None, repr=False, compare=False)
    _fees: list[Fee] | None = field(default=None, repr=False, compare=False)
    _memberships: list[Membership] | None = field(default=None, repr=False, compare=False)
    _documents: list[RequiredDocument] | None = field(default=None, repr=False, compare=False)
    _money: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def _worked_out(self, name: str, compute: Callable[[DossierScope], list[Any]]) -> Any:
        found = getattr(self, name)
        if found is None:
            found = [] if self.scope is None else compute(self.scope)
            setattr(self, name, found)
        return found

    @property
    def fees(self) -> list[Fee]:
        return cast(list[Fee], self._worked_out("_fees", _fees))

    @property
    def memberships(self) -> list[Membership]:
        return cast(list[Membership], self._worked_out("_memberships", _memberships))

    @property
    def documents(self) -> list[RequiredDocument]:
        return cast(list[RequiredDocument], self._worked_out("_documents", _documents))

    @property
    def instalments(self) -> list[Instalment]:
        """The school's fees (not the memberships, paid to each association) as the campaign's
        payment schedule splits them; none without a schedule or without fees."""
        payment = self.scope.campaign.payment if self.scope is not None else None
        fees = self.fees
        if payment is None or not fees:
            return []
        lang = self.scope.lang if self.scope is not None else None
        amounts = split_in_instalments(sum((f.amount for f in fees), Decimal(0)),
                                       len(payment.instalments))
        return [Instalment(label.get(lang), amount)
                for label, amount in zip(payment.instalments, amounts, strict=True)]

    @property
    def total(self) -> Decimal:
        return sum((f.amount for f in self.fees), Decimal(0)) + sum(
            (m.fee for m in self.memberships), Decimal(0))

    @property
    def valid(self) -> bool:
        return not self.errors

    def page_errors(self, campaign: Campaign, page_id: str) -> dict[str, list[str]]:
        keys = {f.id for f in campaign.page(page_id).fields}
        return {k: v for k, v in self.errors.items() if k.split(".")[0] in keys}

    def money(self) -> dict[str, Any]:
        """JSON-safe fees, memberships, documents and total: what is stored at submission.
        Worked out once (a wizard page draws it in two places); read it, never change it."""
        if self._money is None:
            self._money = self._money_now()
        return self._money

    def _money_now(self) -> dict[str, Any]:
        return {
            "fees": [{"tariff": f.tariff_id, "label": f.label, "amount": str(f.amount),
                      "explanation": f.explanation} for f in self.fees],
            "memberships": [{"association": m.association_id, "label": m.label,
                             "fee": str(m.fee), "required": m.required}
                            for m in self.memberships],
            "documents": [{"document": d.document_id, "label": d.label, "reason": d.reason}
                          | ({"row": d.row_key} if d.row_key is not None else {})
                          for d in self.documents],
            "computed": dict(self.computed),
            "instalments": [{"label": i.label, "amount": str(i.amount)}
                            for i in self.instalments],
            "total": str(self.total.quantize(CENT)),
        }

    def stored_money(self) -> dict[str, Any]:
        """:meth:`money` as a dossier keeps it (at submission, by a recompute), read later
        without the answers: a per-row document named with its row (« Justificatif
        d'identité — Marie DUPONT »). The page's script computes :meth:`money` itself, rows
        named apart. A dict of its own: :meth:`money`'s is shared."""
        money = self._money_now()
        for item, document in zip(money["documents"], self.documents, strict=True):
            item["label"] = document.title
        return money


def evaluate_dossier(campaign: Campaign, answers: Mapping[str, Any], ctx: DossierContext,
                     *, lang: str | None = None) -> Evaluation:
    """Evaluate ``answers`` (stored or raw values, by field id) for one dossier."""
    scope = DossierScope(campaign, answers, ctx, lang=lang)
    result = Evaluation(scope=scope)
    for page in campaign.pages:
        if scope.page_visible(page.id):
            result.visible_pages.append(page.id)
        for spec in page.fields:
            _field(spec, scope, result, lang)
    return result


class VisibleFields(Container[str]):
    """Whether each top-level field is shown to the family, worked out when asked (and
    remembered): what ``key in evaluate_dossier(...).visible`` says of a top-level field,
    without normalising, validating or walking a repeat's rows, and only for the fields asked
    about (a diff asks about the answered ones: a condition on the fees' total is rarely
    worked out)."""

    __slots__ = ("_scope",)

    def __init__(self, campaign: Campaign, answers: Mapping[str, Any],
                 ctx: DossierContext) -> None:
        self._scope = DossierScope(campaign, answers, ctx)

    def __contains__(self, key: object) -> bool:
        spec = self._scope.campaign.fields.get(key) if isinstance(key, str) else None
        return spec is not None and spec.parent_id is None and self._scope.visible(spec.id)


def _is_locked(spec: FieldSpec, scope: DossierScope) -> bool:
    return not spec.editable or (spec.readonly_if is not None and spec.readonly_if.test(scope))


def _is_required(spec: FieldSpec, scope: DossierScope) -> bool:
    """A locked field is never required: the family could not give the missing value; nor is
    a per-guardian field when no guardian reads the dossier (nobody answers it there)."""
    if _is_locked(spec, scope) or (spec.per_guardian and scope.ctx.guardian is None):
        return False
    if isinstance(spec.required, Condition):
        return spec.required.test(scope)
    return spec.required


def _check_value(spec: FieldSpec, raw: Any, key: str, scope: DossierScope,
                 result: Evaluation, lang: str | None) -> Any:
    """Normalise, check required/options/rules; record errors under ``key``."""
    messages: list[str] = []
    required = _is_required(spec, scope)
    if required:
        result.required.add(key)
    if _is_locked(spec, scope):
        result.readonly.add(key)
    try:
        value = scope.normalized(spec) if spec.parent_id is None else \
            spec.type.normalize(raw, spec)
    except FieldValueError as exc:
        result.errors[key] = [str(exc)]
        return raw
    hidden = scope.hidden_parts(spec) if spec.parent_id is None else frozenset()
    whole, value = value, spec.type.without_parts(value, spec, hidden)
    if required and not spec.type.answered(value, spec, hidden):
        messages.append(spec.type.required_message(spec))
    if not spec.type.is_empty(value):
        messages.extend(spec.type.validate(value, spec))
        for rule in spec.validate:
            if not rule.rule.test(scope):
                messages.append(rule.message.get(lang) or _("Valeur non valide."))
    if messages:
        result.errors[key] = messages
    # hidden parts are cleared as a hidden field is, unless its on_hide keeps them
    return whole if spec.on_hide == "keep" else value


def _field(spec: FieldSpec, scope: DossierScope, result: Evaluation, lang: str | None) -> None:
    raw = scope.answers.get(spec.id)
    if not scope.visible(spec.id):
        if spec.on_hide == "keep" and raw is not None:
            result.values[spec.id] = raw
        return
    result.visible.add(spec.id)
    if "expr" in spec.expressions:
        result.computed[spec.id] = spec.type.normalize(scope.computed(spec), spec)
        return
    if not spec.type.has_value:
        return
    value = _check_value(spec, raw, spec.id, scope, result, lang)
    if spec.type.conditional_parts:
        hidden = scope.hidden_parts(spec)
        result.visible.update(f"{spec.id}.{part}" for part in spec.type.parts(spec)
                              if part not in hidden)
    if spec.type.is_container and isinstance(value, list) and all(
            isinstance(row, Mapping) for row in value):  # rows are walked only when well-formed
        value = [_row(spec, i, row, scope, result, lang) for i, row in enumerate(value)]
    result.values[spec.id] = value


def _row(spec: FieldSpec, index: int, row: Mapping[str, Any], scope: DossierScope,
         result: Evaluation, lang: str | None) -> dict[str, Any]:
    inner = scope.row_scope(spec, row)
    out: dict[str, Any] = {"_key": row.get("_key")}
    for child in spec.fields:
        key = f"{spec.id}.{index}.{child.id}"
        if not inner.child_visible(child):
            if child.on_hide == "keep" and row.get(child.id) is not None:
                out[child.id] = row.get(child.id)
            continue
        result.visible.add(f"{spec.id}.{child.id}")
        result.visible.add(key)
        if "expr" in child.expressions:
            out[child.id] = child.type.normalize(child.expressions["expr"].value(inner), child)
        elif child.type.has_value:
            out[child.id] = _check_value(child, row.get(child.id), key, inner, result, lang)
            if key in result.required:
                result.required.add(f"{spec.id}.{child.id}")
    return out


def _fees(scope: DossierScope) -> list[Fee]:
    return [fee for t in scope.campaign.tariffs if (fee := scope.fee(t)) is not None]


def _memberships(scope: DossierScope) -> list[Membership]:
    return [Membership(assoc.id, assoc.label.get(scope.lang), scope.membership_fee(assoc),
                       assoc.required)
            for assoc in scope.memberships()]


def document_reason(doc: DocumentSpec, campaign: Campaign, lang: str | None = None) -> str:
    """Why the family is asked for ``doc``: the author's words, else its condition in words
    (worded once per campaign: every evaluation lists the documents asked)."""
    return campaign.derived(("document_reason", doc.id, lang),
                            lambda: _document_reason(doc, campaign, lang))


def _document_reason(doc: DocumentSpec, campaign: Campaign, lang: str | None) -> str:
    if doc.reason.get(lang):
        return doc.reason.get(lang)
    row = campaign.fields[doc.for_each] if doc.for_each else None
    if doc.required_if is not None:
        return _("Demandé car {why}.").format(
            why=describe(doc.required_if.expression.node, campaign, lang, row))
    if row is not None:
        item = row.type.options(row).item_label.get(lang) or row.label.get(lang)
        return _("Demandé pour chaque « {item} ».").format(item=item)
    return _("Document demandé à toutes les familles.")


def row_label(doc: DocumentSpec, repeat: FieldSpec, row: Mapping[str, Any], number: int,
              lang: str | None = None) -> str:
    """What names a row in a per-row document's label: its ``row_label`` fields as the family
    reads them (« Marie DUPONT »), else the repeat's item label and the row's number."""
    children = {c.id: c for c in repeat.fields}
    words = [children[name].type.display(row.get(name), children[name], lang).strip()
             for name in doc.row_label]
    named = " ".join(w for w in words if w)
    if named:
        return named
    item = repeat.type.options(repeat).item_label.get(lang) or repeat.label.get(lang)
    return f"{item} {number}"


def document_label(doc: DocumentSpec, row_name: str | None, lang: str | None = None) -> str:
    """« Justificatif de domicile », or « Justificatif de domicile — Marie DUPONT » for a row."""
    return RequiredDocument(doc.id, doc.label.get(lang), "", doc.id, None, row_name).title


def document_slots(doc: DocumentSpec, scope: DossierScope,
                   ) -> list[tuple[str | None, str | None, DossierScope]]:
    """``(row key, row label, scope)`` of each slot of ``doc`` in this dossier: one
    ``(None, None, scope)`` for a document asked once, one per row (read in that row) for a
    ``for_each`` document — none while its repeat is hidden."""
    if doc.for_each is None:
        return [(None, None, scope)]
    repeat = scope.campaign.fields[doc.for_each]
    if not scope.visible(repeat.id):
        return []
    return [(str(row.get(ROW_KEY)), row_label(doc, repeat, row, n, scope.lang),
             scope.row_scope(repeat, row))
            for n, row in enumerate(scope.rows_of(repeat), start=1) if isinstance(row, Mapping)]


def _documents(scope: DossierScope) -> list[RequiredDocument]:
    campaign, lang = scope.campaign, scope.lang
    return [RequiredDocument(document_slot(doc.id, key), doc.label.get(lang),
                             document_reason(doc, campaign, lang), doc.id, key, name)
            for doc in campaign.documents
            for key, name, inner in document_slots(doc, scope)
            if (doc.required_if.test(inner) if doc.required_if is not None else doc.required)]
