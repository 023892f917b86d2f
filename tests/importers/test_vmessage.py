"""vMessage importer: every field, body encodings, groups, local times, damage, and ColorOS 12+ decryption."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sms_audit.cli import app
from sms_audit.errors import CorruptArchive, SmsAuditError, TruncatedArchive, UnsupportedArchive
from sms_audit.importers import ReadOptions, ReadStats, _textfile, detect, vmessage
from sms_audit.importers.vmessage import decode_qp
from sms_audit.model import Record, make_message_id
from sms_audit.pipeline import read_archives
from sms_audit.schema import Direction, Service
from tests.fixtures_vmsg import IV, RANDOM, cn_user, document, qp_encode, record, write, write_coloros_backup

runner = CliRunner()
PORT = "10690123456701"
AD1 = "【优选商城】会员日全场满199减50，戳 yx.example.cn/s/1001 回T退订"
AD2 = "【优选商城】限时秒杀：智能手表仅需99元，戳 yx.example.cn/s/1004 回T退订"
FRIEND = "+8613900001111"


def _cn_user(style: str = "oppo") -> str:
    """A +86 user: a marketing port, the user's TD reply, later marketing, and a friend."""
    return cn_user(PORT, FRIEND, AD1, AD2, style=style)


def _records(path: Path) -> tuple[list[Record], ReadStats]:
    stats = ReadStats()
    return list(vmessage.read_records(path, ReadOptions(), stats)), stats


def _starts(text: str) -> list[int]:
    """Line numbers of the BEGIN:VMSG lines."""
    return [n for n, line in enumerate(text.splitlines(), start=1) if line == "BEGIN:VMSG"]


def _wall(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1_000_000)


@pytest.mark.parametrize("style", ["oppo", "mtk", "zte"])
def test_every_field_of_a_cn_users_file(tmp_path: Path, style: str) -> None:
    path = write(tmp_path / "sms.vmsg", _cn_user(style))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert detect(path).NAME == "vmsg"
    records, stats = _records(path)
    assert (stats.read, stats.skipped, stats.excluded) == (4, 0, 0)
    assert stats.details == {"encoding": "utf-8 (UTF-8)"}
    assert records[2] == Record(
        message_id=make_message_id("vmsg", PORT, "out", f"{_wall('2025-09-10 20:15:00')}L", "TD"),
        source_record=f"sms.vmsg:{_starts(_cn_user(style))[2]}",
        direction=Direction.OUT,
        timestamp_us=_wall("2025-09-10 20:15:00"),
        address_raw=PORT,
        body="TD",
        service=Service.SMS,
        local_time=True,
    )
    assert [r.body for r in records] == [AD1, "周末一起吃饭吗？\n老地方见 😀", "TD", AD2]
    assert [r.direction for r in records] == [Direction.IN, Direction.IN, Direction.OUT, Direction.IN]
    assert [r.address_raw for r in records] == [PORT, FRIEND, PORT, PORT]
    assert not any(r.is_group for r in records)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # read-only


def test_local_times_become_utc_in_the_archive_zone(tmp_path: Path) -> None:
    path = write(tmp_path / "sms.vmsg", _cn_user())
    messages = read_archives([path])
    frame = messages.frame
    assert messages.region.code == "CN"
    assert frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").tolist() == [
        "2025-09-01T03:24:00Z",
        "2025-09-05T01:30:00Z",
        "2025-09-10T12:15:00Z",
        "2025-09-13T03:00:00Z",
    ]
    assert frame["address"].tolist() == [PORT, FRIEND, PORT, PORT]
    assert frame["sender_kind"].tolist()[:2] == ["cn_commercial_port", "mobile"]
    assert messages.archives[0].details["archive_timezone"] == "Asia/Shanghai"
    assert messages.archives[0].details["archive_timezone_source"] == "main zone of region CN"
    tokyo = read_archives([path], archive_timezone="Asia/Tokyo").frame
    assert tokyo["timestamp"].iloc[2].isoformat() == "2025-09-10T11:15:00+00:00"
    # the id does not depend on the zone: a re-import with a corrected zone finds the same messages
    assert tokyo["message_id"].tolist() == frame["message_id"].tolist()


