"""iOS sms.db importer: every schema era, attributedBody, groups, exclusions, evidence handling."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sms_audit.errors import CorruptArchive, UnsupportedArchive
from sms_audit.importers import ios_sms_db
from sms_audit.importers.base import ReadOptions, ReadStats
from sms_audit.model import Direction, Message, Service, make_message_id
from tests.conftest import sample_path
from tests.fixtures_ios import (
    FRIEND,
    IOS5_LEGACY_SCHEMA,
    IOS7_SCHEMA,
    IOS14_SCHEMA,
    SmsDb,
    dt,
    make_ios16_db,
)


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def _read(path: Path, **options: object) -> tuple[list[Message], ReadStats]:
    stats = ReadStats()
    messages = list(ios_sms_db.read(path, ReadOptions(**options), stats))  # type: ignore[arg-type]
    return messages, stats


# --- iOS 16+: the full row zoo -----------------------------------------------------------------


def test_read_ios16_counts_and_exclusions(tmp_path: Path) -> None:
    messages, stats = _read(make_ios16_db(tmp_path / "sms.db"))
    assert [m.source_record[-2:] for m in messages] == ["01", "02", "03", "05", "06", "08", "09", "10"]
    assert (stats.read, stats.excluded, stats.skipped) == (8, 4, 1)
    assert stats.details == {
        "ios_client_version": "17008",
        "ios_message_columns": "88",
        "ios_tapbacks": "1",
        "ios_group_events": "1",
        "ios_system": "1",
        "ios_empty": "1",
        "ios_spam": "1",
    }


def test_read_ios16_body_only_in_attributed_body(tmp_path: Path) -> None:
    messages, _ = _read(make_ios16_db(tmp_path / "sms.db"))
    assert messages[0] == Message(
        message_id=make_message_id("ios", "5C1A0E52-0001-4C6B-9E21-000000000001"),
        source_format="ios_sms_db",
        source_file=str(tmp_path / "sms.db"),
        source_record="5C1A0E52-0001-4C6B-9E21-000000000001",
        thread_key="22000",
        direction=Direction.IN,
        address_raw="22000",
        address="22000",
        sender_kind="short_code",
        timestamp=datetime(2024, 3, 5, 14, 0, tzinfo=UTC),
        body="ACME: 20% off this weekend! Reply STOP to opt out",
        sent_timestamp=None,
        service=Service.SMS,
        recipients=(),
        has_attachments=False,
        is_group=False,
        is_filtered=False,
    )


def test_read_ios16_outgoing_stop_has_recipient(tmp_path: Path) -> None:
    stop = _read(make_ios16_db(tmp_path / "sms.db"))[0][1]
    assert (stop.direction, stop.address, stop.body, stop.recipients) == (
        Direction.OUT,
        "22000",
        "STOP",
        ("22000",),
    )


def test_read_ios16_group_messages(tmp_path: Path) -> None:
    messages, _ = _read(make_ios16_db(tmp_path / "sms.db"), region="US")
    incoming, outgoing = messages[3], messages[4]
    assert (incoming.direction, incoming.address, incoming.is_group, incoming.thread_key) == (
        Direction.IN,
        "+12025550167",
        True,
        "chat493875620745871235",
    )
    assert incoming.recipients == ("+12025550142", "+12025550175")
    assert incoming.service is Service.IMESSAGE
    assert (outgoing.direction, outgoing.address, outgoing.sender_kind, outgoing.thread_key) == (
        Direction.OUT,
        "chat493875620745871235",
        "group",
        "chat493875620745871235",
    )
    assert outgoing.recipients == ("+12025550142", "+12025550167", "+12025550175")


def test_read_ios16_attachment_spam_and_failed(tmp_path: Path) -> None:
    messages, _ = _read(make_ios16_db(tmp_path / "sms.db"))
    photo, spam, failed = messages[5], messages[6], messages[7]
    assert (photo.body, photo.has_attachments, photo.service) == ("", True, Service.MMS)
    assert (spam.is_filtered, spam.address) == (True, "+12025550188")
    assert (failed.direction, failed.address) == (Direction.FAILED, FRIEND)


def test_read_reports_progress(tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    _read(make_ios16_db(tmp_path / "sms.db"), on_progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (13, 13)


# --- older eras --------------------------------------------------------------------------------


def test_read_ios7_seconds_dates(tmp_path: Path) -> None:
    db = SmsDb(tmp_path / "sms.db", schema=IOS7_SCHEMA, client_version="7006", seconds_dates=True)
    h = db.handle("4891")
    chat = db.chat("4891", [h])
    db.message(
        guid="E1C4D2B0-7A7A-4B4B-8C8C-000000000001",
        handle=h,
        chat=chat,
        date=dt("2015-11-01 21:59:14"),
        text="Your code is 123456",
    )
    db.close()
    messages, stats = _read(tmp_path / "sms.db")
    assert stats.details["ios_client_version"] == "7006"
    assert stats.details["ios_message_columns"] == "38"
    assert messages == [
        Message(
            message_id=make_message_id("ios", "E1C4D2B0-7A7A-4B4B-8C8C-000000000001"),
            source_format="ios_sms_db",
            source_file=str(tmp_path / "sms.db"),
            source_record="E1C4D2B0-7A7A-4B4B-8C8C-000000000001",
            thread_key="4891",
            direction=Direction.IN,
            address_raw="4891",
            address="4891",
            sender_kind="short_code",
            timestamp=datetime(2015, 11, 1, 21, 59, 14, tzinfo=UTC),
            body="Your code is 123456",
            service=Service.SMS,
        )
    ]


def test_read_ios7_raw_seconds_value(tmp_path: Path) -> None:
    db = SmsDb(tmp_path / "sms.db", schema=IOS7_SCHEMA, client_version="7006")
    h = db.handle("4891")
    db.message(guid="G", handle=h, chat=None, date=dt("2015-11-01 21:59:14"), text="x", date_read=0)
    db.conn.execute("UPDATE message SET date = 468107954")  # the real iOS 7 value (FORMATS.md §4.4)
    db.close()
    assert _read(tmp_path / "sms.db")[0][0].timestamp == datetime(2015, 11, 1, 21, 59, 14, tzinfo=UTC)


def test_read_ios14_nanoseconds_text_column(tmp_path: Path) -> None:
    db = SmsDb(tmp_path / "sms.db", schema=IOS14_SCHEMA, client_version="14006")
    h = db.handle("+12025550142", "iMessage")
    chat = db.chat("+12025550142", [h], service="iMessage")
    db.message(
        guid="A3B1-14",
        handle=h,
        chat=chat,
        service="iMessage",
        date=dt("2021-06-01 08:00:00"),
        text="see you",
        attributed="ignored: text wins",
    )
    db.close()
    messages, stats = _read(tmp_path / "sms.db", region="US")
    assert stats.details["ios_message_columns"] == "74"
    assert [(m.body, m.service, m.address, m.timestamp) for m in messages] == [
        ("see you", Service.IMESSAGE, "+12025550142", datetime(2021, 6, 1, 8, 0, tzinfo=UTC))
    ]


def test_read_rcs_service_and_unknown(tmp_path: Path) -> None:
    db = SmsDb(tmp_path / "sms.db")
    h = db.handle("+12025550142", "RCS")
    db.message(guid="R1", handle=h, chat=None, service="RCS", date=dt("2025-01-01 00:00:00"), text="rcs!")
    db.message(guid="R2", handle=h, chat=None, service=None, date=dt("2025-01-01 00:00:01"), text="?")  # type: ignore[arg-type]
    db.close()
    assert [m.service for m in _read(tmp_path / "sms.db")[0]] == [Service.RCS, Service.RCS]


# --- real samples ------------------------------------------------------------------------------


def test_read_real_mvt_ios14_trimmed_database() -> None:
    path = sample_path("iosbackup-mvt-ios14", "3d", "3d0d7e5fb2ce288813306e4d4636395e047a3d28")
    before = _hashes(path.parent)
    messages, stats = _read(path)
    assert _hashes(path.parent) == before
    assert stats.details["ios_message_columns"] == "74"
    assert messages == [
        Message(
            message_id=make_message_id("ios", "FDC6EC94-9D5A-434D-90FA-BF170E10A311"),
            source_format="ios_sms_db",
            source_file=str(path),
            source_record="FDC6EC94-9D5A-434D-90FA-BF170E10A311",
            thread_key="apple",
            direction=Direction.IN,
            address_raw="apple",
            address="apple",
            sender_kind="alphanumeric",
            timestamp=datetime(2019, 8, 29, 23, 13, 30, 539788, tzinfo=UTC),
            body="Please click here https://badbadbad.example.org/",
            service=Service.SMS,
        )
    ]


def test_read_real_ios5_legacy_is_rejected() -> None:
    path = sample_path("smsdb-ios5-legacy-eichbaum", "sms.db")
    before = _hashes(path.parent)
    assert ios_sms_db.sniff(path) is False
    with pytest.raises(UnsupportedArchive) as info:
        ios_sms_db.explain_unsupported(path)
    assert str(info.value) == f"{path}: unsupported legacy iOS database (iOS 5 or older, _ClientVersion 21)"
    assert info.value.hint is not None and "iOS 6 and later" in info.value.hint
    with pytest.raises(UnsupportedArchive, match="legacy iOS database"):
        _read(path)
    assert _hashes(path.parent) == before


def test_read_synthetic_ios5_legacy_is_rejected(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "sms.db")
    conn.executescript(IOS5_LEGACY_SCHEMA)
    conn.close()
    with pytest.raises(UnsupportedArchive) as info:
        _read(tmp_path / "sms.db")
    assert info.value.message == "unsupported legacy iOS database (iOS 5 or older, _ClientVersion 21)"


# --- evidence handling -------------------------------------------------------------------------


def test_read_wal_sidecars_copied_and_source_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    db = SmsDb(evidence / "sms.db")
    h = db.handle("22000")
    db.message(guid="OLD", handle=h, chat=None, date=dt("2024-01-01 00:00:00"), text="checkpointed")
    db.conn.commit()
    db.conn.execute("PRAGMA journal_mode=WAL")
    db.conn.execute("PRAGMA wal_autocheckpoint=0")
    db.message(guid="NEW", handle=h, chat=None, date=dt("2024-01-02 00:00:00"), text="only in the WAL")
    db.conn.commit()
    # Copy the three files while the writer still holds them, as a forensic extraction does.
    frozen = tmp_path / "frozen"
    frozen.mkdir()
    for name in ("sms.db", "sms.db-wal", "sms.db-shm"):
        (frozen / name).write_bytes((evidence / name).read_bytes())
    db.close()
    for p in frozen.iterdir():
        p.chmod(stat.S_IRUSR)
    frozen.chmod(stat.S_IRUSR | stat.S_IXUSR)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    before = _hashes(frozen)
    try:
        messages, _ = _read(frozen / "sms.db")
        assert [m.body for m in messages] == ["checkpointed", "only in the WAL"]
        assert _hashes(frozen) == before
        assert sorted(p.name for p in frozen.iterdir()) == ["sms.db", "sms.db-shm", "sms.db-wal"]
        assert list(scratch.iterdir()) == []  # the private copy is gone
    finally:
        frozen.chmod(stat.S_IRWXU)


def test_read_private_copy_is_0700_and_removed_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = SmsDb(tmp_path / "sms.db")
    db.message(guid="G", handle=db.handle("22000"), chat=None, date=dt("2024-01-01 00:00:00"), text="x")
    db.conn.commit()
    db.conn.execute("PRAGMA journal_mode=WAL")
    db.close()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    stream = ios_sms_db.read(tmp_path / "sms.db", ReadOptions(), ReadStats())
    next(stream)
    (copy_dir,) = list(scratch.iterdir())
    assert stat.S_IMODE(os.stat(copy_dir).st_mode) == 0o700
    with pytest.raises(RuntimeError):
        stream.throw(RuntimeError("consumer failed"))
    assert list(scratch.iterdir()) == []


def test_read_non_sqlite_file_with_db_extension(tmp_path: Path) -> None:
    fake = tmp_path / "sms.db"
    fake.write_bytes(b"PK\x03\x04 this is a zip, not a database" * 10)
    assert ios_sms_db.sniff(fake) is False
    with pytest.raises(CorruptArchive) as info:
        _read(fake)
    assert str(info.value) == f"{fake}: not an SQLite database"


def test_read_other_sqlite_database_is_unsupported(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "notes.db")
    conn.execute("CREATE TABLE note (id INTEGER, body TEXT)")
    conn.close()
    assert ios_sms_db.sniff(tmp_path / "notes.db") is False
    with pytest.raises(UnsupportedArchive, match="not an iOS Messages database"):
        _read(tmp_path / "notes.db")


def test_sniff_accepts_trimmed_database_without_chat(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "trimmed.db")
    conn.execute(
        "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT, service TEXT)"
    )  # service from here
    conn.execute(
        "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, handle_id INTEGER,"
        " date INTEGER, is_from_me INTEGER)"
    )
    conn.execute("INSERT INTO handle VALUES (1, '22000', 'SMS')")
    conn.execute("INSERT INTO message VALUES (1, 'T-1', 'hi', 1, 700000000000000000, 0)")
    conn.commit()
    conn.close()
    assert ios_sms_db.sniff(tmp_path / "trimmed.db") is True
    messages, _ = _read(tmp_path / "trimmed.db")
    assert [(m.address, m.body, m.service) for m in messages] == [("22000", "hi", Service.SMS)]


# --- sample_data/iphone-sms.db -----------------------------------------------------------------


def test_iphone_sample_is_reproducible_and_reads(tmp_path: Path) -> None:
    import importlib.util

    from tests.conftest import SAMPLE_DATA

    spec = importlib.util.spec_from_file_location("make_iphone_sample", SAMPLE_DATA / "make_iphone_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt = module.build(tmp_path / "iphone-sms.db")
    committed = SAMPLE_DATA / "iphone-sms.db"
    assert rebuilt.read_bytes() == committed.read_bytes(), "run python sample_data/make_iphone_sample.py"
    assert committed.stat().st_size < 64 * 1024
    conn = sqlite3.connect(f"file:{committed}?mode=ro", uri=True)
    assert conn.execute("SELECT count(*), sum(text IS NULL) FROM message").fetchone() == (21, 7)
    conn.close()
    messages, stats = _read(committed, region="US")
    assert (stats.read, stats.excluded, stats.details["ios_tapbacks"]) == (20, 1, "1")
    stops = [
        (m.address, m.timestamp.date().isoformat())
        for m in messages
        if m.direction is Direction.OUT and m.body == "STOP"
    ]
    assert stops == [("24273", "2024-03-04"), ("72345", "2024-03-08")]
    confirmed = datetime(2024, 3, 8, 15, 20, 44, tzinfo=UTC)  # ACME's "You have been unsubscribed"
    after = [
        (m.address, m.timestamp.date().isoformat())
        for m in messages
        if m.address in ("72345", "72346") and m.timestamp > confirmed
    ]
    assert after == [("72345", "2024-03-25"), ("72346", "2024-03-27"), ("72346", "2024-04-05")]
    group = [m for m in messages if m.is_group]
    assert {m.thread_key for m in group} == {"chat493875620745871235"}
    assert len(group) == 3


def test_detect_by_content_not_extension(tmp_path: Path) -> None:
    from sms_audit.importers import SUPPORTED_HINT, detect

    renamed = make_ios16_db(tmp_path / "backup.xml")  # an sms.db under a misleading name
    assert detect(renamed).NAME == "ios_sms_db"
    fake = tmp_path / "sms.db"
    fake.write_bytes(b"not a database at all\n" * 20)
    with pytest.raises(UnsupportedArchive) as info:
        detect(fake)
    assert str(info.value) == f"{fake}: not a supported archive"
    assert info.value.hint == SUPPORTED_HINT
    assert "iOS sms.db / macOS chat.db (SQLite)" in SUPPORTED_HINT
