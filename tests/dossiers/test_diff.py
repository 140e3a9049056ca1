"""The staff diff: only what the family changed of what the school knew, normalised by the
field types, repeat rows matched by their imported identity, with provenance and authorship."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.campaign import load_campaign
from engine.config import ROOT
from engine.dossiers.diff import changed_field_ids, dossier_changes, known_values, last_writers
from engine.dossiers.models import DossierEvent
from engine.rules import DossierContext

CAMPAIGN = load_campaign(ROOT / "campaigns" / "college-jean-moulin.yaml")
ADDRESS = {"line1": "12 rue des Lilas", "line2": None, "line3": None, "postal_code": "69003",
           "commune_insee": "69383", "commune": "Lyon", "country": "FR"}
PREFILL: dict[str, Any] = {
    "pupil": {"last_name": "DURAND", "first_name": "Léa", "level": "5e",
              "phone_mobile": "06 12 34 56 78", "email": "lea@example.fr"},
    "guardians": [
        {"personne_id": "P1", "civility": "MME", "last_name": "DURAND", "first_name": "Sophie",
         "phone_mobile": "0611111111", "email": "sophie@example.fr", "address": ADDRESS},
        {"personne_id": "P2", "civility": "M", "last_name": "DURAND", "first_name": "Marc",
         "phone_mobile": "+33622222222", "email": "marc@example.fr", "address": ADDRESS},
    ],
}
PROVENANCE = {
    "pupil.phone_mobile": {"source_file": "ElevesAvecAdresses.xml", "element": "ELEVE/TEL_PORTABLE",
                           "imported_at": "2026-06-01T08:00:00+00:00", "line": 12},
    "guardians[1].phone_mobile": {"source_file": "ResponsablesAvecAdresses.xml",
                                  "element": "PERSONNE/TEL_PORTABLE",
                                  "imported_at": "2026-06-01T08:00:00+00:00", "line": 40},
}
CTX = DossierContext(prefill=PREFILL, family={"siblings": 1, "rank": 1})


def _known() -> dict[str, Any]:
    return known_values(CAMPAIGN, CTX)


def _ids(answers: dict[str, Any], **kwargs: Any) -> set[str]:
    return changed_field_ids(dossier_changes(CAMPAIGN, answers, CTX, **kwargs))


def test_the_same_values_in_other_forms_are_no_change() -> None:
    known = _known()
    answers = {"telephone_eleve": "+33612345678", "email_eleve": "lea@example.fr",
               "responsables": known["responsables"]}
    assert _ids(answers) == set()


def test_an_unanswered_field_is_unchanged_and_only_prefilled_fields_count() -> None:
    assert _ids({}) == set()
    # an answer to a question the school did not know is new data, not a change
    assert "regime" not in _ids({"regime": "externe"})


def test_a_changed_phone_carries_its_provenance_and_its_author() -> None:
    at = datetime(2026, 6, 3, 9, 30, tzinfo=UTC)
    event = DossierEvent(kind="answers_saved", actor_kind="family", actor_id="7", at=at,
                         data={"page": "eleve", "fields": ["telephone_eleve"]})
    pages = dossier_changes(CAMPAIGN, {"telephone_eleve": "07 00 00 00 01"}, CTX,
                            provenance=PROVENANCE, events=[event])
    [page] = pages
    [change] = page.changes
    assert change.spec.id == "telephone_eleve"
    assert change.change.kind == "changed"
    assert change.origin is not None and change.origin.element == "ELEVE/TEL_PORTABLE"
    assert change.written is not None and change.written.actor_id == "7"
    assert change.written.at == at


def test_repeat_rows_are_matched_by_imported_identity() -> None:
    rows = [dict(r) for r in _known()["responsables"]]
    # reordered rows, the second guardian's phone changed, a new row added
    rows = [rows[1] | {"telephone_portable": "0633333333"}, rows[0],
            {"_key": "new-abc", "nom": "DUPONT", "prenom": "Paul"}]
    [page] = dossier_changes(CAMPAIGN, {"responsables": rows}, CTX, provenance=PROVENANCE)
    [change] = page.changes
    kinds = {c.field_id: c.kind for c in change.change.children}
    assert kinds == {"P2": "changed", "new-abc": "added"}
    [phone] = next(c for c in change.change.children if c.field_id == "P2").children
    assert phone.field_id == "telephone_portable"
    assert change.row_origins is not None and "P2" in change.row_origins


def test_a_removed_row_is_reported() -> None:
    rows = _known()["responsables"][:1]
    [page] = dossier_changes(CAMPAIGN, {"responsables": rows}, CTX)
    assert [(c.field_id, c.kind) for c in page.changes[0].change.children] == [("P2", "removed")]


def test_since_a_snapshot_and_filters() -> None:
    snapshot = {"telephone_eleve": "0700000001", "regime": "externe"}
    answers = {"telephone_eleve": "0700000001", "regime": "demi_pension_4"}
    assert _ids(answers, before=snapshot) == {"regime"}
    assert _ids(answers, before=snapshot, visible={"telephone_eleve"}) == set()
    assert _ids(answers, before=snapshot, include=lambda spec: spec.id != "regime") == set()


def test_last_writers_keeps_the_latest_event() -> None:
    first = datetime(2026, 6, 1, tzinfo=UTC)
    second = datetime(2026, 6, 2, tzinfo=UTC)
    events = [DossierEvent(kind="answers_saved", actor_kind="family", actor_id="1", at=first,
                           data={"fields": ["a", "b"]}),
              DossierEvent(kind="state_changed", actor_kind="staff", actor_id="9", at=second,
                           data={"from": "submitted", "to": "to_correct"}),
              DossierEvent(kind="answers_saved", actor_kind="family", actor_id="2", at=second,
                           data={"fields": ["b"]})]
    writers = last_writers(events)
    assert (writers["a"].actor_id, writers["b"].actor_id) == ("1", "2")


PHONES = st.sampled_from(["0612345678", "06 12 34 56 78", "+33612345678", "+33 6 12 34 56 78",
                          "0700000001", None, ""])


@settings(max_examples=60, deadline=None)
@given(phone=PHONES, email=st.sampled_from(["lea@example.fr", "autre@example.fr", None]))
def test_diff_of_a_dossier_with_itself_is_empty(phone: str | None, email: str | None) -> None:
    answers = {"telephone_eleve": phone, "email_eleve": email}
    assert _ids(answers, before=answers) == set()


@settings(max_examples=60, deadline=None)
@given(phone=PHONES)
def test_a_reported_change_is_a_change_the_family_made(phone: str | None) -> None:
    changed = "telephone_eleve" in _ids({"telephone_eleve": phone})
    same_number = phone in {"0612345678", "06 12 34 56 78", "+33612345678",
                            "+33 6 12 34 56 78"}
    assert changed is not same_number


@pytest.mark.parametrize("spec", [s for s in CAMPAIGN.fields.values()
                                  if s.type.has_value and s.parent_id is None],
                         ids=lambda s: f"{s.type.name}:{s.id}")
def test_every_field_type_of_the_campaign_diffs_equal_values_as_no_change(spec: Any) -> None:
    known = _known()
    value = known.get(spec.id)
    assert spec.type.diff(value, value, spec) is None
