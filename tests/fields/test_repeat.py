"""The repeat field type: rows matched by their key in diffs."""

from __future__ import annotations

import pytest

from engine.fields import FieldValueError

from campaign.helpers import compile_fields

C = compile_fields("""\
    - id: responsables
      type: repeat
      prefill: guardians
      key: personne_id
      min: 1
      max: 2
      item_label: Responsable
      fields:
        - id: nom
          type: text
          prefill: last_name
        - id: tel
          type: phone
          prefill: phone_mobile
    """)
F = C.fields["responsables"]
A = {"_key": "p1", "nom": "Martin", "tel": "+33612345678"}
B = {"_key": "p2", "nom": "Durand", "tel": "+33698765432"}


def test_normalize_rows() -> None:
    rows = F.type.normalize([{"personne_id": "p1", "nom": " Martin ", "tel": "06 12 34 56 78"},
                             {"nom": "Nouveau"}], F)
    assert rows == [{"_key": "p1", "nom": "Martin", "tel": "+33612345678"},
                    {"_key": "row2", "nom": "Nouveau", "tel": None}]
    assert F.type.normalize(None, F) == []
    with pytest.raises(FieldValueError):
        F.type.normalize("x", F)
    with pytest.raises(FieldValueError):
        F.type.normalize(["x"], F)


def test_validate_counts() -> None:
    assert list(F.type.validate([], F)) == ["Ajoutez au moins 1 élément(s)."]
    assert list(F.type.validate([A, B, A], F)) == ["Ajoutez au plus 2 élément(s)."]


def test_diff_same_rows_in_other_order_and_form() -> None:
    assert F.type.diff([A, B], [B, {**A, "tel": "06 12 34 56 78"}], F) is None


def test_diff_added_removed_changed_rows() -> None:
    c = {"_key": "new1", "nom": "Petit", "tel": None}
    change = F.type.diff([A, B], [{**A, "nom": "Martin-Leroy"}, c], F)
    assert change is not None and change.field_id == "responsables"
    kinds = {(ch.field_id, ch.kind) for ch in change.children}
    assert kinds == {("p1", "changed"), ("p2", "removed"), ("new1", "added")}
    changed = next(ch for ch in change.children if ch.kind == "changed")
    assert [(c.field_id, c.old, c.new) for c in changed.children] == [
        ("nom", "Martin", "Martin-Leroy")]
    removed = next(ch for ch in change.children if ch.kind == "removed")
    assert removed.old == "Durand · 06 98 76 54 32" and removed.new == ""
    assert removed.label == "Responsable 2"


def test_display_export() -> None:
    assert F.type.display([A, B], F) == "Martin · 06 12 34 56 78 ; Durand · 06 98 76 54 32"
    assert F.type.export([A], F) == {".1.nom": "Martin", ".1.tel": "06 12 34 56 78"}
    assert F.type.is_empty([]) and not F.type.is_empty([A])


@pytest.mark.parametrize("damaged", ["texte", 12, [1, 2], {"nom": "x"}])
def test_diff_of_a_value_that_is_not_rows_is_a_plain_change(damaged: object) -> None:
    spec = F
    rows = [{"_key": "1", "nom": "DURAND", "tel": None}]
    change = spec.type.diff(rows, damaged, spec)
    assert change is not None and change.kind == "changed"
    assert change.new == str(damaged)
    assert spec.type.diff(damaged, damaged, spec) is None
    assert not spec.type.same(rows, damaged, spec)
