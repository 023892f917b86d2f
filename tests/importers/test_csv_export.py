"""CSV importer: iMazing (four column sets), QQ同步助手 (GBK, matched on content), --csv-map, damage."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sms_audit.cli import app
from sms_audit.errors import CorruptArchive, SmsAuditError, TruncatedArchive, UnsupportedArchive, UsageError
from sms_audit.importers import ReadOptions, ReadStats, _textfile, csv_export, detect
from sms_audit.importers.csv_export import map_example, parse_csv_map
from sms_audit.importers.direction_words import DIRECTION_WORDS, direction_of
from sms_audit.model import Record, make_message_id, sms_message_id
from sms_audit.pipeline import read_archives
from sms_audit.schema import Direction, Service
from tests import fixtures_sbr
from tests.fixtures_csv import ImazingRow, imazing_csv, plain_csv, qq_csv

runner = CliRunner()
SHORT = "22395"
US_AD1 = "Acme: 30% off all shoes this weekend! acme.example/s Reply STOP to opt out"
US_AD2 = "Acme: Flash sale ends tonight, 40% off! acme.example/f Reply STOP to opt out"
PORT = "10690123456701"
AD1 = "【优选商城】会员日全场满199减50，戳 yx.example.cn/s/1001 回T退订"
AD2 = "【优选商城】限时秒杀：智能手表仅需99元，戳 yx.example.cn/s/1004 回T退订"


def _wall(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1_000_000)


def _records(path: Path, csv_map: str | None = None) -> tuple[list[Record], ReadStats]:
    stats = ReadStats()
    options = ReadOptions(csv_map=parse_csv_map(csv_map) if csv_map else None)
    return list(csv_export.read_records(path, options, stats)), stats


def _us_rows() -> list[ImazingRow]:
    return [
        ImazingRow(SHORT, "2025-03-01 10:00:00", "Incoming", US_AD1, sender_id=SHORT, message_id="A1"),
        ImazingRow(SHORT, "2025-03-02 09:15:00", "Outgoing", "STOP", message_id="A2"),
        ImazingRow(SHORT, "2025-03-02 09:15:05", "Notification", "", message_id="A3"),
        ImazingRow(SHORT, "2025-03-25 18:30:00", "Incoming", US_AD2, sender_id=SHORT, message_id="A4"),
        ImazingRow(
            "Family",
            "2025-03-04 20:00:00",
            "Incoming",
            "dinner?",
            sender_id="+12025550142",
            service="iMessage",
        ),
        ImazingRow(
            "Family",
            "2025-03-04 20:01:00",
            "Incoming",
            "yes",
            sender_id="mom@example.com",
            service="iMessage",
        ),
        ImazingRow(
            "Family", "2025-03-04 20:02:00", "Outgoing", "", service="iMessage", attachment="IMG_0001.HEIC"
        ),
    ]


# --- iMazing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [14, 15, 17, 18])
def test_imazing_every_column_set(tmp_path: Path, columns: int) -> None:
    path = tmp_path / "Messages - Acme.csv"
    path.write_bytes(imazing_csv(_us_rows(), columns))
    assert detect(path).NAME == "csv"
    records, stats = _records(path)
    assert (stats.read, stats.skipped, stats.excluded) == (6, 0, 1)
    assert stats.details == {"encoding": "utf-8 (byte-order mark)", "csv_layout": "iMazing"}
    assert records[1] == Record(
        message_id=make_message_id("csv", SHORT, "out", f"{_wall('2025-03-02 09:15:00')}L", "STOP"),
        source_record="line 3",
        direction=Direction.OUT,
        timestamp_us=_wall("2025-03-02 09:15:00"),
        address_raw=SHORT,  # from the chat's incoming Sender ID
        body="STOP",
        service=Service.SMS,
        local_time=True,
    )
    assert [(r.direction, r.address_raw, r.is_group, r.service) for r in records] == [
        (Direction.IN, SHORT, False, Service.SMS),
        (Direction.OUT, SHORT, False, Service.SMS),
        (Direction.IN, SHORT, False, Service.SMS),
        (Direction.IN, "+12025550142", True, Service.IMESSAGE),
        (Direction.IN, "mom@example.com", True, Service.IMESSAGE),
        (Direction.OUT, "+12025550142~mom@example.com", True, Service.IMESSAGE),
    ]
    assert records[5].members == ("+12025550142", "mom@example.com")
    assert records[5].has_attachments and records[5].body == ""


def test_imazing_times_read_in_the_archive_zone_and_report(tmp_path: Path) -> None:
    path = tmp_path / "acme.csv"
    path.write_bytes(imazing_csv(_us_rows()))
    messages = read_archives([path], archive_timezone="America/New_York")
    assert messages.frame["timestamp"].iloc[0].isoformat() == "2025-03-01T15:00:00+00:00"  # EST
    later = messages.frame.loc[messages.frame["body"] == US_AD2, "timestamp"].iloc[0]
    assert later.isoformat() == "2025-03-25T22:30:00+00:00"  # EDT
    result = runner.invoke(
        app,
        ["--region", "US", "report", str(path), "--archive-timezone", "America/New_York", "--format", "json"],
    )
    assert result.exit_code == 0, result.stderr
    kinds = [(f["kind"], f["address"], f["body"]) for f in json.loads(result.stdout)["findings"]]
    assert ("violation", SHORT, US_AD2) in kinds


def test_imazing_import_summary_and_reimport(tmp_path: Path) -> None:
    path = tmp_path / "acme.csv"
    path.write_bytes(imazing_csv(_us_rows(), 15))
    db = tmp_path / "s.sqlite"
    first = runner.invoke(app, ["--db", str(db), "--region", "US", "import", str(path)])
    assert first.exit_code == 0, first.stderr
    assert first.stderr.splitlines()[0] == (
        f"{path}: CSV export (iMazing, QQ同步助手, or any CSV with --csv-map): read 6, new 6, "
        "already present 0, skipped 0, excluded 1 non-messages; local times read in America/New_York "
        "(main zone of region US)"
    )
    second = runner.invoke(app, ["--db", str(db), "--region", "US", "import", str(path)])
    assert "read 6, new 0, already present 6, skipped 0" in second.stderr.splitlines()[0]


# --- QQ同步助手 ---------------------------------------------------------------------------------

QQ_ROWS = [
    (
        "【京东】您的订单已发货",
        "",
        "1069012345",
        "2025/08/30 09:00:00",
        "收件箱",
    ),  # a port that looks like an epoch
    (AD1, "", PORT, "2025/09/01 11:24:00", "收件箱"),
    ('周末一起吃饭吗？\n"老地方"见', "小王", "13900001111", "2025/09/05 09:30:00", "收件箱"),
    ("TD", "", PORT, "2025/09/10 20:15:00", "发件箱"),
    ("还没写完", "小王", "13900001111", "2025/09/11 08:00:00", "草稿箱"),
    (AD2, "", PORT, "2025/09/13 11:00:00", "收件箱"),
]


@pytest.mark.parametrize(
    ("header", "order"),
    [
        (("内容", "姓名", "号码", "时间", "类型"), (0, 1, 2, 3, 4)),
        (None, (0, 1, 2, 3, 4)),  # no header row
        (
            ("短信内容", "联系人", "手机号码", "发送时间", "短信类型"),
            (4, 2, 1, 3, 0),
        ),  # other header, other order
    ],
)
def test_qq_gbk_matched_on_content(
    tmp_path: Path, header: tuple[str, ...] | None, order: tuple[int, ...]
) -> None:
    path = tmp_path / "sms.csv"
    path.write_bytes(qq_csv(QQ_ROWS, header=header, order=order))
    records, stats = _records(path)
    assert stats.details == {"encoding": "gb18030 (detected)", "csv_layout": "QQ同步助手"}
    assert [(r.direction, r.address_raw, r.body) for r in records] == [
        (Direction.IN, "1069012345", "【京东】您的订单已发货"),
        (Direction.IN, PORT, AD1),
        (Direction.IN, "13900001111", '周末一起吃饭吗？\n"老地方"见'),
        (Direction.OUT, PORT, "TD"),
        (Direction.DRAFT, "13900001111", "还没写完"),
        (Direction.IN, PORT, AD2),
    ]
    assert records[3].timestamp_us == _wall("2025-09-10 20:15:00") and records[3].local_time
    assert records[3].message_id == make_message_id(
        "csv", PORT, "out", f"{_wall('2025-09-10 20:15:00')}L", "TD"
    )
    assert records[0].source_record == ("line 2" if header else "line 1")


def test_qq_report_finds_the_violation(tmp_path: Path) -> None:
    path = tmp_path / "sms.csv"
    path.write_bytes(qq_csv(QQ_ROWS))
    result = runner.invoke(app, ["report", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["kind"], f["timestamp"], f["body"]) for f in findings if f["kind"] == "violation"] == [
        ("violation", "2025-09-13T03:00:00.000Z", AD2)
    ]


# --- any other CSV: --csv-map -------------------------------------------------------------------

HEADER = ["Time", "Folder", "Number", "Content", "Contact"]
ROWS = [
    ["2025-09-01 11:24", "Received", PORT, AD1, ""],
    ["2025-09-10 20:15", "已发送", PORT, "TD", ""],
    ["2025-09-13 11:00", "Received", PORT, AD2, ""],
    ["2025-09-14 11:00", "Archived", PORT, "odd folder", ""],
]


def test_unknown_csv_names_its_columns_and_shows_a_map(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(plain_csv(HEADER, ROWS))
    with pytest.raises(UnsupportedArchive) as info:
        _records(path)
    assert (
        str(info.value)
        == f"{path}: a CSV whose columns match no known export (columns: Time, Folder, Number, Content, Contact)"
    )
    assert info.value.hint == (
        "say which column is which: sms-audit import export.csv "
        "--csv-map 'date=Time,direction=Folder,address=Number,body=Content'"
    )
    result = runner.invoke(app, ["--db", str(tmp_path / "s.sqlite"), "import", str(path)])
    assert result.exit_code == 3
    assert result.stderr.splitlines()[:2] == [
        f"error: {path}: a CSV whose columns match no known export (columns: Time, Folder, Number, Content, Contact)",
        (
            "hint: say which column is which: sms-audit import export.csv "
            "--csv-map 'date=Time,direction=Folder,address=Number,body=Content'"
        ),
    ]


def test_csv_map_by_name_number_and_constant(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(plain_csv(HEADER, ROWS))
    records, stats = _records(path, "date=time,direction=FOLDER,address=Number,body=Content")
    assert [(r.direction, r.body, r.timestamp_us) for r in records] == [
        (Direction.IN, AD1, _wall("2025-09-01 11:24:00")),
        (Direction.OUT, "TD", _wall("2025-09-10 20:15:00")),
        (Direction.IN, AD2, _wall("2025-09-13 11:00:00")),
        (Direction.OTHER, "odd folder", _wall("2025-09-14 11:00:00")),
    ]
    assert stats.details["csv_layout"] == "--csv-map"
    assert stats.warnings == [
        "direction 'Archived' (1 row) is not a known word: read as 'other', never as an unsubscribe"
    ]
    by_number, _ = _records(path, "date=1,direction=#2,address=3,body=4")
    assert [r.message_id for r in by_number] == [r.message_id for r in records]
    constant, _ = _records(path, "date=Time,direction=in,address=Number,body=Content")
    assert {r.direction for r in constant} == {Direction.IN}


def test_csv_map_date_format_epochs_and_offsets(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(
        plain_csv(
            ["when", "dir", "who", "what"],
            [["13/09/2025 11:00", "1", PORT, "a"], ["01/10/2025 08:05", "2", PORT, "b"]],
        )
    )
    records, _ = _records(path, "date=when,direction=dir,address=who,body=what,date_format=%d/%m/%Y %H:%M")
    assert [r.timestamp_us for r in records] == [_wall("2025-09-13 11:00:00"), _wall("2025-10-01 08:05:00")]
    with pytest.raises(CorruptArchive) as info:
        _records(path, "date=when,direction=dir,address=who,body=what")
    assert info.value.message == "no row has a date sms-audit understands"
    assert info.value.hint == "give its format: --csv-map '…,date_format=%d/%m/%Y %H:%M' (strptime codes)"
    # epoch ms and ISO with an offset are UTC; an SMS with an exact UTC time gets the provider id
    utc = tmp_path / "u.csv"
    utc.write_bytes(
        plain_csv(
            ["date", "type", "address", "body"],
            [["1757506500000", "2", PORT, "TD"], ["2025-09-13T11:00:00+08:00", "1", PORT, AD2]],
        )
    )
    records, _ = _records(utc, "date=date,direction=type,address=address,body=body")
    assert records[0].message_id == sms_message_id(PORT, Direction.OUT, 1757506500000, "TD")
    assert [(r.timestamp_us, r.local_time) for r in records] == [
        (1757506500000 * 1000, False),
        (_wall("2025-09-13 03:00:00"), False),
    ]
    sbr = tmp_path / "sms.xml"
    sbr.write_text(fixtures_sbr.document(fixtures_sbr.sms(PORT, 1757506500000, "TD", 2)), encoding="utf-8")
    both = read_archives([sbr, utc], csv_map="date=date,direction=type,address=address,body=body")
    assert [a.duplicates for a in both.archives] == [0, 1]


def test_csv_map_errors(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(plain_csv(HEADER, ROWS))
    with pytest.raises(UsageError) as missing:
        _records(path, "date=Time,direction=Folder,address=Phone,body=Content")
    assert missing.value.message == (
        "--csv-map: no column 'Phone' in this CSV (columns: Time, Folder, Number, Content, Contact)"
    )
    for bad, message in [
        ("date=Time", "error: --csv-map needs direction, address, body"),
        (
            "date=Time,direction=Folder,address=Number,body=Content,colour=red",
            "error: --csv-map: unknown key 'colour'",
        ),
        ("date", "error: --csv-map: 'date' is not KEY=COLUMN"),
    ]:
        result = runner.invoke(
            app, ["--db", str(tmp_path / "s.sqlite"), "import", str(path), "--csv-map", bad]
        )
        assert result.exit_code == 2, bad
        assert result.stderr.splitlines()[0] == message
    result = runner.invoke(
        app, ["messages", str(path), "--csv-map", "date=Time,direction=Folder,address=Phone,body=Content"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: --csv-map: no column 'Phone'")


def test_csv_map_on_every_command(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(plain_csv(HEADER, ROWS[:3]))
    option = ["--csv-map", "date=Time,direction=Folder,address=Number,body=Content"]
    listed = runner.invoke(app, ["messages", str(path), *option])
    assert listed.exit_code == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 3
    report = runner.invoke(app, ["report", str(path), "--format", "json", *option])
    assert [f["kind"] for f in json.loads(report.stdout)["findings"]] == ["violation"]
    evidence = runner.invoke(app, ["evidence", "优选商城", str(path), "-o", str(tmp_path / "pack"), *option])
    assert evidence.exit_code == 0, evidence.stderr
    imported = runner.invoke(app, ["--db", str(tmp_path / "s.sqlite"), "import", str(path), *option])
    assert "read 3, new 3" in imported.stderr


def test_map_example_guesses_from_names() -> None:
    assert map_example(["时间", "类型", "号码", "内容"]) == "date=时间,direction=类型,address=号码,body=内容"
    assert map_example(["a", "b", "c", "d"]) == "date=a,direction=b,address=c,body=d"
    assert map_example(["x", "y"]) == "date=x,direction=y,address=3,body=4"
    # names that cannot be typed back inside '…' are given by their column number
    xml_line = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
    assert (
        map_example([xml_line, "Type", "Number", "Body"]) == "date=1,direction=Type,address=Number,body=Body"
    )
    assert map_example(["Time", "a,b", "Number", "x=y"]) == "date=Time,direction=2,address=Number,body=4"
    assert (
        map_example(["Time", "Type\x1b[2J", 'say "hi"', "Body"])
        == "date=Time,direction=2,address=3,body=Body"
    )


# --- encodings, dialects, damage ------------------------------------------------------------------


def test_utf16_tab_and_semicolon_files(tmp_path: Path) -> None:
    option = "date=Time,direction=Folder,address=Number,body=Content"
    for name, delimiter, encoding in (("tab.csv", "\t", "utf-16-le"), ("semi.csv", ";", "utf-8")):
        path = tmp_path / name
        path.write_bytes(plain_csv(HEADER, ROWS, delimiter=delimiter, encoding=encoding))
        assert csv_export.sniff(path), name
        records, _ = _records(path, option)
        assert [r.body for r in records] == [AD1, "TD", AD2, "odd folder"], name


def test_sniff_rejects_other_text(tmp_path: Path) -> None:
    samples = {
        "notes.txt": "Shopping list\nmilk, eggs\nbread\n",
        "sms.xml": '<?xml version="1.0"?><smses count="0"></smses>',
        "data.json": '[{"a": 1, "b": 2, "c": 3}]',
    }
    for name, text in samples.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert not csv_export.sniff(tmp_path / name), name
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 4)
    assert not csv_export.sniff(tmp_path / "bin.csv")


def test_truncated_last_row_keeps_complete_rows(tmp_path: Path) -> None:
    data = qq_csv(QQ_ROWS).decode("gbk")
    for cut_at in (data.index("还没写完") + 2, data.rindex("13900001111") + 3):
        path = tmp_path / "cut.csv"
        path.write_bytes(data[:cut_at].encode("gbk"))
        got: list[Record] = []
        with pytest.raises(TruncatedArchive) as info:
            got.extend(csv_export.read_records(path, ReadOptions(), ReadStats()))
        assert [r.body for r in got] == ["【京东】您的订单已发货", AD1, '周末一起吃饭吗？\n"老地方"见', "TD"]
        assert str(info.value) == f"{path}: read 4 records; the last row (line 7) is cut short"


def test_broken_rows_in_the_middle_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    rows = [
        ROWS[0],
        ["2025-09-05 10:00", "Received"],
        ["2025-09-06 10:00", "Received", PORT, "x", ""],
        ROWS[2],
    ]
    path.write_bytes(plain_csv(HEADER, rows).replace(b",x,", b",x\ry,"))  # a bare CR in an unquoted field
    records, stats = _records(path, "date=Time,direction=Folder,address=Number,body=Content")
    assert [r.body for r in records] == [AD1, AD2]
    assert stats.skip_summary() == [
        "skipped 1 record: row with fewer columns than the header",
        "skipped 1 record: unreadable CSV row (new-line character seen in unquoted field)",
    ]


def test_huge_line_is_a_clear_error_after_the_rows_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_textfile, "MAX_LINE_CHARS", 2000)
    path = tmp_path / "big.csv"
    path.write_bytes(
        plain_csv(HEADER, [ROWS[0], ["2025-09-02 10:00", "Received", PORT, "z" * 5000, ""], ROWS[2]])
    )
    got: list[Record] = []
    options = ReadOptions(csv_map=parse_csv_map("date=Time,direction=Folder,address=Number,body=Content"))
    with pytest.raises(CorruptArchive) as info:
        got.extend(csv_export.read_records(path, options, ReadStats()))
    assert [r.body for r in got] == [AD1]
    assert info.value.message == "line 3 is longer than 2,000 characters; the rows before it were read"


def test_direction_words_are_documented_data() -> None:
    assert all(source for _word, _direction, source in DIRECTION_WORDS)
    assert len({w.casefold() for w, _d, _s in DIRECTION_WORDS}) == len(DIRECTION_WORDS)
    assert direction_of(" 收件箱 ") is Direction.IN
    assert direction_of("Read, Received") is Direction.IN
    assert direction_of("Outgoing") is Direction.OUT
    assert direction_of("nonsense") is None


# --- properties ---------------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=200)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_TEXT)
def test_property_bodies_round_trip(tmp_path: Path, body: str) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(plain_csv(HEADER, [ROWS[0], ["2025-09-05 10:00", "Received", PORT, body, ""], ROWS[2]]))
    records, _ = _records(path, "date=Time,direction=Folder,address=Number,body=Content")
    assert [r.body for r in records] == [AD1, body, AD2]


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_property_any_input_raises_only_typed_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.csv"
    for payload in (data, b"Time,Folder,Number,Content\n" + data):
        path.write_bytes(payload)
        for csv_map in (None, "date=Time,direction=Folder,address=Number,body=Content"):
            try:
                _records(path, csv_map)
            except SmsAuditError:
                pass


@pytest.mark.parametrize(
    "hostile",
    ["\x1b[31mred\x1b[0m", "ring\x07", "\x1b]8;;https://x.example\x07link\x1b]8;;\x07", "a\x0bb\x0cc"],
)
def test_control_characters_in_a_body_do_not_make_the_csv_binary(tmp_path: Path, hostile: str) -> None:
    """Escape codes and bells inside message text are text: the file is still a CSV (with or
    without --csv-map), and the body keeps them."""
    path = tmp_path / "export.csv"
    path.write_bytes(plain_csv(HEADER, [*ROWS[:2], ["2025-09-13 11:00", "Received", PORT, hostile, ""]]))
    assert csv_export.sniff(path)
    records, _ = _records(path, "date=Time,direction=Folder,address=Number,body=Content")
    assert [r.body for r in records] == [AD1, "TD", hostile]


def test_binary_with_a_csv_look_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(plain_csv(HEADER, ROWS) + b"\x00" * 64)
    assert not csv_export.sniff(path)
