"""The documents of a dossier: what each campaign document needs now, and the file services.

:func:`document_statuses` says, for every campaign document, whether it applies to this dossier
(required now, or an optional upload), why, which files were sent and what is still wrong;
:func:`document_errors` turns that into the blocking problems a submission is refused on.

Files and declared dates are stored under a slot: the document's id, or ``<id>~<row key>``
for one row of a per-row (``for_each``) document, so each row's files follow the row.

The services add, replace and delete files of a campaign document or of a ``file`` field (whose
document id is the field id) and record a dated proof's declared date. Each one is a single
transaction and keeps storage and rows consistent: a new object is stored before its row and
removed if the row fails; an old object is removed only after its row is gone, so a crash can
leave an orphan object (for a sweeper) but never a row pointing at nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.campaign.model import Campaign, DocumentSpec, document_slot, slot_parts
from engine.diagnostics import EngineError, UploadCode
from engine.fields.common import format_date
from engine.fields.date import parse_date
from engine.fields.repeat import ROW_KEY
from engine.i18n import gettext as _
from engine.rules import Evaluation, RequiredDocument
from engine.rules.evaluation import document_label, document_reason, document_slots, row_label
from engine.storage import Storage, discard
from engine.storage.inspection import (
    CheckedFile,
    UploadRejected,
    accepted_label,
    inspect_upload,
    megabytes,
)

from . import audit
from .campaigns import Redaction
from .models import Dossier, DossierDocument, FamilyAccount, StoredFile, new_public_id
from .states import EDITABLE, Actor, Window, window_of

#: most files and bytes one dossier may hold, whatever the campaign allows per document
MAX_FILES_PER_DOSSIER: Final = 20
MAX_BYTES_PER_DOSSIER: Final = 50 * 1024 * 1024
#: the school's decisions on a file (``engine.dossiers.review.DocumentDecision`` values)
ACCEPTED: Final = "accepted"
REFUSED: Final = "refused"


@dataclass(frozen=True, slots=True)
class UploadRule:
    """What an upload target accepts: a campaign document, or a top-level ``file`` field."""

    id: str
    label: str
    accept: tuple[str, ...]
    max_size: int
    max_files: int
    max_age_months: int | None = None
    #: True for a ``file`` field: its answer lists the ids of its files
    is_field: bool = False


@dataclass(frozen=True, slots=True)
class DocumentStatus:
    """One slot of a campaign document as the family sees it now: the document, or one row's
    copy of a ``for_each`` document."""

    spec: DocumentSpec
    #: required now, or an optional upload offered
    applies: bool
    required: bool
    #: why it is asked (empty for an optional document without a stated reason)
    reason: str
    files: list[StoredFile] = field(default_factory=list)
    document_date: date | None = None
    #: blocking problems, in French
    problems: list[str] = field(default_factory=list)
    #: files the other guardian sent, kept from this reader (confidential contact): counted,
    #: never listed
    withheld: int = 0
    #: where its files are stored (:func:`engine.campaign.model.document_slot`)
    slot: str = ""
    #: the document's label, with the row's own for a per-row document
    label: str = ""
    #: the row of a per-row document (None for a document asked once)
    row_key: str | None = None

    @property
    def can_add(self) -> bool:
        return len(self.files) + self.withheld < self.spec.max_files


class DocumentError(EngineError):
    """A document write refused with a French message and a stable code (the web layer maps
    codes to HTTP statuses)."""

    def __init__(self, message: str, code: UploadCode) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _rejected(exc: UploadRejected) -> DocumentError:
    return DocumentError(exc.message, exc.code)


def _months_before(day: date, months: int) -> date:
    """``day`` moved ``months`` back, clamped to the end of a shorter month."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def freshness_problem(document_date: date | None, max_age_months: int, today: date,
                      ) -> str | None:
    """The problem with a dated proof's declared date, or None when it is recent enough."""
    if document_date is None:
        return _("Indiquez la date figurant sur le document.")
    if document_date > today:
        return _("La date du document ne peut pas être dans le futur.")
    if document_date < _months_before(today, max_age_months):
        return _("Ce document date de plus de {n} mois : envoyez un justificatif plus "
                 "récent.").format(n=max_age_months)
    return None


