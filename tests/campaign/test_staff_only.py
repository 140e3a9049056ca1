"""``staff_only: true``: compiled onto the field, dropped from the family's campaign (pages,
fields, evaluation order, the browser's model), and refused where a family-facing condition
would read it or inside a repeat (FIELD_013)."""

from __future__ import annotations

import json

from engine.campaign.model import family_campaign, staff_only_fields
from engine.config import ROOT
from engine.rules.client import client_model

from campaign.helpers import HEADER, check_yaml, codes, compile_yaml

PAGES = """\
pages:
  - id: eleve
    title: Élève
    fields:
      - id: remarque
        type: textarea
      - id: note_interne
        type: textarea
        label: Note interne
        staff_only: true
  - id: college
    title: Décisions
    fields:
      - id: mef_destination
        type: text
        staff_only: true
      - id: complet
        type: boolean
        staff_only: true
        visible_if: mef_destination != null
"""


def test_staff_only_fields_are_compiled_and_left_out_of_the_familys_campaign() -> None:
    campaign = compile_yaml(HEADER + PAGES)
    assert [s.id for s in staff_only_fields(campaign)] == ["note_interne", "mef_destination",
                                                             "complet"]
    assert not campaign.fields["remarque"].staff_only
    family = family_campaign(campaign)
    assert family is family_campaign(campaign)  # computed once
    assert [p.id for p in family.pages] == ["eleve"]
    assert [f.id for f in family.pages[0].fields] == ["remarque"]
    assert set(family.fields) == {"remarque"}
    assert family.evaluation_order == ("remarque",)
    model = json.dumps(client_model(family))
    assert "note_interne" not in model and "Note interne" not in model
    assert "mef_destination" not in model
    # the staff's campaign is untouched
    assert [p.id for p in campaign.pages] == ["eleve", "college"]


def test_a_campaign_without_staff_only_fields_is_its_own_family_view() -> None:
    campaign = compile_yaml(HEADER + PAGES.replace("staff_only: true", "staff_only: false")
                            .replace("visible_if: mef_destination != null", "help: x"))
    assert family_campaign(campaign) is campaign


def test_a_family_condition_reading_a_staff_only_field_is_refused() -> None:
    text = HEADER + PAGES + """\
      - id: visible_famille
        type: text
        visible_if: complet == true
"""
    campaign, diagnostics = check_yaml(text)
    assert campaign is None and "FIELD_013" in codes(diagnostics)
    message = next(d.message for d in diagnostics if d.code.name == "FIELD_013")
    assert "visible_famille" in message and "'complet'" in message
    documents = HEADER + PAGES + """\
documents:
  - id: piece
    label: Pièce
    required_if: mef_destination == "x"
"""
    assert "FIELD_013" in codes(check_yaml(documents)[1])


def test_a_field_inside_a_repeat_cannot_be_staff_only() -> None:
    text = HEADER + """\
pages:
  - id: eleve
    title: Élève
    fields:
      - id: freres
        type: repeat
        fields:
          - id: prenom
            type: text
            staff_only: true
"""
    campaign, diagnostics = check_yaml(text)
    assert campaign is None and "FIELD_013" in codes(diagnostics)


def test_the_example_campaign_declares_the_schools_decisions() -> None:
    path = ROOT / "campaigns" / "college-jean-moulin.yaml"
    campaign = compile_yaml(path.read_text(encoding="utf-8"), base_dir=path.parent)
    assert [s.id for s in staff_only_fields(campaign)] == [
        "mef_destination", "division_destination", "note_secretariat", "dossier_complet"]
    assert "decisions_college" not in {p.id for p in family_campaign(campaign).pages}
