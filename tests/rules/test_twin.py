"""One rule corpus, two evaluators: engine.rules.evaluate_dossier (the server) and its browser
twin engine/web/static/js/rules.js, run in Node on exactly what the browser receives
(``client_model`` JSON, the answers, the context).

Cases: every ``tests:`` case of every campaign in campaigns/, the regression cases of
``twin_corpus.json`` (each one a divergence found and fixed), and a few hundred answer sets
generated from each campaign's own fields (random choices, numbers around bracket edges, empty,
malformed and hidden values, repeat rows matched or not with the imported guardians).

Both must give the same visible pages, visible / required / read-only keys, computed values,
fees (amount and explanation), memberships, documents and total. Errors: the browser checks
what it can (not e-mail, phone or country syntax); every message it gives is the server's, and
it gives every "required" message the server gives.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.campaign import load_campaign
from engine.campaign.model import Campaign, FieldSpec
from engine.dossiers.summary import field_text
from engine.fields import FieldValueError
from engine.fields.common import format_decimal, format_money
from engine.rules import DossierContext, evaluate_dossier
from engine.rules.client import client_model
from engine.rules.testing import DEFAULT_TODAY, run_tests

from campaign.helpers import compile_fields

ROOT = Path(__file__).parents[2]
RUNNER = Path(__file__).parent / "run_twin.js"
CORPUS = Path(__file__).parent / "twin_corpus.json"
#: the example campaigns, and one written to reach the corners of the rules
CAMPAIGNS = [*sorted((ROOT / "campaigns").glob("*.yaml")),
             *sorted((Path(__file__).parent / "twin").glob("*.yaml"))]
#: generated dossiers per campaign; raise it to fuzz harder, e.g. RULES_TWIN_EXAMPLES=3000
EXAMPLES = int(os.environ.get("RULES_TWIN_EXAMPLES", "250"))
#: field types whose syntax only the server checks (their messages are not compared)
SERVER_ONLY = {"email", "phone", "country"}


# -- the two sides ------------------------------------------------------------------------------

def server_view(campaign: Campaign, case: Mapping[str, Any],
                lang: str | None = None) -> dict[str, Any]:
    context = case["context"]
    ctx = DossierContext(prefill=context.get("prefill") or {},
                         family=context.get("family") or {},
                         today=date.fromisoformat(context["today"]),
                         guardian=context.get("guardian"))
    result = evaluate_dossier(campaign, case["answers"], ctx, lang=lang)
    money = result.money()
    return {
        "visiblePages": result.visible_pages, "visible": sorted(result.visible),
        "required": sorted(result.required), "readonly": sorted(result.readonly),
        "computed": result.computed, "errors": result.errors, "fees": money["fees"],
        "memberships": money["memberships"], "documents": money["documents"],
        "instalments": money["instalments"], "total": money["total"],
    }


def assert_same(inputs: list[Any], got: list[Any], expected: list[Any]) -> None:
    """The browser's output is the server's for every input (the first differences shown)."""
    bad = [(i, g, e) for i, g, e in zip(inputs, got, expected, strict=True) if g != e]
    assert not bad, bad[:10]


def run_twin(node: str, tmp: Path, data: Any, *flags: str, timeout: int = 60) -> Any:
    """What ``run_twin.js [flags] <data as a JSON file>`` prints, read as JSON."""
    batch = tmp / "batch.json"
    batch.write_text(json.dumps(data), encoding="utf-8")
    proc = subprocess.run([node, str(RUNNER), *flags, str(batch)], capture_output=True,
                          text=True, encoding="utf-8", timeout=timeout, check=False)
    assert proc.returncode == 0, f"node failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


def js_views(node: str, campaign: Campaign, cases: list[dict[str, Any]], tmp: Path,
             lang: str | None = None) -> list[dict[str, Any]]:
    """Every case through rules.js in one Node process."""
    results: list[dict[str, Any]] = run_twin(
        node, tmp, {"model": client_model(campaign, lang), "cases": cases}, timeout=300)
    assert len(results) == len(cases)
    return results


def _server_only_failure(repeat: FieldSpec, rows: Any) -> bool:
    """Whether a row holds a value of a server-only type that the server rejects."""
    for row in rows if isinstance(rows, list) else ():
        for child in repeat.fields:
            if child.type.name in SERVER_ONLY and isinstance(row, Mapping):
                try:
                    child.type.normalize(row.get(child.id), child)
                except FieldValueError:
                    return True
    return False


def test_rules_js_loads_as_plain_scripts(node: str, tmp_path: Path) -> None:
    """In the page, big.js, expr.js and rules.js are classic scripts: window.DossierRules."""
    campaign = load_campaign(CAMPAIGNS[0])
    test = campaign.tests[0]
    case = {"answers": dict(test.answers), "context": {
        "prefill": dict(test.prefill), "family": {"siblings": 1, "rank": 1},
        "today": (test.today or DEFAULT_TODAY).isoformat()}}
    [result] = run_twin(node, tmp_path, {"model": client_model(campaign), "cases": [case]},
                        "--script-check")
    assert not differences(campaign, case["answers"], server_view(campaign, case), result)


def test_money_is_written_the_same_way(node: str, tmp_path: Path) -> None:
    """DossierRules.formatMoney / formatDecimal against engine.fields.common."""
    numbers: list[str] = ["12.3", "0", "-0", "-0.00", "1234567.891", "0.005", "0.015", "-12.5",
                          "1E+3", "1.5E-7", "999999.995",
                          # more than 28 digits: format_decimal's abs() rounds them
                          "3778412922899509.85077724008989739607569512615239",
                          "-999999999999999.99999999999999", "0.99999999999999999999999999995",
                          "0.000000000000012345678901234567890123456789"]

    @settings(max_examples=300, database=None, deadline=None, derandomize=True)
    @given(st.one_of(*(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**9,
                                   max_value=10**9, places=p) for p in range(7)),
                     st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**15,
                                 max_value=10**15, places=20)))
    def collect(value: Decimal) -> None:
        numbers.append(str(value))

    collect()
    got = run_twin(node, tmp_path, numbers, "--format")
    expected = [[format_money(Decimal(n)), format_decimal(Decimal(n))] for n in numbers]
    assert_same(numbers, got, expected)


def test_computed_dates_are_written_the_same_way(node: str, tmp_path: Path) -> None:
    """DossierRules.formatDate against the display of a computed field with ``format: date``."""
    spec = compile_fields("""\
        - id: fin
          type: computed
          expr: date('2027-12-31')
          format: date
        """).fields["fin"]
    values: list[Any] = ["2027-12-31", "2024-02-29", "02/03/2014", " 2/3/2014 ", "20140302",
                         "2027-W01-1", "2027-02-30", "2023-02-29", "hier", "", None, 12, True]

    values += ["0001-01-01", "0009-12-31", "0099-06-15", "0999-12-31", "1000-01-01"]

    # every year from 1: the server's %Y is strftime's, unpadded below 1000 on glibc ("999")
    @settings(max_examples=300, database=None, deadline=None, derandomize=True)
    @given(st.one_of(st.dates(max_value=date(1100, 12, 31)), st.dates()))
    def collect(value: date) -> None:
        values.append(value.isoformat())

    collect()
    got = run_twin(node, tmp_path, values, "--format-date")
    expected = [spec.type.display(v, spec) for v in values]
    assert_same(values, got, expected)


#: a computed field of each format, with an expression of its type
COMPUTED_EXPR = {"number": "1.5", "integer": "1.5", "money": "1.5",
                 "date": "date('2027-12-31')", "boolean": "true", "text": "'a'"}
#: stored computed values (text, booleans, null), of every format and of none
STORED: list[Any] = [None, True, False, "", " ", "0", "-0", "0.00", "12.5", "12,5", "-1234567.891",
                     "1E+3", "1.5E-7", "2027-12-31", "31/12/2027", "0999-01-02", "oui", "non",
                     "Léa", "1 234,5", "NaN", "Infinity",
                     # halves round to even, as Decimal.quantize does by default
                     "0.5", "1.5", "2.5", "-2.5", "-0.4", "1234567.5", "999999.5"]


@pytest.mark.parametrize("fmt", sorted(COMPUTED_EXPR))
def test_computed_values_are_written_the_same_way(fmt: str, node: str, tmp_path: Path) -> None:
    """DossierRules.displayComputed (what form.js shows live) against what the server shows
    for a computed field of each ``format``: field_text, i.e. ComputedField.display."""
    spec = compile_fields(f"""\
        - id: valeur
          type: computed
          expr: "{COMPUTED_EXPR[fmt]}"
          format: {fmt}
        """).fields["valeur"]
    values = list(STORED)

    @settings(max_examples=300, database=None, deadline=None, derandomize=True)
    @given(st.one_of(
        st.booleans(),
        st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**12, max_value=10**12,
                    places=3).map(str),
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
        st.dates().map(date.isoformat),
        st.text(max_size=12)))
    def collect(value: Any) -> None:
        values.append(value)

    collect()
    got = run_twin(node, tmp_path, [[fmt, v] for v in values], "--display-computed")
    expected = [field_text(spec, v) for v in values]
    assert_same(values, got, expected)


def test_date_limits_are_written_the_same_way(node: str, tmp_path: Path) -> None:
    """A date field's min / max messages name the limit as the server writes it."""
    campaign = compile_fields("""\
        - id: ancien
          type: date
          label: Date
          min: "0099-03-01"
          max: "0999-10-31"
        """)
    answers = ["0099-02-28", "0999-11-01", "0001-01-01", "2027-01-01", "0500-01-01"]
    cases = [{"answers": {"ancien": a}, "context": {"today": "2027-05-01"}} for a in answers]
    got = js_views(node, campaign, cases, tmp_path)
    expected = [server_view(campaign, c)["errors"] for c in cases]
    assert all(expected[:4]), expected  # the first four are out of bounds
    assert [g["errors"] for g in got] == expected


