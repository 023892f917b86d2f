"""Huawei/Honor backup importer: the decrypted sms.db, kobackupdec's output folder, the encrypted folder."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers import ReadOptions, ReadStats, detect, expand_folders, huawei_backup
from sms_audit.model import Direction, Message, Service, sms_message_id
from tests.fixtures_huawei import Row, write_encrypted_backup, write_sms_db

CST = timezone(timedelta(hours=8))
PORT, FRIEND, FRIEND2 = "10690123456701", "13800138001", "13800138002"


def ms(*when: int) -> int:
    return int(datetime(*when, tzinfo=CST).timestamp() * 1000)  # type: ignore[misc]


ROWS = [
    Row(
        PORT,
        ms(2025, 9, 1, 10, 0),
        "【优选商城】中秋大促，全场5折，回TD退订",
        date_sent_ms=ms(2025, 9, 1, 9, 59, 58),
    ),
    Row(PORT, ms(2025, 9, 2, 20, 15), "TD", type=2),
    Row(PORT, ms(2025, 9, 20, 11, 0), "【优选商城】国庆专享券已到账，回TD退订"),
    Row("+8613800138001", ms(2025, 9, 3, 18, 30), "晚上一起吃饭吗？🍲", read=0),
    Row(FRIEND, ms(2025, 9, 3, 18, 31), "好的", type=5),
    Row(FRIEND, ms(2025, 9, 3, 18, 32), "草稿", type=3),
    Row("", ms(2025, 9, 3, 18, 33), "no address"),
]
BROADCASTS = [
    (2, "中秋快乐！", ms(2025, 9, 6, 8, 0), f"{FRIEND},{FRIEND2}"),
    (3, "TD", ms(2025, 9, 6, 8, 1), PORT),
    (8, "草稿群发", ms(2025, 9, 6, 8, 2), f"{FRIEND};{FRIEND2}"),
]


def _read(path: Path, region: str | None = "CN") -> tuple[list[Message], ReadStats]:
    stats = ReadStats()
    return list(huawei_backup.read(path, ReadOptions(region=region), stats)), stats


def test_read_sms_db_every_field(tmp_path: Path) -> None:
    db = write_sms_db(tmp_path / "sms.db", ROWS, BROADCASTS)
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    assert detect(db).NAME == "huawei_backup"
    messages, stats = _read(db)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert (stats.read, stats.skipped, stats.skip_summary()) == (9, 1, ["skipped 1 record: no address"])
    assert messages[0] == Message(
        message_id=sms_message_id(PORT, Direction.IN, ms(2025, 9, 1, 10, 0), ROWS[0].body),
        source_format="huawei_backup",
        source_file=str(db),
        source_record="sms_tb:1",
        thread_key=PORT,
        direction=Direction.IN,
        address_raw=PORT,
        address=PORT,
        sender_kind="cn_commercial_port",
        timestamp=datetime(2025, 9, 1, 2, 0, tzinfo=UTC),
        body="【优选商城】中秋大促，全场5折，回TD退订",
        sent_timestamp=datetime(2025, 9, 1, 1, 59, 58, tzinfo=UTC),
        service=Service.SMS,
    )
    assert [(m.source_record, m.direction, m.address, m.sender_kind, m.is_group) for m in messages[1:]] == [
        ("sms_tb:2", Direction.OUT, PORT, "cn_commercial_port", False),
        ("sms_tb:3", Direction.IN, PORT, "cn_commercial_port", False),
        ("sms_tb:4", Direction.IN, "+8613800138001", "mobile", False),
        ("sms_tb:5", Direction.FAILED, "+8613800138001", "mobile", False),
        ("sms_tb:6", Direction.DRAFT, "+8613800138001", "mobile", False),
        ("table_broadcastchat_tb:1", Direction.OUT, "+8613800138001~+8613800138002", "group", True),
        ("table_broadcastchat_tb:2", Direction.OUT, PORT, "cn_commercial_port", False),
        ("table_broadcastchat_tb:3", Direction.DRAFT, "+8613800138001~+8613800138002", "group", True),
    ]
    group = messages[6]
    assert group.recipients == ("+8613800138001", "+8613800138002")
    assert group.timestamp == datetime(2025, 9, 6, 0, 0, tzinfo=UTC)
    assert group.body == "中秋快乐！"
    assert stats.details == {"huawei_sms_tb_rows": "7", "huawei_table_broadcastchat_tb_rows": "3"}


def test_broadcast_row_dedupes_with_the_same_sms_in_sms_tb(tmp_path: Path) -> None:
    # if the phone also keeps the single-recipient send in sms_tb, both rows are one message
    db = write_sms_db(tmp_path / "sms.db", [Row(PORT, ms(2025, 9, 6, 8, 1), "TD", type=2)], BROADCASTS[1:2])
    ids = {m.message_id for m in _read(db)[0]}
    assert ids == {sms_message_id(PORT, Direction.OUT, ms(2025, 9, 6, 8, 1), "TD")}


def test_kobackupdec_output_folder(tmp_path: Path) -> None:
    for relative in ("db/sms.db", "data/data/sms.db"):
        out = tmp_path / relative.replace("/", "_") / "decrypted"
        db = write_sms_db(out / relative, ROWS[:2])
        (out / "db").mkdir(exist_ok=True)
        write_sms_db(out / "db" / "calllog.db", [])  # other modules beside it are ignored
        assert detect(out).NAME == "huawei_backup"
        messages, stats = _read(out)
        assert [m.body for m in messages] == [r.body for r in ROWS[:2]]
        assert stats.details["huawei_sms_db"] == relative
        assert stats.details["sha256"] == hashlib.sha256(db.read_bytes()).hexdigest()


def test_encrypted_backup_says_how_to_decrypt(tmp_path: Path) -> None:
    folder = write_encrypted_backup(tmp_path / "HUAWEI ELS-AN00_2025-09-15 10.10.10")
    assert detect(folder).NAME == "huawei_backup"
    with pytest.raises(UnsupportedArchive) as info:
        _read(folder)
    assert info.value.message == (
        "encrypted Huawei/Honor backup (KoBackup/HiSuite): sms-audit reads its sms.db only once it is decrypted"
    )
    assert info.value.hint == huawei_backup.DECRYPT_HINT
    assert "password" in info.value.hint and "kobackupdec.py PASSWORD" in info.value.hint
    # the phone's backupFiles1 folder holds one folder per backup: each is found and explained
    assert expand_folders([tmp_path]) == [folder]


def test_encrypted_backup_without_messages(tmp_path: Path) -> None:
    folder = write_encrypted_backup(tmp_path / "b", with_sms=False)
    with pytest.raises(UnsupportedArchive, match=r"holds no messages \(no sms.db in it\)"):
        _read(folder)


def test_harmonyos_next_backup_is_explained(tmp_path: Path) -> None:
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "info.json").write_text('{"backupVersion": 40, "modules": ["sms"]}', encoding="utf-8")
    with pytest.raises(UnsupportedArchive, match=r"HarmonyOS 5 \(NEXT\) backup \(info.json\)"):
        detect(folder)


def test_truncated_db_keeps_rows_before_the_cut(tmp_path: Path) -> None:
    db = write_sms_db(tmp_path / "sms.db", ROWS[:3], filler=300)
    data = db.read_bytes()
    cut = tmp_path / "cut.db"
    cut.write_bytes(data[: len(data) // 2])
    assert detect(cut).NAME == "huawei_backup"
    got: list[Message] = []
    with pytest.raises(TruncatedArchive) as info:
        got.extend(huawei_backup.read(cut, ReadOptions(), ReadStats()))
    assert 100 < len(got) < 300 and info.value.records_read == len(got)
    assert [m.source_record for m in got] == [f"sms_tb:{i}" for i in range(1, len(got) + 1)]
    assert info.value.message == (
        f"read {len(got)} messages; the database is truncated ({len(data) // 2} of {len(data)} bytes)"
    )


def test_damaged_db_is_corrupt(tmp_path: Path) -> None:
    db = write_sms_db(tmp_path / "sms.db", ROWS[:3], filler=300)
    data = bytearray(db.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = b"\xa5" * 4096  # one page overwritten
    db.write_bytes(bytes(data))
    got: list[Message] = []
    with pytest.raises(CorruptArchive, match=r"read [0-9]+ messages, then the database failed"):
        got.extend(huawei_backup.read(db, ReadOptions(), ReadStats()))
    assert got


def test_other_sqlite_is_not_huawei(tmp_path: Path) -> None:
    path = tmp_path / "calllog.db"
    sqlite3.connect(path).executescript("CREATE TABLE calls_tb (number TEXT, date INTEGER);")
    assert huawei_backup.sniff(path) is False


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bodies=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=200), min_size=1, max_size=4
    ),
    address=st.sampled_from([PORT, "+8613800138001", "95588", "中国银行", "1380013800a"]),
)
def test_any_body_and_address(tmp_path: Path, bodies: list[str], address: str) -> None:
    db = tmp_path / "p.db"
    db.unlink(missing_ok=True)
    write_sms_db(db, [Row(address, ms(2025, 1, 1) + i, b) for i, b in enumerate(bodies)])
    assert [m.body for m in _read(db)[0]] == bodies


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=100), noise=st.binary(min_size=0, max_size=64))
def test_damaged_files_raise_only_typed_errors(tmp_path: Path, cut: int, noise: bytes) -> None:
    db = tmp_path / "base.db"
    if not db.exists():
        write_sms_db(db, ROWS, BROADCASTS, filler=40)
    data = db.read_bytes()
    path = tmp_path / "damaged.db"
    position = len(data) * cut // 100
    path.write_bytes(data[:position] + noise + data[position + len(noise) :] if cut % 2 else data[:position])
    try:
        _read(path)
    except (CorruptArchive, UnsupportedArchive):
        pass