@pytest.mark.parametrize(
    ("subject", "body", "crlf_body"),
    [
        # real QP: soft breaks that split a UTF-8 character, =0A for a newline, raw trailing space
        (
            "Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:=D0=9A=D0=BE=D0=\n=B4 7423=0A=D0=94 ",
            "Код 7423\nД ",
            None,
        ),
        (
            "Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Love you =F0=9F=\n=98=98=\n ",
            "Love you 😘 ",
            None,
        ),
        # declared QP, written raw (MediaTek): Chinese text, '=' signs and line breaks stay as written
        (
            "Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:验证码=8843，a=1&b=2\n第二行=\n完",
            "验证码=8843，a=1&b=2\n第二行=\n完",
            "验证码=8843，a=1&b=2\r\n第二行=\r\n完",
        ),
        # declared QP, ASCII written raw: a lone =E4 is no valid UTF-8, so it is kept
        ("Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Code=E4 x=1", "Code=E4 x=1", None),
        # soft break inside raw ASCII (athg2sms 'johnPierre')
        (
            "Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:tap this link to verify=\n your device",
            "tap this link to verify your device",
            None,
        ),
        # MediaTek's escape of a literal END:VBODY line inside a body
        (
            "Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:上一行\n/END:VBODY\n下一行",
            "上一行\nEND:VBODY\n下一行",
            "上一行\r\nEND:VBODY\r\n下一行",
        ),
        # plain Subject (ZTE), a colon in the text
        ("Subject:Time: 10:30, room 2", "Time: 10:30, room 2", None),
        # another charset, and a bare QUOTED-PRINTABLE parameter (vCard 2.1)
        ("Subject;CHARSET=GBK;QUOTED-PRINTABLE:=C4=E3=BA=C3", "你好", None),
        ("Subject;ENCODING=BASE64;CHARSET=UTF-8:5L2g5aW9", "你好", None),
        ("Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:", "", None),
    ],
)
def test_body_encodings(tmp_path: Path, subject: str, body: str, crlf_body: str | None) -> None:
    text = (
        "BEGIN:VMSG\nVERSION:1.1\nBEGIN:VCARD\nTEL:95588\nEND:VCARD\nBEGIN:VBODY\nX-BOX:INBOX\n"
        f"Date:2024/03/01 08:00:00\n{subject}\nEND:VBODY\nEND:VMSG\n"
    )
    for crlf, expected in ((False, body), (True, crlf_body or body)):
        path = write(tmp_path / "b.vmsg", document(text, crlf=crlf))
        records, _ = _records(path)
        assert [r.body for r in records] == [expected], crlf


def test_bom_utf16_and_gb18030_files(tmp_path: Path) -> None:
    text = _cn_user("mtk")
    for name, encoding, bom in (
        ("bom.vmsg", "utf-8", True),
        ("wide.vmsg", "utf-16-le", True),
        ("gbk.vmsg", "gb18030", False),
    ):
        path = write(tmp_path / name, text.replace(" 😀", ""), encoding=encoding, bom=bom)
        assert vmessage.sniff(path), name
        records, stats = _records(path)
        assert [r.body for r in records][:2] == [AD1, "周末一起吃饭吗？\n老地方见"], name
        assert stats.warnings == []
    assert _records(tmp_path / "gbk.vmsg")[1].details["encoding"] == "gb18030 (detected)"


