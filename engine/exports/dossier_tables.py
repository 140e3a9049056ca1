"""The campaign's tables: every dossier, the changes only, the canteen (gestion) list, one list
per association and one per division.

Columns come from the campaign, cells from the field types' ``export()`` hook (repeat rows as
numbered column groups); choices are shown by label (and by code with ``codes``), dates as
dates, amounts as numbers from the figures frozen at submission (:func:`frozen_money`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property, partial
from typing import Any, Final

from engine.campaign.model import Campaign, DocumentSpec, FieldSpec, Tariff, document_slot
from engine.dossiers.campaigns import context_of, effective_answers
from engine.dossiers.corrected import corrected_answers
from engine.dossiers.diff import Authorship, dossier_changes
from engine.dossiers.guardian_answers import GuardianAnswer, answers_of
from engine.dossiers.guardians import SharedProfiles, reported_elsewhere
from engine.dossiers.models import Dossier, DossierData
from engine.dossiers.places import PlaceRequest, limited_fields, requests_of
from engine.dossiers.recompute import frozen_money
from engine.dossiers.states import LABELS, DossierState
from engine.expr import DATE
from engine.fields.common import format_date, to_decimal
from engine.fields.date import parse_date
from engine.fields.repeat import ROW_KEY
from engine.rules import DossierContext, DossierScope, evaluate_dossier, prefill_value

from .selection import Selection, actor_names
from .tables import Table, Value

#: dossiers whose answers the family confirmed: their memberships count
COUNTED: Final = (DossierState.SUBMITTED, DossierState.VALIDATED)
DOCUMENT_STATUS: Final = {"to_review": "À examiner", "accepted": "Accepté", "refused": "Refusé"}
IDENTITY: Final = ("Dossier", "Nom", "Prénom", "INE", "Niveau", "Classe", "État", "Envoyé le",
                   "Validé le")

Getter = Callable[[Any], Value]


@dataclass
class Prepared:
    """One dossier as the tables read it: effective answers, visibility, figures."""

    dossier: DossierData
    campaign: Campaign

    @cached_property
    def ctx(self) -> DossierContext:
        return context_of(self.dossier)

    @cached_property
    def answers(self) -> dict[str, Any]:
        return corrected_answers(self.dossier.answers, self.dossier.corrections)

    @cached_property
    def effective(self) -> dict[str, Any]:
        return effective_answers(self.campaign, self.answers, self.ctx, self.dossier.corrections)

    @cached_property
    def visible(self) -> frozenset[str]:
        return frozenset(evaluate_dossier(self.campaign, self.effective, self.ctx).visible)

    @cached_property
    def money(self) -> dict[str, Any]:
        return frozen_money(self.dossier, self.campaign)

    @cached_property
    def shown(self) -> frozenset[str]:
        """The top-level fields shown to the family: visibility alone, without validating
        every answer as :attr:`visible` does (the tables read nothing else)."""
        scope = DossierScope(self.campaign, self.effective, self.ctx)
        return frozenset(s.id for s in self.campaign.top_fields() if scope.visible(s.id))

    def value(self, spec: FieldSpec) -> Any:
        """The effective answer of a top-level field, None when hidden."""
        return self.effective.get(spec.id) if spec.id in self.shown else None

    @cached_property
    def requests(self) -> dict[str, PlaceRequest]:
        """The requests for options with places, by field id."""
        return {r.spec.id: r for r in requests_of(self.campaign, self.dossier)}

    def request_status(self, spec: FieldSpec) -> str | None:
        """"demandé", "accepté"… when the dossier asks for an option with places of ``spec``."""
        request = self.requests.get(spec.id)
        return request.status_label if request is not None else None

    @property
    def division(self) -> str:
        pupil = self.dossier.prefill.get("pupil")
        return str(pupil.get("division") or "") if isinstance(pupil, dict) else ""

    @property
    def level(self) -> str:
        pupil = self.dossier.prefill.get("pupil")
        return str(pupil.get("level") or "") if isinstance(pupil, dict) else ""

    def identity(self) -> list[Value]:
        d = self.dossier
        return [d.public_id, d.pupil.last_name, d.pupil.first_name, d.pupil.ine, self.level,
                self.division, LABELS[d.state], d.submitted_at, d.validated_at]


def prepared(selection: Selection, *, events: bool = False) -> Iterator[Prepared]:
    """The selection's dossiers ready to read (``events``: their history loaded too)."""
    for dossier in selection.dossiers(events=events):
        yield Prepared(dossier, selection.campaign_for(dossier))


