"""The crash sites bench/fuzz_importers.py found, each fixed as a kind and tested with several shapes:
every one ended in the error boundary's catch-all ("unreadable (XxxError while reading it)") or in
a hang or a memory peak; each must now be a one-line data error, a warning or a counted skip."""

from __future__ import annotations

import io
import json
import plistlib
import signal
import sqlite3
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms_audit.model import BODY_CUT_MARK
from sms_audit.pipeline import ArchiveResult, Messages, read_archives
from tests.fixtures_android_db import MmssmsDb, sms_ie_sms
from tests.fixtures_ios import IOS16_SCHEMA, SmsDb, dt, make_backup, make_ios16_db
from tests.fixtures_sbr import document, sms


def _read(path: Path, passphrase: str | None = None) -> tuple[Messages, ArchiveResult]:
    messages = read_archives([path], get_passphrase=(lambda _prompt: passphrase) if passphrase else None)
    (result,) = messages.archives
    assert result.error is None or not result.error.message.startswith("unreadable ("), result.error
    return messages, result


# --- malformed plists: any plistlib failure is "unreadable", never a crash -------------------------

_PLIST_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n'


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # a <key> outside a <dict> (IndexError inside plistlib)
        (b"<key>Device Name</key><string>iPhone</string>", "list index out of range"),
        # a <date> that is no ISO date (AttributeError inside plistlib)
        (b"<dict><key>Last Backup Date</key><date>yesterday</date></dict>", "has no attribute 'groupdict'"),
        # an <integer> that is no number (ValueError), a tag left open (ExpatError)
        (b"<dict><key>Product Version</key><integer>17.4</integer></dict>", "invalid literal for int()"),
        (b"<dict><key>Device Name</key><string>iPhone</dict>", "mismatched tag"),
    ],
)
def test_malformed_info_plist_costs_only_the_device_details(tmp_path: Path, body: bytes, reason: str) -> None:
    db = make_ios16_db(tmp_path / "sms.db")
    expected, _ = _read(make_backup(tmp_path / "good", db))
    folder = make_backup(tmp_path / "bad", db)
    (folder / "Info.plist").write_bytes(_PLIST_HEAD + body + b"\n</plist>\n")
    messages, result = _read(folder)
    assert result.error is None and len(messages) == len(expected) == 8
    assert [w for w in result.warnings if w.startswith("Info.plist is unreadable")] == [
        next(w for w in result.warnings if reason in w)
    ]
    assert "device_name" not in result.details


@pytest.mark.parametrize(
    ("manifest_key", "reason"),
    [
        (b"\x03", "struct.error: unpack requires a buffer of 4 bytes"),  # cut after one byte
        (5, "TypeError: 'int' object is not subscriptable"),  # an <integer> where data belongs
        ("-0", "TypeError"),  # a <string> where data belongs
    ],
)
def test_encrypted_backup_with_a_damaged_manifest_key_is_one_corrupt_error(
    tmp_path: Path, manifest_key: object, reason: str
) -> None:
    pytest.importorskip("Crypto")
    from tests.fixtures_ios import make_encrypted_backup

    folder = make_encrypted_backup(tmp_path / "enc", make_ios16_db(tmp_path / "sms.db"), "correct horse")
    manifest = plistlib.loads((folder / "Manifest.plist").read_bytes())
    manifest["ManifestKey"] = manifest_key
    (folder / "Manifest.plist").write_bytes(plistlib.dumps(manifest, fmt=plistlib.FMT_BINARY))
    messages, result = _read(folder, "correct horse")
    assert (len(messages), result.status) == (0, "failed")
    assert result.error is not None
    assert result.error.message.startswith(f"cannot decrypt the iOS backup ({reason}")
    assert not list(tmp_path.glob("**/sms-audit-*"))


@pytest.mark.parametrize(("tag", "rounds"), [(b"DPIC", 2**31 + 1), (b"ITER", 20_000_001)])
def test_encrypted_backup_whose_keybag_asks_for_hours_of_key_derivation_is_refused(
    tmp_path: Path, tag: bytes, rounds: int
) -> None:
    """One flipped bit in the keybag's DPIC (PBKDF2 rounds, 10,000,000 in real backups) once kept the
    decryption busy for seconds to hours."""
    pytest.importorskip("Crypto")
    from tests.fixtures_ios import make_encrypted_backup

    folder = make_encrypted_backup(tmp_path / "enc", make_ios16_db(tmp_path / "sms.db"), "correct horse")
    manifest = plistlib.loads((folder / "Manifest.plist").read_bytes())
    at = manifest["BackupKeyBag"].index(tag)
    keybag = bytearray(manifest["BackupKeyBag"])
    keybag[at + 8 : at + 12] = rounds.to_bytes(4, "big")
    manifest["BackupKeyBag"] = bytes(keybag)
    (folder / "Manifest.plist").write_bytes(plistlib.dumps(manifest, fmt=plistlib.FMT_BINARY))
    messages, result = _read(folder, "correct horse")
    assert (len(messages), result.status) == (0, "failed")
    assert result.error is not None and result.error.message == (
        f"the backup's keybag asks for {rounds:,} key-derivation rounds ({tag.decode()}); iPhones write at "
        "most 10,000,000, so Manifest.plist is damaged"
    )