def test_dates_in_other_shapes(tmp_path: Path) -> None:
    shapes = {
        "2016-01-05T19:03:14": (_wall("2016-01-05 19:03:14"), True),  # Windows Phone exporter, ISO
        "2016-01-05 19:03": (_wall("2016-01-05 19:03:00"), True),
        "05.01.2016 19:03:14": (_wall("2016-01-05 19:03:14"), True),  # Nokia day.month.year
        "2016/01/05 24:00:00": (_wall("2016-01-06 00:00:00"), True),  # Java "kk": midnight as 24
        "2016-01-05T19:03:14+08:00": (_wall("2016-01-05 11:03:14"), False),
        "2016-01-05T11:03:14Z": (_wall("2016-01-05 11:03:14"), False),
    }
    text = document(*(record("95588", date, f"m{i}") for i, date in enumerate(shapes)))
    records, _ = _records(write(tmp_path / "d.vmsg", text))
    assert [(r.timestamp_us, r.local_time) for r in records] == list(shapes.values())


def test_boxes_and_skips(tmp_path: Path) -> None:
    text = document(
        record("95588", "2024/01/01 10:00:00", "a", "SENDBOX"),
        record("95588", "2024/01/01 10:00:01", "b", "SENT"),
        record("95588", "2024/01/01 10:00:02", "c", "OUTBOX"),
        record("95588", "2024/01/01 10:00:03", "d", "DRAFT"),
        record("95588", "2024/01/01 10:00:04", "e", "WEIRD"),
        record("", "2024/01/01 10:00:05", "no address"),
        record("95588", "yesterday", "bad date"),
    )
    records, stats = _records(write(tmp_path / "x.vmsg", text))
    assert [(r.body, r.direction) for r in records] == [
        ("a", Direction.OUT),
        ("b", Direction.OUT),
        ("c", Direction.FAILED),
        ("d", Direction.DRAFT),
        ("e", Direction.OTHER),
    ]
    assert stats.skipped == 2
    assert stats.skip_summary() == [
        "skipped 1 record: no address (TEL)",
        "skipped 1 record: date not understood",
    ]


def test_group_messages(tmp_path: Path) -> None:
    text = document(
        record(["+8613900001111", "+8613900002222"], "2024/05/01 12:00:00", "大家好", "SENDBOX"),
        record("+8613900001111;+8613900002222", "2024/05/01 12:01:00", "TD", "SENDBOX"),
        record(["+8613900001111", "+8613900002222"], "2024/05/01 12:02:00", "收到", "INBOX"),
        record(
            "+8613900001111",
            "2024/05/01 12:03:00",
            "hi all",
            "INBOX",
            env=["+8613900002222", "+8613900003333"],
        ),
    )
    path = write(tmp_path / "g.vmsg", text)
    records, _ = _records(path)
    assert [(r.is_group, r.address_raw, r.members) for r in records] == [
        (True, "+8613900001111~+8613900002222", ("+8613900001111", "+8613900002222")),
        (True, "+8613900001111~+8613900002222", ("+8613900001111", "+8613900002222")),
        (True, "+8613900001111", ("+8613900001111", "+8613900002222")),
        (True, "+8613900001111", ("+8613900001111", "+8613900002222", "+8613900003333")),
    ]
    frame = read_archives([path]).frame
    assert frame["thread_key"].iloc[0] == "+8613900001111~+8613900002222"
    assert frame["address"].iloc[1] == "+8613900001111~+8613900002222"  # a group, not a sender
    assert frame["sender_kind"].iloc[1] == "group"
    assert frame["address"].iloc[2] == "+8613900001111"  # the author of an incoming group message
    assert frame["is_group"].tolist() == [True] * 4


