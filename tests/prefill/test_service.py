"""The DB import service on both backends: accounts, guardianships, dossiers, re-import,
family changes, audience, dry run, refusal, last year's answers."""

from __future__ import annotations

import hashlib
import re
import textwrap
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine import security
from engine.campaign import Campaign, check_source, load_campaign, parse_source
from engine.db import Base
from engine.dossiers import accounts
from engine.dossiers.accounts import new_family_account, reissue_taken_logins
from engine.dossiers.imports import (
    ImportRefused,
    ImportReport,
    campaign_version_for,
    import_into,
)
from engine.dossiers.models import (
    CampaignVersion,
    Dossier,
    DossierEvent,
    FamilyAccount,
    Guardianship,
    Invitation,
    Pupil,
)
from engine.dossiers.review import correct_value
from engine.dossiers.states import Actor
from engine.dossiers.versions import CampaignCache
from engine.prefill import ImportResult, read_siecle, read_spreadsheet
from engine.rules import DossierContext, evaluate_dossier, prefill_value
from engine.security import generate_login, normalize_credential, verify_secret
from engine.web.state import app_state

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "campaigns" / "demo"
JEAN_MOULIN = ROOT / "campaigns" / "college-jean-moulin.yaml"
WHEN = datetime(2027, 5, 20, 8, 0, tzinfo=UTC)


def demo_files(**replace: str) -> list[tuple[str, bytes]]:
    """The demo exports, with text replaced (``old=new`` pairs given as a dict)."""
    files = []
    for path in sorted(DEMO.glob("*.xml")):
        data = path.read_bytes()
        for old, new in replace.items():
            data = data.replace(old.encode("iso-8859-15"), new.encode("iso-8859-15"))
        files.append((path.name, data))
    return files


def demo_result(pairs: dict[str, str] | None = None) -> ImportResult:
    result = read_siecle(*demo_files(**(pairs or {})), imported_at=WHEN)
    assert result.ok, result.problems
    return result


def row_counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables}


def run(session: Session, app: Flask, result: ImportResult, *, campaign: Campaign | None = None,
        source: str | None = None, **kwargs: object) -> ImportReport:
    campaign = campaign or load_campaign(JEAN_MOULIN)
    source = source or JEAN_MOULIN.read_text(encoding="utf-8")
    version = campaign_version_for(session, campaign, source)
    return import_into(session, campaign, version, result, hasher=app_state(app).hasher,
                       now=WHEN, **kwargs)  # type: ignore[arg-type]


def counts(report: ImportReport) -> dict[str, dict[str, int]]:
    return {kind: dict(c) for kind, c in report.counts().items()}


def dossier_of(session: Session, eleve_id: str) -> Dossier:
    dossier = session.scalar(select(Dossier).join(Dossier.pupil)
                             .where(Pupil.eleve_id == eleve_id))
    assert dossier is not None
    return dossier


def account_of(session: Session, personne_id: str) -> FamilyAccount:
    account = session.scalar(select(FamilyAccount)
                             .where(FamilyAccount.personne_id == personne_id))
    assert account is not None
    return account


def test_first_import(app: Flask, db_session: Session) -> None:
    report = run(db_session, app, demo_result())
    assert counts(report) == {
        "pupil": {"created": 4, "skipped": 1},
        "account": {"created": 4, "skipped": 1},
        "guardianship": {"created": 6},
        "dossier": {"created": 4},
    }
    assert row_counts(db_session)["dossier"] == 4
    # siblings share their parents' accounts: one account per PERSONNE_ID
    sophie = account_of(db_session, "8000001")
    assert sophie.display_name == "Sophie DURAND"
    assert sophie.email == "sophie.durand@example.org"
    pupils = sorted(g.pupil.first_name for g in sophie.guardianships)
    assert pupils == ["Hugo", "Léa"]
    assert sorted(g.pupil.first_name for g in account_of(db_session, "8000002").guardianships) \
        == ["Hugo", "Léa"]
    # the grandmother (responsibility level 2) gets no account
    assert db_session.scalar(select(FamilyAccount).where(
        FamilyAccount.personne_id == "8000004")) is None
    reasons = {reason for (_, _, reason) in report.reasons()}
    assert "pas représentant légal (niveau de responsabilité 2) : pas de compte" in reasons
    # one letter per account, codes in clear only in the report, hashed in the database
    assert len(report.credentials) == 4
    letter = next(c for c in report.credentials if c.personne_id == "8000001")
    assert letter.pupils == ["Léa DURAND", "Hugo DURAND"]
    assert sophie.code_hash.startswith("$dsco-code$v=1$k=")
    # the code as stored would be typed back: upper case, no dashes
    assert normalize_credential(letter.code) not in sophie.code_hash
    assert verify_secret(app_state(app).hasher, sophie.code_hash, letter.code)
    assert not report.conflicts


