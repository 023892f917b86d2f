"""Output writers: exact text for each format, and hostile message text kept harmless."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from sms_audit.output import (
    OutputFormat,
    RecordFormat,
    RecordView,
    csv_safe,
    format_time,
    resolve_format,
    visible,
    write_csv,
    write_jsonl,
    write_records,
    write_table,
)

COLUMNS = ("timestamp", "address", "body", "recipients", "is_group")
RECORDS = [
    {
        "timestamp": datetime(2025, 9, 10, 12, 30, 0, 123000, tzinfo=UTC),
        "address": "10690123456701",
        "body": "【优选商城】回T退订",
        "recipients": (),
        "is_group": False,
    },
    {
        "timestamp": datetime(2025, 9, 10, 12, 35, tzinfo=UTC),
        "address": "+8613900001111",
        "body": '=HYPERLINK("http://x","click")',
        "recipients": ("+8613600003333", "+8613500004444"),
        "is_group": True,
    },
]


def test_write_jsonl_exact() -> None:
    out = io.StringIO()
    assert write_jsonl(RECORDS, COLUMNS, out) == 2
    assert out.getvalue().splitlines()[0] == (
        '{"timestamp": "2025-09-10T12:30:00.123Z", "address": "10690123456701", '
        '"body": "【优选商城】回T退订", "recipients": [], "is_group": false}'
    )
    assert json.loads(out.getvalue().splitlines()[1])["recipients"] == ["+8613600003333", "+8613500004444"]


def test_write_csv_exact_and_formula_safe() -> None:
    out = io.StringIO()
    write_csv(RECORDS, COLUMNS, out)
    assert out.getvalue() == (
        "timestamp,address,body,recipients,is_group\n"
        "2025-09-10T12:30:00.123Z,10690123456701,【优选商城】回T退订,,false\n"
        '2025-09-10T12:35:00.000Z,+8613900001111,"\'=HYPERLINK(""http://x"",""click"")",'
        "+8613600003333;+8613500004444,true\n"
    )


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("+8613800138000", "+8613800138000"),
        ("-1", "-1"),
        ("TD", "TD"),
        ("\t=x", "'\t=x"),
    ],
)
def test_csv_safe(cell: str, safe: str) -> None:
    assert csv_safe(cell) == safe


def test_write_json_document() -> None:
    out = io.StringIO()
    write_records(RECORDS[:1], COLUMNS, RecordFormat.JSON, out, RecordView(json_key="messages"))
    doc = json.loads(out.getvalue())
    assert doc == {
        "schema_version": 1,
        "messages": [
            {
                "timestamp": "2025-09-10T12:30:00.123Z",
                "address": "10690123456701",
                "body": "【优选商城】回T退订",
                "recipients": [],
                "is_group": False,
            }
        ],
    }


def test_table_never_interprets_markup_or_escape_codes() -> None:
    out = io.StringIO()
    hostile = [{"body": "[bold red]WIN[/] [link=http://evil]x[/link] \x1b[2J\x1b]0;title\x07 \u202eevil"}]
    write_table(hostile, ("body",), out)
    text = out.getvalue()
    assert "[bold red]WIN[/]" in text
    assert "[link=http://evil]x[/link]" in text
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b[2J" in text and "\\x07" in text and "\\u202e" in text


def test_visible_keeps_text_and_newlines() -> None:
    assert visible("退订\n😀") == "退订\n😀"
    assert visible("a\rb\x00", keep_newlines=False) == "a\\x0db\\x00"


def test_format_time_is_utc_z() -> None:
    from datetime import timedelta, timezone

    assert (
        format_time(datetime(2025, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))))
        == "2025-01-01T00:00:00.000Z"
    )


def test_auto_format_depends_on_stdout_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sms_audit.output.stdout_is_tty", lambda: True)
    assert resolve_format(OutputFormat.AUTO, to_stdout=True) is OutputFormat.TABLE
    assert resolve_format(OutputFormat.AUTO, to_stdout=False) is OutputFormat.JSONL
    monkeypatch.setattr("sms_audit.output.stdout_is_tty", lambda: False)
    assert resolve_format(OutputFormat.AUTO, to_stdout=True) is OutputFormat.JSONL
    assert resolve_format(OutputFormat.CSV, to_stdout=True) is OutputFormat.CSV


def test_every_format_has_a_writer() -> None:
    for fmt in RecordFormat:
        if fmt is RecordFormat.AUTO:
            with pytest.raises(ValueError, match="resolve --format auto"):
                write_records(RECORDS, COLUMNS, fmt, io.StringIO())
            continue
        out = io.StringIO()
        assert write_records(RECORDS, COLUMNS, fmt, out) == len(RECORDS)
        assert out.getvalue()


def test_record_listings_do_not_offer_markdown() -> None:
    assert "md" not in {f.value for f in RecordFormat}
    assert {f.value for f in RecordFormat} < {f.value for f in OutputFormat}
