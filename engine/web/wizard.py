"""The family wizard (blueprint ``wizard``): one page per campaign page, review, submission.

Everything is generated from the dossier's campaign version. Pages work without JavaScript:
every button is a submit button with an ``action`` value, and the server re-evaluates the
whole dossier on every post (``form.js`` only previews the same rules live). Every route
loads the dossier through :func:`engine.web.family.load_dossier_for_current_user` (404 for a
dossier of another family).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from jinja2.utils import htmlsafe_json_dumps
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from engine.campaign.model import Campaign, FieldSpec, Page
from engine.db import utcnow
from engine.dossiers.campaigns import Redaction, context_of, effective_answers, redaction_for
from engine.dossiers.documents import DocumentStatus, document_errors, document_statuses
from engine.dossiers.models import Dossier, DossierEvent, SatisfactionRating
from engine.dossiers.recompute import frozen_money
from engine.dossiers.services import (
    NotEditableError,
    StaleDossierError,
    save_answers,
)
from engine.dossiers.states import EDITABLE, LABELS, Actor, DossierState
from engine.dossiers.submission import confirmation_recipients, submit_dossier
from engine.exports.recap import FontMissingError, recap_pdf
from engine.fields import FieldValueError
from engine.fields.common import format_date, format_decimal, format_money, format_yes_no
from engine.fields.country import country_names
from engine.fields.repeat import ROW_KEY
from engine.mail import MailError, send_mail
from engine.rules import DossierContext, DossierScope, Evaluation, evaluate_dossier
from engine.rules.client import client_model
from engine.text import LocalText
from engine.web.campaigns import campaign_of
from engine.web.database import get_session
from engine.web.family import load_dossier_for_current_user
from engine.web.formdata import FieldView, field_views, parse_page
from engine.web.state import app_state

log = logging.getLogger(__name__)

bp = Blueprint("wizard", __name__)

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
#: characters that would turn an inserted answer into Markdown markup
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")
MAX_MESSAGE = 1000
MAX_COMMENT = 2000
CONFLICT_MESSAGE: Final = (
    "Un autre responsable légal a enregistré ce dossier pendant que vous le remplissiez. "
    "Vos réponses ci-dessous n'ont pas encore été enregistrées : comparez-les avec les siennes, "
    "corrigez si besoin, puis enregistrez de nouveau.")


# -- loading and evaluating ---------------------------------------------------------------

@dataclass(slots=True)
class Loaded:
    """One dossier as the logged-in guardian sees it."""

    dossier: Dossier
    campaign: Campaign
    ctx: DossierContext
    redaction: Redaction
    #: stored answers with the prefill filled in (unredacted: the server's truth)
    answers: dict[str, Any]
    _evaluation: Evaluation | None = None

    @property
    def editable(self) -> bool:
        return self.dossier.state in EDITABLE

    @property
    def evaluation(self) -> Evaluation:
        """The evaluation of :attr:`answers`, computed on first use."""
        if self._evaluation is None:
            self._evaluation = evaluate_dossier(self.campaign, self.answers, self.ctx)
        return self._evaluation

    def evaluate(self, answers: Mapping[str, Any]) -> Evaluation:
        """Evaluate other answers (a post, on_hide writes), which become :attr:`answers`."""
        self.answers = dict(answers)
        self._evaluation = None
        return self.evaluation

    def page(self, page_id: str) -> Page:
        page = next((p for p in self.campaign.pages if p.id == page_id), None)
        if page is None:
            abort(404)
        return page

    def visible_pages(self) -> list[Page]:
        return [p for p in self.campaign.pages if p.id in self.evaluation.visible_pages]

    def neighbour(self, page: Page, step: int) -> Page | None:
        """The visible page ``step`` places away from ``page`` in campaign order."""
        pages = self.campaign.pages
        index = pages.index(page) + step
        while 0 <= index < len(pages):
            if pages[index].id in self.evaluation.visible_pages:
                return pages[index]
            index += step
        return None


def _load(public_id: str) -> Loaded:
    dossier = load_dossier_for_current_user(public_id)
    campaign = campaign_of(dossier.campaign_version)
    ctx = context_of(dossier)
    return Loaded(dossier, campaign, ctx, redaction_for(dossier, current_user.id),
                  effective_answers(campaign, dossier.answers, ctx))


def _actor() -> Actor:
    return Actor.family(current_user.id)


def _row_version() -> int:
    try:
        return int(request.form.get("row_version", ""))
    except ValueError:
        abort(400)


# -- answers after a post -----------------------------------------------------------------

def _keep_protected(loaded: Loaded, parsed: dict[str, Any]) -> None:
    """Put back the confidential rows and values the viewer was never shown, so a save by
    the other guardian can neither read nor erase them."""
    if not loaded.redaction:
        return
    for repeat_id, rows in list(parsed.items()):
        spec = loaded.campaign.fields.get(repeat_id)
        if spec is None or not spec.type.is_container or not isinstance(rows, list):
            continue
        before = {str(r.get(ROW_KEY)): r for r in loaded.answers.get(repeat_id) or []
                  if isinstance(r, Mapping)}
        posted = {str(r.get(ROW_KEY)) for r in rows}
        for row in rows:
            old = before.get(str(row.get(ROW_KEY)))
            if old is None:
                continue
            for child in spec.fields:
                if loaded.redaction.masked(loaded.campaign, child, str(row.get(ROW_KEY))):
                    row[child.id] = old.get(child.id)
        rows.extend(r for k, r in before.items()
                    if k in loaded.redaction.row_keys and k not in posted)


def _keep_files(loaded: Loaded, page: Page, parsed: dict[str, Any]) -> None:
    """A ``file`` field's answer is the list of its stored files, whatever was posted."""
    for spec in page.fields:
        if spec.type.name == "file" and spec.id in parsed:
            parsed[spec.id] = [f.public_id for f in loaded.dossier.files
                               if f.document_id == spec.id]


