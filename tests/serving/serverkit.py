"""A real ``dossiersco serve`` process for tests, and a small HTTP client with cookies."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from conftest import CSRF_INPUT

ADDRESS = re.compile(r"en service sur (http://[^ ]+?/)\s*$")


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]

    def stop(self) -> tuple[int, str, str]:
        """SIGINT, as Ctrl+C; the exit status and what the process wrote."""
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=60)
        return self.process.returncode, out, err


@contextmanager
def serve(env: Mapping[str, str], *args: str) -> Iterator[Served]:
    """``dossiersco serve --port 0 *args`` with ``env``, until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "serve", "--port", "0", *args],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = ADDRESS.search(first)
        if not found:
            process.kill()
            _out, err = process.communicate()
            raise AssertionError(f"no address in {first!r}: {err[-3000:]}")
        yield Served(found.group(1), process)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


class Browser:
    """Cookies kept between requests, redirects followed, error statuses returned."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, path: str, data: Mapping[str, str] | None = None,
                ) -> tuple[int, dict[str, str], str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def login(self, identifier: str, code: str) -> tuple[int, str]:
        """The login form posted with its CSRF token; the status and page after redirects."""
        _status, _headers, page = self.request("/connexion")
        token = CSRF_INPUT.search(page)
        assert token, page[:500]
        status, _headers, page = self.request("/connexion", {
            "csrf_token": token.group(1), "login": identifier, "code": code})
        return status, page


def children_of(pid: int) -> list[int]:
    """The ids of the processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found
