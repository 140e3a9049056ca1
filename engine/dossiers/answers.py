"""A posted page becomes writes: the family's answers, with what the reader may not change
put back, row actions applied, the ``on_hide`` policy and the version check; and a submission.

:class:`DossierView` is one dossier as one reader sees it (campaign, context, what is masked
from them, answers with the prefill filled in, and their evaluation). The web layer parses the
request and renders; everything decided in between is here, so the staff's side can reuse it.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from sqlalchemy.orm import Session

from engine.campaign.model import Campaign, FieldSpec, Page, family_campaign
from engine.diagnostics import EngineError
from engine.fields.repeat import ROW_KEY
from engine.rules import DossierContext, Evaluation, evaluate_dossier
from engine.rules.policy import confirmed_answers, offered_memberships, on_hide_writes

from . import sealed
from .campaigns import Redaction, context_of, effective_answers, location, redaction_for
from .documents import document_errors, document_statuses
from .guardian_answers import named_for, others_status, waiting_for
from .guardians import SharedChange, record_changes, shared_rows
from .models import Dossier, StoredFile
from .services import StaleDossierError, save_answers
from .states import EDITABLE, Actor, ActorKind, Window, window_of
from .submission import submit_dossier


class CampaignNotOpen(EngineError):
    """The campaign is not open today: the dossier cannot change."""

    def __init__(self, window: Window) -> None:
        super().__init__(f"campaign {window.value}")
        self.window = window


class MalformedPost(EngineError):
    """A post no page of the dossier could have sent (a hostile or broken client): refused
    whole."""


class RowActionError(MalformedPost):
    """A row action names no editable repeat of the page, or a row the repeat does not have."""


class SubmissionRefused(EngineError):
    """The dossier cannot be sent yet; ``problems`` say what to complete, in French."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) before submission")
        self.problems = problems


@dataclass(slots=True)
class DossierView:
    """One dossier as one reader sees it."""

    dossier: Dossier
    campaign: Campaign
    ctx: DossierContext
    redaction: Redaction
    #: stored answers with the prefill filled in (unredacted: the server's truth)
    answers: dict[str, Any]
    _evaluation: Evaluation | None = None
    #: the campaign's dates as of the day the dossier is opened
    window: Window = Window.OPEN
    #: guardians' values taken from their other children's dossiers
    shared: list[SharedChange] = field(default_factory=list)
    _seen_errors: dict[str, list[str]] | None = None
    #: the guardian reading (None: not a guardian)
    account_id: int | None = None

    def others(self, spec: FieldSpec) -> list[str]:
        """What the reader is told of the other guardians' answers to the per-guardian field
        ``spec`` (« Marie DUPONT : Oui, le 12/06/2027 »)."""
        if self.account_id is None:
            return []
        return others_status(self.dossier, spec, self.account_id)

    def awaited(self) -> str:
        """Whom the dossier waits for before it can be sent (« Marie DUPONT »), as the reader
        may name them; empty when nobody."""
        waiting = [g for g in waiting_for(self.dossier, self.campaign, self.evaluation.visible)
                   if g.account_id != self.account_id]
        return named_for(waiting, self.account_id)

    @property
    def editable(self) -> bool:
        """The family may change the dossier: not sent, and the campaign open."""
        return self.dossier.state in EDITABLE and self.window is Window.OPEN

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
        self._seen_errors = None
        return self.evaluation

    @property
    def errors(self) -> dict[str, list[str]]:
        """The validation messages the reader is shown: those of the answers as the reader
        sees them, without the masked values' own, so that no message can confirm a guess of
        a value kept from them (a rule comparing a contact with a confidential phone)."""
        if not self.redaction:
            return self.evaluation.errors
        if self._seen_errors is None:
            seen = evaluate_dossier(self.campaign,
                                    self.redaction.answers(self.campaign, self.answers),
                                    self.redaction.context(self.ctx))
            self._seen_errors = {k: v for k, v in seen.errors.items()
                                 if not self._masked_key(k)}
        return self._seen_errors

    def _masked_key(self, key: str) -> bool:
        """Whether the evaluation key ``id`` or ``repeat.n.child`` holds a masked value."""
        head, *rest = key.split(".")
        spec = self.campaign.fields.get(head if not rest else f"{head}.{rest[-1]}")
        if spec is None:
            return False
        row_key = None
        if len(rest) == 2 and rest[0].isdigit():
            rows = self.answers.get(head)
            n = int(rest[0])
            if isinstance(rows, list) and n < len(rows) and isinstance(rows[n], Mapping):
                row_key = str(rows[n].get(ROW_KEY))
        return self.redaction.masked(self.campaign, spec, row_key)

    def page_errors(self, page_id: str) -> dict[str, list[str]]:
        """:attr:`errors` of the fields of ``page_id``."""
        keys = {f.id for f in self.campaign.page(page_id).fields}
        return {k: v for k, v in self.errors.items() if k.split(".")[0] in keys}

    @property
    def files(self) -> list[StoredFile]:
        """The dossier's files the reader may see (not those of a confidential guardian)."""
        return [f for f in self.dossier.files if not self.redaction.hides_file(f)]

    def find_page(self, page_id: str) -> Page | None:
        return next((p for p in self.campaign.pages if p.id == page_id), None)

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


