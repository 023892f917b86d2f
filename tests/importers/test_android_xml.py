"""SMS Backup & Restore XML importer: records, MMS, encodings, containers and damaged files."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers import ReadOptions, ReadStats, android_xml, detect
from sms_audit.model import Direction, Service
from tests.conftest import sample_path
from tests.fixtures_sbr import document, mms, sms


def _read(path: Path, region: str | None = "CN") -> tuple[list, ReadStats]:
    stats = ReadStats()
    return list(android_xml.read(path, ReadOptions(region=region), stats)), stats


def _write(tmp_path: Path, text: str, name: str = "sms-20251130.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_android_xml_sms_fully_specified(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        document(
            sms("10690123456701", 1757507400123, "【优选商城】周年庆 回T退订", 1, date_sent=1757507399000),
            sms("10690123456701", 1757507700456, "TD", 2),
        ),
    )
    messages, stats = _read(path)
    assert (stats.read, stats.skipped) == (2, 0)
    first = messages[0]
    assert first.direction is Direction.IN
    assert first.address == "10690123456701"
    assert first.address_raw == "10690123456701"
    assert first.sender_kind == "cn_commercial_port"
    assert first.timestamp == datetime(2025, 9, 10, 12, 30, 0, 123000, tzinfo=UTC)
    assert first.sent_timestamp == datetime(2025, 9, 10, 12, 29, 59, tzinfo=UTC)
    assert first.body == "【优选商城】周年庆 回T退订"
    assert first.service is Service.SMS
    assert first.thread_key == "10690123456701"
    assert (first.is_group, first.has_attachments, first.recipients) == (False, False, ())
    assert first.source_format == "sbr_xml"
    assert first.source_record == "sms#1"
    assert len(first.message_id) == 32
    second = messages[1]
    assert second.direction is Direction.OUT
    assert second.sent_timestamp is None  # date_sent="0" for sent messages


@pytest.mark.parametrize(
    ("type_", "direction", "filtered"),
    [
        (1, Direction.IN, False),
        (2, Direction.OUT, False),
        (3, Direction.DRAFT, False),
        (4, Direction.FAILED, False),
        (5, Direction.FAILED, False),
        (6, Direction.FAILED, False),
        (7, Direction.IN, True),
        (99, Direction.OTHER, False),
    ],
)
def test_android_xml_sms_type_codes(tmp_path: Path, type_: int, direction: Direction, filtered: bool) -> None:
    messages, _ = _read(_write(tmp_path, document(sms("95555", 1700000000000, "x", type_))))
    assert messages[0].direction is direction
    assert messages[0].is_filtered is filtered


def test_android_xml_invalid_records_are_skipped_and_counted(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        document(
            "  <sms />\n",
            '  <sms protocol="0" address="95555" date="today" type="1" body="x" />\n',
            '  <sms protocol="0" address="null" date="1700000000000" type="1" body="no address" />\n',
            sms("95555", 1700000000000, "kept"),
        ),
    )
    messages, stats = _read(path)
    assert [m.body for m in messages] == ["kept"]
    assert (stats.read, stats.skipped) == (1, 3)


def test_android_xml_null_literal_is_absent_in_metadata_but_kept_as_body(tmp_path: Path) -> None:
    messages, _ = _read(_write(tmp_path, document(sms("+8613900001111", 1700000000000, "null"))))
    assert messages[0].body == "null"
    assert messages[0].sender_kind == "mobile"


def test_android_xml_newline_reference_in_body(tmp_path: Path) -> None:
    messages, _ = _read(_write(tmp_path, document(sms("95555", 1700000000000, "line1\nline2"))))
    assert messages[0].body == "line1\nline2"


def test_android_xml_surrogate_pair_references_become_emoji(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        document(
            sms("+8613900001111", 1700000000000, "", raw_body="Yup &#55357;&#56832; &#xD83D;&#xDE00;"),
            sms("+8613900001111", 1700000001000, "", raw_body="lone &#55357; and &#56832; ctl &#1;"),
            sms("+8613900001111", 1700000002000, "", raw_body="real 😀 &#128512;"),
        ),
    )
    messages, stats = _read(path)
    assert [m.body for m in messages] == ["Yup 😀 😀", "lone \ufffd and \ufffd ctl \ufffd", "real 😀 😀"]
    assert stats.skipped == 0


def test_android_xml_mms_one_to_one_received(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        document(
            mms(
                "+8613900001111",
                1720997593000,
                1,
                [
                    ("application/smil", "<smil/>"),
                    ("text/plain", "first "),
                    ("image/png", "iVBORw0KGgo="),
                    ("text/plain", "second"),
                ],
                [("+8613900001111", 137), ("+8613800005678", 151)],
                date_sent_s=1720997590,
                m_id="mid-1",
            )
        ),
    )
    (message,), _ = _read(path)
    assert message.direction is Direction.IN
    assert message.body == "first second"  # text/plain parts in order, SMIL skipped
    assert message.address == "+8613900001111"
    assert message.service is Service.MMS
    assert message.has_attachments is True
    assert message.is_group is False
    assert message.timestamp == datetime(2024, 7, 14, 22, 53, 13, tzinfo=UTC)
    assert message.sent_timestamp == datetime(2024, 7, 14, 22, 53, 10, tzinfo=UTC)  # seconds, not ms


def test_android_xml_group_mms_sent_with_insert_address_token(tmp_path: Path) -> None:
    members = ["+8613900001111", "+8613600003333", "+8613500004444"]
    path = _write(
        tmp_path,
        document(
            mms(
                "~".join(members),
                1754654760000,
                2,
                [("text/plain", "收到")],
                [("insert-address-token", 137)] + [(m, 151) for m in members],
            )
        ),
    )
    (message,), _ = _read(path)
    assert message.direction is Direction.OUT
    assert message.is_group is True
    assert message.sender_kind == "group"
    assert message.address == "+8613500004444~+8613600003333~+8613900001111"
    assert message.thread_key == message.address
    assert message.recipients == tuple(members)


def test_android_xml_rcs_group_received(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        document(
            mms(
                "group_8@rcs.google.com",
                1721000123000,
                1,
                [("text/plain", "hi all")],
                [("+15550000009", 130), ("+15550000009", 137), ("+15550000006", 130)],
                tr_id="proto:abc",
            )
        ),
    )
    (message,), _ = _read(path, region="US")
    assert message.service is Service.RCS
    assert message.is_group is True
    assert message.address == "+15550000009"  # the sender, from addr type 137
    assert message.thread_key == "group_8@rcs.google.com"
    assert message.recipients == ("+15550000006",)


def test_android_xml_same_message_same_id_across_files(tmp_path: Path) -> None:
    record = sms("95555", 1700000000000, "【招商银行】验证码：123456")
    a, _ = _read(_write(tmp_path, document(record), "a.xml"))
    b, _ = _read(_write(tmp_path, document(sms("95588", 1700000000001, "x"), record), "b.xml"))
    assert a[0].message_id == b[1].message_id
    assert a[0].message_id != b[0].message_id


def test_android_xml_truncated_file_keeps_complete_records(tmp_path: Path) -> None:
    text = document(*(sms("95555", 1700000000000 + i, f"m{i}") for i in range(5)))
    cut = text.index("m4") + 2  # inside the fifth record
    path = _write(tmp_path, text[:cut])
    stats = ReadStats()
    got = []
    with pytest.raises(TruncatedArchive) as info:
        for message in android_xml.read(path, ReadOptions(), stats):
            got.append(message.body)
    assert got == ["m0", "m1", "m2", "m3"]
    assert info.value.records_read == 4
    assert info.value.line == 8
    assert str(info.value) == f"{path}: read 4 records; file is truncated at line 8"


def test_android_xml_garbage_in_the_middle_is_corrupt_not_truncated(tmp_path: Path) -> None:
    text = document(
        sms("95555", 1700000000000, "ok"), "  <sms <<>> broken\n", sms("95555", 1700000001000, "x")
    )
    stats = ReadStats()
    got = []
    with pytest.raises(CorruptArchive) as info:
        for message in android_xml.read(_write(tmp_path, text), ReadOptions(), stats):
            got.append(message.body)
    assert not isinstance(info.value, TruncatedArchive)
    assert got == ["ok"]
    assert info.value.message == "read 1 records; malformed XML at line 5: error parsing attribute name"


def test_android_xml_calls_file_is_explained(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<calls count=\"1\">"
        '<call number="10086" duration="5" date="1700000000000" type="1" /></calls>\n',
        "calls-20251130.xml",
    )
    with pytest.raises(UnsupportedArchive) as info:
        detect(path)
    assert info.value.message == "this is a call log, not messages (root element is <calls>)"
    assert info.value.hint == "pass the sms-*.xml file of the same backup, not calls-*.xml"


def test_android_xml_detected_by_content_not_extension(tmp_path: Path) -> None:
    path = _write(tmp_path, document(sms("95555", 1700000000000, "x")), "backup.txt")
    assert detect(path) is android_xml
    other = _write(tmp_path, "<html><body>no</body></html>", "sms.xml")
    with pytest.raises(UnsupportedArchive) as info:
        detect(other)
    assert info.value.message == "not a supported archive"


def test_android_xml_zip_is_read_directly(tmp_path: Path) -> None:
    path = tmp_path / "sms-backup.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("calls-20251130.xml", '<?xml version="1.0"?><calls count="0"></calls>')
        archive.writestr("sms-20251130.xml", document(sms("95555", 1700000000000, "zipped")))
    assert detect(path) is android_xml
    messages, _ = _read(path)
    assert [m.body for m in messages] == ["zipped"]


def test_android_xml_encrypted_zip_entry_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "sms-backup.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sms-20251130.xml", document(sms("95555", 1700000000000, "secret")))
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the "encrypted" flag bit
        pos = data.index(signature)
        data[pos + offset] |= 0x1
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptArchive) as info:
        _read(path)
    assert info.value.message == "the backup inside the zip (sms-20251130.xml) is encrypted"


def test_android_xml_source_is_not_modified(tmp_path: Path) -> None:
    path = _write(tmp_path, document(sms("95555", 1700000000000, "x")))
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns
    _read(path)
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before


@settings(max_examples=60, deadline=None)
@given(body=st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80))
def test_android_xml_survives_arbitrary_body_text(
    tmp_path_factory: pytest.TempPathFactory, body: str
) -> None:
    path = _write(tmp_path_factory.mktemp("h"), document(sms("+15550000001", 1700000000000, body)))
    messages, stats = _read(path, region="US")
    assert stats.read + stats.skipped == 1
    # XML cannot carry most C0 controls or U+FFFE/U+FFFF: those references become U+FFFD
    expected = "".join(
        "\ufffd" if (ord(c) < 0x20 and c not in "\t\n\r") or c in "\ufffe\uffff" else c for c in body
    )
    assert [m.body for m in messages] == [expected]


# --- real files from ../shared/samples/sbr-devadvance ---------------------------------------------


def test_android_xml_real_truncated_sample_yields_49_records() -> None:
    path = sample_path("sbr-devadvance", "sms_and_mms.xml")
    stats = ReadStats()
    got: list = []
    with pytest.raises(TruncatedArchive) as info:
        got.extend(android_xml.read(path, ReadOptions(), stats))
    assert len(got) == 49
    assert sum(m.service is Service.SMS for m in got) == 41
    assert info.value.records_read == 49 and info.value.line == 136
    groups = [m for m in got if m.is_group]
    assert {m.thread_key for m in groups} == {"group_8@rcs.google.com"}
    assert len(groups) == 3
    rcs_in = got[41]
    assert (rcs_in.direction, rcs_in.address, rcs_in.body) == (Direction.IN, "+15550000006", "Body text 45")
    assert rcs_in.timestamp == datetime(2024, 7, 14, 22, 53, 13, tzinfo=UTC)


def test_android_xml_real_complete_sample() -> None:
    path = sample_path("sbr-devadvance", "sms_small.xml")
    messages, stats = _read(path, region=None)
    assert (stats.read, stats.skipped) == (12, 0)
    assert [m.direction.value for m in messages].count("out") == 4
    first = messages[0]
    assert first.timestamp == datetime(2017, 12, 2, 14, 49, 27, 463000, tzinfo=UTC)
    assert first.sent_timestamp == datetime(2017, 12, 2, 14, 49, 26, tzinfo=UTC)
    assert (first.address, first.body) == ("+15550000001", "Body text 1")


def test_android_xml_progress_callback_reaches_the_end(tmp_path: Path) -> None:
    path = _write(tmp_path, document(*(sms("95555", 1700000000000 + i, "x") for i in range(1200))))
    calls: list[tuple[int, int | None]] = []
    list(android_xml.read(path, ReadOptions(on_progress=lambda d, t: calls.append((d, t))), ReadStats()))
    size = path.stat().st_size
    assert calls[-1] == (size, size)
    assert len(calls) >= 2


def test_android_xml_memory_does_not_keep_attachment_data(tmp_path: Path) -> None:
    """A multi-MB base64 part is parsed (huge_tree) and never lands in the message."""
    big = "A" * (12 * 1024 * 1024)
    path = _write(
        tmp_path,
        document(
            mms(
                "+15550000006",
                1720997593000,
                1,
                [("image/jpeg", big), ("text/plain", "photo")],
                [("+15550000006", 137)],
            )
        ),
    )
    (message,), _ = _read(path, region="US")
    assert message.body == "photo" and message.has_attachments
    assert len(repr(message)) < 2000


def test_charref_filter_is_chunk_size_independent() -> None:
    from sms_audit.importers.xml_charrefs import CharRefFilter, repair_charrefs

    data = b'<a b="x&#55357;&#56832;y &#1; &#xD83D;&#xDE00;"/>\n' * 50
    expected = repair_charrefs(data)
    for size in (1, 2, 3, 7, 8, 9, 13, 64):
        stream = CharRefFilter(io.BytesIO(data), chunk_size=size)
        pieces = []
        while piece := stream.read(5):
            pieces.append(piece)
        assert b"".join(pieces) == expected


def test_catalog_matches_every_importer_module() -> None:
    from sms_audit.archive_formats import CATALOG
    from sms_audit.importers import IMPORTERS

    assert [(m.NAME, m.DESCRIPTION) for m in IMPORTERS] == [(f.name, f.description) for f in CATALOG]
    for module in IMPORTERS:
        for name in ("sniff", "read", "read_records"):
            assert callable(getattr(module, name)), f"{module.__name__} lacks {name}()"


@pytest.mark.parametrize(
    ("box", "own", "to", "group"),
    [
        (2, "insert-address-token", ["+8613600003333"], False),  # to one person
        (2, "insert-address-token", ["+8613600003333", "+8613500004444"], True),  # to two: a group
        (2, "+8613800138000", ["+8613600003333", "+8613500004444"], True),  # own number written as From
        (2, "+8613800138000", ["+8613600003333"], False),
        (
            4,
            "insert-address-token",
            ["+8613600003333", "+8613500004444"],
            True,
        ),  # failed to send, still a group
        (1, "+8613600003333", ["+8613800138000"], False),  # received, To is the user: 1:1
        (1, "+8613600003333", ["+8613800138000", "+8613500004444"], True),
    ],
)
def test_android_xml_mms_group_when_the_thread_names_one_number(
    tmp_path: Path, box: int, own: str, to: list[str], group: bool
) -> None:
    """SB&R's address attribute may name only the first member; the addr rows tell the group."""
    sender = own
    path = _write(
        tmp_path,
        document(
            mms(
                to[0] if box != 1 else own,
                1754654760000,
                box,
                [("text/plain", "收到")],
                [(sender, 137)] + [(m, 151) for m in to],
            )
        ),
    )
    (message,), _ = _read(path)
    assert message.is_group is group
    if group and box != 1:
        assert message.sender_kind == "group"
        assert set(message.recipients) == set(to)
        assert message.address == message.thread_key == "~".join(sorted(to))  # own number or not: one thread


