"""Xiaomi/Redmi/POCO local backup (MIUI/HyperOS 本地备份): the backup folder, its .zip, or one .bak.

Layout (FORMATS-CN §1): ``MIUI/backup/AllBackup/<yyyymmdd_HHMMSS>/`` (or a .zip of it) holds
``descript.xml`` (``<MIUI-backup>``: device, MIUI version, one ``<package>`` per package and
feature) and one ``<label>(<package>).bak`` per entry. Labels are translated, so files are chosen by
``<packageName>com.android.mms</packageName>`` and ``<feature>`` (1 = SMS, 2 = MMS), never by name.
A ``.bak`` is a text header, an Android backup header and a tar::

    MIUI BACKUP\\n 2\\n com.android.mms 短信\\n -1\\n 0\\n      (MIUI header; the 4th/5th lines vary)
    ANDROID BACKUP\\n 5\\n 0\\n none\\n                        (AB version, 0/1 = zlib, none/AES-256)
    <ustar tar>  apps/com.android.mms/miui_bak/_tmp_bak       (the messages, protobuf)

``_tmp_bak`` is one ``SyncRoot`` message, written by MIUI's MmsBackupAgent (decompiled, MIUI 7 era):
``SyncRoot{4: MmsSms{1: repeated Sms}, 9: MmsCollection{1: repeated Pdu}}``, with
``Sms{2 luid, 3 type, 4 address, 6 body, 7 date ms, 11 date_sent ms, …}`` and
``Pdu{2 luid, 3 date s, 4 date_sent s, 5 msg_box, 7 m_id, 14 m_type, 22 tr_id, 33 addr{1 address,
2 type}, 34 part{1 seq, 2 content type, 11 text}, 35 ms part of date}`` — the Android provider's
columns, so records go through :mod:`~sms_audit.importers.android_provider` and get the same ids as
SB&R/mmssms.db. That these numbers still hold on MIUI 8+/HyperOS is inferred (no public modern
sample): such imports carry a warning, and a payload that yields no message at all is an error
rather than a guess.

The protobuf is read with the short wire reader in :mod:`~sms_audit.importers._protowire` rather
than bbpb: the field numbers are known, the payload is streamed from the tar (a .bak can be
gigabytes), and errors must be typed and keep every record read before them.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers._protowire import (
    LEN,
    Value,
    WireError,
    WireStream,
    WireTruncated,
    as_int,
    as_text,
    first,
    parse_message,
)
from sms_audit.importers._zip import ZIP_ERRORS, is_zip, open_member, open_zip
from sms_audit.importers.android_provider import (
    ADDR_BCC,
    ADDR_CC,
    ADDR_FROM,
    ADDR_TO,
    OWN_PLACEHOLDER,
    mms_record,
    sms_record,
)
from sms_audit.importers.base import (
    Limits,
    ReadOptions,
    ReadStats,
    Skip,
    account,
    build_messages,
    parse_int,
    read_head,
)
from sms_audit.model import Message, Record

NAME = "miui_backup"
FOLDER = True  # a backup folder is one archive: never split into its files
DESCRIPTION = "Xiaomi MIUI/HyperOS local backup (folder, .zip or .bak)"

MIUI_MAGIC = b"MIUI BACKUP\n"
AB_MAGIC = b"ANDROID BACKUP\n"
MMS_PACKAGE = "com.android.mms"
FEATURE_SMS, FEATURE_MMS = 1, 2
DESCRIPT = "descript.xml"
TMP_BAK = f"apps/{MMS_PACKAGE}/miui_bak/_tmp_bak"

# SyncRoot / MmsSms / MmsCollection field numbers (SyncRootProtos, SmsProtos, MmsProtos).
_ROOT_MMS_SMS, _ROOT_MMS_COLLECTION, _REPEATED_ITEM = 4, 9, 1
_SMS_LUID, _SMS_TYPE, _SMS_ADDRESS, _SMS_BODY, _SMS_DATE, _SMS_SERVER_DATE = 2, 3, 4, 6, 7, 11
_PDU_LUID, _PDU_DATE, _PDU_SERVER_DATE, _PDU_BOX, _PDU_M_ID = 2, 3, 4, 5, 7
_PDU_M_TYPE, _PDU_TR_ID, _PDU_ADDR, _PDU_PART, _PDU_DATE_MS = 14, 22, 33, 34, 35
_ADDR_ADDRESS, _ADDR_TYPE = 1, 2
_PART_SEQ, _PART_CT, _PART_TEXT = 1, 2, 11

_HEADER_LINES = 12  # the MIUI header has 4-5 lines before ANDROID BACKUP; allow a few more
_HEADER_LINE_MAX = 1024
_MAX_RECORD = 16 << 20  # one SMS or MMS record (MMS attachments live in separate tar entries)
_CHUNK = 1 << 16
_READ_STEP = 16 * 1024
_DESCRIPT_MAX = 4 << 20  # descript.xml lists a few dozen apps in a few KB
_PROGRESS_EVERY = 500
#: MIUI versions whose Mms backup code the field layout was read from (MIUI 7, Mms 5.x).
_VERIFIED_MIUI = ("V5", "V6", "V7")


# --- descript.xml ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Package:
    name: str
    feature: int | None
    bak_file: str
    error: str


@dataclass(slots=True)
class _Manifest:
    device: str = ""
    miui_version: str = ""
    date_ms: int | None = None
    packages: list[_Package] = field(default_factory=list)


def _is_descript(head: bytes) -> bool:
    return b"<MIUI-backup" in head[:4096]


def _parse_descript(data: bytes) -> _Manifest | None:
    """The manifest, or None when the XML cannot be read (the .bak files are then found by name).

    ``<MIUI-backup><device>cepheus</device><miuiVersion>V12.5.6.0.RFACNXM</miuiVersion>
    <date>1626713667948</date><packages><package><packageName>com.android.mms</packageName>
    <feature>1</feature><bakFile>短信(com.android.mms).bak</bakFile><error>0</error>…``
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None
    if root is None or root.tag != "MIUI-backup":
        return None

    def text(node: Any, tag: str) -> str:
        found = node.find(tag)
        return (found.text or "").strip() if found is not None else ""

    date = text(root, "date")
    manifest = _Manifest(
        device=text(root, "device"),
        miui_version=text(root, "miuiVersion"),
        date_ms=parse_int(date),
    )
    for package in root.iter("package"):
        feature = text(package, "feature")
        manifest.packages.append(
            _Package(
                name=text(package, "packageName"),
                feature=parse_int(feature),
                bak_file=text(package, "bakFile"),
                error=text(package, "error"),
            )
        )
    return manifest


