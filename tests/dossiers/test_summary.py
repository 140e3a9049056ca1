"""The visible answers of a dossier: the one view model of the review page and the PDF."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.campaign.model import Campaign, FieldSpec
from engine.dossiers.summary import field_text, visible_answers
from engine.rules import DossierContext, evaluate_dossier

from campaign.helpers import HEADER, compile_yaml

CTX = DossierContext(prefill={}, family={}, today=date(2027, 6, 1))
CAMPAIGN = HEADER + """\
pages:
  - id: eleve
    title: Élève
    fields:
      - {id: intro, type: info, text: Bienvenue}
      - {id: naissance, type: date, label: Date de naissance}
      - {id: regime, type: choice, label: Régime, choices: [{value: dp, label: Demi-pension}, externe]}
      - {id: annees, type: computed, label: Âge, expr: "12", format: integer}
      - {id: sport, type: boolean, label: Sport}
      - id: responsables
        type: repeat
        label: Responsables
        fields:
          - {id: nom, type: text, label: Nom}
          - {id: portable, type: phone, label: Portable}
          - {id: courriel, type: email, label: Courriel, visible_if: "nom != 'Lou'"}
  - id: cantine
    title: Cantine
    visible_if: regime == 'dp'
    fields:
      - {id: jours, type: integer, label: Jours}
"""


class PhoneRedactor:
    def masked(self, campaign: Campaign, spec: FieldSpec, row_key: str | None) -> bool:
        return spec.id == "portable" and row_key == "b"


def _sections(answers: dict[str, Any], computed: dict[str, Any] | None = None,
              **kwargs: Any) -> Any:
    campaign = compile_yaml(CAMPAIGN)
    evaluation = evaluate_dossier(campaign, answers, CTX)
    return visible_answers(campaign, evaluation, answers,
                           evaluation.computed if computed is None else computed, **kwargs)


def test_sections_follow_the_visible_pages_and_fields_with_a_value() -> None:
    sections = _sections({"regime": "externe", "naissance": "2014-03-02", "sport": False})
    assert [s.page.id for s in sections] == ["eleve"]
    entries = {e.spec.id: e for e in sections[0].entries}
    assert list(entries) == ["naissance", "regime", "annees", "sport", "responsables"]  # no info
    assert (entries["naissance"].text, entries["naissance"].empty) == ("02/03/2014", False)
    assert entries["regime"].text == "externe"
    assert entries["annees"].text == "12"
    assert (entries["sport"].text, entries["sport"].empty) == ("Non", False)
    assert entries["responsables"].rows == ()
    assert entries["regime"].rows is None


def test_choice_labels_and_computed_values_given_by_the_caller() -> None:
    sections = _sections({"regime": "dp", "jours": 4}, computed={"annees": "13"})
    assert [s.title for s in sections] == ["Élève", "Cantine"]
    entries = {e.spec.id: e for s in sections for e in s.entries}
    assert entries["regime"].text == "Demi-pension"
    assert entries["annees"].text == "13"  # frozen at submission, say
    assert entries["jours"].text == "4"


def test_rows_hold_visible_cells_and_masked_cells_carry_no_text() -> None:
    rows = [{"_key": "a", "nom": "Ana", "portable": "0612345678", "courriel": "a@x.fr"},
            {"_key": "b", "nom": "Lou", "portable": "0698765432"}]
    sections = _sections({"responsables": rows}, redactor=PhoneRedactor())
    entry = next(e for e in sections[0].entries if e.spec.id == "responsables")
    assert entry.rows is not None
    first, second = entry.rows
    assert [(c.label, c.text, c.masked) for c in first.cells] == [
        ("Nom", "Ana", False), ("Portable", "06 12 34 56 78", False),
        ("Courriel", "a@x.fr", False)]
    # the hidden e-mail is not a cell; the masked phone says nothing of the number
    assert [(c.label, c.text, c.masked) for c in second.cells] == [
        ("Nom", "Lou", False), ("Portable", "", True)]
    assert second.index == 1


def test_field_text_shows_what_a_field_cannot_read_as_stored() -> None:
    campaign = compile_yaml(CAMPAIGN)
    spec = campaign.fields["naissance"]
    assert field_text(spec, "2014-03-02") == "02/03/2014"
    assert field_text(spec, "pas une date") == "pas une date"
    assert field_text(spec, None) == ""
