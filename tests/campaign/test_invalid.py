"""Every invalid campaign file is refused with exactly the diagnostics its header announces."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine.cli
from engine.campaign import check_source, parse_source
from engine.campaign.source import MAX_BYTES

HERE = Path(__file__).parent
INVALID = sorted((HERE / "invalid").glob("*.yaml"))
WARNINGS = sorted((HERE / "warnings").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: ([A-Z]+_\d{3}) @ (\d+):(\d+)$")
LINE = re.compile(r"^.*?:(\d+):(\d+): ([A-Z]+_\d{3}) ")


def expected(path: Path) -> set[str]:
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := EXPECT.match(line):
            found.add(f"{match[1]} @ {match[2]}:{match[3]}")
    assert found, f"{path.name} announces no '# expect:' line"
    return found


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(engine.cli.main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.stdout


def reported(output: str) -> set[str]:
    found = set()
    for line in output.splitlines():
        if match := LINE.match(line):
            found.add(f"{match[3]} @ {match[1]}:{match[2]}")
    return found


def test_there_are_enough_cases() -> None:
    assert len(INVALID) >= 30
    assert WARNINGS


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_file_is_refused_with_exact_diagnostics(path: Path) -> None:
    code, output = run("validate", str(path))
    assert code == 1, output
    assert reported(output) == expected(path), output


@pytest.mark.parametrize("path", WARNINGS, ids=lambda p: p.stem)
def test_warnings_alone_do_not_fail(path: Path) -> None:
    code, output = run("validate", str(path))
    assert code == 0, output
    assert reported(output) == expected(path), output
    assert all("(warning)" in line for line in output.splitlines() if LINE.match(line))


@pytest.mark.parametrize("path", [*INVALID[:5], *WARNINGS], ids=lambda p: p.stem)
def test_json_output(path: Path) -> None:
    code, output = run("validate", "--json", str(path))
    items = json.loads(output)
    assert items
    for item in items:
        assert {"file", "line", "column", "code", "severity", "message", "pointer"} <= set(item)
        assert item["file"] == str(path)
        assert item["severity"] in ("error", "warning")
        assert isinstance(item["line"], int) and item["line"] >= 1
        assert isinstance(item["pointer"], str)
    got = {f"{i['code']} @ {i['line']}:{i['column']}" for i in items}
    assert got == expected(path)
    assert code == (1 if any(i["severity"] == "error" for i in items) else 0)


def test_json_pointer_names_the_node() -> None:
    _, output = run("validate", "--json", str(HERE / "invalid" / "wrong_type.yaml"))
    (item,) = json.loads(output)
    assert item["pointer"] == "/pages/0/fields/0/max_length"
    assert item["code"] == "SCHEMA_002"


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"language: 1\n" + b"# padding\n" * (MAX_BYTES // 10 + 1))
    code, output = run("validate", str(path))
    assert code == 1
    assert reported(output) == {"YAML_004 @ 1:1"}


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("language: 1\nid: demo\ntitle: Réinscription\n".encode("latin-1"))
    code, output = run("validate", str(path))
    assert code == 1
    assert reported(output) == {"YAML_006 @ 3:1"}


def test_missing_file_is_a_diagnostic(tmp_path: Path) -> None:
    code, output = run("validate", str(tmp_path / "absent.yaml"))
    assert code == 1
    assert reported(output) == {"YAML_008 @ 1:1"}


def test_several_files_in_one_run() -> None:
    paths = [HERE / "invalid" / "bad_date.yaml", *WARNINGS]
    code, output = run("validate", *map(str, paths))
    assert code == 1
    assert {line.split(":")[0] for line in output.splitlines()} >= {str(p) for p in paths}


def _never_raises(raw: bytes | str) -> None:
    campaign, diagnostics = check_source(parse_source(raw, name="fuzz.yaml"))
    assert (campaign is None) == any(d.is_error for d in diagnostics)
    for d in diagnostics:
        assert d.location.line >= 1 and d.location.column >= 1 and d.message


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(raw: bytes) -> None:
    _never_raises(raw)


YAMLISH = st.lists(st.sampled_from([
    "language: 1\n", "id: demo\n", "pages:\n", "  - id: p\n", "    fields:\n",
    "      - id: a\n", "        type: text\n", "        type: choice\n", "        choices: [x]\n",
    "        visible_if: a == 'x'\n", "        expr: a + 1\n", "tariffs:\n", "  - {id: t}\n",
    "&a ", "*a", "!!python/name:os.system", "{", "}", "[", "]", ": ", "- ", "\t", "'", '"',
    "1:30", "0x1F", ".inf", "2027-02-30", "~", "<<: ", "? ", "|\n", "\n", "  ", "é", "\x00",
    "opens: 2027-05-01\n", "closes: 2027-01-01\n", "title: {fr: T}\n",
    "!!int ", "!!float ", "!!bool ", "!!null ", "017",
]), max_size=40).map("".join)


@FUZZ
@given(YAMLISH)
def test_random_yamlish_text_never_raises(text: str) -> None:
    _never_raises(text)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_never_raises(text: str) -> None:
    _never_raises(text)


def test_strict_translations_makes_a_missing_translation_an_error() -> None:
    path = HERE / "warnings" / "missing_translation.yaml"
    code, output = run("validate", "--strict-translations", str(path))
    assert code == 1, output
    assert reported(output) == expected(path)
    assert "(warning)" not in output