# --- containers: folder, zip, single .bak -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str  # file name inside the backup folder (or zip)
    size: int
    open: Callable[[], AbstractContextManager[IO[bytes]]]


def _zip_name(info: zipfile.ZipInfo) -> str:
    # Zips without the UTF-8 flag decode as cp437 in Python; MIUI names are UTF-8 (短信(...).bak).
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _zip_descript(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    candidates = [
        info
        for info in archive.infolist()
        if PurePosixPath(_zip_name(info)).name == DESCRIPT and not info.is_dir() and not info.flag_bits & 0x1
    ]
    return min(candidates, key=lambda i: _zip_name(i).count("/"), default=None)


def _file_opener(path: Path) -> Callable[[], AbstractContextManager[IO[bytes]]]:
    return lambda: open(path, "rb")


def _zip_descript_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, limits: Limits) -> bytes:
    """descript.xml from the zip; b"" (an unreadable manifest: .bak files are found by name) when
    the member is damaged, encrypted or a bomb."""
    try:
        with open_member(archive, info, path, limits) as stream:
            return stream.read(_DESCRIPT_MAX)
    except CorruptArchive:
        return b""


@contextmanager
def _open_container(path: Path, limits: Limits) -> Iterator[tuple[bytes | None, dict[str, _Entry]]]:
    """(descript.xml bytes or None, .bak entries by file name) of a folder, zip or single .bak.

    Zip members are read through :func:`~sms_audit.importers._zip.open_member`: damaged data, an
    unsupported method or a bomb is a CorruptArchive after the records read before it."""
    if path.is_dir():
        descript = path / DESCRIPT
        entries = {
            p.name: _Entry(p.name, p.stat().st_size, _file_opener(p))
            for p in sorted(path.iterdir())
            if p.is_file() and p.name.lower().endswith(".bak")
        }
        yield (descript.read_bytes() if descript.is_file() else None), entries
        return
    if is_zip(path):
        with open_zip(path) as archive:
            info = _zip_descript(archive)
            folder = str(PurePosixPath(_zip_name(info)).parent) if info is not None else None
            entries = {}
            for member in archive.infolist():
                name = PurePosixPath(_zip_name(member))
                if member.is_dir() or not name.name.lower().endswith(".bak"):
                    continue
                if folder is not None and str(name.parent) != folder:
                    continue
                if member.flag_bits & 0x1:
                    raise CorruptArchive(
                        f"{name.name} inside the zip is encrypted",
                        path=str(path),
                        hint="extract the zip with its password first, then import the folder",
                    )
                entries[name.name] = _Entry(
                    name.name, member.file_size, partial(open_member, archive, member, path, limits)
                )
            manifest = _zip_descript_bytes(archive, info, path, limits) if info is not None else None
            yield manifest, entries
        return
    yield None, {path.name: _Entry(path.name, path.stat().st_size, _file_opener(path))}


