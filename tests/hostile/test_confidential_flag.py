"""Setting the confidential flag (issue 11, item 5): ``dossiersco guardian confidential`` on the
test database (audited, refused with a message for a wrong login or pupil), and the import
taking the flag from a spreadsheet column instead of writing False whatever the source says."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.campaign import load_campaign
from engine.cli import main
from engine.config import ROOT
from engine.dossiers.imports import import_into
from engine.dossiers.models import AuditEntry, Dossier, Guardianship, Pupil
from engine.dossiers.services import ensure_establishment
from engine.dossiers.versions import register_version
from engine.prefill.spreadsheet import read_spreadsheet
from engine.web.state import app_state

from .confkit import Account, CsrfToken, browser, html, leaks
from web.wizardkit import PREFILL, page_url

MakeAccount = Callable[..., Account]
MakeDossier = Callable[..., Dossier]
CAMPAIGN = ROOT / "campaigns" / "college-jean-moulin.yaml"


@pytest.fixture
def cli(app: Flask, database_url: str, tmp_path: Path) -> CliRunner:
    return CliRunner(env={"DOSSIERSCO_DATABASE_URL": database_url,
                          "DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
                          "DOSSIERSCO_SECRET_KEY": "test-secret-key",
                          "DOSSIERSCO_MAIL_URL": (tmp_path / "mail").as_uri()})


@pytest.fixture
def family(make_account: MakeAccount, make_dossier: MakeDossier,
           ) -> tuple[Account, Account, Dossier]:
    mother = make_account("Claire Martin", personne_id="1001")
    father = make_account("Paul Durand", personne_id="1002")
    return mother, father, make_dossier(mother[0], father[0], prefill=PREFILL)


def _flags(db_session: Session) -> dict[int, bool]:
    db_session.expire_all()
    return {g.account_id: g.confidential_contact
            for g in db_session.scalars(select(Guardianship))}


def test_the_command_sets_and_unsets_the_flag_and_the_pages_follow(
        app: Flask, cli: CliRunner, db_session: Session, csrf_token: CsrfToken,
        family: tuple[Account, Account, Dossier]) -> None:
    mother, father, dossier = family
    mum = browser(app, csrf_token, mother)
    famille = page_url(dossier.public_id, "famille")
    assert leaks(html(mum, famille)) != []  # not confidential yet: she sees his contact
    login = father[0].login.lower()  # typed as the letter shows it, in any case
    result = cli.invoke(main, ["guardian", "confidential", login])
    assert result.exit_code == 0, result.output
    assert "Les coordonnées de Paul Durand sont confidentielles pour : Léa Martin." in \
        result.output
    assert _flags(db_session) == {mother[0].id: False, father[0].id: True}
    assert leaks(html(mum, famille)) == []
    again = cli.invoke(main, ["guardian", "confidential", login])
    assert again.exit_code == 0 and "Rien à changer" in again.output
    off = cli.invoke(main, ["guardian", "confidential", login, "--off"])
    assert off.exit_code == 0 and "ne sont plus confidentielles" in off.output
    assert _flags(db_session)[father[0].id] is False
    assert leaks(html(mum, famille)) != []
    actions = list(db_session.scalars(select(AuditEntry.data)
                                      .where(AuditEntry.action == "confidential_contact")))
    assert [a["on"] for a in actions] == [True, False]


@pytest.mark.parametrize("args,message", [
    (["NOBODY00"], "Aucun compte famille"),
    (["{login}", "--pupil", "E-UNKNOWN"], "n'est pas responsable légal de l'élève"),
    (["{login}", "--pupil", ""], "n'est pas responsable légal de l'élève"),
    (["--off"], "Missing argument"),
])
def test_the_command_refuses_what_it_cannot_do(
        cli: CliRunner, db_session: Session, family: tuple[Account, Account, Dossier],
        args: list[str], message: str) -> None:
    _mother, father, _dossier = family
    result = cli.invoke(main, ["guardian", "confidential",
                               *[a.format(login=father[0].login) for a in args]])
    assert result.exit_code != 0
    assert message in result.output
    assert not any(_flags(db_session).values())


def test_the_command_limits_the_flag_to_one_pupil(
        cli: CliRunner, db_session: Session, make_dossier: MakeDossier,
        family: tuple[Account, Account, Dossier]) -> None:
    mother, father, dossier = family
    sibling = make_dossier(mother[0], father[0], prefill=PREFILL, first_name="Tom")
    result = cli.invoke(main, ["guardian", "confidential", father[0].login,
                               "--pupil", str(sibling.pupil.eleve_id)])
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    flags = {(g.account_id, g.pupil_id): g.confidential_contact
             for g in db_session.scalars(select(Guardianship))}
    assert flags[(father[0].id, sibling.pupil_id)] is True
    assert flags[(father[0].id, dossier.pupil_id)] is False


SHEET = ("Id;Nom;Prénom;Naissance;MEF;Id RL;Nom RL;Prénom RL;Confidentiel RL\n"
         "E1;MARTIN;Zoé;01/02/2014;10110001110;P1;MARTIN;Paul;{flag}\n")


def _import(app: Flask, db_session: Session, tmp_path: Path, flag: str) -> None:
    sheet = tmp_path / "eleves.csv"
    sheet.write_text(SHEET.format(flag=flag), encoding="utf-8")
    mapping = {"pupil": {"id": "Id", "last_name": "Nom", "first_name": "Prénom",
                         "birth_date": "Naissance", "mef_code": "MEF"},
               "guardians": [{"id": "Id RL", "last_name": "Nom RL", "first_name": "Prénom RL",
                              "confidential_contact": "Confidentiel RL"}]}
    when = datetime(2027, 5, 20, 8, 0, tzinfo=UTC)
    result = read_spreadsheet(sheet, mapping, imported_at=when)
    assert result.ok, result.problems
    campaign = load_campaign(CAMPAIGN)
    source = CAMPAIGN.read_text(encoding="utf-8")
    establishment = ensure_establishment(db_session, uai=campaign.establishment.uai,
                                         name=campaign.establishment.name)
    version = register_version(db_session, establishment, slug=campaign.id,
                               title=campaign.title.get(), source=source)
    db_session.commit()
    import_into(db_session, campaign, version, result, hasher=app_state(app).hasher, now=when)


@pytest.mark.parametrize("first,then,expected", [
    ("oui", "", True), ("non", "", False), ("", "", False), ("oui", "non", False),
    ("non", "oui", True), ("", "oui", True)])
def test_the_import_reads_the_flag_when_the_source_carries_it(
        app: Flask, db_session: Session, tmp_path: Path, first: str, then: str,
        expected: bool) -> None:
    """An empty cell says nothing: a second import keeps the flag the first one (or the
    command) set; a value in the source sets it."""
    _import(app, db_session, tmp_path, first)
    _import(app, db_session, tmp_path, then)
    db_session.expire_all()
    link = db_session.scalar(select(Guardianship).join(Guardianship.pupil)
                             .where(Pupil.eleve_id == "E1"))
    assert link is not None and link.confidential_contact is expected
