"""Documents of a dossier: what applies and why, freshness, and the file services (real DB,
real storage folder, real generated files)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from flask import Flask
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from engine.campaign import Campaign, load_campaign, load_campaign_text
from engine.config import ROOT
from engine.dossiers.documents import (
    MAX_FILES_PER_DOSSIER,
    DocumentError,
    add_files,
    delete_file,
    document_errors,
    document_statuses,
    freshness_problem,
    replace_file,
    set_document_date,
    upload_rule,
)
from engine.dossiers.models import Dossier, DossierEvent, FamilyAccount, StoredFile
from engine.dossiers.services import change_state
from engine.dossiers.states import Actor, DossierState
from engine.rules import DossierContext, evaluate_dossier
from engine.storage import Storage
from engine.web.documents import http_status
from engine.web.state import app_state

EXAMPLE = ROOT / "campaigns" / "college-jean-moulin.yaml"
TODAY = date(2027, 6, 10)
#: the example campaign's answers that make the canteen documents apply
CANTEEN = {"regime": "dp4", "quotient_familial": "700", "boursier": True}

FIELD_CAMPAIGN = """\
language: 1
id: photo
title: Photo
establishment: {uai: "0123456A", name: Collège Test}
opens: 2027-05-01
closes: 2027-06-30
pages:
  - id: eleve
    title: Élève
    fields:
      - id: photo
        type: file
        label: Photo d'identité
        accept: [jpeg, png]
        max_size: 1MB
        max_files: 2
"""


# -- real sample files -----------------------------------------------------------------------

def pdf_bytes(text: str = "Attestation d'assurance scolaire") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (120, 80)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, fmt)
    return out.getvalue()


def javascript_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes())))
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"),
        NameObject("/JS"): TextStringObject("app.alert('bonjour');")})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


#: a Windows executable renamed to .pdf
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 400


def truncated_jpeg() -> bytes:
    data = image_bytes(size=(400, 300))
    return data[: len(data) // 2]


# -- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return load_campaign(EXAMPLE)


@pytest.fixture
def storage_url(any_storage_url: str) -> str:
    return any_storage_url


@pytest.fixture
def storage(app: Flask) -> Storage:
    """The app's storage: the local folder, then an S3 bucket."""
    return app_state(app).storage


@pytest.fixture
def family(make_account: Any) -> FamilyAccount:
    account, _code = make_account()
    return account  # type: ignore[no-any-return]


@pytest.fixture
def dossier(make_dossier: Any, family: FamilyAccount) -> Dossier:
    return make_dossier(family)  # type: ignore[no-any-return]


def objects(storage: Storage) -> list[str]:
    return sorted(o.key for o in storage.objects())


def statuses_of(campaign: Campaign, dossier: Dossier, answers: dict[str, Any],
                today: date = TODAY) -> dict[str, Any]:
    evaluation = evaluate_dossier(campaign, answers, DossierContext(today=today))
    return {s.slot: s for s in document_statuses(campaign, evaluation, dossier, today=today)}


# -- what applies, and why -------------------------------------------------------------------

def test_conditional_documents_appear_when_an_answer_changes(
        campaign: Campaign, dossier: Dossier) -> None:
    before = statuses_of(campaign, dossier, {"regime": "externe"})
    assert not before["attestation_caf"].applies
    assert not before["notification_bourse"].applies
    assert before["attestation_assurance"].applies and before["attestation_assurance"].required
    after = statuses_of(campaign, dossier, CANTEEN)
    caf = after["attestation_caf"]
    assert caf.applies and caf.required
    assert caf.reason == "Demandée pour appliquer le tarif de demi-pension de votre quotient " \
                         "familial."
    assert after["notification_bourse"].applies
    # the reason of a hidden document is ready for the browser to reveal it
    assert before["notification_bourse"].reason.startswith("Demandé car ")
    # every document in campaign order; a per-row one has a slot per row (no row here)
    assert list(after) == [d.id for d in campaign.documents if d.for_each is None]


