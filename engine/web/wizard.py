"""The family wizard (blueprint ``wizard``): one page per campaign page, review, submission.

Everything is generated from the dossier's campaign version. Pages work without JavaScript:
every button is a submit button with an ``action`` value, and the server re-evaluates the
whole dossier on every post (``form.js`` only previews the same rules live). Every route
loads the dossier through :func:`engine.web.access.family_dossier` (404 for a dossier of
another family), parses the request, calls ``engine.dossiers`` (answers, feedback,
confirmations, summary) and renders or redirects: no policy is decided here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final, cast

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
from flask.blueprints import BlueprintSetupState
from flask.typing import RouteCallable
from flask_login import current_user, login_required
from jinja2.utils import htmlsafe_json_dumps
from markdown_it import MarkdownIt
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from engine.campaign.model import Campaign, Page
from engine.dossiers.answers import (
    CampaignNotOpen,
    DossierView,
    MalformedPost,
    RowAction,
    SubmissionRefused,
    new_row,
    open_dossier,
    revealed_keys,
    save_page,
    shown_keys,
    submit_answers,
)
from engine.dossiers.campaigns import Redaction, effective_answers
from engine.dossiers.confirmations import recap_filename
from engine.dossiers.corrected import corrected_cells
from engine.dossiers.corrections import correction_request, target_pages
from engine.dossiers.documents import DocumentStatus, document_errors, document_statuses
from engine.dossiers.feedback import (
    AlreadyRated,
    InvalidFeedback,
    NotDisputable,
    RatingClosed,
    dispute_prefill,
    disputes_of,
    rate_dossier,
    rating_of,
)
from engine.dossiers.guardian_answers import named_for
from engine.dossiers.recompute import frozen_money
from engine.dossiers.services import AnswersTooLarge, NotEditableError, StaleDossierError
from engine.dossiers.states import EDITABLE, LABELS, Actor, ActorKind, DossierState
from engine.dossiers.states import Window as CampaignWindow
from engine.dossiers.submission import AwaitingGuardians
from engine.dossiers.summary import date_text, field_text, money_text, visible_answers
from engine.exports.recap import recap_pdf
from engine.fields.common import format_date, format_decimal, format_yes_no
from engine.fields.country import country_names
from engine.jobs import JobState
from engine.jobs.tasks import CONFIRMATION
from engine.rules import DossierScope, evaluate_dossier
from engine.rules.client import client_model
from engine.text import LocalText
from engine.web.access import family_dossier, throttle_key
from engine.web.campaigns import campaign_of
from engine.web.database import get_session
from engine.web.formdata import FieldView, field_views, parse_page
from engine.web.state import app_state, today

bp = Blueprint("wizard", __name__)

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
#: characters that would turn an inserted answer into Markdown markup
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")
CONFLICT_MESSAGE: Final = (
    "Un autre responsable légal a enregistré ce dossier pendant que vous le remplissiez. "
    "Vos réponses ci-dessous n'ont pas encore été enregistrées : comparez-les avec les siennes, "
    "corrigez si besoin, puis enregistrez de nouveau.")
#: the conflict message when the same guardian saved from another tab or device
SELF_CONFLICT_MESSAGE: Final = (
    "Vous avez enregistré ce dossier dans un autre onglet ou sur un autre appareil pendant que "
    "vous remplissiez cette page. Vos réponses ci-dessous n'ont pas encore été enregistrées : "
    "comparez-les avec celles enregistrées, corrigez si besoin, puis enregistrez de nouveau.")
STAFF_CONFLICT_MESSAGE: Final = (
    "Le secrétariat du collège a modifié ce dossier pendant que vous le remplissiez. Vos "
    "réponses ci-dessous n'ont pas encore été enregistrées : comparez-les avec celles "
    "enregistrées, corrigez si besoin, puis enregistrez de nouveau.")
#: per account: a guardian downloads the PDF a few times, never dozens a minute
PDF_RATE_LIMIT: Final = "10 per minute"
TOO_LARGE_MESSAGE: Final = (
    "Les réponses de ce dossier dépassent la taille qu'un dossier peut contenir : "
    "raccourcissez les textes les plus longs, puis enregistrez de nouveau.")
REVEALED_MESSAGE: Final = (
    "Votre réponse fait apparaître de nouvelles questions sur cette page : complétez-les, "
    "puis continuez.")


# -- loading and evaluating ---------------------------------------------------------------

def _load(public_id: str) -> DossierView:
    dossier = family_dossier(public_id)
    return open_dossier(dossier, campaign_of(dossier.campaign_version), current_user.id,
                        today=today(), session=get_session())


def _out_of_window(loaded: DossierView) -> bool:
    """The family could change the dossier if the campaign were open today."""
    return loaded.window is not CampaignWindow.OPEN and loaded.dossier.state in EDITABLE


def _window_redirect(loaded: DossierView) -> BaseResponse:
    """To the dossier's home, which says when the campaign opens or that it is closed."""
    return redirect(url_for("family.dossier", public_id=loaded.dossier.public_id))


