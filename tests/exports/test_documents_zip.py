"""The documents ZIP: its tree (division/NOM Prénom/document.ext), the choices (one document
type, one division, accepted only), written to a stream that cannot seek."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from engine.dossiers.listing import Filters
from engine.dossiers.models import Dossier, StoredFile
from engine.exports.documents_zip import clean_name, write_documents_zip
from engine.web.state import app_state

from .kit import prefill, selection


class OneWay(io.RawIOBase):
    """A stream that only moves forward, like a response being sent."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.data += bytes(b)
        return len(b)


def _file(app: Flask, session: Session, dossier: Dossier, document: str, name: str,
          data: bytes, status: str = "to_review", mime: str = "application/pdf") -> StoredFile:
    storage = app_state(app).storage
    stored = StoredFile(dossier_id=dossier.id, document_id=document, storage_key=storage.put(data),
                        filename=name, sha256="0" * 64, size=len(data), mime_type=mime,
                        review_status=status)
    session.add(stored)
    session.commit()
    return stored


def _archive(session: Session, app: Flask, **kwargs: Any) -> zipfile.ZipFile:
    filters = kwargs.pop("filters", Filters())
    out = OneWay()
    write_documents_zip(selection(session, filters=filters), app_state(app).storage, out,
                        **kwargs)
    return zipfile.ZipFile(io.BytesIO(bytes(out.data)))


def test_tree_and_choices(app: Flask, db_session: Session, make_dossier: Any) -> None:
    lea = make_dossier(first_name="Léa", last_name="Martin", prefill=prefill("Léa", "Martin"))
    zoe = make_dossier(first_name="Zoé", last_name="ARNAUD", prefill=prefill("Zoé", "ARNAUD",
                                                                              "5A"))
    _file(app, db_session, lea, "justificatif_domicile", "facture.PDF", b"%PDF-1 a",
          "accepted")
    _file(app, db_session, lea, "justificatif_domicile", "page2.jpg", b"\xff\xd8 b",
          mime="image/jpeg")
    _file(app, db_session, lea, "attestation_assurance", "assurance", b"%PDF-1 c", "refused")
    _file(app, db_session, zoe, "attestation_assurance", "a.pdf", b"%PDF-1 d", "accepted")

    every = _archive(db_session, app)
    assert sorted(every.namelist()) == [
        "5A/ARNAUD Zoé/Attestation d'assurance scolaire 2027-2028.pdf",
        "5B/MARTIN Léa/Attestation d'assurance scolaire 2027-2028.pdf",
        "5B/MARTIN Léa/Justificatif de domicile (2).jpg",
        "5B/MARTIN Léa/Justificatif de domicile.pdf"]
    assert every.read("5B/MARTIN Léa/Justificatif de domicile.pdf") == b"%PDF-1 a"
    assert sorted(_archive(db_session, app, accepted_only=True).namelist()) == [
        "5A/ARNAUD Zoé/Attestation d'assurance scolaire 2027-2028.pdf",
        "5B/MARTIN Léa/Justificatif de domicile.pdf"]
    assert _archive(db_session, app, document_id="justificatif_domicile",
                    filters=Filters(division="5A")).namelist() == []
    assert sorted(_archive(db_session, app, filters=Filters(division="5A")).namelist()) == [
        "5A/ARNAUD Zoé/Attestation d'assurance scolaire 2027-2028.pdf"]


def test_homonyms_and_missing_files(app: Flask, db_session: Session, make_dossier: Any) -> None:
    for _ in range(2):
        dossier = make_dossier(first_name="Léa", last_name="MARTIN", prefill=prefill())
        stored = _file(app, db_session, dossier, "attestation_assurance", "a.pdf", b"%PDF")
    app_state(app).storage.delete(stored.storage_key)
    archive = _archive(db_session, app)
    assert sorted(archive.namelist()) == [
        "5B/MARTIN Léa/Attestation d'assurance scolaire 2027-2028.pdf", "MANQUANTS.txt"]
    assert "5B/MARTIN Léa (2)/" in archive.read("MANQUANTS.txt").decode()


def test_names_are_safe_path_parts() -> None:
    assert clean_name("../..\\5/B:*") == "5 B"
    assert clean_name("  ") == "sans nom"
