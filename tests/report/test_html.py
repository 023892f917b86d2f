"""`--format html`: self-contained, escaped, redacted, the right marks on the charts; sparklines."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from sms_audit.cli import app
from sms_audit.output import OutputFormat
from sms_audit.report.analysis import Report, analyze
from sms_audit.report.charts import Mark, finish_svg
from sms_audit.report.html_report import CSP, write_report_html
from sms_audit.report.policy import PRESETS
from sms_audit.report.redact import redact_report
from sms_audit.report.render import can_draw_blocks, render, sparkline, write_report_table
from sms_audit.report.timelines import Target, row_owners, summary_targets, timeline_data, weekly_volume
from tests.conftest import REPO, SAMPLE_DATA
from tests.fixtures_sbr import document, sms
from tests.report.conftest import PORT_A, PORT_B, make_frame, scenario_rows

SAMPLE = SAMPLE_DATA / "android-sms-backup.xml"
IPHONE_SAMPLE = SAMPLE_DATA / "iphone-sms.db"
FIXED = datetime(2026, 1, 1, tzinfo=UTC)
runner = CliRunner()

# What a hostile sender may put in a message: markup, script, handlers, links, terminal and bidi
# controls, TeX for matplotlib, rich markup.
HOSTILE_BODY = (
    "【坏商家】<script>document.title='pwned'</script><img src=x onerror=\"document.title='img'\"> "
    '<a href="javascript:alert(1)">领奖</a> \x1b[31m红\u202egnp.exe $x^2$ [bold]B[/bold] 回T退订'
)
HOSTILE_BRAND = {"brand": "坏商家", "brand_display": '坏商家<b onmouseover="x()">'}


def hostile_rows() -> list[dict[str, Any]]:
    """A brand whose texts try every trick, unsubscribed from and then violating twice."""
    port = "10690555000001"
    return [
        {"timestamp": "2025-03-01T02:00:00Z", "direction": "in", "address": port, "label": "marketing",
         "body": HOSTILE_BODY, "optout_keyword": "T", **HOSTILE_BRAND},
        {"timestamp": "2025-03-01T03:00:00Z", "direction": "out", "address": port,
         "label": "unsubscribe-reply", "body": "T"},
        {"timestamp": "2025-03-05T02:00:00Z", "direction": "in", "address": port, "label": "marketing",
         "body": HOSTILE_BODY, **HOSTILE_BRAND},
        {"timestamp": "2025-03-09T02:00:00Z", "direction": "in", "address": "10690555000002",
         "label": "marketing", "body": HOSTILE_BODY + " 2", **HOSTILE_BRAND},
    ]  # fmt: skip


def hostile_archive(path: Path) -> Path:
    """The same trick texts as an SMS Backup & Restore file (for the browser test).

    Each text leads with a plain offer, so that the classifier reads an advert whatever it makes of
    the markup after it, and the page has two violations whose text it must show inertly.
    """
    base = 1_740_794_400_000  # 2025-03-01T02:00:00Z
    day = 86_400_000
    advert = HOSTILE_BODY.replace("【坏商家】", "【坏商家】双11全场5折起，满299减100 ", 1)
    path.write_text(
        document(
            sms("10690555000001", base, advert),
            sms("10690555000001", base + 3_600_000, "T", 2),
            sms("10690555000001", base + 4 * day, advert + " 优惠"),
            sms("10690555000002", base + 8 * day, advert + " 特价"),
        ),
        encoding="utf-8",
    )
    return path


def _report(rows: list[dict[str, Any]], policy: str = "cn") -> Report:
    return analyze(make_frame(rows), PRESETS[policy], tz="Asia/Shanghai", region="CN")


def _html(report: Report, **kwargs: Any) -> str:
    buffer = io.StringIO()
    write_report_html(report, buffer, generated_at=FIXED, **kwargs)
    return buffer.getvalue()


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Tags:
    tags = _Tags()
    tags.feed(page)
    tags.close()
    return tags


def assert_self_contained(page: str) -> None:
    """Nothing that runs or loads: no script or embedded resource, no handler, only local links."""
    tags = parse(page)
    names = {t for t, _ in tags.tags}
    assert not names & {"script", "iframe", "object", "embed", "img", "image", "audio", "video", "form"}
    for tag, attrs in tags.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("href", "src", "xlink:href", "action", "srcset"):
            value = attrs.get(name, "")
            assert value == "" or value.startswith("#") or value == "data:,", (tag, name, value)
        if tag == "link":
            assert attrs == {"rel": "icon", "href": "data:,"}
    assert "@import" not in page and "@font-face" not in page and "url(http" not in page
    assert "javascript:" not in "".join(v for _, a in tags.tags for v in a.values())
    csp = [
        a["content"] for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp == [CSP]
    assert "default-src 'none'" in CSP and "script-src 'none'" in CSP and "connect-src 'none'" in CSP


# --- the page -------------------------------------------------------------------------------------


def test_html_scenario_is_self_contained_with_every_section() -> None:
    report = _report(scenario_rows())
    page = _html(report)
    assert_self_contained(page)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    text = " ".join(parse(page).text)
    for heading in (
        "Summary",
        "Timelines of the senders that ignored you",
        "The archive, month by month",
        "Unsubscribe ledger",
        "Suspected unsubscribe traps: do not reply",
        "What was checked",
    ):
        assert heading in text
    assert "4 unsubscribe replies sent to 4 numbers, 1 confirmed, 1 ignored." in text
    assert "Do not reply to messages like these." in text
    assert "MIIT Order No. 31" in text and "does not mean" in text  # policy source and caveats
    # One timeline: the only brand that violated, with its two violations ringed.
    sections = re.findall(
        r'<section class="brand" id="brand-\d+" data-subject="([^"]*)" data-violations="(\d+)"', page
    )
    assert sections == [("优选商城", "2")]
    assert page.count('class="violation"') == 2
    assert page.count('class="chart-svg"') == 3  # timeline, month by month, ledger
    assert '<td class="body" lang="zh-CN">【优选商城】新品上架 &lt;b&gt;|*&lt;/b&gt;，回TD退订</td>' in page


def test_html_violation_marks_name_their_findings() -> None:
    report = _report(scenario_rows())
    page = _html(report)
    marked = re.findall(
        r'<use [^>]*class="violation" data-finding="([0-9a-f]{16})" data-kind="violation"', page
    )
    assert sorted(marked) == sorted(f.finding_id for f in report.violations)
    for finding_id in marked:  # and the same id on the message's row below the chart
        assert f'<tr class="bad" data-finding="{finding_id}">' in page


def test_html_escapes_hostile_text_everywhere() -> None:
    report = _report(hostile_rows())
    page = _html(report)
    assert_self_contained(page)
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;document.title=&#x27;img&#x27;&quot;&gt;" in page
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;" in page
    assert "\x1b" not in page and "\u202e" not in page  # controls shown as \x1b, \u202e
    assert "\\x1b[31m红\\u202egnp.exe $x^2$ [bold]B[/bold]" in page
    assert (
        "【坏商家&lt;b onmouseover=&quot;x()&quot;&gt;】" in page
    )  # the brand name, in the page and the chart
    text = "".join(parse(page).text)
    assert "<script>document.title='pwned'</script>" in text  # what a reader sees: the text itself


def test_html_chart_text_stays_text_in_the_svg() -> None:
    page = _html(_report(hostile_rows()))
    svg = re.search(r'<svg [^>]*aria-labelledby="t1-title t1-desc".*?</svg>', page, re.DOTALL)
    assert svg is not None
    assert "<text" in svg.group(0) and "font-family" not in svg.group(0)  # the page's fonts draw it
    assert (
        '<title id="t1-title">【坏商家&lt;b onmouseover="x()"&gt;】: messages over time</title>'
        in svg.group(0)
    )


def test_html_redact_masks_what_comes_from_the_frame() -> None:
    mobile = "+8613712345678"
    rows = [
        {"timestamp": "2025-03-01T02:00:00Z", "direction": "in", "address": mobile, "sender_kind": "mobile",
         "label": "marketing", "body": "尊敬的张三先生，贷款秒批，联系13712345678，回T退订", "optout_keyword": "T"},
        {"timestamp": "2025-03-01T03:00:00Z", "direction": "out", "address": mobile, "sender_kind": "mobile",
         "label": "unsubscribe-reply", "body": "T"},
        {"timestamp": "2025-03-05T02:00:00Z", "direction": "in", "address": mobile, "sender_kind": "mobile",
         "label": "marketing", "body": "尊敬的张三先生，再次提醒，回T退订"},
        *scenario_rows(),
    ]  # fmt: skip
    report = _report(rows)
    clean = _html(report)
    assert "13712345678" in clean and "张三" in clean and "482913" in clean
    page = _html(redact_report(report))
    for secret in ("13712345678", "8613712345678", "张三", "13912345678", "482913", "张伟"):
        assert secret not in page, secret
    assert "+•••••••••5678" in page  # the number's own timeline row, masked
    assert "尊敬的••先生，贷款秒批" in page  # the last message before the reply, from the frame, redacted
    assert PORT_A in page and PORT_B in page  # merchants' ports are the evidence
    assert "Redacted:" in page and "sms-audit: Who kept messaging after you unsubscribed (redacted)" in page


def test_html_without_unsubscribes_or_frame() -> None:
    chat = [{"timestamp": "2025-03-01T02:00:00Z", "direction": "in", "address": "+8613800000001",
             "sender_kind": "mobile", "label": "other", "body": "hi"}]  # fmt: skip
    page = _html(_report(chat))
    assert_self_contained(page)
    assert "no unsubscribe replies (TD, T, R, 退订, STOP …) were found among the 1 message checked" in page
    assert 'id="brands"' not in page and 'id="ledger"' not in page and 'id="traps"' not in page
    from dataclasses import replace

    bare = replace(_report(scenario_rows()), frame=None)  # a Report built without audit()
    page = _html(bare)
    assert 'id="brands"' not in page and 'id="overview"' not in page and 'id="ledger"' in page


def test_html_draws_at_most_the_timeline_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    from sms_audit.report import html_report

    rows = scenario_rows() + [
        {**row, "message_id": f"h-{i}", "address": row["address"].replace("0555", "0556")}
        for i, row in enumerate(hostile_rows())
    ]
    report = _report(rows)
    assert sum(1 for row in report.summary if row.violations) == 2
    monkeypatch.setattr(html_report, "MAX_TIMELINES", 1)
    page = _html(report)
    assert page.count('<section class="brand"') == 1
    assert "1 more sender violated (see the summary); their timelines are left out" in page


def test_html_lists_at_most_the_cap_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from sms_audit.report import html_report

    monkeypatch.setattr(html_report, "MAX_LISTED", 1)
    page = _html(_report(scenario_rows()))
    assert (
        "Not listed here: 2 later messages after 2025-03-02 04:00 and 1 code or notice (not violations)."
        in page
    )
    assert page.count('class="violation"') == 2  # the chart still rings every violation
    assert "<code>sms-audit evidence 优选商城 -o DIR</code>" in page


# --- the command line ------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", [SAMPLE, IPHONE_SAMPLE])
def test_cli_report_html_samples(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(sample), "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert re.search(r"wrote .*report\.html \(\d+ kB\): open it in a browser", result.stderr)
    assert (out.stat().st_mode & 0o777) == 0o600
    page = out.read_text(encoding="utf-8")
    assert out.stat().st_size < 2_000_000
    assert_self_contained(page)
    doc = json.loads(runner.invoke(app, ["report", str(sample), "--format", "json"]).stdout)
    expected = {row["subject"]: row["violations"] for row in doc["summary"] if row["violations"]}
    sections = re.findall(r'data-subject="([^"]*)" data-violations="(\d+)">(.*?)</section>', page, re.DOTALL)
    assert {s: int(n) for s, n, _ in sections} == expected
    for _, n, body in sections:
        assert body.count('class="violation"') == int(n)


def test_cli_report_html_refuses_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sms_audit.output.stdout_is_tty", lambda: True)
    result = runner.invoke(app, ["report", str(SAMPLE), "--format", "html"])
    assert result.exit_code == 2
    assert "error: an HTML report is a file to open in a browser, not terminal output" in result.stderr
    assert "hint: add -o report.html" in result.stderr and result.stdout == ""


def test_cli_report_html_to_a_pipe_and_redacted() -> None:
    result = runner.invoke(app, ["report", str(SAMPLE), "--format", "html", "--redact"])
    assert result.exit_code == 0 and result.stdout.startswith("<!DOCTYPE html>")
    assert "+8613900004321" not in result.stdout and "+•••••••••4321" in result.stdout


def test_cli_listings_do_not_offer_html() -> None:
    result = runner.invoke(app, ["messages", str(SAMPLE), "--format", "html"])
    assert result.exit_code == 2 and "'html' is not one of" in result.stderr


def test_cli_evidence_pack_has_the_page(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    result = runner.invoke(app, ["evidence", "星巴客", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert "<h1>Evidence: 【星巴客】</h1>" in page
    # An honoured brand still gets its timeline in its own pack.
    assert re.findall(r'data-subject="([^"]*)" data-violations="(\d+)"', page) == [("星巴客", "0")]
    assert "<h2>Timeline</h2>" in page and "No violation." in page
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "report.html" in {f["name"] for f in manifest["files"]}


def test_cli_help_imports_no_plotting_library() -> None:
    code = (
        "import sys\n"
        "from sms_audit.cli import app\n"
        "try:\n    app(['report', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('matplotlib', 'pandas', 'numpy', 'pyarrow', 'playwright') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"
    assert "html" in result.stdout


# --- charts ----------------------------------------------------------------------------------------


def test_finish_svg_prefixes_ids_tags_points_and_checks_counts() -> None:
    raw = (
        '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'width="10pt" height="5pt" viewBox="0 0 10 5"><metadata>x</metadata><defs><style>*{}</style>'
        '<path id="m1" d="M 0.123456 1.5 L 2 3"/></defs><g id="pts" clip-path="url(#c1)">'
        '<use xlink:href="#m1" x="1.23456" y="2" style="fill: red"/><use xlink:href="#m1" x="3" y="4" style="fill: red"/>'
        "</g><text style=\"font-size: 9px; font-family: 'DejaVu Sans', sans-serif\">a</text></svg>"
    )
    marks: Mapping[str, Mark | list[Mark]] = {
        "pts": [Mark("violation", {"finding": "f1"}, "one <b>"), Mark("violation", {"finding": "f2"}, "")]
    }
    svg = finish_svg(raw, "c7", "Title & co", "Desc", marks)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 'aria-labelledby="c7-title c7-desc"' in svg and 'role="img"' in svg and 'width="' not in svg
    assert '<title id="c7-title">Title &amp; co</title><desc id="c7-desc">Desc</desc>' in svg
    assert 'id="c7-m1"' in svg and 'xlink:href="#c7-m1"' in svg and 'clip-path="url(#c7-c1)"' in svg
    assert "metadata" not in svg and "<style" not in svg and "font-family" not in svg
    assert 'd="M 0.12 1.5 L 2 3"' in svg and 'x="1.23"' in svg
    assert '<g id="c7-pts" clip-path="url(#c7-c1)" style="fill: red">' in svg  # style hoisted
    assert (
        '<use xlink:href="#c7-m1" x="1.23" y="2" class="violation" data-finding="f1"><title>one &lt;b&gt;</title></use>'
        in svg
    )
    assert '<use xlink:href="#c7-m1" x="3" y="4" class="violation" data-finding="f2" />' in svg
    with pytest.raises(ValueError, match="3 marks for 2 points of pts"):
        finish_svg(raw, "c8", "t", "d", {"pts": [Mark("v", {}, "")] * 3})


# --- timelines and sparklines --------------------------------------------------------------------


def test_row_owners_keep_other_brands_on_a_shared_port_out() -> None:
    rows = scenario_rows() + [
        {"timestamp": "2025-03-12T02:00:00Z", "direction": "in", "address": PORT_A, "label": "marketing",
         "body": "【别家】借道发送", "brand": "别家", "brand_display": "别家"},
        {"timestamp": "2025-03-12T03:00:00Z", "direction": "in", "address": PORT_A, "label": "other",
         "body": "无签名通知"},
    ]  # fmt: skip
    report = _report(rows)
    targets = summary_targets(report)
    assert [t.subject for t in targets] == ["优选商城", "星巴客", "甜心蛋糕", "好运来"]
    assert targets[0].addresses == tuple(sorted((PORT_A, PORT_B)))
    assert report.frame is not None
    owner = row_owners(report.frame, targets)
    mine = report.frame.loc[owner == 0, "body"].tolist()
    assert "【别家】借道发送" not in mine and "无签名通知" in mine and "TD" in mine
    assert len(mine) == 7  # the 6 scenario rows of the shop + the unsigned notice
    redacted = summary_targets(redact_report(report))
    assert [t.addresses for t in redacted] == [t.addresses for t in targets]  # found through ids


def test_weekly_volume_and_timeline_bins() -> None:
    report = _report(scenario_rows())
    targets = summary_targets(report)
    volume = weekly_volume(report, targets)
    assert volume.weeks_per_cell == 1 and volume.first_week == datetime(2025, 2, 24)
    shop = volume.cells[0]
    # Received, by local week from Monday 24 Feb: the ad and the in-grace ad (Sat 1, Sun 2 Mar),
    # late-a (Wed 5 Mar), late-b and the code (Mon 10, Tue 11 Mar).
    assert shop[:4] == (2, 1, 2, 0) and sum(shop) == 5
    assert volume.marks[0] == 0  # the TD went out in the first week
    assert weekly_volume(report, targets, max_cells=4).weeks_per_cell == 5
    data = timeline_data(report, targets[0], since=report.summary[0].first_unsubscribe)
    assert data.bin == "week" and data.earlier == 0
    assert data.bins["marketing"].sum() == 4 and data.bins["other"].sum() == 1
    assert list(data.messages["direction"]).count("out") == 1


def test_sparkline_blocks_ascii_and_mark() -> None:
    assert sparkline([0, 1, 4, 8, 2], 3) == " ▁▄┊█▂"
    assert sparkline([0, 1, 4, 8, 2], 3, ascii_only=True) == " .=|@:"
    assert sparkline([5, 5], None) == "██" and sparkline([], None) == "" and sparkline([0, 0], 2) == "  ┊"
    assert can_draw_blocks(io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    assert can_draw_blocks(io.TextIOWrapper(io.BytesIO(), encoding="gb18030"))
    assert not can_draw_blocks(io.TextIOWrapper(io.BytesIO(), encoding="cp1252"))


def test_report_table_sparkline_falls_back_to_ascii() -> None:
    report = _report(scenario_rows())
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="backslashreplace")
    write_report_table(report, stream)
    stream.flush()
    text = raw.getvalue().decode("ascii")
    assert "Weekly volume" in text and "|" in text and "┊" not in text and "▁" not in text
    assert "Weekly volume: | is your first unsubscribe." in text
    assert "|@=@ " in text  # the shop: the TD in its first week (2 received), then 1, then 2


def test_render_dispatches_html() -> None:
    buffer = io.StringIO()
    render(_report(scenario_rows()), OutputFormat.HTML, buffer, generated_at=FIXED)
    assert "Made by sms-audit" in buffer.getvalue() and "2026-01-01 00:00 UTC" in buffer.getvalue()


def test_timeline_target_without_unsubscribe_has_a_chart() -> None:
    report = _report(scenario_rows())
    target = Target("甜心蛋糕", "甜心蛋糕", "甜心蛋糕", ("10690000222",))
    page = _html(report, targets=[target, Target("无名", "无名", "无名", ())])
    assert page.count('class="chart-svg"') == 4
    assert "No unsubscribe reply to 【无名】 was found in this archive." in page
    assert pd.Timestamp(report.last_message) > pd.Timestamp("2025-05-01T00:00Z")


class _Terminal(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("columns", [90, 120, 200])
def test_report_table_sparkline_never_folds_on_a_narrow_terminal(
    columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("LINES", "50")
    report = _report(scenario_rows())
    stream = _Terminal()
    write_report_table(report, stream)
    from rich.cells import cell_len

    lines = re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue()).splitlines()  # the terminal's styles
    table = lines[: lines.index("")]
    assert all(cell_len(line) <= columns for line in table)  # nothing cropped or overflowing
    assert table[1].split()[-1] == "Status"  # the last header, whole
    shop = next(line for line in table if "【优" in line)  # the shop, on one line
    assert shop.split()[-1] == "violated"  # the last column (the status) is there
    spark = sparkline(*_shop_volume(report)).strip()
    assert ("Weekly volume" in table[1]) == (spark in shop)  # shown whole or not at all
    assert ("Weekly volume" in table[1]) == (columns >= 120)


def _shop_volume(report: Report) -> tuple[tuple[int, ...], int | None]:
    import shutil

    from sms_audit.report.render import _spark_cells

    columns = shutil.get_terminal_size().columns
    cells = _spark_cells(columns)
    assert cells == max(6, min(26, (columns - 110) // 2 + 6))
    volume = weekly_volume(report, summary_targets(report), max_cells=cells)
    return volume.cells[0], volume.marks[0]