@pytest.mark.parametrize(
    ("own", "to", "group", "recipients"),
    [
        # one person in two spellings is not a group
        ("insert-address-token", ["+12025550101", "(202) 555-0101"], False, ()),
        (
            "insert-address-token",
            ["+12025550101", "202-555-0101", "+12025550102"],
            True,
            ("+12025550101", "+12025550102"),
        ),
        # a local number that only ends another is another person
        ("insert-address-token", ["62345678", "+8613962345678"], True, ("62345678", "+8613962345678")),
        ("insert-address-token", ["+447700900123", "07700 900123"], False, ()),  # trunk 0
        ("insert-address-token", ["008613800138000", "138 0013 8000"], False, ()),  # 00 prefix
        # the own number written as From and again among the To rows is not a member
        ("+12025550100", ["+12025550101", "+1 (202) 555-0100"], False, ()),
        (
            "+12025550100",
            ["+12025550101", "+12025550100", "+12025550102"],
            True,
            ("+12025550101", "+12025550102"),
        ),
    ],
)
def test_android_xml_sent_mms_members_are_distinct_people_other_than_the_user(
    tmp_path: Path, own: str, to: list[str], group: bool, recipients: tuple[str, ...]
) -> None:
    path = _write(
        tmp_path,
        document(mms(to[0], 1754654760000, 2, [("text/plain", "hi")], [(own, 137)] + [(m, 151) for m in to])),
    )
    (message,), _ = _read(path, region="US")
    assert message.is_group is group
    assert message.recipients == recipients
    if group:  # the same thread as the message to these people written with their numbers as the address
        assert message.thread_key == "~".join(sorted(recipients))