def differences(campaign: Campaign, answers: Mapping[str, Any], server: dict[str, Any],
                js: dict[str, Any]) -> list[str]:
    if "error" in js:
        return [f"rules.js raised: {js['error']}"]
    out = []
    for key in ("visiblePages", "computed", "fees", "memberships", "documents", "instalments",
                "total"):
        if server[key] != js[key]:
            out.append(f"{key}: server {server[key]!r} != browser {js[key]!r}")
    for key in ("visible", "required", "readonly"):
        if set(server[key]) != set(js[key]):
            out.append(f"{key}: only server {sorted(set(server[key]) - set(js[key]))}, "
                       f"only browser {sorted(set(js[key]) - set(server[key]))}")
    for key in sorted(set(server["errors"]) | set(js["errors"])):
        mine, theirs = js["errors"].get(key, []), server["errors"].get(key, [])
        spec = campaign.fields.get(_unindexed(key))
        if spec is not None and spec.type.is_container and \
                _server_only_failure(spec, answers.get(key)):
            continue  # a row's phone or e-mail the server rejects first: the browser cannot
            # know, and reports the next bad value of the rows, if any
        if spec is not None and spec.type.name in SERVER_ONLY:
            required = spec.type.required_message(spec)
            if (required in theirs) != (required in mine) or not set(mine) <= set(theirs):
                out.append(f"errors[{key}]: server {theirs!r} != browser {mine!r}")
        elif mine != theirs:
            out.append(f"errors[{key}]: server {theirs!r} != browser {mine!r}")
    return out