def field_columns(spec: FieldSpec, label: str, codes: bool) -> list[tuple[str, Getter]]:
    """The columns of one (non-repeat) field: label and how to read its value's cell.

    Each getter is worked out once per column, not per cell: a choice's label is looked up
    once per distinct value, and a field with several columns is exported once per value
    (not once per column)."""
    kind = spec.type
    suffixes = list(kind.export(None, spec))
    if suffixes == [""] and kind.choices(spec) is not None:
        out: list[tuple[str, Getter]] = [
            (label, _by_value(lambda v: kind.display(v, spec) or None))]
        if codes:
            out.append((f"{label} (code)", _by_value(lambda v: kind.export(v, spec)[""])))
        return out
    if suffixes == [""] and kind.value_type(spec) == DATE:
        return [(label, lambda v: parse_date(v) if v else None)]
    if suffixes == [""]:
        return [(label, lambda v: kind.export(v, spec).get(""))]
    exported = _last_export(spec)
    return [(f"{label} ({s[1:]})" if s else label, _part(exported, s)) for s in suffixes]


def _by_value(get: Getter) -> Getter:
    """``get`` computed once per distinct value of a choice column (a few choices: a small
    dictionary); an unhashable value (several choices) is computed each time."""
    seen: dict[Any, Value] = {}

    def cell(value: Any) -> Value:
        try:
            return seen[value]
        except KeyError:
            seen[value] = out = get(value)
            return out
        except TypeError:
            return get(value)
    return cell


def _last_export(spec: FieldSpec) -> Callable[[Any], Mapping[str, Value]]:
    """``spec``'s cells of a value, computed once for the columns of one row that read the
    same value one after the other (an address: street, postcode, city)."""
    last: list[Any] = [_UNSET, {}]

    def exported(value: Any) -> Mapping[str, Value]:
        if value is not last[0]:
            last[0], last[1] = value, spec.type.export(value, spec)
        cells: Mapping[str, Value] = last[1]
        return cells
    return exported


_UNSET: Final = object()


def _part(exported: Callable[[Any], Mapping[str, Value]], suffix: str) -> Getter:
    return lambda v: exported(v).get(suffix)


def _repeat_rows(selection: Selection) -> dict[str, int]:
    """The most rows each repeat has in a dossier of the selection (its column groups).

    A first pass over the stored answers and prefill alone, counting the rows
    :func:`effective_answers` gives a repeat (the answered ones, else one per imported
    record) without building them, loading nor evaluating each dossier: a hidden repeat's
    rows only add empty columns.
    """
    campaign = selection.campaign
    repeats = [s for s in campaign.top_fields() if s.type.is_container]
    most = dict.fromkeys((s.id for s in repeats), 0)
    if not repeats:
        return most
    for answers, corrections, prefill in selection.columns(
            Dossier.answers, Dossier.corrections, Dossier.prefill):
        ctx = DossierContext(prefill=prefill)
        for spec in repeats:
            given = corrections if spec.id in corrections else answers
            if spec.prefill is None or ((spec.editable or spec.id in corrections)
                                        and spec.id in given):
                value = given.get(spec.id)
                count = len(value) if isinstance(value, list) else 0
            else:
                value = prefill_value(spec, ctx)
                count = sum(1 for r in value if isinstance(r, Mapping)) \
                    if isinstance(value, list) else 0
            most[spec.id] = max(most[spec.id], count)
    return most


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    cell: Callable[[Prepared], Value]


