"""``dossiersco explain`` and conditions in words: French framing, no double negatives, row
siblings by their label, a field never depending on itself."""

from __future__ import annotations

from engine.rules.explain import describe, explain_field

from campaign.helpers import compile_fields

C = compile_fields("""\
    - id: boursier
      type: boolean
      label: Boursier
    - id: regime
      type: choice
      label: Régime
      choices: [{value: externe, label: Externe}, {value: dp, label: Demi-pension}]
    - id: motif
      type: text
      label: Motif
      visible_if: boursier != true and not empty(regime)
      validate:
        - {rule: 'len(motif) > 2', message: Trop court.}
    - id: contacts
      type: repeat
      label: Contacts
      fields:
        - id: urgence
          type: boolean
          label: À prévenir en urgence
        - id: telephone
          type: phone
          label: Téléphone
          visible_if: urgence == true
          readonly_if: not (regime == "dp")
    """)


def said(field: str, condition: str = "visible_if") -> str:
    spec = C.fields[field]
    row = C.fields[spec.parent_id] if spec.parent_id else None
    return describe(getattr(spec, condition).expression.node, C, row=row)


def test_a_boolean_unlike_true_includes_no_answer() -> None:
    assert said("motif").startswith("« Boursier » n'est pas « oui » (ou pas répondu) et ")


def test_no_double_negative() -> None:
    assert said("motif").endswith("« Régime » est renseigné")
    assert said("contacts.telephone", "readonly_if") == \
        "« Régime » n'est pas « Demi-pension » (ou pas répondu)"


def test_a_row_sibling_is_named_by_its_label() -> None:
    assert said("contacts.telephone") == "« À prévenir en urgence » est « oui »"


def test_explain_is_french_and_a_field_does_not_depend_on_itself() -> None:
    lines = explain_field(C, C.fields["motif"])
    assert lines[1].startswith("Affiché quand : « Boursier » n'est pas « oui »")
    assert "Dépend de : boursier, regime" in lines
    assert lines[-1] == "Utilisé par : rien"
    row = explain_field(C, C.fields["contacts.telephone"])
    assert "Affiché quand : « À prévenir en urgence » est « oui »  [urgence == true]" in row
    assert any(line.startswith("Non modifiable quand : ") and "jamais obligatoire" in line
               for line in row)
    assert "Dépend de : contacts.urgence, regime" in row
    english = [w for line in lines + row for w in ("Shown", "Required", "Depends", "Used by")
               if w in line]
    assert english == []


def test_the_framing_follows_the_default_language() -> None:
    english = compile_fields("""\
        - id: boursier
          type: boolean
        - id: motif
          type: text
          visible_if: boursier != true
        """, "languages: [en, fr]\n")
    lines = explain_field(english, english.fields["motif"])
    assert lines[1] == "Shown when: « boursier » is not « yes » (or not answered)  " \
        "[boursier != true]"
    assert lines[-2:] == ["Depends on: boursier", "Used by: nothing"]