def _unindexed(key: str) -> str:
    parts = key.split(".")
    return ".".join(p for p in parts if not p.isdigit())


def assert_twins(node: str, campaign: Campaign, cases: list[dict[str, Any]], tmp: Path,
                 names: list[str], lang: str | None = None) -> None:
    results = js_views(node, campaign, cases, tmp, lang)
    bad = []
    for name, case, js in zip(names, cases, results, strict=True):
        diff = differences(campaign, case["answers"], server_view(campaign, case, lang), js)
        if diff:
            bad.append(f"{name}\n  answers: {json.dumps(case['answers'], ensure_ascii=False)}"
                       f"\n  context: {json.dumps(case['context'], ensure_ascii=False)}\n  "
                       + "\n  ".join(diff))
    assert not bad, f"{len(bad)}/{len(cases)} cases differ, first ones:\n" + "\n".join(bad[:5])


# -- campaign tests and the regression corpus ---------------------------------------------------

LANGUAGES = [(path, lang) for path in CAMPAIGNS
             for lang in load_campaign(path).languages]


@pytest.mark.parametrize(("path", "lang"), LANGUAGES,
                         ids=[f"{p.name}-{lang}" for p, lang in LANGUAGES])
def test_campaign_tests_agree(path: Path, lang: str, node: str, tmp_path: Path) -> None:
    """In each language of the campaign: labels, reasons and explanations are translated."""
    campaign = load_campaign(path)
    cases = [{"answers": dict(t.answers), "context": {
        "prefill": dict(t.prefill), "family": dict(t.family or {"siblings": 1, "rank": 1}),
        "today": (t.today or DEFAULT_TODAY).isoformat()}} for t in campaign.tests]
    assert cases, f"{path.name} has no tests"
    assert_twins(node, campaign, cases, tmp_path, [t.name for t in campaign.tests], lang)