def test_mms_parts(tmp_path: Path) -> None:
    text = (
        "BEGIN:VMSG\nVERSION:1.1\nBEGIN:VCARD\nTEL:+8613900001111\nEND:VCARD\nBEGIN:VBODY\nX-BOX:INBOX\n"
        "Date:2018/02/11 17:11:52\nEND:VBODY\n"
        "BEGIN:VPART\nX-MMS-PART-CONTENT-TYPE:image/jpeg\nX-MMS-PART-NAME:IMG_1.jpg\nX-MMS-PART-DATA:aGVsbG8=\nEND:VPART\n"
        "BEGIN:VPART\nX-MMS-PART-CONTENT-TYPE:text/plain\nX-MMS-PART-DATA:5paw5bm05b+r5LmQ\nEND:VPART\nEND:VMSG\n"
        # ZTE: an MMS with no VCARD at all
        "BEGIN:VMSG\nDate:2018/02/11 17:11:52\nBEGIN:VPART\nX-MMS-PART-CONTENT-TYPE:text/plain\n"
        "X-MMS-PART-DATA:eA==\nEND:VPART\nEND:VMSG\n"
    )
    records, stats = _records(write(tmp_path / "m.vmsg", text))
    assert [(r.service, r.body, r.has_attachments) for r in records] == [(Service.MMS, "新年快乐", True)]
    assert stats.skip_summary() == ["skipped 1 record: MMS without any address"]


def test_truncated_file_keeps_complete_records(tmp_path: Path) -> None:
    text = _cn_user()
    path = write(tmp_path / "cut.vmsg", text[: text.rindex("Date:")])  # inside the 4th record
    got: list[Record] = []
    stats = ReadStats()
    with pytest.raises(TruncatedArchive) as info:
        got.extend(vmessage.read_records(path, ReadOptions(), stats))
    assert [r.body for r in got] == [AD1, "周末一起吃饭吗？\n老地方见 😀", "TD"]
    assert info.value.records_read == 3
    assert str(info.value) == (
        f"{path}: cut.vmsg: read 3 records; the file ends inside the record that starts at line {_starts(text)[3]}"
    )


def test_broken_record_costs_only_itself(tmp_path: Path) -> None:
    broken = record(PORT, "2025/09/02 10:00:00", "lost").replace("\nEND:VBODY\nEND:VMSG\n", "\n")
    text = document(
        record(PORT, "2025/09/01 10:00:00", "one"), broken, record(PORT, "2025/09/03 10:00:00", "three")
    )
    records, stats = _records(write(tmp_path / "b.vmsg", text))
    assert [r.body for r in records] == ["one", "three"]
    assert stats.skip_summary() == [
        "skipped 1 record: record cut short (no END:VBODY/END:VMSG before the next record)"
    ]
    missing_end = record(PORT, "2025/09/02 10:00:00", "kept").replace("END:VMSG\n", "")
    text = document(
        record(PORT, "2025/09/01 10:00:00", "one"), missing_end, record(PORT, "2025/09/03 10:00:00", "three")
    )
    assert [r.body for r in _records(write(tmp_path / "c.vmsg", text))[0]] == ["one", "kept", "three"]


def test_older_backup_folder_with_an_sms_subfolder(tmp_path: Path) -> None:
    folder = tmp_path / "backup" / "Data" / "2019-03-02-101500"
    (folder / "Sms").mkdir(parents=True)
    (folder / "Contact").mkdir()
    (folder / "Contact" / "contact.vcf").write_text("BEGIN:VCARD\nEND:VCARD\n", encoding="utf-8")
    write(folder / "Sms" / "sms.vmsg", _cn_user("mtk"))
    assert detect(folder).NAME == "vmsg"
    records, stats = _records(folder)
    assert len(records) == 4 and records[0].source_record == "Sms/sms.vmsg:1"
    assert stats.details["sha256_of"] == "Sms/sms.vmsg"
    assert not vmessage.sniff(tmp_path / "backup")  # the folder of backups stands for each one inside


