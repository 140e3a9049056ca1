"""The hostile-input tests: every case an attacker (or a careless file) tried against the family
side, kept as a test so it stays fixed (issue 11).

Each collected test here is one case (a parametrized test is one case per parameter set, each
database backend included); the run ends with the count of cases tried and passed, as the probe
reported them. Run them alone with ``pytest tests/hostile`` or ``-m hostile``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _pytest.terminal import TerminalReporter

HERE = Path(__file__).parent


def _is_hostile(item: pytest.Item) -> bool:
    return HERE in item.path.parents


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "hostile: a hostile-input case (tests/hostile)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _is_hostile(item):
            item.add_marker(pytest.mark.hostile)


def pytest_terminal_summary(terminalreporter: TerminalReporter, config: pytest.Config) -> None:
    prefix = HERE.relative_to(config.rootpath).as_posix() + "/"
    seen: dict[str, str] = {}
    for outcome in ("passed", "skipped", "failed", "error"):  # the worst outcome wins
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if nodeid.startswith(prefix):
                seen[nodeid] = outcome
    if seen:
        tally = {outcome: list(seen.values()).count(outcome)
                 for outcome in ("passed", "failed", "error", "skipped")}
        terminalreporter.write_line(
            f"hostile-input cases: {len(seen)} tried, {tally['passed']} passed, "
            f"{tally['failed'] + tally['error']} failed, {tally['skipped']} skipped")
