"""One corpus, two evaluators: engine.expr (Python) and its browser twin (static/js/expr.js).

``corpus.json`` lists expressions, the values the scope gives, and the expected result. The
expected values were produced by the Python evaluator and reviewed by hand; both evaluators must
reproduce them. The browser side receives exactly what the server sends: the ``to_json`` trees.

Value encoding: text / true / false / null as is, ``{"num": "12.50"}`` (compared numerically),
``{"date": "2027-01-01"}``, lists of encoded values.

To add cases, append them without ``"expected"``, run ``python tests/expr/test_corpus.py --fill``
and review what it wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.expr import evaluate, parse, to_json, truthy

HERE = Path(__file__).parent
CORPUS = HERE / "corpus.json"
RUNNER = HERE / "run_corpus.mjs"
TODAY = "2027-06-01"
#: raise it to fuzz harder locally, e.g. EXPR_PROPERTY_EXAMPLES=20000
PROPERTY_EXAMPLES = int(os.environ.get("EXPR_PROPERTY_EXAMPLES", "300"))


# -- value encoding ---------------------------------------------------------------------------

def decode(x: Any) -> Any:
    if isinstance(x, list):
        return [decode(i) for i in x]
    if isinstance(x, dict):
        if set(x) == {"num"}:
            return Decimal(x["num"])
        if set(x) == {"date"}:
            return date.fromisoformat(x["date"])
        raise ValueError(f"cannot decode {x!r}")
    return x


def encode(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, Decimal):
        return {"num": str(v)}
    if isinstance(v, date):
        return {"date": v.isoformat()}
    if isinstance(v, list):
        return [encode(i) for i in v]
    raise TypeError(f"cannot encode {v!r}")


def same(actual: Any, expected: Any) -> bool:
    """Equality of encoded values; numbers compare numerically ("12.5" equals "12.50")."""
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(same(a, e) for a, e in zip(actual, expected, strict=True)))
    if isinstance(expected, dict) and set(expected) == {"num"}:
        return (isinstance(actual, dict) and set(actual) == {"num"}
                and Decimal(actual["num"]) == Decimal(expected["num"]))
    if isinstance(expected, bool) or expected is None:
        return actual is expected
    return type(actual) is type(expected) and actual == expected


# -- scope -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CorpusScope:
    today: date
    values: dict[tuple[str, ...], Any]
    changed_paths: frozenset[tuple[str, ...]]

    def value(self, path: tuple[str, ...]) -> Any:
        return self.values.get(path)

    def changed(self, path: tuple[str, ...]) -> bool:
        return path in self.changed_paths


def scope_of(case: dict[str, Any]) -> CorpusScope:
    return CorpusScope(
        today=date.fromisoformat(case.get("today", TODAY)),
        values={tuple(k.split(".")): decode(v) for k, v in case.get("values", {}).items()},
        changed_paths=frozenset(tuple(p.split(".")) for p in case.get("changed", [])),
    )


def python_value(case: dict[str, Any]) -> Any:
    return evaluate(parse(case["expr"]), scope_of(case))


# -- node ------------------------------------------------------------------------------------

def run_node(node: str, cases_file: Path, trees: list[Any], tmp: Path) -> list[dict[str, Any]]:
    """Evaluate every case in one Node process; one result (value/test or error) per case."""
    trees_file = tmp / "trees.json"
    trees_file.write_text(json.dumps(trees), encoding="utf-8")
    proc = subprocess.run([node, str(RUNNER), str(cases_file), str(trees_file)],
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          check=False)
    assert proc.returncode == 0, f"node failed:\n{proc.stderr}"
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    assert len(results) == len(trees)
    return results


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(CORPUS.read_text(encoding="utf-8"))["cases"]
    return cases


CASES = load_cases()
IDS = [f"{i:03d} {c['expr'][:50]}" for i, c in enumerate(CASES)]


# -- the corpus --------------------------------------------------------------------------------

def test_corpus_is_large_and_complete() -> None:
    assert len(CASES) >= 120
    for case in CASES:
        assert set(case) <= {"expr", "values", "changed", "today", "expected", "note"}, case
        assert "expected" in case, f"run --fill for {case['expr']!r}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_python(case: dict[str, Any]) -> None:
    got = encode(python_value(case))
    assert same(got, case["expected"]), f"{case['expr']!r}: python gives {got!r}"


@pytest.fixture(scope="module")
def js_results(node: str, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    trees = [to_json(parse(c["expr"])) for c in CASES]
    return run_node(node, CORPUS, trees, tmp_path_factory.mktemp("expr-js"))


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_js(index: int, js_results: list[dict[str, Any]]) -> None:
    case, out = CASES[index], js_results[index]
    assert "error" not in out, f"{case['expr']!r}: expr.js raised\n{out.get('error')}"
    assert same(out["value"], case["expected"]), f"{case['expr']!r}: expr.js gives {out['value']!r}"
    # stricter than the corpus: the very same Decimal text (12.50 stays 12.50, -0 stays -0)
    py = python_value(case)
    assert out["value"] == encode(py), f"{case['expr']!r}: {out['value']!r} != {encode(py)!r}"
    assert out["test"] is truthy(py)


@pytest.mark.parametrize(("mode", "big_global"), [("--script-check", "function"),
                                                  ("--module-check", "undefined")])
def test_js_loads_without_a_bundler(mode: str, big_global: str, node: str) -> None:
    """As classic <script>s (window.DossierExpr) and as ES modules (vendor/big.mjs + useBig)."""
    flags = ["--experimental-vm-modules", "--no-warnings"] if mode == "--module-check" else []
    proc = subprocess.run([node, *flags, str(RUNNER), mode], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"value": {"num": "3.10"}, "global": big_global}


# -- property: random arithmetic and comparisons agree -----------------------------------------

VARS = ("a", "b", "c")
_numbers = st.one_of(*(st.decimals(min_value=-1000, max_value=1000, places=p,
                                   allow_nan=False, allow_infinity=False) for p in range(4)))
_leaf = st.one_of(
    _numbers.map(lambda d: ("num", f"({d})")),
    st.sampled_from(VARS).map(lambda v: ("num", v)),
    st.just(("num", "null")),
)


def _as_num(e: tuple[str, str]) -> str:
    return e[1] if e[0] == "num" else f"(1 if {e[1]} else 0)"


def _as_bool(e: tuple[str, str]) -> str:
    return e[1] if e[0] == "bool" else f"({e[1]} > 0)"


def _extend(sub: st.SearchStrategy[tuple[str, str]]) -> st.SearchStrategy[tuple[str, str]]:
    n = sub.map(_as_num)
    b = sub.map(_as_bool)
    ops = st.sampled_from(["+", "-", "*", "/", "%"])
    cmps = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    places = st.integers(-1, 12)
    numeric = st.one_of(
        st.tuples(n, ops, n).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        n.map(lambda x: f"-({x})"),
        st.tuples(n, places).map(lambda t: f"round({t[0]}, {t[1]})"),
        n.map(lambda x: f"round({x})"),
        n.map(lambda x: f"abs({x})"),
        st.tuples(st.sampled_from(["min", "max"]), n, n).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.lists(n, max_size=3).map(lambda xs: f"sum([{', '.join(xs)}])"),
        st.tuples(b, n, n).map(lambda t: f"({t[1]} if {t[0]} else {t[2]})"),
    ).map(lambda s: ("num", s))
    boolean = st.one_of(
        st.tuples(n, cmps, n).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(n, cmps, n, cmps, n).map(lambda t: "({} {} {} {} {})".format(*t)),
        st.tuples(b, st.sampled_from(["and", "or"]), b).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        b.map(lambda x: f"(not {x})"),
        n.map(lambda x: f"empty({x})"),
        st.tuples(n, st.lists(n, max_size=3)).map(lambda t: f"({t[0]} in [{', '.join(t[1])}])"),
    ).map(lambda s: ("bool", s))
    return st.one_of(numeric, boolean)


_cases = st.fixed_dictionaries({
    "expr": st.recursive(_leaf, _extend, max_leaves=8).map(lambda e: e[1]),
    "values": st.fixed_dictionaries(
        {v: st.one_of(st.none(), _numbers.map(lambda d: {"num": str(d)})) for v in VARS}),
})


def test_property_python_and_js_agree(node: str, tmp_path: Path) -> None:
    batch: list[dict[str, Any]] = []

    @settings(max_examples=PROPERTY_EXAMPLES, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=_cases)
    def collect(case: dict[str, Any]) -> None:
        case = {**case, "changed": [], "today": TODAY}
        case["expected"] = encode(python_value(case))  # also proves Python never raises here
        batch.append(case)

    collect()
    cases_file = tmp_path / "cases.json"
    cases_file.write_text(json.dumps(batch), encoding="utf-8")
    results = run_node(node, cases_file, [to_json(parse(c["expr"])) for c in batch], tmp_path)
    bad = [(c["expr"], c["values"], c["expected"], r) for c, r in zip(batch, results, strict=True)
           if r.get("value", "<error>") != c["expected"]]
    assert not bad, f"{len(bad)}/{len(batch)} differ, first ones:\n" + "\n".join(
        repr(b) for b in bad[:10])


# -- maintenance ---------------------------------------------------------------------------------

def _fill() -> None:
    """Write the Python result of every case that has no "expected" yet (never overwrites)."""
    data = json.loads(CORPUS.read_text(encoding="utf-8"))
    for case in data["cases"]:
        case.setdefault("values", {})
        case.setdefault("changed", [])
        case.setdefault("today", TODAY)
        if "expected" not in case:
            case["expected"] = encode(python_value(case))
    head = {k: v for k, v in data.items() if k != "cases"}
    lines = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in data["cases"])
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    CORPUS.write_text(f'{text},\n "cases": [\n{lines}\n ]\n}}\n', encoding="utf-8")


if __name__ == "__main__" and sys.argv[1:] == ["--fill"]:
    _fill()