def test_prefill_and_provenance(app: Flask, db_session: Session) -> None:
    run(db_session, app, demo_result())
    dossier = dossier_of(db_session, "9000001")
    pupil = dossier.prefill["pupil"]
    assert (pupil["first_name"], pupil["first_name_2"], pupil["level"]) == ("Léa", "Maëlle", "5e")
    assert [g["personne_id"] for g in dossier.prefill["guardians"]] == ["8000001", "8000002"]
    assert dossier.prefill["guardians"][0]["email"] == "sophie.durand@example.org"
    birth = dossier.provenance["pupil.birth_date"]
    assert birth == {"source_file": "ElevesAvecAdresses.xml",
                     "element": "ELEVE[@ELEVE_ID=9000001]/DATE_NAISS",
                     "imported_at": WHEN.isoformat(), "line": birth["line"]}
    assert birth["line"] > 0
    email = dossier.provenance["guardians[0].email"]
    assert email["source_file"] == "ResponsablesAvecAdresses.xml"
    assert email["element"].endswith("/MEL")
    assert [e.kind for e in dossier.events] == ["created"]


def test_double_structure_keeps_the_class(app: Flask, db_session: Session) -> None:
    run(db_session, app, demo_result())
    ines = dossier_of(db_session, "9000003")
    assert ines.prefill["pupil"]["division"] == "4 B"
    assert ines.pupil.first_name == "Inès"


def test_audience_filter(app: Flask, db_session: Session) -> None:
    report = run(db_session, app, demo_result())
    assert ("pupil", "skipped", "hors du public de la campagne (audience)") in report.reasons()
    assert db_session.scalar(select(Pupil).where(Pupil.eleve_id == "9000004")) is None
    # Tom's mother is linked to no pupil of the campaign: no account for her
    assert db_session.scalar(select(FamilyAccount).where(
        FamilyAccount.personne_id == "8000005")) is None


def test_reimport_is_idempotent(app: Flask, db_session: Session) -> None:
    run(db_session, app, demo_result())
    before = row_counts(db_session)
    hashes = {a.login: a.code_hash for a in db_session.scalars(select(FamilyAccount))}
    again = run(db_session, app, demo_result())
    assert counts(again) == {
        "pupil": {"unchanged": 4, "skipped": 1},
        "account": {"unchanged": 4, "skipped": 1},
        "guardianship": {"unchanged": 6},
        "dossier": {"unchanged": 4},
    }
    assert again.credentials == []
    assert row_counts(db_session) == before
    assert {a.login: a.code_hash for a in db_session.scalars(select(FamilyAccount))} == hashes