def removed_row_label(doc: DocumentSpec, campaign: Campaign, lang: str | None = None) -> str:
    """The label of a per-row document's files whose row was removed from the dossier."""
    repeat = campaign.fields[doc.for_each] if doc.for_each else None
    item = "" if repeat is None else (
        repeat.type.options(repeat).item_label.get(lang) or repeat.label.get(lang))
    return document_label(doc, _("{item} retiré du dossier").format(item=item).strip(), lang)


def _row_slots(doc: DocumentSpec, campaign: Campaign, answers: Mapping[str, Any],
               lang: str | None) -> list[tuple[str, str]]:
    """``(slot, label)`` of each row of a per-row document in the dossier's ``answers``."""
    repeat = campaign.fields[doc.for_each or ""]
    rows = answers.get(repeat.id)
    return [(document_slot(doc.id, str(row.get(ROW_KEY))),
             document_label(doc, row_label(doc, repeat, row, n, lang), lang))
            for n, row in enumerate(rows if isinstance(rows, list) else [], start=1)
            if isinstance(row, Mapping) and row.get(ROW_KEY)]


def slot_label(campaign: Campaign, slot: str, answers: Mapping[str, Any],
               lang: str | None = None) -> str:
    """The label of a document slot, read in the dossier's ``answers`` (the row's own label
    for a per-row document; a removed row's files say so); the slot itself when it is no
    campaign document (a ``file`` field's id)."""
    document_id, key = slot_parts(slot)
    doc = next((d for d in campaign.documents if d.id == document_id), None)
    if doc is None:
        spec = campaign.fields.get(slot)
        return spec.label.get(lang) if spec is not None else slot
    if key is None or doc.for_each is None:
        return doc.label.get(lang)
    return dict(_row_slots(doc, campaign, answers, lang)).get(slot) or \
        removed_row_label(doc, campaign, lang)


def document_choices(campaign: Campaign, answers: Mapping[str, Any],
                     lang: str | None = None) -> list[tuple[str, str]]:
    """``(slot, label)`` of every slot a file can be added to in a dossier of ``answers``:
    each document, a per-row document once per row (what an agent deposits on behalf)."""
    out = []
    for doc in campaign.documents:
        out += [(doc.id, doc.label.get(lang))] if doc.for_each is None else \
            _row_slots(doc, campaign, answers, lang)
    return out


def document_statuses(campaign: Campaign, evaluation: Evaluation, dossier: Dossier,
                      lang: str | None = None, *, today: date | None = None,
                      redaction: Redaction | None = None) -> list[DocumentStatus]:
    """Every slot of every campaign document of ``dossier``, in campaign order (a per-row
    document: one slot per row, in row order), with what is missing.

    A slot applies when the evaluation asks for it, or when its document is optional for
    everybody; a slot whose condition is false does not apply (the page hides it, the browser
    may reveal it live). The files of a row removed from the dossier are listed after its
    document's rows, as no longer asked (they block nothing; the family may delete them).
    ``today`` (default: the current date) judges freshness. The files ``redaction`` hides are
    counted (a document the other guardian sent is not missing) but not listed.
    """
    today = today or date.today()
    asked = {d.document_id: d for d in evaluation.documents}
    dates = {d.document_id: d.document_date for d in dossier.documents}
    files: dict[str, list[StoredFile]] = {}
    for stored in dossier.files:
        files.setdefault(stored.document_id, []).append(stored)
    statuses = []
    for doc in campaign.documents:
        slots: list[tuple[str, str | None, str]] = [
            (document_slot(doc.id, key), key, document_label(doc, name, lang))
            for key, name, _inner in document_slots(doc, evaluation.scope)
        ] if evaluation.scope is not None else (
            [] if doc.for_each else [(doc.id, None, doc.label.get(lang))])
        if doc.for_each is not None:
            known = {slot for slot, _key, _label in slots}
            slots += [(slot, key, removed_row_label(doc, campaign, lang))
                      for slot in files if slot not in known
                      for base, key in [slot_parts(slot)] if base == doc.id and key]
        for slot, key, label in slots:
            statuses.append(_status(doc, campaign, slot, key, label, asked.get(slot),
                                    files.get(slot, []), dates.get(slot), today, redaction,
                                    lang))
    return statuses


