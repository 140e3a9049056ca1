"""Answers per guardian, below the web: each guardian's save changes their own answers only
(whatever the order of saves), an answer given again keeps its first date, an emptied one is
taken out; a guardian reads their own answer as the field's value, the school nobody's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from engine.campaign import load_campaign_text
from engine.dossiers.guardian_answers import merged, own_answers, split
from engine.dossiers.models import Dossier
from engine.rules import DossierContext, evaluate_dossier
from engine.rules.policy import effective_answers

CAMPAIGN = load_campaign_text("""\
language: 1
id: signatures
title: Réinscription
establishment: {uai: "0750001A", name: Collège}
opens: 2027-05-01
closes: 2027-06-30
pages:
  - id: signature
    title: Signature
    fields:
      - id: regime
        type: choice
        label: Régime
        choices: [{value: externe, label: Externe}, {value: demi, label: Demi}]
      - id: attestation
        type: consent
        label: Attestation
        scope: per_guardian
        required: all_guardians
      - id: infos
        type: boolean
        label: Informations
        scope: per_guardian
""", name="signatures.yaml")
T0 = datetime(2027, 6, 1, 9, tzinfo=UTC)

saves = st.lists(st.tuples(st.sampled_from(["1001", "1002"]),
                           st.sampled_from(["attestation", "infos"]),
                           st.sampled_from([True, False, None])), max_size=12)


@given(saves)
def test_each_guardian_changes_only_their_own_answers(steps: list[tuple[str, str, object]],
                                                      ) -> None:
    dossier = Dossier(guardian_answers={})
    expected: dict[str, dict[str, object]] = {"1001": {}, "1002": {}}
    for n, (guardian, field_id, value) in enumerate(steps):
        dossier.guardian_answers = merged(dossier, CAMPAIGN, guardian, guardian,
                                          {field_id: value}, T0 + timedelta(minutes=n))
        spec = CAMPAIGN.fields[field_id]
        if spec.type.answered(value, spec, frozenset()):
            expected[guardian][field_id] = value
        else:
            expected[guardian].pop(field_id, None)
    for guardian, answers in expected.items():
        assert own_answers(dossier, guardian) == answers


def test_an_answer_given_again_keeps_its_date_and_an_emptied_one_goes() -> None:
    dossier = Dossier(guardian_answers={})
    dossier.guardian_answers = merged(dossier, CAMPAIGN, "1001", "7", {"attestation": True}, T0)
    again = merged(dossier, CAMPAIGN, "1001", "7", {"attestation": True}, T0 + timedelta(1))
    assert again["attestation"]["1001"] == {"value": True, "account": "7",
                                            "at": T0.isoformat()}
    assert merged(dossier, CAMPAIGN, "1001", "7", {"attestation": False}, T0) == {}


def test_the_per_guardian_answers_are_split_from_the_family_ones() -> None:
    assert split(CAMPAIGN, {"regime": "demi", "attestation": True}) == (
        {"regime": "demi"}, {"attestation": True})


def test_a_guardian_reads_and_owes_their_own_answer_the_school_nobody() -> None:
    mine = DossierContext(guardian="1001", own={"attestation": True})
    assert effective_answers(CAMPAIGN, {}, mine)["attestation"] is True
    # a posted value wins over the stored one
    assert effective_answers(CAMPAIGN, {"attestation": False}, mine)["attestation"] is False
    theirs = DossierContext(guardian="1002")
    assert "attestation" in evaluate_dossier(
        CAMPAIGN, effective_answers(CAMPAIGN, {}, theirs), theirs).errors
    school = DossierContext()
    result = evaluate_dossier(CAMPAIGN, effective_answers(CAMPAIGN, {}, school), school)
    assert "attestation" not in result.required and "attestation" not in result.errors