def test_missing_required_documents_are_submission_errors(
        campaign: Campaign, dossier: Dossier) -> None:
    evaluation = evaluate_dossier(campaign, {"regime": "externe"}, DossierContext(today=TODAY))
    errors = document_errors(document_statuses(campaign, evaluation, dossier, today=TODAY))
    assert set(errors) == {"attestation_assurance", "fiche_infirmerie", "reglement_interieur"}
    assert errors["fiche_infirmerie"] == [
        "Ce document est obligatoire : ajoutez au moins un fichier."]


def test_optional_document_applies_without_being_required(dossier: Dossier) -> None:
    text = FIELD_CAMPAIGN + """\
documents:
  - id: rib
    label: RIB
    required: false
"""
    campaign = load_campaign_text(text)
    status = statuses_of(campaign, dossier, {})["rib"]
    assert status.applies and not status.required and status.problems == []
    assert document_errors([status]) == {}


@pytest.mark.parametrize(("declared", "problem"), [
    (date(2027, 3, 10), None),  # exactly three months: still fresh
    (date(2027, 6, 10), None),
    (date(2027, 3, 9), "Ce document date de plus de 3 mois : envoyez un justificatif plus "
                       "récent."),
    (date(2027, 6, 11), "La date du document ne peut pas être dans le futur."),
    (None, "Indiquez la date figurant sur le document."),
])
def test_freshness_rule_edges(declared: date | None, problem: str | None) -> None:
    assert freshness_problem(declared, 3, TODAY) == problem


def test_freshness_at_the_end_of_a_long_month() -> None:
    # 31 May minus 3 months is 28 February (2027 is not a leap year)
    assert freshness_problem(date(2027, 2, 28), 3, date(2027, 5, 31)) is None
    assert freshness_problem(date(2027, 2, 27), 3, date(2027, 5, 31)) is not None


def test_declared_date_drives_the_freshness_problem(
        db_session: Session, storage: Storage, campaign: Campaign, dossier: Dossier,
        family: FamilyAccount) -> None:
    add_files(db_session, storage, campaign, dossier, "attestation_caf",
              [(pdf_bytes(), "caf.pdf")], family, today=TODAY)
    assert statuses_of(campaign, dossier, CANTEEN)["attestation_caf"].problems == [
        "Indiquez la date figurant sur le document."]
    set_document_date(db_session, campaign, dossier, "attestation_caf", "2027-01-15", family,
                      today=TODAY)
    db_session.expire_all()
    caf = statuses_of(campaign, dossier, CANTEEN)["attestation_caf"]
    assert caf.document_date == date(2027, 1, 15)
    assert document_errors([caf]) == {"attestation_caf": [
        "Ce document date de plus de 3 mois : envoyez un justificatif plus récent."]}
    set_document_date(db_session, campaign, dossier, "attestation_caf", "15/05/2027", family,
                      today=TODAY)
    db_session.expire_all()
    assert statuses_of(campaign, dossier, CANTEEN)["attestation_caf"].problems == []


@pytest.mark.parametrize(("document_id", "raw", "status"), [
    ("attestation_caf", "pas une date", 422),
    ("attestation_caf", "2027-13-01", 422),
    ("attestation_caf", "2030-01-01", 422),
    ("attestation_assurance", "2027-01-01", 404),  # no freshness rule: no date to give
    ("inconnu", "2027-01-01", 404),
])
def test_bad_declared_dates_are_refused(db_session: Session, campaign: Campaign,
                                        dossier: Dossier, family: FamilyAccount,
                                        document_id: str, raw: str, status: int) -> None:
    with pytest.raises(DocumentError) as refused:
        set_document_date(db_session, campaign, dossier, document_id, raw, family, today=TODAY)
    assert http_status(refused.value) == status
    assert dossier.documents == []


# -- adding, replacing, deleting files -------------------------------------------------------