def _zipped(tmp_path: Path, n: int, method: int) -> tuple[Path, list[str]]:
    import zipfile

    bodies = [f"【店{i}】第{i}条优惠 回T退订" for i in range(n)]
    xml = document(*(sms("1069000", 1700000000000 + i * 60_000, b) for i, b in enumerate(bodies)))
    path = tmp_path / "sms-backup.zip"
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("sms-20251130.xml", xml)
        archive.writestr("calls-20251130.xml", '<calls count="0"></calls>')
    return path, bodies


@pytest.mark.parametrize("method", [8, 0])  # deflated, stored
@pytest.mark.parametrize("kept", [0.25, 0.5, 0.9])
def test_android_xml_zip_cut_short_keeps_every_complete_record(
    tmp_path: Path, method: int, kept: float
) -> None:
    """An interrupted copy of an SB&R zip has no central directory: its first member is read from its
    local header as far as the file goes."""
    whole, bodies = _zipped(tmp_path, 400, method)
    data = whole.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: int(len(data) * kept)])
    assert android_xml.sniff(cut)
    stats = ReadStats()
    records = []
    with pytest.raises(TruncatedArchive) as caught:
        records.extend(android_xml.read_records(cut, ReadOptions(), stats))
    assert [r.body for r in records] == bodies[: len(records)]
    assert 0 < len(records) < 400 and caught.value.records_read == len(records)
    assert stats.warnings[0] == (
        "the zip file is cut short (its list of files is missing): read sms-20251130.xml as far as it goes"
    )