# --- zlib bombs: bounded inflation, in bounded time -------------------------------------------------


def _telephony(path: Path, records: list[dict[str, object]], filler: int = 0) -> Path:
    """A TelephonyBackupAgent file whose last record's body is ``filler`` bytes of one character,
    compressed in 1 MiB steps (the test never holds the inflated data)."""
    deflate = zlib.compressobj(9)
    text = json.dumps(records)
    if filler:
        head, _, tail = text.rpartition('"FILL"')
        parts = [deflate.compress(head.encode() + b'"')]
        parts += [deflate.compress(b"x" * (1 << 20)) for _ in range(filler >> 20)]
        parts.append(deflate.compress(b'"' + tail.encode()))
    else:
        parts = [deflate.compress(text.encode())]
    path.write_bytes(b"".join(parts) + deflate.flush())
    return path


_SMS = {
    "address": "10690000123456",
    "body": "【优选商城】满199减50 回T退订",
    "date": "1709647200123",
    "type": "1",
}


@pytest.mark.parametrize("megabytes", [4, 200])
def test_zlib_bomb_is_refused_after_the_records_before_it(tmp_path: Path, megabytes: int) -> None:
    path = _telephony(tmp_path / "000000_sms_backup", [_SMS, {**_SMS, "body": "FILL"}], megabytes << 20)
    assert path.stat().st_size < 250_000
    messages, result = _read(path)
    assert (len(messages), result.status) == (1, "corrupt")  # the record before the bomb is kept
    assert result.error is not None
    assert (
        result.error.message
        == "refusing a possible zlib bomb: 000000_sms_backup inflates beyond 200× its size"
    )
    assert result.error.hint == "if you trust this file, raise the limit with SMS_AUDIT_MAX_INFLATE_RATIO"


def test_zlib_ratio_limit_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _telephony(tmp_path / "000000_sms_backup", [_SMS, {**_SMS, "body": "FILL"}], 4 << 20)
    monkeypatch.setenv("SMS_AUDIT_MAX_INFLATE_RATIO", "100000")
    messages, result = _read(path)
    assert (len(messages), result.status) == (2, "ok")
    # The 4 MiB text now inflates, and is then cut at the body limit and marked like any long text.
    bodies = sorted(messages.frame["body"], key=len)
    assert bodies[0] == _SMS["body"]
    assert bodies[1] == "x" * 1_000_000 + BODY_CUT_MARK


@pytest.mark.parametrize("after", [b"\x00", b"junk" * 25, zlib.compress(b'[{"date": "1"}]')])
def test_zlib_file_with_bytes_after_the_stream_ends(tmp_path: Path, after: bytes) -> None:
    """Data after the end of the zlib stream is ignored (it once kept the inflater looping)."""
    signal.signal(signal.SIGALRM, _too_slow)
    signal.alarm(60)  # a hang fails the test instead of stopping the suite
    try:
        _check_bytes_after(tmp_path, after)
    finally:
        signal.alarm(0)


def _too_slow(*_args: object) -> None:
    raise TimeoutError("still reading after 60 s")


def _check_bytes_after(tmp_path: Path, after: bytes) -> None:
    nested = {**_SMS, "recipients": "NEST"}
    text = json.dumps([_SMS, nested]).replace('"NEST"', "[" * 100_000 + "]" * 100_000)
    path = tmp_path / "000000_sms_backup"
    path.write_bytes(zlib.compress(text.encode()) + after)
    messages, result = _read(path)
    assert len(messages) == 1 and result.error is not None
    assert "maximum recursion depth exceeded" in result.error.message


def test_zlib_file_below_the_ratio_reads_in_full(tmp_path: Path) -> None:
    records = [
        {**_SMS, "date": str(1709647200123 + i * 60_000), "body": f"第{i}条 回T退订"} for i in range(3000)
    ]
    path = _telephony(tmp_path / "000000_sms_backup", records)
    messages, result = _read(path)
    assert (len(messages), result.status) == (3000, "ok")


# --- SQLite cells of the wrong storage class ---------------------------------------------------------


