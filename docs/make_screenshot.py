"""Regenerate docs/report-screenshot.png: the HTML report of sample_data/android-sms-backup.xml in
headless Chromium (the system's browser, as in the browser test; nothing is downloaded).

    python docs/make_screenshot.py            # needs '.[test]' installed and Debian's chromium
                                              # (+ fonts-noto-cjk for the Chinese text)
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser import find_browser, open_page

OUT = REPO / "docs" / "report-screenshot.png"
WIDTH, HEIGHT = 1200, 1960  # the top of the page: the summary and the first timeline


def main() -> int:
    import sms_audit
    from sms_audit.report.html_report import write_report_html

    browser, why = find_browser()
    if browser is None:
        print(f"error: {why}", file=sys.stderr)
        return 1
    messages = sms_audit.read_archives([REPO / "sample_data" / "android-sms-backup.xml"])
    report = sms_audit.audit(sms_audit.classify(messages))
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "report.html"
        with page_path.open("w", encoding="utf-8") as stream:
            # A fixed date keeps the picture the same from run to run.
            write_report_html(report, stream, generated_at=datetime(2025, 11, 28, tzinfo=UTC))
        with open_page(page_path, browser, width=WIDTH, height=HEIGHT) as visit:
            visit.page.screenshot(path=str(OUT), full_page=False)
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
