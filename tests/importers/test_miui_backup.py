"""Xiaomi MIUI/HyperOS local backup importer: folder, zip, single .bak, feature selection, damage."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers import ReadOptions, ReadStats, detect, expand_folders, miui_backup
from sms_audit.model import Direction, Message, Service, mms_message_id, sms_message_id
from tests.fixtures_miui import (
    Mms,
    Sms,
    bak,
    descript_xml,
    message_tar,
    sync_root,
    write_backup,
    zip_backup,
)

CST = timezone(timedelta(hours=8))
PORT, FRIEND, FRIEND2, OWNER = "10690123456701", "+8613800138001", "+8613800138002", "+8613800138000"


def ms(*when: int) -> int:
    """Epoch ms of a China Standard Time wall clock."""
    return int(datetime(*when, tzinfo=CST).timestamp() * 1000)  # type: ignore[misc]


STORY_SMS = [
    Sms(
        PORT,
        ms(2025, 9, 1, 10, 0),
        "【优选商城】中秋大促，全场5折，回TD退订",
        date_sent_ms=ms(2025, 9, 1, 9, 59, 58),
    ),
    Sms(PORT, ms(2025, 9, 2, 20, 15), "TD", type=2),
    Sms(PORT, ms(2025, 9, 20, 11, 0), "【优选商城】国庆专享券已到账，戳 yx.example.cn/q 回TD退订"),
    Sms(FRIEND, ms(2025, 9, 3, 18, 30), "晚上一起吃饭吗？🍲"),
    Sms(FRIEND, ms(2025, 9, 3, 18, 31), "好的", type=5),
]
STORY_MMS = [
    Mms(
        ms(2025, 9, 4, 12, 0) // 1000,
        1,
        [(FRIEND, 137), (OWNER, 151)],
        [("text/plain", "照片"), ("image/jpeg", "IMG_0001.jpg")],
        m_id="MIUI-m1",
        date_ms_part=250,
    ),
    Mms(
        ms(2025, 9, 5, 9, 0) // 1000,
        1,
        [(FRIEND2, 137), (OWNER, 151), (FRIEND, 151)],
        [("text/plain", "周末聚会")],
    ),
    Mms(
        ms(2025, 9, 5, 9, 5) // 1000,
        2,
        [("insert-address-token", 137), (FRIEND, 151), (FRIEND2, 151)],
        [("text/plain", "好的，周六见")],
        m_type=128,
    ),
    Mms(ms(2025, 9, 5, 9, 6) // 1000, 1, [(FRIEND, 137)], m_type=134),  # a delivery report
]


def _read(path: Path, region: str | None = "CN") -> tuple[list[Message], ReadStats]:
    stats = ReadStats()
    return list(miui_backup.read(path, ReadOptions(region=region), stats)), stats


def _story(folder: Path, **kwargs: object) -> Path:
    return write_backup(folder, sms=STORY_SMS, mms=STORY_MMS, **kwargs)  # type: ignore[arg-type]


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_read_backup_folder_every_field(tmp_path: Path) -> None:
    folder = _story(tmp_path / "20250921_101010")
    before = _hashes(folder)
    assert detect(folder).NAME == "miui_backup"
    messages, stats = _read(folder)
    assert _hashes(folder) == before  # opened read-only
    assert (stats.read, stats.skipped, stats.excluded) == (8, 0, 1)
    sms_file, mms_file = "短信(com.android.mms).bak", "彩信(com.android.mms).bak"
    assert messages[0] == Message(
        message_id=sms_message_id(PORT, Direction.IN, ms(2025, 9, 1, 10, 0), STORY_SMS[0].body),
        source_format="miui_backup",
        source_file=str(folder),
        source_record="sms:1",
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
    assert [(m.direction, m.address, m.body) for m in messages[1:5]] == [
        (Direction.OUT, PORT, "TD"),
        (Direction.IN, PORT, STORY_SMS[2].body),
        (Direction.IN, FRIEND, "晚上一起吃饭吗？🍲"),
        (Direction.FAILED, FRIEND, "好的"),
    ]
    assert messages[1].timestamp == datetime(2025, 9, 2, 12, 15, tzinfo=UTC)
    photo, group_in, group_out = messages[5:]
    assert (photo.service, photo.direction, photo.address, photo.body) == (
        Service.MMS,
        Direction.IN,
        FRIEND,
        "照片",
    )
    assert photo.timestamp == datetime(2025, 9, 4, 4, 0, 0, 250000, tzinfo=UTC)  # MIUI's ms part
    assert photo.has_attachments and not photo.is_group
    assert photo.message_id == mms_message_id(
        FRIEND, Direction.IN, ms(2025, 9, 4, 12, 0) // 1000, "照片", "MIUI-m1"
    )
    members = f"{FRIEND}~{FRIEND2}"
    assert (group_in.is_group, group_in.address, group_in.thread_key, group_in.sender_kind) == (
        True,
        FRIEND2,
        members,
        "mobile",
    )
    assert (group_out.direction, group_out.is_group, group_out.address, group_out.sender_kind) == (
        Direction.OUT,
        True,
        members,
        "group",
    )
    assert group_out.recipients == (FRIEND, FRIEND2)
    assert stats.details == {
        "device_name": "cepheus V12.5.6.0.RFACNXM",
        "miui_version": "V12.5.6.0.RFACNXM",
        "miui_backup_date": "2025-09-15T01:33:20+00:00",
        "sha256": hashlib.sha256((folder / sms_file).read_bytes()).hexdigest(),
        "sha256_of": sms_file,
        "miui_feature_1": sms_file,
        "miui_feature_2": mms_file,
        "miui_files": f"{sms_file}, {mms_file}",
        "miui_sms": "5",
        "miui_mms": "3",
    }
    assert stats.warnings == [
        (
            "decoded 5 SMS and 3 MMS with a field layout known from MIUI 7 and inferred for V12.5.6.0.RFACNXM; "
            "compare the counts with the phone"
        )
    ]


@pytest.mark.parametrize(
    ("sms_label", "mms_label"),
    [("SMS", "MMS"), ("短信设置", "信息"), ("Mensajes", "Ajustes de Wi-Fi")],
)
def test_files_are_chosen_by_package_and_feature_not_label(
    tmp_path: Path, sms_label: str, mms_label: str
) -> None:
    folder = write_backup(
        tmp_path / "b", sms=STORY_SMS[:2], mms=STORY_MMS[:1], sms_label=sms_label, mms_label=mms_label
    )
    messages, stats = _read(folder)
    assert [m.service for m in messages] == [Service.SMS, Service.SMS, Service.MMS]
    assert stats.details["miui_feature_1"] == f"{sms_label}(com.android.mms).bak"


def test_other_features_and_apps_are_not_read(tmp_path: Path) -> None:
    folder = write_backup(tmp_path / "b", sms=STORY_SMS[:1], notes=True)
    # a third com.android.mms entry (settings) whose payload is not messages
    (folder / "短信设置(com.android.mms).bak").write_bytes(bak(message_tar(b"\x0a\x02hi"), label="短信设置"))
    (folder / "descript.xml").write_bytes(
        descript_xml(
            [
                ("com.miui.notes", 1, "笔记(com.miui.notes).bak"),
                ("com.android.mms", 3, "短信设置(com.android.mms).bak"),
                ("com.android.mms", 1, "短信(com.android.mms).bak"),
            ]
        )
    )
    messages, stats = _read(folder)
    assert [m.body for m in messages] == [STORY_SMS[0].body]
    assert stats.details["miui_mms_other_features"] == "3"


def test_single_bak_and_zlib_payload(tmp_path: Path) -> None:
    path = tmp_path / "SMS(com.android.mms).bak"
    path.write_bytes(bak(message_tar(sync_root(STORY_SMS)), label="SMS", ab_version=3, compression=1))
    assert detect(path).NAME == "miui_backup"
    messages, stats = _read(path)
    assert [m.body for m in messages] == [s.body for s in STORY_SMS]
    assert stats.warnings == [
        (
            "decoded 5 SMS and 0 MMS with a field layout known from MIUI 7 and inferred for this MIUI/HyperOS "
            "version; compare the counts with the phone"
        )
    ]


def test_miui7_backup_has_no_layout_warning(tmp_path: Path) -> None:
    folder = write_backup(tmp_path / "b", sms=STORY_SMS[:1], miui_version="V7.1.3.0.KXDCNCK")
    assert _read(folder)[1].warnings == []


@pytest.mark.parametrize("inner", [None, "20260919_094944"])
def test_zip_of_the_backup_folder(tmp_path: Path, inner: str | None) -> None:
    folder = _story(tmp_path / "20260919_094944")
    archive = zip_backup(folder, tmp_path / "20260919_094944.zip", inner=inner)
    assert detect(archive).NAME == "miui_backup"
    zipped, _ = _read(archive)
    plain, _ = _read(folder)
    assert [m.message_id for m in zipped] == [m.message_id for m in plain]


def test_allbackup_folder_holds_several_backups(tmp_path: Path) -> None:
    root = tmp_path / "MIUI" / "backup" / "AllBackup"
    first = write_backup(root / "20250901_080000", sms=STORY_SMS[:2])
    second = zip_backup(
        write_backup(tmp_path / "x" / "20250921_080000", sms=STORY_SMS), root / "20250921_080000.zip"
    )
    assert expand_folders([root]) == [first, second]


def test_notes_bak_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "笔记(com.miui.notes).bak"
    path.write_bytes(bak(message_tar(b"", package="com.miui.notes"), package="com.miui.notes", label="笔记"))
    assert miui_backup.sniff(path) is False
    with pytest.raises(UnsupportedArchive) as info:
        detect(path)
    assert info.value.message == "this MIUI backup file holds com.miui.notes (笔记), not messages"
    assert info.value.hint is not None and "(com.android.mms).bak" in info.value.hint


def test_backup_without_messages(tmp_path: Path) -> None:
    folder = write_backup(tmp_path / "b", notes=True)
    with pytest.raises(
        UnsupportedArchive, match=r"holds no messages \(descript.xml lists no com.android.mms"
    ):
        _read(folder)


def test_encrypted_backup_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "短信(com.android.mms).bak"
    path.write_bytes(bak(b"\x8f" * 2048, encryption="AES-256"))
    with pytest.raises(UnsupportedArchive) as info:
        _read(path)
    assert info.value.message == (
        "encrypted MIUI backup (AES-256); sms-audit cannot read password-protected backups"
    )


def test_truncated_bak_keeps_every_complete_record(tmp_path: Path) -> None:
    many = [Sms(PORT, ms(2025, 9, 1) + i * 60_000, f"【优选商城】第{i}条 回TD退订") for i in range(40)]
    data = bak(message_tar(sync_root(many)))
    for compression in (0, 1):
        data = bak(message_tar(sync_root(many)), compression=compression)
        path = tmp_path / f"cut{compression}.bak"
        path.write_bytes(data[: len(data) * 2 // 3] if compression else data[: len(data) // 2])
        got: list[Message] = []
        with pytest.raises(TruncatedArchive) as info:
            got.extend(miui_backup.read(path, ReadOptions(), ReadStats()))
        assert got and [m.body for m in got] == [s.body for s in many[: len(got)]]
        assert info.value.records_read == len(got)
        assert info.value.message == f"read {len(got)} records; the backup ends early"
    header_cut = tmp_path / "header.bak"
    header_cut.write_bytes(data[:40])
    with pytest.raises(TruncatedArchive, match="header.bak: the file ends inside its header"):
        _read(header_cut)


def test_damaged_record_is_skipped_and_damaged_container_stops(tmp_path: Path) -> None:
    payload = sync_root(STORY_SMS)
    body = b"\x32\x06" + "好的".encode()  # field 6 (body), LEN 6, of the last SMS
    assert payload.count(body) == 1
    path = tmp_path / "x.bak"
    # wire type 7 does not exist: that one record is undecodable, the others are read
    path.write_bytes(bak(message_tar(payload.replace(body, b"\x37" + body[1:]))))
    messages, stats = _read(path)
    assert [m.body for m in messages] == [s.body for s in STORY_SMS[:4]]
    assert stats.skip_summary() == ["skipped 1 record: undecodable SMS record"]
    # the collection claims more bytes than the member holds: records before the end are kept
    assert payload[:3] == b"\x22\xfc\x03"  # SyncRoot field 4, 508 bytes
    longer = b"\x22\x86\x04" + payload[3:]  # says 518
    path.write_bytes(bak(message_tar(longer)))
    got: list[Message] = []
    with pytest.raises(CorruptArchive, match=r"x.bak: read 5 records; then the data ends"):
        got.extend(miui_backup.read(path, ReadOptions(), ReadStats()))
    assert len(got) == 5
    bad_tar = bytearray(message_tar(payload))
    bad_tar[100] ^= 0xFF  # tar header checksum no longer matches
    path.write_bytes(bak(bytes(bad_tar)))
    with pytest.raises(
        CorruptArchive, match="read 0 records; then damaged data \\(tar header checksum mismatch\\)"
    ):
        _read(path)


def test_unknown_layout_is_loud_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "SMS(com.android.mms).bak"
    path.write_bytes(bak(message_tar(sync_root(contacts=3))))  # SyncRoot field 1 only
    with pytest.raises(CorruptArchive) as info:
        _read(path)
    assert info.value.message.startswith("0 SMS decoded from ")
    assert "top-level fields seen: 1" in info.value.message
    empty = tmp_path / "empty(com.android.mms).bak"
    empty.write_bytes(bak(message_tar(sync_root(sms=[]))))  # a phone with no SMS: fine, no error
    assert _read(empty)[0] == []


def test_missing_member_and_file(tmp_path: Path) -> None:
    path = tmp_path / "SMS(com.android.mms).bak"
    path.write_bytes(bak(message_tar(b"", member="miui_bak/_other")))
    with pytest.raises(
        CorruptArchive, match=r": no message data in the file \(apps/com.android.mms/miui_bak/_tmp_bak"
    ):
        _read(path)
    folder = write_backup(tmp_path / "b", sms=STORY_SMS[:1])
    (folder / "短信(com.android.mms).bak").unlink()
    with pytest.raises(CorruptArchive, match="Messages files listed in descript.xml are missing"):
        _read(folder)


def test_ids_match_other_android_exports(tmp_path: Path) -> None:
    from tests.fixtures_sbr import document, sms

    folder = write_backup(tmp_path / "b", sms=STORY_SMS[:3])
    xml = tmp_path / "sms.xml"
    xml.write_text(
        document(*(sms(s.address, s.date_ms, s.body, s.type) for s in STORY_SMS[:3])), encoding="utf-8"
    )
    from sms_audit.importers import android_xml

    sbr = list(android_xml.read(xml, ReadOptions(region="CN"), ReadStats()))
    assert [m.message_id for m in sbr] == [m.message_id for m in _read(folder)[0]]


# --- property tests ---------------------------------------------------------------------------------

BODIES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bodies=st.lists(BODIES, min_size=1, max_size=5),
    address=st.sampled_from([PORT, FRIEND, "95588", "中国移动"]),
)
def test_any_body_round_trips(tmp_path: Path, bodies: list[str], address: str) -> None:
    path = tmp_path / "p.bak"
    path.write_bytes(
        bak(message_tar(sync_root([Sms(address, ms(2025, 1, 1) + i, b) for i, b in enumerate(bodies)])))
    )
    assert [m.body for m in _read(path)[0]] == bodies


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(max_size=400), compression=st.sampled_from([0, 1]))
def test_arbitrary_payload_raises_only_typed_errors(tmp_path: Path, payload: bytes, compression: int) -> None:
    path = tmp_path / "f.bak"
    path.write_bytes(bak(message_tar(payload), compression=compression))
    try:
        _read(path)
    except (CorruptArchive, UnsupportedArchive):
        pass
    raw = tmp_path / "r.bak"
    raw.write_bytes(b"MIUI BACKUP\n2\ncom.android.mms x\n" + payload)
    try:
        _read(raw)
    except (CorruptArchive, UnsupportedArchive):
        pass


def test_zip_with_encrypted_member(tmp_path: Path) -> None:
    folder = _story(tmp_path / "b")
    archive = zip_backup(folder, tmp_path / "b.zip")
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as z:
        infos = [i for i in z.infolist() if i.filename.endswith("(com.android.mms).bak")]
    for info in infos:  # set the "encrypted" flag in the local and central headers
        data[info.header_offset + 6] |= 0x1
    central = data.rfind(b"PK\x01\x02", 0)
    while central != -1:
        data[central + 8] |= (
            0x1 if data[central + 46 : central + 46 + 200].find(b"com.android.mms") != -1 else 0
        )
        central = data.rfind(b"PK\x01\x02", 0, central)
    archive.write_bytes(bytes(data))
    with pytest.raises(CorruptArchive, match="inside the zip is encrypted"):
        _read(archive)


def test_truncated_sms_file_does_not_cost_the_mms_file(tmp_path: Path) -> None:
    many = [Sms(PORT, ms(2025, 9, 1) + i * 60_000, f"【优选商城】第{i}条 回TD退订") for i in range(40)]
    folder = write_backup(tmp_path / "b", sms=many, mms=STORY_MMS)
    sms_file = folder / "短信(com.android.mms).bak"
    data = sms_file.read_bytes()
    sms_file.write_bytes(data[: len(data) // 2])
    got: list[Message] = []
    stats = ReadStats()
    with pytest.raises(
        TruncatedArchive, match=r"短信\(com.android.mms\).bak: read [0-9]+ records; the backup ends"
    ):
        got.extend(miui_backup.read(folder, ReadOptions(region="CN"), stats))
    services = [m.service for m in got]
    assert services.count(Service.MMS) == 3 and 0 < services.count(Service.SMS) < 40
    assert stats.warnings and stats.warnings[0].startswith(
        f"decoded {services.count(Service.SMS)} SMS and 3 MMS"
    )
