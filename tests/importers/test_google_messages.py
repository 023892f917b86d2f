"""Google Messages bugle_db importer: direction from sub_id, protocols, groups, WAL, damage, sniffing."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers import (
    ReadOptions,
    ReadStats,
    android_mmssms,
    detect,
    google_messages,
    ios_sms_db,
)
from sms_audit.model import Direction, Message, Service, sms_message_id
from tests.fixtures_android_db import MmssmsDb
from tests.fixtures_bugle import SELF, BugleDb
from tests.fixtures_ios import make_ios16_db

SHOP, FRIEND, COWORKER, NEIGHBOUR = "22000", "+12025550142", "+12025550167", "+12025550175"
RCS_GROUP = "8fcd2a3e-5b1c-4d2e-9a7f-1c2b3d4e5f60@rcs.google.com"
SECOND_SIM = 2  # participants row of the owner's second SIM (sub_id 1)


def _story(path: Path, *, wal: bool = False) -> BugleDb:
    db = BugleDb(path, wal=wal)
    shop, friend = db.conversation(SHOP), db.conversation(FRIEND, name="Alex")
    group = db.conversation(FRIEND, COWORKER, NEIGHBOUR, name="Climbing", rcs_group_id=RCS_GROUP)
    mms_group = db.conversation(FRIEND, COWORKER)
    p_shop, p_friend, p_coworker = db.participant(SHOP), db.participant(FRIEND), db.participant(COWORKER)
    db.message(
        shop,
        p_shop,
        1709647200123,
        "ACME: 20% off this weekend! Reply STOP to opt out",
        sent_ms=1709647199000,
    )
    db.message(shop, SELF, 1709647390456, "STOP", status=213)  # a modern status on a sent SMS
    db.message(
        shop, p_shop, 1711040400789, "ACME: new arrivals just for you", status=5
    )  # odd status, still in
    db.message(friend, p_friend, 1709740800000, "see you at 6 👋", protocol=3, rcs_message_id="MxAbC1")
    db.message(friend, SECOND_SIM, 1709740860000, "ok!", protocol=3, status=11, rcs_message_id="MxAbC2")
    db.message(group, p_coworker, 1709740900000, "who's in on Saturday?", protocol=3, rcs_message_id="MxAbC3")
    db.message(group, SELF, 1709741000000, "STOP", protocol=3, status=1, rcs_message_id="MxAbC4")
    db.message(
        mms_group, p_friend, 1709741100000, "pics", protocol=1, attachments=("image/jpeg", "application/smil")
    )
    db.message(friend, SELF, 1709741200000, "unsent thought", status=3)  # a draft
    db.message(friend, SELF, 1709741300000, "retrying", status=8)  # failed
    db.message(group, p_coworker, 1709741400000, None, protocol=3)  # an RCS event without parts
    db.message(friend, None, 1709741500000, "sender row deleted", status=100)  # AOSP status: incoming
    db.message(friend, None, 1709741600000, "sender row deleted", status=213)  # no way to tell
    return db


def _read(path: Path, region: str | None = "US") -> tuple[list[Message], ReadStats]:
    stats = ReadStats()
    return list(google_messages.read(path, ReadOptions(region=region), stats)), stats


def test_read_every_field(tmp_path: Path) -> None:
    path = tmp_path / "bugle_db"
    _story(path).close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert detect(path).NAME == "google_messages"
    messages, stats = _read(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert (stats.read, stats.excluded, stats.skip_summary()) == (
        11,
        1,
        ["skipped 1 record: no sender participant (direction unknown)"],
    )
    body = "ACME: 20% off this weekend! Reply STOP to opt out"
    assert messages[0] == Message(
        message_id=sms_message_id(SHOP, Direction.IN, 1709647200123, body),
        source_format="google_messages",
        source_file=str(path),
        source_record="messages:1",
        thread_key=SHOP,
        direction=Direction.IN,
        address_raw=SHOP,
        address=SHOP,
        sender_kind="short_code",
        timestamp=datetime(2024, 3, 5, 14, 0, 0, 123000, tzinfo=UTC),
        body=body,
        sent_timestamp=datetime(2024, 3, 5, 13, 59, 59, tzinfo=UTC),
        service=Service.SMS,
    )
    rows = [
        (m.source_record, m.direction, m.service, m.address, m.is_group, m.thread_key, m.body)
        for m in messages[1:]
    ]
    assert rows == [
        ("messages:2", Direction.OUT, Service.SMS, SHOP, False, SHOP, "STOP"),
        ("messages:3", Direction.IN, Service.SMS, SHOP, False, SHOP, "ACME: new arrivals just for you"),
        ("messages:4", Direction.IN, Service.RCS, FRIEND, False, FRIEND, "see you at 6 👋"),
        ("messages:5", Direction.OUT, Service.RCS, FRIEND, False, FRIEND, "ok!"),
        ("messages:6", Direction.IN, Service.RCS, COWORKER, True, RCS_GROUP, "who's in on Saturday?"),
        ("messages:7", Direction.OUT, Service.RCS, RCS_GROUP, True, RCS_GROUP, "STOP"),
        ("messages:8", Direction.IN, Service.MMS, FRIEND, True, f"{FRIEND}~{COWORKER}", "pics"),
        ("messages:9", Direction.DRAFT, Service.SMS, FRIEND, False, FRIEND, "unsent thought"),
        ("messages:10", Direction.FAILED, Service.SMS, FRIEND, False, FRIEND, "retrying"),
        ("messages:12", Direction.IN, Service.SMS, FRIEND, False, FRIEND, "sender row deleted"),
    ]
    group_in, group_out, mms = messages[5], messages[6], messages[7]
    assert (group_in.sender_kind, group_in.recipients) == ("mobile", (FRIEND, NEIGHBOUR))
    assert (group_out.sender_kind, group_out.recipients) == ("group", (FRIEND, COWORKER, NEIGHBOUR))
    assert mms.has_attachments and not messages[3].has_attachments
    assert stats.details == {
        "bugle_user_version": "61791",
        "bugle_protocol_0": "7",
        "bugle_protocol_1": "1",
        "bugle_protocol_3": "5",
    }


def test_ids_are_stable_and_sms_match_the_provider(tmp_path: Path) -> None:
    path = tmp_path / "bugle_db"
    _story(path).close()
    first, second = _read(path)[0], _read(path)[0]
    assert [m.message_id for m in first] == [m.message_id for m in second]
    assert len({m.message_id for m in first}) == len(first)
    mmssms = MmssmsDb(tmp_path / "mmssms.db")
    thread = mmssms.thread(SHOP)
    mmssms.sms(thread, SHOP, 1709647200123, 1, "ACME: 20% off this weekend! Reply STOP to opt out")
    mmssms.sms(thread, SHOP, 1709647390456, 2, "STOP")
    provider = list(android_mmssms.read(mmssms.close(), ReadOptions(region="US"), ReadStats()))
    assert [m.message_id for m in provider] == [m.message_id for m in first[:2]]


def test_wal_rows_are_read_without_touching_the_files(tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    db = _story(live / "bugle_db", wal=True)
    db.commit()
    copy = tmp_path / "extraction"
    copy.mkdir()
    for name in ("bugle_db", "bugle_db-wal", "bugle_db-shm"):  # copied while the app holds it open
        shutil.copyfile(live / name, copy / name)
    db.close()
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in copy.iterdir()}
    assert (copy / "bugle_db-wal").stat().st_size > 0
    messages, _ = _read(copy / "bugle_db")
    assert len(messages) == 11
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in copy.iterdir()} == before


def test_sniff_tells_bugle_from_mmssms_and_ios(tmp_path: Path) -> None:
    bugle = tmp_path / "bugle_db"
    _story(bugle).close()
    mmssms = MmssmsDb(tmp_path / "mmssms.db").close()
    ios = make_ios16_db(tmp_path / "sms.db")
    assert [google_messages.sniff(p) for p in (bugle, mmssms, ios)] == [True, False, False]
    assert android_mmssms.sniff(bugle) is False and ios_sms_db.sniff(bugle) is False
    assert [detect(p).NAME for p in (bugle, mmssms, ios)] == [
        "google_messages",
        "android_mmssms",
        "ios_sms_db",
    ]


def test_lookalike_without_bugle_columns_is_not_sniffed(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "chat.db"
    sqlite3.connect(path).executescript(
        "CREATE TABLE messages (_id INTEGER, text TEXT); CREATE TABLE parts (_id INTEGER);"
        "CREATE TABLE participants (_id INTEGER, name TEXT); CREATE TABLE conversations (_id INTEGER);"
    )
    assert google_messages.sniff(path) is False
    with pytest.raises(
        UnsupportedArchive,
        match=r"not a Google Messages bugle_db \(no participants.sub_id, messages.sender_id\)",
    ):
        _read(path)


def test_truncated_and_damaged(tmp_path: Path) -> None:
    path = tmp_path / "bugle_db"
    db = BugleDb(path)
    chat = db.conversation(FRIEND)
    person = db.participant(FRIEND)
    for i in range(400):
        db.message(chat, person if i % 2 else SELF, 1709740800000 + i * 1000, f"message {i} " + "x" * 300)
    db.close()
    data = path.read_bytes()
    cut = tmp_path / "cut_bugle_db"
    cut.write_bytes(data[: len(data) * 3 // 4])
    assert detect(cut).NAME == "google_messages"
    got: list[Message] = []
    with pytest.raises(TruncatedArchive) as info:
        got.extend(google_messages.read(cut, ReadOptions(), ReadStats()))
    assert got and len(got) < 400 and info.value.records_read == len(got)
    assert [m.body for m in got] == [f"message {i} " + "x" * 300 for i in range(len(got))]
    damaged = bytearray(data)
    damaged[len(data) // 2 : len(data) // 2 + 4096] = b"\x5a" * 4096
    broken = tmp_path / "broken_bugle_db"
    broken.write_bytes(bytes(damaged))
    with pytest.raises(CorruptArchive, match=r"read [0-9]+ messages, then the database failed"):
        _read(broken)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=200), min_size=1, max_size=4
    ),
    destination=st.sampled_from([SHOP, FRIEND, "Vodafone", "07700 900123", "[red]x[/red]"]),
)
def test_any_text_and_destination(tmp_path: Path, texts: list[str], destination: str) -> None:
    path = tmp_path / "p_bugle_db"
    path.unlink(missing_ok=True)
    db = BugleDb(path)
    chat = db.conversation(destination)
    person = db.participant(destination)
    for i, text in enumerate(texts):
        db.message(chat, person, 1709740800000 + i, text, protocol=i % 2 * 3)
    db.close()
    messages, _ = _read(path)
    assert [m.body for m in messages] == texts
    assert {m.address_raw for m in messages} == {destination}