def _field_columns(selection: Selection, campaign: Campaign, rows: Mapping[str, int],
                   codes: bool) -> list[Column]:
    columns = []
    guardians = selection.most_guardians() \
        if any(s.per_guardian for s in campaign.top_fields()) else 0
    for spec in campaign.top_fields():
        if not spec.type.has_value or spec.type.holds_files or not selection.shows(spec):
            continue
        label = spec.label.get()
        if spec.per_guardian:
            for n in range(1, guardians + 1):
                columns += _guardian_columns(spec, n, codes)
            continue
        if not spec.type.is_container:
            columns += _top_columns(spec, label, codes)
            if spec.type.limited_places(spec):
                columns.append(_request_column(spec))
            continue
        for n in range(1, rows.get(spec.id, 0) + 1):
            for child in spec.fields:
                if child.type.has_value and not child.type.holds_files and \
                        selection.shows(child):
                    columns += _child_columns(spec, child, n, codes)
    return columns


def _request_column(spec: FieldSpec) -> Column:
    """The status of the request of a field with places (empty when none is asked)."""
    return Column(f"{spec.label.get()} – demande", lambda p: p.request_status(spec))


def _top_columns(spec: FieldSpec, label: str, codes: bool) -> list[Column]:
    def reader(get: Getter) -> Callable[[Prepared], Value]:
        return lambda p: get(p.value(spec))

    return [Column(name, reader(get)) for name, get in field_columns(spec, label, codes)]


def _child_columns(spec: FieldSpec, child: FieldSpec, n: int, codes: bool) -> list[Column]:
    def reader(get: Getter) -> Callable[[Prepared], Value]:
        return lambda p: get(_row(p.value(spec), n).get(child.id))

    label = f"{spec.label.get()} {n} – {child.label.get()}"
    return [Column(name, reader(get)) for name, get in field_columns(child, label, codes)]


def _guardian_columns(spec: FieldSpec, n: int, codes: bool) -> list[Column]:
    """The answer of the ``n``-th guardian (imported order) to a per-guardian field, then who
    that guardian is and when they answered."""
    def answer(p: Prepared) -> GuardianAnswer | None:
        found = answers_of(p.dossier, spec) if spec.id in p.shown else []
        return found[n - 1] if len(found) >= n else None

    def reader(get: Getter) -> Callable[[Prepared], Value]:
        def cell(p: Prepared) -> Value:
            found = answer(p)
            return get(found.value) if found is not None and found.answered(spec) else None
        return cell

    def who(p: Prepared) -> Value:
        found = answer(p)
        if found is None:
            return None
        return f"{found.name}, {format_date(found.at.date())}" \
            if found.answered(spec) and found.at is not None else found.name

    label = f"{spec.label.get()} – responsable légal {n}"
    return [*(Column(name, reader(get)) for name, get in field_columns(spec, label, codes)),
            Column(f"{label} (qui, quand)", who)]


def _row(rows: Any, n: int) -> Mapping[str, Any]:
    return rows[n - 1] if isinstance(rows, list) and len(rows) >= n and \
        isinstance(rows[n - 1], Mapping) else {}


def _money_columns(campaign: Campaign) -> list[Column]:
    def fee(tariff_id: str) -> Callable[[Prepared], Value]:
        return lambda p: next((Decimal(f["amount"]) for f in p.money.get("fees", ())
                               if f["tariff"] == tariff_id), None)

    def member(association_id: str) -> Callable[[Prepared], Value]:
        return lambda p: next((Decimal(m["fee"]) for m in p.money.get("memberships", ())
                               if m["association"] == association_id), None)

    return [*(Column(f"{t.label.get()} (€)", fee(t.id)) for t in campaign.tariffs),
            *(Column(f"Adhésion {a.label.get()} (€)", member(a.id))
              for a in campaign.associations),
            Column("Total (€)", lambda p: to_decimal(p.money.get("total")))]


