"""scripts/setup.sh runs pip only when the install is not current, and quietly."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]
FAKE_PIP = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/../pip-calls"
echo "Editable installation notice from setuptools" >&2
"""


def project(tmp_path: Path) -> Path:
    """A copy of the script and pyproject.toml with a .venv whose pip records its calls."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp_path / "scripts")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "pip").write_text(FAKE_PIP)
    (bin_dir / "python").write_text("#!/bin/sh\nexit 0\n")
    for tool in ("pip", "python"):
        (bin_dir / tool).chmod(0o755)
    return tmp_path


def setup(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(root / "scripts" / "setup.sh"), *args], text=True,
                          capture_output=True, check=True, env={**os.environ})


def calls(root: Path) -> list[str]:
    path = root / ".venv" / "pip-calls"
    return path.read_text().splitlines() if path.exists() else []


def test_pip_runs_once_then_only_when_pyproject_changes(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = setup(root)
    assert len(calls(root)) == 1
    assert "Editable installation" not in first.stdout + first.stderr
    again = setup(root)
    assert len(calls(root)) == 1 and again.stdout == again.stderr == ""
    # a dev install serves a plain one, not the other way round
    setup(root, "dev")
    assert len(calls(root)) == 2 and "-e .[dev]" in calls(root)[-1]
    setup(root)
    assert len(calls(root)) == 2
    with (root / "pyproject.toml").open("a") as f:
        f.write("\n# changed\n")
    setup(root)
    assert len(calls(root)) == 3


def test_a_failing_install_shows_pip_output(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / ".venv" / "bin" / "pip").write_text("#!/bin/sh\necho 'no such package' >&2\nexit 1\n")
    failed = subprocess.run(["bash", str(root / "scripts" / "setup.sh")], text=True,
                            capture_output=True)
    assert failed.returncode == 1 and "no such package" in failed.stderr
