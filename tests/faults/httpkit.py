"""A family's browser against a real ``dossiersco serve`` process: cookies, CSRF tokens,
multipart uploads, redirects seen rather than followed (plain urllib, nothing mocked)."""

from __future__ import annotations

import http.cookiejar
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
ROW_VERSION = re.compile(r'name="row_version" value="(\d+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class Browser:
    """One family's browser on ``base`` (``http://127.0.0.1:PORT``)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)

    def request(self, path: str, data: bytes | None = None,
                content_type: str | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, data=data)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def token(self, path: str) -> str:
        status, html = self.request(path)
        found = CSRF.search(html)
        assert status == 200 and found, (status, html[:500])
        return found.group(1)

    def post(self, path: str, fields: dict[str, str], token_from: str) -> tuple[int, str]:
        body = urllib.parse.urlencode({"csrf_token": self.token(token_from), **fields})
        return self.request(path, body.encode(), "application/x-www-form-urlencoded")

    def upload(self, path: str, fields: dict[str, str], filename: str, data: bytes,
               token_from: str) -> tuple[int, str]:
        boundary = secrets.token_hex(16)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                 f"{value}\r\n".encode()
                 for name, value in {"csrf_token": self.token(token_from), **fields}.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="fichier"; '
                     f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                     + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(path, body, f"multipart/form-data; boundary={boundary}")

    def login(self, login: str, code: str) -> None:
        status, _html = self.post("/connexion", {"login": login, "code": code}, "/connexion")
        assert status == 302, status
