"""Settings from the environment: defaults in the instance folder, persisted secret key."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from engine.config import ConfigError, Settings


def test_defaults_live_in_the_instance_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"DOSSIERSCO_INSTANCE_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'dossiersco.sqlite3'}"
    assert settings.upload_dir == tmp_path / "uploads"
    assert settings.mail_url == (tmp_path / "mail").as_uri()
    assert settings.ratelimit_storage == "memory://"
    assert settings.login_rate_limit == "300/minute"
    assert settings.log_format == "text"
    assert settings.session_lifetime == timedelta(minutes=30)
    assert settings.invitation_ttl == timedelta(hours=72)
    # plain http on loopback (the demo): a Secure cookie would never come back
    assert settings.secure_cookies is False


def test_secret_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = Settings.from_env({"DOSSIERSCO_INSTANCE_DIR": str(tmp_path)})
    second = Settings.from_env({"DOSSIERSCO_INSTANCE_DIR": str(tmp_path)})
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 40
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert first.secret_key not in repr(first)


def test_variables_override_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "DOSSIERSCO_INSTANCE_DIR": str(tmp_path),
        "DOSSIERSCO_DATABASE_URL": "postgresql+psycopg://app@db/dossiersco",
        "DOSSIERSCO_SECRET_KEY": "k" * 40,
        "DOSSIERSCO_UPLOAD_DIR": str(tmp_path / "docs"),
        "DOSSIERSCO_MAIL_URL": "smtp://relay.example:587?starttls=true",
        "DOSSIERSCO_MAIL_FROM": "Collège <college@example.fr>",
        "DOSSIERSCO_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0",
        "DOSSIERSCO_SESSION_LIFETIME_MINUTES": "20",
        "DOSSIERSCO_BASE_URL": "https://reinscription.example.fr/",
        "DOSSIERSCO_CAMPAIGNS_DIR": str(tmp_path / "campagnes"),
        "DOSSIERSCO_PROXY_HOPS": "1",
        "DOSSIERSCO_INVITATION_TTL_HOURS": "24",
    })
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.secret_key == "k" * 40
    assert not (tmp_path / "secret_key").exists()
    assert settings.upload_dir == tmp_path / "docs"
    assert settings.session_lifetime == timedelta(minutes=20)
    assert settings.base_url == "https://reinscription.example.fr"
    assert settings.secure_cookies is True
    assert settings.proxy_hops == 1
    assert settings.invitation_ttl == timedelta(hours=24)


@pytest.mark.parametrize(("name", "value"), [
    ("DOSSIERSCO_SESSION_LIFETIME_MINUTES", "trente"),
    ("DOSSIERSCO_SESSION_LIFETIME_MINUTES", "0"),
    ("DOSSIERSCO_MAIL_URL", "sendmail:///usr/sbin/sendmail"),
    ("DOSSIERSCO_BASE_URL", "reinscription.example.fr"),
    ("DOSSIERSCO_SECURE_COOKIES", "peut-être"),
    ("DOSSIERSCO_INVITATION_TTL_HOURS", "0"),
    ("DOSSIERSCO_INVITATION_TTL_HOURS", "169"),
    ("DOSSIERSCO_INVITATION_TTL_HOURS", "3j"),
    ("DOSSIERSCO_LOGIN_RATE_LIMIT", "beaucoup"),
    ("DOSSIERSCO_LOG_FORMAT", "xml"),
])
def test_bad_values_are_reported(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({"DOSSIERSCO_INSTANCE_DIR": str(tmp_path), name: value})


@pytest.mark.parametrize("hours", ["1", "168"])
def test_invitation_lifetime_bounds_are_accepted(tmp_path: Path, hours: str) -> None:
    settings = Settings.from_env({"DOSSIERSCO_INSTANCE_DIR": str(tmp_path),
                                  "DOSSIERSCO_INVITATION_TTL_HOURS": hours})
    assert settings.invitation_ttl == timedelta(hours=int(hours))