def test_ios_handles_and_chats_stored_as_numbers_or_blobs_read_as_text(tmp_path: Path) -> None:
    """SQLite keeps any type in any column: a NUMERIC-typed handle.id stores "22000" as 22000, a
    damaged or hand-edited database may hold BLOBs; group members and addresses are still text."""
    schema = IOS16_SCHEMA.replace("id TEXT NOT NULL", "id NUMERIC NOT NULL")
    db = SmsDb(tmp_path / "sms.db", schema=schema)
    shop = db.handle("22000")  # stored as the integer 22000
    friend = db.handle("ann@example.com", "iMessage")
    other = db.handle("bob@example.com", "iMessage")
    group = db.chat("chat1", [friend, other], style=43, service="iMessage", room_name="chat1")
    db.message(
        guid="G1",
        handle=shop,
        chat=db.chat("22000", [shop]),
        date=dt("2024-03-05 14:00:00"),
        text="ACME 20% off",
    )
    db.message(
        guid="G2",
        handle=friend,
        chat=group,
        date=dt("2024-03-05 15:00:00"),
        text="hi all",
        service="iMessage",
    )
    db.conn.execute("UPDATE handle SET id = CAST(id AS BLOB) WHERE ROWID = ?", (other,))
    db.conn.execute(
        "UPDATE chat SET chat_identifier = CAST(chat_identifier AS BLOB) WHERE ROWID = ?", (group,)
    )
    db.conn.execute("UPDATE message SET guid = 42 WHERE guid = 'G2'")
    path = db.close()
    assert sqlite3.connect(path).execute("SELECT typeof(id) FROM handle ORDER BY ROWID").fetchall() == [
        ("integer",),
        ("text",),
        ("blob",),
    ]
    messages, result = _read(path)
    assert result.error is None
    frame = messages.frame.sort_values("timestamp")
    assert frame["address_raw"].tolist() == ["22000", "ann@example.com"]
    assert frame["thread_key"].tolist()[1] == "chat1"
    assert frame["recipients"].tolist()[1] == ("bob@example.com",)
    assert frame["source_record"].tolist() == ["G1", "42"]


def test_android_addresses_stored_as_blobs_read_as_text(tmp_path: Path) -> None:
    db = MmssmsDb(tmp_path / "mmssms.db")
    shop = db.thread("10690000123456")
    db.sms(shop, "10690000123456", 1709647200123, 1, "【优选商城】满199减50 回T退订")
    db.mms(shop, 1709647300, 1, texts=["看图"], addrs=[("10690000123456", 137), ("+8613800138000", 151)])
    db.conn.execute("UPDATE sms SET address = CAST(address AS BLOB)")
    db.conn.execute("UPDATE addr SET address = CAST(address AS BLOB)")
    db.conn.execute("UPDATE threads SET recipient_ids = CAST(recipient_ids AS BLOB)")
    messages, result = _read(db.close())
    assert result.error is None
    assert messages.frame["address_raw"].tolist() == ["10690000123456", "10690000123456"]  # not "b'1069…'"


# --- XML element names and ZIP members ---------------------------------------------------------------


@pytest.mark.parametrize("tag", ["x:sms", "sms:sms"])
def test_record_with_an_undeclared_namespace_prefix_is_a_malformed_xml_error(
    tmp_path: Path, tag: str
) -> None:
    text = document(sms("95555", 1700000000000, "first"), sms("95555", 1700000060000, "second"))
    path = tmp_path / "sms.xml"
    path.write_text(text.replace("<sms ", f"<{tag} ", 1).replace("/>", "/>", 1), encoding="utf-8")
    messages, result = _read(path)
    assert messages.frame["body"].tolist() == ["first", "second"]
    assert result.status == "corrupt" and result.error is not None
    prefix = tag.split(":")[0]
    assert (
        result.error.message
        == f"read 2 records; malformed XML at line 4: Namespace prefix {prefix} on sms is not defined"
    )


