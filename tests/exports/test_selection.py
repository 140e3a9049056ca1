"""The selection loads the family facts of a chunk of dossiers at once: the same siblings and
rank as the per-dossier query, for a family of several children (birth dates given, equal and
missing), a child in another campaign, a pupil without a guardian account."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.dossiers.family import ELDER_SIBLINGS, SIBLINGS, family_of
from engine.dossiers.models import Dossier

from .kit import selection
from conftest import MakeAccount, MakeDossier


def test_the_family_facts_of_a_chunk_are_those_of_each_dossier(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    parent, _ = make_account("Claire Martin")
    other, _ = make_account("Paul Durand")
    born = [date(2012, 5, 1), date(2014, 3, 2), date(2014, 3, 2), None]
    family = [make_dossier(parent, first_name=f"Enfant{n}") for n in range(len(born))]
    family.append(make_dossier(other, parent, first_name="Demi"))
    make_dossier(parent, first_name="Ailleurs", campaign="autre")
    alone = make_dossier(first_name="Seul")
    for dossier, day in zip(family, [*born, date(2010, 1, 1)], strict=True):
        dossier.pupil.birth_date = day
    db_session.commit()
    expected = {}
    for dossier_id, siblings, elder in db_session.execute(
            select(Dossier.id, SIBLINGS, ELDER_SIBLINGS)):
        expected[dossier_id] = {"siblings": max(siblings, 1), "rank": elder + 1}
    db_session.expunge_all()
    loaded = {d.id: family_of(d) for d in selection(db_session).dossiers()}
    assert loaded == {k: v for k, v in expected.items() if k in loaded}
    assert len(loaded) == 6 and loaded[alone.id] == {"siblings": 1, "rank": 1}
    assert sorted(v["rank"] for k, v in loaded.items() if k != alone.id) == [1, 2, 3, 4, 5]