def open_dossier(dossier: Dossier, campaign: Campaign, account_id: int,
                 today: date | None = None, session: Session | None = None) -> DossierView:
    """``dossier`` as the guardian ``account_id`` sees it (access already checked), on the
    campaign without its staff-only fields, on ``today`` (the campaign's window; None: the
    real date); with ``session``, the guardians' own data as last entered in any of their
    children's dossiers; health values included: the family reads and writes its own."""
    campaign = family_campaign(campaign)
    ctx = context_of(dossier, account_id=account_id)
    redaction = redaction_for(dossier, account_id)
    answers = effective_answers(campaign, sealed.family_answers(dossier, campaign), ctx,
                                dossier.corrections)
    shared: list[SharedChange] = []
    if session is not None:
        writes, shared = shared_rows(session, campaign, dossier, answers, redaction)
        answers.update(writes)
    return DossierView(dossier, campaign, ctx, redaction, answers,
                       window=window_of(campaign, today or date.today()), shared=shared,
                       account_id=account_id)


def new_row() -> dict[str, Any]:
    """An empty repeat row, with a key of its own until it is saved."""
    return {ROW_KEY: f"new-{secrets.token_hex(6)}"}


@dataclass(frozen=True, slots=True)
class RowAction:
    """Add a row to a repeat, or remove the row at ``index`` (None: not a row number)."""

    kind: Literal["add", "remove"]
    repeat_id: str
    index: int | None = None


#: the key :func:`new_row` gives a row (anything else posted as a new row's key is replaced)
_NEW_KEY = re.compile(r"new-[0-9a-f]{12}")


def _check_rows(view: DossierView, page: Page, parsed: dict[str, Any]) -> None:
    """Each posted row is a row the page showed (its key) or a new one: a key the dossier
    does not hold becomes a fresh one, so a post can neither claim an imported guardian's
    identity nor collide with a row; the same key twice is refused.

    :raises MalformedPost: two rows of a repeat carry the same key.
    """
    for spec in page.fields:
        rows = parsed.get(spec.id)
        if not spec.type.is_container or not isinstance(rows, list):
            continue
        before = {str(r.get(ROW_KEY)) for r in view.answers.get(spec.id) or []
                  if isinstance(r, Mapping)}
        seen: set[str] = set()
        for row in rows:
            key = str(row.get(ROW_KEY) or "")
            if key and key in seen:
                raise MalformedPost(f"row key {key!r} posted twice in {spec.id!r}")
            if key not in before and not _NEW_KEY.fullmatch(key):
                key = new_row()[ROW_KEY]
            seen.add(key)
            row[ROW_KEY] = key


