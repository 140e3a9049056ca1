"""The selection loads the family facts of a chunk of dossiers at once: the same siblings and
rank as the per-dossier query, for a family of several children (birth dates given, equal and
missing), a child in another campaign, a pupil without a guardian account. Its read-only
records hold what the stored dossiers hold (files in order, the history and the guardians
when asked)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.dossiers.family import ELDER_SIBLINGS, SIBLINGS, family_of
from engine.dossiers.models import Dossier, DossierEvent, StoredFile
from engine.dossiers.states import Actor, DossierState
from engine.exports.selection import DossierRecord

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


#: what a record and the stored dossier must agree on (besides pupil, files and history)
READ: tuple[str, ...] = (
    "id", "public_id", "pupil_id", "campaign_version_id", "state", "row_version", "prefill",
    "answers", "corrections", "computed", "guardian_answers", "place_decisions",
    "submitted_at", "validated_at")


def test_the_records_hold_what_the_dossiers_hold(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    parent, _ = make_account("Claire Martin")
    dossier = make_dossier(parent, answers={"telephone_eleve": "0612345678"})
    dossier.corrections = {"division_destination": "4B"}
    dossier.state = DossierState.SUBMITTED
    dossier.computed = {"total": "12.50"}
    dossier.provenance = {"telephone_eleve": {"source": "family"}}
    dossier.record(Actor.system(), "imported")
    for n, name in enumerate(["b.pdf", "a.pdf"]):
        db_session.add(StoredFile(dossier_id=dossier.id, document_id="justificatif_domicile",
                                  storage_key=f"k{n}", filename=name, sha256="0" * 64,
                                  size=10, mime_type="application/pdf"))
    other = make_dossier(first_name="Seul")
    db_session.commit()

    (record, lone) = sorted(selection(db_session).dossiers(), key=lambda r: r.id)
    assert isinstance(record, DossierRecord) and (record.id, lone.id) == (dossier.id, other.id)
    assert {k: getattr(record, k) for k in READ} == {k: getattr(dossier, k) for k in READ}
    pupil = ("id", "establishment_id", "ine", "first_name", "last_name", "birth_date")
    assert {k: getattr(record.pupil, k) for k in pupil} == \
        {k: getattr(dossier.pupil, k) for k in pupil}
    assert lone.files == [] and lone.pupil.first_name == "Seul"
    with pytest.raises(LookupError):  # no field answered per guardian: not read
        record.pupil.guardianships  # noqa: B018
    assert [f.filename for f in record.files] == ["b.pdf", "a.pdf"]
    with pytest.raises(LookupError):  # loaded without the history: never an empty one
        record.events  # noqa: B018
    (with_history, _) = sorted(selection(db_session).dossiers(events=True),
                               key=lambda r: r.id)
    assert with_history.provenance == {"telephone_eleve": {"source": "family"}}
    assert [e.kind for e in with_history.events] == list(db_session.scalars(
        select(DossierEvent.kind).where(DossierEvent.dossier_id == dossier.id)
        .order_by(DossierEvent.id)))
