"""The email field type."""

from __future__ import annotations

import pytest

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("- id: courriel\n  type: email\n")
F = C.fields["courriel"]


def test_normalize_lowercases_the_domain_only() -> None:
    assert F.type.normalize("  Jean.Dupont@Exemple.FR ", F) == "Jean.Dupont@exemple.fr"
    assert F.type.normalize("", F) is None
    assert F.type.normalize(None, F) is None


@pytest.mark.parametrize("raw", ["jean", "jean@", "@exemple.fr", "a b@exemple.fr",
                                 "jean@@exemple.fr"])
def test_normalize_refuses(raw: str) -> None:
    with pytest.raises(FieldValueError, match="adresse électronique"):
        F.type.normalize(raw, F)


def test_display_export_diff() -> None:
    assert F.type.display("a@exemple.fr", F) == "a@exemple.fr"
    assert F.type.export("a@exemple.fr", F) == {"": "a@exemple.fr"}
    assert F.type.diff("a@EXEMPLE.fr", "a@exemple.fr", F) is None
    assert F.type.diff("a@exemple.fr", "b@exemple.fr", F) is not None
