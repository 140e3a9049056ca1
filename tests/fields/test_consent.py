"""The consent field type."""

from __future__ import annotations

import pytest

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("- id: attestation\n  type: consent\n  required: true\n"
                   "  statement: J'atteste.\n")
F = C.fields["attestation"]


def test_only_true_counts_as_given() -> None:
    assert F.type.is_empty(True) is False
    assert F.type.is_empty(False) is True
    assert F.type.is_empty(None) is True
    assert F.type.normalize("oui", F) is True
    assert F.type.parse_input([], F) is False
    assert F.type.required_message(F) == "Cochez la case pour continuer."


def test_options_display_export() -> None:
    assert str(F.options.statement) == "J'atteste."
    assert F.options.widget == "checkbox"
    assert F.type.display(True, F) == "Oui"
    assert F.type.export(True, F) == {"": True}
    assert F.type.diff(False, True, F) is not None


def test_refused_value() -> None:
    with pytest.raises(FieldValueError):
        F.type.normalize("bof", F)
