"""adb TelephonyBackupAgent importer: the real mvt files, a d_f folder, .ab and damaged input."""

from __future__ import annotations

import hashlib
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers import ReadOptions, ReadStats, android_telephony_backup, detect
from sms_audit.model import Direction, Message, Service, mms_message_id, sms_message_id
from tests.conftest import sample_path
from tests.fixtures_android_db import write_telephony_backup


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def _read(path: Path) -> tuple[list[Message], ReadStats]:
    stats = ReadStats()
    return list(android_telephony_backup.read(path, ReadOptions(), stats)), stats


def test_read_real_mvt_folder() -> None:
    folder = sample_path("android-adb-telephony-mvt")
    before = _hashes(folder)
    assert detect(folder).NAME == "android_telephony_backup"
    messages, stats = _read(folder)
    assert _hashes(folder) == before
    assert (stats.read, stats.skipped, stats.details) == (2, 0, {"telephony_backup_files": "2"})
    body = "Hi this is a test message to https://google.com/"
    assert messages[0] == Message(
        message_id=sms_message_id("06543219", Direction.FAILED, 1645543781956, body),
        source_format="android_telephony_backup",
        source_file=str(folder),
        source_record="000000_sms_backup#1",
        thread_key="06543219",
        direction=Direction.FAILED,
        address_raw="06543219",
        address="06543219",
        sender_kind="short_code",
        timestamp=datetime(2022, 2, 22, 15, 29, 41, 956000, tzinfo=UTC),
        body=body,
        sent_timestamp=None,
        service=Service.SMS,
    )
    mms_body = "Very suspicious MMS, click on this link http://google.com"
    assert messages[1] == Message(
        message_id=mms_message_id("+12345678", Direction.IN, 1579531789, mms_body, None),
        source_format="android_telephony_backup",
        source_file=str(folder),
        source_record="000001_mms_backup#1",
        thread_key="+12345678",
        direction=Direction.IN,
        address_raw="+12345678",
        address="+12345678",
        sender_kind="long_code",
        timestamp=datetime(2020, 1, 20, 14, 49, 49, tzinfo=UTC),
        body=mms_body,
        sent_timestamp=datetime(2020, 1, 20, 14, 49, 46, tzinfo=UTC),
        service=Service.MMS,
    )


def test_read_real_single_file() -> None:
    path = sample_path("android-adb-telephony-mvt", "000001_mms_backup")
    assert android_telephony_backup.sniff(path) is True
    messages, _ = _read(path)
    assert [m.source_record for m in messages] == ["000001_mms_backup#1"]


def test_read_synthetic_sms_matches_sbr_ids(tmp_path: Path) -> None:
    path = write_telephony_backup(
        tmp_path / "000000_sms_backup",
        [
            {
                "address": "22000",
                "body": "STOP",
                "date": "1709647390456",
                "date_sent": "0",
                "status": "-1",
                "type": "2",
                "recipients": ["22000"],
                "read": "1",
            },
            {"address": "22000", "body": "no date", "type": "1", "recipients": ["22000"]},
            {"body": "group text", "date": "1709647400000", "type": "1", "recipients": ["+12025550142"]},
        ],
    )
    messages, stats = _read(path)
    assert (stats.read, stats.skipped) == (2, 1)
    assert messages[0].message_id == sms_message_id("22000", Direction.OUT, 1709647390456, "STOP")
    assert messages[1].address == "+12025550142"


def test_ab_archive_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "backup.ab"
    path.write_bytes(b"ANDROID BACKUP\n5\n1\nnone\n" + zlib.compress(b"tar data"))
    assert android_telephony_backup.sniff(path) is False
    with pytest.raises(UnsupportedArchive) as info:
        detect(path)
    assert str(info.value) == f"{path}: this is a whole adb backup archive (.ab); the messages are inside it"


def test_read_damaged_and_truncated(tmp_path: Path) -> None:
    good = zlib.compress(
        b'[{"address": "22000", "body": "a", "date": "1709647390456", "type": "1"}, '
        b'{"address": "22000", "body": "b", "date": "1709647390999", "type": "1"}]'
    )
    truncated = tmp_path / "000000_sms_backup"
    truncated.write_bytes(zlib.compress(zlib.decompress(good)[:90]))  # JSON cut inside record 2
    got: list[Message] = []
    with pytest.raises(TruncatedArchive, match="read 1 records; the data ends early"):
        got.extend(android_telephony_backup.read(truncated, ReadOptions(), ReadStats()))
    assert [m.body for m in got] == ["a"]
    broken = tmp_path / "000001_sms_backup"
    broken.write_bytes(good[:2] + b"\x00" * 40)
    with pytest.raises(CorruptArchive, match="is not a readable TelephonyBackupAgent file"):
        _read(broken)


def test_sniff_rejects_other_zlib_data(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(zlib.compress(b'{"not": "a list"}'))
    assert android_telephony_backup.sniff(path) is False
    (tmp_path / "empty").mkdir()
    assert android_telephony_backup.sniff(tmp_path / "empty") is False