def _apply_action(loaded: Loaded, action: str, answers: dict[str, Any]) -> bool:
    """Add or remove a repeat row (within min..max); True when the action was one of those."""
    kind, _, rest = action.partition(":")
    if kind not in {"add", "remove"}:
        return False
    repeat_id, _, index = rest.partition(":")
    spec = loaded.campaign.fields.get(repeat_id)
    if spec is None or not spec.type.is_container or not spec.editable:
        abort(400)
    rows = list(answers.get(repeat_id) or [])
    if kind == "add":
        if len(rows) < spec.options.max:
            rows.append(_new_row())
    else:
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses
        position = int(index) if index.isascii() and index.isdigit() else len(rows)
        if position >= len(rows):
            abort(400)
        if len(rows) > spec.options.min and str(rows[position].get(ROW_KEY)) not in \
                loaded.redaction.row_keys:
            del rows[position]
    answers[repeat_id] = rows
    return True


def _on_hide(campaign: Campaign, answers: Mapping[str, Any], evaluation: Evaluation,
             ) -> dict[str, Any]:
    """The writes the ``on_hide: clear`` policy asks for: hidden answers dropped (as None),
    and hidden children of repeat rows emptied. Locked fields always show the school's value
    and are never written."""
    out: dict[str, Any] = {}
    for spec in campaign.top_fields():
        if not spec.type.has_value or not spec.editable or spec.id not in answers:
            continue
        value = answers[spec.id]
        if spec.id not in evaluation.visible:
            if spec.on_hide == "clear" and value is not None:
                out[spec.id] = None
            continue
        if spec.type.is_container and isinstance(value, list):
            rows, changed = [], False
            for n, row in enumerate(value):
                row = dict(row) if isinstance(row, Mapping) else row
                for child in spec.fields:
                    key = f"{spec.id}.{n}.{child.id}"
                    if isinstance(row, dict) and child.type.has_value and \
                            key not in evaluation.visible and child.on_hide == "clear" and \
                            row.get(child.id) is not None:
                        row[child.id] = None
                        changed = True
                rows.append(row)
            if changed:
                out[spec.id] = rows
    return out


# -- rendering ----------------------------------------------------------------------------

def _escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return format_yes_no(value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, date | datetime):
        return format_date(value)
    if isinstance(value, list):
        return ", ".join(_display(v) for v in value)
    return str(value)


