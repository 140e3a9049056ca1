"""Browser fixtures: the app on waitress in a thread, a real SMTP server, Debian's chromium.

Everything is real: the app runs on a temporary SQLite file (the PostgreSQL run adds nothing
to what the browser sees), mail goes over SMTP to aiosmtpd on loopback, pages are rendered by
headless chromium through Playwright's sync API, and axe-core (installed from npm by
``npm ci --prefix tests/e2e``) checks each page visited. Without chromium or axe-core the tests
are skipped with the reason, except in CI (``CI`` set) where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    sync_playwright,
)
from smtpkit import Inbox
from sqlalchemy.orm import Session
from waitress import create_server, wasyncore

from engine.app import create_app
from engine.config import ROOT, Settings
from engine.web.state import app_state

from .family import Family, make_family

E2E_DIR = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "tests" / "artifacts" / "e2e"
AXE_JS = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
#: families fill the dossier on a phone: the journey runs at this width
PHONE = 360
#: widths at which each page is audited and photographed
WIDTHS = (PHONE, 1280)
HEIGHT = 800
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def unavailable(reason: str) -> None:
    """Skip, or fail in CI: a CI run must not go green by skipping the browser tests."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests must run)", pytrace=False)
    pytest.skip(reason)


# -- the application on waitress --------------------------------------------------------------

class LiveServer:
    """``app`` served by waitress from a background thread on a free loopback port."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="e2e")
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self._thread = threading.Thread(target=self.server.run, name="waitress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close every socket from inside waitress's loop (it is not thread-safe), which then
        ends for lack of anything to watch; then stop the worker threads."""
        self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        self._thread.join(10)
        assert not self._thread.is_alive(), "waitress did not stop"
        self.server.task_dispatcher.shutdown()

    def session(self) -> Session:
        """A database session of the served app, as a script would open one."""
        return app_state(self.app).database.sessions()


@pytest.fixture
def live_server(tmp_path: Path, smtp: tuple[Inbox, int]) -> Iterator[LiveServer]:
    """The app on a fresh SQLite file, mail to the loopback SMTP server, plain http."""
    _, port = smtp
    settings = Settings(
        instance_dir=tmp_path / "instance",
        database_url=f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
        secret_key="e2e-secret-key-long-enough-for-the-test-run",
        upload_dir=tmp_path / "uploads", mail_url=f"smtp://127.0.0.1:{port}",
        secure_cookies=False, argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1,
        today=date(2027, 6, 10))  # within the example campaign's dates
    app = create_app(settings)
    # the background jobs (the confirmation mail) run as under ``dossiersco serve``
    jobs = app_state(app).jobs
    jobs.start_consumer()
    server = LiveServer(app)
    try:
        yield server
    finally:
        server.stop()
        jobs.stop_consumer()
        app_state(app).database.dispose()


# -- a family of the example campaign -------------------------------------------------------------

@pytest.fixture
def family(live_server: LiveServer) -> Family:
    return make_family(live_server.app)


# -- the browser ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium"
                                         if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        unavailable(f"axe-core is missing: run npm ci --prefix {E2E_DIR.relative_to(ROOT)}")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    """Headless Debian chromium; Playwright's own browser builds are never downloaded."""
    browser = playwright.chromium.launch(executable_path=chromium_path, headless=True)
    try:
        yield browser
    finally:
        browser.close()


#: what a page with scripts turned off ignores anyway
SCRIPT_TAG = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)


@dataclass
class Visit:
    """A browser page that checks every page it shows: no JavaScript error, no CSP violation,
    no axe-core violation (WCAG 2.1 A/AA), and screenshots at phone and desktop width.

    axe-core needs scripts: with them turned off, the page's markup is audited in ``auditor``,
    a page of another context that has them, loading the same stylesheets from the server.
    """

    page: Page
    base_url: str
    axe: str
    name: str
    auditor: Page
    problems: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    #: documents loaded in the page so far: unchanged while the page updates itself live
    loads: int = 0

    def __post_init__(self) -> None:
        self.page.on("load", self._loaded)
        self.page.on("pageerror", lambda exc: self.problems.append(f"JavaScript error: {exc}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _loaded(self, _page: Page) -> None:
        self.loads += 1

    def _console(self, message: ConsoleMessage) -> None:
        # failed loads are reported with their URL by _response (pages answering 4xx on
        # purpose, such as a form with errors, log one too)
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.status} on {response.url}")

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def check(self, label: str) -> None:
        """Check the page as shown now, at each width, and save the screenshots."""
        assert not self.problems, self.problems
        ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
        slug = re.sub(r"[^a-z0-9]+", "-", ascii_label.lower()).strip("-")
        step = len(self.checked) + 1
        if self.auditor is not self.page:
            self._copy_to_auditor()
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": HEIGHT})
            self.auditor.set_viewport_size({"width": width, "height": HEIGHT})
            self._axe(label, width)
            wide = self.page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"« {label} » is {wide} px wide in a {width} px window"
            shot = ARTIFACTS / f"{self.name}-{step:02d}-{slug}-{width}.png"
            self.page.screenshot(path=str(shot), full_page=True)
            self.shots.append(shot)
        self.page.set_viewport_size({"width": PHONE, "height": HEIGHT})
        self.checked.append(label)
        assert not self.problems, self.problems

    def _copy_to_auditor(self) -> None:
        """Show the current markup, scripts removed, at the same URL in ``auditor``."""
        html = SCRIPT_TAG.sub("", self.page.content())
        url = self.page.url
        self.auditor.route(url, lambda route: route.fulfill(
            status=200, body=html, content_type="text/html; charset=utf-8"))
        try:
            self.auditor.goto(url)
        finally:
            self.auditor.unroute(url)

    def _axe(self, label: str, width: int) -> None:
        # evaluated through the DevTools protocol: the page's CSP (no inline script) stays on
        if not self.auditor.evaluate("() => typeof window.axe === 'object'"):
            self.auditor.evaluate(self.axe)
        result = self.auditor.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']})", WCAG_TAGS)
        violations = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
            for v in result["violations"]]
        assert not violations, f"axe-core on « {label} » at {width} px:\n" + "\n".join(violations)


@pytest.fixture
def visit(browser: Browser, live_server: LiveServer, axe_source: str,
          request: pytest.FixtureRequest) -> Iterator[Callable[..., Visit]]:
    """``visit(scripts=True)``: a fresh browser context (no cookie) on the live server, the
    size of a phone screen."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    contexts: list[BrowserContext] = []

    def new_page(scripts: bool) -> Page:
        context = browser.new_context(
            viewport={"width": PHONE, "height": HEIGHT}, locale="fr-FR",
            timezone_id="Europe/Paris", java_script_enabled=scripts)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    def make(scripts: bool = True) -> Visit:
        page = new_page(scripts)
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name + ("" if scripts else "-nojs"))
        return Visit(page, live_server.url, axe_source, name,
                     auditor=page if scripts else new_page(True))

    yield make
    for context in contexts:
        context.close()
