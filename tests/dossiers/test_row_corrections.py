"""The school's correction of one field of a repeat's row (a guardian's phone in row 2): stored
apart from the family's answers, under the repeat's rows and the cell's location; the
family's next different answer for that cell replaces it alone; a health row's cell is
sealed."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from engine.campaign import load_campaign_text
from engine.campaign.model import Campaign
from engine.dossiers import sealed
from engine.dossiers.campaigns import context_of
from engine.dossiers.corrected import answered_rows, cell_key, corrected_answers, split_cell
from engine.dossiers.diff import dossier_changes
from engine.dossiers.models import Dossier
from engine.dossiers.review import ReviewError, correct_value
from engine.dossiers.services import StaleDossierError, save_answers
from engine.dossiers.states import Actor
from engine.dossiers.versions import CampaignCache

from conftest import MakeAccount, MakeDossier, MakeStaff

GUARDIANS: list[dict[str, Any]] = [
    {"personne_id": "1001", "last_name": "MARTIN", "first_name": "Claire",
     "phone_mobile": "0612345678", "email": "claire@example.fr"},
    {"personne_id": "1002", "last_name": "DURAND", "first_name": "Paul",
     "phone_mobile": "0798765432"},
]
PHONE_2 = cell_key("responsables", "1002", "telephone_portable")
EXAMPLE = Path(__file__).resolve().parents[2] / "campaigns" / "college-jean-moulin.yaml"


@given(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True), st.text(min_size=1),
       st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True))
def test_a_cells_key_names_its_repeat_row_and_field_whatever_the_row_key(
        repeat: str, row: str, child: str) -> None:
    assert split_cell(cell_key(repeat, row, child)) == (repeat, row, child)
    assert split_cell(repeat) is None


def test_corrected_answers_take_the_corrected_rows_not_the_cells() -> None:
    rows = [{"_key": "1002", "telephone_portable": "+33781223344"}]
    assert corrected_answers({"nom": "MARTIN", "responsables": []},
                             {"responsables": rows, PHONE_2: "+33781223344"}) \
        == {"nom": "MARTIN", "responsables": rows}


def _campaign(dossier: Dossier) -> Campaign:
    return CampaignCache().campaign_of(dossier.campaign_version)


def test_the_family_leaving_a_cell_as_it_is_keeps_it_corrected_and_changing_it_takes_it_back(
        db_session: Session, make_dossier: MakeDossier) -> None:
    campaign = _campaign(make_dossier())
    corrections = {"nom": "X", "responsables": [{"_key": "1001"}, {"_key": "1002"}],
                   PHONE_2: "+33781223344"}
    posted = [{"_key": "1001", "email": "new@example.fr"},
              {"_key": "1002", "telephone_portable": "07 81 22 33 44"}]  # the same number
    kept = answered_rows(campaign, corrections, "responsables", posted)
    assert kept == {"nom": "X", PHONE_2: "+33781223344", "responsables": [
        {"_key": "1001", "email": "new@example.fr"},
        {"_key": "1002", "telephone_portable": "+33781223344"}]}
    other = [{"_key": "1001"}, {"_key": "1002", "telephone_portable": "06 55 44 33 22"}]
    assert answered_rows(campaign, corrections, "responsables", other) == {"nom": "X"}
    # the row removed: the family's word too
    assert answered_rows(campaign, corrections, "responsables", [{"_key": "1001"}]) \
        == {"nom": "X"}


@cache
def _example() -> Campaign:
    return load_campaign_text(EXAMPLE.read_text(encoding="utf-8"), name=EXAMPLE.name,
                              base_dir=EXAMPLE.parent)


PHONES = ["07 81 22 33 44", "+33781223344", "0781223344", "06 55 44 33 22", "", "pas un numéro"]


@settings(deadline=None, max_examples=50)  # the first example compiles the campaign
@given(st.permutations(["1001", "1002", "new-0123456789ab"]), st.integers(0, 3),
       st.sampled_from(PHONES), st.sampled_from(["a@example.fr", "b@example.fr"]))
def test_a_corrected_cell_stays_exactly_while_the_family_posts_it_unchanged(
        keys: list[str], kept_rows: int, phone: str, email: str) -> None:
    campaign = _example()
    corrections = {"nom": "X", "responsables": [{"_key": "1001"}, {"_key": "1002"}],
                   PHONE_2: "+33781223344"}
    posted = [{"_key": k, "telephone_portable": phone, "email": email}
              for k in keys[:kept_rows]]
    out = answered_rows(campaign, corrections, "responsables", posted)
    assert out["nom"] == "X"  # the other corrections are not the family's to replace
    same = "1002" in keys[:kept_rows] and phone in PHONES[:3]
    if same:
        assert out == {"nom": "X", PHONE_2: "+33781223344", "responsables": [
            {**r, "telephone_portable": "+33781223344"} if r["_key"] == "1002" else r
            for r in posted]}
    else:
        assert out == {"nom": "X"}


def test_a_row_correction_is_stored_apart_diffed_and_audited_without_its_value(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier,
        make_staff: MakeStaff) -> None:
    account, _ = make_account()
    dossier = make_dossier(account, prefill={"pupil": {"level": "5e"}, "guardians": GUARDIANS})
    campaign = _campaign(dossier)
    agent = Actor.staff(make_staff().account.id)
    field = "responsables.telephone_portable"
    for wrong, row in (("telephone_portable", "1002"), (field, None), ("responsables", "1002")):
        with pytest.raises(ReviewError) as refused:
            correct_value(db_session, campaign, dossier, dossier.row_version, agent, wrong,
                          "+33781223344", row=row)
        assert refused.value.code == "REVIEW_006"
    with pytest.raises(ReviewError) as unknown:
        correct_value(db_session, campaign, dossier, dossier.row_version, agent, field,
                      "+33781223344", row="9999")
    assert unknown.value.code == "REVIEW_007"
    with pytest.raises(StaleDossierError):
        correct_value(db_session, campaign, dossier, dossier.row_version - 1, agent, field,
                      "+33781223344", row="1002")
    correct_value(db_session, campaign, dossier, dossier.row_version, agent, field,
                  "+33781223344", row="1002")
    assert dossier.answers == {}
    assert dossier.corrections[PHONE_2] == "+33781223344"
    assert [r["telephone_portable"] for r in dossier.corrections["responsables"]] \
        == ["+33612345678", "+33781223344"]
    assert dossier.events[-1].data == {"fields": [field], "row": "1002"}
    # the diff matches the row by its identity and says who corrected the cell
    pages = dossier_changes(campaign, corrected_answers(dossier.answers, dossier.corrections),
                            context_of(dossier), events=dossier.events,
                            corrections=dossier.corrections)
    [change] = [c for p in pages for c in p.changes]
    [row] = change.change.children
    assert row.field_id == "1002" and [c.field_id for c in row.children] == ["telephone_portable"]
    assert change.corrected is not None and change.corrected[("1002", "telephone_portable")] \
        .actor_kind == "staff"


HEALTH_REPEAT = """      - id: vaccins
        type: repeat
        label: Vaccins
        item_label: Vaccin
        fields:
          - id: vaccin
            type: text
            label: Vaccin
"""


def test_a_health_rows_cell_is_sealed_over_the_familys_rows(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier,
        make_staff: MakeStaff) -> None:
    source = EXAMPLE.read_text(encoding="utf-8").replace(
        "      - id: allergies\n", HEALTH_REPEAT + "      - id: allergies\n", 1)
    account, _ = make_account()
    dossier = make_dossier(account, source=source)
    campaign = _campaign(dossier)
    family = Actor.family(account.id)
    save_answers(db_session, dossier, dossier.row_version,
                 {"vaccins": [{"_key": "v1", "vaccin": "DTP"}]}, "sante", family,
                 campaign=campaign)
    agent = Actor.staff(make_staff(role="infirmerie").account.id)
    correct_value(db_session, campaign, dossier, dossier.row_version, agent, "vaccins.vaccin",
                  "DTPolio", row="v1")
    assert dossier.corrections == {} and "vaccins" not in dossier.answers
    assert sealed.health_answers(dossier)["vaccins"] == [{"_key": "v1", "vaccin": "DTPolio"}]
    assert "DTPolio" not in str(dossier.events[-1].data)