def _render_window(loaded: DossierView) -> BaseResponse:
    return make_response(render_template(
        "wizard/window.html", dossier=loaded.dossier, campaign=loaded.campaign,
        window=loaded.window.value, lang=None))


def _page(loaded: DossierView, page_id: str) -> Page:
    page = loaded.find_page(page_id)
    if page is None:
        abort(404)
    return page


def _actor() -> Actor:
    return Actor.family(current_user.id)


def _row_version() -> int:
    try:
        return int(request.form.get("row_version", ""))
    except ValueError:
        abort(400)


def _saved_by_me(saved_by: Actor | None) -> bool | None:
    """Whether the last write was the current guardian's (None: a staff or system write)."""
    if saved_by is None or saved_by.kind is not ActorKind.FAMILY:
        return None
    return saved_by.id == str(current_user.id)


def _conflict_message(saved_by: Actor | None) -> str:
    mine = _saved_by_me(saved_by)
    if mine is None:
        return STAFF_CONFLICT_MESSAGE if saved_by is not None and \
            saved_by.kind is ActorKind.STAFF else CONFLICT_MESSAGE
    return SELF_CONFLICT_MESSAGE if mine else CONFLICT_MESSAGE


def _merged_message(saved_by: Actor | None) -> str:
    who = ("vous-même, dans un autre onglet ou sur un autre appareil"
           if _saved_by_me(saved_by) else "un autre responsable légal")
    return (f"Ce dossier venait d'être enregistré par {who}. Vos réponses ont été ajoutées "
            "à ce qui était enregistré, sans rien effacer : vérifiez la page si besoin.")


def _posted_base() -> dict[str, Any] | None:
    """The page's answers as they were shown (``base``, JSON), for merging a stale save."""
    try:
        base = json.loads(str(request.form.get("base") or ""))
    except ValueError:
        return None
    return base if isinstance(base, dict) else None


def _row_action(action: str) -> RowAction | None:
    """``add:<repeat>`` or ``remove:<repeat>:<n>`` (the buttons of repeats), else None."""
    kind, _, rest = action.partition(":")
    repeat_id, _, index = rest.partition(":")
    if kind == "add":
        return RowAction("add", repeat_id)
    if kind == "remove":
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses
        return RowAction("remove", repeat_id,
                         int(index) if index.isascii() and index.isdigit() else None)
    return None


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


@dataclass(frozen=True, slots=True)
class TextRenderer:
    """Campaign texts with ``{{ name }}`` placeholders replaced by the display value of an
    answer, a computed value or an imported record, as the viewer may see them."""

    loaded: DossierView
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


def _page_urls(loaded: DossierView) -> dict[str, str]:
    """The wizard URL of every page of the campaign: one ``url_for``, then the page id (an
    identifier, ``[a-z][a-z0-9_]*``: nothing to quote) in place of the last segment."""
    base = url_for("wizard.page", public_id=loaded.dossier.public_id, page_id="x")[:-1]
    return {p.id: base + p.id for p in loaded.campaign.pages}