def document_status(p: Prepared, document_id: str) -> str | None:
    """The review status of a document's files ("Manquant" when asked and not given)."""
    statuses = {f.review_status for f in p.dossier.files if f.document_id == document_id}
    for status in ("to_review", "refused", "accepted"):
        if status in statuses:
            return DOCUMENT_STATUS[status]
    asked = any(d["document"] == document_id for d in p.money.get("documents", ()))
    return "Manquant" if asked else None


def _document(document_id: str) -> Callable[[Prepared], Value]:
    return lambda p: document_status(p, document_id)


def _row_document(doc: DocumentSpec, n: int) -> Callable[[Prepared], Value]:
    """The status of the slot of the dossier's ``n``-th row of ``doc``'s repeat (None without
    that row)."""
    def status(p: Prepared) -> Value:
        rows = p.effective.get(doc.for_each or "")
        if not isinstance(rows, list) or len(rows) < n or not isinstance(rows[n - 1], Mapping):
            return None
        return document_status(p, document_slot(doc.id, str(rows[n - 1].get(ROW_KEY))))
    return status


def _document_columns(campaign: Campaign, rows: Mapping[str, int]) -> Iterator[Column]:
    """One status column per document; a per-row document one per row of its repeat, as
    many as the most rows a dossier has (« Document : Justificatif d'identité
    (Responsable légal 2) »)."""
    for doc in campaign.documents:
        if doc.for_each is None:
            yield Column(f"Document : {doc.label.get()}", _document(doc.id))
            continue
        repeat = campaign.fields[doc.for_each]
        item = repeat.type.options(repeat).item_label.get() or repeat.label.get()
        for n in range(1, rows.get(repeat.id, 0) + 1):
            yield Column(f"Document : {doc.label.get()} ({item} {n})", _row_document(doc, n))


def dossiers_table(selection: Selection, *, codes: bool = False) -> Table:
    """Every dossier of the selection, one row each."""
    campaign = selection.campaign
    rows = _repeat_rows(selection)
    columns = [*_field_columns(selection, campaign, rows, codes),
               *_money_columns(campaign), *_document_columns(campaign, rows)]

    def lines() -> Iterator[list[Value]]:
        for p in prepared(selection):
            yield [*p.identity(), *(c.cell(p) for c in columns)]

    return Table("Dossiers", [*IDENTITY, *(c.label for c in columns)], lines(), len(selection))


ACTOR_KINDS: Final = {"family": "Famille", "staff": "Établissement", "system": "Import"}
CHANGES_HEADER: Final = ("Nom", "Prénom", "Classe", "Page", "Champ", "Avant",
                         "Origine de l'avant", "Après", "Modifié par", "Modifié le")


def changes_table(selection: Selection) -> Table:
    """One row per changed field of each dossier (repeat rows: one per changed sub-field)."""

    def lines() -> Iterator[list[Value]]:
        for chunk in selection.chunks(events=True):
            # the guardians' profiles and the writers' names: once for the chunk
            shared = SharedProfiles.load(selection.session, chunk)
            names = actor_names(selection.session, [
                (e.actor_kind, e.actor_id) for d in chunk for e in d.events])
            for d in chunk:
                yield from _changed_rows(selection, Prepared(d, selection.campaign_for(d)),
                                         shared, names)

    return Table("Modifications", CHANGES_HEADER, lines(), len(selection))


def _author(names: Mapping[tuple[str, str | None], str],
            written: Authorship | None) -> list[Value]:
    """The "modifié par" and "modifié le" cells of a change."""
    if written is None:
        return [None, None]
    return [names.get((written.actor_kind, written.actor_id),
                      ACTOR_KINDS.get(written.actor_kind, "")), written.at]


