"""Redis for tests: the machine's (a DB number of its own), or a private ``redis-server`` on a
free loopback port that a test may stop and start again (the machine's is shared)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

#: the machine's Redis, a DB kept for the rate-limit tests (the queue tests use another)
DEFAULT_LIMITS_URL = "redis://127.0.0.1:6379/2"


def shared_redis_url() -> str:
    """``DOSSIERSCO_TEST_LIMITS_REDIS_URL``, reachable, else the test is skipped (failed in CI)."""
    url = os.environ.get("DOSSIERSCO_TEST_LIMITS_REDIS_URL", DEFAULT_LIMITS_URL)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis unreachable at {url}: {exc}")
    return url


def unique_prefix() -> str:
    """A key prefix of one test's own, so parallel runs sharing a Redis never collide."""
    return f"dossiersco-test-{secrets.token_hex(4)}"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the Redis tests must run)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivateRedis:
    """A ``redis-server`` of the test's own, without persistence."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            _unavailable("redis-server is not on PATH")
        self.binary = str(binary)
        self.folder = folder
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
