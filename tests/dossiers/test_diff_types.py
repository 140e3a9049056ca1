"""The diff hook of EVERY field type, built-in and the test plugins', table-driven over the
registry: equal after normalisation, changed, added, removed, the prefill missing, repeat rows
added, removed, changed and reordered; hypothesis properties: ``diff(x, x)`` is empty for every
type's values, and a reported change is exactly a change made (with its before and after as
the type displays them).

A new built-in type without a row in ``CASES`` fails ``test_every_type_has_a_case``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plugin.dossiersco_iban import IbanField
from plugin.dossiersco_piece import IdentityDocumentField

from engine.campaign import check_source, parse_source
from engine.campaign.model import Campaign, FieldSpec
from engine.dossiers.diff import changed_field_ids, dossier_changes
from engine.fields import BUILTIN_TYPES, FieldRegistry, new_registry
from engine.rules import DossierContext

from campaign.helpers import HEADER

PLUGIN_TYPES = (IbanField, IdentityDocumentField)
ADDRESS = {"line1": "12 rue des Lilas", "postal_code": "69003", "commune": "LYON",
           "commune_insee": "69383", "country": "FR"}
ROW_A = {"_key": "k1", "nom": "Martin", "telephone": "06 12 34 56 78"}
ROW_B = {"_key": "k2", "nom": "Durand", "telephone": "07 98 76 54 32"}


@dataclass(frozen=True)
class Case:
    """What a type's diff is checked with (raw values: each is normalised first)."""

    #: one value in two spellings, the first as an import may write it: no change
    equal: tuple[Any, Any]
    #: two different values (None: the type has one non-empty value, a consent given)
    changed: tuple[Any, Any] | None
    #: values the properties draw from (empty ones included)
    samples: tuple[Any, ...]
    #: what makes two canonical values the same one (repeat rows: matched by their key)
    identity: Callable[[Any], Any] = lambda value: value


def _rows(value: Any) -> Any:
    return {row["_key"]: row for row in value or ()}


#: a type without a value (info, computed): the diff never looks at it
NO_VALUE = None

CASES: dict[str, Case | None] = {
    "text": Case((" Durand ", "Durand"), ("Durand", "Dupont"), ("Durand", "Dupont", "", None)),
    "textarea": Case(("Rien\n", "Rien"), ("Rien", "Allergie"), ("Rien", "Allergie", None)),
    "number": Case(("12,50", "12.5"), ("12,5", "13"), ("12,5", "13", "1 200", "0", None)),
    "integer": Case((" 03", 3), (3, 4), (0, 3, 4, None)),
    "date": Case(("02/03/2014", "2014-03-02"), ("2014-03-02", "2014-03-03"),
                 ("2014-03-02", "2014-03-03", None)),
    "email": Case(("lea@Example.FR", "lea@example.fr"), ("lea@example.fr", "leo@example.fr"),
                  ("lea@example.fr", "leo@example.fr", None)),
    "phone": Case(("06 12 34 56 78", "+33612345678"), ("0612345678", "0612345679"),
                  ("0612345678", "+33 6 12 34 56 79", "07 81 22 33 44", None)),
    "address": Case((ADDRESS, {**ADDRESS, "line2": ""}),
                    (ADDRESS, {**ADDRESS, "line1": "3 place Bellecour"}),
                    (ADDRESS, {**ADDRESS, "line1": "3 place Bellecour"}, None)),
    "country": Case(("fr", "FR"), ("FR", "BE"), ("FR", "BE", "DE", None)),
    "choice": Case(("EXTERNE", "externe"), ("externe", "demi_pensionnaire"),
                   ("externe", "demi_pensionnaire", None)),
    "boolean": Case(("oui", True), (True, False), (True, False, None)),
    "consent": Case(("1", True), None, (True, None)),
    # yes/no per row: answers spelled as posted equal the stored booleans, a row not declared
    # is dropped, an unanswered row is absent
    "grid": Case(({"photo_classe": "oui", "site": "non", "ancienne": "oui"},
                  {"photo_classe": True, "site": False}),
                 ({"photo_classe": True}, {"photo_classe": False, "site": True}),
                 ({"photo_classe": True}, {"photo_classe": True, "site": False},
                  {"site": True}, None)),
    "file": Case((["f1"], ["f1"]), (["f1"], ["f2"]), (["f1"], ["f2"], ["f1", "f2"], [], None)),
    "repeat": Case(([ROW_A, ROW_B], [ROW_B, {**ROW_A, "telephone": "+33612345678"}]),
                   ([ROW_A], [{**ROW_A, "nom": "Dupont"}]),
                   ([ROW_A], [ROW_B], [ROW_A, ROW_B], [{**ROW_A, "nom": "Dupont"}], [], None),
                   identity=_rows),
    "info": NO_VALUE,
    "computed": NO_VALUE,
    "memberships": Case((["as", "fse"], ["fse", "as"]), (["fse"], ["as"]),
                        (["fse"], ["as"], ["fse", "as"], [], None)),
    # the test plugins
    "iban": Case(("fr76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189"),
                 ("FR7630006000011234567890189", "DE89370400440532013000"),
                 ("FR7630006000011234567890189", "DE89370400440532013000", None)),
    "piece_identite": Case(({"kind": "CNI", "number": "ab 12 34 56"},
                            {"kind": "cni", "number": "AB123456"}),
                           ({"kind": "cni", "number": "AB123456"},
                            {"kind": "passeport", "number": "AB123456"}),
                           ({"kind": "cni", "number": "AB123456"},
                            {"kind": "passeport", "number": "XY987654"}, None)),
}