# --- sniffing ---------------------------------------------------------------------------------------


def _bak_package(head: bytes) -> tuple[str, str] | None:
    """(package, label) from the first bytes of a MIUI .bak, or None when it is not one."""
    if not head.startswith(MIUI_MAGIC):
        return None
    lines = head.split(b"\n")
    if len(lines) < 3:
        return None
    package, _, label = lines[2].decode("utf-8", "replace").partition(" ")
    return package.strip(), label.strip()


def sniff(path: Path) -> bool:
    """A MIUI backup folder or zip (``descript.xml`` whose root is ``<MIUI-backup>``), or a
    ``.bak`` of the Messages package (it starts with ``MIUI BACKUP\\n``)."""
    try:
        if path.is_dir():
            return _is_descript(read_head(path / DESCRIPT, 4096))
        if not path.is_file():
            return False
        head = read_head(path, _HEADER_LINE_MAX)
        if head.startswith(MIUI_MAGIC):
            found = _bak_package(head)
            return found is not None and found[0] == MMS_PACKAGE
        if head.startswith(b"PK") and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                info = _zip_descript(archive)
                if info is None:
                    return False
                with archive.open(info) as stream:
                    return _is_descript(stream.read(4096))
    except (*ZIP_ERRORS, RuntimeError):  # RuntimeError: an encrypted member
        return False
    return False


def explain_unsupported(path: Path) -> None:
    """A .bak of another app (notes, settings …) is not a message backup: say which it is."""
    if not path.is_file():
        return
    found = _bak_package(read_head(path, _HEADER_LINE_MAX))
    if found is not None and found[0] != MMS_PACKAGE:
        package, label = found
        raise UnsupportedArchive(
            f"this MIUI backup file holds {package}{f' ({label})' if label else ''}, not messages",
            path=str(path),
            hint=f"pass the Messages file (its name ends in ({MMS_PACKAGE}).bak) or the whole backup "
            "folder MIUI/backup/AllBackup/<date>/",
        )