def _fee_anchor(campaign: Campaign, page: Page) -> str | None:
    """The field of ``page`` under which the page shows the fees' total: the last one whose
    answer a tariff reads, or that holds memberships. Once per compiled campaign and page."""
    def last() -> str | None:
        read = {dep for tariff in campaign.tariffs for condition in tariff.conditions
                for dep in condition.deps}
        found = None
        for spec in page.fields:
            if spec.id in read or spec.type.holds_memberships:
                found = spec.id
        return found
    return campaign.derived(("fee_anchor", page.id), last)


def _padded(page: Page, answers: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` with each repeat of ``page`` holding at least its minimum number of rows,
    so the family sees empty rows ready to fill."""
    out = dict(answers)
    for spec in page.fields:
        rows = out.get(spec.id)
        if spec.type.is_container and spec.editable and (rows is None or isinstance(rows, list)):
            rows = list(rows or [])
            out[spec.id] = rows + [new_row() for _ in range(spec.options.min - len(rows))]
    return out


def _views(loaded: DossierView, page: Page, answers: Mapping[str, Any],
           errors: Mapping[str, list[str]]) -> list[FieldView]:
    views = field_views(loaded.campaign, page, loaded.redaction.answers(loaded.campaign, answers),
                        loaded.evaluation, errors)
    cells = corrected_cells(loaded.dossier.corrections)
    for view in views:
        for key, row in zip(view.row_keys, view.rows, strict=True):
            for child in row:
                if loaded.redaction.masked(loaded.campaign, child.spec, key):
                    child.masked, child.value, child.text = True, "", ""
                else:
                    child.corrected = (view.spec.id, key, child.spec.id) in cells
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


def _client_json(loaded: DossierView, page: Page, answers: Mapping[str, Any]) -> Markup:
    """The content of ``#dossier-model``: {model, page, answers, context}, the answers and the
    prefill as the viewer may see them."""
    # the browser model, the same for every dossier: serialised once per compiled campaign
    model = loaded.campaign.derived("client_model_json",
                                    lambda: _json(client_model(loaded.campaign)))
    ctx = loaded.redaction.context(loaded.ctx)
    rest = _json({"page": page.id,
                  "answers": loaded.redaction.answers(loaded.campaign, answers),
                  "context": {"prefill": dict(ctx.prefill), "family": dict(ctx.family),
                              "today": ctx.today.isoformat(), "guardian": ctx.guardian}})
    return Markup('{"model": ') + model + Markup(", ") + rest[1:]


def _statuses(loaded: DossierView) -> list[DocumentStatus]:
    return document_statuses(loaded.campaign, loaded.evaluation, loaded.dossier,
                             redaction=loaded.redaction)


def _render_page(loaded: DossierView, page: Page, answers: Mapping[str, Any], *,
                 errors: Mapping[str, list[str]] | None = None, status: int = 200,
                 conflict: Mapping[str, Any] | None = None,
                 row_version: int | None = None, revealed: bool = False,
                 base: Mapping[str, Any] | None = None,
                 saved_by: Actor | None = None) -> BaseResponse:
    errors = errors or {}
    shown_base = {spec.id: (answers if base is None else base).get(spec.id) for spec in page.fields
                  if spec.type.has_value and spec.editable}
    views = _views(loaded, page, answers, errors)
    visible = loaded.visible_pages()
    locked = [spec for spec in page.fields if not spec.editable and spec.type.has_value
              and spec.id in loaded.evaluation.visible]
    body = render_template(
        "wizard/page.html", loaded=loaded, dossier=loaded.dossier, campaign=loaded.campaign,
        page=page, views=views, evaluation=loaded.evaluation, pages=loaded.campaign.pages,
        page_urls=_page_urls(loaded), fee_anchor=_fee_anchor(loaded.campaign, page),
        visible_pages=visible, step=visible.index(page) + 1 if page in visible else 1,
        previous_page=loaded.neighbour(page, -1), next_page=loaded.neighbour(page, 1),
        conflict_message=_conflict_message(saved_by), summary=_summary_errors(views),
        base=current_app.json.dumps(loaded.redaction.answers(loaded.campaign, shown_base)),
        shared=_shared_notes(loaded, page),
        texts=TextRenderer(loaded, loaded.redaction.answers(loaded.campaign, answers)),
        client_json=_client_json(loaded, page, answers),
        statuses=_statuses(loaded) if page.documents else [], editable=loaded.editable,
        conflict=_conflict_rows(loaded, page, conflict) if conflict is not None else None,
        row_version=loaded.dossier.row_version if row_version is None else row_version,
        locked=locked, disputes=disputes_of(get_session(), loaded.dossier, page,
                                                     loaded.redaction) if locked else [],
        shown=sorted(shown_keys(loaded, page)), revealed=REVEALED_MESSAGE if revealed else "",
        correction=correction_request(loaded.dossier, loaded.campaign, page, visible), lang=None)
    return make_response(body, status)


def _shared_notes(loaded: DossierView, page: Page) -> list[str]:
    """What this page shows of the guardians' data as entered in a sibling's dossier."""
    if not loaded.shared or not any(spec.prefill == ("guardians",) for spec in page.fields):
        return []
    return [f"{c.field} de {c.guardian} : valeur modifiée le {format_date(c.at.date())} dans le "
            f"dossier de {c.pupil}, reprise ici." for c in loaded.shared]


def _conflict_rows(loaded: DossierView, page: Page, theirs: Mapping[str, Any],
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

def first_page_url(loaded: DossierView) -> str:
    """Where a guardian resumes: the first page the school asked to correct, else the last
    page saved if still shown, else the first page."""
    current = loaded.dossier.current_page
    pages = loaded.visible_pages()
    asked = target_pages(loaded.campaign, loaded.dossier.correction_targets, pages) \
        if loaded.dossier.state is DossierState.TO_CORRECT else []
    target = asked[0] if asked else next((p for p in pages if p.id == current),
                                         pages[0] if pages else None)
    if target is None:
        return url_for("wizard.review", public_id=loaded.dossier.public_id)
    return url_for("wizard.page", public_id=loaded.dossier.public_id, page_id=target.id)


def resume(public_id: str) -> BaseResponse:
    """``family.dossier``: editable dossiers resume in the wizard, others show the summary."""
    loaded = _load(public_id)
    if _out_of_window(loaded):
        return _render_window(loaded)
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
    if _out_of_window(loaded):
        return _window_redirect(loaded)
    if not loaded.editable:
        return redirect(url_for("wizard.review", public_id=public_id))
    current = _page(loaded, page_id)
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
    current = _page(loaded, page_id)
    if _out_of_window(loaded):
        return _window_redirect(loaded)
    if not loaded.editable:
        flash("Ce dossier a déjà été envoyé : il ne peut plus être modifié.", "info")
        return redirect(url_for("wizard.review", public_id=public_id))
    expected = _row_version()
    posted = parse_page(current, request.form, loaded.answers)
    parsed, errors = posted.answers, posted.errors
    if posted.refused:
        return _render_page(loaded, current, {**loaded.answers, **parsed}, errors=errors,
                            status=422, row_version=expected)
    action = str(request.form.get("action") or "next")[:120]
    row_action = _row_action(action)
    try:
        saved = save_page(get_session(), loaded, current, parsed, row_action, expected,
                          _actor(), base=_posted_base())
    except MalformedPost:
        abort(400)
    except AnswersTooLarge:
        flash(TOO_LARGE_MESSAGE, "error")
        return _render_page(loaded, current, {**loaded.answers, **parsed}, errors=errors,
                            status=422, row_version=expected)
    except StaleDossierError as exc:
        return _render_page(loaded, current, loaded.answers, status=409,
                            conflict=exc.current_answers, row_version=exc.current_version,
                            base=effective_answers(loaded.campaign, exc.current_answers,
                                                   loaded.ctx), saved_by=exc.saved_by)
    except NotEditableError:
        return redirect(url_for("wizard.review", public_id=public_id))
    except CampaignNotOpen:
        return _window_redirect(loaded)
    if saved.dropped:
        flash("Cette adhésion n'est pas proposée pour votre enfant et n'a pas été enregistrée : "
              + ", ".join(saved.dropped) + ".", "warning")
    if saved.merged_with is not None:
        flash(_merged_message(saved.merged_with), "info")
    page_errors = {**loaded.page_errors(current.id), **errors}
    # without JavaScript the page lists what it showed (``shown``, in <noscript>)
    seen = set(request.form.getlist("shown"))
    revealed = revealed_keys(loaded, current, seen, parsed) if seen and action == "next" \
        and row_action is None else set()
    if revealed:
        kept = {k: v for k, v in page_errors.items() if k not in revealed}
        return _render_page(loaded, current, loaded.answers, errors=kept, revealed=True,
                            status=422 if kept else 200)
    if row_action is not None:
        return redirect(url_for("wizard.page", public_id=public_id, page_id=current.id,
                                _anchor=f"f-{row_action.repeat_id}"))
    if action == "previous":
        target = loaded.neighbour(current, -1)
        if target is not None:
            return redirect(url_for("wizard.page", public_id=public_id, page_id=target.id))
    if action in {"next", "previous"} and page_errors:
        return _render_page(loaded, current, loaded.answers, errors=page_errors, status=422)
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
    current = _page(loaded, page_id)
    target = url_for("wizard.page", public_id=public_id, page_id=current.id, _anchor="signaler")
    try:
        dispute_prefill(get_session(), loaded.dossier, current,
                        str(request.form.get("field") or ""),
                        str(request.form.get("message") or "").strip(), _actor())
    except NotDisputable:
        abort(400)
    except InvalidFeedback as exc:
        flash(exc.errors["message"], "error")
        return redirect(target)
    flash("Votre signalement a été transmis au secrétariat du collège. Merci.", "success")
    return redirect(target)


def _render_review(loaded: DossierView, *, problems: list[str] | None = None,
                   status: int = 200) -> BaseResponse:
    statuses = _statuses(loaded)
    sections = visible_answers(loaded.campaign, loaded.evaluation,
                               loaded.redaction.answers(loaded.campaign, loaded.answers),
                               loaded.evaluation.computed, redactor=loaded.redaction)
    body = render_template(
        "wizard/review.html", loaded=loaded, dossier=loaded.dossier, campaign=loaded.campaign,
        sections=sections, evaluation=loaded.evaluation, statuses=statuses,
        document_problems=document_errors(statuses), editable=loaded.editable,
        problems=problems or [], labels=LABELS,
        corrected_cells=corrected_cells(loaded.dossier.corrections), totals=frozen_money(
            loaded.dossier, loaded.campaign, today=loaded.ctx.today),
        pages=loaded.campaign.pages, page=None, page_urls=_page_urls(loaded), lang=None)
    return make_response(body, status)


@bp.get("/dossier/<public_id>/recapitulatif")
@login_required  # type: ignore[untyped-decorator]
def review(public_id: str) -> BaseResponse:
    loaded = _load(public_id)
    if loaded.window is CampaignWindow.UPCOMING and loaded.dossier.state in EDITABLE:
        return _window_redirect(loaded)
    return _render_review(loaded)


@bp.post("/dossier/<public_id>/envoyer")
@login_required  # type: ignore[untyped-decorator]
def submit(public_id: str) -> BaseResponse:
    loaded = _load(public_id)
    if _out_of_window(loaded):
        return _window_redirect(loaded)
    if not loaded.editable:
        return redirect(url_for("wizard.review", public_id=public_id))
    expected = _row_version()
    try:
        submit_answers(get_session(), loaded, expected, _actor())
    except SubmissionRefused as exc:
        return _render_review(loaded, problems=exc.problems, status=422)
    except AwaitingGuardians as exc:
        flash(f"Vos réponses sont enregistrées. Le dossier n'est pas encore envoyé : il le "
              f"sera quand {named_for(exc.waiting, current_user.id)} aura répondu à son tour.",
              "info")
        return redirect(url_for("wizard.review", public_id=public_id))
    except StaleDossierError as exc:
        who = ("Vous avez modifié le dossier dans un autre onglet ou sur un autre appareil"
               if _saved_by_me(exc.saved_by) else
               "Un autre responsable légal a modifié le dossier")
        flash(f"{who} entre-temps. Vérifiez le récapitulatif ci-dessous, puis envoyez de "
              "nouveau.", "warning")
        return redirect(url_for("wizard.review", public_id=public_id))
    except NotEditableError:
        return redirect(url_for("wizard.review", public_id=public_id))
    state = app_state()
    dossier = loaded.dossier
    # the mail goes through the queue; it may already have failed (immediate mode, fast worker)
    job = state.jobs.enqueue(CONFIRMATION, {
        "dossier_id": dossier.id,
        "review_url": state.settings.base_url.rstrip("/") + url_for("wizard.review",
                                                                    public_id=public_id)},
        establishment_id=dossier.pupil.establishment_id,
        campaign_slug=dossier.campaign_version.slug)
    if job.job_state is JobState.FAILED:
        flash("Votre dossier est bien envoyé, mais le courriel de confirmation n'a pas pu "
              "partir. Vous pouvez télécharger le récapitulatif ci-dessous.", "warning")
    return redirect(url_for("wizard.confirmation", public_id=public_id))


def _pdf(loaded: DossierView, redaction: Redaction) -> bytes:
    """The récapitulatif as the guardian with ``redaction`` may read it."""
    evaluation = replace(loaded.evaluation,
                         values=redaction.answers(loaded.campaign, loaded.evaluation.values))
    return recap_pdf(loaded.campaign, loaded.dossier, evaluation, redactor=redaction)


@bp.get("/dossier/<public_id>/recapitulatif.pdf")
@login_required  # type: ignore[untyped-decorator]
def recap(public_id: str) -> BaseResponse:
    loaded = _load(public_id)
    response = make_response(_pdf(loaded, loaded.redaction))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f"attachment; filename={recap_filename(loaded.dossier)}"
    return response


@bp.get("/dossier/<public_id>/confirmation")
@login_required  # type: ignore[untyped-decorator]
def confirmation(public_id: str) -> BaseResponse:
    loaded = _load(public_id)
    if _out_of_window(loaded):
        return _window_redirect(loaded)
    if loaded.editable:
        return redirect(first_page_url(loaded))
    return make_response(render_template(
        "wizard/confirmation.html", dossier=loaded.dossier, campaign=loaded.campaign,
        rating=rating_of(get_session(), loaded.dossier, current_user.id), errors={}))


@bp.post("/dossier/<public_id>/avis")
@login_required  # type: ignore[untyped-decorator]
def rate(public_id: str) -> BaseResponse:
    """The satisfaction question: 1 to 5 and an optional comment, once per guardian."""
    loaded = _load(public_id)
    comment = str(request.form.get("comment") or "").strip()
    try:
        rate_dossier(get_session(), loaded.dossier, current_user.id,
                     str(request.form.get("score") or ""), comment)
    except RatingClosed:
        abort(409)
    except AlreadyRated:
        flash("Vous avez déjà donné votre avis sur ce dossier. Merci !", "info")
        return redirect(url_for("wizard.confirmation", public_id=public_id))
    except InvalidFeedback as exc:
        return make_response(render_template(
            "wizard/confirmation.html", dossier=loaded.dossier, campaign=loaded.campaign,
            rating=None, errors=exc.errors, comment=comment), 422)
    flash("Merci pour votre avis !", "success")
    return redirect(url_for("wizard.confirmation", public_id=public_id))


@bp.record_once
def _throttle_pdf(state: BlueprintSetupState) -> None:
    """The récapitulatif PDF is the family side's most expensive route: a limit per account,
    with this app's own limiter (as the documents' writes)."""
    app = cast(Flask, state.app)
    limit = app_state(app).limiter.limit(PDF_RATE_LIMIT, key_func=throttle_key)
    app.view_functions["wizard.recap"] = cast(RouteCallable, limit(app.view_functions["wizard.recap"]))


# -- template helpers ---------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """Template globals the field partials use."""

    @app.template_global()
    def markdown(text: str | LocalText | None) -> Markup:
        return _render_markdown(text.get() if isinstance(text, LocalText) else text or "")

    app.add_template_global(money_text, "money")

    @app.template_global()
    def countries(lang: str | None = None) -> dict[str, str]:
        return country_names(lang or "fr")

    app.add_template_filter(date_text, "frdate")

    app.jinja_env.globals["state_labels"] = LABELS