def _keep_protected(view: DossierView, page: Page, parsed: dict[str, Any]) -> None:
    """Put back what the viewer was never shown (another guardian's confidential details, in
    whatever row or field they are), so a save by the other guardian can neither read, erase
    nor move them; after the row action, which cannot remove them either.

    :raises MalformedPost: the rows posted and the protected ones exceed the repeat's maximum.
    """
    if not view.redaction:
        return
    campaign, redaction = view.campaign, view.redaction
    for spec in page.fields:
        if spec.id not in parsed:
            continue
        if not spec.type.is_container:
            if redaction.masked(campaign, spec, None):
                parsed[spec.id] = view.answers.get(spec.id)
            continue
        rows = parsed[spec.id]
        if not isinstance(rows, list):
            continue
        before = {str(r.get(ROW_KEY)): r for r in view.answers.get(spec.id) or []
                  if isinstance(r, Mapping)}
        posted = {str(r.get(ROW_KEY)) for r in rows}
        for row in rows:
            old = before.get(str(row.get(ROW_KEY)))
            for child in spec.fields:
                if redaction.masked(campaign, child, str(row.get(ROW_KEY))):
                    row[child.id] = None if old is None else old.get(child.id)
        rows.extend(r for k, r in before.items()
                    if k not in posted and redaction.protects_row(campaign, spec, k))
        if len(rows) > spec.options.max:
            raise MalformedPost(f"{len(rows)} rows in {spec.id!r}, at most {spec.options.max}")


def _keep_answerable(campaign: Campaign, before: Mapping[str, Any], parsed: dict[str, Any],
                     evaluation: Evaluation) -> bool:
    """Drop what the post holds for questions the family could not answer (hidden by the
    rules once the post is taken into account): the stored value stays. True when
    something was dropped."""
    dropped = False
    visible = evaluation.visible
    for field_id in list(parsed):
        spec = campaign.fields.get(field_id)
        if spec is None or spec.parent_id is not None:
            continue
        if field_id not in visible:
            if parsed[field_id] != before.get(field_id):
                parsed.pop(field_id)
                dropped = True
            continue
        rows = parsed[field_id]
        if not spec.type.is_container or not isinstance(rows, list):
            continue
        old_rows = {str(r.get(ROW_KEY)): r for r in before.get(field_id) or []
                    if isinstance(r, Mapping)}
        for n, row in enumerate(rows):
            old = old_rows.get(str(row.get(ROW_KEY))) or {}
            for child in spec.fields:
                if child.type.has_value and f"{field_id}.{n}.{child.id}" not in visible \
                        and row.get(child.id) != old.get(child.id):
                    row[child.id] = old.get(child.id)
                    dropped = True
    return dropped


def _owned_writes(campaign: Campaign, answers: Mapping[str, Any], write: Mapping[str, Any],
                  actor: Actor) -> dict[str, str]:
    """The contact details a guardian typed in this write, by location: theirs from now on
    (masked from the other guardian whenever the school marks them confidential)."""
    if actor.kind is not ActorKind.FAMILY or actor.id is None:
        return {}
    out: dict[str, str] = {}
    for field_id, value in write.items():
        spec = campaign.fields.get(field_id)
        if spec is None or spec.parent_id is not None:
            continue
        if spec.type.contact_data and not spec.type.is_empty(value) \
                and not spec.type.same(answers.get(field_id), value, spec):
            out[location(spec)] = actor.id
        if not spec.type.is_container or not isinstance(value, list):
            continue
        before = {str(r.get(ROW_KEY)): r for r in answers.get(field_id) or []
                  if isinstance(r, Mapping)}
        for row in value:
            key = str(row.get(ROW_KEY))
            old = before.get(key) or {}
            for child in spec.fields:
                new = row.get(child.id)
                if child.type.contact_data and not child.type.is_empty(new) \
                        and not child.type.same(old.get(child.id), new, child):
                    out[location(child, key)] = actor.id
    return out


def _keep_files(view: DossierView, page: Page, parsed: dict[str, Any]) -> None:
    """The answer of a field holding files is the list of its stored files, whatever was
    posted."""
    for spec in page.fields:
        if spec.type.holds_files and spec.id in parsed:
            parsed[spec.id] = [f.public_id for f in view.dossier.files
                               if f.document_id == spec.id]


def _apply(view: DossierView, page: Page, action: RowAction, answers: dict[str, Any]) -> None:
    """Add or remove a row of a repeat of ``page`` (the page posted: another page's repeat
    is not in the post), within the repeat's min..max; a row holding what the reader was
    never shown is never removed."""
    spec = next((f for f in page.fields if f.id == action.repeat_id), None)
    if spec is None or not spec.type.is_container or not spec.editable \
            or not isinstance(answers.get(spec.id), list):
        raise RowActionError(f"no editable repeat {action.repeat_id!r} on page {page.id!r}")
    rows = list(answers.get(spec.id) or [])
    if action.kind == "add":
        if len(rows) < spec.options.max:
            rows.append(new_row())
    else:
        position = len(rows) if action.index is None else action.index
        if position >= len(rows):
            raise RowActionError(f"no row {action.index} in {spec.id!r}")
        if len(rows) > spec.options.min and not view.redaction.protects_row(
                view.campaign, spec, str(rows[position].get(ROW_KEY))):
            del rows[position]
    answers[spec.id] = rows