def test_recto_verso_are_two_files_of_one_document(
        db_session: Session, storage: Storage, campaign: Campaign, dossier: Dossier,
        family: FamilyAccount) -> None:
    rows = add_files(db_session, storage, campaign, dossier, "attestation_assurance",
                     [(image_bytes(), "recto.jpg"), (image_bytes("PNG"), "verso.png")], family, today=TODAY)
    assert [(r.filename, r.mime_type) for r in rows] == [("recto.jpg", "image/jpeg"),
                                                         ("verso.png", "image/png")]
    assert len(objects(storage)) == 2
    status = statuses_of(campaign, dossier, {})["attestation_assurance"]
    assert [f.public_id for f in status.files] == [r.public_id for r in rows]
    assert status.problems == [] and not status.can_add
    event = db_session.scalars(select(DossierEvent).where(
        DossierEvent.kind == "file_added")).one()
    assert event.data == {"document": "attestation_assurance", "count": 2}
    assert event.actor_id == str(family.id)


@pytest.mark.parametrize(("uploads", "status", "code"), [
    ([(EXE, "attestation.pdf")], 415, "type"),
    ([(javascript_pdf(), "attestation.pdf")], 422, "active_content"),
    ([(truncated_jpeg(), "photo.jpg")], 422, "corrupt"),
    ([(b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024), "gros.pdf")], 413, "too_large"),
    ([(b"", "vide.pdf")], 422, "empty"),
    ([], 400, "missing"),
    # one bad file among good ones: none is kept
    ([(pdf_bytes(), "a.pdf"), (EXE, "b.pdf")], 415, "type"),
    ([(pdf_bytes(), "a.pdf"), (pdf_bytes(), "b.pdf"), (pdf_bytes(), "c.pdf")], 422,
     "too_many_files"),
])
def test_bad_uploads_write_nothing(db_session: Session, storage: Storage,
                                   campaign: Campaign, dossier: Dossier, family: FamilyAccount,
                                   uploads: list[tuple[bytes, str]], status: int,
                                   code: str) -> None:
    with pytest.raises(DocumentError) as refused:
        add_files(db_session, storage, campaign, dossier, "attestation_assurance", uploads,
                  family, today=TODAY)
    assert (http_status(refused.value), refused.value.code) == (status, code)
    assert refused.value.message
    assert objects(storage) == []
    assert db_session.scalar(select(func.count(StoredFile.id))) == 0


def test_a_bad_file_among_several_is_named(db_session: Session, storage: Storage,
                                           campaign: Campaign, dossier: Dossier,
                                           family: FamilyAccount) -> None:
    with pytest.raises(DocumentError) as refused:
        add_files(db_session, storage, campaign, dossier, "attestation_assurance",
                  [(pdf_bytes(), "bon.pdf"), (EXE, "programme.pdf")], family, today=TODAY)
    assert refused.value.message.startswith("programme.pdf : Ce type de fichier n'est pas "
                                            "accepté.")


def test_the_accept_list_of_the_document_is_respected(
        db_session: Session, storage: Storage, campaign: Campaign, dossier: Dossier,
        family: FamilyAccount) -> None:
    # attestation_caf accepts pdf, jpeg, png: a HEIC photo is refused by content
    rule = upload_rule(campaign, "attestation_caf")
    assert rule is not None and rule.accept == ("pdf", "jpeg", "png")
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(DocumentError) as refused:
        add_files(db_session, storage, campaign, dossier, "attestation_caf",
                  [(heic, "photo.heic")], family, today=TODAY)
    assert http_status(refused.value) == 415
    assert "Formats acceptés : JPEG, PDF, PNG." in refused.value.message


def test_max_files_counts_files_already_sent(db_session: Session, storage: Storage,
                                             campaign: Campaign, dossier: Dossier,
                                             family: FamilyAccount) -> None:
    add_files(db_session, storage, campaign, dossier, "attestation_assurance",
              [(pdf_bytes(), "a.pdf"), (pdf_bytes(), "b.pdf")], family, today=TODAY)
    with pytest.raises(DocumentError) as refused:
        add_files(db_session, storage, campaign, dossier, "attestation_assurance",
                  [(pdf_bytes(), "c.pdf")], family, today=TODAY)
    assert refused.value.code == "too_many_files"
    assert "au plus 2 fichier(s) ; 2 déjà envoyé(s)" in refused.value.message
    assert len(objects(storage)) == 2


