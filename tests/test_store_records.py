"""``Store.records`` (plain records, no pandas) against ``Store.batches`` (frames), and the
``messages`` listing written from it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from sms_audit import store as store_module
from sms_audit.cli import app
from sms_audit.cli.messages import MESSAGES_COLUMNS
from sms_audit.errors import UsageError
from sms_audit.output import RecordFormat, RecordView, format_time, write_frames
from sms_audit.pipeline import import_archives, iter_store_records, load_store
from sms_audit.query import MessageFilter
from sms_audit.store import Store
from tests.fixtures_sbr import document, mms, sms

runner = CliRunner()
T0 = 1_700_000_000_000  # ms


def _archive(tmp_path: Path) -> Path:
    """A backup with the shapes a listing must carry through: marketing and an opt-out reply, an
    incoming message without a sent time, a group MMS with recipients, formula-looking text, a
    quote and a CR in a body."""
    path = tmp_path / "sms-2024.xml"
    path.write_text(
        document(
            sms("1069012345", T0, "【优购】春季大促，全场5折 回T退订"),
            sms("1069012345", T0 + 60_000, "T", type_=2),
            sms("1069012345", T0 + 90_000_000, "【优购】新品上架，点击 http://t.cn/x 回T退订"),
            sms("+8613800138000", T0 + 120_000, '=HYPERLINK("x") "quoted"\rline', date_sent=0),
            sms("95555", T0 + 123_456, "【招商银行】验证码：123456，5分钟内有效"),
            mms(
                "+8613800138000~+8613900139000",
                T0 + 200_000,
                1,
                [("text/plain", "-1 for lunch?")],
                [("+8613800138000", 137), ("=cmd", 151), ("+8613900139000", 151)],
            ),
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    db = tmp_path / "store.sqlite"
    with Store(db) as store:
        (result,) = import_archives(store, [_archive(tmp_path)], region="CN")
        assert result.error is None and result.new == 6
    return db


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if value is pd.NaT:
        return None
    return value


def test_records_hold_the_values_of_the_frames(stored: Path) -> None:
    with Store(stored, create=False) as store:
        (frame,) = list(store.batches(labelled=True))
        batches = list(store.records())
    assert [len(b) for b in batches] == [6]
    (records,) = batches
    expected = [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
    assert records == expected
    assert list(records[0]) == list(frame.columns)
    group = next(r for r in records if r["is_group"])
    assert group["recipients"] == ["+8613900139000", "=cmd"]  # the others, not the sender
    untimed = next(r for r in records if r["body"].startswith("=HYPERLINK"))
    assert untimed["sent_timestamp"] is None
    assert untimed["timestamp"].isoformat() == "2023-11-14T22:15:20+00:00"
    assert {r["label"] for r in records} >= {"marketing", "unsubscribe-reply", "verification"}


def test_records_read_only_the_columns_asked_for_with_times_as_text(stored: Path) -> None:
    columns = {"id": "message_id", "when": "timestamp", "sent": "sent_timestamp", "brand": "brand_display"}
    with Store(stored, create=False) as store:
        full = [r for b in store.records() for r in b]
        (records,) = list(store.records(columns=columns, time_text=True))
        with pytest.raises(KeyError, match="no column 'nope' in the store"):
            next(store.records(columns={"x": "nope"}))
    assert [list(r) for r in records] == [["id", "when", "sent", "brand"]] * 6
    assert [r["when"] for r in records] == [format_time(r["timestamp"]) for r in full]
    assert records[0]["when"] == "2023-11-14T22:13:20.000Z"
    assert [r["sent"] for r in records] == [
        None if r["sent_timestamp"] is None else format_time(r["sent_timestamp"]) for r in full
    ]
    assert {r["brand"] for r in records} >= {"优购", "招商银行"}


def test_records_come_first_in_a_small_batch_then_in_full_ones(
    stored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "FIRST_BATCH", 2)
    with Store(stored, create=False) as store:
        sizes = [len(b) for b in store.records(size=3)]
        newest = [r["timestamp"] for b in store.records(newest_first=True, limit=4) for r in b]
        marketing = [r["label"] for b in store.records(MessageFilter(label="marketing")) for r in b]
    assert sizes == [2, 3, 1]
    assert newest == sorted(newest, reverse=True) and len(newest) == 4
    assert marketing == ["marketing", "marketing"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json"])
def test_messages_listing_equals_the_frames_written(stored: Path, fmt: str) -> None:
    """The CLI lists plain records; the library writes frames (``write_frames``): same bytes."""
    result = runner.invoke(app, ["--db", str(stored), "-q", "messages", "--format", fmt])
    assert result.exit_code == 0, result.output
    with Store(stored, create=False) as store:
        frames = [f.assign(brand=f["brand_display"]) for f in store.batches(labelled=True)]
    out = io.StringIO()
    view = RecordView(json_key="messages")
    assert write_frames(frames, MESSAGES_COLUMNS, RecordFormat(fmt), out, view) == 6
    assert result.stdout == out.getvalue()
    if fmt == "csv":  # formula-looking text and list cells are neutralised
        assert "'=HYPERLINK" in result.stdout and "'-1 for lunch?" in result.stdout
        assert ",'+8613900139000;=cmd," in result.stdout  # a list cell too (was written bare)
    if fmt == "jsonl":
        first = json.loads(result.stdout.splitlines()[0])
        assert list(first) == list(MESSAGES_COLUMNS)
        assert first["brand"] == "优购" and first["timestamp"] == "2023-11-14T22:13:20.000Z"


def test_messages_from_the_store_never_import_pandas(stored: Path) -> None:
    """The first lines are written without pandas (whose import alone took ~0.4 s)."""
    script = (
        "import sys\n"
        "from sms_audit.cli import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules), file=sys.stderr)\n"
    )
    for fmt in ("jsonl", "csv"):
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                script,
                "--db",
                str(stored),
                "-q",
                "messages",
                "--format",
                fmt,
                "--limit",
                "2",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.strip().splitlines()[-1] == "[]"
        assert len(proc.stdout.splitlines()) == (2 if fmt == "jsonl" else 3)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        # a number as written, in any spelling, as --sender takes it (was ignored: all 6 came back)
        (MessageFilter(sender="+86 138 0013 8000"), 2),
        (MessageFilter(sender="13800138000"), 2),
        (MessageFilter(sender="1069012345"), 3),
        # names in any case, as --label/--direction take them (were 0 rows)
        (MessageFilter(label="MARKETING"), 2),
        (MessageFilter(direction=" OUT "), 1),
        # a naive time is UTC (was a TypeError from deep inside)
        (MessageFilter(since=datetime(2023, 11, 14, 22, 15)), 4),
        (MessageFilter(until=datetime(2023, 11, 14, 22, 15)), 2),
    ],
)
def test_library_filters_take_what_the_command_line_takes(
    stored: Path, flt: MessageFilter, expected: int
) -> None:
    with Store(stored, create=False) as store:
        frame = load_store(store, flt).frame
        records = [r for b in iter_store_records(store, flt) for r in b]
    assert len(frame) == expected
    assert [r["message_id"] for r in records] == frame["message_id"].tolist()


def test_library_filter_refuses_an_unknown_label_or_direction() -> None:
    with pytest.raises(UsageError, match="unknown label 'spam'"):
        MessageFilter(label="spam")
    with pytest.raises(UsageError, match="unknown direction 'up'"):
        MessageFilter(direction="up")
    assert MessageFilter(sender="  ") == MessageFilter()


def _report_frame_via_sqlite3(store: Store) -> pd.DataFrame:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_module, "_adbc_query", _no_driver)
        return store.report_messages()


def _no_driver(*_args: Any) -> Any:
    raise ImportError("No module named 'adbc_driver_sqlite'")


def test_report_selection_read_by_the_adbc_driver_in_a_thread(stored: Path) -> None:
    """The report's selection is read by the ADBC driver in a thread: the 1:1 messages of the
    unsubscribed number in time order, with the columns a report reads, the same frame sqlite3
    reads; the caller's connection is untouched."""
    import threading

    with Store(stored) as store:
        threads: list[str] = []
        query = store_module._adbc_query

        def traced(*args: Any) -> Any:
            threads.append(threading.current_thread().name)
            return query(*args)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(store_module, "_adbc_query", traced)
            frame = store.report_messages()
        assert threads == ["sms-audit-report-query"]
        assert list(frame["body"]) == [
            "【优购】春季大促，全场5折 回T退订",
            "T",
            "【优购】新品上架，点击 http://t.cn/x 回T退订",
        ]
        assert list(frame["label"]) == ["marketing", "unsubscribe-reply", "marketing"]
        assert not frame["is_group"].any() and set(frame["service"]) == {""}
        pd.testing.assert_frame_equal(frame, _report_frame_via_sqlite3(store))
        assert store.count_messages() == 6