def _status(doc: DocumentSpec, campaign: Campaign, slot: str, key: str | None, label: str,
            asked: RequiredDocument | None, sent: list[StoredFile], declared: date | None,
            today: date, redaction: Redaction | None, lang: str | None) -> DocumentStatus:
    required = asked is not None
    applies = required or (doc.required_if is None and not doc.required)
    # an optional upload offered to everybody has no reason to give
    offered_to_all = not doc.reason and doc.required_if is None and not doc.required
    reason = asked.reason if asked is not None else (
        "" if offered_to_all else document_reason(doc, campaign, lang))
    problems: list[str] = []
    if applies:
        if required and not sent:
            problems.append(_("Ce document est obligatoire : ajoutez au moins un fichier."))
        if len(sent) > doc.max_files:
            problems.append(_("Joignez au plus {n} fichiers pour ce document.").format(
                n=doc.max_files))
        if doc.max_age_months is not None and sent:
            problem = freshness_problem(declared, doc.max_age_months, today)
            if problem:
                problems.append(problem)
    shown = sent if redaction is None else [f for f in sent if not redaction.hides_file(f)]
    return DocumentStatus(doc, applies, required, reason, shown, declared, problems,
                          len(sent) - len(shown), slot, label, key)


def document_errors(statuses: Sequence[DocumentStatus]) -> dict[str, list[str]]:
    """The problems that block a submission, by slot (slots that apply only)."""
    return {s.slot: list(s.problems) for s in statuses if s.applies and s.problems}


def upload_rule(campaign: Campaign, document_id: str, lang: str | None = None,
                ) -> UploadRule | None:
    """The rule of a document slot (a campaign document, or one row's copy of a ``for_each``
    document) or of a top-level ``file`` field; None when unknown. Its ``id`` is the slot."""
    base_id, row_key = slot_parts(document_id)
    for doc in campaign.documents:
        if doc.id == base_id:
            if (row_key is None) != (doc.for_each is None) or row_key == "":
                return None
            return UploadRule(document_id, doc.label.get(lang), doc.accept, doc.max_size,
                              doc.max_files, doc.max_age_months)
    spec = campaign.fields.get(document_id)
    if spec is None or spec.parent_id is not None:
        return None
    limits = spec.type.upload_limits(spec)
    if limits is None:
        return None
    return UploadRule(spec.id, spec.label.get(lang), limits.accept, limits.max_size,
                      limits.max_files, is_field=True)


def _check_row(campaign: Campaign, dossier: Dossier, slot: str) -> None:
    """A file for one row of a per-row document needs that row in the dossier (a removed
    row's document is no longer asked: its files can be deleted, not added to)."""
    document_id, key = slot_parts(slot)
    if key is None:
        return
    doc = next(d for d in campaign.documents if d.id == document_id)
    if all(s != slot for s, _label in _row_slots(doc, campaign, dossier.answers, None)):
        raise DocumentError(_("Document inconnu."), UploadCode.UNKNOWN)


def accept_text(rule: UploadRule | DocumentSpec) -> str:
    """« PDF, JPEG ; 5 Mo au plus par fichier » for the family."""
    return _("Formats acceptés : {kinds} ; {size}\u00a0Mo au plus par fichier.").format(
        kinds=accepted_label(rule.accept), size=megabytes(rule.max_size))


