"""Stage 1: YAML text to plain data with marks; unsafe or broken input becomes diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.campaign import load_source, parse_source
from engine.campaign.source import MAX_BYTES, MAX_DEPTH, Mark
from engine.diagnostics import Code

TEXT = """\
language: 1
id: demo
title:
  fr: "Réinscription"
  en: 'Re-enrolment'
pages:
  - id: eleve
    fields:
      - id: a/b~c
        help: |
          ligne
"""


def codes(src: object) -> list[str]:
    return [d.code.name for d in src.diagnostics]  # type: ignore[attr-defined]


def test_plain_data_and_marks() -> None:
    src = parse_source(TEXT, name="c.yaml")
    assert src.diagnostics == []
    assert src.data["title"] == {"fr": "Réinscription", "en": "Re-enrolment"}
    assert src.value_marks[""] == Mark(1, 1)
    assert src.value_marks["/language"] == Mark(1, 11)
    assert src.key_marks["/language"] == Mark(1, 1)
    assert src.value_marks["/title/fr"] == Mark(4, 7, '"')
    assert src.value_marks["/title/en"] == Mark(5, 7, "'")
    assert src.value_marks["/pages/0"] == Mark(7, 5)
    assert src.key_marks["/pages/0/id"] == Mark(7, 5)
    assert src.value_marks["/pages/0/fields/0/help"].style == "|"


def test_pointers_escape_slash_and_tilde() -> None:
    src = parse_source(TEXT + "x/y~z: 1\n")
    assert src.value_marks["/pages/0/fields/0/id"] == Mark(9, 13)
    assert src.key_marks["/x~1y~0z"] == Mark(12, 1)
    assert src.data["x/y~z"] == 1
    loc = src.location("/pages/0/fields/0/help")
    assert (loc.line, loc.column, loc.pointer) == (10, 15, "/pages/0/fields/0/help")


def test_location_falls_back_to_nearest_parent() -> None:
    src = parse_source(TEXT, name="c.yaml")
    loc = src.location("/pages/0/fields/0/absent/deeper")
    assert (loc.file, loc.line, loc.column) == ("c.yaml", 9, 9)
    assert loc.pointer == "/pages/0/fields/0/absent/deeper"
    assert src.location("/language", key=True).column == 1


def test_scalars_keep_their_yaml_types_but_dates_stay_text() -> None:
    src = parse_source("a: 2027-05-01\nb: 12\nc: 12.5\nd: yes\ne: ~\nf: '12'\ng: 1:30\nh: 0x1F\n")
    assert src.data == {"a": "2027-05-01", "b": 12, "c": 12.5, "d": True, "e": None,
                        "f": "12", "g": 90, "h": 31}


@pytest.mark.parametrize("text", ["017", "-017", "0b101", "+12", "1_000", "-1:30", "0o17",
                                  "1:30.5", ".NaN", "-.inf", "6.8523015e+5", "Off", "NULL"])
def test_scalars_are_read_as_pyyaml_reads_them(text: str) -> None:
    expected = yaml.safe_load(f"v: {text}")["v"]
    got = parse_source(f"v: {text}\n").data["v"]
    assert type(got) is type(expected)
    assert got == expected or got != got and expected != expected  # NaN


def test_duplicate_key_reported_at_second_key_first_value_kept() -> None:
    src = parse_source("a: 1\nb: 2\na: 3\n")
    (d,) = src.diagnostics
    assert d.code is Code.YAML_002
    assert (d.location.line, d.location.column, d.location.pointer) == (3, 1, "/a")
    assert "first at line 1" in d.message
    assert src.data == {"a": 1, "b": 2}


def test_aliases_are_refused_not_expanded() -> None:
    src = parse_source("a: &x {k: 1}\nb: *x\n")
    assert codes(src) == ["YAML_005"]
    assert (src.diagnostics[0].location.line, src.diagnostics[0].location.column) == (2, 1)
    assert src.data == {"a": {"k": 1}, "b": None}
    assert "/b" in src.refused


def test_billion_laughs_is_cheap() -> None:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 12)]
    src = parse_source("\n".join(lines) + "\n")
    assert set(codes(src)) == {"YAML_005"}
    assert all(item is None for item in src.data["l11"])


def test_merge_keys_are_refused() -> None:
    src = parse_source("base: {a: 1}\nx:\n  <<: {a: 2}\n  b: 3\n")
    assert codes(src) == ["YAML_003"]
    assert src.data["x"] == {"b": 3}


@pytest.mark.parametrize("text", [
    "a: !!python/object/apply:os.system ['ls']\n",
    "a: !!python/name:os.system\n",
    "a: !custom 1\n",
    "a: !!set {x}\n",
    "a: !!binary aGVsbG8=\n",
])
def test_custom_tags_are_refused(text: str) -> None:
    src = parse_source(text)
    assert codes(src) == ["YAML_003"]
    assert src.data == {"a": None}
    assert (src.diagnostics[0].location.line, src.diagnostics[0].location.column) == (1, 4)


@pytest.mark.parametrize("text", ["a: !!int abc\n", "a: !!float 1,5\n", "a: !!int 1.5\n",
                                  "a: !!bool maybe\n", "a: !!int\n", "a: !!float ''\n"])
def test_a_value_that_does_not_fit_its_tag_is_reported(text: str) -> None:
    src = parse_source(text)
    assert codes(src) == ["YAML_001"]
    assert "is not a valid !!" in src.diagnostics[0].message
    assert src.data == {"a": None}
    assert (src.diagnostics[0].location.line, src.diagnostics[0].location.column) == (1, 4)


def test_size_limit_for_bytes_and_text(tmp_path: Path) -> None:
    big = b"a: 1\n" + b"#" * MAX_BYTES
    assert codes(parse_source(big)) == ["YAML_004"]
    assert codes(parse_source(big.decode())) == ["YAML_004"]
    path = tmp_path / "big.yaml"
    path.write_bytes(big)
    src = load_source(path)
    assert codes(src) == ["YAML_004"] and src.data is None
    assert str(MAX_BYTES) in src.diagnostics[0].message


def test_size_counts_utf8_bytes_not_characters() -> None:
    text = "a: '" + "é" * (MAX_BYTES // 2 + 10) + "'\n"
    assert len(text) < MAX_BYTES
    assert codes(parse_source(text)) == ["YAML_004"]


def test_depth_limit() -> None:
    ok = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert parse_source(ok).diagnostics == []
    deep = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    assert codes(parse_source(deep)) == ["YAML_009"]


def test_extreme_depth_does_not_crash() -> None:
    deep = "a: " + "[" * 20000 + "]" * 20000 + "\n"
    assert codes(parse_source(deep)) in (["YAML_009"], ["YAML_001"])


def test_encoding_problems() -> None:
    src = parse_source(b"a: 1\nb: \xff\n")
    assert codes(src) == ["YAML_006"]
    assert src.diagnostics[0].location.line == 2
    assert parse_source("\ufeffa: 1\n".encode()).data == {"a": 1}


def test_syntax_error_location() -> None:
    src = parse_source("a: 1\nb: [1, 2\nc: 3\n")
    (d,) = src.diagnostics
    assert d.code is Code.YAML_001 and d.location.line >= 2


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a\n- b\n", "just text\n", "42\n"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    src = parse_source(text)
    assert codes(src) == ["YAML_007"]
    assert src.data is None


def test_unreadable_file(tmp_path: Path) -> None:
    src = load_source(tmp_path / "nope.yaml", name="shown.yaml")
    assert codes(src) == ["YAML_008"]
    assert src.diagnostics[0].location.file == "shown.yaml"


def test_digest_changes_with_content() -> None:
    assert parse_source("a: 1\n").digest == parse_source("a: 1\n").digest
    assert parse_source("a: 1\n").digest != parse_source("a: 2\n").digest


@pytest.mark.parametrize(("text", "words"), [
    ("a: b: c\n", "put the text in quotes"),
    ("a:\n\tb: 1\n", "indent with spaces"),
    ("a:\n  b: 1\n c: 2\n", "align it"),
    ("a: {b: 1\n", "close the brace"),
    ('a: "x\n', "close it"),
    ('a: "\\q"\n', "single quotes"),
    ("a: @x\n", "put it in quotes"),
])
def test_yaml_syntax_errors_are_told_in_the_authors_words(text: str, words: str) -> None:
    (d,) = parse_source(text).diagnostics
    assert d.code is Code.YAML_001 and words in d.message
    assert not {"mapping", "scalar", "flow"} & set(d.message.replace(",", " ").split())


def test_no_message_names_a_yaml_library_concept() -> None:
    for code in Code:
        assert not {"mapping", "scalar", "flow"} & set(code.value.template.split()), code