def _zip(path: Path, name: str, data: bytes, method: int) -> Path:
    """A ZIP whose one member has bytes 40–60 of its compressed data damaged."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(name, (2024, 3, 5, 12, 0, 0)), data, compress_type=method)
    raw = bytearray(buffer.getvalue())
    start = 30 + len(name)
    for i in range(start + 40, start + 60):
        raw[i] ^= 0x55
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(
    ("method", "cause"),
    [(zipfile.ZIP_LZMA, "Corrupt input data"), (zipfile.ZIP_BZIP2, "Invalid data stream")],
)
def test_damaged_lzma_or_bzip2_member_is_a_damaged_zip_error(tmp_path: Path, method: int, cause: str) -> None:
    lines = "".join(
        json.dumps(sms_ie_sms(i, 1, "95555", 1709647200123 + i * 1000, 1, f"message {i}")) + "\n"
        for i in range(200)
    )
    path = _zip(tmp_path / "messages.zip", "messages.ndjson", lines.encode(), method)
    messages, result = _read(path)
    assert (len(messages), result.format) == (0, "sms_ie")
    assert result.error is not None
    assert (
        result.error.message
        == f"read 0 records, then: damaged ZIP member messages.ndjson after 0 bytes ({cause})"
    )


def test_sbr_zip_whose_xml_member_is_damaged_lzma_is_no_crash(tmp_path: Path) -> None:
    text = document(*(sms("95555", 1700000000000 + i * 60_000, f"body {i} " * 20) for i in range(50)))
    path = _zip(tmp_path / "sms.zip", "sms-1.xml", text.encode(), zipfile.ZIP_LZMA)
    _messages, result = _read(path)
    assert result.error is not None and result.error.message == "not a supported archive"


@pytest.mark.parametrize("junk", ["²", "9" * 5000, "-1", "1.5", "٣"])
def test_thread_recipient_ids_that_are_no_ascii_numbers_are_ignored(tmp_path: Path, junk: str) -> None:
    """threads.recipient_ids is "space-separated canonical_addresses ids"; a damaged one may hold
    superscripts (str.isdigit but not int()), 5,000-digit numbers or other digits: they are skipped."""
    db = MmssmsDb(tmp_path / "mmssms.db")
    group = db.thread("+8613800138000", "+8613900139000")
    db.mms(group, 1709647300, 2, texts=["周末聚餐"], addrs=[("insert-address-token", 137)])
    db.conn.execute("UPDATE threads SET recipient_ids = ? WHERE _id = ?", (f"1 {junk} 2", group))
    messages, result = _read(db.close())
    assert result.error is None and len(messages) == 1
    assert messages.frame["address_raw"].tolist() == ["+8613800138000~+8613900139000"]


# --- ZIP headers that lie, and reading lines of any length in linear time ------------------------------


def _bomb_zip(path: Path, megabytes: int) -> bytes:
    buffer = io.BytesIO()
    info = zipfile.ZipInfo("messages.ndjson", (2024, 3, 5, 12, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w") as archive, archive.open(info, "w") as member:
        member.write(json.dumps(sms_ie_sms(1, 1, "95555", 1709647200123, 1, "before")).encode() + b"\n")
        member.write(b'{"body": "')
        for _ in range(megabytes):
            member.write(b"x" * (1 << 20))
        member.write(b'"}\n')
    return buffer.getvalue()


@pytest.mark.parametrize("compressed", [0xFFFFFFFF, 0x7FFFFFFF])
def test_zip_bomb_whose_header_overstates_its_compressed_size_is_refused(
    tmp_path: Path, compressed: int
) -> None:
    """The ratio check takes the compressed size from the header; a header claiming 4 GB must not
    make an 8 MB member out of 8 KB look harmless (nor lift the inflation budget)."""
    data = bytearray(_bomb_zip(tmp_path, 8))
    central = data.rindex(b"PK\x01\x02")
    data[central + 20 : central + 24] = compressed.to_bytes(4, "little")
    path = tmp_path / "messages.zip"
    path.write_bytes(bytes(data))
    messages, result = _read(path)
    assert len(messages) == 0 and result.error is not None
    assert result.error.message.startswith("refusing a possible ZIP bomb: messages.ndjson inflates ")
    assert result.error.message.endswith("× (limit 200×)")


def test_overlong_ndjson_line_in_a_zip_is_skipped_in_linear_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMS_AUDIT_MAX_INFLATE_RATIO", "100000")
    monkeypatch.setenv("SMS_AUDIT_MAX_RECORD_BYTES", str(1 << 20))
    path = tmp_path / "messages.zip"
    path.write_bytes(_bomb_zip(tmp_path, 64))
    calls = []
    real = zipfile.ZipExtFile.read
    monkeypatch.setattr(zipfile.ZipExtFile, "read", lambda self, n=-1: calls.append(n) or real(self, n))
    messages, result = _read(path)
    assert (len(messages), result.error) == (1, None)
    assert result.warnings == [
        "skipped 1 record: a record longer than 1048576 bytes (limit SMS_AUDIT_MAX_RECORD_BYTES)"
    ]
    assert len(calls) < 2000  # 64 KiB steps, not zipfile's 512-byte readline steps (130,000 reads)


@given(
    lines=st.lists(st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"")), max_size=40),
    ops=st.lists(st.tuples(st.sampled_from(["read", "readline"]), st.integers(-1, 700)), max_size=60),
)
@settings(max_examples=150, deadline=None)
def test_guarded_member_reads_like_a_file(lines: list[bytes], ops: list[tuple[str, int]]) -> None:
    """read and readline, mixed, with and without a size: the same bytes as io.BytesIO gives."""
    from sms_audit.importers._zip import GuardedMember
    from sms_audit.importers.base import Limits

    data = b"\n".join(lines) + (b"\n" if lines and len(lines) % 2 else b"")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("m.ndjson", data)
    with zipfile.ZipFile(buffer) as archive:
        info = archive.getinfo("m.ndjson")
        with archive.open(info) as stream:
            member = GuardedMember(stream, info, Path("/nonexistent.zip"), Limits())
            expected = io.BytesIO(data)
            for op, size in ops:
                assert getattr(member, op)(size) == getattr(expected, op)(size)
            assert member.read() == expected.read()


# --- text that is not UTF-8 costs characters, never the rows after it -------------------------------


def test_mmssms_bodies_that_are_not_utf8_are_read_with_replacements(tmp_path: Path) -> None:
    db = MmssmsDb(tmp_path / "mmssms.db")
    shop = db.thread("10690000123456")
    for i, body in enumerate(["第一条 回T退订", "BAD", "第三条 回T退订"]):
        db.sms(shop, "10690000123456", 1709647200123 + i * 60_000, 1, body)
    db.mms(shop, 1709647400, 1, texts=["BAD"], addrs=[("10690000123456", 137)])
    db.conn.execute("UPDATE sms SET body = CAST(X'e7acacc0af20eda080' AS TEXT) WHERE body = 'BAD'")
    db.conn.execute("UPDATE part SET text = CAST(X'fffe41' AS TEXT) WHERE text = 'BAD'")
    messages, result = _read(db.close())
    assert (result.error, len(messages)) == (None, 4)
    assert messages.frame.sort_values("timestamp")["body"].tolist() == [
        "第一条 回T退订",
        "第\ufffd\ufffd \ufffd\ufffd\ufffd",
        "第三条 回T退订",
        "\ufffd\ufffdA",
    ]


def test_ios_texts_and_handles_that_are_not_utf8_are_read_with_replacements(tmp_path: Path) -> None:
    db = SmsDb(tmp_path / "sms.db")
    shop = db.handle("22000")
    chat = db.chat("22000", [shop])
    for i in range(3):
        db.message(guid=f"G{i}", handle=shop, chat=chat, date=dt(f"2024-03-05 14:0{i}:00"), text=f"ACME {i}")
    db.conn.execute("UPDATE message SET text = CAST(X'41ff42' AS TEXT) WHERE guid = 'G1'")
    db.conn.execute("UPDATE handle SET uncanonicalized_id = CAST(X'c0' AS TEXT)")
    messages, result = _read(db.close())
    assert (result.error, len(messages)) == (None, 3)
    assert messages.frame["body"].tolist() == ["ACME 0", "A\ufffdB", "ACME 2"]


def _sms_ie_lines(bodies: list[bytes]) -> bytes:
    lines = []
    for i, body in enumerate(bodies):
        line = json.dumps(sms_ie_sms(i, 1, "10690000123456", 1709647200123 + i * 60_000, 1, "BODY")).encode()
        lines.append(line.replace(b'"BODY"', body))
    return b"\n".join(lines) + b"\n"


def test_sms_ie_ndjson_lines_with_bad_bytes_or_huge_numbers_cost_one_record_at_most(tmp_path: Path) -> None:
    data = _sms_ie_lines([b'"\xe7\xac\xac\xc0\xaf"', b"9" * 5000, b'"ok"'])
    path = tmp_path / "messages.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("messages.ndjson", data)
    messages, result = _read(path)
    assert (result.error, messages.frame["body"].tolist()) == (None, ["第\ufffd\ufffd", "ok"])
    assert result.warnings == ["skipped 1 record: a number too long to read (over 4,300 digits)"]


def test_json_arrays_with_bytes_that_are_not_utf8_keep_every_record(tmp_path: Path) -> None:
    """sms-ie v1 and the adb TelephonyBackupAgent files are one JSON array each: a damaged body
    costs its characters, not the records after it."""
    v1 = tmp_path / "messages-2021-05-11.json"
    v1.write_bytes(b"[" + _sms_ie_lines([b'"\xff\xfeA"', b'"ok"']).replace(b"}\n{", b"},\n{").rstrip() + b"]")
    telephony = tmp_path / "000000_sms_backup"
    records = json.dumps([{**_SMS, "body": "BODY"}, {**_SMS, "date": "1709647260123", "body": "ok"}]).encode()
    telephony.write_bytes(zlib.compress(records.replace(b'"BODY"', b'"A\xc0B"')))
    for path, first in ((v1, "\ufffd\ufffdA"), (telephony, "A\ufffdB")):
        messages, result = _read(path)
        assert (result.error, messages.frame["body"].tolist()) == (None, [first, "ok"])


# --- numbers in text fields: str.isdigit() is no guard for int() ------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), (" -1 ", -1), ("+7", 7), ("9" * 20, int("9" * 20)), ("9" * 21, None), ("9" * 5000, None),
     ("²", None), ("٣", None), ("１２", None), ("1.5", None), ("", None), ("0x1F", None), (None, None)],
)  # fmt: skip
def test_parse_int_reads_ascii_decimal_text_only(text: str | None, value: int | None) -> None:
    from sms_audit.importers.base import parse_int

    assert parse_int(text) == value


@pytest.mark.parametrize("junk", ["9" * 5000, "²", "٣", "1.5", "&#99999999999999;"])
def test_super_backup_type_that_is_no_number_skips_only_its_record(tmp_path: Path, junk: str) -> None:
    from tests.fixtures_super_backup import document as sb_document
    from tests.fixtures_super_backup import sms as sb_sms

    lines = [sb_sms("95588", 1725161040000 + i * 60_000, f"第{i}条") for i in range(3)]
    lines[1] = lines[1].replace('type="1"', f'type="{junk}"')
    path = tmp_path / "sms.xml"
    path.write_text(sb_document(*lines), encoding="utf-8")
    messages, result = _read(path)
    assert (result.format, result.error) == ("super_backup_xml", None)
    assert messages.frame["body"].tolist() == ["第0条", "第2条"]
    assert result.warnings == ["skipped 1 record: no message type"]


# --- MIUI backups: zip members read through the shared guarded reader ---------------------------------


def _miui_zip(tmp_path: Path, count: int = 300) -> tuple[Path, list[str]]:
    """A HyperOS-style zip of a MIUI backup folder: an SMS .bak of ``count`` messages, an MMS .bak."""
    from tests.fixtures_miui import Mms, write_backup, zip_backup
    from tests.fixtures_miui import Sms as MiuiSms

    bodies = [f"【优选商城】第{i}条 {i * 7919 % 100003} 回T退订" for i in range(count)]
    sms_rows = [MiuiSms("10690000123456", 1725161040000 + i * 60_000, body) for i, body in enumerate(bodies)]
    mms = [Mms(1725500000, 1, [("+8613900001111", 137)], [("text/plain", "彩信")])]
    folder = write_backup(tmp_path / "backup", sms=sms_rows, mms=mms)
    return zip_backup(folder, tmp_path / "backup.zip"), bodies


def _member_data(path: Path, name_part: str) -> tuple[int, int, int]:
    """(local header offset, data offset, compressed size) of the first member whose name has ``name_part``."""
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if name_part in i.filename)
    raw = path.read_bytes()
    nlen, xlen = (
        int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little"),
        int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little"),
    )
    return info.header_offset, info.header_offset + 30 + nlen + xlen, info.compress_size


@pytest.mark.parametrize("damage", ["zeros", "flip"])
def test_miui_zip_with_a_damaged_sms_member_keeps_the_records_before_and_the_mms(
    tmp_path: Path, damage: str
) -> None:
    path, bodies = _miui_zip(tmp_path)
    _header, start, size = _member_data(path, "短信")
    raw = bytearray(path.read_bytes())
    at = start + size * 2 // 3
    for i in range(at, at + 64):
        raw[i] = 0 if damage == "zeros" else raw[i] ^ 0x5A
    path.write_bytes(bytes(raw))
    messages, result = _read(path)
    assert result.format == "miui_backup" and result.error is not None
    assert result.error.message.startswith("短信(com.android.mms).bak: ")
    sms_bodies = [b for b in messages.frame.sort_values("timestamp")["body"] if b != "彩信"]
    assert 100 <= len(sms_bodies) < len(bodies)
    assert sms_bodies[:100] == bodies[:100]  # the records before the damage, in order
    assert "彩信" in messages.frame["body"].tolist()  # the MMS file is read after the damaged SMS file


def _set_method(path: Path, name_part: str, method: int) -> None:
    """Write compression ``method`` into a member's local header and its central directory entry."""
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if name_part in i.filename)
    name = info.filename.encode("utf-8")
    raw = bytearray(path.read_bytes())
    raw[info.header_offset + 8 : info.header_offset + 10] = method.to_bytes(2, "little")
    central = raw.index(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + len(name)] != name:
        central = raw.index(b"PK\x01\x02", central + 4)
    raw[central + 10 : central + 12] = method.to_bytes(2, "little")
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    ("method", "words"), [(99, "is encrypted"), (6, "unsupported compression (method 6)")]
)
def test_miui_zip_whose_sms_member_cannot_be_inflated_is_one_line(
    tmp_path: Path, method: int, words: str
) -> None:
    path, _bodies = _miui_zip(tmp_path, count=5)
    _set_method(path, "短信", method)
    messages, result = _read(path)
    assert result.error is not None and words in result.error.message
    assert "\n" not in result.error.message
    assert messages.frame["body"].tolist() == ["彩信"]