def field_text(spec: FieldSpec, value: Any) -> str:
    """What the family reads for a stored value (choice labels, formatted dates…)."""
    try:
        return spec.type.display(spec.type.normalize(value, spec), spec)
    except FieldValueError:
        return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class TextRenderer:
    """Campaign texts with ``{{ name }}`` placeholders replaced by the display value of an
    answer, a computed value or an imported record, as the viewer may see them."""

    loaded: Loaded
    answers: Mapping[str, Any]

    def value_of(self, name: str) -> str:
        loaded, evaluation = self.loaded, self.loaded.evaluation
        spec = loaded.campaign.fields.get(name)
        if spec is None or spec.parent_id is not None:
            scope = DossierScope(loaded.campaign, self.answers,
                                 loaded.redaction.context(loaded.ctx))
            return _display(scope.value(tuple(name.split("."))))
        if spec.id not in evaluation.visible:
            return ""
        if "expr" in spec.expressions:
            return field_text(spec, evaluation.computed.get(spec.id))
        return field_text(spec, self.answers.get(spec.id))

    def text(self, text: LocalText) -> str:
        """Plain text (statements, labels): escaped by Jinja like any other string."""
        return text.render(None, self.value_of)

    def markdown(self, text: LocalText) -> Markup:
        """Markdown (intros, info fields); inserted values are data, never markup."""
        return _render_markdown(text.render(None, lambda n: _escape_markdown(self.value_of(n))))


@lru_cache(maxsize=1024)
def _render_markdown(source: str) -> Markup:
    """HTML of a Markdown text; a pure function of the text, cached since the campaign's
    intros and notices are the same on every view of a page."""
    return Markup(_markdown.render(source))  # noqa: S704  # raw HTML is off: output is escaped


def _page_urls(loaded: Loaded) -> dict[str, str]:
    """The wizard URL of every page of the campaign: one ``url_for``, then the page id (an
    identifier, ``[a-z][a-z0-9_]*``: nothing to quote) in place of the last segment."""
    base = url_for("wizard.page", public_id=loaded.dossier.public_id, page_id="x")[:-1]
    return {p.id: base + p.id for p in loaded.campaign.pages}


def _new_row() -> dict[str, Any]:
    return {ROW_KEY: f"new-{secrets.token_hex(6)}"}