def test_report_selection_empty_is_the_same_frame_either_way(tmp_path: Path) -> None:
    with Store(tmp_path / "empty.sqlite") as store:
        frame = store.report_messages()
        assert len(frame) == 0
        pd.testing.assert_frame_equal(frame, _report_frame_via_sqlite3(store))


def test_report_selection_sees_this_connections_uncommitted_rows(stored: Path) -> None:
    """Inside a transaction of its own connection the selection is read through that connection
    (another one, the driver's, would not see the rows yet)."""
    with Store(stored) as store:
        store.conn.execute("BEGIN")
        store.conn.execute("UPDATE labels SET label = 'other' WHERE label = 'unsubscribe-reply'")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(store_module, "_adbc_query", _unexpected)
            assert len(store.report_messages()) == 0
        store.conn.execute("ROLLBACK")
        assert len(store.report_messages()) == 3


def _unexpected(*_args: Any) -> Any:
    raise AssertionError("the driver must not read inside a transaction")


def test_report_selection_driver_failure_reads_through_sqlite3(stored: Path) -> None:
    """A store the driver cannot read, or a column type it guessed otherwise, is read through sqlite3."""
    import pyarrow as pa

    with Store(stored) as store:
        expected = _report_frame_via_sqlite3(store)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(store_module, "_adbc_query", lambda *_a: pa.table({"body": pa.array([b"\xff"])}))
            pd.testing.assert_frame_equal(store.report_messages(), expected)


def test_report_selection_error_is_raised_to_the_caller(stored: Path) -> None:
    import sqlite3

    with Store(stored) as store:
        store.conn.execute("ALTER TABLE labels RENAME TO labels_gone")
        with pytest.raises(sqlite3.OperationalError, match="no such table: labels"):
            store.report_messages()
        assert store.count_messages() == 6