def test_huge_lines_and_bodies_keep_memory_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_textfile, "MAX_LINE_CHARS", 1000)
    many_lines = "\n".join(["x" * 80] * 20)  # a 1,600-character body in short lines
    text = document(
        record(PORT, "2025/09/01 10:00:00", "one", style="mtk"),
        record(PORT, "2025/09/02 10:00:00", many_lines, style="mtk"),
        record(PORT, "2025/09/03 10:00:00", "three", style="mtk"),
        record(PORT, "2025/09/04 10:00:00", "y" * 5000, style="mtk"),  # one 5,000-character line
        record(PORT, "2025/09/05 10:00:00", "never read", style="mtk"),
    )
    got: list[Record] = []
    stats = ReadStats()
    with pytest.raises(CorruptArchive) as info:
        got.extend(vmessage.read_records(write(tmp_path / "big.vmsg", text), ReadOptions(), stats))
    assert [r.body for r in got] == ["one", "three"]
    assert stats.skip_summary() == ["skipped 1 record: body longer than 1,000 characters"]
    line = text.split("\n").index("Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:" + "y" * 5000) + 1
    assert info.value.message == f"big.vmsg: read 2 records; line {line} is longer than 1,000 characters"


def test_cli_import_summary_zone_and_reimport(tmp_path: Path) -> None:
    path = write(tmp_path / "sms.vmsg", _cn_user())
    db = tmp_path / "store.sqlite"
    first = runner.invoke(app, ["--db", str(db), "import", str(path)])
    assert first.exit_code == 0, first.stderr
    description = vmessage.DESCRIPTION
    assert first.stderr.splitlines()[0] == (
        f"{path}: {description}: read 4, new 4, already present 0, skipped 0; "
        "local times read in Asia/Shanghai (main zone of region CN)"
    )
    second = runner.invoke(app, ["--db", str(db), "import", str(path), "--archive-timezone", "Asia/Shanghai"])
    assert second.exit_code == 0
    # the same file (same SHA-256) is answered from the first import: its messages keep the zone
    # they were read in
    assert second.stderr.splitlines()[0] == (
        f"{path}: {description}: read 4, new 0, already present 4, skipped 0; "
        "local times read in Asia/Shanghai (main zone of region CN)"
    )
    imports = [
        json.loads(line) for line in runner.invoke(app, ["--db", str(db), "imports"]).stdout.splitlines()
    ]
    assert imports[0]["details"]["archive_timezone"] == "Asia/Shanghai"


def test_cli_import_truncated_file_exits_3_and_keeps_records(tmp_path: Path) -> None:
    text = _cn_user()
    path = write(tmp_path / "cut.vmsg", text[: text.rindex("Date:")])
    db = tmp_path / "store.sqlite"
    result = runner.invoke(app, ["--db", str(db), "import", str(path)])
    assert result.exit_code == 3
    assert "read 3, new 3, already present 0, skipped 0 (truncated)" in result.stderr
    assert f"warning: {path}: cut.vmsg: read 3 records; the file ends inside the record" in result.stderr
    assert "Traceback" not in result.stderr


def test_report_finds_the_violation(tmp_path: Path) -> None:
    path = write(tmp_path / "sms.vmsg", _cn_user())
    result = runner.invoke(app, ["report", str(path), "--format", "json", "--check"])
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    violations = [f for f in report["findings"] if f["kind"] == "violation"]
    assert [
        (f["brand_display"], f["timestamp"], f["unsubscribe_keyword"], f["body"]) for f in violations
    ] == [("优选商城", "2025-09-13T03:00:00.000Z", "TD", AD2)]
    assert violations[0]["unsubscribed_at"] == "2025-09-10T12:15:00.000Z"


# --- ColorOS 12+ encrypted backups --------------------------------------------------------------


def test_coloros_backup_folder_is_decrypted(tmp_path: Path) -> None:
    folder = write_coloros_backup(tmp_path / "2025-09-30-101500", _cn_user("mtk"))
    assert detect(folder).NAME == "vmsg"
    records, stats = _records(folder)
    assert [r.body for r in records] == [AD1, "周末一起吃饭吗？\n老地方见 😀", "TD", AD2]
    assert records[0].source_record == "Sms/sms.vmsg:1"
    assert stats.details == {
        "encryption": "ColorOS AES-256-CBC (EncryptInfo row 1)",
        "encoding": "utf-8 (UTF-8)",
        "vmsg_files": "1",
        "sha256": hashlib.sha256((folder / "Sms" / "sms.vmsg").read_bytes()).hexdigest(),
        "sha256_of": "Sms/sms.vmsg",
    }
    # the encrypted file inside the backup folder can be given directly too
    inner = folder / "Sms" / "sms.vmsg"
    assert detect(inner).NAME == "vmsg"
    assert [r.message_id for r in _records(inner)[0]] == [r.message_id for r in records]


