"""Field-type plugins through the ``dossiersco.field_types`` entry-point group."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.campaign import check_source, parse_source
from engine.fields import (
    MISSING_PLUGIN_HINT,
    DuplicateFieldType,
    FieldValueError,
    PluginLoadError,
    new_registry,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CAMPAIGN = """\
language: 1
id: demo
title: Réinscription
establishment:
  uai: "0123456A"
  name: Collège Test
opens: 2027-05-01
closes: 2027-06-30
pages:
  - id: paiement
    title: Paiement
    fields:
      - id: compte
        type: iban
        label: IBAN
        countries: [FR, DE]
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture()
def with_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    importlib.invalidate_caches()


def test_schema_includes_the_plugin_type() -> None:
    result = cli("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert "iban" in schema["$defs"]["field"]["properties"]["type"]["enum"]
    assert "countries" in result.stdout


def test_validate_accepts_and_checks_plugin_options(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(CAMPAIGN, encoding="utf-8")
    result = cli("validate", str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(CAMPAIGN.replace("countries: [FR, DE]", "pays: [FR]"), encoding="utf-8")
    result = cli("validate", str(bad))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{bad}:16:9: SCHEMA_001 Unknown key 'pays'")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(CAMPAIGN.replace("[FR, DE]", "[fr]"), encoding="utf-8")
    result = cli("validate", str(wrong))
    assert result.returncode == 1 and ":16:21: SCHEMA_004" in result.stdout


def test_without_the_plugin_the_type_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CAMPAIGN, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "engine.cli", "validate", str(path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert result.returncode == 1
    assert "FIELD_001" in result.stdout


def test_a_type_from_a_missing_plugin_is_a_located_diagnostic() -> None:
    source = parse_source(CAMPAIGN.replace("type: iban", "type: some_plugin_type"), name="c.yaml")
    campaign, diagnostics = check_source(source, new_registry(plugins=False))
    assert campaign is None
    assert [(d.code.name, d.location.line, d.location.column) for d in diagnostics] == [
        ("FIELD_001", 14, 15)]
    assert diagnostics[0].hint == MISSING_PLUGIN_HINT and "plugin" in diagnostics[0].hint


@pytest.mark.usefixtures("with_plugin")
def test_registry_loads_the_entry_point() -> None:
    registry = new_registry()
    assert "iban" in registry
    assert "iban" not in new_registry(plugins=False)
    campaign, diagnostics = check_source(parse_source(CAMPAIGN), registry)
    assert diagnostics == [] and campaign is not None
    spec = campaign.fields["compte"]
    assert spec.type is registry.get("iban")
    assert spec.options.countries == ("FR", "DE")
    stored = spec.type.normalize("fr76 3000 6000 0112 3456 7890 189", spec)
    assert stored == "FR7630006000011234567890189"
    assert list(spec.type.validate(stored, spec)) == []
    assert spec.type.display(stored, spec) == "FR76 3000 6000 0112 3456 7890 189"
    assert list(spec.type.validate("BE68539007547034", spec)) == [
        "Les comptes de ce pays ne sont pas acceptés."]
    with pytest.raises(FieldValueError, match="IBAN"):
        spec.type.normalize("FR7630006000011234567890188", spec)
    assert spec.type.diff("FR76 3000 6000 0112 3456 7890 189", stored, spec) is None


@pytest.mark.usefixtures("with_plugin")
def test_duplicate_registration_is_refused() -> None:
    registry = new_registry()
    from dossiersco_iban import IbanField

    with pytest.raises(DuplicateFieldType, match="'iban' is registered twice"):
        registry.register(IbanField)


def _dist(root: Path, name: str, entry: str) -> None:
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[dossiersco.field_types]\n{entry}\n")


def test_broken_plugin_names_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _dist(tmp_path, "cassé", "casse = module_qui_manque:Field")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    with pytest.raises(PluginLoadError, match=r"plugin 'casse' \(module_qui_manque:Field\)"):
        new_registry()


def test_plugin_redefining_a_builtin_is_refused(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "autre_texte.py").write_text(textwrap.dedent("""\
        from engine.fields import FieldType

        class Texte(FieldType):
            name = "text"
        """))
    _dist(tmp_path, "autre_texte", "text = autre_texte:Texte")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    with pytest.raises(DuplicateFieldType, match="'text' is registered twice"):
        new_registry()