# --- reading ----------------------------------------------------------------------------------------


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region``."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Yield the SMS and MMS of a MIUI backup (folder, zip or one .bak), streamed.

    Raises UnsupportedArchive for an encrypted backup or one without messages, TruncatedArchive
    (after every complete record) when a .bak ends early, CorruptArchive for damaged data or when
    a non-empty payload yields no message (the layout would then differ from the known one).
    """
    with _open_container(path, options.limits) as (descript, entries):
        manifest = _parse_descript(descript) if descript is not None else None
        if descript is not None and manifest is None:
            stats.warnings.append(f"{DESCRIPT} is unreadable; Messages files were found by name")
        _record_manifest(manifest, stats)
        chosen = _message_files(manifest, entries, path, stats)
        if path.is_dir():  # a folder has no hash of its own: record the main Messages file's
            from sms_audit.files import sha256_file

            stats.details["sha256"] = sha256_file(path / chosen[0][0].name)
            stats.details["sha256_of"] = chosen[0][0].name
        totals = _Totals()
        error: CorruptArchive | None = None
        try:
            for entry, feature in chosen:
                try:
                    yield from _read_bak(entry, feature, path, options, stats, totals)
                except CorruptArchive as exc:  # a damaged SMS file must not cost the MMS file
                    error = error or exc
        finally:
            stats.details["miui_files"] = ", ".join(entry.name for entry, _ in chosen)
            stats.details["miui_sms"] = str(totals.sms)
            stats.details["miui_mms"] = str(totals.mms)
            if totals.decoded and not _verified(manifest):
                version = manifest.miui_version if manifest is not None and manifest.miui_version else ""
                stats.warnings.append(
                    f"decoded {totals.sms} SMS and {totals.mms} MMS with a field layout known from MIUI 7 "
                    f"and inferred for {version or 'this MIUI/HyperOS version'}; compare the counts with the "
                    "phone"
                )
        if error is not None:
            raise error
        if totals.payload_bytes and not totals.collections:
            raise _layout_error(
                f"0 SMS decoded from {totals.payload_bytes} bytes of message data: the layout differs from "
                f"the known MIUI one (top-level fields seen: {_fields_text(totals.other_fields)})",
                path,
            )
        if totals.decoded and not stats.read:
            raise _layout_error(
                f"0 SMS decoded: none of the {totals.decoded} records has the fields of the known MIUI layout",
                path,
            )


def _layout_error(message: str, path: Path) -> CorruptArchive:
    return CorruptArchive(
        message,
        path=str(path),
        hint="sms-audit does not guess. If you passed one .bak, pass the whole backup folder instead "
        "(its descript.xml says which file holds the SMS); otherwise please report this MIUI version, and "
        "meanwhile export the messages with SMS Backup & Restore or 超级备份 (Super Backup) and import that",
    )


@dataclass(slots=True)
class _Totals:
    sms: int = 0
    mms: int = 0
    collections: int = 0  # SyncRoot.mmsSms / mmsCollection fields found (even empty ones)
    decoded: int = 0  # protobuf records found (messages or not)
    payload_bytes: int = 0
    other_fields: set[int] = field(default_factory=set)


def _fields_text(numbers: set[int]) -> str:
    return ", ".join(str(n) for n in sorted(numbers)) or "none"


def _verified(manifest: _Manifest | None) -> bool:
    return manifest is not None and manifest.miui_version.upper().startswith(_VERIFIED_MIUI)


def _record_manifest(manifest: _Manifest | None, stats: ReadStats) -> None:
    if manifest is None:
        return
    device = " ".join(v for v in (manifest.device, manifest.miui_version) if v)
    if device:
        stats.details["device_name"] = device
    if manifest.miui_version:
        stats.details["miui_version"] = manifest.miui_version
    if manifest.date_ms is not None and 0 < manifest.date_ms < 4_102_444_800_000:
        stats.details["miui_backup_date"] = datetime.fromtimestamp(manifest.date_ms / 1000, UTC).isoformat()


def _message_files(
    manifest: _Manifest | None, entries: dict[str, _Entry], path: Path, stats: ReadStats
) -> list[tuple[_Entry, int | None]]:
    """The Messages .bak files to read, with their feature: chosen by package and feature, never
    by the translated label; by the ``(com.android.mms).bak`` name only without a manifest."""
    suffix = f"({MMS_PACKAGE}).bak"
    if manifest is None:
        named = [e for name, e in entries.items() if name.endswith(suffix)]
        if not named and len(entries) == 1:  # a single .bak given directly
            named = list(entries.values())
        if not named:
            raise UnsupportedArchive(
                f"no Messages backup file (*{suffix}) in this MIUI backup", path=str(path)
            )
        return [(e, None) for e in named]
    packages = [p for p in manifest.packages if p.name == MMS_PACKAGE]
    if not packages:
        raise UnsupportedArchive(
            f"this MIUI backup holds no messages ({DESCRIPT} lists no {MMS_PACKAGE} package)",
            path=str(path),
            hint="make a new local backup with 短信 (Messages) selected: Settings → About phone → "
            "Back up and restore → Local backups",
        )
    wanted = [p for p in packages if p.feature in (FEATURE_SMS, FEATURE_MMS)] or packages
    others = sorted({p.feature for p in packages if p not in wanted and p.feature is not None})
    if others:
        stats.details["miui_mms_other_features"] = ", ".join(str(f) for f in others)
    chosen: list[tuple[_Entry, int | None]] = []
    for package in sorted(wanted, key=lambda p: (p.feature is None, p.feature)):
        if package.error not in ("", "0"):
            stats.warnings.append(
                f"{DESCRIPT} reports error {package.error} for {MMS_PACKAGE} feature {package.feature}: "
                "the phone's backup of it may be incomplete"
            )
        entry = entries.get(package.bak_file)
        if entry is None:
            stats.warnings.append(f"{DESCRIPT} lists {package.bak_file!r}, which is not in the backup")
            continue
        chosen.append((entry, package.feature))
    if not chosen:
        raise CorruptArchive(
            f"the Messages files listed in {DESCRIPT} are missing from the backup", path=str(path)
        )
    return chosen


class _Counting(io.RawIOBase):
    """Counts the bytes read from a stream and remembers whether its end was reached."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0
        self.eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # Small reads: a zip member's CRC is checked by the read that reaches its end, whose bytes
        # are then lost; the records in the bytes before it are kept.
        data = self._raw.read(min(len(buffer), _READ_STEP))
        if not data:
            self.eof = True
            return 0
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


