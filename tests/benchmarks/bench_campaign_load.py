"""Time to load a large campaign: YAML reading, schema check and compilation.

Collected only when asked for::

    .venv/bin/pytest tests/benchmarks/bench_campaign_load.py --benchmark-only \\
        -p no:cacheprovider -o python_files='bench_*.py'

or run as a script for the median of each stage: ``.venv/bin/python
tests/benchmarks/bench_campaign_load.py``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from engine.campaign import check_schema, check_source, parse_source
from engine.campaign.compiler import compile_campaign
from engine.fields import new_registry

PAGES = 10
FIELDS_PER_PAGE = 30


def _field(page: int, n: int) -> str:
    """One field of a rotating mix of types; most depend on earlier fields of their page."""
    fid = f"p{page}_f{n}"
    kind = n % 10
    first = f"p{page}_f0"  # a choice
    yes = f"p{page}_f1"    # a boolean
    num = f"p{page}_f2"    # a number
    lines = {
        0: ["type: choice", "choices: [externe, demi_pensionnaire, interne]", "required: true"],
        1: ["type: boolean"],
        2: ["type: number", "min: 0", "max: 5000", "decimals: 2"],
        3: ["type: text", "max_length: 60", f"visible_if: {first} == 'externe'"],
        4: ["type: date", "min: 2000-01-01", f"required: {yes} == true"],
        5: ["type: computed", f"expr: 0 if empty({num}) else {num} * 2", "format: money"],
        6: ["type: email", f"visible_if: {first} in ['interne', 'demi_pensionnaire'] "
                           f"and {yes} == true"],
        7: ["type: phone", "validate:", f"  - rule: not empty({fid}) or {yes} == false",
            "    message: Indiquez un numéro."],
        8: ["type: integer", "min: 0", "max: 7", f"visible_if: {num} > 100 or {yes} == true"],
        9: ["type: textarea", "max_length: 500", f"readonly_if: {first} == 'interne'"],
    }[kind]
    body = [f"- id: {fid}", f"  label: Champ {page}.{n}"] + [f"  {x}" for x in lines]
    return "\n".join(body)


def campaign_yaml() -> str:
    out = ["language: 1", "id: bench", "title: Campagne de mesure", "establishment:",
           '  uai: "0123456A"', "  name: Collège Test", "opens: 2027-05-01",
           "closes: 2027-06-30", "pages:"]
    for page in range(PAGES):
        out += [f"  - id: page{page}", f"    title: Page {page}"]
        if page:
            out.append("    visible_if: p0_f1 == true or p0_f0 != 'interne'")
        out.append("    fields:")
        for n in range(FIELDS_PER_PAGE - (1 if page == 0 else 0)):
            out += ["      " + line for line in _field(page, n).splitlines()]
        if page == 0:
            out += ["      - id: contacts", "        type: repeat", "        max: 4",
                    "        fields:",
                    "          - {id: nom, type: text, required: true}",
                    "          - {id: urgence, type: boolean}",
                    "          - {id: tel, type: phone, visible_if: urgence == true}"]
    out += ["tariffs:"]
    for page in range(PAGES):
        out += [f"  - id: cantine{page}", f"    label: Cantine {page}",
                f"    applies_if: p{page}_f0 == 'demi_pensionnaire'",
                "    brackets:", f"      on: p{page}_f2", "      table:",
                '        - {up_to: 600, amount: "2.50", label: A}',
                '        - {up_to: 1200, amount: "3.50", label: B}',
                '        - {amount: "4.50", label: C}',
                "    multipliers:", f"      - {{by: p{page}_f8, label: jours}}",
                "    reductions:",
                "      - {id: fratrie, label: Fratrie, when: family.rank >= 2, percent: '10'}",
                f"    exempt_if: p{page}_f1 == true"]
    out += ["associations:", '  - {id: fse, label: FSE, fee: "8.00"}', "documents:"]
    for page in range(PAGES):
        out += [f"  - id: doc{page}", f"    label: Document {page}",
                f"    required_if: p{page}_f0 == 'interne'", "    max_size: 5MB"]
    out += ["tests:", "  - name: externe", "    answers: {p0_f0: externe, p0_f3: Dupont}",
            "    expect: {visible: [p0_f3], valid: true}"]
    return "\n".join(out) + "\n"


TEXT = campaign_yaml()


def load() -> Any:
    campaign, diagnostics = check_source(parse_source(TEXT))
    assert campaign is not None, [d.as_line() for d in diagnostics if d.is_error][:5]
    return campaign


def test_campaign_load(benchmark: Any) -> None:
    campaign = benchmark(load)
    assert len(campaign.fields) == PAGES * FIELDS_PER_PAGE + 3
    assert len(campaign.tariffs) == PAGES and len(campaign.documents) == PAGES


def _median_ms(fn: Callable[[], object], rounds: int = 30) -> float:
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    registry = new_registry()
    source = parse_source(TEXT)
    schema_problems = check_schema(source, registry)
    assert not schema_problems, schema_problems[:3]
    campaign = load()
    print(f"campaign: {len(TEXT.encode())} bytes, {TEXT.count(chr(10))} lines, "
          f"{len(campaign.fields)} fields, {len(campaign.tariffs)} tariffs")
    stages = {
        "read YAML (parse_source)": lambda: parse_source(TEXT),
        "schema (check_schema)": lambda: check_schema(parse_source(TEXT), registry),
        "compile (compile_campaign)": lambda: compile_campaign(parse_source(TEXT), registry),
        "all (check_source)": load,
    }
    for name, fn in stages.items():
        print(f"{name:30} median {_median_ms(fn):7.1f} ms")
    print("(schema and compile include their own parse_source)")


if __name__ == "__main__":
    main()
