"""Benchmark ``report --format html`` on a large store against the Markdown report of the same store.

Writes a deterministic synthetic SMS Backup & Restore archive (``bench/synthetic_sbr.py``: N
messages over two years, a few hundred brands, about 1 in 8 unsubscribed from, half of those
ignoring it), imports it into a fresh store, then runs the whole commands

* ``sms-audit report --format html -o report.html`` (timelines, charts, the page), and
* baseline ``markdown``: ``sms-audit report --format md -o report.md`` (the same analysis, text only),

and prints wall time and output size of each, the ratio, and the page against its budget (10 MB
for a 200,000-message store; 2 MB for the bundled samples, whose pages are measured too).

Usage: ``python bench/bench_html_report.py [N]`` (default 200,000). Prints figures; asserts nothing.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from synthetic_sbr import write_sbr

MB = 1_000_000


def sms_audit(*args: str) -> float:
    """Run the command line; returns the wall time in seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sms_audit", "-q", *args], check=True, cwd=REPO)
    return time.perf_counter() - start


def describe(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    charts = text.count('class="chart-svg"')
    timelines = text.count('<section class="brand"')
    rings = text.count('class="violation"')
    svg = sum(len(m) for m in re.findall(r"<svg .*?</svg>", text, re.DOTALL))
    return f"{timelines} timelines, {charts} charts ({svg / 1000:.0f} kB of SVG), {rings} violations ringed"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for sample in ("android-sms-backup.xml", "iphone-sms.db"):
            page = work / f"{sample}.html"
            seconds = sms_audit(
                "report", str(REPO / "sample_data" / sample), "--format", "html", "-o", str(page)
            )
            size = page.stat().st_size
            print(
                f"sample {sample}: html {size / 1000:.0f} kB in {seconds:.1f} s "
                f"(budget 2 MB: {'ok' if size < 2 * MB else 'OVER'}); {describe(page)}"
            )
        archive = write_sbr(work / f"sms-synthetic-{n}.xml", n)
        db = str(work / "store.sqlite")
        seconds = sms_audit("--db", db, "import", str(archive))
        print(
            f"store: {n:,} messages ({archive.stat().st_size / MB:.0f} MB of XML) imported in {seconds:.1f} s"
        )
        html_page, md_page = work / "report.html", work / "report.md"
        html_s = sms_audit("--db", db, "report", "--format", "html", "-o", str(html_page))
        md_s = sms_audit("--db", db, "report", "--format", "md", "-o", str(md_page))
        size = html_page.stat().st_size
        print(
            f"report --format html: {html_s:.1f} s, {size / MB:.2f} MB | "
            f'baseline "markdown" (--format md): {md_s:.1f} s, {md_page.stat().st_size / MB:.2f} MB | '
            f"{html_s / md_s:.1f}x the time"
        )
        print(f"page: {describe(html_page)}; budget 10 MB: {'ok' if size < 10 * MB else 'OVER'}")


if __name__ == "__main__":
    main()
