"""``restricted: health``: on a page, a field or a repeat, compiled onto the model, with
located diagnostics where it cannot go."""

from __future__ import annotations

from engine.dossiers.sealed import health_keys, is_health

from campaign.helpers import HEADER, check_yaml, codes, compile_yaml

HEALTH_PAGE = HEADER + """\
pages:
  - id: eleve
    title: Élève
    fields:
      - {id: nom, type: text}
      - {id: regime_alimentaire, type: text, restricted: health}
  - id: sante
    title: Santé
    restricted: health
    fields:
      - {id: allergies, type: textarea}
      - id: traitements
        type: repeat
        fields:
          - {id: medicament, type: text}
  - id: urgence
    title: Urgence
    fields:
      - id: vaccins
        type: repeat
        restricted: health
        fields:
          - {id: nom_vaccin, type: text}
"""


def test_a_page_mark_covers_its_fields_and_their_rows() -> None:
    campaign = compile_yaml(HEALTH_PAGE)
    assert campaign.page("sante").restricted == "health"
    assert campaign.page("eleve").restricted is None
    health = {key for key, spec in campaign.fields.items() if is_health(spec)}
    assert health == {"regime_alimentaire", "allergies", "traitements", "traitements.medicament",
                      "vaccins", "vaccins.nom_vaccin"}
    assert health_keys(campaign) == {"regime_alimentaire", "allergies", "traitements", "vaccins"}


def test_a_field_of_a_repeat_cannot_be_marked_alone() -> None:
    text = HEALTH_PAGE.replace("- {id: nom_vaccin, type: text}",
                               "- {id: nom_vaccin, type: text}\n          "
                               "- {id: dose, type: text, restricted: health}")
    text = text.replace("        restricted: health\n        fields:\n          - {id: nom_vaccin",
                        "        fields:\n          - {id: nom_vaccin")
    campaign, diagnostics = check_yaml(text)
    problem = next(d for d in diagnostics if d.code.name == "FIELD_014")
    assert campaign is None
    assert "mark the repeat 'vaccins'" in problem.message
    assert problem.location.line == text.splitlines().index(
        "          - {id: dose, type: text, restricted: health}") + 1


def test_files_cannot_be_health_data() -> None:
    text = HEALTH_PAGE.replace("- {id: allergies, type: textarea}",
                               "- {id: allergies, type: textarea}\n      "
                               "- {id: ordonnance, type: file, restricted: health}")
    _, diagnostics = check_yaml(text)
    assert "FIELD_014" in codes(diagnostics)
    assert any("files are not encrypted" in d.message for d in diagnostics)


def test_a_bad_value_is_located_with_a_suggestion() -> None:
    text = HEALTH_PAGE.replace("restricted: health\n    fields:", "restricted: heath\n    fields:")
    campaign, diagnostics = check_yaml(text)
    problem = next(d for d in diagnostics if d.code.name == "SCHEMA_004")
    assert campaign is None or problem.is_error
    assert problem.location.line == text.splitlines().index("    restricted: heath") + 1
    assert problem.hint is not None and "health" in problem.hint


def test_nothing_outside_health_data_may_read_it() -> None:
    text = HEALTH_PAGE.replace("- {id: nom, type: text}",
                               "- {id: nom, type: text, visible_if: empty(allergies)}")
    text += """\
documents:
  - id: protocole
    label: Protocole de soins
    required_if: not empty(regime_alimentaire)
"""
    campaign, diagnostics = check_yaml(text)
    found = [d for d in diagnostics if d.code.name == "FIELD_015"]
    assert campaign is None
    assert [d.message.split(" reads")[0] for d in found] == ["Field 'nom'", "Document 'protocole'"]
    assert found[0].location.line == text.splitlines().index(
        "      - {id: nom, type: text, visible_if: empty(allergies)}") + 1


def test_health_data_may_read_health_data() -> None:
    text = HEALTH_PAGE.replace("- {id: allergies, type: textarea}",
                               "- {id: allergies, type: textarea}\n      "
                               "- {id: precisions, type: text, visible_if: not empty(allergies)}")
    _, diagnostics = check_yaml(text)
    assert "FIELD_015" not in codes(diagnostics)
