"""Android mmssms.db importer: SMS, MMS, groups, Samsung spam, the empty AOSP sample, dedup with SB&R."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sms_audit.errors import CorruptArchive, UnsupportedArchive
from sms_audit.importers import android_mmssms, android_xml
from sms_audit.importers.base import ReadOptions, ReadStats
from sms_audit.model import Direction, Message, Service, mms_message_id, sms_message_id
from tests.conftest import sample_path
from tests.fixtures_android_db import MmssmsDb

FRIEND, COWORKER, NEIGHBOUR = "+12025550142", "+12025550167", "+12025550175"


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def _read(path: Path, region: str | None = "US") -> tuple[list[Message], ReadStats]:
    stats = ReadStats()
    return list(android_mmssms.read(path, ReadOptions(region=region), stats)), stats


def _story(path: Path, *, samsung: bool = False) -> Path:
    db = MmssmsDb(path, samsung=samsung)
    shop = db.thread("22000")
    friend = db.thread(FRIEND)
    group = db.thread(FRIEND, COWORKER, NEIGHBOUR)
    db.sms(
        shop,
        "22000",
        1709647200123,
        1,
        "ACME: 20% off this weekend! Reply STOP to opt out",
        date_sent_ms=1709647199000,
    )
    db.sms(shop, "22000", 1709647390456, 2, "STOP")
    db.sms(shop, "22000", 1711040400789, 1, "ACME: new arrivals just for you", date_sent_ms=1711040400000)
    db.sms(friend, FRIEND, 1709740800000, 5, "running late")  # failed
    db.sms(friend, FRIEND, 0, 1, "broken row")  # no date: skipped
    db.mms(
        friend,
        1709740900,
        1,
        texts=["look at this"],
        image=True,
        m_id="mavodi-1-8b-6f-1-2f-1a2b3c",
        addrs=[(FRIEND, 137), ("+12025550100", 151)],
    )
    db.mms(
        group,
        1709827200,
        2,
        texts=["pizza friday?"],
        addrs=[("insert-address-token", 137), (FRIEND, 151), (COWORKER, 151), (NEIGHBOUR, 151)],
    )
    if samsung:
        db.sms(
            shop,
            "22000",
            1711645200000,
            1,
            "ACME Outlet: last chance, 70% off",
            table="spam_sms",
            filter_type=2,
        )
        db.conn.execute("INSERT INTO spam_pdu (thread_id, date, msg_box) VALUES (1, 1711645200, 1)")
    return db.close()


def test_read_story_counts(tmp_path: Path) -> None:
    messages, stats = _read(_story(tmp_path / "mmssms.db"))
    assert (stats.read, stats.skipped, stats.excluded) == (6, 1, 0)
    assert [(m.source_record, m.direction.value, m.service.value) for m in messages] == [
        ("sms:1", "in", "sms"),
        ("sms:2", "out", "sms"),
        ("sms:3", "in", "sms"),
        ("sms:4", "failed", "sms"),
        ("pdu:1", "in", "mms"),
        ("pdu:2", "out", "mms"),
    ]
    assert stats.details == {"android_user_version": "66", "android_spam_sms": "0"}


def test_read_sms_fully_specified(tmp_path: Path) -> None:
    path = _story(tmp_path / "mmssms.db")
    first = _read(path)[0][0]
    assert first == Message(
        message_id=sms_message_id(
            "22000", Direction.IN, 1709647200123, "ACME: 20% off this weekend! Reply STOP to opt out"
        ),
        source_format="android_mmssms",
        source_file=str(path),
        source_record="sms:1",
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


def test_read_mms_fully_specified(tmp_path: Path) -> None:
    path = _story(tmp_path / "mmssms.db")
    photo = _read(path)[0][4]
    assert photo == Message(
        message_id=mms_message_id(
            FRIEND, Direction.IN, 1709740900, "look at this", "mavodi-1-8b-6f-1-2f-1a2b3c"
        ),
        source_format="android_mmssms",
        source_file=str(path),
        source_record="pdu:1",
        thread_key=FRIEND,
        direction=Direction.IN,
        address_raw=FRIEND,
        address=FRIEND,
        sender_kind="mobile",
        timestamp=datetime(2024, 3, 6, 16, 1, 40, tzinfo=UTC),
        body="look at this",
        sent_timestamp=datetime(2024, 3, 6, 16, 1, 40, tzinfo=UTC),
        service=Service.MMS,
        has_attachments=True,
    )


def test_read_group_mms_addressed_to_group(tmp_path: Path) -> None:
    group = _read(_story(tmp_path / "mmssms.db"))[0][5]
    key = "+12025550142~+12025550167~+12025550175"
    assert (group.is_group, group.thread_key, group.address, group.sender_kind) == (True, key, key, "group")
    assert group.address_raw == "+12025550142~+12025550167~+12025550175"
    assert group.body == "pizza friday?"


def test_read_samsung_extra_columns_and_spam(tmp_path: Path) -> None:
    messages, stats = _read(_story(tmp_path / "mmssms.db", samsung=True))
    assert stats.read == 7
    spam = [m for m in messages if m.source_record.startswith("spam_sms:")]
    assert [(m.address, m.direction, m.is_filtered, m.body) for m in spam] == [
        ("22000", Direction.IN, True, "ACME Outlet: last chance, 70% off")
    ]
    assert not any(m.is_filtered for m in messages if m not in spam)
    assert stats.details == {
        "android_user_version": "358",
        "android_vendor": "samsung",
        "android_spam_pdu_not_imported": "1",
        "android_spam_sms": "1",
    }


def test_read_real_empty_aosp_database() -> None:
    path = sample_path("mmssms-aosp-empty-teleshoes", "mmssms.db")
    before = _hashes(path.parent)
    assert android_mmssms.sniff(path) is True
    messages, stats = _read(path)
    assert messages == []
    assert (stats.read, stats.skipped) == (0, 0)
    assert stats.details["android_user_version"] == "66"
    assert _hashes(path.parent) == before


def test_read_wal_database_in_readonly_folder(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    db = MmssmsDb(folder / "mmssms.db")
    db.conn.commit()
    db.conn.execute("PRAGMA journal_mode=WAL")
    db.sms(db.thread("22000"), "22000", 1709647200123, 1, "hello")
    db.close()
    folder.chmod(0o500)
    try:
        before = _hashes(folder)
        assert [m.body for m in _read(folder / "mmssms.db")[0]] == ["hello"]
        assert _hashes(folder) == before
    finally:
        folder.chmod(0o700)


def test_sniff_and_errors(tmp_path: Path) -> None:
    fake = tmp_path / "mmssms.db"
    fake.write_text("definitely not sqlite", encoding="utf-8")
    assert android_mmssms.sniff(fake) is False
    with pytest.raises(CorruptArchive, match="not an SQLite database$"):
        _read(fake)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE threads (_id INTEGER)")
    conn.close()
    assert android_mmssms.sniff(other) is False
    with pytest.raises(UnsupportedArchive, match="no sms table"):
        _read(other)


def test_read_dedupes_with_sbr_xml_of_the_same_phone(tmp_path: Path) -> None:
    db = MmssmsDb(tmp_path / "mmssms.db")
    shop = db.thread("22000")
    friend = db.thread(FRIEND)
    db.sms(
        shop,
        "22000",
        1709647200123,
        1,
        "ACME: 20% off this weekend! Reply STOP to opt out",
        date_sent_ms=1709647199000,
    )
    db.sms(shop, "22000", 1709647390456, 2, "STOP")
    db.sms(friend, FRIEND, 1709740000000, 1, "only in the database")
    db.mms(
        friend,
        1709740900,
        1,
        texts=["look at this"],
        m_id="mavodi-1-8b-6f-1-2f-1a2b3c",
        addrs=[(FRIEND, 137), ("+12025550100", 151)],
    )
    db.close()
    xml = tmp_path / "sms-20240320.xml"
    xml.write_text(
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
        '<smses count="3">\n'
        '<sms protocol="0" address="22000" date="1709647200123" type="1" subject="null" '
        'body="ACME: 20% off this weekend! Reply STOP to opt out" toa="null" sc_toa="null" '
        'service_center="+12025550999" read="1" status="-1" locked="0" date_sent="1709647199000" sub_id="1" '
        'readable_date="Mar 5, 2024 9:00:00 AM" contact_name="(Unknown)" />\n'
        '<sms protocol="0" address="22000" date="1709647390456" type="2" subject="null" body="STOP" '
        'toa="null" sc_toa="null" service_center="null" read="1" status="-1" locked="0" date_sent="0" '
        'sub_id="1" readable_date="Mar 5, 2024 9:03:10 AM" contact_name="(Unknown)" />\n'
        '<mms date="1709740900000" msg_box="1" address="+12025550142" m_id="mavodi-1-8b-6f-1-2f-1a2b3c" '
        'date_sent="1709740900" m_type="132" read="1" sub="null" ct_t="application/vnd.wap.multipart.related" '
        'text_only="1" readable_date="Mar 6, 2024 11:01:40 AM" contact_name="(Unknown)">'
        '<parts><part seq="-1" ct="application/smil" text="&lt;smil/&gt;" />'
        '<part seq="0" ct="text/plain" chset="106" text="look at this" /></parts>'
        '<addrs><addr address="+12025550142" type="137" charset="106" />'
        '<addr address="+12025550100" type="151" charset="106" /></addrs></mms>\n'
        "</smses>\n",
        encoding="utf-8",
    )
    from_db = _read(tmp_path / "mmssms.db")[0]
    from_xml = list(android_xml.read(xml, ReadOptions(region="US"), ReadStats()))
    assert len(from_xml) == 3
    shared = {m.message_id for m in from_db} & {m.message_id for m in from_xml}
    assert shared == {m.message_id for m in from_xml}
    assert len({m.message_id for m in from_db} | {m.message_id for m in from_xml}) == 4