def _registry() -> FieldRegistry:
    registry = new_registry(plugins=False)
    for cls in PLUGIN_TYPES:
        registry.register(cls)
    return registry


def _campaign(registry: FieldRegistry) -> Campaign:
    """One field of every registered type (its documented example), prefilled from
    ``pupil.<id>`` when it has a value, and two associations for the memberships."""
    fields = []
    for field_type in registry:
        example = {k: v for k, v in field_type.example.items()
                   if k not in {"prefill", "editable", "required"}}
        example["id"] = f"f_{field_type.name}"
        fields.append(example)
    document = {"pages": [{"id": "p", "title": "Page", "fields": fields}],
                "associations": [{"id": "fse", "label": "FSE", "fee": "10.00"},
                                 {"id": "as", "label": "AS", "fee": "25.00"}]}
    text = HEADER + "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n"
                            for key, value in document.items())
    campaign, diagnostics = check_source(parse_source(text), registry)
    assert campaign is not None, [d.as_line() for d in diagnostics if d.is_error]
    return campaign


REGISTRY = _registry()
CAMPAIGN = _campaign(REGISTRY)
WITH_VALUE = sorted(name for name, case in CASES.items() if case is not None)


def _spec(name: str) -> FieldSpec:
    return CAMPAIGN.fields[f"f_{name}"]


def _case(name: str) -> Case:
    case = CASES[name]
    assert case is not None
    return case


def _norm(spec: FieldSpec, raw: Any) -> Any:
    return spec.type.normalize(raw, spec)


def test_every_type_has_a_case() -> None:
    """Built-in types and the test plugins', each with its diff cases: a new type fails here
    until it gets a row in CASES."""
    names = {cls.name for cls in (*BUILTIN_TYPES, *PLUGIN_TYPES)}
    assert names == {t.name for t in REGISTRY}
    assert set(CASES) == names
    for name, case in CASES.items():
        assert (case is None) is (not REGISTRY.get(name).has_value), name


@pytest.mark.parametrize("name", WITH_VALUE)
def test_equal_after_normalisation_is_no_change(name: str) -> None:
    spec, case = _spec(name), _case(name)
    old, new = case.equal
    old = spec.type.imported(old, spec)  # as the prefill hands it to the diff
    assert spec.type.diff(old, new, spec) is None
    assert spec.type.diff(_norm(spec, old), _norm(spec, new), spec) is None


