"""The info field type."""

from __future__ import annotations

from campaign.helpers import compile_fields

C = compile_fields("""\
    - id: nom
      type: text
    - id: note
      type: info
      level: warning
      text: "Bonjour {{ nom }}"
    """)
F = C.fields["note"]


def test_info_has_no_value() -> None:
    assert F.type.has_value is False
    assert F.options.level == "warning"
    assert list(F.options.text.placeholders()) == ["nom"]
    assert F.options.text.render(None, lambda name: name.upper()) == "Bonjour NOM"


def test_unknown_placeholder_is_reported() -> None:
    from campaign.helpers import campaign_text, check_yaml

    _, diagnostics = check_yaml(campaign_text(
        "- id: nom\n  type: text\n- id: note\n  type: info\n  text: 'Bonjour {{ nmo }}'\n"))
    assert [(d.code.name, d.hint) for d in diagnostics] == [("EXPR_003", "did you mean 'nom'?")]
