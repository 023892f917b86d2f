"""SMS Import/Export importer: v2 ZIP, v1 JSON, .ssef, damaged exports, detection."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers import ReadOptions, ReadStats, detect, sms_ie
from sms_audit.importers.sms_ie import TruncatedJson, iter_json_array
from sms_audit.model import Direction, Message, Service, mms_message_id, sms_message_id
from tests.fixtures_android_db import sms_ie_mms, sms_ie_sms, write_sms_ie_v1, write_sms_ie_zip

FRIEND, COWORKER = "+12025550142", "+12025550167"


def _records(v1: bool = False) -> list[dict[str, object]]:
    return [
        sms_ie_sms(
            41,
            7,
            "22000",
            1709647200123,
            1,
            "ACME: 20% off this weekend! Reply STOP to opt out",
            date_sent=1709647199000,
            __display_name="ACME",
        ),
        sms_ie_sms(42, 7, "22000", 1709647390456, 2, "STOP"),
        sms_ie_sms(43, 8, FRIEND, 1709740000000, 1, "hi 👋"),
        sms_ie_mms(
            12,
            8,
            1709740900,
            1,
            sender=FRIEND,
            recipients=["+12025550100"],
            texts=["look at this"],
            m_id="mavodi-1-8b-6f-1-2f-1a2b3c",
            v1=v1,
        ),
        sms_ie_mms(
            13,
            9,
            1709827200,
            2,
            sender="insert-address-token",
            recipients=[FRIEND, COWORKER],
            texts=["pizza ", "friday?"],
            v1=v1,
        ),
    ]


def _read(path: Path) -> tuple[list[Message], ReadStats]:
    stats = ReadStats()
    return list(sms_ie.read(path, ReadOptions(region="US"), stats)), stats


def test_read_v2_zip_counts_and_sms_record(tmp_path: Path) -> None:
    path = write_sms_ie_zip(
        tmp_path / "messages-2024-03-20.zip",
        _records(),
        extra_files={"data/PART_1709740900000": b"\xff\xd8\xff\xe0 jpeg"},
    )
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sms_ie.sniff(path) is True
    messages, stats = _read(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert (stats.read, stats.skipped) == (5, 0)
    assert stats.details == {"sms_ie_version": "2 (zip)"}
    assert messages[0] == Message(
        message_id=sms_message_id(
            "22000", Direction.IN, 1709647200123, "ACME: 20% off this weekend! Reply STOP to opt out"
        ),
        source_format="sms_ie",
        source_file=str(path),
        source_record="sms:41",
        thread_key="22000",
        direction=Direction.IN,
        address_raw="22000",
        address="22000",
        sender_kind="short_code",
        timestamp=datetime(2024, 3, 5, 14, 0, 0, 123000, tzinfo=UTC),
        body="ACME: 20% off this weekend! Reply STOP to opt out",
        sent_timestamp=datetime(2024, 3, 5, 13, 59, 59, tzinfo=UTC),
        service=Service.SMS,
    )
    assert (messages[1].direction, messages[1].body) == (Direction.OUT, "STOP")
    assert messages[2].body == "hi 👋"


def test_read_v2_mms_records(tmp_path: Path) -> None:
    messages, _ = _read(write_sms_ie_zip(tmp_path / "messages.zip", _records()))
    photo, group = messages[3], messages[4]
    assert (photo.message_id, photo.address, photo.body, photo.service, photo.is_group) == (
        mms_message_id(FRIEND, Direction.IN, 1709740900, "look at this", "mavodi-1-8b-6f-1-2f-1a2b3c"),
        FRIEND,
        "look at this",
        Service.MMS,
        False,
    )
    assert photo.timestamp == datetime(2024, 3, 6, 16, 1, 40, tzinfo=UTC)
    assert (group.direction, group.body, group.is_group) == (Direction.OUT, "pizza friday?", True)
    assert (group.address, group.sender_kind) == ("+12025550142~+12025550167", "group")


def test_read_v1_json_array_same_messages(tmp_path: Path) -> None:
    v2, _ = _read(write_sms_ie_zip(tmp_path / "messages.zip", _records()))
    path = write_sms_ie_v1(tmp_path / "messages-2021-05-11.json", _records(v1=True))
    assert sms_ie.sniff(path) is True
    v1, stats = _read(path)
    assert stats.details == {"sms_ie_version": "1 (json)"}
    assert [m.message_id for m in v1] == [m.message_id for m in v2]


def test_read_ssef_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "messages-2024-03-20.zip.ssef"
    path.write_bytes(
        b"SSEF\x00\xff\x00\x01" + b"\x00\x00\x00\x02" + b"\x00\x01\x00\x00" + bytes(16 + 4 + 24 + 40)
    )
    assert sms_ie.sniff(path) is False
    with pytest.raises(UnsupportedArchive) as info:
        detect(path)
    assert str(info.value) == f"{path}: this is an encrypted SMS Import/Export file (.ssef)"
    assert info.value.hint == (
        "decrypt it with sms-ie's tools/ssef-decrypt.py (needs PyNaCl), then import the .zip"
    )
    with pytest.raises(UnsupportedArchive, match=r"\(\.ssef\)$"):
        _read(path)


def test_read_skips_bad_records_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "messages.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "messages.ndjson",
            "\n".join(
                [
                    json.dumps(sms_ie_sms(1, 1, "22000", 1709647200123, 1, "ok")),
                    json.dumps(
                        {"_id": "2", "address": "22000", "date": "today", "type": "1", "body": "bad date"}
                    ),
                    "{not json",
                    json.dumps({"_id": "3", "date": "1709647200123", "type": "1", "body": "no address"}),
                    "",
                ]
            ),
        )
    messages, stats = _read(path)
    assert [m.body for m in messages] == ["ok"]
    assert (stats.read, stats.skipped) == (1, 3)
    assert stats.warnings == ["line 3 of messages.ndjson is not JSON; skipped"]


def test_read_truncated_ndjson_keeps_complete_records(tmp_path: Path) -> None:
    path = tmp_path / "messages.zip"
    full = json.dumps(sms_ie_sms(1, 1, "22000", 1709647200123, 1, "complete")) + "\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("messages.ndjson", full + full[:30])
    got: list[Message] = []
    with pytest.raises(TruncatedArchive, match="read 1 records; the JSON ends early"):
        got.extend(sms_ie.read(path, ReadOptions(), ReadStats()))
    assert [m.body for m in got] == ["complete"]


def test_read_damaged_zip_and_zip_without_ndjson(tmp_path: Path) -> None:
    good = write_sms_ie_zip(tmp_path / "messages.zip", _records())
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(good.read_bytes()[:-30])
    assert sms_ie.sniff(damaged) is False
    other = tmp_path / "photos.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("IMG_0001.jpg", b"\xff\xd8")
    assert sms_ie.sniff(other) is False
    with pytest.raises(UnsupportedArchive, match="the ZIP holds no messages.ndjson$"):
        _read(other)


def test_read_v1_malformed_json_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "messages.json"
    path.write_text(
        '[{"address": "22000", "date": "1709647200123", "type": "1", "body": "a"},\n'
        ' {"address": "22000", "date": x}]',
        encoding="utf-8",
    )
    got: list[Message] = []
    with pytest.raises(CorruptArchive, match="read 1 records, then the export is damaged"):
        got.extend(sms_ie.read(path, ReadOptions(), ReadStats()))
    assert [m.body for m in got] == ["a"]


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 4096])
def test_iter_json_array_streams_across_chunk_boundaries(chunk: int) -> None:
    data = [{"a": i, "s": "x" * (i * 13), "e": "退订 🙂"} for i in range(40)] + [1, 2.5, "s", None, [1, 2]]
    assert list(iter_json_array(io.StringIO(json.dumps(data, indent=2, ensure_ascii=False)), chunk)) == data


def test_iter_json_array_truncation_and_errors() -> None:
    text = json.dumps([{"a": 1}, {"b": "long text"}])
    for cut in (len(text) - 1, len(text) - 5, 12, 1):
        with pytest.raises(TruncatedJson):
            list(iter_json_array(io.StringIO(text[:cut]), 4))
    with pytest.raises(ValueError, match="not a JSON array"):
        list(iter_json_array(io.StringIO('{"a": 1}')))
    assert list(iter_json_array(io.StringIO("\ufeff [ ]"))) == []