def load_corpus() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(CORPUS.read_text(encoding="utf-8"))["cases"]
    return cases


#: the campaigns the regression corpus has cases for. A case exists only where a divergence was
#: found, so a campaign may have none; no case is left out, as test_corpus_cases_are_well_formed
#: checks that each one names a campaign of CAMPAIGNS.
CORPUS_CAMPAIGNS = [p for p in CAMPAIGNS if any(c["campaign"] == p.name for c in load_corpus())]


@pytest.mark.parametrize("path", CORPUS_CAMPAIGNS, ids=lambda p: p.name)
def test_regression_corpus_agrees(path: Path, node: str, tmp_path: Path) -> None:
    campaign = load_campaign(path)
    cases = [c for c in load_corpus() if c["campaign"] == path.name]
    assert_twins(node, campaign, cases, tmp_path, [c["note"] for c in cases])


def test_corpus_cases_are_well_formed() -> None:
    names = {p.name for p in CAMPAIGNS}
    assert load_corpus(), f"{CORPUS.name} has no case"
    for case in load_corpus():
        assert set(case) == {"campaign", "note", "answers", "context"}, case
        assert case["campaign"] in names
        assert set(case["context"]) <= {"prefill", "family", "today", "guardian"}
        date.fromisoformat(case["context"]["today"])


# -- generated dossiers -------------------------------------------------------------------------

WORDS = ["", " ", "Martin", "  Léa  Rose ", "O'Neil", "x" * 70, "Zoë\tÉlise", "12"]
EMAILS = ["claire.martin@example.fr", "Jean.Dupont@Exemple.FR", None]
PHONES = ["06 12 34 56 78", "+33612345678", "0472000000", "04.72.00.00.01", "+32470123456",
          "0033698765432", "+33 (0)6 12 34 56 78", "06-98-76-54-32", "6 12 34 56 78",
          "33698765432", None, ""]
COUNTRIES = ["FR", "be", "DE", None]
LEVELS = ["6e", "5e", "4e", "3e", None]
DATES = ["2014-03-02", "02/03/2014", "2015-09-20", "31/02/2014", "2027-06-01", "hier", "", None,
         "02/03/2014 00:00:00", "2014-03-02T10:30:00", "2014-02-30 10:30", "  "]