def test_family_change_is_kept_and_flagged(app: Flask, db_session: Session) -> None:
    run(db_session, app, demo_result())
    lea = dossier_of(db_session, "9000001")
    lea.answers = {"prenom_2": "Maëlys", "prenom_3": None}
    db_session.commit()
    version = lea.row_version
    changed = demo_result({"<PRENOM2>Maëlle</PRENOM2>": "<PRENOM2>Maëla</PRENOM2><PRENOM3>Rose"
                                                         "</PRENOM3>",
                           "+33612345601": "+33699999901"})
    report = run(db_session, app, changed)
    assert counts(report)["dossier"] == {"updated": 2, "unchanged": 2}  # Léa and Hugo
    db_session.expire_all()
    lea = dossier_of(db_session, "9000001")
    assert lea.answers["prenom_2"] == "Maëlys"  # never overwritten
    assert lea.prefill["pupil"]["first_name_2"] == "Maëla"
    assert lea.prefill["pupil"]["first_name_3"] == "Rose"
    assert lea.row_version > version
    conflicts = [e.data for e in lea.events if e.kind == "import_conflict"]
    # prenom_3 was answered empty and the school now knows one: flagged too; the phone was
    # not answered by the family, so the new value simply applies
    assert conflicts == [{"field": "prenom_2", "prefill": "pupil.first_name_2"},
                         {"field": "prenom_3", "prefill": "pupil.first_name_3"}]
    assert [(c.field_id, c.pupil) for c in report.conflicts] == [
        ("prenom_2", "Léa DURAND"), ("prenom_3", "Léa DURAND")]
    assert any("prenom_2" in line and "modifié par la famille" in line
               for line in report.lines())
    # provenance: a changed value has this import's date, an unchanged one keeps its own
    assert lea.provenance["pupil.first_name_3"]["imported_at"] == WHEN.isoformat()
    assert [e.kind for e in lea.events] == ["created", "import_conflict", "import_conflict",
                                            "import_updated"]


def test_unchanged_values_keep_their_provenance(app: Flask, db_session: Session) -> None:
    run(db_session, app, demo_result())
    later = datetime(2027, 6, 2, tzinfo=UTC)
    result = read_siecle(*demo_files(**{"+33612345601": "+33699999901"}), imported_at=later)
    campaign = load_campaign(JEAN_MOULIN)
    version = campaign_version_for(db_session, campaign, JEAN_MOULIN.read_text("utf-8"))
    import_into(db_session, campaign, version, result, hasher=app_state(app).hasher, now=later)
    lea = dossier_of(db_session, "9000001")
    assert lea.provenance["guardians[0].phone_mobile"]["imported_at"] == later.isoformat()
    assert lea.provenance["pupil.birth_date"]["imported_at"] == WHEN.isoformat()


def test_dry_run_writes_nothing(app: Flask, db_session: Session) -> None:
    before = row_counts(db_session)
    report = run(db_session, app, demo_result(), dry_run=True)
    assert counts(report)["dossier"] == {"created": 4}
    assert report.credentials == []
    assert report.lines()[0].startswith("Simulation")
    assert row_counts(db_session) == before