class _Inflating(io.RawIOBase):
    """The inflated bytes of a zlib stream (AB compression 1), at most 1 MiB inflated at a time."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self._zlib = zlib.decompressobj()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            data = self._zlib.unconsumed_tail
            if not data:
                if self._zlib.eof:
                    return 0
                data = self._source.read(_CHUNK)
                if not data:  # the compressed stream stops early: the reader sees the end
                    return 0
            self._pending = self._zlib.decompress(data, 1 << 20)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


@dataclass(frozen=True, slots=True)
class _AbHeader:
    package: str
    version: str
    compression: str
    encryption: str


class _HeaderCut(Exception):
    """The file ends inside the MIUI/Android backup header."""


def _read_header(stream: IO[bytes], name: str, path: Path) -> _AbHeader:
    """Parse the MIUI and Android backup header lines; the stream is left at the payload.

    Raises _HeaderCut when the file ends inside the header, CorruptArchive when it is not one."""

    def line() -> bytes:
        text = stream.readline(_HEADER_LINE_MAX)
        if not text.endswith(b"\n"):
            raise _HeaderCut
        return text

    if line() != MIUI_MAGIC:
        raise CorruptArchive(f"{name}not a MIUI backup file (no 'MIUI BACKUP' header)", path=str(path))
    package = [line() for _ in range(2)][1].decode("utf-8", "replace").partition(" ")[0].strip()
    for _ in range(_HEADER_LINES):
        if line() == AB_MAGIC:
            break
    else:
        raise CorruptArchive(f"{name}no 'ANDROID BACKUP' header after the MIUI header", path=str(path))
    version, compression, encryption = (line().decode("ascii", "replace").strip() for _ in range(3))
    return _AbHeader(package, version, compression, encryption)


# --- tar ---------------------------------------------------------------------------------------------
# A streaming ustar reader instead of tarfile's "r|" mode, which raises on a short read and so drops
# the records of a partly copied member; here the member's bytes run until the data stops.

_BLOCK = 512
_TAR_FILE_TYPES = (b"0", b"\0", b"7")


class _TarCut(Exception):
    """The tar ends inside a header or before its end-of-archive blocks."""


class _TarDamaged(Exception):
    """A tar header fails its checksum or has an unreadable size."""


class _Member(io.RawIOBase):
    """The first ``size`` bytes of a stream; reads end early (b"") when the stream does."""

    def __init__(self, source: IO[bytes], size: int) -> None:
        self._source = source
        self.remaining = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.remaining:
            return 0
        data = self._source.read(min(len(buffer), self.remaining))
        buffer[: len(data)] = data
        self.remaining -= len(data)
        return len(data)


def _tar_number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256 for sizes of 8 GiB and more
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise _TarDamaged(f"unreadable tar number {text[:12]!r}") from None


def _read_block(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise _TarCut
        data += more
    return data


def _skip(stream: IO[bytes], size: int) -> None:
    while size:
        chunk = stream.read(min(size, _CHUNK))
        if not chunk:
            raise _TarCut
        size -= len(chunk)


def _tar_members(stream: IO[bytes]) -> Iterator[tuple[str, int, _Member]]:
    """(name, size, data) of each regular file, in order; the caller reads the data (or not) before
    asking for the next one. Handles ustar prefixes, pax ``path``/``size`` and GNU long names."""
    long_name: str | None = None
    pax: dict[str, str] = {}
    while True:
        header = stream.read(_BLOCK)
        if not header:
            raise _TarCut  # an AB tar always ends with zero blocks
        if len(header) < _BLOCK:
            header += _read_block(stream, _BLOCK - len(header))
        if header == bytes(_BLOCK):
            return
        checksum = _tar_number(header[148:156])
        if checksum != sum(header[:148]) + 8 * 32 + sum(header[156:]):
            raise _TarDamaged("tar header checksum mismatch")
        kind = header[156:157]
        size = _tar_number(header[124:136])
        name = header[:100].split(b"\0", 1)[0]
        if header[257:262] == b"ustar" and header[345:500].strip(b"\0"):
            name = header[345:500].split(b"\0", 1)[0] + b"/" + name
        padded = -(-size // _BLOCK) * _BLOCK
        if kind in (b"x", b"g", b"L"):
            data = _read_block(stream, padded)[:size]
            if kind == b"L":
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "replace")
            elif kind == b"x":
                pax = _pax_records(data)
            continue
        pax_size = parse_int(pax.get("size"))
        if pax_size is not None and pax_size >= 0:
            size, padded = pax_size, -(-pax_size // _BLOCK) * _BLOCK
        full = pax.get("path") or long_name or name.decode("utf-8", "replace")
        long_name, pax = None, {}
        member = _Member(stream, size)
        if kind in _TAR_FILE_TYPES:
            yield full, size, member
        _skip(stream, member.remaining + padded - size)


def _pax_records(data: bytes) -> dict[str, str]:
    """``"30 path=apps/com.android.mms/…\n"`` records of a pax extended header."""
    found: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        _length, _, pair = line.partition(" ")
        key, sep, value = pair.partition("=")
        if sep:
            found[key] = value
    return found


def _read_bak(
    entry: _Entry, feature: int | None, path: Path, options: ReadOptions, stats: ReadStats, totals: _Totals
) -> Iterator[Record]:
    name = "" if entry.name == path.name else f"{entry.name}: "  # the file inside a folder or zip
    with entry.open() as raw:
        counting = _Counting(raw)
        stream = io.BufferedReader(counting, _CHUNK)
        try:
            header = _read_header(stream, name, path)
        except _HeaderCut:
            raise TruncatedArchive(
                f"{name}the file ends inside its header", path=str(path), records_read=stats.read
            ) from None
        if header.package and header.package != MMS_PACKAGE:
            raise UnsupportedArchive(
                f"{name}the file holds {header.package}, not messages ({MMS_PACKAGE})", path=str(path)
            )
        if header.encryption.lower() != "none":
            raise UnsupportedArchive(
                f"encrypted MIUI backup ({header.encryption or 'unknown cipher'}); sms-audit cannot read "
                "password-protected backups",
                path=str(path),
                hint="make a new local backup without a password, or export the messages with "
                "SMS Backup & Restore or 超级备份 (Super Backup)",
            )
        if header.compression not in ("0", "1"):
            raise CorruptArchive(f"{name}unknown compression {header.compression!r}", path=str(path))
        payload: IO[bytes] = (
            io.BufferedReader(_Inflating(stream), _CHUNK) if header.compression == "1" else stream
        )
        if feature is not None:
            stats.details[f"miui_feature_{feature}"] = entry.name

        def progress(done: int) -> None:
            if options.on_progress is not None and done % _PROGRESS_EVERY == 0:
                options.on_progress(counting.count, entry.size)

        yield from _read_payload(payload, counting, name, path, stats, totals, progress)
        if options.on_progress is not None:
            options.on_progress(entry.size, entry.size)


def _read_payload(
    payload: IO[bytes],
    counting: _Counting,
    name: str,
    path: Path,
    stats: ReadStats,
    totals: _Totals,
    progress: Callable[[int], None],
) -> Iterator[Record]:
    """Find ``_tmp_bak`` in the tar and yield its messages; map every failure to a typed error
    raised after the records read before it."""
    pdus: list[dict[int, list[Value]]] = []
    error: CorruptArchive | None = None
    found = False
    try:
        for member_name, size, data in _tar_members(payload):
            if member_name.lstrip("./") != TMP_BAK:
                continue
            found = True
            totals.payload_bytes += size
            for kind, fields in _walk_sync_root(WireStream(data), totals):
                totals.decoded += 1
                if kind == "mms":
                    pdus.append(fields)
                    continue
                record = account(_sms(fields, totals.decoded), stats)
                progress(totals.decoded)
                if record is not None:
                    stats.read += 1
                    totals.sms += 1
                    yield record
            if data.remaining:
                raise WireError(f"{data.remaining} bytes after the SyncRoot message")
            break  # the rest of the tar is attachments and metadata
    except (WireTruncated, _TarCut) as exc:
        done = stats.read + stats.skipped + stats.excluded + len(pdus)
        if counting.eof:
            error = TruncatedArchive(
                f"{name}read {done} records; the backup ends early",
                path=str(path),
                records_read=done,
                hint="the file was cut off (interrupted copy?); every complete record before the break "
                "was read",
            )
        else:
            cause = f" ({exc})" if str(exc) else ""
            error = CorruptArchive(f"{name}read {done} records; then the data ends{cause}", path=str(path))
    except (WireError, _TarDamaged, zlib.error) as exc:
        done = stats.read + stats.skipped + stats.excluded + len(pdus)
        error = CorruptArchive(f"{name}read {done} records; then damaged data ({exc})", path=str(path))
    for record in _mms_records(pdus, stats):
        stats.read += 1
        totals.mms += 1
        yield record
    if error is not None:
        raise error
    if not found:
        raise CorruptArchive(
            f"{name}no message data in the file ({TMP_BAK} is missing)",
            path=str(path),
            hint="the file may be cut off, or hold another part of the Messages backup",
        )


def _walk_sync_root(stream: WireStream, totals: _Totals) -> Iterator[tuple[str, dict[int, list[Value]]]]:
    """("sms"|"mms", fields) for each Sms of SyncRoot.mmsSms and each Pdu of SyncRoot.mmsCollection."""
    for number, wire in stream.fields():
        if wire != LEN or number not in (_ROOT_MMS_SMS, _ROOT_MMS_COLLECTION):
            totals.other_fields.add(number)
            stream.skip_value(wire)
            continue
        kind = "sms" if number == _ROOT_MMS_SMS else "mms"
        totals.collections += 1
        size = stream.length()  # read before taking the offset: the prefix is not part of the body
        end = stream.offset + size
        for inner, inner_wire in stream.fields(end):
            if inner != _REPEATED_ITEM or inner_wire != LEN:
                stream.skip_value(inner_wire)  # SmsBookmark (MmsSms field 2) and unknown fields
                continue
            size = stream.length(limit=_MAX_RECORD)
            if stream.offset + size > end:
                raise WireError("a record runs past the end of its collection")
            data = stream.read_exact(size)
            try:
                fields = parse_message(data)
            except WireError:
                fields = {}  # one damaged record: skipped and counted, the next ones are intact
            yield kind, fields


def _sms(fields: dict[int, list[Value]], ordinal: int) -> Record | Skip:
    if not fields:
        return Skip("undecodable SMS record")
    luid = as_text(first(fields, _SMS_LUID))
    return sms_record(
        record=f"sms:{luid or f'#{ordinal}'}",
        address=as_text(first(fields, _SMS_ADDRESS)),
        date=as_int(first(fields, _SMS_DATE)),
        kind=as_int(first(fields, _SMS_TYPE), 32),
        body=as_text(first(fields, _SMS_BODY)) or "",
        date_sent=as_int(first(fields, _SMS_SERVER_DATE)),
    )


def _addrs(fields: dict[int, list[Value]]) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    for value in fields.get(_PDU_ADDR, []):
        if not isinstance(value, bytes):
            continue
        try:
            addr = parse_message(value)
        except WireError:
            continue
        out.append((as_text(first(addr, _ADDR_ADDRESS)) or "", as_int(first(addr, _ADDR_TYPE), 32)))
    return out


def _parts(fields: dict[int, list[Value]]) -> list[tuple[str, str | None]]:
    parts: list[tuple[int, str, str | None]] = []
    for value in fields.get(_PDU_PART, []):
        if not isinstance(value, bytes):
            continue
        try:
            part = parse_message(value)
        except WireError:
            continue
        seq = as_int(first(part, _PART_SEQ), 32)
        parts.append(
            (
                seq if seq is not None else 0,
                as_text(first(part, _PART_CT)) or "",
                as_text(first(part, _PART_TEXT)),
            )
        )
    parts.sort(key=lambda p: p[0])
    return [(ct, text) for _seq, ct, text in parts]


def _own_numbers(pdus: list[dict[int, list[Value]]]) -> set[str]:
    """The owner's numbers: the From of sent MMS, the only To of received ones (MIUI keeps no thread
    list, so group members are told apart from the owner this way)."""
    own: set[str] = set()
    for fields in pdus:
        box = as_int(first(fields, _PDU_BOX), 32)
        addrs = [(a, t) for a, t in _addrs(fields) if a and a not in (OWN_PLACEHOLDER, "null")]
        if box == 2:
            own.update(a for a, t in addrs if t == ADDR_FROM)
        elif box == 1:
            to = [a for a, t in addrs if t == ADDR_TO]
            if len(to) == 1:
                own.add(to[0])
    return own


def _mms_records(pdus: list[dict[int, list[Value]]], stats: ReadStats) -> Iterator[Record]:
    own = _own_numbers(pdus)
    for ordinal, fields in enumerate(pdus, start=1):
        if not fields:
            stats.skip("undecodable MMS record")
            continue
        addrs = _addrs(fields)
        box = as_int(first(fields, _PDU_BOX), 32)
        usable = [(a, t) for a, t in addrs if a and a not in (OWN_PLACEHOLDER, "null")]
        sender = next((a for a, t in usable if t == ADDR_FROM), None)
        if box == 1:
            to = list(dict.fromkeys(a for a, t in usable if t in (ADDR_TO, ADDR_CC)))
            others = [a for a in to if a not in own] if len(to) > 1 else []
            listed = [*([sender] if sender else []), *(a for a in others if a != sender)]
        else:
            listed = list(
                dict.fromkeys(a for a, t in usable if t in (ADDR_TO, ADDR_CC, ADDR_BCC) and a not in own)
            )
        date = as_int(first(fields, _PDU_DATE))
        ms_part = as_int(first(fields, _PDU_DATE_MS), 32)
        if date is not None and ms_part is not None and 0 <= ms_part < 1000 and date < 10**11:
            date = date * 1000 + ms_part  # MIUI keeps the milliseconds of an MMS date apart
        luid = as_text(first(fields, _PDU_LUID))
        record = account(
            mms_record(
                record=f"mms:{luid or f'#{ordinal}'}",
                date=date,
                date_sent=as_int(first(fields, _PDU_SERVER_DATE)),
                box=box,
                m_id=as_text(first(fields, _PDU_M_ID)),
                tr_id=as_text(first(fields, _PDU_TR_ID)),
                addrs=addrs,
                parts=_parts(fields),
                listed=listed,
                m_type=as_int(first(fields, _PDU_M_TYPE), 32),
            ),
            stats,
        )
        if record is not None:
            yield record
