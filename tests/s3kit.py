"""A real S3-compatible server on loopback (moto's standalone server, in its own process) for
the tests of the S3 storage backend; CI must run them, so there a server that does not start
fails the test instead of skipping it."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

ADDRESS = re.compile(rb"Running on (http://127\.0\.0\.1:(\d+))")
#: moto takes any credentials; the app gets them in its storage URL
ACCESS_KEY, SECRET_KEY, REGION = "test-access", "test/secret+key", "eu-west-3"
START_TIMEOUT = 30


class S3Server:
    """``moto_server`` on 127.0.0.1: a free port at the first start, the same one after a
    :meth:`stop` (the fault tests stop it under a running app, then start it again; its
    buckets do not survive a stop)."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("wb") as out:
            self._process = subprocess.Popen(
                [sys.executable, "-c", "from moto.server import main; main()",
                 "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self._process.poll() is None:
            found = ADDRESS.search(self.log.read_bytes())
            if found:
                self.port = int(found.group(2))
                return
            time.sleep(0.05)
        self.stop()
        reason = f"moto_server did not start: {self.log.read_text(errors='replace')[-2000:]}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the S3 tests must run)")
        pytest.skip(reason)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def client(self) -> Any:
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def new_bucket(self) -> str:
        """A fresh empty bucket (one per test: tests never see each other's objects)."""
        name = f"dossiersco-{secrets.token_hex(6)}"
        self.client().create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    def storage_url(self, bucket: str, prefix: str = "") -> str:
        """``DOSSIERSCO_STORAGE_URL`` of ``bucket``, credentials percent-encoded in it."""
        path = f"/{prefix}" if prefix else ""
        return (f"s3://{ACCESS_KEY}:{SECRET_KEY.replace('/', '%2F').replace('+', '%2B')}"
                f"@{bucket}{path}?endpoint={self.endpoint}&region={REGION}")
