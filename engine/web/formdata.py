"""Between HTML forms and answers: input names, parsing a posted page, and field view-models.

Input names: ``f-<id>`` for a field, ``f-<id>-<part>`` for the inputs of a type entered in
several (``parts``: an address, a grid's rows), and
``f-<repeat>-<n>-<child>`` (plus ``f-<repeat>-<n>-_key``) for repeat rows. Nothing here
touches Flask request state: views pass a ``MultiDict``-like object in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from engine.campaign.model import Campaign, FieldSpec, Page
from engine.fields import FieldValueError
from engine.fields.common import INVISIBLE, invisible_characters
from engine.fields.repeat import ROW_KEY
from engine.i18n import gettext as _
from engine.rules import Evaluation

#: most rows a posted repeat may carry, whatever the campaign says (hostile input guard)
MAX_ROWS = 50


class FormData(Protocol):
    def getlist(self, key: str) -> list[str]: ...

    def __contains__(self, key: object) -> bool: ...


#: row number placeholder in :attr:`FieldView.template_row` names
ROW_PLACEHOLDER = "__N__"


def input_name(spec: FieldSpec, row: int | str | None = None) -> str:
    if spec.parent_id is not None and row is not None:
        return f"f-{spec.parent_id}-{row}-{spec.id}"
    return f"f-{spec.id}"


def _first(form: FormData, key: str) -> str:
    values = form.getlist(key)
    return str(values[0]) if values else ""


def _raw(spec: FieldSpec, form: FormData, name: str) -> list[str]:
    parts = spec.type.parts(spec)
    if parts:
        return [_first(form, f"{name}-{part}") for part in parts]
    return [str(v) for v in form.getlist(name)]


@dataclass(slots=True)
class ParsedPage:
    """What a posted page holds: the answers, the per-input parse errors, and the keys of the
    inputs that must not be stored at all (too long, invisible characters)."""

    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)


def parse_page(page: Page, form: FormData, previous: Mapping[str, Any]) -> ParsedPage:
    """Answers posted for ``page`` (only editable fields) and per-input parse errors.

    Values that fail to parse are kept as typed so the family can correct them (a draft may
    be incomplete); locked fields keep their previous value whatever was posted. An input
    over its field's ``max_chars`` or holding invisible characters is refused: the page must
    not be stored (a draft is never oversized), and what it shows back is the input cut to
    the limit and without those characters.
    """
    parsed = ParsedPage()
    for spec in page.fields:
        if not spec.type.has_value or not spec.editable:
            continue
        if spec.type.is_container:
            parsed.answers[spec.id] = _parse_rows(spec, form, previous.get(spec.id), parsed)
            continue
        raw = _raw(spec, form, input_name(spec))
        parsed.answers[spec.id] = _parse_one(spec, raw, spec.id, parsed)
    return parsed


def _refusal(spec: FieldSpec, raw: Sequence[str]) -> tuple[list[str], str | None]:
    """``raw`` cut to the field's limit and without invisible characters, and why it cannot be
    stored (None: it can)."""
    limit = spec.type.max_chars(spec)
    codes = sorted({code for part in raw for code in invisible_characters(part)})
    cleaned = [INVISIBLE.sub("", part) for part in raw]
    if codes:
        return [part[:limit] for part in cleaned], _(
            "Ce texte contenait des caractères invisibles ou de contrôle ({codes}) : ils ont "
            "été retirés. Vérifiez votre réponse, puis enregistrez de nouveau.").format(
                codes=", ".join(codes[:5]))
    if any(len(" ".join(part.split())) > limit for part in cleaned):
        return [part[:limit] for part in cleaned], _(
            "Votre réponse dépasse {n} caractères : raccourcissez-la, puis enregistrez de "
            "nouveau.").format(n=limit)
    return cleaned, None


def _parse_one(spec: FieldSpec, raw: Sequence[str], key: str, parsed: ParsedPage) -> Any:
    raw, refusal = _refusal(spec, raw)
    if refusal is not None:
        parsed.errors[key] = [refusal]
        parsed.refused.add(key)
        return spec.type.unparsed(raw, spec)
    try:
        value = spec.type.parse_input(raw, spec)
    except FieldValueError as exc:
        parsed.errors[key] = [str(exc)]
        return spec.type.unparsed(raw, spec)
    if isinstance(value, str) and len(value) > spec.type.max_chars(spec):
        parsed.errors[key] = [_("Votre réponse dépasse {n} caractères : raccourcissez-la, "
                                "puis enregistrez de nouveau.").format(
                                    n=spec.type.max_chars(spec))]
        parsed.refused.add(key)
    return value


def _parse_rows(spec: FieldSpec, form: FormData, previous: Any,
                parsed: ParsedPage) -> list[dict[str, Any]]:
    before = {str(r.get(ROW_KEY)): r for r in previous or [] if isinstance(r, Mapping)}
    rows: list[dict[str, Any]] = []
    # rows beyond the campaign's maximum cannot come from the page: they are not read
    for n in range(min(MAX_ROWS, spec.options.max)):
        key_name = f"f-{spec.id}-{n}-{ROW_KEY}"
        if key_name not in form:
            break
        row_key = _first(form, key_name)[:80]
        old = before.get(row_key, {})
        row: dict[str, Any] = {ROW_KEY: row_key or None}
        for child in spec.fields:
            if not child.type.has_value:
                continue
            if not child.editable:
                row[child.id] = old.get(child.id)
                continue
            row[child.id] = _parse_one(child, _raw(child, form, input_name(child, n)),
                                       f"{spec.id}.{n}.{child.id}", parsed)
        rows.append(row)
    return rows


@dataclass(slots=True)
class FieldView:
    """What a field partial needs to render one field."""

    spec: FieldSpec
    name: str
    value: Any
    errors: list[str] = field(default_factory=list)
    required: bool = False
    readonly: bool = False
    visible: bool = True
    rows: list[list[FieldView]] = field(default_factory=list)
    row_keys: list[str] = field(default_factory=list)
    #: an empty row numbered ``__N__``, which the browser copies to add a row without a post
    template_row: list[FieldView] = field(default_factory=list)
    text: str = ""
    #: the value is another guardian's confidential contact detail: shown as such, no input
    masked: bool = False
    #: a field of a repeat's row whose value the school corrected (the page says so)
    corrected: bool = False
    #: the associations offered to the pupil (a memberships field)
    offered: frozenset[str] = frozenset()
    #: what each offered association costs this pupil (its price by condition; None: the
    #: family gives the amount)
    fees: dict[str, Decimal | None] = field(default_factory=dict)
    #: the parts shown, of a type whose parts have their own conditions (a grid's rows)
    shown_parts: frozenset[str] = frozenset()

    @property
    def dom_id(self) -> str:
        return self.name

    @property
    def describedby(self) -> str:
        """The ids of the field's hint, unit and error texts (``aria-describedby``)."""
        ids = []
        if self.spec.help:
            ids.append(f"{self.dom_id}-hint")
        if getattr(self.spec.options, "unit", None):
            ids.append(f"{self.dom_id}-unit")
        if self.errors:
            ids.append(f"{self.dom_id}-error")
        return " ".join(ids)

    @property
    def anchor(self) -> str:
        """Id of the first input of the field, for links from the error summary."""
        return self.dom_id + self.spec.type.anchor(self.spec)

    @property
    def template(self) -> str:
        return self.spec.type.template


