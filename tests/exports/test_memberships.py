"""Association rosters: who joined what, from the figures frozen at submission."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask
from sqlalchemy.orm import Session

from engine.cli import main
from engine.dossiers.campaigns import context_of
from engine.dossiers.models import Dossier
from engine.dossiers.services import change_state, save_answers
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.versions import CampaignCache
from engine.exports.memberships import membership_rosters, roster_csv, write_rosters
from engine.rules import evaluate_dossier
from engine.web.state import app_state

SLUG = "reinscription-2026"


def sent(session: Session, dossier: Dossier, chosen: list[str], *,
         state: DossierState = DossierState.SUBMITTED) -> Dossier:
    """The family chose ``chosen`` and (unless ``state`` says otherwise) sent the dossier."""
    save_answers(session, dossier, dossier.row_version, {"adhesions": chosen}, "associations",
                 Actor.family(1))
    if state is DossierState.IN_PROGRESS:
        return dossier
    campaign = CampaignCache().campaign_of(dossier.campaign_version)
    money = evaluate_dossier(campaign, dossier.answers, context_of(dossier, date(2027, 6, 1)))
    change_state(session, dossier, dossier.row_version, DossierState.SUBMITTED,
                 Actor.family(1), computed=money.money())
    if state is DossierState.VALIDATED:
        change_state(session, dossier, dossier.row_version, state, Actor.staff(1))
    return dossier


def pupil(first: str, last: str, division: str) -> dict[str, Any]:
    return {"pupil": {"first_name": first, "last_name": last, "level": "5e",
                      "division": division}}


def test_rosters_list_sent_dossiers_per_association(db_session: Session, make_dossier) -> None:
    sent(db_session, make_dossier(first_name="Zoé", last_name="ARNAUD",
                                  prefill=pupil("Zoé", "ARNAUD", "5 B")), ["fse", "as"])
    sent(db_session, make_dossier(first_name="Léo", last_name="ARNAUD",
                                  prefill=pupil("Léo", "ARNAUD", "5 A")), ["fse"],
         state=DossierState.VALIDATED)
    sent(db_session, make_dossier(first_name="Inès", last_name="BENALI",
                                  prefill=pupil("Inès", "BENALI", "5 C")), ["as"],
         state=DossierState.IN_PROGRESS)

    fse, sport, donation = membership_rosters(db_session, SLUG)
    assert not donation.members  # nobody gave to the FCPE

    assert (fse.association_id, fse.label) == ("fse", "Foyer socio-éducatif (FSE)")
    assert [(m.first_name, m.division, str(m.fee), m.state) for m in fse.members] == [
        ("Léo", "5 A", "10.00", DossierState.VALIDATED),
        ("Zoé", "5 B", "10.00", DossierState.SUBMITTED)]
    assert str(fse.total) == "20.00"
    # Inès's dossier is not sent: her choice does not count yet
    assert [m.first_name for m in sport.members] == ["Zoé"] and str(sport.total) == "25.00"


def test_rosters_keep_the_fee_frozen_at_submission(db_session: Session, make_dossier) -> None:
    dossier = make_dossier(first_name="Zoé", last_name="ARNAUD",
                           prefill=pupil("Zoé", "ARNAUD", "5 B"))
    sent(db_session, dossier, ["fse"])
    source = dossier.campaign_version.source.replace('fee: "10.00"', 'fee: "12.00"')
    later = make_dossier(first_name="Noé", last_name="BRUN", source=source,
                         prefill=pupil("Noé", "BRUN", "5 D"))
    sent(db_session, later, ["fse"])

    fse = membership_rosters(db_session, SLUG)[0]

    assert [(m.first_name, str(m.fee)) for m in fse.members] == [("Zoé", "10.00"),
                                                                 ("Noé", "12.00")]


def test_roster_csv_and_command(app: Flask, db_session: Session, make_dossier,
                                tmp_path: Path) -> None:
    # a name a spreadsheet would run as a formula is written as text
    sent(db_session, make_dossier(first_name="=Zoé", prefill=pupil("=Zoé", "Martin", "5 B")),
         ["fse"])
    fse = membership_rosters(db_session, SLUG)[0]
    rows = list(csv.reader(io.StringIO(roster_csv(fse).decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Nom", "Prénom", "Classe", "Cotisation (€)", "Dossier"],
                    ["Martin", "'=Zoé", "5 B", "10,00", "Envoyé"]]
    assert [p.name for p in write_rosters(tmp_path, [fse], SLUG)] == [
        "adhesions-reinscription-2026-fse.csv"]

    env = {"DOSSIERSCO_DATABASE_URL": app_state(app).settings.database_url,
           "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance")}
    out = tmp_path / "listes"
    result = CliRunner().invoke(main, ["adhesions", "--campaign", SLUG, "--out", str(out)],
                                env=env)
    assert result.exit_code == 0, result.output
    assert "Foyer socio-éducatif (FSE) : 1 adhérent(s), 10,00" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["adhesions-reinscription-2026-as.csv",
                                                     "adhesions-reinscription-2026-fcpe.csv",
                                                     "adhesions-reinscription-2026-fse.csv"]
    unknown = CliRunner().invoke(main, ["adhesions", "--campaign", "inconnue"], env=env)
    assert unknown.exit_code == 1 and "Aucune campagne « inconnue »" in unknown.output
