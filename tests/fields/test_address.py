"""The address field type."""

from __future__ import annotations

import pytest

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("- id: adresse\n  type: address\n- id: fr\n  type: address\n"
                   "  allow_foreign: false\n")
F, FR = C.fields["adresse"], C.fields["fr"]
HOME = {"line1": "1  rue de la Paix", "postal_code": "75002", "commune": "Paris"}


def test_normalize() -> None:
    assert F.type.normalize(HOME, F) == {
        "line1": "1 rue de la Paix", "line2": "", "postal_code": "75002", "commune_insee": "",
        "commune": "PARIS", "country": "FR"}
    assert F.type.normalize({}, F) is None
    assert F.type.normalize(None, F) is None
    assert F.type.parse_input(["1 rue X", "", "13001", "13201", "Marseille", ""], F)[
        "commune_insee"] == "13201"


@pytest.mark.parametrize(("value", "message"), [
    ({"line1": "x", "postal_code": "7500", "commune": "Paris"}, "code postal"),
    ({"line1": "x", "postal_code": "75002", "commune": "Paris", "commune_insee": "9"}, "INSEE"),
    ("1 rue X", "incomplète"),
])
def test_refused(value: object, message: str) -> None:
    with pytest.raises(FieldValueError, match=message):
        F.type.normalize(value, F)


def test_foreign_address() -> None:
    abroad = {"line1": "Rue Neuve 1", "postal_code": "1000", "commune": "Bruxelles",
              "country": "be"}
    stored = F.type.normalize(abroad, F)
    assert stored["country"] == "BE"
    assert F.type.display(stored, F) == "Rue Neuve 1, 1000 BRUXELLES, BE"
    with pytest.raises(FieldValueError, match="en France"):
        FR.type.normalize(abroad, FR)


def test_validate_display_export_diff() -> None:
    stored = F.type.normalize(HOME, F)
    assert list(F.type.validate(stored, F)) == []
    assert list(F.type.validate({**stored, "line1": ""}, F)) == ["Indiquez le numéro et la voie."]
    assert F.type.display(stored, F) == "1 rue de la Paix, 75002 PARIS"
    assert F.type.export(stored, F)[".postal_code"] == "75002"
    assert F.type.export(stored, F)[".line2"] is None
    assert F.type.diff(HOME, {**HOME, "commune": "PARIS ", "commune_insee": "75102"}, F) is None
    assert F.type.diff(HOME, {**HOME, "line1": "2 rue de la Paix"}, F) is not None