@pytest.mark.parametrize("name", WITH_VALUE)
def test_changed_added_removed(name: str) -> None:
    spec, case = _spec(name), _case(name)
    display = spec.type.display
    if case.changed is not None:
        old, new = (_norm(spec, v) for v in case.changed)
        change = spec.type.diff(old, new, spec)
        assert change is not None and change.kind == "changed" and change.field_id == spec.id
        if not spec.type.is_container:
            assert (change.old, change.new) == (display(old, spec), display(new, spec))
        value = new
    else:  # a consent: given or not
        value = _norm(spec, case.equal[0])
    added = spec.type.diff(None, value, spec)
    assert added is not None and added.kind in {"added", "changed"}
    removed = spec.type.diff(value, None, spec)
    assert removed is not None and removed.kind in {"removed", "changed"}
    if not spec.type.is_container:
        assert (added.kind, added.old, added.new) == ("added", "", display(value, spec))
        assert (removed.kind, removed.old, removed.new) == ("removed", display(value, spec), "")


@pytest.mark.parametrize("name", WITH_VALUE)
def test_the_prefill_missing(name: str) -> None:
    """The school knew nothing (no prefill): an answer is new, no answer is no change."""
    spec, case = _spec(name), _case(name)
    value = _norm(spec, case.changed[1] if case.changed else case.equal[0])
    assert spec.type.diff(None, None, spec) is None
    assert spec.type.diff(None, value, spec) is not None


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c is None))
def test_a_type_without_a_value_is_never_in_a_diff(name: str) -> None:
    spec = _spec(name)
    assert not spec.type.has_value
    pages = dossier_changes(CAMPAIGN, {spec.id: "b"}, DossierContext(prefill={}),
                            before={spec.id: "a"})
    assert spec.id not in changed_field_ids(pages)


def test_repeat_rows_added_removed_changed_reordered() -> None:
    spec = _spec("repeat")
    a, b = _norm(spec, [ROW_A])[0], _norm(spec, [ROW_B])[0]

    def rows(old: list[Any], new: list[Any]) -> list[tuple[str, str]]:
        change = spec.type.diff(old, new, spec)
        return [] if change is None else [(c.field_id, c.kind) for c in change.children]

    assert rows([a], [a, b]) == [("k2", "added")]
    assert rows([a, b], [a]) == [("k2", "removed")]
    assert rows([a, b], [b, a]) == []  # reordered: matched by identity, no change
    changed = spec.type.diff([a, b], [a, {**b, "nom": "Dupont"}], spec)
    assert changed is not None
    [row] = changed.children
    assert (row.field_id, row.kind) == ("k2", "changed")
    assert [(c.field_id, c.old, c.new) for c in row.children] == [("nom", "Durand", "Dupont")]
    # a phone written another way in a row is no change
    assert rows([a], [{**a, "telephone": "+33 6 12 34 56 78"}]) == []


def test_the_prefill_missing_in_a_dossier() -> None:
    """Through the dossier's diff: a prefilled field whose import has no value."""
    spec = _spec("phone")
    known = dossier_changes(CAMPAIGN, {spec.id: "0612345678"}, DossierContext(prefill={}),
                            before={spec.id: None})
    [page] = known
    [change] = page.changes
    assert change.change.kind == "added" and change.origin is None


def _values(name: str) -> st.SearchStrategy[Any]:
    spec = _spec(name)
    return st.sampled_from(_case(name).samples).map(lambda raw: _norm(spec, raw))


def _same(name: str, x: Any, y: Any) -> bool:
    spec, case = _spec(name), _case(name)
    if spec.type.is_empty(x) and spec.type.is_empty(y):
        return True
    return bool(case.identity(x) == case.identity(y))


@pytest.mark.parametrize("name", WITH_VALUE)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_value_diffed_with_itself_is_no_change(name: str, data: st.DataObject) -> None:
    spec = _spec(name)
    x = data.draw(_values(name))
    assert spec.type.diff(x, x, spec) is None
    assert spec.type.diff(x, json.loads(json.dumps(x)), spec) is None  # stored and read back


@pytest.mark.parametrize("name", WITH_VALUE)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_reported_change_is_exactly_a_change_made(name: str, data: st.DataObject) -> None:
    spec = _spec(name)
    x, y = data.draw(_values(name)), data.draw(_values(name))
    change = spec.type.diff(x, y, spec)
    assert (change is None) is _same(name, x, y)
    if change is not None and not spec.type.is_container:
        assert (change.old, change.new) == (spec.type.display(x, spec),
                                             spec.type.display(y, spec))