@pytest.mark.parametrize("damage", ["data", "method"])
def test_miui_zip_with_a_damaged_descript_member_finds_the_files_by_name(tmp_path: Path, damage: str) -> None:
    path, bodies = _miui_zip(tmp_path, count=5)
    if damage == "data":
        _header, start, size = _member_data(path, "descript.xml")
        raw = bytearray(path.read_bytes())
        raw[start + size // 2 : start + size // 2 + 8] = bytes(8)
        path.write_bytes(bytes(raw))
    else:
        _set_method(path, "descript.xml", 6)
    from sms_audit.importers import miui_backup

    assert not miui_backup.sniff(path)  # the manifest is what makes a zip a MIUI backup
    messages, result = _read_as(path, "miui_backup")
    assert result.error is None
    assert sorted(messages.frame["body"]) == sorted([*bodies, "彩信"])
    assert "descript.xml is unreadable; Messages files were found by name" in result.warnings


def _read_as(path: Path, input_format: str) -> tuple[Messages, ArchiveResult]:
    messages = read_archives([path], input_format=input_format)
    (result,) = messages.archives
    assert result.error is None or not result.error.message.startswith("unreadable ("), result.error
    return messages, result


@pytest.mark.parametrize("value", ["9" * 5000, "²", "-3", "1e3"])
def test_miui_descript_numbers_that_are_no_numbers_are_ignored(tmp_path: Path, value: str) -> None:
    from tests.fixtures_miui import Sms as MiuiSms
    from tests.fixtures_miui import write_backup

    folder = write_backup(tmp_path / "backup", sms=[MiuiSms("95588", 1725161040000, "您的验证码 204816")])
    descript = folder / "descript.xml"
    text = descript.read_text(encoding="utf-8")
    descript.write_text(
        text.replace("<date>1757900000000</date>", f"<date>{value}</date>").replace(
            "<feature>1</feature><bakFile>短信", f"<feature>{value}</feature><bakFile>短信"
        ),
        encoding="utf-8",
    )
    messages, result = _read(folder)
    assert result.error is None and messages.frame["body"].tolist() == ["您的验证码 204816"]


@pytest.mark.parametrize("count", ["6" * 40, "6" * 5000])
def test_super_backup_count_too_long_to_be_a_count_is_ignored(tmp_path: Path, count: str) -> None:
    from tests.fixtures_super_backup import document as sb_document
    from tests.fixtures_super_backup import sms as sb_sms

    text = sb_document(sb_sms("95588", 1725161040000, "一"), sb_sms("95588", 1725161100000, "二"))
    path = tmp_path / "sms.xml"
    path.write_text(text.replace('count="2"', f'count="{count}"'), encoding="utf-8")
    messages, result = _read(path)
    assert (result.error, result.warnings, messages.frame["body"].tolist()) == (None, [], ["一", "二"])


# --- charsets a file names: only real text encodings ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "codec"),
    [("UTF-8", "utf-8"), ("GBK", "gb18030"), ("gb2312", "gb18030"), ("Big5", "big5"), ("utf-16", "utf-16"),
     ("zlib", None), ("base64", None), ("rot13", None), ("hex", None), ("undefined", None), ("idna", None),
     ("punycode", None), ("unicode_escape", None), ("utf-7", None), ("utf\x00-8", None), ("\ud800", None),
     ("x-bogus", None), ("", None)],
)  # fmt: skip
def test_text_codec_accepts_only_charsets_files_are_written_in(name: str, codec: str | None) -> None:
    from sms_audit.importers._textfile import text_codec

    assert text_codec(name) == codec


