"""Mutation fuzzing of every importer in the format catalog, through the CLI's own entry point.

Each importer of :data:`sms_audit.archive_formats.CATALOG` gets realistic seed inputs (built by the
fixture builders in ``tests/``, plus the public samples in ``../shared/samples`` when present) and
cases made from them by type-aware mutations:

* any file: byte flips, interesting bytes, chunk deletion/duplication, truncation; every offset of
  every seed file up to 16 KiB is a truncation case (every 6th case walks through them);
* XML (SMS Backup & Restore, Super Backup, MIUI descript.xml, plists): attribute deletion, renaming, duplication and hostile values
  (huge and negative numbers, units off by 1000, "null", charrefs to surrogates/NUL/out-of-range
  code points, raw ``<``/``&``), element deletion/duplication/renaming, deep nesting, DTDs and
  entities, other declared or BOM-signalled encodings, invalid UTF-8/UTF-16, NUL bytes;
* JSON (sms-ie NDJSON/array, adb TelephonyBackupAgent): field deletion, renaming and retyping
  (numbers ↔ strings ↔ lists ↔ objects ↔ null), huge numbers (5,000 digits, 1e999), lone
  surrogates, NUL, nesting 100,000 deep, broken lines;
* SQLite (mmssms.db, sms.db, Manifest.db, Huawei sms.db, bugle_db): cell values retyped (int/real/text/blob, int64 limits,
  time units, invalid UTF-8 text, damaged attributedBody typedstreams), rows deleted/duplicated,
  tables and columns dropped/renamed, ``sqlite_master`` text corrupted, b-tree pages and header
  fields damaged, truncation at page boundaries, junk ``-wal``/``-journal`` sidecars;
* ZIP: the member's payload mutated and re-compressed (stored/deflate/bzip2/lzma), decoy and
  renamed members, local/central header fields (method 99, encrypted flag, sizes, CRC, offsets,
  counts), damaged compressed data, bombs (2-200 MB inflated); zlib streams likewise;
* vMessage (.vmsg): BEGIN/END lines dropped, duplicated, swapped or nested 100,000 deep, broken
  quoted-printable (stray ``=``, cut escapes and UTF-8 sequences, a final soft break), wrong
  ENCODING/CHARSET parameters, hostile Date/X-BOX/TEL/MMS part values, CR/LF/CRLF line ends, other
  encodings (UTF-16 with and without BOM, GB18030, Big5, Latin-1, invalid bytes);
* CSV (iMazing, QQ同步助手): cells retyped (dates, type words, formulas, line breaks), rows cut or
  widened, headers renamed/duplicated/dropped, delimiter swaps, unbalanced quotes, line ends,
  BOMs and encodings;
* MIUI ``.bak``: header lines edited (package, versions, compression, encryption), the compression
  flag lying, tar header fields, and the protobuf payload at the wire level (over-long varints,
  lengths past the end, wire types 3/4/6/7, field 0, nesting thousands deep);
* folders (iOS backups, adb ``d_f``, MIUI, Huawei and ColorOS backups): files deleted, emptied, replaced by folders or added;
  encrypted iOS backups are read with their passphrase (as with SMS_AUDIT_BACKUP_PASSWORD).

Every case is read by :func:`sms_audit.pipeline.read_archives` — detection, reading, the per-archive
error boundary, region inference and normalisation, as ``sms-audit messages`` does — in worker
processes: several cases form one ``read_archives`` call (each is its own archive there, timed by
``on_archive``); a case that takes longer than 10 s (the hang limit) or raises out of
``read_archives`` is run again alone, with faulthandler dumping the stack of a hang. The peak RSS
of each case is measured on its own (Linux VmHWM, reset after every archive); a case over 400 MB is
reported and its worker replaced, and so is a worker whose resident size grew past 300 MB between
cases (the baseline of the next peaks stays that of a fresh process). RLIMIT_AS is a backstop.

Outcomes: ``ok``, ``skipped`` (records skipped and counted), data errors ``unsupported``/``corrupt``
/``truncated`` (ArchiveResult.error: exit 3, one line) — and the bugs: ``catch-all`` (an unexpected
exception type went through the boundary's "unreadable (XxxError while reading it)"), ``raised``
(an exception out of ``read_archives``), ``hang`` (> 10 s) and ``memory`` (peak > 400 MB). A case is
"detected" when the importer chosen for it is the one being fuzzed; every importer must keep at
least 30 % (else the fuzzing mostly tests the sniffers).

Speed: building a pandas frame costs ~15 ms whatever its size, several times the cost of reading a
small archive, so by default a worker does not normalise a record again that it already normalised
(the frame is built column by column, so a record that passed once cannot fail in another list),
and the new records of a batch are normalised together in one frame after read_archives; if that
fails, the batch's cases are run again alone, each normalised inside read_archives as usual. So
every new record is normalised for real. ``--full-normalise`` turns both off.

Usage::

    python bench/fuzz_importers.py --cases 100000 --workers 2        # every importer
    python bench/fuzz_importers.py --importer sms_ie --cases 5000 --first 5000 --seed 7
    python bench/fuzz_importers.py --save-crashes /tmp/crashes          # minimised, one per site
    python bench/fuzz_importers.py --importer sms_ie --replay 1234      # one case, with traceback

Cases are numbered per importer; case N of importer I with seed S is always the same input, so a
run can be split into chunks with ``--first``. Exit status 1 when a bug was found or an importer
stays under 30 % detected.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import hashlib
import io
import itertools
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import random
import re
import resource
import shutil
import sqlite3
import struct
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sms_audit.archive_formats import CATALOG

SHARED = REPO.parent / "shared" / "samples"
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") else None  # cases are written to memory where possible
HANG_SECONDS = 10.0
PEAK_MB = 400
RECYCLE_MB = 300  # a worker whose resident size grew past this between cases is replaced
MIN_DETECTED = 0.30
TRUNCATE_EVERY = 6  # every 6th case truncates a small seed file, walking through every offset
SMALL_FILE = 16 * 1024
PASSPHRASE = "fuzz passphrase 1"
BATCH = 24  # cases per read_archives call
BUGS = ("catch-all", "raised", "hang", "memory")
KINDS = ("ok", "skipped", "unsupported", "corrupt", "truncated", *BUGS)
_CATCH_ALL = re.compile(r"unreadable \((\w+) while reading it\)")
_DATE = (2024, 3, 5, 12, 0, 0)  # fixed ZIP member times: the same case always has the same bytes


# --- seeds: one builder per importer ------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """A valid input: ``name`` is what is passed to read_archives (a file or a folder, relative to
    the case folder); ``files`` holds every file of it, by path relative to the case folder."""

    name: str
    files: dict[str, bytes]
    label: str = ""  # how reports name it, when ``name`` does not tell seeds apart
    weight: float = 1.0  # how often it is chosen (large seeds cost more per case)

    @property
    def title(self) -> str:
        return self.label or self.name


def _file(name: str, data: bytes) -> Seed:
    return Seed(name, {name: data})


def _folder(name: str, folder: Path, label: str = "") -> Seed:
    files = {
        f"{name}/{p.relative_to(folder).as_posix()}": p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "PROVENANCE.txt"
    }
    return Seed(name, files, label)


def _shared(*parts: str) -> Path | None:
    path = SHARED.joinpath(*parts)
    return path if path.exists() else None


_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def seeds_sbr_xml(tmp: Path) -> list[Seed]:
    """SB&R XML: SMS and MMS as the app writes them (plain, zipped, UTF-16) and the public samples."""
    from tests.fixtures_sbr import document, mms, sms

    text = document(
        sms("10690000123456", 1709647200123, "【优选商城】会员日满199减50，回T退订"),
        sms("10690000123456", 1709647390456, "T", 2),
        sms("95555", 1711040400789, "", raw_body="您的验证码是 204816 &#55357;&#56832;"),
        sms("+12025550142", 1709740800000, "running late", 5, contact="Ann"),
        mms(
            "+12025550142~+12025550167",
            1709740900000,
            1,
            [("application/smil", "<smil/>"), ("text/plain", "look at this"), ("image/png", _PNG)],
            [("+12025550142", 137), ("+12025550100", 151), ("+12025550167", 151)],
            m_id="mavodi-1-8b-6f-1-2f-1a2b3c",
        ),
        mms(
            "22000",
            1709741000000,
            2,
            [("text/plain", "STOP")],
            [("insert-address-token", 137), ("22000", 151)],
        ),
    )
    data = text.encode("utf-8")
    utf16 = text.replace("encoding='UTF-8'", "encoding='UTF-16'")
    seeds = [
        _file("sms-20240305120000.xml", data),
        _file("sms-20240305120000.zip", _zip_bytes([("sms-20240305120000.xml", data, zipfile.ZIP_DEFLATED)])),
        _file("sms-utf16.xml", b"\xff\xfe" + utf16.encode("utf-16-le")),
    ]
    for name, weight in (("sms_small.xml", 1.0), ("sms_and_mms.xml", 0.3)):  # 12 and 49 records
        if path := _shared("sbr-devadvance", name):
            seeds.append(Seed(name, {name: path.read_bytes()}, weight=weight))
    return seeds


def _sms_ie_records(v1: bool) -> list[dict[str, Any]]:
    from tests.fixtures_android_db import sms_ie_mms, sms_ie_sms

    return [
        sms_ie_sms(41, 7, "10690000123456", 1709647200123, 1, "【优选商城】会员日满199减50，回T退订"),
        sms_ie_sms(42, 7, "10690000123456", 1709647390456, 2, "T"),
        sms_ie_sms(43, 8, "+12025550142", 1709740800000, 5, "running late", date_sent=1709740799000),
        sms_ie_mms(
            12,
            9,
            1709740900,
            1,
            sender="+12025550142",
            recipients=["+12025550100", "+12025550167"],
            texts=["look at this", " and this"],
            m_id="mavodi-1-8b-6f-1-2f-1a2b3c",
            v1=v1,
        ),
        sms_ie_mms(
            13, 10, 1709741000, 2, sender="insert-address-token", recipients=["22000"], texts=["STOP"], v1=v1
        ),
    ]


def seeds_sms_ie(tmp: Path) -> list[Seed]:
    """sms-ie: the v2 ZIP (messages.ndjson + a part file) and the v1 JSON array."""
    from tests.fixtures_android_db import write_sms_ie_v1, write_sms_ie_zip

    v2 = write_sms_ie_zip(
        tmp / "messages-2024-03-05.zip", _sms_ie_records(False), extra_files={"data/PART_1": b"\x89PNG"}
    )
    v1 = write_sms_ie_v1(tmp / "messages-2021-05-11.json", _sms_ie_records(True))
    return [_file(v2.name, _normalised_zip(v2.read_bytes())), _file(v1.name, v1.read_bytes())]


def seeds_ios_sms_db(tmp: Path) -> list[Seed]:
    """sms.db: iOS 16 (attributedBody), an iOS 7-era one (seconds, fewer columns), the sample data."""
    from tests.fixtures_ios import IOS7_SCHEMA, SmsDb, dt, make_ios16_db

    seeds = [_file("sms.db", make_ios16_db(tmp / "ios16.db").read_bytes())]
    old = SmsDb(tmp / "ios7.db", schema=IOS7_SCHEMA, client_version="7006", seconds_dates=True)
    shop = old.handle("10690000123456", country="cn")
    chat = old.chat("10690000123456", [shop])
    old.message(
        guid="A1", handle=shop, chat=chat, date=dt("2014-03-05 14:00:00"), text="【优选商城】上新啦 回T退订"
    )
    old.message(guid="A2", handle=shop, chat=chat, date=dt("2014-03-05 14:03:10"), text="T", is_from_me=1)
    seeds.append(_file("chat.db", old.close().read_bytes()))
    seeds.append(_file("iphone-sms.db", (REPO / "sample_data" / "iphone-sms.db").read_bytes()))
    if path := _shared("iosbackup-mvt-ios14", "3d", "3d0d7e5fb2ce288813306e4d4636395e047a3d28"):
        seeds.append(_file("sms-ios14.db", path.read_bytes()))
    return seeds


def seeds_android_mmssms(tmp: Path) -> list[Seed]:
    """mmssms.db: AOSP and Samsung (spam_sms) with SMS, a group MMS, a picture MMS; the AOSP sample."""
    from tests.fixtures_android_db import MmssmsDb

    seeds = []
    for samsung in (False, True):
        db = MmssmsDb(tmp / f"mmssms-{samsung}.db", samsung=samsung)
        shop, friend = db.thread("10690000123456"), db.thread("+12025550142")
        group = db.thread("+12025550142", "+12025550167", "+12025550175")
        db.sms(
            shop,
            "10690000123456",
            1709647200123,
            1,
            "【优选商城】会员日满199减50，回T退订",
            date_sent_ms=1709647199000,
        )
        db.sms(shop, "10690000123456", 1709647390456, 2, "T")
        db.sms(friend, "+12025550142", 1709740800000, 5, "running late")
        db.mms(
            friend,
            1709740900,
            1,
            texts=["look at this"],
            image=True,
            m_id="m-1",
            addrs=[("+12025550142", 137), ("+12025550100", 151)],
        )
        db.mms(
            group,
            1709741000,
            2,
            texts=["me!"],
            addrs=[("insert-address-token", 137), ("+12025550142", 151), ("+12025550167", 151)],
        )
        if samsung:
            db.sms(0, "+12025550188", 1709750000000, 1, "You won a prize!", table="spam_sms")
        seeds.append(_file("mmssms.db", db.close().read_bytes()))
    if path := _shared("mmssms-aosp-empty-teleshoes", "mmssms.db"):
        seeds.append(_file("mmssms-empty.db", path.read_bytes()))
    return seeds


def seeds_android_telephony_backup(tmp: Path) -> list[Seed]:
    """TelephonyBackupAgent: an SMS file, an MMS file, a d_f folder of both, the mvt sample folder."""
    from tests.fixtures_android_db import write_telephony_backup

    sms = [
        {"address": "10690000123456", "body": "【优选商城】会员日满199减50，回T退订", "date": "1709647200123",
         "date_sent": "1709647199000", "status": "-1", "type": "1", "recipients": ["10690000123456"], "read": "1"},
        {"address": "10690000123456", "body": "T", "date": "1709647390456", "date_sent": "0", "status": "-1",
         "type": "2", "recipients": ["10690000123456"], "read": "1"},
    ]  # fmt: skip
    mms = [
        {"date": "1709740900", "date_sent": "1709740898", "m_type": "132", "v": "18", "msg_box": "1",
         "recipients": ["+12025550142", "+12025550167"], "tr_id": "T18c2f3a9b11", "read": "1",
         "mms_addresses": [{"type": 137, "address": "+12025550142", "charset": 106},
                           {"type": 151, "address": "+12025550100", "charset": 106},
                           {"type": 151, "address": "+12025550167", "charset": 106}],
         "mms_body": "look at this", "mms_charset": 106},
    ]  # fmt: skip
    folder = tmp / "d_f"
    folder.mkdir()
    sms_file = write_telephony_backup(folder / "000000_sms_backup", sms)
    mms_file = write_telephony_backup(folder / "000001_mms_backup", mms)
    seeds = [
        _file(sms_file.name, sms_file.read_bytes()),
        _file(mms_file.name, mms_file.read_bytes()),
        _folder("d_f", folder),
    ]
    if path := _shared("android-adb-telephony-mvt"):
        seeds.append(_folder("mvt_d_f", path))
    return seeds


def seeds_ios_backup(tmp: Path) -> list[Seed]:
    """iOS backup folders: iOS 10+ (Manifest.db), hash-path only, iOS <= 9 flat, encrypted, the sample."""
    from tests.fixtures_ios import make_backup, make_encrypted_backup, make_ios16_db

    db = make_ios16_db(tmp / "sms.db")
    manifest = {
        "IsEncrypted": False,
        "Version": "10.0",
        "Lockdown": {"ProductVersion": "17.4.1", "DeviceName": "Test iPhone"},
    }
    seeds = [
        _folder("backup", make_backup(tmp / "manifest", db, manifest_plist=manifest), "backup (Manifest.db)"),
        _folder("backup", make_backup(tmp / "hash", db, layout="hash"), "backup (hash path)"),
        _folder("backup", make_backup(tmp / "flat", db, layout="flat"), "backup (iOS 9 flat)"),
    ]
    with contextlib.suppress(ImportError):  # needs pycryptodome (the ios-encrypted extra)
        encrypted = make_encrypted_backup(tmp / "encrypted", db, PASSPHRASE)
        seeds.append(_folder("backup", encrypted, "backup (encrypted)"))
    if path := _shared("iosbackup-mvt-ios14"):
        seeds.append(_folder("backup", path, "backup (mvt iOS 14 sample)"))
    return seeds


# Chinese-market messages shared by the seeds of the Chinese phones' formats (numbers are fictional)
_PORT = "10690000123456"
_AD = "【优选商城】会员日满199减50，戳 yx.example.cn/s/1001 回T退订"
_AD2 = "【优选商城】限时秒杀：智能手表仅需99元 回T退订"
_FRIEND = "+8613900001111"
_FRIEND2 = "+8613900002222"


def seeds_miui_backup(tmp: Path) -> list[Seed]:
    """MIUI/HyperOS: backup folders (SMS + MMS .bak, plain and zlib-compressed tar, an old MIUI V6),
    the HyperOS zip with an inner folder, and a lone SMS .bak."""
    from tests.fixtures_miui import Mms, Sms, bak, message_tar, sync_root, write_backup, zip_backup

    sms = [
        Sms(_PORT, 1725161040000, _AD, date_sent_ms=1725161039000),
        Sms(_FRIEND, 1725499800000, "周末一起吃饭吗？\n老地方见 😀"),
        Sms(_PORT, 1725970500000, "TD", type=2),
        Sms(_PORT, 1726196400000, _AD2),
        Sms("95588", 1726200000000, "", type=5),
    ]
    mms = [
        Mms(1725500000, 1, [(_FRIEND, 137), ("insert-address-token", 151)], [("text/plain", "看这个"), ("image/jpeg", "IMG_1.jpg")], m_id="m-1"),
        Mms(1725500100, 2, [("insert-address-token", 137), (_FRIEND, 151), (_FRIEND2, 151)], [("text/plain", "大家好")], date_ms_part=123),
        Mms(1725500200, 1, [(_FRIEND, 137)], [], m_type=130),  # a notification, not downloaded
    ]  # fmt: skip
    folder = write_backup(tmp / "20240905_101010", sms=sms, mms=mms)
    old = write_backup(tmp / "old", sms=sms[:3], miui_version="V6.6.1.0.KXDCNCF", compression=1, notes=False)
    hyper = write_backup(tmp / "hyper", sms=sms, mms=mms[:1], sms_label="Messages", mms_label="MMS")
    lone = bak(message_tar(sync_root(sms[:4])), compression=1)
    return [
        _folder("20240905_101010", folder, "folder (SMS + MMS)"),
        _folder("20240905_101010", old, "folder (MIUI V6, zlib tar)"),
        _file("20240905_101010.zip", _normalised_zip(zip_backup(hyper, tmp / "h.zip", inner="20240905_101010").read_bytes())),
        _file("短信(com.android.mms).bak", lone),
    ]  # fmt: skip


def seeds_huawei_backup(tmp: Path) -> list[Seed]:
    """Huawei/Honor: the decrypted sms.db (with group sends, and one of several pages), kobackupdec's
    output folder, and the encrypted KoBackup folder (recognised and explained)."""
    from tests.fixtures_huawei import Row, write_encrypted_backup, write_sms_db

    rows = [
        Row(_PORT, 1725161040000, _AD, date_sent_ms=1725161039000),
        Row(_FRIEND, 1725499800000, "周末一起吃饭吗？\n老地方见 😀"),
        Row(_PORT, 1725970500000, "退订", type=2),
        Row(_PORT, 1726196400000, _AD2, read=0),
        Row("95588", 1726200000000, "草稿", type=3),
    ]
    broadcasts = [
        (2, "新年快乐！", 1735660800000, f"{_FRIEND};{_FRIEND2}"),
        (8, "收到请回复", 1735660900000, _FRIEND),
    ]
    small = write_sms_db(tmp / "a" / "sms.db", rows, broadcasts)
    pages = write_sms_db(tmp / "b" / "sms.db", rows, filler=12)
    decrypted = tmp / "decrypted"
    write_sms_db(decrypted / "db" / "sms.db", rows[:3], broadcasts[:1])
    (decrypted / "info.xml").write_text('<?xml version="1.0" encoding="UTF-8"?>\n<info.xml>\n</info.xml>\n')
    encrypted = write_encrypted_backup(tmp / "HUAWEI ELS-AN00_2025-09-15 10.10.10")
    return [
        _file("sms.db", small.read_bytes()),
        Seed("sms.db", {"sms.db": pages.read_bytes()}, "sms.db (several pages)", weight=0.6),
        _folder("decrypted", decrypted, "kobackupdec folder"),
        Seed(encrypted.name, _folder(encrypted.name, encrypted).files, "encrypted KoBackup folder", weight=0.3),
    ]  # fmt: skip


def seeds_google_messages(tmp: Path) -> list[Seed]:
    """bugle_db: SMS, an RCS group, a group MMS, drafts and failures; and the same copied with its
    -wal while the app holds it open."""
    from tests.fixtures_bugle import SELF, BugleDb

    seeds = []
    for wal in (False, True):
        folder = tmp / f"wal-{wal}"
        folder.mkdir()
        db = BugleDb(folder / "bugle_db", wal=wal)
        shop, friend = db.conversation("+12025550188"), db.conversation("+12025550142", name="Alex")
        group = db.conversation(
            "+12025550142", "+12025550167", "+447700900123", name="Climbing", rcs_group_id="grp-1"
        )
        p_shop, p_friend, p_other = (
            db.participant("+12025550188"),
            db.participant("+12025550142"),
            db.participant("+12025550167"),
        )
        db.message(
            shop,
            p_shop,
            1709647200123,
            "ACME: 20% off this weekend! Reply STOP to opt out",
            sent_ms=1709647199000,
        )
        db.message(shop, SELF, 1709647390456, "STOP", status=2)
        db.message(friend, p_friend, 1709740800000, "see you at 6 👋", protocol=3, rcs_message_id="MxAbC1")
        db.message(
            group, p_other, 1709740900000, "who's in on Saturday?", protocol=3, rcs_message_id="MxAbC3"
        )
        db.message(group, SELF, 1709741000000, "me", protocol=3, status=1, rcs_message_id="MxAbC4")
        db.message(
            group, p_friend, 1709741100000, "pics", protocol=1, attachments=("image/jpeg", "application/smil")
        )
        db.message(friend, SELF, 1709741200000, "unsent thought", status=3)
        db.message(friend, SELF, 1709741300000, "retrying", status=8)
        if wal:  # copied while the app holds it open: the last rows are only in the -wal
            db.commit()
            db.message(shop, p_shop, 1711040400789, "ACME: new arrivals just for you")
            db.commit()
            files = {n: (folder / n).read_bytes() for n in ("bugle_db", "bugle_db-wal")}
            db.close()
            seeds.append(Seed("bugle_db", files, "bugle_db + -wal"))
        else:
            db.close()
            seeds.append(_file("bugle_db", (folder / "bugle_db").read_bytes()))
    return seeds  # fmt: skip


def seeds_vmsg(tmp: Path) -> list[Seed]:
    """vMessage: OPPO (real QP, soft breaks), MediaTek (CRLF, raw body, /END:VBODY), ZTE, declared-QP
    written raw, a group and an MMS, UTF-16 and GB18030 files, an older backup folder with Sms/sms.vmsg,
    and an encrypted ColorOS 12+ backup folder."""
    from tests.fixtures_vmsg import cn_user, document, record, write_coloros_backup

    def story(style: str) -> str:  # a body holding "END:VBODY" must stay one body
        return cn_user(
            _PORT, _FRIEND, _AD, _AD2, style=style, friend_text="周末一起吃饭吗？\n老地方见 😀 END:VBODY"
        )

    group = document(
        record([_FRIEND, _FRIEND2], "2024/05/01 12:00:00", "大家好", "SENDBOX"),
        record(_FRIEND, "2024-05-01T12:03:00", "hi all", "INBOX", env=[_FRIEND2, "+8613900003333"]),
        "BEGIN:VMSG\nVERSION:1.1\nBEGIN:VCARD\nTEL:+8613900001111\nEND:VCARD\nBEGIN:VBODY\nX-BOX:INBOX\n"
        "Date:2018/02/11 17:11:52\nEND:VBODY\n"
        "BEGIN:VPART\nX-MMS-PART-CONTENT-TYPE:image/jpeg\nX-MMS-PART-NAME:IMG_1.jpg\nX-MMS-PART-DATA:aGVsbG8=\nEND:VPART\n"
        "BEGIN:VPART\nX-MMS-PART-CONTENT-TYPE:text/plain\nX-MMS-PART-DATA:5paw5bm05b+r5LmQ\nEND:VPART\nEND:VMSG\n",
        record("95588", "05.01.2016 19:03:14", "您的验证码是 204816", "INBOX", style="zte"),
    )
    seeds = [
        _file("sms.vmsg", story("oppo").encode()),
        _file("sms.vmsg", story("mtk").encode()),
        Seed("sms.vmsg", {"sms.vmsg": story("zte").encode("gb18030")}, "sms.vmsg (ZTE, GB18030)"),
        Seed("sms.vmsg", {"sms.vmsg": story("johnpierre").encode("utf-8")}, "sms.vmsg (declared QP, raw)"),
        Seed("sms.vmsg", {"sms.vmsg": b"\xff\xfe" + story("oppo").encode("utf-16-le")}, "sms.vmsg (UTF-16)"),
        Seed("group.vmsg", {"group.vmsg": b"\xef\xbb\xbf" + group.encode()}, "group + MMS (BOM)"),
        Seed("20240905", {"20240905/Sms/sms.vmsg": story("mtk").encode()}, "backup folder (Sms/sms.vmsg)"),
    ]
    seeds[1] = Seed("sms.vmsg", seeds[1].files, "sms.vmsg (MediaTek)")
    with contextlib.suppress(ImportError):  # needs cryptography (the coloros extra)
        folder = write_coloros_backup(tmp / "20250915", story("oppo"))
        seeds.append(_folder("20250915", folder, "ColorOS 12+ encrypted folder"))
    return seeds  # fmt: skip


def seeds_super_backup_xml(tmp: Path) -> list[Seed]:
    """超级备份 XML: bodies with unescaped quotes, references, a raw body, a wrong count; also GBK."""
    from tests.fixtures_super_backup import HEADER, document, sms

    records = [
        sms(_PORT, 1725161040000, _AD),
        sms(_FRIEND, 1725499800000, '他说"周末见"\n老地方 😀 <b>&', name="小明"),
        sms(_PORT, 1725970500000, "TD", 2),
        sms(_PORT, 1726196400000, _AD2),
        sms("95588", 1726200000000, '【工商银行】您的验证码 "204816" 请勿泄露', raw=True),
        sms(_FRIEND, 1726300000000, "草稿", 3, service_center=""),
    ]
    text = document(*records)
    gbk = document(*records[:4], count=9).replace(HEADER, '<?xml version="1.0" encoding="GBK"?>\n')
    return [
        _file("sms_20240915.xml", text.encode()),
        Seed("sms_gbk.xml", {"sms_gbk.xml": gbk.encode("gb18030")}, "GBK, count 9 of 4"),
        Seed("sms_raw.xml", {"sms_raw.xml": document(sms(_PORT, 1725161040000, 'a "raw" <body> & \n line', raw=True), *records[2:4]).encode()}),
    ]  # fmt: skip


def seeds_csv(tmp: Path) -> list[Seed]:
    """CSV exports: iMazing's four column sets (SMS, iMessage, a group, an attachment, a notification),
    QQ同步助手 GBK (with and without a header, columns in another order)."""
    from tests.fixtures_csv import ImazingRow, imazing_csv, qq_csv

    rows = [
        ImazingRow(
            "ACME",
            "2024-03-05 14:00:00",
            "Incoming",
            'ACME: 20% off, "today" only!\nReply STOP to opt out',
            "22000",
            "ACME",
        ),
        ImazingRow("ACME", "2024-03-05 14:03:10", "Outgoing", "STOP"),
        ImazingRow(
            "Ann",
            "2024-03-06 08:00:00",
            "Incoming",
            "running late 😀",
            "+12025550142",
            "Ann",
            "iMessage",
            message_id="5A1B",
        ),
        ImazingRow(
            "Ann, Bob", "2024-03-06 09:00:00", "Incoming", "group hi", "+12025550167", "Bob", "iMessage"
        ),
        ImazingRow(
            "Ann", "2024-03-06 09:30:00", "Outgoing", "", service="iMessage", attachment="IMG_0001.HEIC"
        ),
        ImazingRow("Ann", "2024-03-06 09:31:00", "Notification", "Ann named the conversation"),
    ]
    qq = [
        (_AD, "", _PORT, "2025/09/01 11:24:00", "收件箱"),
        ("周末一起吃饭吗？, 老地方见", "小明", _FRIEND, "2025/09/05 09:30:00", "收件箱"),
        ("退订", "", _PORT, "2025/09/10 20:15:00", "发件箱"),
        (_AD2, "", _PORT, "2025/09/13 11:00:00", "收件箱"),
        ("没发出去", "小明", _FRIEND, "2025/09/14 08:00:00", "草稿箱"),
    ]
    seeds = [
        Seed(f"imazing-{n}.csv", {f"imazing-{n}.csv": imazing_csv(rows, n, bom=n != 15)})
        for n in (14, 15, 17, 18)
    ]
    seeds += [
        _file("qq-sms.csv", qq_csv(qq)),
        Seed(
            "qq-sms.csv",
            {"qq-sms.csv": qq_csv(qq, header=None, order=(3, 4, 2, 1, 0))},
            "qq-sms.csv (no header, reordered)",
        ),
    ]
    return seeds  # fmt: skip


#: The seed builder of each importer (by NAME). A new importer in CATALOG needs one entry here.
SEED_BUILDERS: dict[str, Callable[[Path], list[Seed]]] = {
    "sbr_xml": seeds_sbr_xml,
    "sms_ie": seeds_sms_ie,
    "ios_backup": seeds_ios_backup,
    "ios_sms_db": seeds_ios_sms_db,
    "android_mmssms": seeds_android_mmssms,
    "android_telephony_backup": seeds_android_telephony_backup,
    "miui_backup": seeds_miui_backup,
    "huawei_backup": seeds_huawei_backup,
    "google_messages": seeds_google_messages,
    "vmsg": seeds_vmsg,
    "super_backup_xml": seeds_super_backup_xml,
    "csv": seeds_csv,
}


def importer_names() -> list[str]:
    """Every importer of the catalog; one without a seed builder is an error (fuzz them all)."""
    names = [f.name for f in CATALOG]
    missing = [n for n in names if n not in SEED_BUILDERS]
    if missing:
        raise SystemExit(f"no seed builder for {', '.join(missing)}: add one to SEED_BUILDERS in {__file__}")
    return names


_SEEDS: dict[str, list[Seed]] = {}


def seeds_for(name: str) -> list[Seed]:
    """The seeds of one importer (built once per process)."""
    if name not in _SEEDS:
        with tempfile.TemporaryDirectory(prefix="fuzz-seeds-") as tmp:
            _SEEDS[name] = SEED_BUILDERS[name](Path(tmp))
    return _SEEDS[name]


# --- mutations ---------------------------------------------------------------------------------

SQLITE_MAGIC = b"SQLite format 3\x00"

#: Strings that make parsers and converters stumble (attribute values, JSON strings, cells).
TEXTS = [
    "", " ", "null", "NULL", "0", "-1", "-0", "+5", " 12 ", "1_000", "１２３", "0x1F", "1e3", "1e400", "nan",
    "Infinity", "9" * 25, "9" * 5000, "-" + "9" * 19, "abc", "\u202e\u0000", "😀", "\ufffe", "a\nb\rc",
    "~", "~~;,", "insert-address-token", "@rcs.google.com", "+", "+86", "10690000123456~+12025550142",
    "x" * 70_000, "退订" * 3000,
]  # fmt: skip
#: Integers at the edges of every unit and type a date or id may be read in.
INTS = [
    0, 1, -1, 2, 7, 127, 128, 130, 137, 151, 255, 2**15, 2**31 - 1, 2**31, -(2**31), 2**32, 2**53 + 1,
    2**63 - 1, -(2**63), 10**9, 10**12, 10**15, 10**18, 4102444800000, 631152000000, 978307200,
]  # fmt: skip
FLOATS = [0.5, -0.5, 1e308, -1e308, 1e-300, 1709647200123.5, float("inf"), float("-inf")]
XML_VALUES = [
    "&#0;", "&#55357;", "&#56832;&#55357;", "&#x110000;", "&#99999999999999;", "&#xFFFE;", "&#13;&#10;",
    "&#x1F600;", "&amp;", "&lt;&gt;", "&", "<", "&bogus;", "&#", "\x00", "\x01",
]  # fmt: skip
INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80\x80", b"\x00"]  # fmt: skip
KNOWN_KEYS = [
    "_id", "address", "body", "date", "date_sent", "type", "msg_box", "m_type", "m_id", "tr_id", "recipients",
    "mms_addresses", "mms_body", "__sender_address", "__recipient_addresses", "__parts", "sender_address",
    "parts", "seq", "ct", "text", "IsEncrypted", "Lockdown", "Product Version", "Last Backup Date",
]  # fmt: skip


def kind_of(data: bytes) -> str:
    """What a file is, from its bytes (decides which mutations fit it)."""
    if data.startswith(SQLITE_MAGIC):
        return "sqlite"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data.startswith(b"bplist00"):
        return "bplist"
    if len(data) >= 2 and data[0] == 0x78 and (data[0] * 256 + data[1]) % 31 == 0:
        return "zlib"
    if data.startswith(b"MIUI BACKUP\n"):
        return "miui_bak"
    if b"BEGIN:VMSG" in data[:400].upper() or b"B\x00E\x00G\x00I\x00N\x00:\x00V\x00M\x00S\x00G" in data[:800]:
        return "vmsg"
    head = data[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _looks_csv(data):
        return "csv"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or head.startswith(b"<"):
        return "plist" if b"<plist" in data[:400] or b"<\x00p\x00l\x00i\x00s\x00t" in data[:800] else "xml"
    if head.startswith(b"{") and b"\n{" in data:
        return "ndjson"
    if head.startswith((b"[", b"{")):
        return "json"
    return "bytes"


def _looks_csv(data: bytes) -> bool:
    """Two first rows with the same number (at least 4) of fields: a CSV export."""
    import csv as csv_module

    head = data[:16384]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = head[2:].decode("utf-16-le" if head[:2] == b"\xff\xfe" else "utf-16-be", "replace")
    else:
        text = head.decode("utf-8" if head.startswith(b"\xef\xbb\xbf") else "gb18030", "replace")
    if text.lstrip("\ufeff \r\n").startswith(("<", "{", "[", "BEGIN:")):
        return False
    for delimiter in (",", "\t"):
        try:
            rows = list(itertools.islice(csv_module.reader(io.StringIO(text), delimiter=delimiter), 2))
        except csv_module.Error:
            continue
        if len(rows) == 2 and len(rows[0]) >= 4 and len(rows[0]) == len(rows[1]):
            return True
    return False


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


class Mutator:
    """Type-aware mutations of one case's files; every choice comes from ``rng`` (deterministic).

    ``ops`` records what was done, for the crash report (``"sqlite.cell message.date := 2**63-1"``).
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ops: list[str] = []
        self.terminal = False  # a bomb was made: no further mutation of it (it would inflate it here)

    # generic ---------------------------------------------------------------------------------

    def note(self, text: str) -> None:
        self.ops.append(text[:160])

    def file(self, data: bytes, depth: int = 0) -> bytes:
        """One mutation suited to the file's kind."""
        kind = kind_of(data)
        if depth > 1 or self.rng.random() < 0.06:
            return self.raw(data, keep=16 if kind == "sqlite" else 4 if kind in ("zip", "bplist") else 0)
        mutate: dict[str, Callable[[bytes, int], bytes]] = {
            "sqlite": self.sqlite,
            "zip": self.zip,
            "zlib": self.zlib,
            "bplist": self.plist,
            "plist": self.plist,
            "xml": self.xml,
            "json": self.json,
            "ndjson": self.ndjson,
            "vmsg": self.vmsg,
            "csv": self.csv,
            "miui_bak": self.miui_bak,
        }
        if kind not in mutate:
            return self.raw(data)
        try:
            return mutate[kind](data, depth)
        except Exception as exc:  # noqa: BLE001 - a mutation that does not fit this file: damage bytes
            self.note(f"({kind} mutation failed: {type(exc).__name__})")
            return self.raw(data)

    def raw(self, data: bytes, keep: int = 0) -> bytes:
        """Byte-level damage after the first ``keep`` bytes (the magic stays: payloads are the target)."""
        r, n = self.rng, len(data)
        if n <= keep:
            self.note("raw.append")
            return data + r.randbytes(r.randint(1, 64))
        pos = r.randrange(keep, n)
        op = r.choice(("flip", "flip", "byte", "insert", "delete", "duplicate", "truncate", "overwrite"))
        self.note(f"raw.{op} @{pos}")
        if op == "flip":
            out = bytearray(data)
            for _ in range(r.choice((1, 1, 2, 4, 8))):
                out[r.randrange(keep, n)] ^= 1 << r.randrange(8)
            return bytes(out)
        if op == "byte":
            return (
                data[:pos]
                + bytes([r.choice((0, 0xFF, 0x7F, 0x80, 0xC0, 0xED, 0x3C, 0x22))])
                + data[pos + 1 :]
            )
        if op == "insert":
            return data[:pos] + r.choice([*INVALID_UTF8, r.randbytes(r.randint(1, 64))]) + data[pos:]
        size = r.choice((1, 2, 4, 16, 64, 512, 4096))
        if op == "delete":
            return data[:pos] + data[pos + size :]
        if op == "duplicate":
            return data[: pos + size] + data[pos : pos + size] + data[pos + size :]
        if op == "truncate":
            return data[:pos]
        return data[:pos] + r.randbytes(min(size, n - pos)) + data[pos + size :]

    # XML ---------------------------------------------------------------------------------------

    _ATTR = re.compile(r"(\s)([A-Za-z_][\w:.-]*)=(\"[^\"]*\"|'[^']*')")
    _ELEMENT = re.compile(
        r"<(sms|part|addr|key|string|integer|date|true|false)\b[^<>]*?/?>(?:[^<>]*</\1>)?|<(mms|parts|addrs|dict|array)\b.*?</\2>",
        re.DOTALL,
    )
    _TAG = re.compile(r"<(/?)([A-Za-z_][\w:.-]*)")

    def xml(self, data: bytes, depth: int = 0) -> bytes:
        encoding = (
            "utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be" if data[:2] == b"\xfe\xff" else "utf-8"
        )
        bom = data[:2] if encoding != "utf-8" else b""
        try:
            text = data[len(bom) :].decode(encoding)
        except UnicodeDecodeError:
            return self.raw(data)
        r = self.rng
        op = r.choices(
            ("attr_value", "attr_delete", "attr_rename", "attr_dup", "element", "nest", "markup", "encoding", "bytes", "text"),
            weights=(34, 10, 5, 3, 12, 3, 6, 5, 8, 6),
        )[0]  # fmt: skip
        if op == "bytes":  # invalid UTF-8 / NUL / raw bytes inside a value
            raw = text.encode("utf-8")
            spots = [m.end(3) - 1 for m in self._ATTR.finditer(text)]
            at = len(text[: r.choice(spots)].encode("utf-8")) if spots else r.randrange(len(raw) + 1)
            junk = r.choice(INVALID_UTF8) * r.choice((1, 1, 3))
            self.note(f"xml.bytes {junk!r} @{at}")
            return raw[:at] + junk + raw[at:]
        if op == "encoding":
            return self._xml_encoding(text)
        text = self._xml_text(text, op)
        return bom + text.encode(encoding, "surrogatepass")

    def _xml_text(self, text: str, op: str) -> str:
        r = self.rng
        attrs = list(self._ATTR.finditer(text))
        if op.startswith("attr") and attrs:
            m = r.choice(attrs)
            name, value = m.group(2), m.group(3)
            if op == "attr_value":
                new = self._xml_value(value[1:-1])
                self.note(f"xml.attr {name}={new[:40]!r}")
                quote = '"' if '"' not in new or r.random() < 0.2 else "'"
                return text[: m.start(3)] + quote + new + quote + text[m.end(3) :]
            if op == "attr_delete":
                self.note(f"xml.del {name}")
                return text[: m.start()] + text[m.end() :]
            if op == "attr_rename":
                new_name = r.choice(
                    [*KNOWN_KEYS, "xmlns", "xmlns:x", "x:" + name, name.upper(), "1bad", "a" * 300]
                )
                self.note(f"xml.rename {name}->{new_name}")
                return text[: m.start(2)] + new_name + text[m.end(2) :]
            self.note(f"xml.dup {name}")
            return text[: m.end()] + m.group() + text[m.end() :]
        elements = list(self._ELEMENT.finditer(text))
        if op == "element" and elements:
            m = r.choice(elements)
            how = r.choice(("delete", "duplicate", "duplicate", "rename", "swap", "unclose"))
            self.note(f"xml.element {how} <{m.group(1) or m.group(2)}>")
            if how == "delete":
                return text[: m.start()] + text[m.end() :]
            if how == "duplicate":
                return text[: m.end()] + m.group() * r.choice((1, 2, 50)) + text[m.end() :]
            if how == "rename":
                old = m.group(1) or m.group(2)
                new = r.choice(("sms", "mms", "smses", "calls", "part", "addr", "x:sms", "SMS", "dict", "array", "string", "integer"))  # fmt: skip
                return text[: m.start()] + m.group().replace(old, new) + text[m.end() :]
            if how == "swap":
                other = r.choice(elements)
                return text[: m.start()] + other.group() + text[m.end() :]
            return text[: m.start()] + m.group().replace("/>", ">", 1) + text[m.end() :]
        if op == "nest" and elements:
            m = r.choice(elements)
            n = r.choice((3, 100, 300, 3000, 100_000))
            tag = r.choice(("sms", "mms", "parts", "x", "smses", "dict", "array"))
            self.note(f"xml.nest {n} <{tag}>")
            return text[: m.start()] + f"<{tag}>" * n + m.group() + f"</{tag}>" * n + text[m.end() :]
        if op == "markup":
            tags = [m.start() for m in self._TAG.finditer(text)] or [0]
            at = r.choice(tags)
            piece = r.choice(
                (
                    "<!-- c -->", "<![CDATA[ <sms/> ]]>", "<?pi x?>", "&bogus;", "&amp;", "<", "&", "]]>", "\x00",
                    '<!DOCTYPE smses [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "<!DOCTYPE smses>",
                    '<!DOCTYPE smses [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>', "&#0;",
                    '<smses xmlns="http://example.com/">', "</smses>", "<sms/>", '<sms date="1709647200123"/>',
                )
            )  # fmt: skip
            self.note(f"xml.markup {piece[:30]!r} @{at}")
            return text[:at] + piece + text[at:]
        if op == "text" or not attrs:
            start = r.randrange(len(text) + 1)
            how = r.choice(("delete", "truncate", "insert"))
            self.note(f"xml.text {how} @{start}")
            if how == "delete":
                return text[:start] + text[start + r.choice((1, 2, 10, 200)) :]
            if how == "truncate":
                return text[:start]
            return (
                text[:start]
                + r.choice(('"', "'", "<", ">", "/", "=", "\x00", "\ud800", "\x0b"))
                + text[start:]
            )
        return text

    def _xml_value(self, old: str) -> str:
        r = self.rng
        choice = r.random()
        if choice < 0.35 and old.lstrip("-").isdigit():
            n = int(old)
            return str(r.choice([*INTS, -n, n * 1000, n // 1000, n * 1_000_000, n + 1, -(2**63) - 1, 10**30]))
        if choice < 0.55:
            return r.choice(XML_VALUES) * r.choice((1, 1, 2, 100))
        if choice < 0.6:
            return old * r.choice((2, 1000, 30_000))  # long values (beyond the body limit at 30,000×)
        text = r.choice(TEXTS)
        return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")

    def _xml_encoding(self, text: str) -> bytes:
        r = self.rng
        declared, actual, bom = r.choice(
            (
                ("UTF-16", "utf-16-le", b"\xff\xfe"), ("UTF-16", "utf-16-be", b""), ("UTF-8", "utf-16-le", b"\xff\xfe"),
                ("UTF-32", "utf-32-le", b"\xff\xfe\x00\x00"), ("GBK", "gb18030", b""), ("GB2312", "utf-8", b""),
                ("ISO-8859-1", "utf-8", b""), ("x-bogus", "utf-8", b""), ("UTF-8", "utf-8", b"\xef\xbb\xbf"),
                ("UTF-16", "utf-8", b""), ("Shift_JIS", "utf-8", b""), ("", "utf-8", b""),
            )
        )  # fmt: skip
        self.note(f"xml.encoding declared {declared!r} written {actual} bom={bom!r}")
        if declared:
            text = re.sub(r"encoding=['\"][^'\"]*['\"]", f"encoding='{declared}'", text, count=1)
        else:
            text = re.sub(r"<\?xml[^>]*\?>", "", text, count=1)
        out = bom + text.encode(actual, "replace")
        if actual.startswith("utf-16") and r.random() < 0.3:  # odd length / lone surrogate in UTF-16
            cut = r.randrange(2, len(out))
            out = out[:cut] + r.choice((b"\x00\xd8", b"\xd8", b"\x00\xdc\x00\xdc")) + out[cut:]
            self.note("xml.encoding broken utf-16")
        return out

    # text formats: vMessage and CSV (line-level) ---------------------------------------------------

    def _text(self, data: bytes) -> tuple[str, Callable[[str], bytes]] | None:
        """(text, how to write it back in the same encoding and BOM), or None when undecodable."""
        for bom, codec in (
            (b"\xef\xbb\xbf", "utf-8"),
            (b"\xff\xfe", "utf-16-le"),
            (b"\xfe\xff", "utf-16-be"),
        ):
            if data.startswith(bom):
                try:
                    text = data[len(bom) :].decode(codec)
                except UnicodeDecodeError:
                    return None
                return text, lambda t, bom=bom, codec=codec: bom + t.encode(codec, "surrogatepass")
        for codec in ("utf-8", "gb18030"):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            return text, lambda t, codec=codec: t.encode(codec, "replace")
        return None

    def _reencode(self, text: str) -> bytes:
        """The text in another encoding than its own (declared nowhere), or with broken bytes."""
        r = self.rng
        how = r.choice(("utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be", "utf-16-le", "gb18030", "big5", "latin-1", "broken-utf16", "bad-bytes"))  # fmt: skip
        self.note(f"text.encoding {how}")
        if how == "utf-8-bom":
            return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
        if how == "utf-16-le-bom":
            return b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")
        if how in ("utf-16-be", "utf-16-le", "gb18030", "big5", "latin-1"):
            return text.encode(how, "replace")
        if how == "broken-utf16":
            out = b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")
            cut = r.randrange(2, len(out) + 1)
            return out[:cut] + r.choice((b"\x00\xd8", b"\xd8", b"\x00\xdc\x00\xdc")) + out[cut:]
        raw = text.encode("utf-8", "surrogatepass")
        at = r.randrange(len(raw) + 1)
        return raw[:at] + r.choice(INVALID_UTF8) * r.choice((1, 3)) + raw[at:]

    def _lines_op(self, lines: list[str], how: str, pick: Callable[[], int]) -> None:
        """Generic line damage: delete, duplicate, swap, split, join, blank, overlong."""
        r = self.rng
        i = pick()
        if how == "delete":
            del lines[i]
        elif how == "duplicate":
            lines.insert(i, lines[i] * r.choice((1, 1, 1000)) if r.random() < 0.1 else lines[i])
        elif how == "swap":
            j = r.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif how == "split":
            cut = r.randrange(len(lines[i]) + 1)
            lines[i : i + 1] = [lines[i][:cut], lines[i][cut:]]
        elif how == "join" and i + 1 < len(lines):
            lines[i : i + 2] = [lines[i] + lines[i + 1]]
        elif how == "blank":
            lines.insert(i, r.choice(("", " ", "\t", "\x00", "\ufeff")))
        elif how == "overlong":
            lines[i] += r.choice(("x", "退", "=E9", ",")) * r.choice((2000, 70_000, 1_200_000))

    _VMSG_VALUES: ClassVar[dict[str, tuple[str, ...]]] = {
        "Date": ("9999/99/99 99:99:99", "0000/00/00 00:00:00", "2025/02/30 25:61:61", "99999/01/01 00:00:00",
                 "1709647200123", "-1", "2016-01-05T19:03:14+99:99", "2016-01-05T19:03:14Z", "05.01.2016 19:03:14",
                 "2016/01/05 24:00:00", "", "yesterday", "2016/01/05", "１２:００"),
        "X-BOX": ("INBOX", "SENDBOX", "OUTBOX", "DRAFT", "SENT", "", "inbox", "WEIRD", "FAILED"),
        "TEL": ("", " ", "+8613900001111;+8613900002222", "95588~10086", "insert-address-token", "+" * 300, "\x00",
                "10690000123456" * 50, ";;;"),
        "X-MMS-PART-DATA": ("", "====", "aGVsbG8", "!!!!", "5paw5bm05b+r5LmQ" * 5000, "\x00\x01"),
        "X-MMS-PART-CONTENT-TYPE": ("text/plain", "image/jpeg", "", "text/plain; charset=gbk", "text/x-vCard"),
    }  # fmt: skip
    _QP = ("=", "=G1", "=E9=80", "=E9=", "=\n", "=\r\n", "==", "=0", "=ZZ", "=3D", "=00", "=FF=FE", "=C0=AF", "=ED=A0=80")  # fmt: skip
    _PARAMS = (";ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8", ";ENCODING=QUOTED-PRINTABLE;CHARSET=GBK",
               ";ENCODING=QUOTED-PRINTABLE;CHARSET=x-bogus", ";ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-16",
               ";ENCODING=BASE64;CHARSET=UTF-8", ";ENCODING=8BIT", ";CHARSET=", ";ENCODING=", ";;;", ";CHARSET=UTF-8",
               ";ENCODING=QUOTED-PRINTABLE", ";ENCODING=QUOTED-PRINTABLE;CHARSET=utf-32", ";X=" + "y" * 5000, "")  # fmt: skip

    def vmsg(self, data: bytes, depth: int = 0) -> bytes:
        """vMessage damage: BEGIN/END lines dropped, duplicated or nested; broken quoted-printable;
        wrong ENCODING/CHARSET parameters; hostile Date, X-BOX, TEL and MMS part values; line ends."""
        r = self.rng
        decoded = self._text(data)
        if decoded is None:
            return self.raw(data)
        text, encode = decoded
        op = r.choices(
            ("markers", "nest", "qp", "params", "value", "lines", "newlines", "encoding", "text"),
            weights=(16, 4, 16, 10, 22, 12, 5, 6, 9),
        )[0]
        if op == "encoding":
            return self._reencode(text)
        if op == "newlines":
            how = r.choice(("crlf", "lf", "cr", "mixed"))
            self.note(f"vmsg.newlines {how}")
            flat = text.replace("\r\n", "\n")
            if how == "mixed":
                return encode("".join(line + r.choice(("\n", "\r\n", "\r")) for line in flat.split("\n")))
            return encode(flat.replace("\n", {"crlf": "\r\n", "lf": "\n", "cr": "\r"}[how]))
        if op == "text":
            return encode(self._xml_text(text, "text"))
        newline = "\r\n" if "\r\n" in text else "\n"
        lines = text.split(newline)
        if op == "nest":
            at = r.randrange(len(lines))
            n = r.choice((3, 100, 10_000, 100_000))
            what = r.choice(
                ("BEGIN:VMSG", "BEGIN:VBODY", "BEGIN:VCARD", "BEGIN:VENV", "END:VMSG", "END:VBODY")
            )
            self.note(f"vmsg.nest {n} {what}")
            lines[at:at] = [what] * n
            return encode(newline.join(lines))
        markers = [i for i, line in enumerate(lines) if line.strip().upper().startswith(("BEGIN:", "END:"))]
        if op == "markers" and markers:
            i = r.choice(markers)
            how = r.choice(("delete", "delete", "duplicate", "swap", "lower", "space", "escape", "rename"))
            self.note(f"vmsg.marker {how} {lines[i].strip()}")
            if how == "delete":
                del lines[i]
            elif how == "duplicate":
                lines.insert(i, lines[i])
            elif how == "swap":
                lines[i] = (
                    lines[i].replace("BEGIN:", "END:")
                    if "BEGIN:" in lines[i]
                    else lines[i].replace("END:", "BEGIN:")
                )
            elif how == "lower":
                lines[i] = lines[i].lower()
            elif how == "space":
                lines[i] = r.choice((" ", "\t", "  ")) + lines[i] + r.choice(("", " ", "\t"))
            elif how == "escape":
                lines[i] = "/" + lines[i]
            else:
                lines[i] = (
                    lines[i].split(":", 1)[0]
                    + ":"
                    + r.choice(("VCALENDAR", "VMSG", "VBODY", "VPART", "", "X"))
                )
            return encode(newline.join(lines))
        subjects = [i for i, line in enumerate(lines) if line.upper().startswith("SUBJECT")]
        if op == "qp" and subjects:
            i = r.choice(subjects)
            line = lines[i]
            head, sep, body = line.partition(":")
            how = r.choice(("insert", "insert", "soft-break-end", "declare", "undeclare", "cut"))
            self.note(f"vmsg.qp {how}")
            if how == "insert":
                at = r.randrange(len(body) + 1)
                body = body[:at] + r.choice(self._QP) * r.choice((1, 1, 2, 500)) + body[at:]
            elif how == "soft-break-end":  # the body ends in a soft break: it runs on into END:VBODY
                body += "="
            elif how == "declare":
                head = head.split(";")[0] + ";ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8"
            elif how == "undeclare":
                head = head.split(";")[0]
            else:
                body = body[: r.randrange(len(body) + 1)]
            lines[i] = head + sep + body
            return encode(newline.join(lines))
        props = [
            i
            for i, line in enumerate(lines)
            if re.match(r"(Subject|TEL|FROMTEL|X-[\w-]+|Date)\b", line, re.IGNORECASE)
        ]
        if op == "params" and props:
            i = r.choice(props)
            head, sep, body = lines[i].partition(":")
            new = head.split(";")[0] + r.choice(self._PARAMS)
            self.note(f"vmsg.params {new[:50]}")
            lines[i] = new + sep + body
            return encode(newline.join(lines))
        if op == "value" and props:
            i = r.choice(props)
            head, sep, _old = lines[i].partition(":")
            name = head.split(";")[0].upper()
            choices = next((v for k, v in self._VMSG_VALUES.items() if k.upper() == name), ())
            new = r.choice(choices) if choices and r.random() < 0.7 else r.choice(TEXTS)
            self.note(f"vmsg.value {name}={new[:30]!r}")
            lines[i] = head + (sep or ":") + new
            return encode(newline.join(lines))
        how = r.choice(("delete", "duplicate", "swap", "split", "join", "blank", "overlong"))
        self.note(f"vmsg.lines {how}")
        self._lines_op(lines, how, lambda: r.randrange(len(lines)))
        return encode(newline.join(lines))

    _CSV_VALUES = (
        "2024-13-45 25:61:61", "0000-00-00 00:00:00", "1709647200123", "1709647200", "2024/03/05 14:00", "",
        "99999-01-01 00:00:00", "2024-03-05T14:00:00Z", "2024-03-05 14:00:00 +9999", "Incoming", "Outgoing",
        "Notification", "收件箱", "发件箱", "草稿箱", "已发送", "=cmd|'/C calc'!A0", "+8613900001111;+8613900002222",
        "a\nb", "a\rb", '"', '""', "\x00", "SMS", "iMessage", "RCS", "MMS", "👍",
    )  # fmt: skip

    def csv(self, data: bytes, depth: int = 0) -> bytes:
        """CSV damage: cells retyped or emptied, rows shortened or widened, headers renamed or lost,
        delimiter swaps, unbalanced quotes, BOMs and other encodings, line ends."""
        import csv as csv_module

        r = self.rng
        decoded = self._text(data)
        if decoded is None:
            return self.raw(data)
        text, encode = decoded
        op = r.choices(
            ("cell", "row", "header", "delimiter", "quote", "lines", "newlines", "encoding", "text"),
            weights=(34, 10, 8, 7, 12, 9, 5, 7, 8),
        )[0]
        if op == "encoding":
            return self._reencode(text)
        if op == "text":
            return encode(self._xml_text(text, "text"))
        if op == "newlines":
            how = r.choice(("\n", "\r", "\r\n\r\n", "\n\r"))
            self.note(f"csv.newlines {how!r}")
            return encode(text.replace("\r\n", "\n").replace("\n", how))
        if op == "delimiter":
            old = "\t" if text.count("\t") > text.count(",") else ","
            new = r.choice([d for d in (",", "\t", ";", "|", "，") if d != old])
            if r.random() < 0.5:
                self.note(f"csv.delimiter {old!r}->{new!r}")
                return encode(text.replace(old, new))
            lines = text.split("\n")
            i = r.randrange(len(lines))
            self.note(f"csv.delimiter line {i} {old!r}->{new!r}")
            lines[i] = lines[i].replace(old, new)
            return encode("\n".join(lines))
        if op == "quote":
            quotes = [m.start() for m in re.finditer('"', text)] or [0]
            at = r.choice(quotes) if r.random() < 0.6 else r.randrange(len(text) + 1)
            how = r.choice(("insert", "delete", "open-at-end"))
            self.note(f"csv.quote {how} @{at}")
            if how == "insert":
                return encode(text[:at] + '"' + text[at:])
            if how == "delete" and text[at : at + 1] == '"':
                return encode(text[:at] + text[at + 1 :])
            return encode(text.rstrip("\r\n") + ',"' + "x" * r.choice((1, 1000)))
        if op == "lines":
            lines = text.split("\n")
            how = r.choice(("delete", "duplicate", "swap", "split", "join", "blank", "overlong"))
            self.note(f"csv.lines {how}")
            self._lines_op(lines, how, lambda: r.randrange(len(lines)))
            return encode("\n".join(lines))
        delimiter = "\t" if text.count("\t") > text.count(",") else ","
        try:
            rows = list(csv_module.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv_module.Error:
            return self.raw(data)
        rows = rows or [[""]]
        i = r.randrange(len(rows)) if op != "header" else 0
        row = rows[i] or [""]
        j = r.randrange(len(row))
        if op == "cell":
            new = r.choice(self._CSV_VALUES) if r.random() < 0.6 else r.choice(TEXTS)
            self.note(f"csv.cell [{i}][{j}] := {new[:30]!r}")
            row[j] = new
        elif op == "row":
            how = r.choice(("short", "wide", "empty", "one"))
            self.note(f"csv.row {how} {i}")
            if how == "short":
                del row[j:]
            elif how == "wide":
                row.extend(r.choice(("", "x", "1")) for _ in range(r.choice((1, 5, 3000))))
            elif how == "empty":
                row = []
            else:
                row = [delimiter.join(row)]
        else:
            how = r.choice(("rename", "case", "duplicate", "drop-row", "drop-column", "translate"))
            self.note(f"csv.header {how} [{j}]")
            if how == "rename":
                row[j] = r.choice(("Text", "Type", "Message Date", "Chat Session", "号码", "类型", "x", "", "\ufeff" + row[j]))  # fmt: skip
            elif how == "case":
                row[j] = row[j].upper() if r.random() < 0.5 else " " + row[j].lower() + " "
            elif how == "duplicate":
                row.insert(j, row[j])
            elif how == "drop-row":
                rows.pop(0)
                row = rows[0] if rows else []
                i = 0
            elif how == "drop-column":
                for other in rows:
                    if j < len(other):
                        del other[j]
                row = rows[0]
            else:
                row[j] = r.choice(
                    ("内容", "姓名", "号码", "时间", "类型", "Date", "Direction", "Address", "Body")
                )
        if rows:
            rows[i] = row
        out = io.StringIO()
        writer = csv_module.writer(
            out, delimiter=delimiter, lineterminator="\r\n" if "\r\n" in text else "\n"
        )
        writer.writerows(rows)
        return encode(out.getvalue())

    # MIUI .bak: a text header, then a tar (zlib when compressed) holding protobuf --------------------

    def miui_bak(self, data: bytes, depth: int = 0) -> bytes:
        """MIUI/Android backup header lines edited; the tar's headers damaged; the protobuf payload
        (apps/com.android.mms/miui_bak/_tmp_bak) damaged at the wire level, then everything rebuilt."""
        import tarfile

        r = self.rng
        end = data.find(b"ANDROID BACKUP\n")
        if end < 0:
            return self.raw(data, keep=12)
        head_lines = data[:end].split(b"\n")[:-1]
        rest = data[end + 15 :].split(b"\n", 3)
        if len(rest) < 4:
            return self.raw(data, keep=12)
        version, compression, encryption, payload = rest
        if compression == b"1":
            try:
                payload = zlib.decompress(payload)
            except zlib.error:
                return self.raw(data, keep=12)
        op = r.choices(("header", "tar", "proto", "compressed", "raw"), weights=(14, 14, 50, 8, 14))[0]
        if op == "raw":
            return self.raw(data, keep=12)
        if op == "header":
            fields = [*head_lines, b"ANDROID BACKUP", version, compression, encryption]
            i = r.randrange(1, len(fields))
            how = r.choice(("value", "delete", "insert", "long"))
            new = r.choice((b"0", b"1", b"2", b"5", b"99", b"-1", b"", b"AES-256", b"none ", b"NONE", "com.miui.notes 笔记".encode(), b"com.android.mms", b"\xff\xfe"))  # fmt: skip
            self.note(f"miui.header {how} line {i}: {new!r}")
            if how == "value":
                fields[i] = new
            elif how == "delete":
                del fields[i]
            elif how == "insert":
                fields.insert(i, new)
            else:
                fields[i] += b"x" * r.choice((1000, 100_000))
            body = zlib.compress(payload) if compression == b"1" else payload
            return b"\n".join(fields) + b"\n" + body
        if op == "compressed":
            how = r.choice(("flag-lies", "truncate", "flip", "bomb-ish"))
            self.note(f"miui.compressed {how}")
            packed = zlib.compress(payload)
            if how == "flag-lies":  # the flag says the other thing
                return b"\n".join([*head_lines, b"ANDROID BACKUP", version, b"0" if compression == b"1" else b"1", encryption]) + b"\n" + (packed if compression != b"1" else payload)  # fmt: skip
            if how == "truncate":
                packed = packed[: r.randrange(2, len(packed))]
            elif how == "flip":
                packed = self.raw(packed, keep=2)
            else:
                packed = zlib.compress(payload + bytes(r.choice((1 << 20, 8 << 20))))
            return b"\n".join([*head_lines, b"ANDROID BACKUP", version, b"1", encryption]) + b"\n" + packed
        if op == "tar":
            out = bytearray(payload)
            blocks = [i for i in range(0, len(out) - 511, 512) if out[i + 257 : i + 262] == b"ustar"]
            if not blocks:
                return self.raw(data, keep=12)
            at = r.choice(blocks)
            field, (offset, size) = r.choice(list({"name": (0, 100), "size": (124, 12), "chksum": (148, 8), "type": (156, 1), "prefix": (345, 155)}.items()))  # fmt: skip
            value = r.choice((b"", b"\x00", b"77777777777\x00", b"\x80" + bytes(10) + b"\x10", b"\xff" * 12, b"-1", b"x", b"L", b"x" * 200, b"apps/com.android.mms/miui_bak/_tmp_bak"))  # fmt: skip
            self.note(f"miui.tar {field} := {value[:20]!r}")
            out[at + offset : at + offset + size] = value[:size].ljust(size, b"\x00")
            payload = bytes(out)
        else:
            try:
                with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
                    members = [
                        (m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar.getmembers()
                    ]  # type: ignore[union-attr]
            except (tarfile.TarError, OSError, EOFError):
                return self.raw(data, keep=12)
            index = next((k for k, (m, _) in enumerate(members) if m.name.endswith("_tmp_bak")), None)
            if index is None:
                return self.raw(data, keep=12)
            info, content = members[index]
            members[index] = (info, self.protobuf(content))
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
                for member, blob in members:
                    member.size = len(blob)
                    tar.addfile(member, io.BytesIO(blob))
            payload = buffer.getvalue()
        body = zlib.compress(payload) if compression == b"1" else payload
        return b"\n".join([*head_lines, b"ANDROID BACKUP", version, compression, encryption]) + b"\n" + body

    def protobuf(self, data: bytes) -> bytes:
        """Protobuf wire damage: over-long varints, lengths past the end or huge, wire types 3/4/6/7,
        field number 0, deep nesting, truncation, repeated fields."""
        r = self.rng
        if not data:
            return r.randbytes(16)
        at = r.randrange(len(data))
        how = r.choice(
            ("varint", "length", "wiretype", "field0", "nest", "truncate", "duplicate", "flip", "flip")
        )
        self.note(f"protobuf.{how} @{at}")
        if how == "varint":
            return data[:at] + b"\xff" * r.choice((9, 10, 11, 100)) + r.choice((b"\x01", b"")) + data[at:]
        if how == "length":
            piece = b"\x0a" + r.choice((b"\xff\xff\xff\xff\x0f", b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f", b"\x7f", b"\x80\x80\x80\x80\x10"))  # fmt: skip
            return data[:at] + piece + data[at:]
        if how == "wiretype":
            return data[:at] + bytes([(data[at] & 0xF8) | r.choice((3, 4, 6, 7))]) + data[at + 1 :]
        if how == "field0":
            return data[:at] + r.choice((b"\x00", b"\x02\x00", b"\x07")) + data[at:]
        if how == "nest":  # field 4 (mmsSms) inside itself, thousands deep
            n = r.choice((100, 5000))
            inner = data[at : at + 64]
            for _ in range(n):
                inner = b"\x22" + _varint(len(inner)) + inner
            return data[:at] + inner + data[at + 64 :]
        if how == "truncate":
            return data[:at]
        if how == "duplicate":
            size = r.choice((1, 8, 64, 512))
            return data[: at + size] + data[at : at + size] * r.choice((1, 2, 100)) + data[at + size :]
        return self.raw(data)

    # JSON ------------------------------------------------------------------------------------

    def json(self, data: bytes, depth: int = 0) -> bytes:
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            return self.raw(data)
        if self.rng.random() < 0.12:
            return self.raw(data)
        indent = 2 if b"\n  " in data[:200] else None
        return self._json_dump(self._json_tree(value), indent)

    def ndjson(self, data: bytes, depth: int = 0) -> bytes:
        r = self.rng
        lines = data.split(b"\n")
        real = [i for i, line in enumerate(lines) if line.strip()]
        if not real:
            return self.raw(data)
        i = r.choice(real)
        op = r.choices(("record", "line"), weights=(85, 15))[0]
        if op == "record":
            try:
                value = json.loads(lines[i])
            except (ValueError, RecursionError):
                return self.raw(data)
            self.note(f"ndjson.line {i + 1}")
            lines[i] = self._json_dump(self._json_tree(value), None)
            return b"\n".join(lines)
        how = r.choice(
            ("delete", "duplicate", "blank", "crlf", "no-final-newline", "not-json", "split", "join", "bom")
        )
        self.note(f"ndjson.{how} line {i + 1}")
        if how == "delete":
            del lines[i]
        elif how == "duplicate":
            lines.insert(i, lines[i])
        elif how == "blank":
            lines.insert(i, b"   ")
        elif how == "crlf":
            return data.replace(b"\n", b"\r\n")
        elif how == "no-final-newline":
            return data.rstrip(b"\n")
        elif how == "not-json":
            lines.insert(i, r.choice((b"garbage", b"{", b"[1,2", b'"x"', b"null", b"\xff\xfe", b"{}{}")))
        elif how == "split":
            cut = r.randrange(len(lines[i]) + 1)
            lines[i : i + 1] = [lines[i][:cut], lines[i][cut:]]
        elif how == "join" and i + 1 < len(lines):
            lines[i : i + 2] = [lines[i] + lines[i + 1]]
        elif how == "bom":
            return b"\xef\xbb\xbf" + data
        return b"\n".join(lines)

    _MARK = "\x01fuzz-mark-{}\x01"

    def _json_tree(self, value: Any) -> Any:
        """Mutate one node of a parsed JSON (or plist) tree; raw JSON text goes in through marks."""
        r = self.rng
        self._marks: list[str] = getattr(self, "_marks", [])
        slots: list[tuple[Any, Any]] = []

        def walk(node: Any, level: int) -> None:
            if level > 40:
                return
            if isinstance(node, dict):
                for key in list(node):
                    slots.append((node, key))
                    walk(node[key], level + 1)
            elif isinstance(node, list):
                for index in range(len(node)):
                    slots.append((node, index))
                    walk(node[index], level + 1)

        root = [value]
        walk(root, 0)
        parent, key = r.choice(slots)
        old = parent[key]
        op = r.choices(("retype", "delete", "rename", "add", "wrap", "raw"), weights=(50, 14, 6, 10, 6, 14))[
            0
        ]
        if op == "delete" and parent is not root:
            self.note(f"json.delete {key!r}")
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            new_key = r.choice([*KNOWN_KEYS, "", key.upper(), key + " ", "\ud800"])
            self.note(f"json.rename {key!r}->{new_key!r}")
            parent[new_key] = parent.pop(key)
        elif op == "add" and isinstance(old, dict):
            new_key = r.choice(KNOWN_KEYS)
            old[new_key] = self._json_value(old.get(new_key))
            self.note(f"json.add {new_key!r}={old[new_key]!r:.40}")
        elif op == "wrap":
            parent[key] = r.choice(([old], {"x": old}, [old, old], [[old]]))
            self.note(f"json.wrap {key!r}")
        elif op == "raw":
            text = r.choice(
                (
                    "9" * 5000, "-" + "9" * 30, "1e999", "-1e999", "NaN", "Infinity", '"\\ud800"', '"\\udc00\\ud800x"',
                    '"a\\u0000b"', '"\\u202e"', "[" * 100_000 + "]" * 100_000, '{"a":' * 3000 + "1" + "}" * 3000,
                    "[" * 50 + "]" * 50, '"' + "\\\\" * 1000 + '"', "1.7976931348623157e309", "0.0000001", "-0",
                )
            )  # fmt: skip
            mark = self._MARK.format(len(self._marks))
            self._marks.append(text)
            parent[key] = mark
            self.note(f"json.raw {key!r}={text[:30]!r}")
        else:
            parent[key] = self._json_value(old)
            self.note(f"json.retype {key!r}: {old!r:.30} -> {parent[key]!r:.40}")
        return root[0] if root else None

    def _json_value(self, old: Any) -> Any:
        r = self.rng
        choice = r.random()
        number = None
        if isinstance(old, int) and not isinstance(old, bool):
            number = old
        elif isinstance(old, str) and old.lstrip("-").isdigit() and len(old) < 30:
            number = int(old)
        if number is not None and choice < 0.4:
            new = r.choice([*INTS, -number, number * 1000, number // 1000, number + 1, 10**30, -(2**63) - 1])
            return str(new) if isinstance(old, str) and r.random() < 0.7 else new
        pick = r.choice(("int", "float", "text", "text", "list", "dict", "null", "bool", "same-as-text"))
        if pick == "int":
            return r.choice(INTS)
        if pick == "float":
            return r.choice(FLOATS)
        if pick == "text":
            return r.choice(TEXTS)
        if pick == "list":
            return r.choice(([], [old], [None], [1, "2", {}], ["+12025550142"] * 1000))
        if pick == "dict":
            return r.choice(({}, {"address": old}, {"type": 137}, {"a": {"b": {}}}))
        if pick == "null":
            return None
        if pick == "bool":
            return r.choice((True, False))
        return str(old)

    def _json_dump(self, value: Any, indent: int | None) -> bytes:
        try:
            text = json.dumps(value, ensure_ascii=self.rng.random() < 0.5, indent=indent)
        except ValueError:  # a 5,000-digit int: write its digits raw
            text = json.dumps(value, default=str, ensure_ascii=True, indent=indent)
        for n, raw in enumerate(getattr(self, "_marks", [])):
            text = text.replace(json.dumps(self._MARK.format(n)), raw)
        self._marks = []
        return text.encode("utf-8", "surrogatepass")

    # plists --------------------------------------------------------------------------------------

    def plist(self, data: bytes, depth: int = 0) -> bytes:
        import plistlib

        r = self.rng
        if r.random() < 0.45:
            if data.startswith(b"bplist00"):
                return self._bplist_bytes(data)
            return self.xml(data)
        try:
            value = plistlib.loads(data)
        except Exception:  # noqa: BLE001 - already damaged: damage it further
            return self.raw(data, keep=8)
        if isinstance(value, dict) and r.random() < 0.2:
            value["IsEncrypted"] = r.choice((True, True, 1, "yes", None, [], {}))
            self.note(f"plist.IsEncrypted={value['IsEncrypted']!r}")
        else:
            value = self._json_tree(value)
            self._marks = []  # raw JSON text has no place in a plist: the mark string stays
        fmt = plistlib.FMT_BINARY if data.startswith(b"bplist00") else plistlib.FMT_XML
        try:
            return plistlib.dumps(_plist_safe(value), fmt=fmt)
        except (TypeError, OverflowError, ValueError):
            return self.raw(data, keep=8)

    def _bplist_bytes(self, data: bytes) -> bytes:
        """Damage the trailer (offset/ref sizes, object count, top object, table offset) or an object."""
        r = self.rng
        if len(data) < 40 or r.random() < 0.5:
            return self.raw(data, keep=8)
        out = bytearray(data)
        field = r.choice(((-26, 1), (-25, 1), (-24, 8), (-16, 8), (-8, 8)))
        size = field[1]
        value = r.choice((0, 1, 3, 255, 2**31, 2**63 - 1, len(data), len(data) * 8, r.randrange(256)))
        out[field[0] : field[0] + size or None] = (value % (1 << (8 * size))).to_bytes(size, "big")
        self.note(f"bplist.trailer {field[0]} := {value}")
        return bytes(out)

    # ZIP and zlib ---------------------------------------------------------------------------------

    def zip(self, data: bytes, depth: int = 0) -> bytes:
        r = self.rng
        op = r.choices(("payload", "members", "headers", "data", "bomb"), weights=(60, 8, 20, 8, 4))[0]
        if op == "headers":
            return self._zip_headers(data)
        if op == "data":
            return self._zip_data(data)
        try:
            members = _zip_members(data)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error, NotImplementedError):
            return self.raw(data, keep=4)
        main = max(range(len(members)), key=lambda i: _main_member(*members[i][:2]))
        if op == "bomb":
            self.terminal = True
            name = members[main][0]
            mb = r.choice((2, 20, 200))
            self.note(f"zip.bomb {name} {mb} MB")
            bomb = _bomb_zip(name, mb, r.choice(("x", "退")))
            return self._zip_headers(bomb) if r.random() < 0.4 else bomb  # sizes that lie
        if op == "members":
            how = r.choice(("rename", "drop", "decoy-first", "decoy-last", "duplicate", "nested", "empty"))
            name, content, method = members[main]
            self.note(f"zip.members {how} {name}")
            if how == "rename":
                members[main] = (
                    r.choice(("Messages.ndjson", "data/messages.ndjson", "sms.XML", "x.xml", name + "/")),
                    content,
                    method,
                )
            elif how == "drop":
                del members[main]
            elif how == "decoy-first":
                members.insert(
                    0,
                    (
                        r.choice(("calls-1.xml", "a.xml", "messages.ndjson")),
                        r.choice((b"<calls count='0'/>", b"", b"\xff\xfe<")),
                        method,
                    ),
                )
            elif how == "decoy-last":
                members.append(("z.xml", b"<smses/>", method))
            elif how == "duplicate":
                members.append((name, content[: len(content) // 2], method))
            elif how == "nested":
                members = [("inner.zip", _zip_bytes(members), zipfile.ZIP_STORED)]
            else:
                members[main] = (name, b"", method)
            return _zip_bytes(members)
        name, content, method = members[main]
        new = self.file(content, depth + 1)
        method = r.choices(
            (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA),
            weights=(70, 15, 8, 7),
        )[0]
        members[main] = (name, new, method)
        self.note(f"zip.payload {name} method {method}")
        return _zip_bytes(members)

    def _zip_headers(self, data: bytes) -> bytes:
        r = self.rng
        spots = [(m.start(), sig) for sig in _ZIP_FIELDS for m in re.finditer(re.escape(sig), data)]
        if not spots:
            return self.raw(data, keep=4)
        at, sig = r.choice(spots)
        name, (offset, size) = r.choice(list(_ZIP_FIELDS[sig].items()))
        old = int.from_bytes(data[at + offset : at + offset + size], "little")
        if name == "flags":
            value = old | r.choice((0x1, 0x1, 0x8, 0x40, 0x800, 0x2000, 0xFFFF))
        elif name == "method":
            value = r.choice((99, 99, 12, 14, 1, 6, 9, 95, 98, 0, 8, 0xFFFF))
        else:
            value = r.choice(
                (
                    0,
                    1,
                    old + 1,
                    old - 1,
                    old * 2,
                    old + 4096,
                    0xFFFF,
                    0xFFFFFFFF,
                    r.randrange(1 << (8 * size)),
                )
            )
        value %= 1 << (8 * size)
        self.note(f"zip.header {sig[2:].hex()} {name} {old} -> {value}")
        return data[: at + offset] + value.to_bytes(size, "little") + data[at + offset + size :]

    def _zip_data(self, data: bytes) -> bytes:
        """Damage the compressed data of a member (after its local header)."""
        r = self.rng
        starts = [m.start() for m in re.finditer(re.escape(b"PK\x03\x04"), data)]
        if not starts:
            return self.raw(data, keep=4)
        at = r.choice(starts)
        if at + 30 > len(data):
            return self.raw(data, keep=4)
        nlen, xlen = struct.unpack("<HH", data[at + 26 : at + 30])
        body = at + 30 + nlen + xlen
        csize = struct.unpack("<I", data[at + 18 : at + 22])[0]
        end = min(len(data), body + max(csize, 1))
        if body >= end:
            return self.raw(data, keep=4)
        out = bytearray(data)
        how = r.choice(("flip", "zero", "random"))
        lo = r.randrange(body, end)
        hi = min(end, lo + r.choice((1, 4, 64, 10_000)))
        for i in range(lo, hi):
            out[i] = (
                out[i] ^ (1 << r.randrange(8)) if how == "flip" else 0 if how == "zero" else r.randrange(256)
            )
        self.note(f"zip.data {how} {lo}..{hi}")
        return bytes(out)

    def zlib(self, data: bytes, depth: int = 0) -> bytes:
        r = self.rng
        op = r.choices(("payload", "stream", "bomb"), weights=(68, 27, 5))[0]
        if op == "bomb":
            self.terminal = True
            mb = r.choice((8, 70, 200))
            fill = r.choice(("x", "退", "["))
            self.note(f"zlib.bomb {mb} MB of {fill!r}")
            return _bomb_zlib(mb, fill)
        if op == "payload":
            try:
                inflater = zlib.decompressobj()
                content = inflater.decompress(data, 8 << 20)
            except zlib.error:
                return self.raw(data, keep=2)
            new = self.file(content, depth + 1)
            level = r.choice((1, 6, 9, 0))
            self.note(f"zlib.payload level {level}")
            return zlib.compress(new, level)
        how = r.choice(("flip", "truncate", "append", "fdict", "level", "adler", "twice"))
        self.note(f"zlib.stream {how}")
        if how == "flip":
            return self.raw(data, keep=2)
        if how == "truncate":
            return data[: r.randrange(2, len(data))]
        if how == "append":
            return data + r.choice((b"\x00", r.randbytes(100), data))
        if how == "twice":
            return data + zlib.compress(b'[{"date": "1", "address": "2"}]')
        if how == "adler":
            return data[:-4] + r.randbytes(4)
        cmf = data[0]
        flg = (data[1] | 0x20) if how == "fdict" else (data[1] & 0x3F) | (r.randrange(4) << 6)
        flg = (flg & ~0x1F) | ((31 - ((cmf * 256 + (flg & ~0x1F)) % 31)) % 31)
        return bytes([cmf, flg]) + data[2:]

    # SQLite ---------------------------------------------------------------------------------------

    def sqlite(self, data: bytes, depth: int = 0) -> bytes:
        r = self.rng
        op = r.choices(
            ("cells", "rows", "schema", "master", "pages", "header", "truncate"),
            weights=(52, 8, 8, 8, 14, 5, 5),
        )[0]
        if op in ("cells", "rows", "schema", "master"):
            try:
                return self._sql(data, getattr(self, f"_sql_{op}"))
            except (sqlite3.Error, OverflowError, ValueError, MemoryError):
                op = "pages"
        if op == "pages":
            return self._pages(data)
        if op == "header":
            return self._db_header(data)
        page = _page_size(data)
        if len(data) <= 101:
            return self.raw(data, keep=16)
        cut = r.choice((r.randrange(100, len(data)), page * r.randrange(1, max(2, len(data) // page))))
        self.note(f"sqlite.truncate {cut} of {len(data)}")
        return data[:cut] if r.random() < 0.85 else data + r.randbytes(r.choice((100, page)))

    def _sql(self, data: bytes, op: Callable[[sqlite3.Connection], None]) -> bytes:
        conn = sqlite3.connect(":memory:")
        try:
            conn.deserialize(data)
            op(conn)
            conn.commit()
            return conn.serialize()
        finally:
            conn.close()

    def _tables(self, conn: sqlite3.Connection, with_rows: bool = True) -> list[str]:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        if with_rows:
            names = [n for n in names if conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{n}")').fetchone()[0]]
        if not names:
            raise sqlite3.DatabaseError("no tables")
        # the message tables are where the importers spend their time: pick them more often
        heavy = [
            n
            for n in names
            if n in ("message", "sms", "pdu", "part", "addr", "handle", "chat", "Files", "threads")
        ]
        return names + heavy * 3

    def _sql_cells(self, conn: sqlite3.Connection) -> None:
        r = self.rng
        for _ in range(r.choice((1, 1, 1, 2, 3, 6))):
            table = r.choice(self._tables(conn))
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            column = r.choice(columns)
            count = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            row = conn.execute(
                f'SELECT rowid, "{column}" FROM "{table}" LIMIT 1 OFFSET ?', (r.randrange(max(count, 1)),)
            ).fetchone()
            if row is None:
                continue
            rowid, old = row
            every = r.random() < 0.08
            expr, value = self._sql_value(old)
            where = "" if every else " WHERE rowid = ?"
            params = (value,) if every else (value, rowid)
            try:
                conn.execute(f'UPDATE "{table}" SET "{column}" = {expr}{where}', params)
            except sqlite3.Error:
                continue  # a constraint (NOT NULL, UNIQUE, the rowid): another cell next time
            self.note(
                f"sqlite.cell {table}.{column}{'' if every else f'[{rowid}]'} := {expr.replace('?', repr(value)[:40])}"
            )

    def _sql_value(self, old: Any) -> tuple[str, Any]:
        """An SQL expression with one parameter: the hostile value for a cell holding ``old``."""
        r = self.rng
        choice = r.random()
        if isinstance(old, int) and choice < 0.45:
            return "?", r.choice(
                [*INTS, -old, old * 1000, old // 1000, old * 1_000_000, old + 1, old // 1_000_000]
            )
        if isinstance(old, bytes) and choice < 0.6:
            return "?", self._blob(old)
        if isinstance(old, str) and choice < 0.3:
            return "CAST(? AS TEXT)", old.encode("utf-8")[: r.randrange(len(old) + 1)] + r.choice(
                INVALID_UTF8
            )
        pick = r.choice(("int", "float", "text", "text", "invalid-utf8", "blob", "null", "text-number"))
        if pick == "int":
            return "?", r.choice(INTS)
        if pick == "float":
            return "?", r.choice(FLOATS)
        if pick == "text":
            return "?", r.choice(TEXTS)
        if pick == "invalid-utf8":
            return "CAST(? AS TEXT)", r.choice(INVALID_UTF8) + r.randbytes(r.randrange(8))
        if pick == "blob":
            return "?", r.choice((b"", r.randbytes(r.randrange(1, 64)), str(old).encode()))
        if pick == "text-number":
            return "CAST(? AS TEXT)", str(r.choice(INTS)).encode() + r.choice((b"", b" ", b"x", b".5"))
        return "?", None

    def _blob(self, old: bytes) -> bytes:
        """A damaged blob (attributedBody typedstreams, plist blobs): flips, cuts, length bytes."""
        r = self.rng
        if not old:
            return r.randbytes(16)
        out = bytearray(old)
        how = r.choice(("flip", "cut", "length", "byte"))
        if how == "cut":
            return old[: r.randrange(len(old))]
        if how == "length":  # typedstream lengths: 0x81 + int16, 0x82 + int32, or one byte
            at = r.randrange(len(out))
            return (
                bytes(out[:at])
                + r.choice(
                    (b"\x81\xff\x7f", b"\x82\xff\xff\xff\x7f", b"\x81\x00\x80", b"\x7f", b"\x92", b"\xff")
                )
                + bytes(out[at + 1 :])
            )
        if how == "byte":
            out[r.randrange(len(out))] = r.choice((0x84, 0x85, 0x86, 0x92, 0x81, 0x82, 0x83, 0x00, 0xFF))
            return bytes(out)
        for _ in range(r.choice((1, 2, 8))):
            out[r.randrange(len(out))] ^= 1 << r.randrange(8)
        return bytes(out)

    def _sql_rows(self, conn: sqlite3.Connection) -> None:
        r = self.rng
        table = r.choice(self._tables(conn))
        how = r.choice(("delete", "delete-all", "duplicate", "nulls"))
        if how == "delete":
            conn.execute(
                f'DELETE FROM "{table}" WHERE rowid = (SELECT rowid FROM "{table}" LIMIT 1 OFFSET ?)',
                (r.randrange(3),),
            )
        elif how == "delete-all":
            conn.execute(f'DELETE FROM "{table}"')
        elif how == "duplicate":
            info = list(conn.execute(f'PRAGMA table_info("{table}")'))
            cols = ", ".join(f'"{row[1]}"' for row in info if not row[5])
            conn.execute(f'INSERT OR IGNORE INTO "{table}" ({cols}) SELECT {cols} FROM "{table}" LIMIT 1')
        else:
            conn.execute(f'INSERT OR IGNORE INTO "{table}" DEFAULT VALUES')
        self.note(f"sqlite.rows {how} {table}")

    def _sql_schema(self, conn: sqlite3.Connection) -> None:
        r = self.rng
        table = r.choice(self._tables(conn, with_rows=False))
        columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
        column = r.choice(columns)
        how = r.choice(("drop-table", "drop-column", "drop-column", "rename-column", "rename-table", "legacy", "view", "user_version"))  # fmt: skip
        if how == "drop-table":
            conn.execute(f'DROP TABLE "{table}"')
        elif how == "drop-column":
            conn.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        elif how == "rename-column":
            conn.execute(f'ALTER TABLE "{table}" RENAME COLUMN "{column}" TO "{column}_x"')
        elif how == "rename-table":
            conn.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_old"')
        elif how == "legacy":
            conn.execute("CREATE TABLE IF NOT EXISTS msg_group (ROWID INTEGER PRIMARY KEY, type INTEGER)")
        elif how == "view":
            conn.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_t"')
            conn.execute(f'CREATE VIEW "{table}" AS SELECT * FROM "{table}_t"')
        else:
            conn.execute(f"PRAGMA user_version = {r.choice((-1, 2**31 - 1, 0, 358))}")
        self.note(f"sqlite.schema {how} {table}.{column}")

    def _sql_master(self, conn: sqlite3.Connection) -> None:
        """Corrupt the schema text and fields of ``sqlite_master`` (what a damaged page 1 looks like)."""
        r = self.rng
        rows = list(conn.execute("SELECT rowid, type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
        rowid, _type, name, sql = r.choice(rows)
        how = r.choice(("sql-flip", "sql-cut", "sql-invalid-utf8", "sql-drop-def", "sql-retype", "name", "type", "rootpage", "null"))  # fmt: skip
        conn.execute("PRAGMA writable_schema = ON")
        if how == "sql-flip":
            pos = r.randrange(len(sql))
            value: Any = sql[:pos] + r.choice("(),\"' x0") + sql[pos + 1 :]
        elif how == "sql-cut":
            value = sql[: r.randrange(len(sql))]
        elif how == "sql-invalid-utf8":
            pos = r.randrange(len(sql))
            value = sql[:pos].encode() + r.choice(INVALID_UTF8) + sql[pos:].encode()
        elif how == "sql-drop-def":
            parts = sql.split(",")
            if len(parts) > 1:
                del parts[r.randrange(1, len(parts))]
            value = ",".join(parts)
        elif how == "sql-retype":
            value = re.sub(
                r"\b(INTEGER|TEXT|BLOB)\b", lambda m: r.choice(("TEXT", "BLOB", "REAL", "INTEGER", "")), sql
            )
        else:
            value = None
        if how.startswith("sql") or how == "null":
            expr = "CAST(? AS TEXT)" if isinstance(value, bytes) else "?"
            conn.execute(f"UPDATE sqlite_master SET sql = {expr} WHERE rowid = ?", (value, rowid))
        elif how == "name":
            conn.execute(
                "UPDATE sqlite_master SET name = ?, tbl_name = ? WHERE rowid = ?",
                (name + "_", name + "_", rowid),
            )
        elif how == "type":
            conn.execute(
                "UPDATE sqlite_master SET type = ? WHERE rowid = ?",
                (r.choice(("view", "index", "trigger", "x")), rowid),
            )
        else:
            conn.execute(
                "UPDATE sqlite_master SET rootpage = ? WHERE rowid = ?",
                (r.choice((0, -1, 1, 2, 3, 10**6, 2**31)), rowid),
            )
        conn.execute("PRAGMA writable_schema = OFF")
        self.note(f"sqlite.master {how} {name}")

    def _pages(self, data: bytes) -> bytes:
        """Damage one b-tree page: header fields, cell pointers, random bytes, or the whole page."""
        r = self.rng
        page = _page_size(data)
        pages = max(1, len(data) // page)
        number = r.randrange(pages)
        start = number * page + (100 if number == 0 else 0)
        end = min(len(data), (number + 1) * page)
        if start >= end:
            return self.raw(data, keep=100)
        out = bytearray(data)
        how = r.choice(
            ("type", "cells", "pointer", "freeblock", "content", "right", "bytes", "bytes", "zero", "copy")
        )
        if how == "type":
            out[start] = r.choice((0, 1, 2, 5, 10, 13, 0xFF))
        elif how in ("cells", "freeblock", "content", "pointer") and start + 12 <= end:
            at = {"freeblock": 1, "cells": 3, "content": 5, "pointer": 8 + 2 * r.randrange(4)}[how]
            struct.pack_into(
                ">H", out, start + at, r.choice((0, 1, 0xFFFF, page, page - 1, r.randrange(65536)))
            )
        elif how == "right" and start + 12 <= end:
            struct.pack_into(">I", out, start + 8, r.choice((0, 1, pages, pages + 1, 2**31, number + 1)))
        elif how == "zero":
            out[start:end] = bytes(end - start)
        elif how == "copy":
            other = r.randrange(pages) * page
            out[number * page : end] = data[other : other + (end - number * page)].ljust(
                end - number * page, b"\0"
            )
        else:
            for _ in range(r.choice((1, 2, 4, 16))):
                out[r.randrange(start, end)] = r.randrange(256)
        self.note(f"sqlite.page {number + 1} {how}")
        return bytes(out)

    def _db_header(self, data: bytes) -> bytes:
        r = self.rng
        fields = {
            "page_size": (16, 2), "write_version": (18, 1), "read_version": (19, 1), "reserved": (20, 1),
            "payload_fractions": (21, 3), "pages": (28, 4), "freelist": (32, 4), "freelist_count": (36, 4),
            "schema_cookie": (40, 4), "schema_format": (44, 4), "autovacuum": (52, 4), "encoding": (56, 4),
            "user_version": (60, 4),
        }  # fmt: skip
        name, (at, size) = r.choice(list(fields.items()))
        value = r.choice((0, 1, 2, 3, 4, 5, 7, 255, 512, 1024, 65536, 2**31 - 1, 0xFFFFFFFF)) % (
            1 << (8 * size)
        )
        self.note(f"sqlite.header {name} := {value}")
        return data[:at] + value.to_bytes(size, "big") + data[at + size :]


#: Header fields worth damaging: signature -> name -> (offset, size) (APPNOTE.TXT 4.3.7, 4.3.12, 4.3.16)
_ZIP_FIELDS: dict[bytes, dict[str, tuple[int, int]]] = {
    b"PK\x03\x04": {"flags": (6, 2), "method": (8, 2), "crc": (14, 4), "csize": (18, 4), "usize": (22, 4), "nlen": (26, 2), "xlen": (28, 2)},
    b"PK\x01\x02": {"flags": (8, 2), "method": (10, 2), "crc": (16, 4), "csize": (20, 4), "usize": (24, 4), "nlen": (28, 2),
                    "xlen": (30, 2), "clen": (32, 2), "disk": (34, 2), "offset": (42, 4)},
    b"PK\x05\x06": {"disk": (4, 2), "cddisk": (6, 2), "here": (8, 2), "total": (10, 2), "cdsize": (12, 4), "cdoffset": (16, 4), "clen": (20, 2)},
}  # fmt: skip


def _plist_safe(value: Any) -> Any:
    """A mutated tree that plistlib can write: None and huge ints become strings."""
    if isinstance(value, dict):
        return {str(k): _plist_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plist_safe(v) for v in value]
    if value is None:
        return "null"
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return 0.0
    return value


def _main_member(name: str, content: bytes) -> int:
    """How likely a ZIP member holds the messages (the zip mutations aim at the likeliest)."""
    if name.endswith(".bak"):
        return 3 if b"com.android.mms" in content[:200] else 0
    return (
        2
        if name.endswith((".xml", ".ndjson")) and "descript" not in name
        else 1
        if name.endswith(".xml")
        else 0
    )


def _page_size(data: bytes) -> int:
    size = int.from_bytes(data[16:18], "big") if len(data) >= 18 else 4096
    return 65536 if size == 1 else size if size >= 512 and size & (size - 1) == 0 else 4096


def _zip_members(data: bytes) -> list[tuple[str, bytes, int]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(i.filename, archive.read(i), i.compress_type) for i in archive.infolist()]


def _zip_bytes(members: Sequence[tuple[str, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate member names are one of the mutations
        for name, content, method in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=_DATE), content, compress_type=method)
    return buffer.getvalue()


def _normalised_zip(data: bytes) -> bytes:
    """A fixture's ZIP rewritten with fixed member times (the seed must not depend on the clock)."""
    return _zip_bytes(_zip_members(data))


_BOMBS: dict[tuple[str, int, str], bytes] = {}
_BOMB_DIR: Path | None = None  # a run's workers share the bombs they built here (set by _worker)


def _cached_bomb(key: tuple[str, int, str], build: Callable[[], bytes]) -> bytes:
    """A bomb from memory, else from the run's shared folder, else built (seconds for 200 MB) and kept."""
    if key not in _BOMBS:
        if _BOMB_DIR is None:
            _BOMBS[key] = build()
            return _BOMBS[key]
        path = _BOMB_DIR / hashlib.sha1(repr(key).encode()).hexdigest()
        try:
            _BOMBS[key] = path.read_bytes()
        except OSError:
            _BOMBS[key] = build()
            _BOMB_DIR.mkdir(exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}")
            partial.write_bytes(_BOMBS[key])
            partial.replace(path)
    return _BOMBS[key]


def _bomb_stream(mb: int, fill: str, head: bytes, tail: bytes) -> Iterator[bytes]:
    yield head
    chunk = (fill * (1 << 20))[: (1 << 20) // len(fill.encode())].encode()
    for _ in range(mb * (1 << 20) // len(chunk)):
        yield chunk
    yield tail


def _bomb_payload(name: str, fill: str) -> tuple[bytes, bytes]:
    if name.endswith(".xml"):
        return (
            b'<?xml version=\'1.0\' encoding=\'UTF-8\'?>\n<smses count="1">\n<sms address="22000" date="1709647200123" type="1" body="',
            b'" />\n</smses>\n',
        )
    if fill == "[":
        return b"[", b"]"
    return (b'[{"address": "22000", "date": "1709647200123", "type": "1", "body": "', b'"}]')


def _deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _bomb_zip(name: str, mb: int, fill: str) -> bytes:
    """A ZIP whose member inflates to ``mb`` MB of one repeated character (built in 1 MB steps)."""

    def build() -> bytes:
        head, tail = _bomb_payload(name, fill)
        if name.endswith(".ndjson"):
            head, tail = head[1:], tail[:-1] + b"\n"
        buffer = io.BytesIO()
        with (
            zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
            archive.open(_deflated(name), "w", force_zip64=True) as member,
        ):
            for piece in _bomb_stream(mb, fill, head, tail):
                member.write(piece)
        return buffer.getvalue()

    return _cached_bomb((name, mb, fill), build)


def _bomb_zlib(mb: int, fill: str) -> bytes:
    """A zlib stream of a JSON array whose one record holds ``mb`` MB (or is nested ``mb`` M deep)."""

    def build() -> bytes:
        head, tail = _bomb_payload("json", fill)
        deflate = zlib.compressobj(9)
        parts = [deflate.compress(piece) for piece in _bomb_stream(mb, fill, head, b"")]
        if fill == "[":  # close every bracket, also in 1 MB steps
            parts.extend(deflate.compress(piece) for piece in _bomb_stream(mb, "]", b"", b""))
        return b"".join(parts) + deflate.compress(tail) + deflate.flush()

    return _cached_bomb(("zlib", mb, fill), build)


# --- cases -------------------------------------------------------------------------------------


@dataclass
class Case:
    """One fuzz input: the seed it came from, what was done to it, and the files to write."""

    importer: str
    index: int
    seed: str
    name: str
    files: dict[str, bytes]
    ops: list[str]


def _small_files(seeds: Sequence[Seed]) -> list[tuple[int, str, int]]:
    """(seed number, file, size) of every seed file up to SMALL_FILE bytes: truncated at each offset."""
    return [
        (number, path, len(data))
        for number, seed in enumerate(seeds)
        for path, data in seed.files.items()
        if 0 < len(data) <= SMALL_FILE
    ]


def make_case(importer: str, index: int, seed: int) -> Case:
    """Case ``index`` of ``importer``: the same input for the same (importer, index, seed)."""
    seeds = seeds_for(importer)
    rng = random.Random(f"{seed}:{importer}:{index}")
    small = _small_files(seeds)
    if small and index % TRUNCATE_EVERY == 0:
        # Walk through every offset of every small file, spread evenly over the run
        total = sum(size for *_, size in small)
        offset = (index // TRUNCATE_EVERY * 7919) % total  # 7919 is prime: consecutive cases jump around
        for number, path, size in small:
            if offset < size:
                chosen = seeds[number]
                files = dict(chosen.files)
                files[path] = files[path][:offset]
                return Case(
                    importer, index, chosen.title, chosen.name, files, [f"truncate {path} at {offset}"]
                )
            offset -= size
    chosen = rng.choices(seeds, weights=[s.weight for s in seeds])[0]
    files = dict(chosen.files)
    mutator = Mutator(rng)
    for _ in range(rng.choices((1, 2, 3), weights=(70, 20, 10))[0]):
        if mutator.terminal:
            break
        if chosen.name not in chosen.files and rng.random() < 0.12:  # a folder seed
            _mutate_folder(files, chosen.name, rng, mutator)
            continue
        path = _pick_file(files, rng)
        if path is None:
            break
        files[path] = mutator.file(files[path])
        if kind_of(chosen.files.get(path, b"")) == "sqlite" and len(files) == 1 and rng.random() < 0.03:
            suffix = rng.choice(("-wal", "-journal", "-shm"))
            files[path + suffix] = rng.choice(
                (b"", rng.randbytes(rng.choice((32, 4096))), files[path][:4096])
            )
            mutator.note(f"sidecar {suffix}")
    return Case(importer, index, chosen.title, chosen.name, files, mutator.ops)


def _pick_file(files: dict[str, bytes], rng: random.Random) -> str | None:
    """A file to mutate; in a folder the Messages database is the usual target."""
    names = sorted(files)
    if not names:
        return None
    weights = [_weight(n, files[n]) for n in names]
    return rng.choices(names, weights=weights)[0]


def _weight(name: str, data: bytes) -> int:
    kind = kind_of(data)
    if kind == "sqlite":
        return 2 if "Manifest" in name or "backup_config" in name else 8
    if kind == "miui_bak":
        return 8 if b"com.android.mms" in data[:200] else 1
    return 8 if kind in ("vmsg", "csv") else 2


def _mutate_folder(files: dict[str, bytes], root: str, rng: random.Random, mutator: Mutator) -> None:
    """Folder damage: a file deleted, emptied, moved, or a stray one added."""
    if not files:  # every file already deleted
        return
    path = rng.choice(sorted(files))
    how = rng.choice(("delete", "empty", "move", "add", "dir"))
    mutator.note(f"folder.{how} {path}")
    if how == "delete":
        del files[path]
    elif how == "empty":
        files[path] = b""
    elif how == "move":
        files[
            f"{root}/{rng.choice(('Manifest.plist', 'Info.plist', 'x', '000002_sms_backup', '3d0d7e5fb2ce288813306e4d4636395e047a3d28'))}"
        ] = files.pop(path)
    elif how == "add":
        name = rng.choice(
            ("Manifest.plist", "Info.plist", "Manifest.mbdb", "000009_sms_backup", "Status.plist")
        )
        files[f"{root}/{name}"] = rng.choice(
            (b"", b"bplist00", b"mbdb\x05\x00", zlib.compress(b"[]"), files[path])
        )
    else:  # a folder where a file belongs
        files[f"{path}/inner"] = files.pop(path)


# --- running cases -------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What reading one case did."""

    importer: str
    index: int
    kind: str  # one of KINDS
    detected: bool
    seconds: float
    seed: str = ""
    ops: list[str] = field(default_factory=list)
    site: str = ""  # bugs: exception type + innermost sms_audit frame (the crash site)
    detail: str = ""  # the error line, or the traceback of a bug

    @property
    def bug(self) -> bool:
        return self.kind in BUGS


class _PeakExceeded(Exception):
    """The worker's peak RSS passed PEAK_MB while reading a case."""


def _status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (Linux), in MB."""
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


def _reset_peak() -> None:
    """Start measuring the peak afresh (Linux: "5" to clear_refs resets VmHWM), so each case's
    peak is its own and not an earlier case's."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _peak_mb() -> float:
    """Peak RSS since the last _reset_peak (VmHWM), or the lifetime peak where there is no /proc."""
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def crash_site(exc: BaseException) -> str:
    """Exception type + innermost sms_audit frame: how crashes are told apart."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if f"{os.sep}sms_audit{os.sep}" in f.filename
    ]
    if not frames:
        return f"{type(exc).__name__} outside sms_audit"
    last = frames[-1]
    where = last.filename[last.filename.rindex(f"{os.sep}sms_audit{os.sep}") + 1 :]
    return f"{type(exc).__name__} at {where}:{last.lineno} in {last.name}"


def _classify(importer: str, results: list[Any]) -> tuple[str, bool, str, str]:
    """(kind, detected, site, detail) of one case from its ArchiveResults (a folder may give several)."""
    from sms_audit.errors import TruncatedArchive, UnsupportedArchive

    kinds: list[tuple[int, str, str, str]] = []
    for result in results:
        error = result.error
        if error is None:
            kind, site, detail = ("skipped" if result.skipped else "ok"), "", ""
        elif _CATCH_ALL.fullmatch(error.message) and error.__cause__ is not None:
            cause = error.__cause__
            kind, site = "catch-all", crash_site(cause)
            detail = "".join(traceback.format_exception(cause))
        else:
            kind = (
                "unsupported"
                if isinstance(error, UnsupportedArchive)
                else "truncated"
                if isinstance(error, TruncatedArchive)
                else "corrupt"
            )
            site, detail = "", str(error)
        kinds.append((KINDS.index(kind), kind, site, detail))
    detected = any(r.format == importer for r in results)
    _, kind, site, detail = max(kinds) if kinds else (0, "unsupported", "", "no archive")
    return kind, detected, site, detail


def write_case(case: Case, folder: Path) -> Path:
    for relative, data in case.files.items():
        path = folder / relative
        # folder damage can leave a file where a folder belongs, or the reverse: the first one wins
        with contextlib.suppress(FileExistsError, NotADirectoryError, IsADirectoryError):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    target = folder / case.name
    if case.name not in case.files:  # a folder, perhaps with every file deleted
        target.mkdir(parents=True, exist_ok=True)
    return target


_RUNS = itertools.count()


def run_cases(
    cases: Sequence[Case], workdir: Path, beat: Callable[[int], None] | None = None, *, alone: bool = False
) -> list[Outcome]:
    """Read ``cases`` with one read_archives call (the CLI's entry point), each its own archive.

    Raises the exception that escaped read_archives (the caller runs the cases again one by one),
    and _PeakExceeded (with the outcomes so far in ``args``) when the peak RSS passes PEAK_MB.
    """
    from sms_audit.pipeline import read_archives

    paths, owner = [], {}
    for case in cases:
        folder = workdir / f"{case.importer}-{case.index}-{next(_RUNS)}"  # never reused: sniff caches by path
        paths.append(write_case(case, folder))
        owner[folder.name] = case
    per_case: dict[int, list[Any]] = defaultdict(list)
    seconds: dict[int, float] = defaultdict(float)
    done: list[Outcome] = []
    clock = [time.perf_counter()]

    def on_archive(result: Any) -> None:
        now = time.perf_counter()
        case = owner[result.path.relative_to(workdir).parts[0]]
        per_case[case.index].append(result)
        seconds[case.index] += now - clock[0]
        clock[0] = now
        if beat is not None:
            beat(case.index)
        # the case's own bytes are held by this harness while it is read (a 900 MB input made by a
        # mutation is the harness's memory, not the importer's): they do not count against it
        peak_mb = _peak_mb() - sum(len(data) for data in case.files.values()) / 2**20
        _reset_peak()
        if peak_mb > PEAK_MB:
            kind, detected, _, detail = _classify(case.importer, per_case[case.index])
            peak = Outcome(
                case.importer, case.index, "memory", detected, seconds[case.index], case.seed, case.ops
            )
            peak.site, peak.detail = (
                f"peak over {PEAK_MB} MB ({case.importer})",
                f"peak {peak_mb:.0f} MB; {kind}: {detail}",
            )
            raise _PeakExceeded(_outcomes(cases, per_case, seconds, upto=case.index), peak)

    _reset_peak()
    defer = "flush" in _MEMO and not alone
    _MEMO["defer"] = defer
    try:
        read_archives(paths, get_passphrase=lambda _prompt: PASSPHRASE, on_archive=on_archive)
        if defer:
            _MEMO["flush"]()  # raises what normalising a new record raised: the caller runs them alone
    finally:
        _MEMO["pending"], _MEMO["defer"] = [], False
        for path in paths:
            shutil.rmtree(path.parent, ignore_errors=True)
    done.extend(_outcomes(cases, per_case, seconds))
    return done


def _outcomes(
    cases: Sequence[Case], per_case: dict[int, list[Any]], seconds: dict[int, float], upto: int | None = None
) -> list[Outcome]:
    out = []
    for case in cases:
        if upto is not None and case.index == upto:
            break
        kind, detected, site, detail = _classify(case.importer, per_case.get(case.index, []))
        out.append(
            Outcome(
                case.importer,
                case.index,
                kind,
                detected,
                seconds.get(case.index, 0.0),
                case.seed,
                case.ops,
                site,
                detail,
            )
        )
    return out


def run_alone(case: Case, workdir: Path) -> Outcome:
    """One case by itself; an exception out of read_archives is the ``raised`` bug."""
    try:
        (outcome,) = run_cases([case], workdir, alone=True)
        return outcome
    except _PeakExceeded as exc:
        return exc.args[1]  # type: ignore[no-any-return]
    except MemoryError as exc:
        return Outcome(
            case.importer,
            case.index,
            "memory",
            False,
            0.0,
            case.seed,
            case.ops,
            crash_site(exc),
            "MemoryError",
        )
    except Exception as exc:  # noqa: BLE001 - this is what the fuzzer looks for
        detail = "".join(traceback.format_exception(exc))
        return Outcome(
            case.importer, case.index, "raised", False, 0.0, case.seed, case.ops, crash_site(exc), detail
        )


@contextlib.contextmanager
def normalise_once() -> Iterator[None]:
    """Within this block a Normalizer does not build frames again for records it already normalised
    (with the same region, zone and format); new records always are. During a batch of
    :func:`run_cases` the new records are collected and normalised together after read_archives
    (one frame instead of one per case); if that fails the batch's cases are run again alone, where
    each record is normalised where read_archives does it. See the module docstring."""
    from sms_audit.model import Normalizer

    real = Normalizer.frame
    seen: set[int] = set()

    def frame(self: Normalizer, records: Sequence[Any], source_format: str, source_file: str) -> Any:
        keyed = [(hash((self.region, self.zone, source_format, r)), r) for r in records]
        new = [(key, record) for key, record in keyed if key not in seen]
        if "empty" not in _MEMO:  # the first frame of the process: keep its empty shape
            built = real(self, [r for _, r in new], source_format, source_file)
            _MEMO["empty"] = built.iloc[0:0]
        elif not new:
            return _MEMO["empty"]
        elif _MEMO.get("defer"):
            _MEMO["pending"].append((self.region, self.zone, source_format, new))
            return _MEMO["empty"]
        else:
            built = real(self, [r for _, r in new], source_format, source_file)
        _remember(seen, new)
        return built

    def flush() -> None:
        groups: dict[tuple[Any, ...], list[tuple[int, Any]]] = defaultdict(list)
        for region, zone, source_format, new in _MEMO["pending"]:
            groups[region, zone, source_format].extend(new)
        _MEMO["pending"] = []
        for (region, zone, source_format), new in groups.items():
            real(Normalizer(region, zone), [r for _, r in new], source_format, "(deferred)")
            _remember(seen, new)

    Normalizer.frame = frame  # type: ignore[method-assign]
    _MEMO.update(pending=[], flush=flush, defer=False)
    try:
        yield
    finally:
        Normalizer.frame = real  # type: ignore[method-assign]
        _MEMO.clear()


_MEMO: dict[str, Any] = {}  # the state of normalise_once (empty outside it)


def _remember(seen: set[int], new: list[tuple[int, Any]]) -> None:
    if len(seen) > 200_000:
        seen.clear()
    seen.update(key for key, _ in new)


def warm_up(workdir: Path) -> None:
    """Read every importer's first seed once: lazy imports and caches must not count as a slow case."""
    for name in importer_names():
        seed = seeds_for(name)[0]
        run_cases([Case(name, -1, seed.title, seed.name, dict(seed.files), [])], workdir)


# --- workers -----------------------------------------------------------------------------------


def _worker(conn: Any, seed: int, full: bool, dump_path: str, scratch: str) -> None:
    """A worker process: makes and reads the cases it is sent, reports outcomes and heartbeats.
    Its files go under ``scratch``, the run's folder (removed by the pool, also after a kill)."""
    global _BOMB_DIR
    _BOMB_DIR = Path(scratch) / "bombs"
    soft = 6 << 30  # a backstop only: the 400 MB peak is measured, not enforced
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (soft, soft))
    import sms_audit.pipeline  # noqa: F401 - import before timing anything

    dump = open(dump_path, "w")  # noqa: SIM115 - faulthandler writes here until the process ends
    faulthandler.enable(file=dump)  # a crash in C code (lxml, sqlite) leaves its stack here too
    with (
        tempfile.TemporaryDirectory(prefix="cases-", dir=scratch) as tmp,
        normalise_once() if not full else contextlib.nullcontext(),
    ):
        workdir = Path(tmp)
        warm_up(workdir)
        while True:
            message = conn.recv()
            if message is None:
                return
            importer, indices, alone = message
            cases = [make_case(importer, i, seed) for i in indices]
            conn.send(("start", None))
            if alone:
                faulthandler.dump_traceback_later(HANG_SECONDS, exit=True, file=dump)
                outcome = run_alone(cases[0], workdir)
                faulthandler.cancel_dump_traceback_later()
                conn.send(("done", [outcome], None))
                if outcome.kind == "memory":
                    return
                continue
            try:
                outcomes = run_cases(cases, workdir, beat=lambda i: conn.send(("beat", i)))
                if (_status_mb("VmRSS") or 0) > RECYCLE_MB:  # keep the baseline of the peaks honest
                    conn.send(("done", outcomes, "recycle"))
                    return
                conn.send(("done", outcomes, None))
            except _PeakExceeded as exc:
                conn.send(("done", [*exc.args[0], exc.args[1]], "peak"))
                return  # a fresh worker measures the next peak from its own baseline
            except BaseException as exc:  # noqa: BLE001 - report and let the parent run them alone
                conn.send(("done", [], f"raised {type(exc).__name__}"))


class Pool:
    """Worker processes with a per-case timeout; a hung or exhausted worker is replaced."""

    def __init__(self, workers: int, seed: int, full: bool) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.seed, self.full = seed, full
        self.tmp = tempfile.TemporaryDirectory(prefix="fuzz-run-", dir=SCRATCH)  # cases, bombs, stacks
        self.slots: list[dict[str, Any]] = [self._start(n) for n in range(workers)]

    def _start(self, number: int) -> dict[str, Any]:
        parent, child = self.context.Pipe()
        dump = str(Path(self.tmp.name) / f"worker-{number}-{time.monotonic_ns()}.txt")
        process = self.context.Process(
            target=_worker, args=(child, self.seed, self.full, dump, self.tmp.name), daemon=True
        )
        process.start()
        child.close()
        return {"process": process, "conn": parent, "dump": dump, "number": number}

    def _replace(self, slot: dict[str, Any]) -> None:
        process = slot["process"]
        if process.is_alive():
            process.kill()
        process.join()
        slot.update(self._start(slot["number"]))

    def close(self) -> None:
        for slot in self.slots:
            with contextlib.suppress(OSError, BrokenPipeError):
                slot["conn"].send(None)
        for slot in self.slots:
            slot["process"].join(timeout=5)
            if slot["process"].is_alive():
                slot["process"].kill()
        self.tmp.cleanup()

    def run(self, jobs: list[tuple[str, list[int]]], on_outcome: Callable[[Outcome], None]) -> None:
        """Run every (importer, case numbers) job; cases that need it are run again alone."""
        queue: list[tuple[str, list[int], bool]] = [(name, indices, False) for name, indices in jobs]
        busy: dict[int, tuple[str, list[int], bool, float, set[int]]] = {}
        while queue or busy:
            for n, slot in enumerate(self.slots):
                if n not in busy and queue:
                    name, indices, alone = queue.pop(0)
                    slot["conn"].send((name, indices, alone))
                    busy[n] = (
                        name,
                        indices,
                        alone,
                        time.monotonic() + 120.0,
                        set(),
                    )  # 120 s to make the inputs
            ready = multiprocessing.connection.wait([self.slots[n]["conn"] for n in busy], timeout=0.5)
            now = time.monotonic()
            for n in list(busy):
                slot = self.slots[n]
                name, indices, alone, deadline, reported = busy[n]
                if slot["conn"] in ready:
                    try:
                        kind, payload, *rest = slot["conn"].recv()
                    except (EOFError, OSError):
                        kind, payload, rest = "died", None, []
                    if kind in ("start", "beat"):
                        busy[n] = (
                            name,
                            indices,
                            alone,
                            now + HANG_SECONDS + (5.0 if alone else 0.0),
                            reported,
                        )
                        continue
                    if kind == "done":
                        for outcome in payload:
                            reported.add(outcome.index)
                            # a worker's resident size grows over its cases: a peak counts when a
                            # fresh process, like a fresh sms-audit run, peaks over the limit too
                            on_outcome(
                                self.fresh(name, outcome.index) if outcome.kind == "memory" else outcome
                            )
                        del busy[n]
                        problem = rest[0] if rest else None
                        rest_cases = [i for i in indices if i not in reported]
                        if problem in ("peak", "recycle") or (
                            alone and any(o.kind == "memory" for o in payload)
                        ):
                            self._replace(slot)
                            if rest_cases:
                                queue.insert(0, (name, rest_cases, False))
                        elif problem:
                            queue[0:0] = [(name, [i], True) for i in rest_cases]
                        continue
                elif now < deadline:
                    continue
                # silent past the deadline (a hang) or dead (faulthandler exits it after HANG_SECONDS)
                del busy[n]
                self._replace_after_hang(slot, name, indices, alone, reported, on_outcome, queue)

    def fresh(self, name: str, index: int) -> Outcome:
        """Case ``index`` read alone by a new worker process (to confirm a memory peak)."""
        slot = self._start(-1)
        conn, deadline = slot["conn"], time.monotonic() + 180.0  # start-up, warm-up and making the input
        try:
            conn.send((name, [index], True))
            while conn.poll(max(0.0, deadline - time.monotonic())):
                kind, payload, *_rest = conn.recv()
                if kind == "done":
                    return payload[0]  # type: ignore[no-any-return]
                deadline = time.monotonic() + HANG_SECONDS + 5.0
        except (EOFError, OSError):
            pass
        finally:
            slot["process"].kill()
            slot["process"].join()
        stack = Path(slot["dump"]).read_text(errors="replace") if Path(slot["dump"]).exists() else ""
        case = make_case(name, index, self.seed)
        return Outcome(
            name, index, "hang", False, HANG_SECONDS, case.seed, case.ops, _hang_site(stack, name), stack
        )

    def _replace_after_hang(
        self,
        slot: dict[str, Any],
        name: str,
        indices: list[int],
        alone: bool,
        reported: set[int],
        on_outcome: Callable[[Outcome], None],
        queue: list[tuple[str, list[int], bool]],
    ) -> None:
        dump = slot["dump"]
        self._replace(slot)
        rest_cases = [i for i in indices if i not in reported]
        if not alone:
            queue[0:0] = [(name, [i], True) for i in rest_cases]  # find which one hangs
            return
        (index,) = indices
        stack = Path(dump).read_text(errors="replace") if Path(dump).exists() else ""
        case = make_case(name, index, self.seed)
        if "Timeout (" in stack or not stack:
            kind, site = "hang", _hang_site(stack, name)
        else:  # a fatal error in C code (faulthandler wrote its stack): the process died
            kind, site = "raised", "worker died: " + _hang_site(stack, name).removeprefix("hang ")
        on_outcome(Outcome(name, index, kind, False, HANG_SECONDS, case.seed, case.ops, site, stack[-4000:]))


def _hang_site(stack: str, importer: str) -> str:
    """The innermost sms_audit frame of a faulthandler dump (most recent call first)."""
    for line in stack.splitlines():
        match = re.search(r'File "([^"]*sms_audit[/\\][^"]+)", line (\d+) in (\S+)', line)
        if match:
            path = match.group(1)
            return f"hang at {path[path.rindex('sms_audit') :]}:{match.group(2)} in {match.group(3)}"
    return f"hang ({importer}, no sms_audit frame)"


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Outcomes of one importer's cases."""

    cases: int = 0
    detected: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    slowest: Outcome | None = None
    bugs: dict[str, Outcome] = field(default_factory=dict)  # first case of each distinct crash site

    def add(self, outcome: Outcome) -> None:
        self.cases += 1
        self.detected += outcome.detected
        self.kinds[outcome.kind] += 1
        if outcome.kind != "hang" and (self.slowest is None or outcome.seconds > self.slowest.seconds):
            self.slowest = outcome
        if outcome.bug:
            self.bugs.setdefault(outcome.site, outcome)

    @property
    def share(self) -> float:
        return self.detected / self.cases if self.cases else 0.0


def fuzz(
    importers: Sequence[str],
    cases: int,
    *,
    seed: int = 0,
    first: int = 0,
    workers: int = 1,
    batch: int = BATCH,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Tally]:
    """Run ``cases`` cases (numbers ``first`` …) of each importer; the tallies by importer."""
    tallies = {name: Tally() for name in importers}
    jobs = [
        (name, list(range(start, min(start + batch, first + cases))))
        for name in importers
        for start in range(first, first + cases, batch)
    ]
    jobs.sort(key=lambda job: (job[1][0], importers.index(job[0])))  # interleave: every importer advances
    pool = Pool(workers, seed, full)
    done = [0]
    started = time.monotonic()

    def on_outcome(outcome: Outcome) -> None:
        tallies[outcome.importer].add(outcome)
        done[0] += 1
        if outcome.bug and progress is not None:
            progress(f"BUG {outcome.kind} {outcome.importer} case {outcome.index}: {outcome.site}")
        if progress is not None and done[0] % 5000 == 0:
            rate = done[0] / (time.monotonic() - started)
            progress(f"{done[0]:,} / {cases * len(importers):,} cases ({rate:,.0f}/s)")

    try:
        pool.run(jobs, on_outcome)
    finally:
        pool.close()
    return tallies


def table(tallies: dict[str, Tally]) -> str:
    """The per-importer table: cases, detected share, outcomes by kind, the slowest case."""
    head = ["importer", "cases", "detected", *KINDS, "slowest case"]
    rows = [head]
    for name, t in tallies.items():
        slow = t.slowest
        slowest = (
            f"{slow.seconds * 1000:,.0f} ms #{slow.index} {slow.seed} ({'; '.join(slow.ops)[:60]})"
            if slow
            else "-"
        )
        rows.append([name, f"{t.cases:,}", f"{t.share:.0%}", *(f"{t.kinds[k]:,}" for k in KINDS), slowest])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
    lines = [
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=False))
        )
        + "  "
        + row[-1]
        for row in rows
    ]
    return "\n".join(lines)


def save_crashes(tallies: dict[str, Tally], out: Path, seed: int) -> list[Path]:
    """One folder per distinct crash site: the minimised input, the case and the traceback."""
    saved = []
    with tempfile.TemporaryDirectory(prefix="fuzz-min-", dir=SCRATCH) as tmp:
        for name, tally in tallies.items():
            for site, outcome in tally.bugs.items():
                case = make_case(name, outcome.index, seed)
                if outcome.kind in ("catch-all", "raised"):
                    case = minimise(case, site, Path(tmp))
                folder = out / f"{name}-{outcome.kind}-{hashlib.sha1(site.encode()).hexdigest()[:8]}"
                shutil.rmtree(folder, ignore_errors=True)
                write_case(case, folder)
                (folder / "CRASH.txt").write_text(
                    f"{outcome.kind}: {site}\nimporter {name}, case {outcome.index}, seed {seed}, from {outcome.seed}\n"
                    f"mutations: {'; '.join(outcome.ops)}\ninput: {case.name}\n"
                    f"replay: python bench/fuzz_importers.py --importer {name} --seed {seed} --replay {outcome.index}\n\n"
                    f"{outcome.detail}\n",
                    encoding="utf-8",
                )
                saved.append(folder)
    return saved


def minimise(case: Case, site: str, workdir: Path, budget: int = 400) -> Case:
    """Shrink the mutated file (delete chunks, halving their size) while the same crash site stays."""
    seed_files = {s.title: s for s in seeds_for(case.importer)}
    original = seed_files.get(case.seed)
    changed = [p for p, d in case.files.items() if original is None or original.files.get(p) != d] or list(
        case.files
    )
    runs = [0]

    def same(files: dict[str, bytes]) -> bool:
        runs[0] += 1
        trial = Case(case.importer, case.index, case.seed, case.name, files, case.ops)
        return run_alone(trial, workdir).site == site

    files = dict(case.files)
    for path in sorted(files):  # unneeded files of a folder first
        if path not in changed and len(files) > 1 and runs[0] < budget:
            trial = {p: d for p, d in files.items() if p != path}
            if same(trial):
                files = trial
    for path in changed:
        data = files[path]
        chunk = max(1, len(data) // 2)
        while chunk >= 1 and runs[0] < budget:
            at, shrunk = 0, False
            while at < len(data) and runs[0] < budget:
                trial_data = data[:at] + data[at + chunk :]
                if same({**files, path: trial_data}):
                    data, shrunk = trial_data, True
                else:
                    at += chunk
            files[path] = data
            if not shrunk:
                chunk //= 2
    return Case(case.importer, case.index, case.seed, case.name, files, case.ops)


def replay(importer: str, index: int, seed: int, keep: Path | None) -> int:
    """Run one case in this process and print what happened (with the traceback of a bug)."""
    case = make_case(importer, index, seed)
    print(f"case {index} of {importer} (seed {seed}) from {case.seed}: {'; '.join(case.ops)}")
    if keep is not None:
        write_case(case, keep)
        print(f"input written to {keep / case.name}")
    with tempfile.TemporaryDirectory(prefix="fuzz-replay-", dir=SCRATCH) as tmp, normalise_once():
        outcome = run_alone(case, Path(tmp))
    print(
        f"{outcome.kind} (detected: {outcome.detected}) in {outcome.seconds * 1000:.0f} ms, "
        f"peak RSS {_peak_mb():.0f} MB {outcome.site}"
    )
    if outcome.detail:
        print(outcome.detail)
    return 1 if outcome.bug else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases per importer (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (default 0)")
    parser.add_argument("--first", type=int, default=0, help="number of the first case (to run in chunks)")
    parser.add_argument("--importer", action="append", help="fuzz only this importer (repeatable)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--batch", type=int, default=BATCH, help=f"cases per read_archives call (default {BATCH})"
    )
    parser.add_argument("--full-normalise", action="store_true", help="normalise every record of every case")
    parser.add_argument(
        "--save-crashes", type=Path, metavar="DIR", help="write a minimised input per crash site"
    )
    parser.add_argument("--replay", type=int, metavar="N", help="run case N in this process and show it")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="with --replay: write the input there")
    args = parser.parse_args(argv)
    names = importer_names()
    chosen = args.importer or names
    unknown = [n for n in chosen if n not in names]
    if unknown:
        parser.error(f"unknown importer {unknown[0]!r}; choose from {', '.join(names)}")
    if args.replay is not None:
        if len(chosen) != 1:
            parser.error("--replay needs one --importer")
        return replay(chosen[0], args.replay, args.seed, args.keep)
    started = time.monotonic()
    tallies = fuzz(
        chosen,
        args.cases,
        seed=args.seed,
        first=args.first,
        workers=args.workers,
        batch=args.batch,
        full=args.full_normalise,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    wall = time.monotonic() - started
    total = sum(t.cases for t in tallies.values())
    print(table(tallies))
    print(
        f"\n{total:,} cases (numbers {args.first}–{args.first + args.cases - 1}, seed {args.seed}) in {wall:,.0f} s "
        f"wall with {args.workers} worker(s): {total / wall:,.0f} cases/s"
    )
    bugs = [(name, o) for name, t in tallies.items() for o in t.bugs.values()]
    for name, outcome in bugs:
        print(
            f"BUG {name} {outcome.kind}: {outcome.site} (case {outcome.index}: {'; '.join(outcome.ops)[:100]})"
        )
    low = [name for name, t in tallies.items() if t.share < MIN_DETECTED]
    for name in low:
        print(
            f"LOW DETECTION {name}: {tallies[name].share:.0%} < {MIN_DETECTED:.0%} (mutations mostly hit the sniffer)"
        )
    if args.save_crashes and bugs:
        for folder in save_crashes(tallies, args.save_crashes, args.seed):
            print(f"saved {folder}")
    print("no bugs" if not bugs else f"{len(bugs)} distinct crash site(s)")
    return 1 if bugs or low else 0


if __name__ == "__main__":
    sys.exit(main())
