"""Stage 3 of the campaign pipeline: schema-checked data to the frozen :class:`Campaign`.

Cross-checks that need the whole campaign live here: unique ids, expressions (names, types,
declared choices), prefill paths, dependency cycles, fields that can never be shown.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from engine.diagnostics import (
    Code,
    Diagnostic,
    Location,
    Severity,
    child_pointer,
    did_you_mean,
    pointer_from,
)
from engine.expr import (
    ANY,
    BOOL,
    FUNCTIONS,
    NUMBER,
    STR,
    ExprProblem,
    NameInfo,
    Type,
    compile_expression,
    list_of,
)
from engine.expr.nodes import Call, Name, Node, walk
from engine.fields import FieldRegistry, FieldType, OptionContext, UnknownFieldType
from engine.fields.file import FILE_KINDS, parse_size
from engine.fields.repeat import ROW_KEY
from engine.text import LocalText, local_text

from .model import (
    DEFAULT_RETENTION_DAYS,
    HEALTH,
    Association,
    AssociationPrice,
    Bracket,
    BracketTable,
    Campaign,
    CampaignTest,
    Condition,
    Contact,
    DocumentSpec,
    Establishment,
    FieldSpec,
    Multiplier,
    Page,
    Payment,
    Reduction,
    Tariff,
    ValidationRule,
    freeze_fields,
    unindexed,
)
from .namespace import ADDRESS_KEYS, FAMILY_KEYS, FEES_TOTAL, GUARDIAN_KEYS, PUPIL_KEYS, ROOTS
from .schema import ALL_GUARDIANS, PER_GUARDIAN, check_schema, describe
from .source import Mark, Source, load_source

#: words an id may not take: roots of the namespace, literals and function names
RESERVED = frozenset(ROOTS) | {"true", "false", "null", "none", "and", "or", "not", "in",
                               "if", "else"} | frozenset(FUNCTIONS)
#: keys whose values are texts shown to people, translatable by ``languages``
TEXT_KEYS = frozenset({"add_label", "description", "exempt_label", "help", "intro", "item_label",
                       "label", "message", "pattern_message", "placeholder", "reason",
                       "statement", "text", "title", "unit", "welcome"})
#: keys about the family's answer, which mean nothing on a field that asks nothing (info)
ANSWER_KEYS = frozenset({"required", "on_hide", "readonly_if", "validate", "prefill", "editable"})
#: exhaustive satisfiability search is done below this number of combinations
MAX_COMBINATIONS = 512


@dataclass(slots=True)
class _Ctx:
    source: Source
    registry: FieldRegistry
    languages: tuple[str, ...]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: whether to read last year's campaign to check previous.* paths (not when compiling it)
    follow_previous: bool = True

    def add(self, code: Code, pointer: str, *, at_key: bool = False, hint: str | None = None,
            severity: Severity = Severity.ERROR, **context: object) -> None:
        self.diagnostics.append(Diagnostic(code, code.format(**context),
                                           self.source.location(pointer, key=at_key),
                                           severity, hint))

    def text(self, raw: Any) -> LocalText:
        return local_text(raw, self.languages)


class _Env:
    """Resolves names for the expression checker, in the scope of a field (or a repeat row)."""

    def __init__(self, fields: Mapping[str, FieldSpec], row: FieldSpec | None = None,
                 tariff_ids: tuple[str, ...] = ()) -> None:
        self.fields = fields
        self.row = row
        self.tariff_ids = tariff_ids

    def _info(self, spec: FieldSpec, field_id: str) -> NameInfo:
        return NameInfo(spec.type.value_type(spec), field_id, spec.type.choices(spec))

    def lookup(self, path: tuple[str, ...]) -> NameInfo | None:
        head, rest = path[0], path[1:]
        if self.row is not None:
            child = next((c for c in self.row.fields if c.id == head), None)
            if child is not None:
                return self._tail(child, rest, f"{self.row.id}.{child.id}")
        spec = self.fields.get(head)
        if spec is not None and spec.parent_id is None:
            if spec.type.is_container and len(rest) == 1:
                child = next((c for c in spec.fields if c.id == rest[0]), None)
                if child is None:
                    return None
                info = self._info(child, spec.id)
                return NameInfo(list_of(info.type), spec.id, info.choices)
            return self._tail(spec, rest, spec.id)
        if head == "pupil" and len(rest) >= 1 and rest[0] in PUPIL_KEYS:
            return _record_tail(PUPIL_KEYS[rest[0]], rest[1:], rest[0])
        if head == "family" and len(rest) == 1 and rest[0] in FAMILY_KEYS:
            return NameInfo(FAMILY_KEYS[rest[0]])
        if head == "guardians":
            if not rest:
                return NameInfo(list_of(ANY))
            if len(rest) == 1 and rest[0] in GUARDIAN_KEYS:
                return NameInfo(list_of(GUARDIAN_KEYS[rest[0]]))
            return None
        if head == "fees" and len(rest) == 1 and (rest[0] == FEES_TOTAL
                                                   or rest[0] in self.tariff_ids):
            return NameInfo(NUMBER, f"fees.{rest[0]}")
        if head == "previous" and rest:
            prev = self.fields.get(rest[0])
            if prev is not None and len(rest) == 1:
                return NameInfo(prev.type.value_type(prev), None, prev.type.choices(prev))
            return NameInfo(ANY)
        return None

    def _tail(self, spec: FieldSpec, rest: tuple[str, ...], field_id: str) -> NameInfo | None:
        if not rest:
            return self._info(spec, field_id)
        part = spec.type.part_type(spec, rest[0]) if len(rest) == 1 else None
        return None if part is None else NameInfo(part, field_id)

    def candidates(self, path: tuple[str, ...]) -> Iterable[str]:
        names = [k for k, s in self.fields.items() if s.parent_id is None]
        names += [f"pupil.{k}" for k in PUPIL_KEYS] + [f"family.{k}" for k in FAMILY_KEYS]
        names += [f"guardians.{k}" for k in GUARDIAN_KEYS]
        names += [f"fees.{t}" for t in (*self.tariff_ids, FEES_TOTAL)]
        if self.row is not None:
            names += [c.id for c in self.row.fields]
        for spec in self.fields.values():
            if spec.type.is_container:
                names += [f"{spec.id}.{c.id}" for c in spec.fields]
        return names


def _record_tail(t: Type, rest: tuple[str, ...], key: str) -> NameInfo | None:
    if not rest:
        return NameInfo(t)
    if key == "address" and len(rest) == 1 and rest[0] in ADDRESS_KEYS:
        return NameInfo(STR)
    return None


def compile_campaign(source: Source, registry: FieldRegistry,
                     schema_diagnostics: Iterable[Diagnostic] = (), *,
                     follow_previous: bool = True) -> tuple[Campaign | None, list[Diagnostic]]:
    """Compile ``source``; return the campaign (None when any error) and every diagnostic."""
    data = source.data
    diagnostics = list(source.diagnostics) + list(schema_diagnostics)
    if not isinstance(data, Mapping):
        return None, diagnostics
    declared = data.get("languages")
    # anything but a list of language codes was reported by the schema check: French then
    languages = tuple(declared) if isinstance(declared, list) and declared and all(
        isinstance(x, str) for x in declared) else ("fr",)
    ctx = _Ctx(source, registry, languages, follow_previous=follow_previous)
    shape_errors = any(d.is_error for d in diagnostics)
    try:
        campaign = _Compiler(ctx, data).run()
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError):
        # the data did not have the shape the schema asks for; those errors are reported
        if not shape_errors:
            raise
        campaign = None
    diagnostics += ctx.diagnostics
    diagnostics = _dedupe(diagnostics)
    if any(d.is_error for d in diagnostics) or campaign is None:
        return None, diagnostics
    warnings = tuple(d for d in diagnostics if not d.is_error)
    return replace(campaign, warnings=warnings), diagnostics


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, str, int, int]] = set()
    out = []
    for d in diagnostics:
        key = (d.code.name, d.message, d.location.line, d.location.column)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


class _Compiler:
    def __init__(self, ctx: _Ctx, data: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.data = data
        self.fields: dict[str, FieldSpec] = {}
        self.ids: dict[str, str] = {}  # top-level id -> pointer of its first declaration
        #: identities of the conditions compiled with problems (already reported)
        self.faulty: set[int] = set()
        self.association_ids = tuple(
            a["id"] for a in data.get("associations") or () if isinstance(a, Mapping)
            and isinstance(a.get("id"), str))
        self.association_labels = tuple(
            self.ctx.text(a.get("label")) for a in data.get("associations") or ()
            if isinstance(a, Mapping) and isinstance(a.get("id"), str))
        self.document_ids = tuple(
            d["id"] for d in data.get("documents") or () if isinstance(d, Mapping)
            and isinstance(d.get("id"), str))
        self.tariff_ids = tuple(
            t["id"] for t in data.get("tariffs") or () if isinstance(t, Mapping)
            and isinstance(t.get("id"), str))
        #: last year's campaign's fields, when it is known and valid
        self.previous: Mapping[str, FieldSpec] | None = None
        #: whether a missing or invalid previous campaign was already reported
        self.previous_reported = False

    # -- helpers ---------------------------------------------------------------------------
    def expression(self, text: Any, pointer: str, env: _Env, *, want: Type | None = BOOL,
                   unknown_hint: Callable[[str], str | None] | None = None,
                   ) -> Condition | None:
        """Compile the expression at ``pointer``; report problems at their exact column.
        ``unknown_hint`` adds to the hint of an unknown name (given the name) what this place
        of the campaign can read."""
        if text is None:
            return None
        if isinstance(text, bool | int) and not isinstance(text, str):
            text = str(text).lower() if isinstance(text, bool) else str(text)
        expr, problems = compile_expression(str(text), env)
        for problem in problems:
            extra = unknown_hint(str(problem.context.get("name"))) \
                if unknown_hint is not None and problem.code is Code.EXPR_003 else None
            if extra:
                problem = replace(problem, hint=f"{problem.hint} {extra[0].upper()}{extra[1:]}"
                                  if problem.hint else extra)
            self.expr_problem(problem, pointer)
        if expr is None:
            return None
        location = self.ctx.source.location(pointer)
        condition = Condition(expr, location)
        if problems:
            self.faulty.add(id(condition))
        if want is BOOL and not problems and expr.type.kind not in ("bool", "any", "null"):
            self.ctx.diagnostics.append(Diagnostic(
                Code.EXPR_009, Code.EXPR_009.format(type=expr.type), location))
        if want is NUMBER and not problems and expr.type.kind not in ("number", "any", "null"):
            self.ctx.diagnostics.append(Diagnostic(
                Code.EXPR_005, Code.EXPR_005.format(problem=f"a number is needed, not "
                                                    f"{expr.type}"), location))
        return condition

    def expr_problem(self, problem: ExprProblem, pointer: str) -> None:
        loc = self.ctx.source.location(pointer)
        mark = self.ctx.source.mark(pointer)
        line, column = loc.line, loc.column
        if mark is not None and mark.style in ("", '"', "'"):
            line, column = _scalar_position(self.ctx.source.text, mark, problem.offset)
        self.ctx.diagnostics.append(Diagnostic(
            problem.code, problem.message, Location(loc.file, line, column, pointer),
            hint=problem.hint))

    def unique(self, scope: dict[str, str], ident: str, pointer: str) -> bool:
        if ident in scope:
            first = self.ctx.source.location(scope[ident] + "/id")
            self.ctx.add(Code.FIELD_002, pointer + "/id", id=ident, line=first.line)
            return False
        scope[ident] = pointer
        return True

    # -- pass 1: declarations ----------------------------------------------------------------
    def declare_field(self, raw: Mapping[str, Any], pointer: str, page_id: str,
                      parent: str | None, scope: dict[str, str],
                      restricted: str | None = None, page_scope: bool = False,
                      ) -> FieldSpec | None:
        """The field ``raw``; ``restricted`` is its page's or its repeat's mark, which it
        inherits, as it inherits its page's ``scope: per_guardian`` (``page_scope``)."""
        ident = raw.get("id")
        if not isinstance(ident, str):
            return None
        if ident in RESERVED:
            self.ctx.add(Code.FIELD_008, pointer + "/id", id=ident,
                         reason="it is a word of the expression language")
        if not self.unique(scope, ident, pointer):
            return None
        kind = raw.get("type")
        try:
            ftype: FieldType[Any] = self.ctx.registry.get(str(kind))
        except UnknownFieldType as exc:
            self.ctx.add(Code.FIELD_001, pointer + "/type", hint=exc.hint, field=ident, type=kind)
            return None
        own = self.restriction(raw, pointer, ident, ftype, parent)
        octx = OptionContext(self.ctx.languages, self.association_ids, self.association_labels,
                             self.document_ids)
        options = ftype.compile_options(
            {k: v for k, v in raw.items() if k in ftype.options_schema}, octx)
        for key, message in octx.problems:
            where = f"{pointer}/{key}" if key.split("/")[0] in raw else pointer
            self.ctx.add(Code.FIELD_003, where, field=ident, problem=message)
        if parent is not None and ftype.conditional_parts:
            self.ctx.add(Code.FIELD_003, pointer + "/type", field=ident, problem=(
                f"a {ftype.name} cannot be inside a repeat (its parts have their own "
                f"conditions); ask it once, outside the repeat, or give the rows one yes/no "
                f"or choice field per question"))
        children: list[FieldSpec] = []
        if ftype.is_container:
            child_scope: dict[str, str] = {}
            for i, child in enumerate(raw.get("fields") or ()):
                if isinstance(child, Mapping):
                    spec = self.declare_field(child, f"{pointer}/fields/{i}", page_id, ident,
                                              child_scope, restricted or own)
                    if spec is not None:
                        children.append(spec)
        prefill = raw.get("prefill")
        spec = FieldSpec(
            id=ident, type=ftype, label=self.ctx.text(raw.get("label", ident)),
            help=self.ctx.text(raw.get("help")), editable=bool(raw.get("editable", True)),
            on_hide=str(raw.get("on_hide", "clear")), options=options, fields=tuple(children),
            page_id=page_id, parent_id=parent, restricted=restricted or own,
            prefill=tuple(prefill.split(".")) if isinstance(prefill, str) else None,
            pointer=pointer, location=self.ctx.source.location(pointer),
            staff_only=bool(raw.get("staff_only", False)))
        spec = replace(spec, per_guardian=self.guardian_scope(spec, raw, page_scope))
        if spec.staff_only and parent is not None:
            self.ctx.add(Code.FIELD_013, pointer + "/staff_only", at_key=True, field=ident,
                         problem="a field inside a repeat cannot be staff-only; mark the "
                                 "repeat itself")
        self.check_places(spec, pointer)
        self.fields[spec.key] = spec
        for child in children:
            self.fields[child.key] = child
        return spec

    def check_places(self, spec: FieldSpec, pointer: str) -> None:
        """A choice with places is one request per dossier, which the family makes and the
        school decides: never in a repeat's rows, staff-only or sealed health data."""
        if not spec.type.limited_places(spec):
            return
        where = ("it is inside a repeat (one request per dossier: ask it outside the repeat)"
                 if spec.parent_id is not None else
                 "it is staff-only (a request is the family's: remove staff_only)"
                 if spec.staff_only else
                 "it is health data (staff deciding would read it: ask it on another page)"
                 if spec.restricted else None)
        if where is not None:
            self.ctx.add(Code.FIELD_003, pointer + "/choices", at_key=True, field=spec.id,
                         problem=f"its options cannot have places, since {where}")

    def guardian_scope(self, spec: FieldSpec, raw: Mapping[str, Any], page_scope: bool,
                       ) -> bool:
        """Whether each guardian answers ``spec`` for themselves, checked: only a question
        asked once per dossier, in clear, of the family, can be."""
        own = raw.get("scope") == PER_GUARDIAN
        if not own and not (page_scope and spec.type.has_value):
            return False
        kind = spec.type
        problem = None
        if not kind.has_value:
            problem = (f"its type ({kind.name}) asks the family nothing; remove scope, or "
                       "give the question a field of its own")
        elif spec.parent_id is not None:
            problem = (f"a field of the repeat '{spec.parent_id}' is answered once per row; "
                       "ask it outside the repeat, as a field of its own page")
        elif kind.is_container:
            problem = ("a repeat cannot be per guardian; ask each guardian's questions as "
                       "fields outside the repeat")
        elif kind.holds_files:
            problem = "a file field cannot be per guardian; ask for the document once"
        elif kind.holds_memberships:
            problem = ("memberships are chosen once per pupil and billed; ask them once, "
                       "without scope")
        elif spec.restricted == HEALTH:
            problem = ("health data is sealed as one answer per dossier; remove scope, or do "
                       "not mark the field restricted: health")
        elif spec.staff_only:
            problem = "a staff-only field is filled in by the school; remove scope"
        if problem is None:
            return True
        where = spec.pointer + "/scope" if own else spec.pointer + "/type"
        self.ctx.add(Code.FIELD_016, where, at_key=True, where=f"Field '{spec.id}'",
                     problem=problem)
        return False

    def restriction(self, raw: Mapping[str, Any], pointer: str, ident: str,
                    ftype: FieldType[Any], parent: str | None) -> str | None:
        """The field's own ``restricted`` mark, checked: a repeat's rows are marked as a whole,
        and files cannot be health data (stored documents are not encrypted)."""
        mark = raw.get("restricted")
        if mark != HEALTH:
            return None  # absent, or a value the schema check reported
        if parent is not None:
            self.ctx.add(Code.FIELD_014, pointer + "/restricted", at_key=True, field=ident,
                         problem=f"a field of a repeat cannot be marked on its own; mark the "
                         f"repeat '{parent}' (restricted: health), which covers all its fields")
            return None
        if ftype.holds_files:
            self.ctx.add(Code.FIELD_014, pointer + "/restricted", at_key=True, field=ident,
                         problem="a field holding files cannot be health data, since stored "
                         "files are not encrypted; ask for the document on paper, or remove "
                         "restricted")
        return HEALTH

    # -- pass 2: expressions -----------------------------------------------------------------
    def finish_field(self, spec: FieldSpec, raw: Mapping[str, Any], row: FieldSpec | None,
                     ) -> FieldSpec:
        env = _Env(self.fields, row, self.tariff_ids)
        p = spec.pointer
        required: bool | Condition = False
        raw_required = raw.get("required", False)
        if isinstance(raw_required, bool):
            required = raw_required
        elif raw_required == ALL_GUARDIANS:
            required = True
            if not spec.per_guardian and "scope" not in raw:  # else reported at the scope
                self.ctx.add(Code.FIELD_016, p + "/required", where=f"Field '{spec.id}'",
                             problem="required: all_guardians asks every guardian's answer; "
                                     "add scope: per_guardian, or write required: true")
        elif isinstance(raw_required, str):
            required = self.expression(raw_required, p + "/required", env) or False
        rules = tuple(
            ValidationRule(cond, self.ctx.text(r.get("message")))
            for i, r in enumerate(raw.get("validate") or ())
            if isinstance(r, Mapping)
            and (cond := self.expression(r.get("rule"), f"{p}/validate/{i}/rule", env)))
        expressions = {key: cond for key in spec.type.expression_options
                       if (cond := self.expression(raw.get(key), f"{p}/{key}", env,
                                                   want=spec.type.value_type(spec)))}
        expressions.update(
            (sub, cond) for sub, source in spec.type.part_conditions(spec).values()
            if (cond := self.expression(source, f"{p}/{sub}", env)))
        children = spec.fields
        if spec.type.is_container:
            raw_children = {c.get("id"): c for c in raw.get("fields") or ()
                            if isinstance(c, Mapping)}
            children = tuple(self.finish_field(c, raw_children[c.id], spec) for c in spec.fields)
        done = replace(
            spec, required=required, validate=rules, fields=children,
            all_guardians=spec.per_guardian and raw_required == ALL_GUARDIANS,
            visible_if=self.expression(raw.get("visible_if"), p + "/visible_if", env),
            readonly_if=self.expression(raw.get("readonly_if"), p + "/readonly_if", env),
            expressions=expressions)
        self.check_prefill(done, row)
        self.check_placeholders(done.label, p + "/label", env)
        self.check_placeholders(done.help, p + "/help", env)
        if is_dataclass(done.options):  # texts among the type's options (info text, statement)
            for option in fields(done.options):
                text = getattr(done.options, option.name)
                if isinstance(text, LocalText):
                    self.check_placeholders(text, f"{p}/{option.name}", env)
        if not done.editable and done.prefill is None and done.type.has_value:
            self.ctx.add(Code.FIELD_007, p, severity=Severity.WARNING, field=done.id)
        self.check_locked_required(done)
        if not done.type.has_value:
            for key in ANSWER_KEYS & set(raw):
                self.ctx.add(Code.FIELD_012, f"{p}/{key}", at_key=True,
                             severity=Severity.WARNING, field=done.id, type=done.type.name,
                             key=key)
        self.fields[done.key] = done
        return done

    def check_locked_required(self, spec: FieldSpec) -> None:
        """Warn when ``required`` is written on a field that can be locked."""
        if spec.required is False:
            return
        pointer = spec.pointer + "/required"
        if not spec.editable:
            self.ctx.add(Code.FIELD_009, pointer, severity=Severity.WARNING, field=spec.id,
                         lock="has editable: false",
                         fix="Remove required (give a prefill so the field has a value).")
        elif spec.readonly_if is not None and spec.required is True:
            self.ctx.add(Code.FIELD_009, pointer, severity=Severity.WARNING, field=spec.id,
                         lock=f"locked when {spec.readonly_if.source}",
                         fix=f"Say when it is required: required: not ({spec.readonly_if.source}).")

    def check_prefill(self, spec: FieldSpec, row: FieldSpec | None) -> None:
        if spec.prefill is None:
            return
        written = path = spec.prefill
        ok: bool
        candidates: list[str]
        guardian_paths = [*GUARDIAN_KEYS, *(f"address.{k}" for k in ADDRESS_KEYS)]
        pupil_paths = [f"pupil.{k}" for k in PUPIL_KEYS] + [f"pupil.address.{k}"
                                                             for k in ADDRESS_KEYS]
        if row is not None and row.prefill is not None:
            if row.prefill == ("guardians",):
                # ``guardians.email`` in a row means ``email``: suggest what follows the prefix
                key = path[1:] if path[0] == "guardians" and len(path) > 1 else path
                ok = key is path and ".".join(path) in guardian_paths
                candidates = guardian_paths
                known = ("in a row prefilled from guardians, use a key of the imported guardian, "
                         "without a prefix: last_name, email, phone_mobile, address.postal_code… "
                         "(§7 lists them)")
                path = key
            else:  # rows from last year's dossier: a field of that year's repeat, when known
                rows = self.previous.get(row.prefill[-1]) if self.previous is not None else None
                fields = {c.id: c for c in rows.fields} if rows is not None else {}
                ok, candidates = not fields or path[0] in fields, list(fields)
                known = f"use the id of a field of last year's '{row.prefill[-1]}'"
                if path[0] in fields:
                    self.check_previous_type(spec, ".".join((*row.prefill, *path)),
                                             fields[path[0]])
        elif path[0] == "pupil":
            ok, candidates = ".".join(path) in pupil_paths, pupil_paths
            known = "use a key of the imported pupil record, pupil.<key> (§7 lists them)"
        elif path[0] == "guardians":
            ok, candidates = path == ("guardians",) and spec.type.is_container, []
            known = ("guardians fills a repeat with one row per imported guardian: write "
                     "prefill: guardians on a repeat, and prefill: email (a guardian key) on "
                     "a field of its rows")
        elif path[0] == "previous":
            ok, candidates = len(path) >= 2, []
            known = "use previous.<id of a field of last year's campaign>"
            if ok and self.previous is not None:
                ok, candidates = self.check_previous(spec, path, self.previous)
            elif ok and not self.previous_reported:
                self.ctx.add(Code.FIELD_011, spec.pointer + "/prefill", severity=Severity.WARNING,
                             field=spec.id, path=".".join(path))
        else:
            ok = False
            candidates = [*pupil_paths, "guardians"]
            known = ("a prefill path starts with pupil. (the imported record) or previous. "
                     "(last year's dossier), or is guardians (on a repeat)")
        if not ok:
            dotted = ".".join(path)
            self.ctx.add(Code.FIELD_006, spec.pointer + "/prefill", field=spec.id,
                         path=".".join(written), known=known,
                         hint=did_you_mean(dotted, candidates))

    def check_previous(self, spec: FieldSpec, path: tuple[str, ...],
                       previous: Mapping[str, FieldSpec]) -> tuple[bool, list[str]]:
        """Check ``previous.<id>`` against last year's campaign: the field exists, and holds
        the same kind of value."""
        tops = {k: v for k, v in previous.items() if v.parent_id is None}
        candidates = [f"previous.{k}" for k in tops]
        prev = tops.get(path[1])
        if prev is None:
            return False, candidates
        if len(path) > 2:
            return len(path) == 3 and prev.type.part_type(prev, path[2]) is not None, \
                [f"previous.{prev.id}.{k}" for k in ADDRESS_KEYS if prev.type.part_type(prev, k)]
        self.check_previous_type(spec, ".".join(path), prev)
        return True, candidates

    def check_previous_type(self, spec: FieldSpec, dotted: str, prev: FieldSpec) -> None:
        this, that = spec.type.value_type(spec), prev.type.value_type(prev)
        if spec.type.is_container != prev.type.is_container or (
                this != that and "any" not in (this.kind, that.kind)):
            self.ctx.add(Code.FIELD_010, spec.pointer + "/prefill", field=spec.id, path=dotted,
                         this=f"of type {spec.type.name} ({this})",
                         that=f"of type {prev.type.name} ({that})")

    def resolve_previous(self) -> None:
        """Find and compile last year's campaign: ``previous_campaign:`` (a path next to this
        file, or a campaign id), else the id one year earlier (``…-2027`` → ``…-2026``)."""
        if not self.ctx.follow_previous:
            return
        name = self.data.get("previous_campaign")
        base = self.ctx.source.base_dir
        explicit = isinstance(name, str) and bool(name.strip())
        if not explicit:
            name = _year_before(self.data.get("id"))
        if not isinstance(name, str):
            return
        found = _find_campaign(base, name, by_path=explicit) if base is not None else None
        if found is None:
            if explicit:
                looked = f"'{name}', '{name}.yaml' or a campaign with id: {name}"
                self.ctx.add(Code.CAMPAIGN_004, "/previous_campaign", severity=Severity.WARNING,
                             name=name, looked=looked)
                self.previous_reported = True
            return
        source = load_source(found)
        previous, _ = compile_campaign(source, self.ctx.registry,
                                       check_schema(source, self.ctx.registry),
                                       follow_previous=False)
        if previous is None:
            self.ctx.add(Code.CAMPAIGN_005, "/previous_campaign" if explicit else "/id",
                         severity=Severity.WARNING, name=name)
            self.previous_reported = True
            return
        self.previous = previous.fields

    def check_placeholders(self, text: LocalText, pointer: str, env: _Env) -> None:
        for name in set(text.placeholders()):
            if env.lookup(tuple(name.split("."))) is None:
                self.ctx.add(Code.EXPR_003, pointer, name=name,
                             hint=did_you_mean(name, env.candidates(())))

    # -- whole campaign --------------------------------------------------------------------
    def run(self) -> Campaign | None:
        data, ctx = self.data, self.ctx
        page_ids: dict[str, str] = {}
        top_scope: dict[str, str] = {}
        declared: list[tuple[Mapping[str, Any], list[tuple[FieldSpec, Mapping[str, Any]]]]] = []
        self.resolve_previous()
        for i, raw_page in enumerate(data.get("pages") or ()):
            if not isinstance(raw_page, Mapping) or not isinstance(raw_page.get("id"), str):
                continue
            pointer = f"/pages/{i}"
            self.unique(page_ids, raw_page["id"], pointer)
            specs = []
            page_mark = HEALTH if raw_page.get("restricted") == HEALTH else None
            page_scope = raw_page.get("scope") == PER_GUARDIAN
            for j, raw_field in enumerate(raw_page.get("fields") or ()):
                if isinstance(raw_field, Mapping):
                    spec = self.declare_field(raw_field, f"{pointer}/fields/{j}", raw_page["id"],
                                              None, top_scope, page_mark, page_scope)
                    if spec is not None:
                        specs.append((spec, raw_field))
            declared.append((raw_page, specs))
        env = _Env(self.fields, None, self.tariff_ids)
        pages: list[Page] = []
        for i, (raw_page, specs) in enumerate(declared):
            pointer = f"/pages/{i}"
            finished = tuple(self.finish_field(s, raw, None) for s, raw in specs)
            pages.append(Page(
                id=raw_page["id"], title=ctx.text(raw_page.get("title")),
                intro=ctx.text(raw_page.get("intro")),
                visible_if=self.expression(raw_page.get("visible_if"), pointer + "/visible_if",
                                           env),
                fields=finished, documents=bool(raw_page.get("documents", False)),
                restricted=HEALTH if raw_page.get("restricted") == HEALTH else None,
                pointer=pointer, location=ctx.source.location(pointer)))
        tariffs = self.tariffs(env)
        associations = self.associations(env)
        documents = self.documents(env)
        payment = self.payment()
        order = self.check_cycles(pages, tariffs, associations)
        self.check_health_reads(pages, tariffs, associations, documents)
        self.check_guardian_reads(pages, tariffs, associations, documents)
        self.check_staff_only(pages, tariffs, associations, documents)
        self.check_reachability(pages)
        tests = self.tests()
        opens, closes = _date(data.get("opens")), _date(data.get("closes"))
        if opens and closes and closes < opens:
            ctx.add(Code.CAMPAIGN_001, "/closes", opens=opens, closes=closes)
        self.check_languages(data, [])
        est = data.get("establishment") or {}
        if opens is None or closes is None:
            return None
        return Campaign(
            id=str(data.get("id")), version=ctx.source.digest, title=ctx.text(data.get("title")),
            establishment=Establishment(str(est.get("uai")), str(est.get("name")),
                                        est.get("email"), est.get("phone"), est.get("address"),
                                        est.get("website"), est.get("controller"),
                                        Contact(**est["dpo"]) if est.get("dpo") else None),
            opens=opens, closes=closes, languages=ctx.languages,
            welcome=ctx.text(data.get("welcome")),
            audience=self.audience(env),
            pages=tuple(pages), tariffs=tariffs, associations=associations, documents=documents,
            tests=tests, fields=freeze_fields(self.fields), evaluation_order=order,
            source_name=ctx.source.name,
            base_dir=str(ctx.source.base_dir) if ctx.source.base_dir else None,
            retention_days=int(data.get("retention_days", DEFAULT_RETENTION_DAYS)),
            payment=payment)

    def payment(self) -> Payment | None:
        """The payment schedule; its mode must be a top-level choice of one value."""
        raw = self.data.get("payment")
        if not isinstance(raw, Mapping):
            return None
        mode = raw.get("mode")
        if isinstance(mode, str):
            spec = self.fields.get(mode)
            if spec is None or spec.parent_id is not None or spec.type.choices(spec) is None \
                    or spec.type.value_type(spec).is_list or spec.per_guardian:
                self.ctx.add(Code.RULE_001, "/payment/mode", where="payment",
                             kind="choice field (one answer per dossier, outside a repeat)",
                             name=mode,
                             hint=did_you_mean(mode, [s.id for s in self.fields.values()
                                                      if s.type.choices(s) is not None]))
        return Payment(tuple(self.ctx.text(t) for t in raw.get("instalments") or ()),
                       mode if isinstance(mode, str) else None, "/payment",
                       self.ctx.source.location("/payment"))

    def check_staff_only(self, pages: Sequence[Page], tariffs: Sequence[Tariff],
                         associations: Sequence[Association],
                         documents: Sequence[DocumentSpec]) -> None:
        """What families see (fields, pages, fees, documents) may not depend on a field the
        school alone fills in: its value would leak through a visibility or a fee, and the
        family's view of the campaign (``family_campaign``) does not hold it."""
        hidden = {spec.id for page in pages for spec in page.fields if spec.staff_only}
        if not hidden:
            return
        conditions: list[tuple[str, str, Condition | None]] = []
        for page in pages:
            if page.documents or any(not f.staff_only for f in page.fields):
                conditions.append((page.id, page.pointer, page.visible_if))
            for top in page.fields:
                if top.staff_only:
                    continue
                for spec in top.walk():
                    required = spec.required if isinstance(spec.required, Condition) else None
                    conditions.extend((spec.id, spec.pointer, c) for c in (
                        required, spec.visible_if, spec.readonly_if,
                        *(r.rule for r in spec.validate), *spec.expressions.values()))
        for tariff in tariffs:
            conditions.extend((tariff.id, tariff.pointer, c) for c in (
                tariff.applies_if, tariff.exempt_if,
                tariff.brackets.on if tariff.brackets else None,
                *(m.by for m in tariff.multipliers), *(r.when for r in tariff.reductions)))
        conditions.extend((a.id, a.pointer, c) for a in associations for c in a.conditions)
        conditions.extend((d.id, d.pointer, d.required_if) for d in documents)
        for owner, pointer, cond in conditions:
            if cond is None:
                continue
            read = sorted({dep.split(".")[0] for dep in cond.deps} & hidden)
            if read:
                self.ctx.add(Code.FIELD_013, pointer, field=owner,
                             problem=f"it reads the staff-only field '{read[0]}', which "
                                     "families never see; read it only from another staff-only "
                                     "field")

    def audience(self, env: _Env) -> Condition | None:
        """The audience condition, which may read only the imported record."""
        cond = self.expression(self.data.get("audience"), "/audience", env)
        if cond is None or id(cond) in self.faulty:
            return cond
        record = [f"pupil.{k}" for k in PUPIL_KEYS] + [f"guardians.{k}" for k in GUARDIAN_KEYS]
        for node in walk(cond.expression.node):
            if isinstance(node, Name) and node.path[0] not in ("pupil", "guardians"):
                self.expr_problem(ExprProblem(
                    Code.EXPR_011, {"name": node.dotted}, node.offset,
                    hint=did_you_mean(f"pupil.{node.path[-1]}", record)), "/audience")
        return cond

    def check_languages(self, node: Any, path: list[str | int]) -> None:
        """Warn about texts given as a language map without the default language, and about
        texts missing a language of the campaign."""
        languages = self.ctx.languages
        if isinstance(node, Mapping):
            keys = list(node)
            if keys and all(isinstance(k, str) and len(k) == 2 and k.islower() for k in keys) \
                    and all(isinstance(v, str) for v in node.values()):
                if languages[0] not in node:
                    self.ctx.add(Code.CAMPAIGN_002, pointer_from(path), severity=Severity.WARNING,
                                 where=describe(path, self.data), lang=languages[0])
                self.check_translated(node, path)
                return
            for k, v in node.items():
                if k not in ("tests",):
                    self.check_languages(v, [*path, k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                self.check_languages(v, [*path, i])
        elif isinstance(node, str):
            self.check_translated(node, path)

    def check_translated(self, text: str | Mapping[str, Any], path: list[str | int]) -> None:
        """One warning per text without a version in each language of ``languages``."""
        key = path[-1] if path else None
        if len(self.ctx.languages) < 2 or key not in TEXT_KEYS or "table" in path:
            return  # a bracket's label (in table) is a short code, not a text
        missing = [lang for lang in self.ctx.languages[1:] if isinstance(text, str)
                   or lang not in text]
        if missing:
            default = self.ctx.languages[0]
            self.ctx.add(Code.CAMPAIGN_006, pointer_from(path), severity=Severity.WARNING,
                         where=describe(path, self.data), missing=", ".join(missing),
                         default=default, key=key,
                         example=", ".join(f"{lang}: …" for lang in self.ctx.languages))

    def check_health_reads(self, pages: list[Page], tariffs: tuple[Tariff, ...],
                           associations: tuple[Association, ...],
                           documents: tuple[DocumentSpec, ...]) -> None:
        """Report a condition outside health data that reads a health field: what it decides
        (a field shown, a fee, a document asked) is seen by every role, and the school's side
        evaluates it without the sealed value."""
        health = {s.id for p in pages for s in p.fields if s.restricted == HEALTH}
        if not health:
            return

        def check(cond: Condition | bool | None, where: str) -> None:
            if not isinstance(cond, Condition):
                return
            read = sorted({d.split(".")[0] for d in cond.deps} & health)
            if read:
                self.ctx.diagnostics.append(Diagnostic(
                    Code.FIELD_015, Code.FIELD_015.format(where=where, name=read[0]),
                    cond.location))

        for page in pages:
            if page.restricted != HEALTH:
                check(page.visible_if, f"Page '{page.id}'")
            for spec in (s for top in page.fields for s in top.walk()):
                if spec.restricted != HEALTH:
                    for cond in (spec.visible_if, spec.readonly_if, spec.required,
                                 *(r.rule for r in spec.validate), *spec.expressions.values()):
                        check(cond, f"Field '{spec.key}'")
        for tariff in tariffs:
            for cond in tariff.conditions:
                check(cond, f"Tariff '{tariff.id}'")
        for association in associations:
            for cond in association.conditions:
                check(cond, f"Association '{association.id}'")
        for document in documents:
            check(document.required_if, f"Document '{document.id}'")

    def check_guardian_reads(self, pages: list[Page], tariffs: tuple[Tariff, ...],
                             associations: tuple[Association, ...],
                             documents: tuple[DocumentSpec, ...]) -> None:
        """Report an expression that reads a per-guardian field: each guardian has their own
        answer, so what it decides (a field shown, a fee, a document) would differ from one
        guardian to the other. A field's own validation rules may read its own answer."""
        ours = {s.id for p in pages for s in p.fields if s.per_guardian}
        if not ours:
            return
        found: list[tuple[str, str, Condition | bool | None]] = []
        for page in pages:
            found.append((f"Page '{page.id}'", "", page.visible_if))
            for spec in (s for top in page.fields for s in top.walk()):
                found.extend((f"Field '{spec.key}'", "", c) for c in (
                    spec.visible_if, spec.readonly_if, spec.required,
                    *spec.expressions.values()))
                found.extend((f"Field '{spec.key}'", spec.key, r.rule) for r in spec.validate)
        found.extend((f"Tariff '{t.id}'", "", c) for t in tariffs for c in t.conditions)
        found.extend((f"Association '{a.id}'", "", c) for a in associations
                     for c in a.conditions)
        found.extend((f"Document '{d.id}'", "", d.required_if) for d in documents)
        for where, own, cond in found:
            if not isinstance(cond, Condition):
                continue
            read = sorted({d.split(".")[0] for d in cond.deps} & ours - {own})
            if read:
                self.ctx.diagnostics.append(Diagnostic(
                    Code.FIELD_016, Code.FIELD_016.format(where=f"'{read[0]}'", problem=(
                        f"{where} reads it, but each guardian gives their own answer; read "
                        f"only fields the family answers once, or remove scope from "
                        f"'{read[0]}'")), cond.location))

    def field_edges(self, spec: FieldSpec, page: Page) -> set[str]:
        deps: set[str] = set()
        for cond in (spec.visible_if, page.visible_if, *spec.expressions.values()):
            if cond is not None:
                deps |= cond.deps
        for child in spec.fields:  # a repeat's rows read outer fields too
            for cond in (child.visible_if, *child.expressions.values()):
                if cond is not None:
                    deps |= {d for d in cond.deps if not d.startswith(spec.id + ".")}
        return {_node(d) for d in deps}

    def check_cycles(self, pages: list[Page], tariffs: tuple[Tariff, ...],
                     associations: tuple[Association, ...]) -> tuple[str, ...]:
        """Report every dependency cycle between fields, computed values and fees, at the
        condition that closes it; return the top-level field ids in an order where each comes
        after what it reads."""
        graph: dict[str, set[str]] = {}
        where: dict[str, Location] = {}
        #: the conditions each node reads through, its own first
        reads: dict[str, list[Condition]] = {}
        for page in pages:
            for spec in page.fields:
                graph[spec.id] = self.field_edges(spec, page)
                where[spec.id] = spec.location
                reads[spec.id] = [c for c in (spec.visible_if, *spec.expressions.values(),
                                              *(cond for child in spec.fields for cond in (
                                                  child.visible_if, *child.expressions.values())),
                                              page.visible_if) if c is not None]
                if spec.fields:  # cycles between the fields of one row
                    inner_reads = {c.key: [cond for cond in (c.visible_if,
                                                             *c.expressions.values())
                                           if cond is not None] for c in spec.fields}
                    inner = {key: {d for cond in conds for d in cond.deps
                                   if d.startswith(spec.id + ".")}
                             for key, conds in inner_reads.items()}
                    for cycle in _cycles(inner):
                        location, hint = _closing(cycle, inner_reads, str)
                        self.ctx.diagnostics.append(Diagnostic(
                            Code.EXPR_008, Code.EXPR_008.format(cycle=" → ".join(cycle)),
                            location or where[spec.id], hint=hint))
        # fees.<id> reads its tariff's conditions; fees.total reads every fee and membership
        total = f"fees.{FEES_TOTAL}"
        graph[total] = {f"fees.{t.id}" for t in tariffs} | {
            _node(d) for a in associations for c in a.conditions for d in c.deps} | {
            s.id for p in pages for s in p.fields if s.type.holds_memberships}
        reads[total] = [c for a in associations for c in a.conditions]
        for tariff in tariffs:
            graph[f"fees.{tariff.id}"] = {_node(d) for c in tariff.conditions for d in c.deps}
            reads[f"fees.{tariff.id}"] = list(tariff.conditions)
        order: list[str] = []
        for cycle in _cycles(graph):
            location, hint = _closing(cycle, reads, _node)
            if location is None:
                location = next((where[n] for n in cycle if n in where), None) or next(
                    (t.location for t in tariffs if f"fees.{t.id}" in cycle), Location())
            self.ctx.diagnostics.append(Diagnostic(
                Code.EXPR_008, Code.EXPR_008.format(cycle=" → ".join(cycle)), location,
                hint=hint))
        visited: set[str] = set()

        def visit(node: str, stack: set[str]) -> None:
            if node in visited or node in stack or node not in graph:
                return
            stack.add(node)
            for dep in sorted(graph[node]):
                visit(dep, stack)
            stack.discard(node)
            visited.add(node)
            order.append(node)

        for node in graph:
            visit(node, set())
        return tuple(n for n in order if n in where)

    def check_reachability(self, pages: list[Page]) -> None:
        """Fields whose conditions can never hold, found by trying every value of the choice
        and yes/no fields they depend on (when they depend on nothing else)."""
        for page in pages:
            for spec in page.fields:
                for target in spec.walk():
                    # the page's and the field's conditions read top-level names; a repeat
                    # child's own condition reads its row first
                    conds: list[tuple[Condition, str | None]] = [
                        (c, None) for c in (page.visible_if, spec.visible_if) if c]
                    if target is not spec and target.visible_if is not None:
                        conds.append((target.visible_if, spec.id))
                    if not conds:
                        continue
                    reason = self.never_true(conds)
                    if reason is None:
                        continue
                    # at the most specific condition: the field's own, else its repeat's or page's
                    at = conds[-1][0].location
                    hint = f"the field is declared at line {target.location.line}"
                    if target.required is True:
                        self.ctx.diagnostics.append(Diagnostic(
                            Code.FIELD_005, Code.FIELD_005.format(field=target.key, reason=reason),
                            at, hint=hint))
                    else:
                        self.ctx.diagnostics.append(Diagnostic(
                            Code.FIELD_004, Code.FIELD_004.format(field=target.key, reason=reason),
                            at, Severity.WARNING, hint))

    def never_true(self, conds: list[tuple[Condition, str | None]]) -> str | None:
        if any(_reads_outside(c.expression.node) for c, _ in conds):
            return None  # depends on the imported record, the family or the date: not decidable
        if any(id(c) in self.faulty for c, _ in conds):
            return None  # already reported: its names and types cannot be trusted
        deps = sorted(set().union(*(c.deps for c, _ in conds)))
        domains: list[list[Any]] = []
        for dep in deps:
            spec = self.fields.get(dep)
            if spec is None:
                return None
            values = spec.type.choices(spec)
            if spec.type.value_type(spec) == BOOL:
                domains.append([True, False, None])
            elif values is not None and spec.type.value_type(spec) == STR:
                domains.append([*sorted(values), None])
            else:
                return None
        total = 1
        for d in domains:
            total *= len(d)
        if total > MAX_COMBINATIONS:
            return None
        for combo in itertools.product(*domains):
            fixed = dict(zip(deps, combo, strict=True))
            if all(c.test(_FixedScope(fixed, row)) for c, row in conds):
                return None
        return "its condition '" + "' and '".join(c.source for c, _ in conds) + \
            "' is false for every possible answer"

    # -- rules ------------------------------------------------------------------------------
    def tariffs(self, env: _Env) -> tuple[Tariff, ...]:
        out = []
        ids: dict[str, str] = {}
        for i, raw in enumerate(self.data.get("tariffs") or ()):
            p = f"/tariffs/{i}"
            if not self.unique(ids, raw["id"], p):
                continue
            if raw["id"] == FEES_TOTAL:
                self.ctx.add(Code.FIELD_008, p + "/id", id=FEES_TOTAL,
                             reason="fees.total is the total of every fee and membership")
            brackets = None
            if raw.get("brackets"):
                brackets = self.brackets(raw["id"], raw["brackets"], p + "/brackets", env)
            if brackets is None and raw.get("amount") is None:
                self.ctx.add(Code.SCHEMA_003, p, key="amount' or 'brackets",
                             where=f"tariff '{raw['id']}'")
            reductions = []
            red_ids: dict[str, str] = {}
            for j, r in enumerate(raw.get("reductions") or ()):
                rp = f"{p}/reductions/{j}"
                self.unique(red_ids, r["id"], rp)
                if (r.get("percent") is None) == (r.get("amount") is None):
                    self.ctx.add(Code.SCHEMA_004, rp, where=f"reduction '{r['id']}'",
                                 problem="give either percent or amount")
                cond = self.expression(r.get("when"), rp + "/when", env)
                if cond:
                    reductions.append(Reduction(
                        r["id"], self.ctx.text(r["label"]), cond,
                        Decimal(r["percent"]) if r.get("percent") else None,
                        Decimal(r["amount"]) if r.get("amount") else None))
            multipliers = tuple(
                Multiplier(cond, self.ctx.text(m.get("label")))
                for j, m in enumerate(raw.get("multipliers") or ())
                if (cond := self.expression(m.get("by"), f"{p}/multipliers/{j}/by", env,
                                            want=NUMBER)))
            out.append(Tariff(
                id=raw["id"], label=self.ctx.text(raw["label"]), help=self.ctx.text(
                    raw.get("help")),
                applies_if=self.expression(raw.get("applies_if"), p + "/applies_if", env),
                amount=Decimal(raw["amount"]) if raw.get("amount") else None,
                brackets=brackets, multipliers=multipliers, reductions=tuple(reductions),
                exempt_if=self.expression(raw.get("exempt_if"), p + "/exempt_if", env),
                exempt_label=self.ctx.text(raw.get("exempt_label")), pointer=p,
                location=self.ctx.source.location(p)))
        return tuple(out)

    def brackets(self, tariff: str, raw: Mapping[str, Any], p: str, env: _Env,
                 ) -> BracketTable | None:
        on = self.expression(raw.get("on"), p + "/on", env, want=NUMBER)
        rows: list[Bracket] = []
        previous: Decimal | None = None
        labels: set[str] = set()
        for j, row in enumerate(raw.get("table") or ()):
            up_to = Decimal(str(row["up_to"])) if row.get("up_to") is not None else None
            last = j == len(raw["table"]) - 1
            if up_to is None and not last:
                self.ctx.add(Code.RULE_006, f"{p}/table/{j}", tariff=tariff,
                             problem="only the last bracket may have no up_to: give this one "
                                     "its up_to")
            if up_to is not None and previous is not None and up_to <= previous:
                self.ctx.add(Code.RULE_002, f"{p}/table/{j}/up_to", tariff=tariff,
                             previous=previous, current=up_to)
            if row["label"] in labels:
                self.ctx.add(Code.RULE_006, f"{p}/table/{j}/label", tariff=tariff,
                             problem=f"bracket label '{row['label']}' is used twice: rename "
                                     "one")
            labels.add(row["label"])
            previous = up_to if up_to is not None else previous
            rows.append(Bracket(up_to, Decimal(row["amount"]), str(row["label"])))
        if rows and rows[-1].up_to is not None:
            self.ctx.add(Code.RULE_007, f"{p}/table/{len(rows) - 1}/up_to",
                         severity=Severity.WARNING, tariff=tariff,
                         up_to=rows[-1].up_to)
        default = raw.get("default")
        if default is not None and default not in labels:
            self.ctx.add(Code.RULE_001, p + "/default", where=f"tariff '{tariff}'",
                         kind="bracket", name=default, hint=did_you_mean(default, labels))
            default = None
        if on is None or not rows:
            return None
        return BracketTable(on, self.ctx.text(raw.get("label")), tuple(rows), default)

    def associations(self, env: _Env) -> tuple[Association, ...]:
        ids: dict[str, str] = {}
        out = []
        for i, raw in enumerate(self.data.get("associations") or ()):
            p = f"/associations/{i}"
            if self.unique(ids, raw["id"], p):
                prices = tuple(
                    AssociationPrice(when, Decimal(price["fee"]))
                    for j, price in enumerate(raw.get("prices") or ())
                    if (when := self.expression(price.get("when"), f"{p}/prices/{j}/when", env)))
                fee_from = self.expression(raw.get("fee_from"), p + "/fee_from", env,
                                           want=NUMBER)
                if "fee" not in raw and fee_from is None and "fee_from" not in raw:
                    self.ctx.add(Code.SCHEMA_003, p, key="fee", where=f"association "
                                 f"'{raw['id']}'", hint="or fee_from: the amount the family "
                                 "gives, e.g. the id of a number field")
                out.append(Association(
                    raw["id"], self.ctx.text(raw["label"]), self.ctx.text(raw.get("description")),
                    Decimal(raw.get("fee", 0)), bool(raw.get("required", False)),
                    self.expression(raw.get("available_if"), p + "/available_if", env),
                    p, self.ctx.source.location(p), prices, fee_from))
        return tuple(out)

    def documents(self, env: _Env) -> tuple[DocumentSpec, ...]:
        ids: dict[str, str] = {}
        out = []
        base = self.ctx.source.base_dir
        for i, raw in enumerate(self.data.get("documents") or ()):
            p = f"/documents/{i}"
            if not self.unique(ids, raw["id"], p):
                continue
            template = raw.get("template")
            if template is not None:
                resolved = (base / template).resolve() if base else None
                inside = resolved is not None and base is not None and \
                    resolved.is_relative_to(base.resolve())
                if resolved is None or not inside or not resolved.is_file():
                    self.ctx.add(Code.RULE_005, p + "/template", where=f"document '{raw['id']}'",
                                 path=template)
            # a max_size that is not a size is reported by the schema (RULE_004)
            size = parse_size(raw["max_size"]) if raw.get("max_size") else 10 * 1024 * 1024
            size = size or 0
            repeat = self.document_repeat(raw, p)
            row_env = env if repeat is None else _Env(env.fields, repeat, env.tariff_ids)
            out.append(DocumentSpec(
                id=raw["id"], label=self.ctx.text(raw["label"]), help=self.ctx.text(
                    raw.get("help")),
                required=bool(raw.get("required", True)),
                required_if=self.expression(raw.get("required_if"), p + "/required_if",
                                            row_env, unknown_hint=partial(
                                                self.document_names_hint, repeat=repeat)),
                for_each=None if repeat is None else repeat.id,
                row_label=self.document_row_label(raw, p, repeat),
                reason=self.ctx.text(raw.get("reason")),
                accept=tuple(raw.get("accept") or FILE_KINDS), max_size=size,
                max_files=int(raw.get("max_files", 2)), template=template,
                max_age_months=raw.get("max_age_months"), pointer=p,
                location=self.ctx.source.location(p)))
        return tuple(out)

    def document_repeat(self, raw: Mapping[str, Any], p: str) -> FieldSpec | None:
        """The top-level repeat a document is asked for each row of (``for_each``), or None
        (none given, or a wrong one: reported here)."""
        name = raw.get("for_each")
        if name is None:
            return None
        repeats = [s.id for s in self.fields.values() if s.parent_id is None
                   and s.type.is_container and not s.staff_only and s.restricted != HEALTH]
        spec = self.fields.get(name)
        where = f"document '{raw['id']}'"
        if spec is None or spec.parent_id is not None:
            self.ctx.add(Code.RULE_001, p + "/for_each", where=where, kind="repeat", name=name,
                         hint=did_you_mean(name, repeats))
            return None
        if not spec.type.is_container:
            self.ctx.add(Code.RULE_009, p + "/for_each", document=raw["id"], problem=(
                f"for_each names '{name}', a {spec.type.name} field, not a repeat: name a "
                f"repeat whose rows each need the document"
                + (f" ({', '.join(repeats)})" if repeats else "") + ", or remove for_each"))
            return None
        if spec.staff_only or spec.restricted == HEALTH:
            self.ctx.add(Code.RULE_009, p + "/for_each", document=raw["id"], problem=(
                f"for_each names '{name}', " + (
                    "which the school alone fills in: families never see its rows"
                    if spec.staff_only else
                    "which is health data: a document's label and files are not sealed")
                + "; name a repeat the family fills in, or remove for_each"))
            return None
        return spec

    def document_names_hint(self, name: str, repeat: FieldSpec | None) -> str | None:
        """What a document's condition can name: in a per-row document, the row's fields; in
        a document asked once, a row's field is read per row with for_each."""
        if repeat is not None:
            row = ", ".join(c.id for c in repeat.fields if c.type.has_value)
            return (f"a per-row document's condition reads the fields of its row ({row}), "
                    f"the dossier's fields and pupil.*")
        head = name.split(".")[0]
        owner = next((s.id for s in self.fields.values() if s.parent_id is None
                      and s.type.is_container and any(c.id == head for c in s.fields)), None)
        if owner is None:
            return None
        return f"to ask the document once per row, reading each row's {head}, add " \
               f"for_each: {owner}"

    def document_row_label(self, raw: Mapping[str, Any], p: str, repeat: FieldSpec | None,
                           ) -> tuple[str, ...]:
        """The row fields naming each row in a per-row document's label (``row_label``)."""
        names = raw.get("row_label")
        if names is None:
            return ()
        if repeat is None:
            if "for_each" not in raw:
                self.ctx.add(Code.RULE_009, p + "/row_label", at_key=True, document=raw["id"],
                             problem="row_label names a row's fields, but the document is "
                             "not asked per row: add for_each (the repeat), or remove "
                             "row_label")
            return ()
        children = [c.id for c in repeat.fields if c.type.has_value]
        out = []
        for i, name in enumerate(names):
            if name in children:
                out.append(name)
            else:
                self.ctx.add(Code.RULE_001, f"{p}/row_label/{i}", where=f"document "
                             f"'{raw['id']}' (row_label)", kind="row field", name=name,
                             hint=did_you_mean(name, children))
        return tuple(out)

    def tests(self) -> tuple[CampaignTest, ...]:
        out = []
        known = set(self.fields) | {s.id for s in self.fields.values()}
        known |= {f"{s.key}.{part}" for s in self.fields.values() if s.type.conditional_parts
                  for part in s.type.parts(s)}  # a grid's rows are visible or hidden
        pages = {p.get("id") for p in self.data.get("pages") or () if isinstance(p, Mapping)}
        tariffs = {t.get("id") for t in self.data.get("tariffs") or ()}
        documents = {d.get("id") for d in self.data.get("documents") or ()}
        for i, raw in enumerate(self.data.get("tests") or ()):
            p = f"/tests/{i}"
            name = raw["name"]
            for key, value in (raw.get("answers") or {}).items():
                if key not in known:
                    self.ctx.add(Code.TEST_001, f"{p}/answers/{key}", at_key=True, test=name,
                                 field=key, hint=did_you_mean(key, known))
                elif key in self.fields:
                    self.check_answer(name, self.fields[key], value,
                                      child_pointer(f"{p}/answers", key))
            self.check_family(name, raw.get("family"), p + "/family")
            expect = raw.get("expect") or {}
            for group, names in (("visible", known), ("hidden", known), ("required", known),
                                 ("optional", known), ("readonly", known), ("editable", known),
                                 ("documents", documents),
                                 ("no_documents", documents), ("visible_pages", pages),
                                 ("hidden_pages", pages)):
                for j, item in enumerate(expect.get(group) or ()):
                    if item not in names and unindexed(str(item)) not in names:
                        self.ctx.add(Code.TEST_001, f"{p}/expect/{group}/{j}", test=name,
                                     field=item, hint=did_you_mean(str(item), {str(n) for n in names}))
            for group, names in (("errors", known), ("computed", known), ("fees", tariffs),
                                 ("explanations", tariffs), ("values", known)):
                for key in expect.get(group) or {}:
                    if key not in names and unindexed(key) not in names:
                        self.ctx.add(Code.TEST_001, f"{p}/expect/{group}/{key}", at_key=True,
                                     test=name, field=key, hint=did_you_mean(key, {str(n) for n in names}))
            today = _date(raw.get("today"))
            out.append(CampaignTest(name, today, raw.get("prefill") or {},
                                    raw.get("family") or {}, raw.get("answers") or {}, expect,
                                    p, self.ctx.source.location(p),
                                    bool(raw.get("from_prefill", False))))
        return tuple(out)


    def check_answer(self, test: str, spec: FieldSpec, value: Any, pointer: str) -> None:
        """A test's answer must be one the form could give: declared choices, rows as a list."""
        if value is None:
            return
        if spec.type.is_container:
            if not isinstance(value, list):
                self.ctx.add(Code.TEST_002, pointer, test=test, problem=(
                    f"the answer of '{spec.id}' holds its rows, so it is a list with one '- ' "
                    f"per row: {spec.id}: [{{{', '.join(c.id for c in spec.fields[:2])}: …}}]"))
                return
            children = {c.id: c for c in spec.fields}
            for n, row in enumerate(value):
                at = child_pointer(pointer, n)
                if not isinstance(row, Mapping):
                    self.ctx.add(Code.TEST_002, at, test=test, problem=(
                        f"row {n + 1} of '{spec.id}' must give its fields by id "
                        f"({', '.join(children)})"))
                    continue
                for key, item in row.items():
                    if key in children:
                        self.check_answer(test, children[key], item, child_pointer(at, key))
                    elif key not in ("personne_id", ROW_KEY):
                        self.ctx.add(Code.TEST_001, child_pointer(at, key), at_key=True,
                                     test=test, field=f"{spec.id}.{key}",
                                     hint=did_you_mean(key, children))
            return
        declared = spec.type.choices(spec)
        if declared is None:
            return
        given = value if isinstance(value, list) else [value]
        for item in given:
            if isinstance(item, bool) or str(item) not in declared:
                self.ctx.add(Code.TEST_002, pointer, test=test, problem=(
                    f"'{item}' is not a declared choice of '{spec.key}' (declared: "
                    f"{', '.join(sorted(declared))}); answer with one of them"),
                    hint=did_you_mean(str(item), declared))

    def check_family(self, test: str, family: Any, pointer: str) -> None:
        """``family: {siblings, rank}`` must describe a possible family."""
        if not isinstance(family, Mapping):
            return
        siblings, rank = family.get("siblings"), family.get("rank")
        if isinstance(siblings, int) and isinstance(rank, int) and rank > siblings:
            self.ctx.add(Code.TEST_002, pointer + "/rank", test=test, problem=(
                f"rank {rank} is impossible among {siblings} child(ren): rank goes from 1 (the "
                f"eldest) to siblings; write e.g. family: {{siblings: {rank}, rank: {rank}}}"))


class _FixedScope:
    """A scope with given values for the satisfiability search."""

    def __init__(self, values: Mapping[str, Any], row: str | None = None) -> None:
        self.values = values
        #: id of the repeat whose row the expression reads first
        self.row = row

    @property
    def today(self) -> date:
        return date.today()

    def value(self, path: tuple[str, ...]) -> Any:
        if self.row is not None and f"{self.row}.{path[0]}" in self.values:
            return self.values[f"{self.row}.{path[0]}"]
        return self.values.get(".".join(path))

    def changed(self, path: tuple[str, ...]) -> bool:
        return False


def _reads_outside(node: Node) -> bool:
    """True when ``node`` reads more than answers: the imported record (``pupil.*``,
    ``guardians``), the family, last year's dossier, the date or the prefill (``changed``)."""
    for n in walk(node):
        if isinstance(n, Name) and n.path[0] in ROOTS:
            return True
        if isinstance(n, Call) and (n.func not in FUNCTIONS or FUNCTIONS[n.func].uses_scope):
            return True
    return False


_ESCAPE_WIDTH = {"x": 4, "u": 6, "U": 10}


def _scalar_position(text: str, mark: Mark, offset: int) -> tuple[int, int]:
    """Line and column in the file of the character at ``offset`` of a plain or quoted
    scalar's value: quotes, escapes ('' and \\x) and folded line breaks are counted as the
    YAML reader counted them."""
    lines = text.split("\n")
    row, i = mark.line - 1, mark.column - 1 + (1 if mark.style else 0)
    for _ in range(offset):
        if row >= len(lines):
            break
        line = lines[row]
        if i >= len(line.rstrip()) and row + 1 < len(lines):  # a folded line break: one space
            row += 1
            i = len(lines[row]) - len(lines[row].lstrip())
            continue
        if mark.style == "'" and line.startswith("''", i):
            i += 2
        elif mark.style == '"' and line.startswith("\\", i):
            i += _ESCAPE_WIDTH.get(line[i + 1: i + 2], 2)
        else:
            i += 1
    return row + 1, i + 1


def _cycles(graph: Mapping[str, Iterable[str]]) -> Iterator[list[str]]:
    """Each elementary cycle once (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = itertools.count()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = next(counter)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(list(reversed(component)) + [component[-1]])

    for v in graph:
        if v not in index:
            strong(v)
    yield from found


def _closing(cycle: list[str], reads: Mapping[str, list[Condition]],
             node_of: Callable[[str], str]) -> tuple[Location | None, str | None]:
    """Where a cycle is closed, and a hint naming its other links: the condition of a fee
    (a tariff's or an association's) when one takes part, else the first link's condition."""
    links = []
    for node, after in itertools.pairwise(cycle):
        cond = next((c for c in reads.get(node, ()) if after in {node_of(d) for d in c.deps}),
                    None)
        if cond is not None:
            links.append((node, after, cond))
    if not links:
        return None, None
    chosen = next((link for link in links if link[0].startswith("fees.")), links[0])
    others = [f"'{node}' reads '{after}' at line {cond.location.line}"
              for node, after, cond in links if (node, after) != chosen[:2]]
    hint = "the circle goes on: " + "; ".join(others) if others else None
    return chosen[2].location, hint


def _node(dep: str) -> str:
    """The dependency-graph node of an expression dependency: ``fees.<id>`` or a field id."""
    return dep if dep.startswith("fees.") else dep.split(".")[0]


_YEAR = re.compile(r"^(.*[-_])(\d{4})$")


def _year_before(ident: Any) -> str | None:
    """``college-2026`` for ``college-2027``: the id of last year's campaign, by lineage."""
    match = _YEAR.match(ident) if isinstance(ident, str) else None
    return f"{match[1]}{int(match[2]) - 1}" if match else None


def _find_campaign(base: Path, name: str, *, by_path: bool) -> Path | None:
    """The campaign file named ``name`` inside ``base``: a relative path (``by_path``), else
    ``<name>.yaml``, else a file of ``base`` whose ``id:`` is ``name``."""
    root = base.resolve()
    for candidate in ([name] if by_path else []) + [f"{name}.yaml"]:
        path = (root / candidate).resolve()
        if path.is_relative_to(root) and path.is_file():
            return path
    pattern = re.compile(rf"^id:\s*[\"']?{re.escape(name)}[\"']?\s*$", re.MULTILINE)
    for path in sorted(root.glob("*.yaml")):
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        except OSError:
            continue
        if pattern.search(head):
            return path
    return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value is not None else None
    except ValueError:
        return None


__all__ = ["RESERVED", "compile_campaign"]