@pytest.mark.parametrize(
    "charset", ["zlib", "rot13", "undefined", "unicode_escape", "utf\x00-8", "x-bogus", "idna"]
)
def test_vmsg_body_in_a_charset_that_is_none_is_read_as_utf8(tmp_path: Path, charset: str) -> None:
    from tests.fixtures_vmsg import document as vmsg_document
    from tests.fixtures_vmsg import record

    text = vmsg_document(
        record("95588", "2025/09/01 11:24:00", "退订 \\x41"),  # quoted-printable (OPPO)
        record("95588", "2025/09/01 11:25:00", "raw 退订 \\x41", style="mtk"),  # declared QP, written raw
        record("95588", "2025/09/01 11:26:00", "last"),
    )
    text = text.replace("CHARSET=UTF-8", f"CHARSET={charset}", 2)
    path = tmp_path / "sms.vmsg"
    path.write_text(text, encoding="utf-8")
    messages, result = _read(path)
    assert result.error is None
    assert messages.frame["body"].tolist() == ["退订 \\x41", "raw 退订 \\x41", "last"]


@pytest.mark.parametrize("encoding", ["zlib", "rot13", "undefined", "unicode_escape", "hex", "utf-7"])
def test_super_backup_declaring_a_codec_that_is_no_charset_is_read_by_its_bytes(
    tmp_path: Path, encoding: str
) -> None:
    from tests.fixtures_super_backup import HEADER
    from tests.fixtures_super_backup import document as sb_document
    from tests.fixtures_super_backup import sms as sb_sms

    text = sb_document(sb_sms("95588", 1725161040000, "你好 \\x41 +AGEA-"))
    path = tmp_path / "sms.xml"
    path.write_text(text.replace(HEADER, f'<?xml version="1.0" encoding="{encoding}"?>\n'), encoding="utf-8")
    messages, result = _read(path)
    assert (result.format, result.error) == ("super_backup_xml", None)
    assert messages.frame["body"].tolist() == ["你好 \\x41 +AGEA-"]