@dataclass(frozen=True, slots=True)
class PageSaved:
    """What a page save did besides storing the post."""

    #: labels of the posted memberships dropped: the pupil is not offered them
    dropped: list[str]
    #: who had saved the dossier meanwhile, when the post was merged with their write
    merged_with: Actor | None = None


def save_page(session: Session, view: DossierView, page: Page, parsed: dict[str, Any],
              action: RowAction | None, expected_version: int, actor: Actor,
              base: Mapping[str, Any] | None = None) -> PageSaved:
    """Store the answers posted for ``page`` (``parsed``, as read from the form).

    What the reader may not change is put back (confidential values, stored files), the row
    action applied, associations not offered dropped, then the ``on_hide`` policy. ``view``
    then holds the answers after the post and their evaluation, also when the write is
    refused, so the page can show them.

    ``base`` is the page's answers as the reader was shown them: when someone saved since
    ``expected_version``, what only one of the two changed is merged field by field (repeat
    rows child by child) and saved; the save is refused only when both changed the same
    field differently.

    :raises RowActionError: ``action`` names no editable repeat or no row of it.
    :raises StaleDossierError: someone saved since ``expected_version`` (``conflicts`` lists
        the fields both changed when a merge was tried).
    :raises NotEditableError: the dossier can no longer be changed.
    :raises CampaignNotOpen: the campaign is not open today.
    """
    if view.window is not Window.OPEN:
        raise CampaignNotOpen(view.window)
    before = view.answers
    _check_rows(view, page, parsed)
    _keep_files(view, page, parsed)
    if action is not None:
        _apply(view, page, action, parsed)
    _keep_protected(view, page, parsed)
    offered = offered_memberships(view.campaign, {**view.answers, **parsed}, view.ctx)
    dropped = sorted({str(v) for k, kept in offered.items() for v in parsed[k] if v not in kept})
    parsed.update(offered)
    evaluation = view.evaluate({**before, **parsed})
    if _keep_answerable(view.campaign, before, parsed, evaluation):
        evaluation = view.evaluate({**before, **parsed})
    merged = view.answers
    owners = _owned_writes(view.campaign, before, parsed, actor)
    cleared = on_hide_writes(view.campaign, merged, evaluation)
    if cleared:
        view.evaluate({**merged, **cleared})
    labels = {a.id: a.label.get() for a in view.campaign.associations}
    saved = PageSaved([labels.get(a, a) for a in dropped])
    write = {**parsed, **cleared}
    try:
        save_answers(session, view.dossier, expected_version, write, page.id, actor,
                     campaign=view.campaign, owners=owners)
    except StaleDossierError as exc:
        if base is None:
            raise
        theirs = effective_answers(view.campaign, exc.current_answers, view.ctx)
        combined, conflicts = _merge_page(view, base, write, theirs)
        if conflicts:
            exc.conflicts = conflicts
            raise
        view.answers = theirs
        save_page(session, view, page, combined, None, exc.current_version, actor)
        return replace(saved, merged_with=exc.saved_by)
    record_changes(session, view.campaign, view.dossier, before, write,
                   int(actor.id) if actor.kind is ActorKind.FAMILY and actor.id else None)
    return saved


def _comparable(value: Any) -> Any:
    """``value`` as JSON reads it back, so a posted value and a stored one compare."""
    return json.loads(json.dumps(value, default=str))