def _check_editable(dossier: Dossier, campaign: Campaign, today: date | None,
                    document_id: str | None = None) -> None:
    """A family writes documents while the dossier is editable and the campaign open; a
    document the school refused can be sent again at any time (the school asked for it, often
    after the campaign closed)."""
    if document_id is not None and any(f.document_id == document_id and f.review_status == REFUSED
                                       for f in dossier.files):
        return
    window = window_of(campaign, today or date.today())
    if window is Window.UPCOMING:
        raise DocumentError(_("La campagne de réinscription n'est pas encore ouverte : les "
                              "documents pourront être envoyés à partir du {day}.").format(
                                  day=format_date(campaign.opens)), UploadCode.CLOSED)
    if window is Window.CLOSED and dossier.state in EDITABLE:
        raise DocumentError(_("La campagne de réinscription est close depuis le {day} : les "
                              "documents ne peuvent plus être modifiés. Contactez le "
                              "secrétariat du collège.").format(day=format_date(campaign.closes)),
                            UploadCode.CLOSED)
    if dossier.state not in EDITABLE:
        raise DocumentError(_("Ce dossier a été envoyé : ses documents ne peuvent plus être "
                              "modifiés."), UploadCode.NOT_EDITABLE)


def _check_not_accepted(stored: StoredFile) -> None:
    """A file the school accepted is part of the reviewed dossier: the family cannot swap or
    remove it behind the school's back."""
    if stored.review_status == ACCEPTED:
        raise DocumentError(_("Le collège a déjà accepté ce fichier : il ne peut plus être "
                              "remplacé ni supprimé. Si vous devez le changer, contactez le "
                              "secrétariat."), UploadCode.ACCEPTED)


def _files_of(session: Session, dossier: Dossier, document_id: str) -> list[StoredFile]:
    return list(session.scalars(select(StoredFile).where(
        StoredFile.dossier_id == dossier.id, StoredFile.document_id == document_id)
        .order_by(StoredFile.id)))


_DOSSIER = cast(Table, Dossier.__table__)


@contextmanager
def _quota_lock(session: Session, dossier: Dossier) -> Iterator[None]:
    """Hold the dossier's row from the quota checks to the commit, so that uploads at the
    same moment are counted one after the other: a no-op UPDATE takes the row lock on
    PostgreSQL and the write lock on SQLite (a ``FOR UPDATE`` is ignored there). A refusal
    in between rolls back, which releases it."""
    session.execute(update(_DOSSIER).where(_DOSSIER.c.id == dossier.id)
                    .values(id=_DOSSIER.c.id))
    try:
        yield
    except DocumentError:
        session.rollback()
        raise


def _dossier_usage(session: Session, dossier: Dossier) -> tuple[int, int]:
    count, size = session.execute(
        select(func.count(StoredFile.id), func.coalesce(func.sum(StoredFile.size), 0))
        .where(StoredFile.dossier_id == dossier.id)).one()
    return int(count), int(size)


def inspect_uploads(rule: UploadRule, uploads: Sequence[tuple[bytes, str]],
                    ) -> list[CheckedFile]:
    """Check every ``(data, filename)`` against ``rule``; all must pass, or none is kept.

    :raises DocumentError: no file, or the first refused file (named in the message).
    """
    if not uploads:
        raise DocumentError(_("Choisissez un fichier à envoyer."), UploadCode.MISSING)
    checked = []
    for data, filename in uploads:
        try:
            checked.append(inspect_upload(data, filename, accept=set(rule.accept),
                                          max_size=rule.max_size))
        except UploadRejected as exc:
            if len(uploads) > 1:
                exc = UploadRejected(exc.code, f"{filename} : {exc.message}")
            raise _rejected(exc) from None
    return checked


@contextmanager
def _stored(storage: Storage, checked: Sequence[CheckedFile]) -> Iterator[list[str]]:
    """Put the objects first, then the caller commits their rows: a crash in between leaves
    an object without a row (found by ``storage check``), never a row without its object.
    If anything after the puts fails, the objects are removed again, best-effort."""
    keys: list[str] = []
    try:
        for item in checked:
            keys.append(storage.put(item.data))
        yield keys
    except BaseException:
        for key in keys:
            discard(storage, key)
        raise


def _commit(session: Session) -> None:
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise DocumentError(_("Le dossier a été modifié entre-temps (par l'autre responsable "
                              "légal ?). Rechargez la page et recommencez."),
                            UploadCode.STALE) from None
    except BaseException:
        session.rollback()
        raise


def _event(dossier: Dossier, account: FamilyAccount | None, kind: str,
           data: dict[str, Any]) -> None:
    actor = Actor.family(account.id) if account is not None else Actor.system()
    dossier.record(actor, kind, data)