def test_coloros_picks_the_key_that_decrypts(tmp_path: Path) -> None:
    # An older backup's values left in the database: the newest row is tried first and fails.
    folder = tmp_path / "bk"
    write_coloros_backup(
        folder, _cn_user(), rows=[("aaaaBBBBccccDDDDeeeeFFFFgggg1234", "1234567890123456789"), (RANDOM, IV)]
    )
    db = sqlite3.connect(folder / "backup_config_new.db")
    db.execute(
        "INSERT INTO EncryptInfo(random, iv) VALUES ('zzzzYYYYxxxxWWWWvvvvUUUUtttt9876', '9999999999999999999')"
    )
    db.commit()
    db.close()
    records, stats = _records(folder)
    assert len(records) == 4
    assert stats.details["encryption"] == "ColorOS AES-256-CBC (EncryptInfo row 2)"


OTHER_KEY = ("aaaaBBBBccccDDDDeeeeFFFFgggg1234", "1234567890123456789")


def test_coloros_key_database_of_another_backup(tmp_path: Path) -> None:
    folder = write_coloros_backup(tmp_path / "bk", _cn_user(), rows=[OTHER_KEY])
    write_coloros_backup(tmp_path / "other", "")
    (folder / "backup_config_new.db").write_bytes((tmp_path / "other" / "backup_config_new.db").read_bytes())
    with pytest.raises(CorruptArchive) as info:
        _records(folder)
    assert str(info.value) == (
        f"{folder}: Sms/sms.vmsg: none of the 1 key in backup_config_new.db decrypts it to a vMessage"
    )


def test_coloros_truncated_ciphertext_keeps_complete_records(tmp_path: Path) -> None:
    text = _cn_user()
    folder = write_coloros_backup(tmp_path / "bk", text)
    encrypted = folder / "Sms" / "sms.vmsg"
    cut = len(text[: text.rindex("Date:")].encode()) + 5  # inside record 4 …
    cut += 3 if cut % 16 == 0 else 0  # … and not on a block boundary
    encrypted.write_bytes(encrypted.read_bytes()[:cut])
    got: list[Record] = []
    with pytest.raises(TruncatedArchive) as info:
        got.extend(vmessage.read_records(folder, ReadOptions(), ReadStats()))
    assert [r.body for r in got] == [AD1, "周末一起吃饭吗？\n老地方见 😀", "TD"]
    assert info.value.records_read == 3
    assert "read 3 records; the file ends inside the record that starts at line" in str(info.value)
    assert str(info.value).endswith(f"; the encrypted file ends inside an AES block ({cut} bytes)")
    # cut on a block boundary after the last record: the padding is missing
    whole = folder / "Sms" / "sms.vmsg"
    write_coloros_backup(tmp_path / "bk2", text)
    data = (tmp_path / "bk2" / "Sms" / "sms.vmsg").read_bytes()
    whole.write_bytes(data[: len(data) - 16])
    got.clear()
    with pytest.raises(TruncatedArchive, match="no valid padding"):
        got.extend(vmessage.read_records(folder, ReadOptions(), ReadStats()))
    assert len(got) == 3


