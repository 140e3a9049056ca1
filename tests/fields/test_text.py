"""The text field type."""

from __future__ import annotations

from campaign.helpers import compile_fields

C = compile_fields("""\
    - id: nom
      type: text
      min_length: 2
      max_length: 5
    - id: code
      type: text
      pattern: "[A-Z]{2}[0-9]"
      pattern_message: Deux lettres et un chiffre.
    """)
NOM, CODE = C.fields["nom"], C.fields["code"]


def test_normalize_collapses_spaces() -> None:
    assert NOM.type.normalize("  Jean   Pierre ", NOM) == "Jean Pierre"
    assert NOM.type.normalize("   ", NOM) is None
    assert NOM.type.normalize(None, NOM) is None
    assert NOM.type.parse_input(["  ab "], NOM) == "ab"
    assert NOM.type.parse_input([], NOM) is None


def test_validate_length_and_pattern() -> None:
    assert list(NOM.type.validate("abc", NOM)) == []
    assert list(NOM.type.validate("a", NOM)) == ["Saisissez au moins 2 caractères."]
    assert list(NOM.type.validate("abcdef", NOM)) == ["Saisissez au plus 5 caractères."]
    assert list(CODE.type.validate("AB1", CODE)) == []
    assert list(CODE.type.validate("AB12", CODE)) == ["Deux lettres et un chiffre."]


def test_display_export_diff() -> None:
    assert NOM.type.display("abc", NOM) == "abc"
    assert NOM.type.display(None, NOM) == ""
    assert NOM.type.export("abc", NOM) == {"": "abc"}
    assert NOM.type.export(None, NOM) == {"": None}
    assert NOM.type.diff("Jean  Pierre", "Jean Pierre", NOM) is None
    change = NOM.type.diff("Jean", "Jeanne", NOM)
    assert change is not None and (change.old, change.new, change.kind) == ("Jean", "Jeanne",
                                                                             "changed")
    assert NOM.type.diff(None, "x", NOM).kind == "added"  # type: ignore[union-attr]
    assert NOM.type.diff("x", "", NOM).kind == "removed"  # type: ignore[union-attr]


def test_pattern_message_and_placeholder_are_translatable() -> None:
    campaign = compile_fields("""\
        - id: code
          type: text
          pattern: "[A-Z]{2}"
          pattern_message: {fr: Deux majuscules., en: Two capitals.}
          placeholder: {fr: "Ex. : AB", en: "E.g. AB"}
        - id: taille
          type: number
          unit: {fr: cm, en: in}
        """, "languages: [fr, en]\n")
    code, taille = campaign.fields["code"], campaign.fields["taille"]
    assert code.options.pattern_message.get("en") == "Two capitals."
    assert list(code.type.validate("ab", code)) == ["Deux majuscules."]
    assert code.options.placeholder.get("en") == "E.g. AB"
    assert taille.type.display("12", taille, "en") == "12\u00a0in"
    assert taille.type.display("12", taille) == "12\u00a0cm"