def _number_texts(campaign: Campaign) -> list[Any]:
    """Numbers around every bracket edge of the campaign, in the forms families type."""
    edges: list[Decimal] = [Decimal(0), Decimal(5000), Decimal(5001)]
    for tariff in campaign.tariffs:
        if tariff.brackets is not None:
            edges += [b.up_to for b in tariff.brackets.brackets if b.up_to is not None]
    out: list[Any] = [None, "", "abc", "-1", "12,5", "1 200", "1\u202f200,50", "0.005", "0.05", 820,
                      12.5, "1e3", "3.14159"]
    for edge in edges:
        for delta in (Decimal("-0.01"), Decimal(0), Decimal("0.01"), Decimal(1)):
            value = edge + delta
            out += [str(value), str(value).replace(".", ",")]
    return out


#: what a broken or hostile client could post for any field
HOSTILE = [["a"], [], {"x": 1}, {}, 12, 0, 1.5, True, False, "  ", "\u00a0"]


def _value(spec: FieldSpec, campaign: Campaign, numbers: list[Any]) -> st.SearchStrategy[Any]:
    """Mostly plausible answers of the field's type, sometimes anything at all (except for the
    types only the server checks: a phone posted as an object is refused by the server alone,
    and inside a repeat that refusal hides every row from the rules)."""
    if spec.type.name in SERVER_ONLY:
        return _typed(spec, campaign, numbers)
    return st.one_of(_typed(spec, campaign, numbers), _typed(spec, campaign, numbers),
                     _typed(spec, campaign, numbers), st.sampled_from(HOSTILE))


def _typed(spec: FieldSpec, campaign: Campaign, numbers: list[Any]) -> st.SearchStrategy[Any]:
    kind = spec.type.name
    if kind in ("text", "textarea"):
        return st.sampled_from([*WORDS, None, "ligne 1\r\nligne 2  "])
    if kind in ("number", "integer"):
        return st.sampled_from(numbers)
    if kind == "date":
        return st.sampled_from(DATES)
    if kind == "email":
        return st.sampled_from(EMAILS)
    if kind == "phone":
        return st.sampled_from(PHONES)
    if kind == "country":
        return st.sampled_from(COUNTRIES)
    if kind == "choice":
        values = [c.value for c in spec.options.choices]
        if spec.options.multiple:
            return st.one_of(st.lists(st.sampled_from(values), max_size=len(values)),
                             st.just(["inconnu"]), st.none())
        return st.sampled_from([*values, *values, None, "", "inconnu"])
    if kind in ("boolean", "consent"):
        return st.sampled_from([True, False, None, "oui", "non", "true", "peut-être"])
    if kind == "memberships":
        ids = list(spec.options.association_ids)
        return st.one_of(st.lists(st.sampled_from(ids), max_size=len(ids)), st.just(["club"]),
                         st.none())
    if kind == "file":
        return st.sampled_from([None, [], ["f1"], ["f1", "f2"], ["f1", "f2", "f3", "f4"]])
    if kind == "address":
        return st.one_of(st.none(), st.fixed_dictionaries({
            "line1": st.sampled_from(["12 rue des Lilas", "", "40  cours Gambetta"]),
            "postal_code": st.sampled_from(["69003", "69007", "6900", ""]),
            "commune": st.sampled_from(["Lyon", "LYON", "", "Villeurbanne"]),
            "commune_insee": st.sampled_from(["69383", "", "2A004", "123"]),
            "country": st.sampled_from(["FR", "", "be"]),
        }))
    if kind == "grid":
        answers = [c.value for c in spec.options.choices] or [True, False, "oui", "non"]
        cells = st.sampled_from([*answers, *answers, None, "", " ", "peut-être"])
        rows = {r.id: cells for r in spec.options.rows}
        return st.one_of(st.none(), st.fixed_dictionaries({}, optional={**rows, "ancien": cells}),
                         st.just(["oui"]))
    if kind == "repeat":
        row = st.fixed_dictionaries(
            {c.id: _value(c, campaign, numbers) for c in spec.fields if c.type.has_value},
            optional={"personne_id": st.sampled_from(["1001", "1002", "9999"]),
                      "_key": st.sampled_from(["1001", "r1"])})
        return st.one_of(st.none(), st.lists(row, max_size=3), st.just("pas une liste"))
    return st.none()


