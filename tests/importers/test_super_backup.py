"""Super Backup (超级备份) importer: fields, ids shared with SB&R, broken records, truncation, properties."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sms_audit.cli import app
from sms_audit.errors import SmsAuditError, TruncatedArchive
from sms_audit.importers import ReadOptions, ReadStats, detect, super_backup
from sms_audit.model import Record, sms_message_id
from sms_audit.pipeline import read_archives
from sms_audit.schema import Direction, Service
from tests import fixtures_sbr
from tests.fixtures_super_backup import document, sms

runner = CliRunner()
PORT = "10690123456701"
AD1 = "【优选商城】会员日全场满199减50，戳 yx.example.cn/s/1001 回T退订"
AD2 = "【优选商城】限时秒杀：智能手表仅需99元，戳 yx.example.cn/s/1004 回T退订"
FRIEND = "+8613900001111"
CHAT = '他说"明天见"，我说 <好> & 😀\n第二行'
T0 = 1756697040000  # 2025-09-01T03:24:00Z
T_TD = 1757506500000  # 2025-09-10T12:15:00Z (20:15 in Shanghai)
T_AD2 = 1757732400000  # 2025-09-13T03:00:00Z


def _cn_user() -> list[str]:
    return [
        sms(PORT, T0, AD1, 1),
        sms(FRIEND, T0 + 86_400_000, CHAT, 1, name="小王"),
        sms(PORT, T_TD, "TD", 2),
        sms(PORT, T_AD2, AD2, 1),
    ]


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _records(path: Path) -> tuple[list[Record], ReadStats]:
    stats = ReadStats()
    return list(super_backup.read_records(path, ReadOptions(), stats)), stats


def test_every_field(tmp_path: Path) -> None:
    path = _write(tmp_path / "sms_20250930.xml", document(*_cn_user()))
    assert detect(path).NAME == "super_backup_xml"
    records, stats = _records(path)
    assert (stats.read, stats.skipped, stats.warnings) == (4, 0, [])
    assert stats.details == {"encoding": "utf-8 (declared)"}
    assert records[1] == Record(
        message_id=sms_message_id(FRIEND, Direction.IN, T0 + 86_400_000, CHAT),
        source_record="sms#2",
        direction=Direction.IN,
        timestamp_us=(T0 + 86_400_000) * 1000,
        address_raw=FRIEND,
        body=CHAT,
        service=Service.SMS,
    )
    assert [(r.direction, r.address_raw, r.body) for r in records] == [
        (Direction.IN, PORT, AD1),
        (Direction.IN, FRIEND, CHAT),
        (Direction.OUT, PORT, "TD"),
        (Direction.IN, PORT, AD2),
    ]
    frame = read_archives([path]).frame
    assert frame["timestamp"].iloc[2].isoformat() == "2025-09-10T12:15:00+00:00"
    assert frame["is_group"].tolist() == [False] * 4
    assert "archive_timezone" not in read_archives([path]).archives[0].details  # UTC ms: no zone needed


def test_same_message_in_sbr_and_super_backup_is_stored_once(tmp_path: Path) -> None:
    sbr = tmp_path / "sms-20250930.xml"
    sbr.write_text(
        fixtures_sbr.document(
            fixtures_sbr.sms(PORT, T0, AD1, 1),
            fixtures_sbr.sms(FRIEND, T0 + 86_400_000, CHAT, 1),
            fixtures_sbr.sms(PORT, T_TD, "TD", 2),
        ),
        encoding="utf-8",
    )
    super_file = _write(tmp_path / "sms_super.xml", document(*_cn_user()))
    messages = read_archives([sbr, super_file])
    assert len(messages.frame) == 4
    assert [a.duplicates for a in messages.archives] == [0, 3]
    db = tmp_path / "store.sqlite"
    runner.invoke(app, ["--db", str(db), "import", str(sbr)])
    second = runner.invoke(app, ["--db", str(db), "import", str(super_file)])
    assert second.exit_code == 0, second.stderr
    assert second.stderr.splitlines()[0] == (
        f"{super_file}: {super_backup.DESCRIPTION}: read 4, new 1, already present 3, skipped 0"
    )


def test_cli_import_summary_and_reimport(tmp_path: Path) -> None:
    path = _write(tmp_path / "sms.xml", document(*_cn_user()))
    db = tmp_path / "store.sqlite"
    first = runner.invoke(app, ["--db", str(db), "import", str(path)])
    assert first.exit_code == 0, first.stderr
    assert first.stderr.splitlines()[0] == (
        f"{path}: Super Backup (超级备份) SMS XML (<allsms>): read 4, new 4, already present 0, skipped 0"
    )
    second = runner.invoke(app, ["--db", str(db), "import", str(path)])
    assert second.stderr.splitlines()[0].endswith("read 4, new 0, already present 4, skipped 0")


@pytest.mark.parametrize(
    ("raw_body", "expected"),
    [
        ('他说"明天见" read="假的" 好', '他说"明天见" read="假的" 好'),  # a fake `" read="` inside the body
        ("<b>bold</b> & a<b & c>d", "<b>bold</b> & a<b & c>d"),  # raw < and &
        ('smile /> and "quoted" />', 'smile /> and "quoted" />'),
        ("line one\nline two\r\nthree", "line one\nline two\r\nthree"),  # raw line breaks
        ("&#55357;&#56832; &#10;x &#x4F60; &amp;amp; &copy; &#55357;z", "😀 \nx 你 &amp; &copy; \ufffdz"),
        ("", ""),
    ],
)
def test_body_shapes(tmp_path: Path, raw_body: str, expected: str) -> None:
    text = document(
        sms(PORT, T0, "before", 1),
        sms(PORT, T0 + 1000, raw_body, 1, raw=True),
        sms(PORT, T0 + 2000, "after", 1),
    )
    records, stats = _records(_write(tmp_path / "s.xml", text))
    assert [r.body for r in records] == ["before", expected, "after"]
    assert stats.skipped == 0


def test_broken_records_cost_only_themselves(tmp_path: Path) -> None:
    good = sms(PORT, T0, "one", 1)
    no_body = f'\t<sms address="{PORT}" time="x" date="{T0 + 1}" type="1" read="1" />\n'
    no_date = (
        f'\t<sms address="{PORT}" time="x" type="1" body="no date" read="1" service_center="" name="" />\n'
    )
    bad_date = sms(PORT, T0, "huge date", 1).replace(f'date="{T0}"', 'date="99999999999999999"')
    unclosed = f'\t<sms address="{PORT}" time="x" date="{T0 + 2}" type="1" body="unclosed\n'
    other_order = f'\t<sms date="{T0 + 3}" type="2" address="{PORT}" read="1" body="body "last" />\n'
    text = document(good, no_body, no_date, bad_date, unclosed, other_order, sms(PORT, T0 + 9000, "after", 1))
    records, stats = _records(_write(tmp_path / "b.xml", text))
    assert [(r.body, r.direction) for r in records] == [
        ("one", Direction.IN),
        ('body "last', Direction.OUT),
        ("after", Direction.IN),
    ]
    assert stats.skip_summary() == [
        "skipped 1 record: malformed <sms> element (no body attribute)",
        "skipped 1 record: no date",
        "skipped 1 record: date outside 1990–2100 in every unit (s, ms, µs, ns)",
        "skipped 1 record: malformed <sms> element (its body never ends)",
    ]


def test_truncated_inside_a_record(tmp_path: Path) -> None:
    text = document(*_cn_user())
    path = _write(tmp_path / "cut.xml", text[: text.index("限时秒杀")])
    got: list[Record] = []
    with pytest.raises(TruncatedArchive) as info:
        got.extend(super_backup.read_records(path, ReadOptions(), ReadStats()))
    assert [r.body for r in got] == [AD1, CHAT, "TD"]
    assert info.value.records_read == 3
    assert str(info.value) == f"{path}: read 3 records; the file ends inside the <sms> record at line 6"


def test_truncated_between_records_and_count_mismatch(tmp_path: Path) -> None:
    text = document(*_cn_user())
    path = _write(tmp_path / "cut.xml", text[: text.index("</allsms>")])
    got: list[Record] = []
    with pytest.raises(
        TruncatedArchive,
        match=r"read 4 records; the file ends after the <sms> record at line 6 without </allsms>",
    ):
        got.extend(super_backup.read_records(path, ReadOptions(), ReadStats()))
    assert len(got) == 4
    records, stats = _records(_write(tmp_path / "count.xml", document(*_cn_user(), count=9)))
    assert len(records) == 4
    assert stats.warnings == ["the file says it holds 9 messages but 4 records were found"]


def test_cli_truncated_exit_3(tmp_path: Path) -> None:
    text = document(*_cn_user())
    path = _write(tmp_path / "cut.xml", text[: text.index("限时秒杀")])
    result = runner.invoke(app, ["--db", str(tmp_path / "s.sqlite"), "import", str(path)])
    assert result.exit_code == 3
    assert "read 3, new 3, already present 0, skipped 0 (truncated)" in result.stderr
    assert "Traceback" not in result.stderr


def test_encodings_and_sniffing(tmp_path: Path) -> None:
    records = _cn_user()
    chat = '他说"明天见"，我说 <好>\n第二行'
    gbk = document(records[0], sms(FRIEND, T0, chat)).replace('encoding="UTF-8"', 'encoding="GBK"')
    path = _write(tmp_path / "gbk.xml", gbk, "gbk")
    got, stats = _records(path)
    assert stats.details["encoding"] == "gb18030 (declared)"
    assert got[1].body == '他说"明天见"，我说 <好>\n第二行'
    wide = _write(tmp_path / "wide.xml", "\ufeff" + document(*records), "utf-16-le")
    assert super_backup.sniff(wide)
    assert [r.body for r in _records(wide)[0]] == [AD1, CHAT, "TD", AD2]
    sbr = _write(tmp_path / "sbr.xml", fixtures_sbr.document(fixtures_sbr.sms(PORT, T0, "x")))
    assert not super_backup.sniff(sbr)
    assert not super_backup.sniff(tmp_path)


def test_report_finds_the_violation(tmp_path: Path) -> None:
    path = _write(tmp_path / "sms.xml", document(*_cn_user()))
    result = runner.invoke(app, ["report", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["kind"], f["brand_display"], f["timestamp"], f["body"]) for f in findings] == [
        ("violation", "优选商城", "2025-09-13T03:00:00.000Z", AD2)
    ]


# --- properties ---------------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
_START = re.compile(r"<sms\s+[A-Za-z_]")
_REF = re.compile(r"&(#|amp;|lt;|gt;|quot;|apos;)")


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_TEXT)
def test_property_escaped_bodies_round_trip(tmp_path: Path, body: str) -> None:
    expected = "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else "\ufffd" for c in body)
    expected = "".join("\ufffd" if c in "\ufffe\uffff" else c for c in expected)
    text = document(sms(PORT, T0, body, 1), sms(PORT, T0 + 1, "after", 1))
    records, _ = _records(_write(tmp_path / "p.xml", text))
    assert [r.body for r in records] == [expected.replace("\x00", "\ufffd"), "after"]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_TEXT.filter(lambda b: not _START.search(b) and not _REF.search(b)))
def test_property_raw_bodies_round_trip(tmp_path: Path, body: str) -> None:
    text = document(sms(PORT, T0, body, 1, raw=True), sms(PORT, T0 + 1, "after", 1))
    records, _ = _records(_write(tmp_path / "p.xml", text))
    assert [r.body for r in records] == [body, "after"]


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), text=_TEXT)
def test_property_any_input_raises_only_typed_errors(tmp_path: Path, data: bytes, text: str) -> None:
    for payload in (
        b'<allsms count="1">\n<sms address="' + data,
        ('<allsms>\n<sms address="1" body="' + text).encode(),
    ):
        path = tmp_path / "f.xml"
        path.write_bytes(payload)
        try:
            _records(path)
        except SmsAuditError:
            pass


@pytest.mark.parametrize(
    ("written", "body"),
    [
        ("a\ufffeb", "a\ufffdb"),  # raw noncharacters, which XML forbids: as the SB&R reader reads them
        ("\uffff", "\ufffd"),
        ("x&#xFFFE;y&#65535;", "x\ufffdy\ufffd"),  # and as references
        ("\ufffd kept", "\ufffd kept"),
    ],
)
def test_noncharacters_become_the_replacement_character(tmp_path: Path, written: str, body: str) -> None:
    text = document(sms(PORT, T0, written, 1, raw=True), sms(PORT, T0 + 1, "after", 1))
    records, _ = _records(_write(tmp_path / "n.xml", text))
    assert [r.body for r in records] == [body, "after"]
