"""Damaged copies of the example campaigns: every one gets diagnostics, none a traceback.

Random bytes rarely get past the YAML reader; these mutations keep the file mostly valid so
that the schema check and the compiler see almost-right data (a value of the wrong kind deep in
a tariff, a duplicated line, a missing key), which is where crashes hide.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.campaign import check_source, parse_source

CAMPAIGNS = sorted((Path(__file__).resolve().parents[2] / "campaigns").glob("*.yaml"))
TEXTS = [p.read_text(encoding="utf-8").splitlines() for p in CAMPAIGNS]
VALUES = ["", "null", "[]", "{}", "1", "-1", "1.5", "true", "'x'", "a ==", "len(", "today()",
          "date('2020-13-01')", "x.y.z", "regime", "'a' + 1", "[1, 2]", "{a: 1}", "0e999", "~",
          "'12,50'", "\"-3.00\"", "999999999999999999999"]


@st.composite
def damaged(draw: st.DrawFn) -> str:
    lines = list(draw(st.sampled_from(TEXTS)))
    for _ in range(draw(st.integers(1, 4))):
        k = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "replace_value", "append"]))
        if action == "delete":
            del lines[k]
        elif action == "duplicate":
            lines.insert(k, lines[draw(st.integers(0, len(lines) - 1))])
        elif action == "replace_value" and ":" in lines[k]:
            lines[k] = lines[k].split(":", 1)[0] + ": " + draw(st.sampled_from(VALUES))
        else:
            lines[k] += draw(st.sampled_from(VALUES))
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_campaigns_never_raise(text: str) -> None:
    campaign, diagnostics = check_source(parse_source(text, name="damaged.yaml"))
    assert campaign is not None or any(d.is_error for d in diagnostics)


@pytest.mark.parametrize("value", ["1", "fr", "{fr: 1}", "[]", "null", "[fr, 1]"])
def test_languages_of_the_wrong_shape_are_a_diagnostic(value: str) -> None:
    """Found by the mutation test: ``languages: 1`` raised TypeError in the compiler."""
    source = re.sub(r"^languages:.*$", f"languages: {value}", CAMPAIGNS[0].read_text("utf-8"),
                    flags=re.M)
    campaign, diagnostics = check_source(parse_source(source, name="x.yaml"))
    assert campaign is None
    assert any(d.code.name.startswith("SCHEMA") for d in diagnostics)