# --- CSV: one damaged row of very many fields costs nothing else ------------------------------------


@pytest.mark.parametrize("extra", [3, 3000, 1_000_000])
def test_csv_row_with_very_many_fields_costs_no_other_row(tmp_path: Path, extra: int) -> None:
    from tests.fixtures_csv import qq_csv

    rows = [
        (f"第{i}条 回T退订", "", "10690000123456", f"2025/09/{i + 1:02d} 11:24:00", "收件箱")
        for i in range(20)
    ]
    data = qq_csv(rows).decode("gbk").split("\r\n")
    data[8] += "," * extra  # the 8th message: its cells are all there, then very many empty ones
    path = tmp_path / "qq.csv"
    path.write_bytes("\r\n".join(data).encode("gbk"))
    messages, result = _read(path)
    assert (result.format, result.error) == ("csv", None)
    assert messages.frame["body"].tolist() == [r[0] for r in rows]
    mapped = read_archives([path], csv_map="date=时间,direction=类型,address=号码,body=内容")
    assert mapped.archives[0].error is None and mapped.frame["body"].tolist() == [r[0] for r in rows]


# --- ColorOS key rows of the wrong storage class ----------------------------------------------------


@pytest.mark.parametrize("row_id", ["abc", float("inf"), b"\x01", 1e308, None])
def test_coloros_key_row_whose_id_is_no_integer_still_decrypts(tmp_path: Path, row_id: object) -> None:
    """EncryptInfo._id of a damaged config (its schema lost INTEGER PRIMARY KEY) may hold text, a
    blob or a float: it only names the row in the import details."""
    pytest.importorskip("cryptography")
    from tests.fixtures_vmsg import document as vmsg_document
    from tests.fixtures_vmsg import record, write_coloros_backup

    folder = write_coloros_backup(
        tmp_path / "20250915", vmsg_document(record("95588", "2025/09/01 11:24:00", "您的验证码 204816"))
    )
    db = sqlite3.connect(folder / "backup_config_new.db")
    db.executescript(
        "ALTER TABLE EncryptInfo RENAME TO old; CREATE TABLE EncryptInfo(_id, random TEXT, iv TEXT);"
        "INSERT INTO EncryptInfo(random, iv) SELECT random, iv FROM old; DROP TABLE old;"
    )
    db.execute("UPDATE EncryptInfo SET _id = ?", (row_id,))
    db.commit()
    db.close()
    messages, result = _read(folder)
    assert (result.format, result.error) == ("vmsg", None)
    assert messages.frame["body"].tolist() == ["您的验证码 204816"]
    assert result.details["encryption"] == "ColorOS AES-256-CBC (EncryptInfo row 0)"


