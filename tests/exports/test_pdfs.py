"""The PDFs, read back with pypdf: récapitulatifs in bulk, fiches infirmerie (one page per
pupil), convocations with a new code for families who never logged in."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from engine.dossiers.listing import Filters
from engine.exports.pdfs import infirmary_pdf, letters_pdf, new_letters, recaps_pdf
from engine.security import verify_secret
from engine.web.state import app_state

from .kit import export_file, prefill, selection, submit
from conftest import _csrf_token


def pages(data: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def _written(function: Any, *args: Any) -> bytes:
    out = io.BytesIO()
    function(*args, out)
    return out.getvalue()


def test_recaps_in_bulk_per_division(db_session: Session, make_dossier: Any) -> None:
    submit(db_session, make_dossier(first_name="Léa", last_name="MARTIN", prefill=prefill()),
           {"regime": "dp4", "boursier": False}, "restauration")
    make_dossier(first_name="Zoé", last_name="ARNAUD", prefill=prefill("Zoé", "ARNAUD", "5A"))
    make_dossier(first_name="Noé", last_name="BRUN", prefill=prefill("Noé", "BRUN", "5B"))
    text = " ".join(pages(_written(recaps_pdf, selection(db_session,
                                                          filters=Filters(division="5B")))))
    assert "Récapitulatif du dossier de Léa MARTIN" in text
    assert "Récapitulatif du dossier de Noé BRUN" in text and "ARNAUD" not in text
    assert "604,80" in text


def test_fiches_infirmerie_one_page_per_pupil(db_session: Session, make_dossier: Any) -> None:
    lea = make_dossier(first_name="Léa", last_name="MARTIN", prefill=prefill())
    submit(db_session, lea, {"contacts_urgence": [
        {"_key": "c1", "nom": "Jeanne DURAND", "lien": "38", "telephone": "+33611223344"}]},
        "urgence")
    make_dossier(first_name="Zoé", last_name="ARNAUD", prefill=prefill("Zoé", "ARNAUD"))
    first, second = pages(_written(infirmary_pdf, selection(db_session)))
    assert "Fiche infirmerie — ARNAUD Zoé" in first and "Fiche infirmerie — MARTIN Léa" in second
    assert "Classe : 5B" in second and "Né(e) le : 02/03/2014" in second
    assert "Claire MARTIN (mere) : portable 06 12 34 56 78" in second
    assert "Jeanne DURAND" in second and "06 11 22 33 44" in second
    assert "Aucune personne indiquée" in first
    for label in ("Allergies", "Traitements en cours", "Projet d'accueil individualisé (PAI)",
                  "Signature d'un responsable légal", "enveloppe cachetée"):
        assert label in second


def test_convocations_only_for_families_who_never_logged_in(
        app: Flask, db_session: Session, make_dossier: Any, make_account: Any) -> None:
    never, _ = make_account("Claire MARTIN")
    came, _ = make_account("Paul ARNAUD")
    came.last_login_at = came.created_at
    db_session.commit()
    make_dossier(never, first_name="Léa", last_name="MARTIN", prefill=prefill())
    make_dossier(came, first_name="Zoé", last_name="ARNAUD", prefill=prefill("Zoé", "ARNAUD"))
    hasher = app_state(app).hasher
    letters = new_letters(db_session, hasher, selection(db_session))
    db_session.commit()
    assert [(letter.account.display_name, letter.pupils) for letter in letters] == [
        ("Claire MARTIN", ["Léa MARTIN"])]
    assert verify_secret(hasher, letters[0].account.code_hash, letters[0].code)
    (page,) = pages(_written(letters_pdf, letters, selection(db_session).campaign,
                             "https://dossiers.example.fr"))
    assert "À l'attention de Claire MARTIN" in page
    assert letters[0].account.login in page and letters[0].code in page
    assert "https://dossiers.example.fr" in page
    assert "remplace celui du premier courrier" in page
    assert "Documents à préparer" in page and "Règlement intérieur signé" in page


def test_routes(client: FlaskClient, db_session: Session, make_dossier: Any,
                make_account: Any, make_staff: Any, staff_login: Any) -> None:
    account, _ = make_account("Claire MARTIN")
    lea = make_dossier(account, first_name="Léa", last_name="MARTIN", prefill=prefill())
    make_dossier(first_name="Zoé", last_name="ARNAUD", prefill=prefill("Zoé", "ARNAUD"))
    base = "/etablissement/0750001A/reinscription-2026/exports"
    staff_login(make_staff(role="secretariat"))
    assert len(pages(export_file(client, f"{base}/recapitulatifs.pdf?classe=5B")
                     .get_data())) >= 2
    # the récapitulatif of any one dossier
    one = " ".join(pages(export_file(client, f"{base}/recapitulatifs.pdf?dossier={lea.public_id}")
                         .get_data()))
    assert "Léa MARTIN" in one and "ARNAUD" not in one
    assert client.post(f"{base}/fiches-infirmerie.pdf", data={
        "csrf_token": _csrf_token(client, "/etablissement/")}).status_code == 403
    page = client.get(f"{base}/convocations").get_data(as_text=True)
    assert "nouveau code" in page and "Claire MARTIN" in page
    response = export_file(client, f"{base}/convocations", f"{base}/convocations")
    assert response.mimetype == "application/pdf"
    assert "Claire MARTIN" in pages(response.get_data())[0]


def test_infirmerie_prints_the_fiches(client: FlaskClient, make_dossier: Any,
                                      make_staff: Any, staff_login: Any) -> None:
    make_dossier(first_name="Léa", last_name="MARTIN", prefill=prefill())
    staff_login(make_staff(role="infirmerie"))
    response = export_file(client, "/etablissement/0750001A/reinscription-2026/exports/"
                           "fiches-infirmerie.pdf")
    assert response.status_code == 200
    assert "Fiche infirmerie — MARTIN Léa" in pages(response.get_data())[0]


def test_command(app: Flask, db_session: Session, make_dossier: Any, make_account: Any,
                 tmp_path: Any) -> None:
    from click.testing import CliRunner

    from engine.cli import main

    account, _ = make_account("Claire MARTIN")
    make_dossier(account, first_name="Léa", last_name="MARTIN", prefill=prefill())
    env = {"DOSSIERSCO_DATABASE_URL": app_state(app).settings.database_url,
           "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance")}
    for kind, expected in (("recapitulatifs", "Récapitulatif du dossier de Léa MARTIN"),
                           ("fiches-infirmerie", "Fiche infirmerie — MARTIN Léa"),
                           ("convocations", "À l'attention de Claire MARTIN")):
        out = tmp_path / f"{kind}.pdf"
        result = CliRunner().invoke(main, ["export", "pdf", kind, "--uai", "0750001A",
                                           "--campaign", "reinscription-2026", "--classe",
                                           "5B", "--out", str(out)], env=env)
        assert result.exit_code == 0, result.output
        assert expected in pages(out.read_bytes())[0]
    db_session.refresh(account)
    assert account.session_epoch == 1  # the convocation replaced the code