def _sync_field_answer(dossier: Dossier, rule: UploadRule,
                       public_ids: Sequence[str]) -> None:
    """A ``file`` field's answer is the list of its files: kept equal to the rows."""
    if rule.is_field:
        dossier.answers = {**dossier.answers, rule.id: list(public_ids)}


def add_files(session: Session, storage: Storage, campaign: Campaign, dossier: Dossier,
              document_id: str, uploads: Sequence[tuple[bytes, str]],
              account: FamilyAccount | None, *, staff: Actor | None = None,
              today: date | None = None) -> list[StoredFile]:
    """Add ``uploads`` (data, filename) to a document or ``file`` field of an editable dossier.

    All files are checked before anything is written; then objects and rows are written in one
    transaction. ``staff``: an agent uploads on behalf of the family, whatever the dossier's
    state and the campaign's dates (same inspection and limits; recorded on the file, the
    history and the audit trail). ``today`` (default: the current date) reads the campaign's
    dates for a family write.

    :raises DocumentError: unknown document, dossier not editable, no file, file refused by
        the inspection (its :class:`~engine.diagnostics.UploadCode`), over a count limit.
    """
    rule = upload_rule(campaign, document_id)
    if rule is None:
        raise DocumentError(_("Document inconnu."), UploadCode.UNKNOWN)
    if staff is None:
        _check_editable(dossier, campaign, today, rule.id)
    _check_row(campaign, dossier, rule.id)
    checked = inspect_uploads(rule, uploads)
    with _quota_lock(session, dossier):
        existing = _files_of(session, dossier, rule.id)
        if len(existing) + len(checked) > rule.max_files:
            raise DocumentError(_("Ce document accepte au plus {n} fichier(s) ; {k} déjà "
                                  "envoyé(s). Supprimez ou remplacez un fichier.").format(
                                      n=rule.max_files, k=len(existing)),
                                UploadCode.TOO_MANY_FILES)
        count, size = _dossier_usage(session, dossier)
        if count + len(checked) > MAX_FILES_PER_DOSSIER or \
                size + sum(c.size for c in checked) > MAX_BYTES_PER_DOSSIER:
            raise DocumentError(_("Ce dossier a atteint la limite de {n} fichiers ou de {mb} Mo "
                                  "au total.").format(n=MAX_FILES_PER_DOSSIER,
                                                      mb=megabytes(MAX_BYTES_PER_DOSSIER)),
                                UploadCode.DOSSIER_FULL)
    with _stored(storage, checked) as keys:
        rows = [StoredFile(public_id=new_public_id(), dossier=dossier, document_id=rule.id,
                           storage_key=key, filename=item.filename, sha256=item.sha256,
                           size=item.size, mime_type=item.mime_type, uploaded_by=account,
                           uploaded_by_staff_id=int(staff.id) if staff and staff.id else None)
                for item, key in zip(checked, keys, strict=True)]
        session.add_all(rows)
        _sync_field_answer(dossier, rule,
                           [f.public_id for f in existing] + [r.public_id for r in rows])
        data = {"document": rule.id, "count": len(rows)}
        if staff is None:
            _event(dossier, account, "file_added", data)
        else:
            dossier.record(staff, "file_added", {**data, "on_behalf": True})
            audit.record(session, staff, "document_uploaded", dossier_id=dossier.id,
                         establishment_id=dossier.pupil.establishment_id,
                         data={**data, "files": [r.public_id for r in rows]})
        _commit(session)
    return rows


def file_of_dossier(session: Session, dossier: Dossier, file_public_id: str,
                    ) -> StoredFile | None:
    """The stored file ``file_public_id`` if it belongs to ``dossier``, else None."""
    return session.scalar(select(StoredFile).where(
        StoredFile.public_id == file_public_id, StoredFile.dossier_id == dossier.id))


