"""Output writers: exact text for each format, and hostile message text kept harmless."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms_audit import output
from sms_audit.errors import UsageError
from sms_audit.output import (
    MINUTES,
    Col,
    OutputFormat,
    RecordFormat,
    RecordView,
    csv_safe,
    dumps_json,
    format_time,
    resolve_format,
    table_width,
    visible,
    write_csv,
    write_json,
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
        '{"timestamp":"2025-09-10T12:30:00.123Z","address":"10690123456701",'
        '"body":"【优选商城】回T退订","recipients":[],"is_group":false}'
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
        ("+8613600003333;+8613500004444", "+8613600003333;+8613500004444"),
        ("+8613600003333~+8613911112222", "+8613600003333~+8613911112222"),  # a group's thread key
        ("+8613600003333~=cmd", "'+8613600003333~=cmd"),
        ("+1~+2|calc", "'+1~+2|calc"),
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


# --- tables fitted to the terminal ---------------------------------------------------------------


_ROWS = [
    {
        "when": "2025-06-02 11:24:00",
        "number": "10690123456701",
        "status": "violated",
        "numbers": ["10690123456701", "10690123456702", "106575550001"],
        "note": "low value",
        "body": "【优选商城】双11预售开启，爆款直降200元，回T退订",
    }
]
_COLS = [
    Col("when", "Time", 90, compact=MINUTES),
    Col("number", "Number", 95),
    Col("status", "Status", 100, styles={"violated": "bold red"}),
    Col("numbers", "Numbers", 50, free_text=True, min_width=14, max_width=40),
    Col("note", "Note", 10),
    Col("body", "Message", 100, free_text=True, min_width=16),
]


def _table(width: int | None, rows: list[dict[str, Any]] = _ROWS, **kwargs: Any) -> list[str]:
    out = io.StringIO()
    write_table(rows, _COLS, out, width=width, **kwargs)
    return out.getvalue().splitlines()


def _cells(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(line)


def test_table_natural_width_shows_everything_whole() -> None:
    header, rule, row = _table(None)
    assert header.split() == ["Time", "Number", "Status", "Numbers", "Note", "Message"]
    assert set(rule) == {"─"}
    # a list longer than its column's maximum (40) says how many more
    assert "2025-06-02 11:24:00" in row and "10690123456701, 10690123456702 +1 more" in row
    assert row.endswith("【优选商城】双11预售开启，爆款直降200元，回T退订")


@pytest.mark.parametrize("width", [60, 70, 80, 100, 120])
def test_table_fits_and_never_wraps_numbers_or_dates(width: int) -> None:
    lines = _table(width)
    assert len(lines) == 3, "one header, one rule, one row: nothing wraps"
    assert all(_cells(line) <= width for line in lines)
    row = lines[2]
    # the number and the date stay whole; compact first: the seconds go before any column does
    assert "10690123456701" in row and "violated" in row
    assert "2025-06-02 11:24" in row
    # free text is cut with an ellipsis, never folded
    if "…" in row:
        assert "Message" in lines[0]


def test_table_drops_least_important_columns_first() -> None:
    assert _table(200)[0].split() == ["Time", "Number", "Status", "Numbers", "Note", "Message"]
    header = _table(70)[0].split()
    assert "Note" not in header and header[:3] == ["Time", "Number", "Status"] and "Message" in header
    # the seconds go before the low-value column does
    assert "11:24:00" in _table(90)[2] and "Note" in _table(90)[0]
    assert "2025-06-02 11:24 " in _table(88)[2] and "Note" in _table(88)[0]
    assert "Note" not in _table(85)[0]
    narrow = _table(45)[0].split()
    assert narrow == ["Number", "Status", "Message"]


def test_table_wide_keeps_every_column() -> None:
    lines = _table(40, wide=True)
    assert lines[0].split() == ["Time", "Number", "Status", "Numbers", "Note", "Message"]
    assert "2025-06-02 11:24:00" in lines[2]


def test_table_list_cells_say_how_many_more() -> None:
    rows = [{**_ROWS[0], "body": "x"}]
    cols = [Col("number", "Number", 100), Col("numbers", "Numbers", 100, free_text=True, min_width=10)]
    for width, expected in [
        (80, "10690123456701, 10690123456702, 106575550001"),
        (56, "10690123456701, 10690123456702 +1 more"),
        (53, "10690123456701 +2 more"),
        (38, "10690123456701 +2 more"),
        (35, "10690123456701 +2"),
        (30, "3 items"),  # a number is never cut: the count alone
    ]:
        out = io.StringIO()
        write_table(rows, cols, out, width=width)
        assert out.getvalue().splitlines()[2].split("  ", 1)[1].strip() == expected, width


def test_table_list_cells_never_cut_a_number() -> None:
    cols = [Col("number", "Number", 100), Col("numbers", "Numbers", 100, free_text=True, noun="numbers")]
    for numbers, expected in [
        (["10690123456701", "10690123456702", "106575550001"], "3 numbers"),
        (["10690123456701", "106575550001"], "2 numbers"),
        (["106901234567012345"], "1 number"),
    ]:
        out = io.StringIO()
        write_table([{"number": "10690123456701", "numbers": numbers}], cols, out, width=30)
        row = out.getvalue().splitlines()[2]
        assert row.split("  ", 1)[1].strip() == expected and "…" not in row, numbers


def test_table_paths_keep_their_file_name() -> None:
    out = io.StringIO()
    rows = [{"path": "/home/someone/backups/2025/sms-20251201.xml", "n": 12}]
    write_table(
        rows, [Col("n", "Read", 100), Col("path", "File", 100, free_text=True, cut="start")], out, width=30
    )
    row = out.getvalue().splitlines()[2]
    assert row == "12    …s/2025/sms-20251201.xml" and _cells(row) == 30


def test_table_cjk_counts_two_cells() -> None:
    for width in (50, 64):
        lines = _table(width)
        assert all(_cells(line) <= width for line in lines)
        assert "【优选" in lines[2]


def test_table_colours_status_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    tty = Tty()
    write_table(_ROWS, _COLS, tty, width=200)
    assert "\x1b[1;31mviolated" in tty.getvalue()
    assert "\x1b[" not in "\n".join(_table(200))
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Tty()
    write_table(_ROWS, _COLS, plain, width=200)
    assert "\x1b[1;31m" not in plain.getvalue()


def test_table_width_follows_columns_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from sms_audit.output import table_width

    assert table_width(io.StringIO()) is None
    monkeypatch.setenv("COLUMNS", "88")
    assert table_width(io.StringIO()) == 88
    monkeypatch.setenv("COLUMNS", "wide")
    assert table_width(io.StringIO()) is None


@pytest.mark.parametrize("value", ["²", "٨٠", "-5", "0", "eighty", ""])
def test_table_width_ignores_a_columns_value_that_is_no_ascii_number(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("COLUMNS", value)
    assert table_width(io.StringIO()) is None


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)


@given(
    st.dictionaries(
        st.text(max_size=6),
        st.tuples(_JSON_VALUES, st.booleans()),  # (value, stream it if it is a list)
        max_size=5,
    )
)
def test_write_json_streams_lists_byte_for_byte_as_one_document(spec: dict[str, tuple[Any, bool]]) -> None:
    """A report's findings are streamed as an iterator: the bytes must be those of encoding the
    whole document at once (any nesting, empty lists, line breaks and quotes inside strings)."""
    whole = {key: value for key, (value, _) in spec.items()}
    lazy = {
        key: iter(value) if streamed and isinstance(value, list) else value
        for key, (value, streamed) in spec.items()
    }
    out = io.StringIO()
    write_json(lazy, out)
    assert out.getvalue() == dumps_json(whole, indent=True) + "\n"
    assert json.loads(out.getvalue()) == json.loads(dumps_json(whole))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec=st.dictionaries(
        st.text(max_size=6),
        st.tuples(_JSON_VALUES, st.booleans()),
        max_size=5,
    )
)
def test_write_json_streamed_to_a_file_in_chunks_is_the_same_bytes(
    spec: dict[str, tuple[Any, bool]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """To a UTF-8 file the streamed items go to the byte buffer a chunk at a time (chunks of 2
    here, so every list of 3 crosses a boundary): the file holds the bytes of the whole document."""
    monkeypatch.setattr(output, "_JSON_CHUNK", 2)
    whole = {key: value for key, (value, _) in spec.items()}
    lazy = {
        key: iter(value) if streamed and isinstance(value, list) else value
        for key, (value, streamed) in spec.items()
    }
    path = tmp_path / "doc.json"
    with path.open("w", encoding="utf-8") as stream:
        write_json(lazy, stream)
    assert path.read_bytes() == (dumps_json(whole, indent=True) + "\n").encode("utf-8")


def test_write_json_streamed_lone_surrogate_to_a_file(tmp_path: Path) -> None:
    """A lone surrogate (an undecodable file name) cannot be UTF-8: written as its JSON escape."""
    path = tmp_path / "doc.json"
    with path.open("w", encoding="utf-8") as stream:
        write_json({"findings": iter([{"source_file": "a\udcff.xml"}, {"x": "好"}])}, stream)
    text = path.read_text(encoding="utf-8")
    assert '"source_file": "a\\udcff.xml"' in text and '"x": "好"' in text
    assert json.loads(text)["findings"][0]["source_file"] == "a\udcff.xml"


def test_write_json_streamed_findings_shape() -> None:
    out = io.StringIO()
    write_json({"a": 1, "findings": iter([{"x": "line\nbreak"}, {"y": []}]), "none": iter([])}, out)
    assert out.getvalue() == (
        '{\n  "a": 1,\n  "findings": [\n    {\n      "x": "line\\nbreak"\n    },\n'
        '    {\n      "y": []\n    }\n  ],\n  "none": []\n}\n'
    )


@pytest.mark.parametrize(
    ("fmt", "output", "expected"),
    [
        (OutputFormat.AUTO, "report.html", OutputFormat.HTML),
        (OutputFormat.AUTO, "out/REPORT.JSON", OutputFormat.JSON),
        (OutputFormat.AUTO, "f.ndjson", OutputFormat.JSONL),
        (OutputFormat.AUTO, "f.csv", OutputFormat.CSV),
        (OutputFormat.AUTO, "notes.md", OutputFormat.MD),
        (OutputFormat.AUTO, "f.txt", OutputFormat.JSONL),  # no format of that name: JSON Lines
        (OutputFormat.AUTO, "noext", OutputFormat.JSONL),
        (OutputFormat.CSV, "report.html", OutputFormat.CSV),  # a chosen format always wins
        (RecordFormat.AUTO, "messages.csv", RecordFormat.CSV),
    ],
)
def test_resolve_format_auto_follows_the_output_files_suffix(fmt: Any, output: str, expected: Any) -> None:
    assert resolve_format(fmt, to_stdout=False, output=output) is expected


@pytest.mark.parametrize(
    ("name", "said"), [("list.md", "Markdown"), ("list.HTML", "HTML"), ("a.markdown", "Markdown")]
)
def test_a_suffix_naming_a_format_the_command_lacks_is_refused(name: str, said: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_format(RecordFormat.AUTO, to_stdout=False, output=name)
    assert (
        str(caught.value)
        == f"{name}: this command does not write {said}, which the file name's suffix asks for"
    )
    assert caught.value.hint == "choose a format with --format (table, json, jsonl, csv) or another file name"
    # a format given explicitly is what is written, whatever the name
    assert resolve_format(RecordFormat.JSONL, to_stdout=False, output=name) is RecordFormat.JSONL
    assert resolve_format(OutputFormat.AUTO, to_stdout=False, output="r.md") is OutputFormat.MD


def test_visible_shows_a_file_names_undecodable_bytes_as_bytes() -> None:
    import os
    from pathlib import Path

    from sms_audit.files import path_text
    from sms_audit.output import visible

    name = os.fsdecode(b"small\xffname\xe4.xml")
    assert visible(name) == "small\\xffname\\xe4.xml" == path_text(name)
    assert visible("lone \ud800 surrogate") == "lone \\ud800 surrogate"
    assert path_text("短信.xml") == "短信.xml" and path_text(Path("/a/b.xml")) == "/a/b.xml"