# --- truncated SQLite copies whose schema text is not UTF-8 -----------------------------------------


def _cut_with_undecodable_schema(path: Path, table: str) -> Path:
    """Append a stray non-UTF-8 token to ``table``'s schema text (SQLite's syntax error then quotes
    it) and cut the file 3,000 bytes short."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA writable_schema = ON")
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    conn.execute(
        "UPDATE sqlite_master SET sql = CAST(? AS TEXT) WHERE name = ?", (sql.encode() + b" \xc3", table)
    )
    conn.commit()
    conn.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 3000])
    return path


def _huawei_db(tmp_path: Path) -> Path:
    from tests.fixtures_huawei import Row, write_sms_db

    return write_sms_db(tmp_path / "sms.db", [Row("95588", 1725161040000, "验证码 204816")], filler=30)


def _bugle_db(tmp_path: Path) -> Path:
    from tests.fixtures_bugle import BugleDb

    db = BugleDb(tmp_path / "bugle_db")
    chat, person = db.conversation("+12025550142"), db.participant("+12025550142")
    for i in range(200):
        db.message(chat, person, 1709740800000 + i * 1000, f"message {i} " + "x" * 300)
    db.close()
    return db.path


@pytest.mark.parametrize(
    ("build", "table"),
    [(_huawei_db, "android_metadata"), (_huawei_db, "sms_tb"), (_bugle_db, "conversation_participants")],
)
@pytest.mark.parametrize("input_format", [None, "huawei_backup", "google_messages"])
def test_truncated_database_whose_schema_text_is_not_utf8_is_one_corrupt_error(
    tmp_path: Path, build: object, table: str, input_format: str | None
) -> None:
    path = _cut_with_undecodable_schema(build(tmp_path), table)  # type: ignore[operator]
    messages = read_archives([path], input_format=input_format)
    (result,) = messages.archives
    assert len(messages) == 0 and result.error is not None
    assert result.error.message in (
        "cannot read the truncated SQLite database (undecodable text in the schema)",
        "corrupt SQLite database: its schema cannot be read (undecodable text in the schema)",
    )


@pytest.mark.parametrize("inner", ["BEGIN:VCARD", "BEGIN:VENV", "BEGIN:X-ANYTHING"])
def test_vmsg_nested_100000_deep_is_read_in_linear_time(tmp_path: Path, inner: str) -> None:
    """A record with 100,000 nested BEGIN: lines and 100,000 END:VBODY lines (each END once scanned
    the whole stack: 10^10 steps) is read at once; the records around it are kept."""
    from tests.fixtures_vmsg import document as vmsg_document
    from tests.fixtures_vmsg import record

    deep = record("95588", "2025/09/01 11:25:00", "deep")
    deep = deep.replace("BEGIN:VBODY", "\n".join([inner] * 100_000) + "\nBEGIN:VBODY", 1)
    deep = deep.replace("END:VMSG", "END:VBODY\n" * 100_000 + "END:VMSG", 1)
    text = vmsg_document(
        record("95588", "2025/09/01 11:24:00", "before"),
        deep,
        record("95588", "2025/09/01 11:26:00", "after"),
    )
    path = tmp_path / "sms.vmsg"
    path.write_text(text, encoding="utf-8")
    signal.signal(signal.SIGALRM, _too_slow)
    signal.alarm(60)  # a hang fails the test instead of stopping the suite
    try:
        messages, result = _read(path)
    finally:
        signal.alarm(0)
    assert result.error is None
    bodies = messages.frame["body"].tolist()
    assert bodies[0] == "before" and bodies[-1] == "after"