def test_coloros_pieces_given_alone_are_explained(tmp_path: Path) -> None:
    folder = write_coloros_backup(tmp_path / "bk", _cn_user())
    alone = tmp_path / "copied" / "sms.vmsg"
    alone.parent.mkdir()
    alone.write_bytes((folder / "Sms" / "sms.vmsg").read_bytes())
    with pytest.raises(UnsupportedArchive) as explained:
        detect(alone)
    assert explained.value.message == (
        "this .vmsg is encrypted (ColorOS 12+ backup) and backup_config_new.db is not beside it"
    )
    assert "com.coloros.backuprestore/Backup/Data/<date>/" in (explained.value.hint or "")
    with pytest.raises(UnsupportedArchive, match="key database of a ColorOS backup"):
        detect(folder / "backup_config_new.db")
    (folder / "Sms" / "sms.vmsg").unlink()
    assert detect(folder).NAME == "vmsg"
    with pytest.raises(UnsupportedArchive) as empty:
        _records(folder)
    assert empty.value.message == (
        "this ColorOS backup holds no messages (no .vmsg file, and no file that decrypts to one)"
    )


def test_coloros_message_file_found_by_content(tmp_path: Path) -> None:
    # Where the messages sit in a ColorOS 12+ backup is single-source: any name and folder work.
    folder = write_coloros_backup(tmp_path / "bk", _cn_user(), sub="Message/data", name="message_backup")
    records, stats = _records(folder)
    assert len(records) == 4
    assert records[0].source_record == "Message/data/message_backup:1"
    assert stats.details["sha256_of"] == "Message/data/message_backup"


def test_coloros_without_cryptography_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_coloros_backup(tmp_path / "bk", _cn_user())
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.ciphers", None)
    with pytest.raises(UnsupportedArchive) as info:
        _records(folder)
    assert info.value.hint == (
        "install the optional decryption support: pip install cryptography (the 'coloros' extra of sms-audit)"
    )


def test_cli_import_coloros_folder(tmp_path: Path) -> None:
    folder = write_coloros_backup(tmp_path / "2025-09-30-101500", _cn_user())
    result = runner.invoke(app, ["--db", str(tmp_path / "s.sqlite"), "import", str(folder)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"{folder}: {vmessage.DESCRIPTION}: read 4, new 4, already present 0, skipped 0; "
        "local times read in Asia/Shanghai (main zone of region CN)"
    )


# --- properties ---------------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_TEXT)
def test_property_qp_bodies_round_trip(tmp_path: Path, body: str) -> None:
    path = write(tmp_path / "p.vmsg", document(record("95588", "2024/01/01 10:00:00", body)))
    records, _ = _records(path)
    assert [r.body for r in records] == [body]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_TEXT.filter(lambda b: not b.isascii() and "\r" not in b))
def test_property_raw_bodies_round_trip(tmp_path: Path, body: str) -> None:
    lines = body.split("\n")
    if any(line.strip().upper() in ("END:VMSG", "BEGIN:VMSG") for line in lines):
        return  # a body line that is a record marker cannot be told apart, in any reader
    path = write(tmp_path / "p.vmsg", document(record("95588", "2024/01/01 10:00:00", body, style="mtk")))
    records, _ = _records(path)
    assert [r.body for r in records] == [body]


@settings(max_examples=500)
@given(raw=st.text(alphabet="=0123456789ABCDEFaz \r\n", max_size=40) | st.builds(qp_encode, _TEXT))
def test_property_qp_fast_path_matches_the_run_by_run_decoder(raw: str) -> None:
    text, decoded = decode_qp(raw, "utf-8")
    expected = text if decoded else text.replace("/END:VBODY", "END:VBODY")
    assert vmessage.decode_body(raw, ";ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8") == expected


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), text=st.text(max_size=200))
def test_property_any_input_raises_only_typed_errors(tmp_path: Path, data: bytes, text: str) -> None:
    for payload in (
        b"BEGIN:VMSG\n" + data,
        ("BEGIN:VMSG\nBEGIN:VBODY\nSubject:" + text).encode("utf-8", "replace"),
    ):
        path = tmp_path / "f.vmsg"
        path.write_bytes(payload)
        try:
            _records(path)
        except SmsAuditError:
            pass
