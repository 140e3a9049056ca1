"""Documents asked per row of a repeat (``for_each``): one slot per row, keyed by the row's
stable key, the condition read in the row, the row named in the label."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.campaign.model import document_slot, slot_parts
from engine.rules import DossierContext, evaluate_dossier, used_by
from engine.rules.testing import run_tests

from campaign.helpers import compile_fields

C = compile_fields("""\
    - id: garde
      type: boolean
    - id: responsables
      type: repeat
      item_label: Responsable
      visible_if: garde != true
      fields:
        - {id: prenom, type: text, label: Prénom}
        - {id: nom, type: text, label: Nom}
        - id: lien
          type: choice
          label: Lien
          choices: [{value: mere, label: Mère}, {value: tuteur, label: Tuteur}]
    """, """\
    documents:
      - id: identite
        label: Justificatif d'identité
        for_each: responsables
        row_label: [prenom, nom]
        required_if: lien == "tuteur" or garde == false
      - id: attestation
        label: Attestation
        for_each: responsables
      - id: facultatif
        label: Facultatif
        for_each: responsables
        required: false
    tests:
      - name: Le tuteur seul
        answers:
          responsables:
            - {prenom: Claire, nom: MARTIN, lien: mere}
            - {prenom: Marc, nom: DURAND, lien: tuteur}
        expect:
          documents: [identite.1, identite, attestation.0, attestation.1]
          no_documents: [identite.0, facultatif]
    """)
CTX = DossierContext(today=date(2027, 6, 1))
ROWS = [{"_key": "1001", "prenom": "Claire", "nom": "MARTIN", "lien": "mere"},
        {"_key": "new-abc", "prenom": "Marc", "nom": "DURAND", "lien": "tuteur"}]


def asked(**answers: Any) -> dict[str, str]:
    return {d.document_id: d.title for d in evaluate_dossier(C, answers, CTX).documents}


def test_one_slot_per_row_under_the_row_key_with_the_row_in_the_label() -> None:
    got = asked(responsables=ROWS)
    assert got == {
        "identite~new-abc": "Justificatif d'identité \u2014 Marc DURAND",
        "attestation~1001": "Attestation \u2014 Responsable 1",
        "attestation~new-abc": "Attestation \u2014 Responsable 2",
    }


def test_the_condition_reads_the_row_and_the_dossier() -> None:
    assert "identite~1001" in asked(responsables=ROWS, garde=False)  # the dossier's field
    assert "identite~1001" not in asked(responsables=ROWS)


def test_reordering_keeps_each_row_its_slot_and_removing_drops_it() -> None:
    assert set(asked(responsables=ROWS[::-1])) == set(asked(responsables=ROWS))
    assert set(asked(responsables=ROWS[:1])) == {"attestation~1001"}


def test_a_hidden_repeat_asks_no_row() -> None:
    assert asked(responsables=ROWS, garde=True) == {}


def test_stored_money_names_the_row_and_says_why() -> None:
    evaluation = evaluate_dossier(C, {"responsables": ROWS[1:]}, CTX)
    assert evaluation.stored_money()["documents"] == [
        {"document": "identite~new-abc", "label": "Justificatif d'identité — Marc DURAND",
         "reason": "Demandé car « Lien » est « Tuteur » ou « garde » est « non ».",
         "row": "new-abc"},
        {"document": "attestation~new-abc", "label": "Attestation — Responsable 1",
         "reason": "Demandé pour chaque « Responsable ».", "row": "new-abc"}]
    # what the page's script computes too: the row named apart
    assert [d["label"] for d in evaluation.money()["documents"]] == [
        "Justificatif d'identité", "Attestation"]
    assert {k: v for k, v in evaluation.stored_money().items() if k != "documents"} == \
        {k: v for k, v in evaluation.money().items() if k != "documents"}


def test_campaign_tests_name_a_row_by_its_number() -> None:
    [outcome] = run_tests(C)
    assert outcome.passed, outcome.failures


@given(st.text(min_size=1, max_size=80))
def test_a_slot_gives_back_its_document_and_row_key(key: str) -> None:
    assert slot_parts(document_slot("identite", key)) == ("identite", key)
    assert slot_parts(document_slot("identite", None)) == ("identite", None)


def test_explain_lists_a_per_row_document_under_the_row_field_it_reads() -> None:
    assert "document identite (required_if)" in used_by(C, C.fields["responsables.lien"])
    assert "document identite (required_if)" in used_by(C, C.fields["garde"])
    assert "document identite (required_if)" not in used_by(C, C.fields["responsables.nom"])