def test_android_xml_zip_cut_after_its_first_member_reads_it_whole(tmp_path: Path) -> None:
    whole, bodies = _zipped(tmp_path, 50, 8)
    data = whole.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: data.index(b"PK\x03\x04", 4) + 10])  # into the second member's header
    stats = ReadStats()
    assert [r.body for r in android_xml.read_records(cut, ReadOptions(), stats)] == bodies
    assert len(stats.warnings) == 1 and "cut short" in stats.warnings[0]


def test_android_xml_encrypted_zip_cut_short_says_so(tmp_path: Path) -> None:
    whole, _ = _zipped(tmp_path, 3000, 8)
    data = bytearray(whole.read_bytes()[:2000])  # cut: no central directory
    assert len(data) < whole.stat().st_size
    data[6] |= 0x1  # the local header's "encrypted" flag
    cut = tmp_path / "cut.zip"
    cut.write_bytes(bytes(data))
    with pytest.raises(CorruptArchive, match=r"the backup inside the zip \(sms-20251130.xml\) is encrypted"):
        list(android_xml.read_records(cut, ReadOptions(), ReadStats()))


def test_android_xml_thread_attribute_of_one_person_in_two_spellings_is_no_group(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        document(
            mms(
                "+8613800138000~138 0013 8000",
                1754654760000,
                2,
                [("text/plain", "hi")],
                [("insert-address-token", 137), ("+8613800138000", 151)],
            )
        ),
    )
    (message,), _ = _read(path)
    assert message.is_group is False and message.recipients == ()
    assert message.address == message.thread_key == "+8613800138000"