def test_a_dry_run_reports_what_the_import_does_and_hashes_nothing(
        app: Flask, db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dry run writes and hashes nothing (its codes are dropped), on a first import and
    on a re-import with changes and new codes, and its report is the import's."""
    digest = security._code_digest
    calls: list[bytes] = []

    def counting(key: bytes, salt: bytes, code: str) -> bytes:
        calls.append(salt)
        return digest(key, salt, code)

    monkeypatch.setattr(security, "_code_digest", counting)
    for result, kwargs in ((demo_result(), {}),
                           (demo_result({"Sophie": "Sofia"}), {"reset_codes": True})):
        dry = run(db_session, app, result, dry_run=True, **kwargs)
        assert not calls
        real = run(db_session, app, result, **kwargs)
        assert calls
        calls.clear()
        assert counts(dry) == counts(real) and dry.reasons() == real.reasons()
        assert [o.key for o in dry.outcomes] == [o.key for o in real.outcomes]


@pytest.mark.parametrize("pairs", [
    {"<UAJ>0691234A</UAJ>": "<UAJ>0750001A</UAJ>"},  # another school's export
    {"<DATE_NAISS>14/03/2014</DATE_NAISS>": "<DATE_NAISS>31/02/2014</DATE_NAISS>"},
    {"9000002": "9000001"},  # duplicate ELEVE_ID
])
def test_refused_import_leaves_the_database_untouched(app: Flask, db_session: Session,
                                                       pairs: dict[str, str]) -> None:
    run(db_session, app, demo_result())
    before = row_counts(db_session)
    result = read_siecle(*demo_files(**pairs), imported_at=WHEN)
    with pytest.raises(ImportRefused) as refused:
        run(db_session, app, result)
    assert refused.value.problems[0].is_error
    assert row_counts(db_session) == before


@pytest.mark.parametrize(("pairs", "who"), [
    ({"<PRENOM>Hugo</PRENOM>": f"<PRENOM>{'H' * 101}</PRENOM>"}, "ELEVE_ID=9000002"),
    ({"sophie.durand@example.org": "s" * 250 + "@example.org"}, "PERSONNE_ID=8000001"),
])
def test_a_value_longer_than_its_column_is_refused(app: Flask, db_session: Session,
                                                   pairs: dict[str, str], who: str) -> None:
    with pytest.raises(ImportRefused) as refused:
        run(db_session, app, demo_result(pairs))
    assert [p.code for p in refused.value.problems] == ["VALUE_TOO_LONG"]
    assert who in refused.value.problems[0].message
    assert not any(row_counts(db_session).values())


def test_error_midway_rolls_everything_back(app: Flask, db_session: Session,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after some rows were written (here: the code hash, at the third account,
    after the first pupil's batch was flushed) leaves no trace."""
    calls = 0
    digest = security._code_digest

    def exploding(key: bytes, salt: bytes, code: str) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk full")
        return digest(key, salt, code)

    monkeypatch.setattr(security, "_code_digest", exploding)
    before = row_counts(db_session)
    campaign = load_campaign(JEAN_MOULIN)
    version = campaign_version_for(db_session, campaign, JEAN_MOULIN.read_text("utf-8"))
    with pytest.raises(RuntimeError):
        import_into(db_session, campaign, version, demo_result(),
                    hasher=app_state(app).hasher, now=WHEN, batch_size=1)
    assert calls == 3
    assert row_counts(db_session) == before


def test_one_account_across_schools(app: Flask, db_session: Session) -> None:
    run(db_session, app, demo_result())
    other = load_campaign(ROOT / "campaigns" / "college-les-tilleuls.yaml")
    source = (ROOT / "campaigns" / "college-les-tilleuls.yaml").read_text("utf-8")
    result = demo_result({"<UAJ>0691234A</UAJ>": "<UAJ>0751234K</UAJ>"})
    report = run(db_session, app, result, campaign=other, source=source)
    # Les Tilleuls takes 6e and 5e: Léa, Hugo, Jade; their parents already have accounts
    assert counts(report)["account"] == {"unchanged": 3}
    assert report.credentials == []
    sophie = account_of(db_session, "8000001")
    assert len(sophie.guardianships) == 4
    assert row_counts(db_session)["family_account"] == 4


def test_reset_codes_and_invitations(app: Flask, db_session: Session) -> None:
    first = run(db_session, app, demo_result())
    old = {c.login: c.code for c in first.credentials}
    report = run(db_session, app, demo_result(), reset_codes=True, invite=True)
    assert sorted(c.login for c in report.credentials) == sorted(old)
    hasher = app_state(app).hasher
    for cred in report.credentials:
        account = db_session.scalar(select(FamilyAccount).where(
            FamilyAccount.login == cred.login))
        assert account is not None
        assert verify_secret(hasher, account.code_hash, cred.code)
        assert not verify_secret(hasher, account.code_hash, old[cred.login])
        assert account.session_epoch == 1  # open sessions end with the old code
        assert (cred.invitation_token is not None) == bool(cred.email)
    # 3 of the 4 guardians have an e-mail address; only the SHA-256 of each token is stored
    tokens = [c.invitation_token for c in report.credentials if c.invitation_token]
    stored = set(db_session.scalars(select(Invitation.token_hash)))
    assert len(tokens) == 3
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}


def inline_campaign(slug: str, fields: str) -> tuple[Campaign, str]:
    """A one-page campaign of the demo school, compiled, with its text."""
    text = textwrap.dedent(f"""\
        language: 1
        id: {slug}
        title: Réinscription
        establishment: {{uai: "0691234A", name: Collège Jean Moulin}}
        opens: 2027-05-01
        closes: 2027-06-30
        pages:
          - id: eleve
            title: Élève
            fields:
        """) + textwrap.indent(textwrap.dedent(fields), " " * 6)
    compiled, diagnostics = check_source(parse_source(text, name=f"{slug}.yaml"))
    assert compiled is not None, diagnostics
    return compiled, text


REGIME = """\
- id: regime
  type: choice
  label: Régime
  choices: [{value: externe, label: Externe}, {value: dp, label: Demi-pensionnaire}]
"""
REGIME_FROM_LAST_YEAR = REGIME + """\
  prefill: previous.regime
- id: rappel
  type: info
  label: Rappel
  text: L'an dernier, votre enfant était externe.
  visible_if: previous.regime == "externe"
"""


def test_previous_year_answers_reach_the_new_campaign(app: Flask, db_session: Session) -> None:
    last_year = inline_campaign("reinscription-2026", REGIME)
    run(db_session, app, demo_result(), campaign=last_year[0], source=last_year[1])
    lea = dossier_of(db_session, "9000001")
    lea.answers = {"regime": "externe"}
    db_session.commit()

    this_year = inline_campaign("reinscription-2027", REGIME_FROM_LAST_YEAR)
    run(db_session, app, demo_result(), campaign=this_year[0], source=this_year[1])
    new = db_session.scalar(select(Dossier).join(Dossier.pupil).join(Dossier.campaign_version)
                            .where(Pupil.eleve_id == "9000001",
                                   Dossier.campaign_version_id != lea.campaign_version_id))
    assert new is not None
    assert new.prefill["previous"] == {"regime": "externe"}
    assert new.provenance["previous"]["campaign"] == "reinscription-2026"
    ctx = DossierContext(prefill=new.prefill)
    assert prefill_value(this_year[0].fields["regime"], ctx) == "externe"
    assert "rappel" in evaluate_dossier(this_year[0], {}, ctx).visible
    # Hugo's family answered nothing last year: no previous answers, the note stays hidden
    hugo = db_session.scalar(select(Dossier).join(Dossier.pupil).where(
        Pupil.eleve_id == "9000002", Dossier.campaign_version_id == new.campaign_version_id))
    assert hugo is not None and "previous" not in hugo.prefill
    assert "rappel" not in evaluate_dossier(this_year[0], {},
                                            DossierContext(prefill=hugo.prefill)).visible
    # importing again is still idempotent with last year's answers in the snapshot
    again = run(db_session, app, demo_result(), campaign=this_year[0], source=this_year[1])
    assert counts(again)["dossier"] == {"unchanged": 5}  # no audience: every pupil


def test_previous_answer_is_shown_to_the_family(app: Flask, client: FlaskClient,
                                                db_session: Session,
                                                login: Callable[[str, str], TestResponse]
                                                ) -> None:
    """End to end: last year's answer is the preselected choice of this year's wizard page."""
    last_year = inline_campaign("reinscription-2026", REGIME)
    first = run(db_session, app, demo_result(), campaign=last_year[0], source=last_year[1])
    dossier_of(db_session, "9000001").answers = {"regime": "externe"}
    db_session.commit()
    this_year = inline_campaign("reinscription-2027", REGIME_FROM_LAST_YEAR)
    run(db_session, app, demo_result(), campaign=this_year[0], source=this_year[1])
    new = db_session.scalar(select(Dossier).join(Dossier.pupil).join(Dossier.campaign_version)
                            .where(Pupil.eleve_id == "9000001",
                                   CampaignVersion.slug == "reinscription-2027"))
    assert new is not None
    sophie = next(c for c in first.credentials if c.personne_id == "8000001")
    assert login(sophie.login, sophie.code).status_code == 302
    page = client.get(f"/dossier/{new.public_id}/etape/eleve")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'value="externe" checked', html)
    assert "votre enfant était externe." in html  # the note shown on previous.regime


def test_spreadsheet_import(app: Flask, db_session: Session, tmp_path: Path) -> None:
    sheet = tmp_path / "eleves.csv"
    sheet.write_text("Id;Nom;Prénom;Naissance;MEF;Nom RL;Prénom RL;Courriel RL\n"
                     "E1;MARTIN;Zoé;01/02/2014;10110001110;MARTIN;Paul;paul@example.org\n"
                     "E2;MARTIN;Noé;03/04/2012;10310019110;MARTIN;Paul;paul@example.org\n",
                     encoding="utf-8")
    mapping = {"pupil": {"id": "Id", "last_name": "Nom", "first_name": "Prénom",
                         "birth_date": "Naissance", "mef_code": "MEF"},
               "guardians": [{"last_name": "Nom RL", "first_name": "Prénom RL",
                              "email": "Courriel RL"}]}
    result = read_spreadsheet(sheet, mapping, imported_at=WHEN)
    assert result.ok, result.problems
    report = run(db_session, app, result)
    assert counts(report)["dossier"] == {"created": 1}  # Noé is in 3e: not in the audience
    assert dossier_of(db_session, "E1").prefill["guardians"][0]["email"] == "paul@example.org"
    assert db_session.scalar(select(func.count()).select_from(Guardianship)) == 1
    assert db_session.scalar(select(func.count()).select_from(DossierEvent)) == 1


def test_login_clashes_are_reissued_before_the_flush(app: Flask, db_session: Session,
                                                     make_account: Callable[..., tuple[
                                                         FamilyAccount, str]]) -> None:
    existing, _ = make_account()
    taken: set[str] = set()
    hasher = app_state(app).hasher
    new, _ = new_family_account(db_session, hasher, display_name="Paul MARTIN", taken=taken)
    other, _ = new_family_account(db_session, hasher, display_name="Zoé MARTIN", taken=taken)
    new.login = existing.login  # what a one-in-10^15 draw would give
    taken.add(existing.login)
    kept = other.login
    reissue_taken_logins(db_session, [new, other], taken)
    assert new.login != existing.login and new.login in taken
    assert other.login == kept
    db_session.commit()
    assert row_counts(db_session)["family_account"] == 3


@pytest.mark.parametrize("batch_size", [1, 500])
def test_an_imported_login_already_taken_is_drawn_again(
        app: Flask, db_session: Session, monkeypatch: pytest.MonkeyPatch,
        make_account: Callable[..., tuple[FamilyAccount, str]], batch_size: int) -> None:
    """The import draws logins without asking the database; a login that an earlier account
    has is replaced before the batch is written (in every batch)."""
    existing, _ = make_account()
    draws = iter([existing.login, existing.login])
    monkeypatch.setattr(accounts, "generate_login",
                        lambda: next(draws, None) or generate_login())
    report = run(db_session, app, demo_result(), batch_size=batch_size)
    logins = [c.login for c in report.credentials]
    assert existing.login not in logins and len(set(logins)) == 4
    assert set(logins) == set(db_session.scalars(
        select(FamilyAccount.login).where(FamilyAccount.id != existing.id)))


@pytest.mark.parametrize("batch_size", [1, 2])
def test_small_batches_give_the_same_import(app: Flask, db_session: Session,
                                            batch_size: int) -> None:
    """Siblings in different batches still share one account; re-import stays idempotent."""
    report = run(db_session, app, demo_result(), batch_size=batch_size)
    assert counts(report)["account"] == {"created": 4, "skipped": 1}
    assert sorted(g.pupil.first_name for g in account_of(db_session, "8000001").guardianships) \
        == ["Hugo", "Léa"]
    assert row_counts(db_session)["dossier"] == 4
    logins = {c.login for c in report.credentials}
    assert logins == set(db_session.scalars(select(FamilyAccount.login)))
    run(db_session, app, demo_result({"+33612345601": "+33699999901"}), batch_size=batch_size)
    again = run(db_session, app, demo_result({"+33612345601": "+33699999901"}),
                batch_size=batch_size)
    assert counts(again)["dossier"] == {"unchanged": 4}


def test_refusal_also_drops_the_new_campaign_version(app: Flask, db_session: Session) -> None:
    result = read_siecle(*demo_files(**{"<UAJ>0691234A</UAJ>": "<UAJ>0750001A</UAJ>"}))
    with pytest.raises(ImportRefused) as refused:
        run(db_session, app, result)
    assert [p.code for p in refused.value.problems] == ["UAI_MISMATCH", "UAI_MISMATCH"]
    db_session.commit()
    assert not any(row_counts(db_session).values())


def test_an_edited_campaign_text_gives_no_second_dossier(app: Flask, db_session: Session) -> None:
    """Importing again after correcting the campaign file (a new version of the same campaign)
    updates each pupil's dossier; it does not open another one next to it."""
    run(db_session, app, demo_result())
    edited = JEAN_MOULIN.read_text(encoding="utf-8") + "\n# libellés corrigés\n"
    report = run(db_session, app, demo_result(), source=edited)
    assert counts(report)["dossier"] == {"unchanged": 4}
    assert row_counts(db_session)["dossier"] == 4
    assert row_counts(db_session)["campaign_version"] == 2
    # a new pupil of the audience gets a dossier of the new version
    added = demo_result({"9000003": "9000033"})
    report = run(db_session, app, added, source=edited)
    assert counts(report)["dossier"] == {"unchanged": 3, "created": 1}
    assert dossier_of(db_session, "9000033").campaign_version.source == edited


def test_a_value_written_another_way_is_no_conflict(app: Flask, db_session: Session) -> None:
    """The school's value is compared as its field type reads it (``same``), not as text."""
    run(db_session, app, demo_result())
    lea = dossier_of(db_session, "9000001")
    # a snapshot written as the file wrote the date, and a family that answered another day
    lea.prefill = {**lea.prefill, "pupil": {**lea.prefill["pupil"], "birth_date": "14/03/2014"}}
    lea.answers = {"date_naissance": "2014-03-20"}
    db_session.commit()
    report = run(db_session, app, demo_result())
    assert report.conflicts == []
    assert lea.prefill["pupil"]["birth_date"] == "2014-03-14"
    assert lea.pupil.birth_date == date(2014, 3, 14)  # the typed column, read by the field type
    # the school's date moving away from the answer is one
    report = run(db_session, app, demo_result({"14/03/2014": "15/03/2014"}))
    assert [c.field_id for c in report.conflicts] == ["date_naissance"]


def test_a_reimport_moving_a_row_the_school_corrected_is_a_conflict(
        app: Flask, db_session: Session, make_staff: Any) -> None:
    """The school's corrected rows win over the new import like the family's answer: the
    school is told the import moved."""
    run(db_session, app, demo_result())
    lea = dossier_of(db_session, "9000001")
    guardian = lea.prefill["guardians"][0]
    correct_value(db_session, CampaignCache().campaign_of(lea.campaign_version), lea,
                  lea.row_version, Actor.staff(make_staff().account.id),
                  "responsables.telephone_portable", "+33781223344",
                  row=str(guardian["personne_id"]))
    report = run(db_session, app, demo_result({guardian["phone_mobile"]: "+33699999901"}))
    assert "responsables" in [c.field_id for c in report.conflicts
                              if c.dossier_public_id == lea.public_id]


def test_an_import_leaves_the_query_planner_current_statistics(app: Flask,
                                                                 db_session: Session) -> None:
    """SQLite plans by the statistics ``ANALYZE`` gathers: without them the lookup of every
    family page counts a family's children by walking the campaign's dossiers."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL's autovacuum gathers its own statistics")
    run(db_session, app, demo_result())
    analysed = {table for (table,) in db_session.execute(text("SELECT tbl FROM sqlite_stat1"))}
    assert {"dossier", "guardianship", "pupil"} <= analysed
