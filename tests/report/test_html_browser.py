"""The HTML report in a real browser: headless Chromium (the system's), driven by Playwright.

Skips, with the reason, only where no browser is available; ``.ci/run`` installs Debian's
``chromium`` and sets ``SMS_AUDIT_REQUIRE_BROWSER=1``, which turns that skip into a failure.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sms_audit.cli import app
from tests.browser import REQUIRE_ENV, Visit, find_browser, open_page
from tests.conftest import SAMPLE_DATA
from tests.report.test_html import hostile_archive

# Read at import: the autouse isolated_env fixture removes SMS_AUDIT_* variables before each test.
REQUIRED = os.environ.get(REQUIRE_ENV) == "1"
SAMPLE = SAMPLE_DATA / "android-sms-backup.xml"
runner = CliRunner()


@pytest.fixture(scope="module")
def browser() -> str:
    found, why = find_browser()
    if found is None:
        if REQUIRED:
            pytest.fail(f"{REQUIRE_ENV}=1 but no browser: {why}")
        pytest.skip(f"no headless browser: {why}")
    return found


def _page(archive: Path, out: Path, *extra: str) -> Path:
    result = runner.invoke(app, ["-q", "report", str(archive), "--format", "html", "-o", str(out), *extra])
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture
def sample_visit(browser: str, tmp_path: Path) -> Iterator[Visit]:
    with open_page(_page(SAMPLE, tmp_path / "report.html"), browser) as visit:
        yield visit


def test_browser_sample_report(sample_visit: Visit, tmp_path: Path) -> None:
    page = sample_visit.page
    doc = json.loads(runner.invoke(app, ["report", str(SAMPLE), "--format", "json"]).stdout)
    assert sample_visit.console_errors == [] and sample_visit.page_errors == []
    assert sample_visit.requests == []  # nothing fetched: no font, script, image or favicon
    # Every violating brand has its chart, with one ring per violation.
    expected = {row["subject"]: row["violations"] for row in doc["summary"] if row["violations"]}
    charts: list[dict[str, Any]] = page.eval_on_selector_all(
        "section.brand",
        """els => els.map(s => ({subject: s.dataset.subject, declared: Number(s.dataset.violations),
            rings: s.querySelectorAll('figure svg .violation').length,
            heading: s.querySelector('h3').innerText,
            box: s.querySelector('figure svg').getBoundingClientRect().toJSON()}))""",
    )
    assert {c["subject"]: c["rings"] for c in charts} == expected == {"优选": 5}
    assert all(c["rings"] == c["declared"] for c in charts)
    assert charts[0]["heading"].startswith("【优选商城】")  # Chinese drawn as text, from system fonts
    assert 600 < charts[0]["box"]["width"] <= 1200 and 150 < charts[0]["box"]["height"] < 900
    # The rings sit on the chart, inside its drawing.
    rings = page.eval_on_selector_all(
        "section.brand figure svg .violation", "els => els.map(e => e.getBoundingClientRect().toJSON())"
    )
    box = charts[0]["box"]
    for ring in rings:
        assert box["left"] <= ring["x"] <= box["right"] and box["top"] <= ring["y"] <= box["bottom"]
    assert page.evaluate("document.scripts.length") == 0
    height = page.evaluate("document.documentElement.scrollHeight")
    assert 2000 < height < 12000, height
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1200  # nothing wider than the window
    assert page.title().startswith("sms-audit: Who kept messaging after you unsubscribed")
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    # Printing: no navigation, charts kept whole.
    page.emulate_media(media="print")
    assert page.eval_on_selector("nav.toc", "e => getComputedStyle(e).display") == "none"
    assert page.eval_on_selector("figure.chart", "e => getComputedStyle(e).breakInside") == "avoid"


def test_browser_hostile_message_is_text(browser: str, tmp_path: Path) -> None:
    archive = hostile_archive(tmp_path / "sms-hostile.xml")
    with open_page(_page(archive, tmp_path / "hostile.html"), browser) as visit:
        page = visit.page
        assert visit.requests == []  # the <img src=x> was never an image
        assert visit.console_errors == [] and visit.page_errors == []
        assert page.evaluate("document.scripts.length") == 0
        assert page.evaluate("document.images.length") == 0
        assert page.evaluate("document.querySelectorAll('a[href^=javascript]').length") == 0
        assert page.title().startswith("sms-audit: ")  # the script did not run
        bodies = page.eval_on_selector_all("table.messages td.body", "els => els.map(e => e.innerText)")
        assert any("<script>document.title='pwned'</script>" in b for b in bodies)
        assert any('<a href="javascript:alert(1)">领奖</a>' in b for b in bodies)
        rings = page.evaluate("document.querySelectorAll('section.brand svg .violation').length")
        assert rings == 2
