"""A dossier's requests for options with places, read from its answers and the school's
decisions: the decision applies to the option it was made on only, the school's correction
wins over the family's answer, and a family's other choice resets the decision."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.dossiers.models import Dossier
from engine.dossiers.places import (
    PlaceStatus,
    kept_decisions,
    limited_fields,
    requests_by_option,
    requests_of,
)

from campaign.helpers import campaign_text, compile_yaml

CAMPAIGN = compile_yaml(campaign_text("""
- id: section
  type: choice
  label: Section européenne
  choices:
    - {value: non, label: Non merci}
    - {value: anglais, label: Anglais, places: 24}
    - {value: allemand, label: Allemand, places: 12}
- id: latin
  type: choice
  label: Latin
  choices: [oui, non]
"""))


def _dossier(answers: dict[str, Any], decisions: dict[str, Any] | None = None,
             corrections: dict[str, Any] | None = None) -> Dossier:
    return Dossier(answers=answers, corrections=corrections or {},
                   place_decisions=decisions or {})


def test_only_the_options_with_places_are_requests() -> None:
    assert [s.id for s in limited_fields(CAMPAIGN)] == ["section"]
    assert requests_of(CAMPAIGN, _dossier({"section": "non", "latin": "oui"})) == []
    [request] = requests_of(CAMPAIGN, _dossier({"section": "allemand"}))
    assert (request.value, request.places, request.status) == ("allemand", 12,
                                                               PlaceStatus.REQUESTED)
    assert (request.option_label, request.status_label) == ("Allemand", "demandé")


def test_a_decision_applies_to_the_option_it_was_made_on() -> None:
    decided = {"section": {"value": "anglais", "status": "accepted"}}
    [same] = requests_of(CAMPAIGN, _dossier({"section": "anglais"}, decided))
    assert same.status is PlaceStatus.ACCEPTED
    [other] = requests_of(CAMPAIGN, _dossier({"section": "allemand"}, decided))
    assert other.status is PlaceStatus.REQUESTED
    # the school's correction is the value the school reads
    [corrected] = requests_of(CAMPAIGN, _dossier({"section": "non"}, decided,
                                                 {"section": "anglais"}))
    assert corrected.status is PlaceStatus.ACCEPTED
    # a stored status the engine does not know is no decision
    [odd] = requests_of(CAMPAIGN, _dossier(
        {"section": "anglais"}, {"section": {"value": "anglais", "status": "peut-être"}}))
    assert odd.status is PlaceStatus.REQUESTED


@given(st.dictionaries(st.sampled_from(["section", "latin", "autre"]),
                       st.sampled_from(["non", "anglais", "allemand", None])),
       st.sampled_from(["non", "anglais", "allemand", None]))
def test_kept_decisions_are_those_on_the_current_value(decided: dict[str, Any],
                                                       now: Any) -> None:
    decisions = {k: {"value": v, "status": "refused"} for k, v in decided.items()}
    kept = kept_decisions(decisions, {"section": now})
    assert set(kept) <= set(decisions)
    assert all(decisions[k]["value"] == ({"section": now}.get(k)) for k in kept)
    assert ("section" in kept) == ("section" in decided and decided["section"] == now)


def test_requests_by_option_in_the_order_given_options_without_request_included() -> None:
    first, second = _dossier({"section": "anglais"}), _dossier({"section": "anglais"})
    options = requests_by_option(CAMPAIGN, [first, _dossier({"section": "non"}), second])
    assert [(o.value, o.places, len(o.rows)) for o in options] == [("anglais", 24, 2),
                                                                    ("allemand", 12, 0)]
    assert [d for d, _ in options[0].rows] == [first, second]
    assert (options[0].accepted, options[0].left) == (0, 24)