def _answers(campaign: Campaign) -> st.SearchStrategy[dict[str, Any]]:
    numbers = _number_texts(campaign)
    fields = [s for s in campaign.top_fields() if s.type.has_value]
    return st.fixed_dictionaries({}, optional={s.id: _value(s, campaign, numbers)
                                               for s in fields})


GUARDIAN = st.fixed_dictionaries({
    "personne_id": st.sampled_from(["1001", "1002"]),
    "civility": st.sampled_from(["MME", "M"]),
    "last_name": st.sampled_from(["MARTIN", "BERNARD"]),
    "first_name": st.sampled_from(["Claire", "Marc"]),
    "relationship": st.sampled_from(["10", "20"]),
    "phone_mobile": st.sampled_from(["0612345678", "+33698765432", ""]),
    "email": st.sampled_from(["claire.martin@example.fr", ""]),
    "address": st.sampled_from([{"line1": "12 rue des Lilas", "postal_code": "69003",
                                 "commune": "LYON", "country": "FR"}, None]),
    "pays_frais": st.sampled_from([True, False, "oui", None, 1]),
})

CONTEXT = st.fixed_dictionaries({
    "prefill": st.fixed_dictionaries({
        "pupil": st.fixed_dictionaries({
            "level": st.sampled_from(LEVELS),
            "options": st.sampled_from([[], ["LATIN"], "LATIN", None]),
            "birth_date": st.sampled_from(["2014-03-02", "02/03/2015", "2013-12-31", None]),
            "first_name": st.just("Léa"), "last_name": st.just("MARTIN"),
            "address": st.sampled_from([None, {"commune": "LYON", "postal_code": 69003},
                                        "12 rue des Lilas"]),
        }),
        "guardians": st.lists(GUARDIAN, max_size=2, unique_by=lambda g: g["personne_id"]),
        "previous": st.fixed_dictionaries({}, optional={
            "bourse": st.sampled_from(["1", "2", "9", None, 1]),
            "qf_2026": st.sampled_from(["820", "820,5", None, 12, {"a": 1}, ["x"]]),
            "semaines_2026": st.sampled_from([36, "36", None, True]),
        }),
    }),
    "family": st.fixed_dictionaries({"siblings": st.integers(1, 4),
                                     "rank": st.sampled_from([1, 2, 3, "2", None])}),
    "today": st.sampled_from(["2027-06-01", "2027-12-31"]),
})


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.name)
def test_generated_dossiers_agree(path: Path, node: str, tmp_path: Path) -> None:
    campaign = load_campaign(path)
    cases: list[dict[str, Any]] = []

    @settings(max_examples=EXAMPLES, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(answers=_answers(campaign), context=CONTEXT)
    def collect(answers: dict[str, Any], context: dict[str, Any]) -> None:
        cases.append({"answers": answers, "context": context})

    collect()
    assert len(cases) >= min(EXAMPLES, 100)
    assert_twins(node, campaign, cases, tmp_path, [f"generated #{i}" for i in range(len(cases))])


def test_the_edge_campaign_keeps_its_own_promises() -> None:
    """Its ``tests:`` pin the figures (rounding, reductions, fees.*) the twin must reproduce."""
    campaign = load_campaign(Path(__file__).parent / "twin" / "edge-cases.yaml")
    outcomes = run_tests(campaign)
    assert len(outcomes) >= 4
    assert all(o.passed for o in outcomes), [o.failures for o in outcomes if not o.passed]
