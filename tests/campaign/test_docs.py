"""docs/campaign-language.md stays true: its complete campaigns validate, and it documents every
built-in field type and every error code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.campaign import check_file
from engine.diagnostics import Code, ImportCode, UploadCode
from engine.dossiers.summary import review_text
from engine.fields import BUILTIN_TYPES
from engine.rules.testing import run_tests

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "campaign-language.md"
BLOCK = re.compile(r"^```yaml campaign[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def campaign_blocks() -> list[str]:
    return BLOCK.findall(doc_text())


def test_the_doc_has_complete_campaign_examples() -> None:
    blocks = campaign_blocks()
    assert len(blocks) >= 2, "the doc shows a minimal campaign and one using every type"


@pytest.mark.parametrize("index", range(len(campaign_blocks())))
def test_campaign_block_validates(index: int, tmp_path: Path) -> None:
    path = tmp_path / f"example_{index}.yaml"
    path.write_text(campaign_blocks()[index], encoding="utf-8")
    campaign, diagnostics = check_file(path)
    errors = [d.as_line() for d in diagnostics if d.is_error]
    assert campaign is not None and errors == [], "\n".join(errors)
    failures = [f for outcome in run_tests(campaign, review_text) for f in outcome.failures]
    assert failures == []


def test_one_example_uses_every_builtin_type() -> None:
    used = {m for block in campaign_blocks()
            for m in re.findall(r"\btype: ([a-z_]+)", block)}
    missing = {cls.name for cls in BUILTIN_TYPES} - used
    assert not missing, f"no complete example uses: {sorted(missing)}"


@pytest.mark.parametrize("name", [cls.name for cls in BUILTIN_TYPES])
def test_every_builtin_type_is_documented(name: str) -> None:
    assert f"### `{name}`" in doc_text()


@pytest.mark.parametrize("code", [c.name for c in Code])
def test_every_error_code_is_documented(code: str) -> None:
    text = doc_text()
    assert f"`{code}`" in text
    # and the table says what to do about it
    assert len(re.findall(rf"^\| `{code}` \|", text, re.MULTILINE)) >= 2


def test_every_function_is_documented() -> None:
    from engine.expr import FUNCTIONS

    text = doc_text()
    for fn in FUNCTIONS.values():
        assert f"`{fn.signature}`" in text


@pytest.mark.parametrize("code", [c.value for c in UploadCode])
def test_every_upload_code_is_documented(code: str) -> None:
    assert re.search(rf"^\| `{code}` \|", doc_text(), re.MULTILINE)


@pytest.mark.parametrize("code", [c.value for c in ImportCode])
def test_every_import_code_is_documented(code: str) -> None:
    text = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    assert re.search(rf"^\| `{code}` \|", text, re.MULTILINE)


def test_every_import_code_the_readers_raise_is_in_the_catalogue() -> None:
    """``error()``/``warning()`` refuse a code missing from ``ImportCode``: find them all."""
    sources = [*(ROOT / "engine" / "prefill").glob("*.py"), ROOT / "engine" / "dossiers" / "imports.py"]
    raised = {code for path in sources for code in re.findall(
        r'\b(?:err|warn|error|warning)\(\s*"([A-Z][A-Z0-9_]+)"', path.read_text(encoding="utf-8"))}
    assert raised and raised <= {c.value for c in ImportCode}
