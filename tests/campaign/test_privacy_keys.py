"""The campaign keys of the privacy notice and retention (``retention_days``,
``establishment.controller`` and ``dpo``): compiled when right, located errors (never a crash)
when wrong."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from engine.campaign import check_file
from engine.campaign.model import DEFAULT_RETENTION_DAYS, Campaign, Contact

EXAMPLE = Path(__file__).resolve().parents[2] / "campaigns" / "college-jean-moulin.yaml"
SOURCE = EXAMPLE.read_text(encoding="utf-8")


def _check(tmp_path: Path, text: str) -> tuple[Campaign | None, list[str]]:
    path = tmp_path / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    if not (tmp_path / "files").exists():  # the documents' templates
        shutil.copytree(EXAMPLE.parent / "files", tmp_path / "files")
    campaign, problems = check_file(path)
    return campaign, [f"{d.code.name} {d.location.pointer}" for d in problems if d.is_error]


def test_the_example_names_its_controller_dpo_and_retention(tmp_path: Path) -> None:
    campaign, errors = check_file(EXAMPLE)
    assert campaign is not None, errors
    assert campaign.establishment.controller == "Mme la principale du collège Jean Moulin"
    assert campaign.establishment.dpo == Contact(
        name="Délégué à la protection des données de l'académie de Lyon",
        email="dpd@ac-lyon.fr", address="92 rue de Marseille, 69007 Lyon")
    assert campaign.purge_on == date(2028, 6, 29)


def test_retention_defaults_to_a_year(tmp_path: Path) -> None:
    campaign, errors = _check(tmp_path, SOURCE.replace("retention_days: 365\n", ""))
    assert errors == []
    assert campaign is not None
    assert campaign.retention_days == DEFAULT_RETENTION_DAYS == 365


@pytest.mark.parametrize(("bad", "pointer"), [
    ("retention_days: -1", "/retention_days"),
    ("retention_days: un an", "/retention_days"),
    ("retention_days: true", "/retention_days"),
    ("retention_days: 100000", "/retention_days"),
])
def test_a_wrong_retention_is_a_located_error(tmp_path: Path, bad: str, pointer: str) -> None:
    campaign, errors = _check(tmp_path, SOURCE.replace("retention_days: 365", bad))
    assert campaign is None
    assert any(e.endswith(pointer) for e in errors), errors


def test_a_wrong_dpo_is_a_located_error(tmp_path: Path) -> None:
    text = SOURCE.replace("  dpo:\n    name: Délégué à la protection des données de l'académie "
                          "de Lyon\n    email: dpd@ac-lyon.fr\n    address: 92 rue de Marseille, "
                          "69007 Lyon\n", "  dpo: dpd@ac-lyon.fr\n")
    assert text != SOURCE
    campaign, errors = _check(tmp_path, text)
    assert campaign is None
    assert any("/establishment/dpo" in e for e in errors), errors
