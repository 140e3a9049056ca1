"""A per-row document (a justificatif per guardian) in the exports: the ZIP names each file
with its row, the dossiers table has one status column per row."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from engine.dossiers.campaigns import context_of
from engine.dossiers.diff import known_values
from engine.dossiers.versions import CampaignCache
from engine.exports.dossier_tables import dossiers_table
from engine.exports.tables import Format

from .kit import prefill, selection, submit
from .test_documents_zip import _archive, _file
from .test_tables import records

SLOT = "justificatif_responsabilite~1002"
COLUMN = "Document : Justificatif de responsabilité légale (Responsable légal {n})"


def _tutor(db_session: Session, make_dossier: Any) -> Any:
    """Léa's dossier, her second guardian (Paul DURAND, imported 1002) now her tuteur."""
    dossier = make_dossier(first_name="Léa", last_name="MARTIN", prefill=prefill())
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    responsables = known_values(campaign, context_of(dossier))["responsables"]
    responsables[1]["lien_parente"] = "50"
    return submit(db_session, dossier, {"responsables": responsables}, "famille")


def test_zip_names_each_file_with_its_row(app: Flask, db_session: Session,
                                          make_dossier: Any) -> None:
    dossier = _tutor(db_session, make_dossier)
    _file(app, db_session, dossier, SLOT, "jugement.pdf", b"%PDF-1 a")
    _file(app, db_session, dossier, SLOT, "page2.pdf", b"%PDF-1 b")
    _file(app, db_session, dossier, "attestation_assurance", "a.pdf", b"%PDF-1 c")
    named = "5B/MARTIN Léa/Justificatif de responsabilité légale \u2014 Paul DURAND"
    assert sorted(_archive(db_session, app).namelist()) == [
        "5B/MARTIN Léa/Attestation d'assurance scolaire 2027-2028.pdf",
        f"{named} (2).pdf", f"{named}.pdf"]
    # one document: every row's files
    assert sorted(_archive(db_session, app,
                           document_id="justificatif_responsabilite").namelist()) == [
        f"{named} (2).pdf", f"{named}.pdf"]


def test_dossiers_table_one_status_column_per_row(app: Flask, db_session: Session,
                                                  make_dossier: Any) -> None:
    dossier = _tutor(db_session, make_dossier)
    (row,) = records(dossiers_table(selection(db_session)), Format.CSV)
    assert (row[COLUMN.format(n=1)], row[COLUMN.format(n=2)]) == ("", "Manquant")
    _file(app, db_session, dossier, SLOT, "jugement.pdf", b"%PDF-1 a", "accepted")
    db_session.expire_all()
    (row,) = records(dossiers_table(selection(db_session)), Format.CSV)
    assert (row[COLUMN.format(n=1)], row[COLUMN.format(n=2)]) == ("", "Accepté")
