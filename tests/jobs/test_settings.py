"""The queue's settings: the embedded SQLite default, Redis by URL, retention of files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine.config import ConfigError, Settings


def test_queue_settings(tmp_path: Path) -> None:
    base = {"DOSSIERSCO_INSTANCE_DIR": str(tmp_path)}
    default = Settings.from_env(base)
    assert (default.queue_url, default.queue_immediate) == ("", False)
    assert default.job_retention == timedelta(days=30)
    chosen = Settings.from_env({**base, "DOSSIERSCO_QUEUE_URL": "redis://cache:6379/2",
                                "DOSSIERSCO_QUEUE_IMMEDIATE": "true",
                                "DOSSIERSCO_JOB_RETENTION_DAYS": "7"})
    assert chosen.queue_url == "redis://cache:6379/2" and chosen.queue_immediate
    assert chosen.job_retention == timedelta(days=7)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("DOSSIERSCO_QUEUE_URL", "amqp://rabbit", "DOSSIERSCO_QUEUE_URL must be redis://"),
    ("DOSSIERSCO_JOB_RETENTION_DAYS", "0", "at least 1"),
    ("DOSSIERSCO_JOB_RETENTION_DAYS", "5000", "at most 3650"),
    ("DOSSIERSCO_QUEUE_IMMEDIATE", "peut-être", "true or false"),
])
def test_bad_queue_settings_are_refused(tmp_path: Path, name: str, value: str,
                                        message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"DOSSIERSCO_INSTANCE_DIR": str(tmp_path), name: value})