def _padded(page: Page, answers: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` with each repeat of ``page`` holding at least its minimum number of rows,
    so the family sees empty rows ready to fill."""
    out = dict(answers)
    for spec in page.fields:
        rows = out.get(spec.id)
        if spec.type.is_container and spec.editable and (rows is None or isinstance(rows, list)):
            rows = list(rows or [])
            out[spec.id] = rows + [_new_row() for _ in range(spec.options.min - len(rows))]
    return out


def _views(loaded: Loaded, page: Page, answers: Mapping[str, Any],
           errors: Mapping[str, list[str]]) -> list[FieldView]:
    views = field_views(loaded.campaign, page, loaded.redaction.answers(loaded.campaign, answers),
                        loaded.evaluation, errors)
    if loaded.redaction:
        for view in views:
            for key, row in zip(view.row_keys, view.rows, strict=True):
                for child in row:
                    if loaded.redaction.masked(loaded.campaign, child.spec, key):
                        child.masked, child.value, child.text = True, "", ""
    return views


def _summary_errors(views: list[FieldView]) -> list[tuple[str, str, str]]:
    """(anchor id, label, message) of every error on the page, in page order."""
    out: list[tuple[str, str, str]] = []
    for view in views:
        label = view.spec.label.get()
        out.extend((view.anchor, label, e) for e in view.errors)
        item = view.spec.options.item_label.get() if view.spec.type.is_container else ""
        for n, row in enumerate(view.rows, start=1):
            for child in row:
                out.extend((child.anchor, f"{item or label} {n} – {child.spec.label.get()}", e)
                           for e in child.errors)
    return out


def _json(value: Any) -> Markup:
    """JSON safe inside a <script> element (``<``, ``>``, ``&`` and ``'`` escaped)."""
    return htmlsafe_json_dumps(value, dumps=current_app.json.dumps)


def _client_json(loaded: Loaded, page: Page, answers: Mapping[str, Any]) -> Markup:
    """The content of ``#dossier-model``: {model, page, answers, context}, the answers and the
    prefill as the viewer may see them."""
    # the browser model, the same for every dossier: serialised once per compiled campaign
    model = loaded.campaign.derived("client_model_json",
                                    lambda: _json(client_model(loaded.campaign)))
    ctx = loaded.redaction.context(loaded.ctx)
    rest = _json({"page": page.id,
                  "answers": loaded.redaction.answers(loaded.campaign, answers),
                  "context": {"prefill": dict(ctx.prefill), "family": dict(ctx.family),
                              "today": ctx.today.isoformat()}})
    return Markup('{"model": ') + model + Markup(", ") + rest[1:]


def _statuses(loaded: Loaded) -> list[DocumentStatus]:
    return document_statuses(loaded.campaign, loaded.evaluation, loaded.dossier)


def _disputes(dossier: Dossier, page: Page) -> list[DossierEvent]:
    """What the family reported about this page's locked values (never the whole history)."""
    events = get_session().scalars(
        select(DossierEvent).where(DossierEvent.dossier_id == dossier.id,
                                   DossierEvent.kind == "prefill_disputed")
        .order_by(DossierEvent.id))
    return [e for e in events if e.data.get("page") == page.id]


def _render_page(loaded: Loaded, page: Page, answers: Mapping[str, Any], *,
                 errors: Mapping[str, list[str]] | None = None, status: int = 200,
                 conflict: Mapping[str, Any] | None = None,
                 row_version: int | None = None) -> BaseResponse:
    errors = errors or {}
    views = _views(loaded, page, answers, errors)
    visible = loaded.visible_pages()
    locked = [spec for spec in page.fields if not spec.editable and spec.type.has_value
              and spec.id in loaded.evaluation.visible]
    body = render_template(
        "wizard/page.html", loaded=loaded, dossier=loaded.dossier, campaign=loaded.campaign,
        page=page, views=views, evaluation=loaded.evaluation, pages=loaded.campaign.pages,
        page_urls=_page_urls(loaded),
        visible_pages=visible, step=visible.index(page) + 1 if page in visible else 1,
        previous_page=loaded.neighbour(page, -1), next_page=loaded.neighbour(page, 1),
        conflict_message=CONFLICT_MESSAGE, summary=_summary_errors(views),
        texts=TextRenderer(loaded, loaded.redaction.answers(loaded.campaign, answers)),
        client_json=_client_json(loaded, page, answers),
        statuses=_statuses(loaded) if page.documents else [], editable=loaded.editable,
        conflict=_conflict_rows(loaded, page, conflict) if conflict is not None else None,
        row_version=loaded.dossier.row_version if row_version is None else row_version,
        locked=locked, disputes=_disputes(loaded.dossier, page) if locked else [],
        lang=None)
    return make_response(body, status)


def _conflict_rows(loaded: Loaded, page: Page, theirs: Mapping[str, Any],
                   ) -> list[tuple[str, str]]:
    """(label, their value) for the fields of ``page``, as the other guardian saved them."""
    full = effective_answers(loaded.campaign, theirs, loaded.ctx)
    visible = evaluate_dossier(loaded.campaign, full, loaded.ctx).visible
    answers = loaded.redaction.answers(loaded.campaign, full)
    rows = []
    for spec in page.fields:
        if spec.type.has_value and spec.editable and spec.id in visible:
            rows.append((spec.label.get(), field_text(spec, answers.get(spec.id)) or "—"))
    return rows


# -- routes -------------------------------------------------------------------------------

def first_page_url(loaded: Loaded) -> str:
    """Where a guardian resumes: the last page saved if still shown, else the first page."""
    current = loaded.dossier.current_page
    pages = loaded.visible_pages()
    target = next((p for p in pages if p.id == current), pages[0] if pages else None)
    if target is None:
        return url_for("wizard.review", public_id=loaded.dossier.public_id)
    return url_for("wizard.page", public_id=loaded.dossier.public_id, page_id=target.id)


def resume(public_id: str) -> BaseResponse:
    """``family.dossier``: editable dossiers resume in the wizard, others show the summary."""
    loaded = _load(public_id)
    if not loaded.editable:
        return redirect(url_for("wizard.review", public_id=public_id))
    if loaded.dossier.state is DossierState.NOT_STARTED:
        return make_response(render_template(
            "family/dossier.html", dossier=loaded.dossier, campaign=loaded.campaign,
            start_url=first_page_url(loaded), lang=None))
    return redirect(first_page_url(loaded))


@bp.get("/dossier/<public_id>/etape/<page_id>")
@login_required  # type: ignore[untyped-decorator]  # Flask-Login ships no type hints
def page(public_id: str, page_id: str) -> BaseResponse:
    loaded = _load(public_id)
    if not loaded.editable:
        return redirect(url_for("wizard.review", public_id=public_id))
    current = loaded.page(page_id)
    if current.id not in loaded.evaluation.visible_pages:
        return redirect(first_page_url(loaded))
    answers = _padded(current, loaded.answers)
    if answers != loaded.answers:
        loaded.evaluate(answers)
    return _render_page(loaded, current, answers)


@bp.post("/dossier/<public_id>/etape/<page_id>")
@login_required  # type: ignore[untyped-decorator]
def save(public_id: str, page_id: str) -> BaseResponse:
    loaded = _load(public_id)
    current = loaded.page(page_id)
    if not loaded.editable:
        flash("Ce dossier a déjà été envoyé : il ne peut plus être modifié.", "info")
        return redirect(url_for("wizard.review", public_id=public_id))
    expected = _row_version()
    parsed, errors = parse_page(current, request.form, loaded.answers)
    _keep_protected(loaded, parsed)
    _keep_files(loaded, current, parsed)
    action = str(request.form.get("action") or "next")[:120]
    row_action = _apply_action(loaded, action, parsed)
    merged = {**loaded.answers, **parsed}
    evaluation = loaded.evaluate(merged)
    cleared = _on_hide(loaded.campaign, merged, evaluation)
    writes = {**parsed, **cleared}
    if cleared:
        merged.update(cleared)
        evaluation = loaded.evaluate(merged)
    try:
        save_answers(get_session(), loaded.dossier, expected, writes, current.id, _actor())
    except StaleDossierError as exc:
        return _render_page(loaded, current, merged, status=409, conflict=exc.current_answers,
                            row_version=exc.current_version)
    except NotEditableError:
        return redirect(url_for("wizard.review", public_id=public_id))
    page_errors = {**evaluation.page_errors(loaded.campaign, current.id), **errors}
    if row_action:
        repeat_id = action.split(":")[1]
        return redirect(url_for("wizard.page", public_id=public_id, page_id=current.id,
                                _anchor=f"f-{repeat_id}"))
    if action == "previous":
        target = loaded.neighbour(current, -1)
        if target is not None:
            return redirect(url_for("wizard.page", public_id=public_id, page_id=target.id))
    if action in {"next", "previous"} and page_errors:
        return _render_page(loaded, current, merged, errors=page_errors, status=422)
    if action == "next":
        target = loaded.neighbour(current, 1)
        if target is None:
            return redirect(url_for("wizard.review", public_id=public_id))
        return redirect(url_for("wizard.page", public_id=public_id, page_id=target.id))
    flash("Vos réponses sont enregistrées. Vous pourrez reprendre plus tard.", "success")
    return redirect(url_for("wizard.page", public_id=public_id, page_id=current.id))


@bp.post("/dossier/<public_id>/etape/<page_id>/signaler")
@login_required  # type: ignore[untyped-decorator]
def dispute(public_id: str, page_id: str) -> BaseResponse:
    """The family tells the school a locked, prefilled value is wrong."""
    loaded = _load(public_id)
    current = loaded.page(page_id)
    field_id = str(request.form.get("field") or "")
    message = str(request.form.get("message") or "").strip()
    spec = next((s for s in current.fields if s.id == field_id and not s.editable), None)
    if spec is None:
        abort(400)
    target = url_for("wizard.page", public_id=public_id, page_id=current.id, _anchor="signaler")
    if not message or len(message) > MAX_MESSAGE:
        flash(f"Décrivez l'erreur en quelques mots ({MAX_MESSAGE} caractères au plus).",
              "error")
        return redirect(target)
    session, actor = get_session(), _actor()
    # an event only: the dossier row (and its version) stays as the other guardian may hold it
    session.add(DossierEvent(dossier_id=loaded.dossier.id, at=utcnow(),
                             actor_kind=actor.kind.value, actor_id=actor.id,
                             kind="prefill_disputed",
                             data={"page": current.id, "field": spec.id, "message": message}))
    session.commit()
    flash("Votre signalement a été transmis au secrétariat du collège. Merci.", "success")
    return redirect(target)


def _review_sections(loaded: Loaded) -> list[dict[str, Any]]:
    """Each visible page with its visible fields as (label, text) and repeat rows."""
    answers = loaded.redaction.answers(loaded.campaign, loaded.answers)
    evaluation = loaded.evaluation
    sections = []
    for current in loaded.visible_pages():
        items: list[dict[str, Any]] = []
        for spec in current.fields:
            if spec.id not in evaluation.visible or spec.type.name == "info":
                continue
            if "expr" in spec.expressions:
                items.append({"label": spec.label.get(),
                              "text": field_text(spec, evaluation.computed.get(spec.id))})
            elif spec.type.is_container:
                items.append({"label": spec.label.get(),
                              "rows": list(_review_rows(loaded, spec, answers))})
            elif spec.type.has_value:
                items.append({"label": spec.label.get(),
                              "text": field_text(spec, answers.get(spec.id))})
        errors = evaluation.page_errors(loaded.campaign, current.id)
        sections.append({"page": current, "entries": items, "errors": errors})
    return sections


def _review_rows(loaded: Loaded, spec: FieldSpec, answers: Mapping[str, Any],
                 ) -> Iterator[list[tuple[str, str]]]:
    for n, row in enumerate(answers.get(spec.id) or []):
        if not isinstance(row, Mapping):
            continue
        cells = []
        for child in spec.fields:
            if not child.type.has_value or f"{spec.id}.{n}.{child.id}" not in \
                    loaded.evaluation.visible:
                continue
            if loaded.redaction.masked(loaded.campaign, child, str(row.get(ROW_KEY))):
                cells.append((child.label.get(), "Coordonnées confidentielles"))
            else:
                cells.append((child.label.get(), field_text(child, row.get(child.id)) or "—"))
        yield cells


def _render_review(loaded: Loaded, *, problems: list[str] | None = None,
                   status: int = 200) -> BaseResponse:
    statuses = _statuses(loaded)
    body = render_template(
        "wizard/review.html", loaded=loaded, dossier=loaded.dossier, campaign=loaded.campaign,
        sections=_review_sections(loaded), evaluation=loaded.evaluation, statuses=statuses,
        document_problems=document_errors(statuses), editable=loaded.editable,
        problems=problems or [], labels=LABELS, totals=frozen_money(
            loaded.dossier, loaded.campaign, today=loaded.ctx.today),
        pages=loaded.campaign.pages, page=None, page_urls=_page_urls(loaded), lang=None)
    return make_response(body, status)


@bp.get("/dossier/<public_id>/recapitulatif")
@login_required  # type: ignore[untyped-decorator]
def review(public_id: str) -> BaseResponse:
    return _render_review(_load(public_id))


def _submission_problems(loaded: Loaded) -> list[str]:
    problems = []
    for current in loaded.visible_pages():
        count = len(loaded.evaluation.page_errors(loaded.campaign, current.id))
        if count:
            problems.append(f"La page « {current.title.get()} » comporte {count} "
                            f"réponse{'s' if count > 1 else ''} à compléter ou corriger.")
    statuses = _statuses(loaded)
    labels = {s.spec.id: s.spec.label.get() for s in statuses}
    for document_id, messages in document_errors(statuses).items():
        problems.extend(f"{labels[document_id]} : {m}" for m in messages)
    return problems


@bp.post("/dossier/<public_id>/envoyer")
@login_required  # type: ignore[untyped-decorator]
def submit(public_id: str) -> BaseResponse:
    loaded = _load(public_id)
    if not loaded.editable:
        return redirect(url_for("wizard.review", public_id=public_id))
    expected = _row_version()
    problems = _submission_problems(loaded)
    if problems:
        return _render_review(loaded, problems=problems, status=422)
    editable = {spec.id: loaded.answers[spec.id] for spec in loaded.campaign.top_fields()
                if spec.editable and spec.type.has_value and spec.id in loaded.answers}
    try:
        submit_dossier(get_session(), loaded.dossier, expected, editable, loaded.evaluation,
                       _actor())
    except StaleDossierError:
        flash("Un autre responsable légal a modifié le dossier entre-temps. Vérifiez le "
              "récapitulatif ci-dessous, puis envoyez de nouveau.", "warning")
        return redirect(url_for("wizard.review", public_id=public_id))
    except NotEditableError:
        return redirect(url_for("wizard.review", public_id=public_id))
    if not _send_confirmations(loaded):
        flash("Votre dossier est bien envoyé, mais le courriel de confirmation n'a pas pu "
              "partir. Vous pouvez télécharger le récapitulatif ci-dessous.", "warning")
    return redirect(url_for("wizard.confirmation", public_id=public_id))


def _send_confirmations(loaded: Loaded) -> bool:
    """One message per guardian with the récapitulatif they may see; False if any failed."""
    settings = app_state().settings
    dossier = loaded.dossier
    # the text and subject are the same for every guardian; only the PDF is redacted per reader
    text = render_template("mail/submitted.txt", dossier=dossier, campaign=loaded.campaign,
                           totals=dossier.computed,
                           url=settings.base_url.rstrip("/") + url_for(
                               "wizard.review", public_id=dossier.public_id))
    subject = f"Dossier de {dossier.pupil.first_name} envoyé – {loaded.campaign.title.get()}"
    ok = True
    for recipient in confirmation_recipients(dossier):
        try:
            pdf = _pdf(loaded, redaction_for(dossier, recipient.account_id))
            send_mail(settings, recipient.email, subject, text,
                      attachments=[(_pdf_name(dossier), pdf, "application/pdf")])
        except (MailError, FontMissingError) as exc:
            ok = False
            log.warning("confirmation mail not sent for dossier id=%s: %s", dossier.id, exc)
    return ok


def _redacted_evaluation(loaded: Loaded, redaction: Redaction) -> Evaluation:
    values = redaction.answers(loaded.campaign, loaded.evaluation.values)
    return replace(loaded.evaluation, values=values)


def _pdf(loaded: Loaded, redaction: Redaction) -> bytes:
    """The récapitulatif as the guardian with ``redaction`` may read it."""
    return recap_pdf(loaded.campaign, loaded.dossier, _redacted_evaluation(loaded, redaction),
                     redactor=redaction)


def _pdf_name(dossier: Dossier) -> str:
    return f"recapitulatif-{dossier.pupil.last_name}-{dossier.pupil.first_name}.pdf".lower() \
        .replace(" ", "-")


@bp.get("/dossier/<public_id>/recapitulatif.pdf")
@login_required  # type: ignore[untyped-decorator]
def recap(public_id: str) -> BaseResponse:
    loaded = _load(public_id)
    response = make_response(_pdf(loaded, loaded.redaction))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = "attachment; filename=recapitulatif.pdf"
    return response


def _rating(dossier: Dossier) -> SatisfactionRating | None:
    return get_session().scalar(select(SatisfactionRating)
                                .where(SatisfactionRating.dossier_id == dossier.id))


@bp.get("/dossier/<public_id>/confirmation")
@login_required  # type: ignore[untyped-decorator]
def confirmation(public_id: str) -> BaseResponse:
    loaded = _load(public_id)
    if loaded.editable:
        return redirect(first_page_url(loaded))
    return make_response(render_template(
        "wizard/confirmation.html", dossier=loaded.dossier, campaign=loaded.campaign,
        rating=_rating(loaded.dossier), errors={}))


@bp.post("/dossier/<public_id>/avis")
@login_required  # type: ignore[untyped-decorator]
def rate(public_id: str) -> BaseResponse:
    """The satisfaction question: 1 to 5 and an optional comment, once per dossier."""
    loaded = _load(public_id)
    if loaded.editable:
        abort(409)
    if _rating(loaded.dossier) is not None:
        flash("Vous avez déjà donné votre avis sur ce dossier. Merci !", "info")
        return redirect(url_for("wizard.confirmation", public_id=public_id))
    score = str(request.form.get("score") or "")
    comment = str(request.form.get("comment") or "").strip()
    errors = {}
    if score not in {"1", "2", "3", "4", "5"}:
        errors["score"] = "Choisissez une note de 1 à 5."
    if len(comment) > MAX_COMMENT:
        errors["comment"] = f"Votre commentaire dépasse {MAX_COMMENT} caractères."
    if errors:
        return make_response(render_template(
            "wizard/confirmation.html", dossier=loaded.dossier, campaign=loaded.campaign,
            rating=None, errors=errors, comment=comment), 422)
    session = get_session()
    session.add(SatisfactionRating(dossier_id=loaded.dossier.id, score=int(score),
                                   comment=comment or None))
    session.commit()
    flash("Merci pour votre avis !", "success")
    return redirect(url_for("wizard.confirmation", public_id=public_id))


# -- template helpers ---------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """Template globals the field partials use."""

    @app.template_global()
    def markdown(text: str | LocalText | None) -> Markup:
        return _render_markdown(text.get() if isinstance(text, LocalText) else text or "")

    @app.template_global()
    def money(value: Decimal | str) -> str:
        return format_money(Decimal(str(value)))

    @app.template_global()
    def countries(lang: str | None = None) -> dict[str, str]:
        return country_names(lang or "fr")

    @app.template_filter("frdate")
    def frdate(value: date | datetime | None) -> str:
        return format_date(value) if value else ""

    app.jinja_env.globals["state_labels"] = LABELS