def test_a_dossier_holds_at_most_twenty_files(db_session: Session, storage: Storage,
                                              dossier: Dossier, family: FamilyAccount) -> None:
    documents = "".join(f"  - {{id: d{n}, label: Pièce {n}, max_files: 3}}\n" for n in range(8))
    campaign = load_campaign_text(FIELD_CAMPAIGN + "documents:\n" + documents)
    one = pdf_bytes()
    for n in range(6):
        add_files(db_session, storage, campaign, dossier, f"d{n}", [(one, "p.pdf")] * 3, family, today=TODAY)
    add_files(db_session, storage, campaign, dossier, "d6", [(one, "p.pdf")] * 2, family, today=TODAY)
    with pytest.raises(DocumentError) as refused:
        add_files(db_session, storage, campaign, dossier, "d7", [(one, "p.pdf")], family, today=TODAY)
    assert refused.value.code == "dossier_full"
    assert len(objects(storage)) == MAX_FILES_PER_DOSSIER


def test_unknown_document_is_refused(db_session: Session, storage: Storage,
                                     campaign: Campaign, dossier: Dossier,
                                     family: FamilyAccount) -> None:
    with pytest.raises(DocumentError) as refused:
        add_files(db_session, storage, campaign, dossier, "../../etc/passwd",
                  [(pdf_bytes(), "a.pdf")], family, today=TODAY)
    assert http_status(refused.value) == 404


def test_replace_swaps_row_and_object(db_session: Session, storage: Storage,
                                      campaign: Campaign, dossier: Dossier,
                                      family: FamilyAccount) -> None:
    (old,) = add_files(db_session, storage, campaign, dossier, "fiche_infirmerie",
                       [(pdf_bytes("v1"), "fiche.pdf")], family, today=TODAY)
    old_id, old_object = old.public_id, objects(storage)
    new = replace_file(db_session, storage, campaign, dossier, old,
                       [(image_bytes(), "fiche-signee.jpg")], family, today=TODAY)
    assert new.public_id != old_id and new.filename == "fiche-signee.jpg"
    assert db_session.scalars(select(StoredFile.public_id)).all() == [new.public_id]
    remaining = objects(storage)
    assert len(remaining) == 1 and remaining != old_object


def test_a_refused_replacement_keeps_the_old_file(db_session: Session, storage: Storage,
                                                  campaign: Campaign, dossier: Dossier,
                                                  family: FamilyAccount) -> None:
    (old,) = add_files(db_session, storage, campaign, dossier, "fiche_infirmerie",
                       [(pdf_bytes(), "fiche.pdf")], family, today=TODAY)
    before = objects(storage)
    for uploads in ([(EXE, "x.pdf")], [], [(pdf_bytes(), "a.pdf"), (pdf_bytes(), "b.pdf")]):
        with pytest.raises(DocumentError):
            replace_file(db_session, storage, campaign, dossier, old, uploads, family, today=TODAY)
    assert objects(storage) == before
    assert db_session.scalars(select(StoredFile.public_id)).all() == [old.public_id]


def test_delete_removes_row_then_object(db_session: Session, storage: Storage,
                                        campaign: Campaign, dossier: Dossier,
                                        family: FamilyAccount) -> None:
    first, second = add_files(db_session, storage, campaign, dossier, "reglement_interieur",
                              [(pdf_bytes(), "p1.pdf"), (pdf_bytes(), "p2.pdf")], family, today=TODAY)
    delete_file(db_session, storage, campaign, dossier, first, family, today=TODAY)
    assert db_session.scalars(select(StoredFile.public_id)).all() == [second.public_id]
    assert len(objects(storage)) == 1


