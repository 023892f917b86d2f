"""Headless Chromium for the HTML report: the browser test and ``docs/make_screenshot.py``.

The browser is the system's (Debian's ``chromium``; ``.ci/run`` installs it with apt-get), driven
by Playwright's Python package with ``executable_path``: no browser is ever downloaded (never run
``playwright install``). Every request other than the page's own file is blocked and recorded, so
a test can assert that the page fetched nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Set to 1 (``.ci/run`` does) to make a missing browser a failure instead of a skip.
REQUIRE_ENV = "SMS_AUDIT_REQUIRE_BROWSER"
#: A browser binary to use instead of the first of :data:`CANDIDATES` found on PATH.
BROWSER_ENV = "SMS_AUDIT_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Read at import: the tests' autouse isolated_env fixture removes SMS_AUDIT_* variables.
_EXPLICIT = os.environ.get(BROWSER_ENV)
ARGS = (
    "--headless",
    "--no-sandbox",  # containers and CI run as root, where the sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--no-default-browser-check",
)


def find_browser() -> tuple[str | None, str]:
    """The Chromium binary and Playwright, or None and why not (the skip reason)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return None, "the playwright package is not installed (pip install '.[test]')"
    explicit = _EXPLICIT
    if explicit:
        return (
            (explicit, "")
            if Path(explicit).is_file()
            else (None, f"${BROWSER_ENV}={explicit} does not exist")
        )
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found, ""
    return None, "no Chromium on PATH (Debian/Ubuntu: apt-get install chromium)"


@dataclass
class Visit:
    """What happened while the page was open."""

    page: Any  # playwright.sync_api.Page
    url: str
    requests: list[str] = field(default_factory=list)  # every request other than the page itself
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@contextmanager
def open_page(path: Path, browser: str, *, width: int = 1200, height: int = 900) -> Iterator[Visit]:
    """Open ``path`` (an HTML file) in headless Chromium; yields the :class:`Visit` once loaded."""
    from playwright.sync_api import sync_playwright

    url = path.resolve().as_uri()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser, args=list(ARGS), headless=True)
        try:
            context = chromium.new_context(
                viewport={"width": width, "height": height}, device_scale_factor=1, offline=True
            )
            page = context.new_page()
            visit = Visit(page=page, url=url)

            def route(route: Any) -> None:
                if route.request.url == url:
                    route.continue_()
                else:
                    visit.requests.append(route.request.url)
                    route.abort()

            page.route("**/*", route)
            page.on("request", lambda r: None if r.url == url else visit.requests.append(r.url))
            page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
            page.goto(url, wait_until="load")
            yield visit
        finally:
            chromium.close()