def _merge_page(view: DossierView, base: Mapping[str, Any], mine: Mapping[str, Any],
                theirs: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Three-way merge of one page's write with what was saved meanwhile: (the page's
    answers to write, the fields both changed differently). Values are compared as the
    reader may see them, so a confidential value neither could read is never a conflict."""
    redact = view.redaction.answers
    seen_base = _comparable(redact(view.campaign, dict(base)))
    seen_mine = _comparable(redact(view.campaign, dict(mine)))
    seen_theirs = _comparable(redact(view.campaign, dict(theirs)))
    out: dict[str, Any] = {}
    conflicts: list[str] = []
    for key, value in mine.items():
        b, m, t = seen_base.get(key), seen_mine.get(key), seen_theirs.get(key)
        if m == b:
            out[key] = theirs.get(key)
        elif t in (b, m):
            out[key] = value
        elif (rows := _merge_rows(b, m, t, value, theirs.get(key))) is not None:
            out[key] = rows
        else:
            conflicts.append(key)
    return out, conflicts


def _merge_rows(b: Any, m: Any, t: Any, mine: Any, theirs: Any) -> list[dict[str, Any]] | None:
    """The rows of a repeat merged child by child, when the three hold the same rows;
    None when a child was changed by both, or rows were added or removed on both sides."""
    def keyed(rows: Any) -> dict[str, Any] | None:
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return None
        return {str(r.get(ROW_KEY)): r for r in rows}

    kb, km, kt = keyed(b), keyed(m), keyed(t)
    if kb is None or km is None or kt is None or not kb.keys() == km.keys() == kt.keys():
        return None
    by_key = {str(r.get(ROW_KEY)): r for r in theirs}
    out = []
    for row in mine:
        key = str(row.get(ROW_KEY))
        merged = dict(row)
        for child in set(row) | set(by_key[key]):
            cb, cm, ct = kb[key].get(child), km[key].get(child), kt[key].get(child)
            if cm == cb:
                merged[child] = by_key[key].get(child)
            elif ct not in (cb, cm):
                return None
        out.append(merged)
    return out


def shown_keys(view: DossierView, page: Page) -> set[str]:
    """The evaluation keys of ``page``'s fields the reader is shown (rows included)."""
    ids = {spec.id for spec in page.fields}
    return {key for key in view.evaluation.visible if key.split(".")[0] in ids}


def _posted(parsed: Mapping[str, Any], key: str) -> Any:
    """The posted value at evaluation key ``key`` (``id`` or ``repeat.n.child``)."""
    head, *rest = key.split(".")
    value = parsed.get(head)
    if len(rest) == 2 and isinstance(value, list) and rest[0].isdigit() and \
            int(rest[0]) < len(value) and isinstance(value[int(rest[0])], Mapping):
        return value[int(rest[0])].get(rest[1])
    return None if rest else value


def revealed_keys(view: DossierView, page: Page, seen: set[str], parsed: Mapping[str, Any],
                  ) -> set[str]:
    """The fields of ``page`` a post made visible which the family has not seen yet.

    ``seen`` is what the page showed when it was rendered without JavaScript. A revealed
    question the post answers was seen after all (a script showed it live): then none is
    new, since a page reveals its questions together.
    """
    new = shown_keys(view, page) - seen
    for key in new:
        parts = key.split(".")
        spec = view.campaign.fields.get(f"{parts[0]}.{parts[-1]}" if len(parts) > 1 else key)
        if spec is not None and not spec.type.is_empty(_posted(parsed, key)):
            return set()
    return new


def submission_problems(view: DossierView) -> list[str]:
    """Why the dossier cannot be sent yet (pages with errors, missing documents), in French."""
    problems = []
    for current in view.visible_pages():
        count = len(view.page_errors(current.id))
        if count:
            problems.append(f"La page « {current.title.get()} » comporte {count} "
                            f"réponse{'s' if count > 1 else ''} à compléter ou corriger.")
    statuses = document_statuses(view.campaign, view.evaluation, view.dossier,
                                 redaction=view.redaction)
    labels = {s.slot: s.label for s in statuses}
    for document_id, messages in document_errors(statuses).items():
        problems.extend(f"{labels[document_id]} : {m}" for m in messages)
    return problems


def submit_answers(session: Session, view: DossierView, expected_version: int, actor: Actor) -> None:
    """Send the dossier to the school with the answers the family confirmed.

    :raises SubmissionRefused: something must be completed first.
    :raises StaleDossierError: someone saved since ``expected_version``.
    :raises NotEditableError: the dossier was already sent.
    :raises CampaignNotOpen: the campaign is not open today.
    """
    if view.window is not Window.OPEN:
        raise CampaignNotOpen(view.window)
    problems = submission_problems(view)
    if problems:
        raise SubmissionRefused(problems)
    submit_dossier(session, view.dossier, expected_version,
                   confirmed_answers(view.campaign, view.answers), view.evaluation, actor,
                   campaign=view.campaign)