def field_views(campaign: Campaign, page: Page, answers: Mapping[str, Any],
                evaluation: Evaluation, errors: Mapping[str, list[str]],
                lang: str | None = None) -> list[FieldView]:
    """View-models for the fields of ``page``: values, errors, visibility, requirement."""
    views = []
    for spec in page.fields:
        views.append(_view(spec, answers.get(spec.id), spec.id, input_name(spec), evaluation,
                           errors, lang))
        if spec.type.is_container:
            rows = answers.get(spec.id) or []
            view = views[-1]
            for n, row in enumerate(rows if isinstance(rows, list) else []):
                view.row_keys.append(str(row.get(ROW_KEY) or ""))
                view.rows.append([
                    _view(child, row.get(child.id), f"{spec.id}.{n}.{child.id}",
                          input_name(child, n), evaluation, errors, lang)
                    for child in spec.fields])
            view.template_row = [
                _view(child, None, f"{spec.id}.{ROW_PLACEHOLDER}.{child.id}",
                      input_name(child, ROW_PLACEHOLDER), evaluation, {}, lang)
                for child in spec.fields]
            for child_view in view.template_row:
                child_view.visible = True
                child_view.required = child_view.spec.required is True
    return views


def _view(spec: FieldSpec, value: Any, key: str, name: str, evaluation: Evaluation,
          errors: Mapping[str, list[str]], lang: str | None) -> FieldView:
    if "expr" in spec.expressions:
        value = evaluation.computed.get(spec.id)
    shown = key in evaluation.visible or (spec.parent_id is None and spec.id in
                                          evaluation.visible)
    try:
        form_value = spec.type.form_value(spec.type.normalize(value, spec), spec)
    except FieldValueError:
        form_value = value if value is not None else ""
    text = ""
    if not spec.type.has_value or not spec.editable:
        try:
            text = spec.type.display(spec.type.normalize(value, spec), spec, lang)
        except FieldValueError:
            text = str(value)
    scope = evaluation.scope
    available = scope.available_associations() \
        if spec.type.holds_memberships and scope is not None else []
    offered = frozenset(a.id for a in available)
    fees = {a.id: None if a.fee_from is not None else scope.membership_fee(a)
            for a in available if scope is not None}
    parts = frozenset(p for p in spec.type.parts(spec) if f"{key}.{p}" in evaluation.visible) \
        if spec.type.conditional_parts else frozenset()
    return FieldView(spec, name, form_value, list(errors.get(key, ())),
                     key in evaluation.required, key in evaluation.readonly or not spec.editable,
                     shown, text=text, offered=offered, fees=fees, shown_parts=parts)