def _changed_rows(selection: Selection, p: Prepared, shared: SharedProfiles,
                  names: Mapping[tuple[str, str | None], str]) -> Iterator[list[Value]]:
    d = p.dossier
    pages = dossier_changes(p.campaign, p.answers, p.ctx, provenance=d.provenance,
                            events=d.events, visible=p.visible, include=selection.include,
                            reported=reported_elsewhere(selection.session, p.campaign, d,
                                                        p.answers, shared),
                            corrections=d.corrections, per_guardian=partial(answers_of, d))
    for page in pages:
        for fc in page.changes:
            start = [d.pupil.last_name, d.pupil.first_name, p.division, page.page.title.get()]
            if not fc.change.children:
                yield [*start, fc.change.label, fc.change.old or None, _origin(fc.origin),
                       fc.change.new or None, *_author(names, fc.written)]
                continue
            for row in fc.change.children:
                origin = (fc.row_origins or {}).get(row.field_id)
                for leaf in row.children or (row,):
                    label = f"{fc.change.label} – {row.label}" + \
                        (f" – {leaf.label}" if leaf is not row else "")
                    written = (fc.corrected or {}).get((row.field_id, leaf.field_id), fc.written)
                    yield [*start, label, leaf.old or None, _origin(origin), leaf.new or None,
                           *_author(names, written)]


def _origin(origin: Any) -> str | None:
    if origin is None:
        return None
    parts = [origin.source_file, origin.element, origin.imported_at[:10]]
    return " · ".join(x for x in parts if x)


def gestion_table(selection: Selection) -> Table:
    """The canteen and fees list: the answers the tariffs read (régime, quotient familial…,
    with the status of a request for an option with places, such as the internat), then per
    tariff the bracket, the amount and its explanation, and the total."""
    campaign = selection.campaign
    deps = set().union(*(c.deps for t in campaign.tariffs for c in t.conditions)) \
        if campaign.tariffs else set()
    inputs = [s for s in campaign.top_fields() if s.id in deps and s.type.has_value
              and not s.type.is_container and selection.shows(s)]
    columns = [c for spec in inputs for c in [
        *_top_columns(spec, spec.label.get(), False),
        *([_request_column(spec)] if spec.type.limited_places(spec) else [])]]
    for tariff in campaign.tariffs:
        columns += _tariff_columns(tariff)
    columns.append(Column("Total (€)", lambda p: to_decimal(p.money.get("total"))))
    columns += _payment_columns(campaign, {s.id for s in inputs}, selection)

    def lines() -> Iterator[list[Value]]:
        for p in prepared(selection):
            d = p.dossier
            yield [d.pupil.last_name, d.pupil.first_name, p.division, LABELS[d.state],
                   *(c.cell(p) for c in columns)]

    return Table("Gestion", ["Nom", "Prénom", "Classe", "État", *(c.label for c in columns)],
                 lines(), len(selection))


def _payment_columns(campaign: Campaign, shown: set[str], selection: Selection) -> list[Column]:
    """The payment mode (unless already a column) and each instalment of the schedule, as
    frozen at submission."""
    payment = campaign.payment
    if payment is None:
        return []
    columns: list[Column] = []
    mode = campaign.fields.get(payment.mode) if payment.mode else None
    if mode is not None and mode.id not in shown and selection.shows(mode):
        columns += _top_columns(mode, mode.label.get(), False)

    def instalment(n: int) -> Callable[[Prepared], Value]:
        def cell(p: Prepared) -> Value:
            due = p.money.get("instalments") or []
            return to_decimal(due[n].get("amount")) if n < len(due) else None
        return cell

    columns += [Column(f"Échéance {n + 1} – {label.get()} (€)", instalment(n))
                for n, label in enumerate(payment.instalments)]
    return columns


def _tariff_columns(tariff: Tariff) -> list[Column]:
    """The bracket (if the tariff has brackets), the amount and its explanation."""
    label = tariff.label.get()

    def fee(p: Prepared) -> Mapping[str, Any]:
        return next((f for f in p.money.get("fees", ()) if f["tariff"] == tariff.id), {})

    columns = []
    table = tariff.brackets
    if table is not None:
        def bracket(p: Prepared) -> Value:
            if not fee(p):
                return None
            value = table.on.value(DossierScope(p.campaign, p.effective, p.ctx))
            return str(table.pick(to_decimal(value)).label)

        columns.append(Column(f"{label} – tranche ({table.on_label.get()})", bracket))
    return [*columns, Column(f"{label} (€)", lambda p: to_decimal(fee(p).get("amount"))),
            Column(f"{label} – détail", lambda p: fee(p).get("explanation") or None)]