def test_a_failed_delete_commit_keeps_the_object(db_session: Session, storage: Storage,
                                                 campaign: Campaign, dossier: Dossier,
                                                 family: FamilyAccount) -> None:
    """The object goes only once the row is gone: never a row pointing at nothing."""
    (stored,) = add_files(db_session, storage, campaign, dossier, "fiche_infirmerie",
                          [(pdf_bytes(), "f.pdf")], family, today=TODAY)

    def refuse(*_args: Any) -> None:
        raise RuntimeError("database down")

    event.listen(db_session, "before_commit", refuse)
    try:
        with pytest.raises(RuntimeError):
            delete_file(db_session, storage, campaign, dossier, stored, family, today=TODAY)
    finally:
        event.remove(db_session, "before_commit", refuse)
    assert db_session.scalar(select(func.count(StoredFile.id))) == 1
    assert storage.exists(db_session.scalars(select(StoredFile.storage_key)).one())


def test_a_failed_insert_removes_the_new_object(db_session: Session, storage: Storage,
                                                campaign: Campaign, dossier: Dossier,
                                                family: FamilyAccount) -> None:
    def refuse(*_args: Any) -> None:
        raise RuntimeError("database down")

    event.listen(db_session, "before_commit", refuse)
    try:
        with pytest.raises(RuntimeError):
            add_files(db_session, storage, campaign, dossier, "fiche_infirmerie",
                      [(pdf_bytes(), "f.pdf")], family, today=TODAY)
    finally:
        event.remove(db_session, "before_commit", refuse)
    assert objects(storage) == []
    assert db_session.scalar(select(func.count(StoredFile.id))) == 0


def test_nothing_changes_once_the_dossier_is_submitted(
        db_session: Session, storage: Storage, campaign: Campaign, dossier: Dossier,
        family: FamilyAccount) -> None:
    (stored,) = add_files(db_session, storage, campaign, dossier, "fiche_infirmerie",
                          [(pdf_bytes(), "f.pdf")], family, today=TODAY)
    actor = Actor.family(family.id)
    change_state(db_session, dossier, dossier.row_version, DossierState.IN_PROGRESS, actor)
    change_state(db_session, dossier, dossier.row_version, DossierState.SUBMITTED, actor)
    attempts = [
        lambda: add_files(db_session, storage, campaign, dossier, "fiche_infirmerie",
                          [(pdf_bytes(), "g.pdf")], family, today=TODAY),
        lambda: replace_file(db_session, storage, campaign, dossier, stored,
                             [(pdf_bytes(), "g.pdf")], family, today=TODAY),
        lambda: delete_file(db_session, storage, campaign, dossier, stored, family, today=TODAY),
        lambda: set_document_date(db_session, campaign, dossier, "justificatif_domicile",
                                  "2027-06-01", family, today=TODAY),
    ]
    for attempt in attempts:
        with pytest.raises(DocumentError) as refused:
            attempt()
        assert (http_status(refused.value), refused.value.code) == (409, "not_editable")
    assert len(objects(storage)) == 1
    assert db_session.scalar(select(func.count(StoredFile.id))) == 1


def test_file_field_answer_follows_its_files(db_session: Session, storage: Storage,
                                             dossier: Dossier, family: FamilyAccount) -> None:
    campaign = load_campaign_text(FIELD_CAMPAIGN)
    rule = upload_rule(campaign, "photo")
    assert rule is not None and rule.is_field and rule.max_size == 1024 * 1024
    first, second = add_files(db_session, storage, campaign, dossier, "photo",
                              [(image_bytes(), "a.jpg"), (image_bytes("PNG"), "b.png")], family, today=TODAY)
    assert dossier.answers["photo"] == [first.public_id, second.public_id]
    new = replace_file(db_session, storage, campaign, dossier, first,
                       [(image_bytes(), "c.jpg")], family, today=TODAY)
    assert dossier.answers["photo"] == [new.public_id, second.public_id]
    delete_file(db_session, storage, campaign, dossier, second, family, today=TODAY)
    assert dossier.answers["photo"] == [new.public_id]
    with pytest.raises(DocumentError) as refused:  # the field accepts images only
        add_files(db_session, storage, campaign, dossier, "photo", [(pdf_bytes(), "a.pdf")],
                  family, today=TODAY)
    assert http_status(refused.value) == 415
