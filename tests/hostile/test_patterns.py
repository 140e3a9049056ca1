"""Campaign patterns (issue 11, item 8): a super-linear ``pattern`` cannot stall the server, and
what the server accepts the browser twin reads the same way; the rest is a located load error."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import pytest

from engine.rules import DossierContext, evaluate_dossier
from engine.rules.client import client_model

from campaign.helpers import campaign_text, check_yaml, compile_fields

RUNNER = Path(__file__).resolve().parents[1] / "rules" / "run_twin.js"

#: backtracking engines take exponential time on these; every answer must come back correct
PATHOLOGICAL = [
    ("^(a+)+$", "a" * 5000 + "b", False),
    ("^(a+)+$", "a" * 5000, True),
    ("(a|aa)+", "a" * 5000 + "!", False),
    ("(a*)*b", "a" * 5000, False),
    ("(x+x+)+y", "x" * 5000, False),
    ("(.*a){20}", "a" * 19 + "b" * 5000, False),
    ("([a-z]+)*[0-9]", "abcdefghij" * 500 + "!", False),
    ("(\\w+\\s?)+$", "mot " * 1250 + "!", False),
]


@pytest.mark.parametrize("pattern, text, matches", PATHOLOGICAL,
                         ids=[f"{p}-{len(t)}" for p, t, _ in PATHOLOGICAL])
def test_a_super_linear_pattern_answers_on_a_long_input(pattern: str, text: str,
                                                        matches: bool) -> None:
    campaign = compile_fields(f"""\
        - id: code
          type: text
          pattern: {json.dumps(pattern)}
          pattern_message: Format invalide.
        """)
    spec = campaign.fields["code"]
    errors = list(spec.type.validate(text, spec))
    assert errors == ([] if matches else ["Format invalide."])


#: constructs the server cannot run in linear time, or that JavaScript reads otherwise
REFUSED = {
    "backreference": ("(a)\\1", "backreferences"),
    "lookahead": ("a(?=b)", "(?:…)"),
    "negative-lookahead": ("(?!x)a", "(?:…)"),
    "lookbehind": ("(?<=a)b", "(?:…)"),
    "named-group": ("(?P<code>[0-9]+)", "(?:…)"),
    "inline-flag": ("(?i)abc", "(?:…)"),
    "posix-class": ("[[:alpha:]]+", "write \\["),
    "start-of-text": ("\\Aabc", "escape only"),
    "end-of-text": ("abc\\z", "escape only"),
    "quoted-literal": ("\\Q.*\\E", "escape only"),
    "single-byte": ("a\\Cb", "escape only"),
    "lone-open-brace": ("a{", "\\{"),
    "brace-not-a-quantifier": ("a{x}", "\\{"),
    "lone-close-brace": ("a}", "\\}"),
    "lone-close-bracket": ("a]", "\\]"),
    "class-starting-with-bracket": ("[]a]", "\\]"),
    "bracket-in-class": ("[a[b]", "\\["),
    "escaped-dash-outside-class": ("a\\-b", "without a backslash"),
    "property-without-braces": ("\\pL+", "\\p{L}"),
    "script-property": ("\\p{Greek}", "\\p{L}"),
    "unicode-escape": ("\\u00e9", "escape only"),
    "braced-hex": ("\\x{e9}", "two hexadecimal digits"),
    "octal": ("\\012", "backreferences and octal"),
    "too-many-repeats": ("a{1001}", "repetition"),
    "unclosed-class": ("[A-Z", "RE2"),
    "trailing-backslash": ("abc\\", "escape only"),
}


@pytest.mark.parametrize("pattern, hint", REFUSED.values(), ids=REFUSED.keys())
def test_an_unsupported_pattern_is_a_located_diagnostic(pattern: str, hint: str) -> None:
    text = campaign_text(f"""\
        - id: code
          type: text
          pattern: {json.dumps(pattern)}
        """)
    campaign, diagnostics = check_yaml(text)
    assert campaign is None
    [diagnostic] = diagnostics
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "pattern:" in row)
    assert (diagnostic.code.name, diagnostic.location.line) == ("FIELD_003", line)
    assert diagnostic.location.pointer.endswith("/pattern")
    assert hint in diagnostic.message


#: patterns both engines accept, with answers on which they must agree
PORTABLE = [
    ("[A-Z]{2}[0-9]", ["AB1", "ab1", "AB12", ""]),
    ("\\d{5}", ["75011", "7501", "٧٥٠١١"]),
    ("[\\p{L} '-]+", ["Jean-Éric d'Arc", "Zoë", "J3an", "Łukasz"]),
    ("é+", ["éé", "e", "é"]),
    (".{3}", ["éàü", "ab", "𝒜bc"]),
    ("\\w+", ["abc_1", "é", "a b"]),
    ("(?:ab|cd)+", ["abcd", "abc", ""]),
    ("[^0-9]+", ["abc", "a1"]),
    ("\\x41\\x42", ["AB", "ab"]),
    ("[\\]\\[]+", ["[]", "a"]),
    ("a\\/b", ["a/b", "ab"]),
    ("a{2,}", ["aa", "a", "aaaa"]),
    ("a+?b", ["aab", "b"]),
    ("\\bmot\\b.*", ["mot clé", "motif"]),
    ("\\s?[A-Z]", [" A", "A", "\u00a0A"]),
    ("^(a+)+$", ["aaaa", "aaab"]),
    ("[a-z\\-]+", ["a-b", "a_b"]),
    ("\\p{Lu}\\p{Ll}*", ["Émile", "émile"]),
]


def test_portable_patterns_give_the_browser_the_server_s_answers(node: str,
                                                                 tmp_path: Path) -> None:
    """One text field per pattern, one dossier per answer: rules.js (run by
    tests/rules/run_twin.js) gives the server's errors."""
    fields = "".join(f"- id: p{i}\n  type: text\n  pattern: {json.dumps(p)}\n"
                     for i, (p, _) in enumerate(PORTABLE))
    campaign = compile_fields(fields)
    answers = [{f"p{i}": value} for i, (_, values) in enumerate(PORTABLE) for value in values]
    today = date(2027, 5, 20)
    server = [evaluate_dossier(campaign, a, DossierContext(today=today)).errors for a in answers]
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps({"model": client_model(campaign), "cases": [
        {"answers": a, "context": {"prefill": {}, "family": {}, "today": today.isoformat()}}
        for a in answers]}), encoding="utf-8")
    run = subprocess.run([node, str(RUNNER), str(batch)], capture_output=True, text=True,
                         encoding="utf-8", timeout=120, check=True)
    browser = [view["errors"] for view in json.loads(run.stdout)]
    assert [(a, b) for a, b in zip(answers, browser, strict=True)] == list(
        zip(answers, server, strict=True))
    assert sum(1 for errors in server if errors) >= len(PORTABLE)  # refusals were compared too