def replace_file(session: Session, storage: Storage, campaign: Campaign, dossier: Dossier,
                 stored: StoredFile, uploads: Sequence[tuple[bytes, str]],
                 account: FamilyAccount | None, *, today: date | None = None) -> StoredFile:
    """Swap ``stored`` for the one file in ``uploads`` in one transaction; the old object is
    removed afterwards.

    :raises DocumentError: as :func:`add_files`; several files.
    """
    rule = upload_rule(campaign, stored.document_id)
    if rule is None:
        raise DocumentError(_("Document inconnu."), UploadCode.UNKNOWN)
    _check_not_accepted(stored)
    _check_editable(dossier, campaign, today,
                    rule.id if stored.review_status == REFUSED else None)
    if len(uploads) > 1:
        raise DocumentError(_("Choisissez un seul fichier pour remplacer celui-ci."),
                            UploadCode.TOO_MANY_FILES)
    (checked,) = inspect_uploads(rule, uploads)
    with _quota_lock(session, dossier):
        _count, size = _dossier_usage(session, dossier)
        if size - stored.size + checked.size > MAX_BYTES_PER_DOSSIER:
            raise DocumentError(_("Ce dossier a atteint la limite de {mb} Mo au total.").format(
                mb=megabytes(MAX_BYTES_PER_DOSSIER)), UploadCode.DOSSIER_FULL)
    old_key, new_id = stored.storage_key, new_public_id()
    ids = [new_id if f.id == stored.id else f.public_id
           for f in _files_of(session, dossier, rule.id)]
    with _stored(storage, [checked]) as (key,):
        row = StoredFile(public_id=new_id, dossier=dossier, document_id=rule.id,
                         storage_key=key, filename=checked.filename, sha256=checked.sha256,
                         size=checked.size, mime_type=checked.mime_type, uploaded_by=account)
        session.delete(stored)
        session.add(row)
        _sync_field_answer(dossier, rule, ids)
        _event(dossier, account, "file_replaced", {"document": rule.id})
        _commit(session)
    discard(storage, old_key)
    return row


def delete_file(session: Session, storage: Storage, campaign: Campaign, dossier: Dossier,
                stored: StoredFile, account: FamilyAccount | None, *,
                today: date | None = None) -> None:
    """Remove ``stored``: the row first (committed), then the object.

    :raises DocumentError: the dossier is not editable, the school accepted the file.
    """
    _check_not_accepted(stored)
    _check_editable(dossier, campaign, today,
                    stored.document_id if stored.review_status == REFUSED else None)
    rule = upload_rule(campaign, stored.document_id)
    key, document_id = stored.storage_key, stored.document_id
    if rule is not None:
        _sync_field_answer(dossier, rule, [
            f.public_id for f in _files_of(session, dossier, document_id) if f.id != stored.id])
    session.delete(stored)
    _event(dossier, account, "file_deleted", {"document": document_id})
    _commit(session)
    discard(storage, key)


def set_document_date(session: Session, campaign: Campaign, dossier: Dossier,
                      document_id: str, raw: str, account: FamilyAccount | None,
                      *, today: date | None = None) -> DossierDocument:
    """Record the date printed on a dated proof (a document with ``max_age_months``).

    A date too old is stored (the status then asks for a more recent proof); a date that is not
    a date, or in the future, is refused.

    :raises DocumentError: unknown or undated document, not editable, bad date.
    """
    rule = upload_rule(campaign, document_id)
    if rule is None or rule.is_field or rule.max_age_months is None:
        raise DocumentError(_("Document inconnu."), UploadCode.UNKNOWN)
    _check_editable(dossier, campaign, today, rule.id)
    _check_row(campaign, dossier, rule.id)
    day = parse_date(raw[:40])
    if day is None:
        raise DocumentError(_("Indiquez une date valide, par exemple 15/03/2027."), UploadCode.DATE)
    if day > (today or date.today()):
        raise DocumentError(_("La date du document ne peut pas être dans le futur."),
                            UploadCode.DATE)
    row = session.scalar(select(DossierDocument).where(
        DossierDocument.dossier_id == dossier.id, DossierDocument.document_id == rule.id))
    if row is None:
        row = DossierDocument(dossier=dossier, document_id=rule.id)
        session.add(row)
    row.document_date = day
    row.updated_by_id = account.id if account is not None else None
    _event(dossier, account, "document_dated", {"document": rule.id})
    _commit(session)
    return row