MEMBERS_HEADER: Final = ("Association", "Nom", "Prénom", "Classe", "Cotisation (€)", "Dossier")


def membership_tables(selection: Selection) -> list[Table]:
    """One table per association (campaign order, empty ones included) of the sent and
    validated dossiers' pupils who joined it."""
    campaign = selection.campaign
    labels = {a.id: a.label.get() for a in campaign.associations}
    members: dict[str, list[list[Value]]] = {key: [] for key in labels}
    for p in prepared(selection):
        if p.dossier.state not in COUNTED:
            continue
        for chosen in p.money.get("memberships", ()):
            key = str(chosen["association"])
            labels.setdefault(key, str(chosen["label"]))
            members.setdefault(key, []).append([
                labels[key], p.dossier.pupil.last_name, p.dossier.pupil.first_name, p.division,
                Decimal(str(chosen["fee"])), LABELS[p.dossier.state]])
    return [Table(labels[key], MEMBERS_HEADER,
                  sorted(rows, key=lambda r: (str(r[1]).casefold(), str(r[2]).casefold())),
                  len(rows)) for key, rows in members.items()]


DIVISION_HEADER: Final = ("Classe", "Nom", "Prénom", "INE", "Né(e) le", "État", "Envoyé le",
                          "Documents à examiner", "Total (€)")


def division_tables(selection: Selection) -> list[Table]:
    """One table per division (alphabetical; pupils without one last), pupils by name."""
    found: dict[str, list[list[Value]]] = {}
    limited = [s for s in limited_fields(selection.campaign) if selection.shows(s)]
    header = [*DIVISION_HEADER, *(f"{s.label.get()} – demande" for s in limited)]
    for p in prepared(selection):
        d = p.dossier
        found.setdefault(p.division, []).append([
            p.division or None, d.pupil.last_name, d.pupil.first_name, d.pupil.ine,
            d.pupil.birth_date, LABELS[d.state], d.submitted_at,
            sum(1 for f in d.files if f.review_status == "to_review"),
            to_decimal(p.money.get("total")), *(_option_status(p, s) for s in limited)])
    return [Table(division or "Sans classe", header,
                  sorted(rows, key=lambda r: (str(r[1]).casefold(), str(r[2]).casefold())),
                  len(rows)) for division, rows in sorted(found.items(),
                                                          key=lambda kv: (not kv[0], kv[0]))]


def _option_status(p: Prepared, spec: FieldSpec) -> str | None:
    """"Section européenne anglais : accepté", for a list where the choice is no column."""
    request = p.requests.get(spec.id)
    return f"{request.option_label} : {request.status_label}" if request is not None else None


class TableKind(StrEnum):
    """The tables an agent can download (the value is the URL and command word)."""

    DOSSIERS = "dossiers"
    CHANGES = "modifications"
    GESTION = "gestion"
    ASSOCIATIONS = "adhesions"
    DIVISIONS = "classes"


TABLE_LABELS: Final = {
    TableKind.DOSSIERS: "Tous les dossiers (une colonne par champ)",
    TableKind.CHANGES: "Modifications seulement (une ligne par champ modifié)",
    TableKind.GESTION: "Liste de gestion (demi-pension, tarifs, montants)",
    TableKind.ASSOCIATIONS: "Adhésions (une liste par association)",
    TableKind.DIVISIONS: "Liste par classe",
}


def tables_of(kind: TableKind, selection: Selection, *, codes: bool = False) -> list[Table]:
    if kind is TableKind.DOSSIERS:
        return [dossiers_table(selection, codes=codes)]
    if kind is TableKind.CHANGES:
        return [changes_table(selection)]
    if kind is TableKind.GESTION:
        return [gestion_table(selection)]
    if kind is TableKind.ASSOCIATIONS:
        return membership_tables(selection)
    return division_tables(selection)
