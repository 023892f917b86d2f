"""Android adb TelephonyBackupAgent files (``NNNNNN_sms_backup``/``_mms_backup``): zlib-compressed JSON."""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers._provider_json import int_field, text_field
from sms_audit.importers.android_provider import mms_record, sms_record
from sms_audit.importers.base import (
    Exclude,
    Limits,
    ReadOptions,
    ReadStats,
    Skip,
    account,
    build_messages,
    read_head,
)
from sms_audit.importers.sms_ie import TruncatedJson, iter_json_array, json_record
from sms_audit.model import Message, Record

NAME = "android_telephony_backup"
DESCRIPTION = "Android adb backup TelephonyBackupAgent files (zlib JSON)"

ADB_MAGIC = b"ANDROID BACKUP\n"
_FILE_NAME = re.compile(r"[0-9]{6}_(sms|mms)_backup")
_SNIFF_BYTES = 4096
_CHUNK = 64 * 1024


def _zlib_header(head: bytes) -> bool:
    # 78 9c / 78 da / 78 01 / 78 5e: deflate, 32K window, header checksum divisible by 31 (RFC 1950).
    return len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0


def _sniff_file(path: Path) -> bool:
    head = read_head(path, _SNIFF_BYTES)
    if not _zlib_header(head):
        return False
    try:
        text = zlib.decompressobj().decompress(head, _SNIFF_BYTES)
    except zlib.error:
        return False
    # [{"address":"06543219","body":"...","date":"1645543781956","type":"6","recipients":[...]}]
    stripped = text.lstrip()
    return (
        stripped.startswith(b"[{")
        and b'"date"' in text
        and any(key in text for key in (b'"recipients"', b'"mms_addresses"', b'"address"'))
    )


def _members(path: Path) -> list[Path]:
    """The backup files of a ``d_f`` folder, in order (000000_sms_backup, 000001_mms_backup ...)."""
    return sorted(p for p in path.iterdir() if p.is_file() and _FILE_NAME.fullmatch(p.name))


def sniff(path: Path) -> bool:
    """A zlib stream that inflates to a JSON list of SMS/MMS objects, or a ``d_f`` folder of them."""
    if path.is_dir():
        return any(_sniff_file(p) for p in _members(path))
    return path.is_file() and _sniff_file(path)


def explain_unsupported(path: Path) -> None:
    """A whole ``adb backup`` archive (.ab) has to be unpacked first."""
    if not path.is_file():
        return
    with open(path, "rb") as stream:
        head = stream.read(len(ADB_MAGIC))
    if head == ADB_MAGIC:
        raise UnsupportedArchive(
            "this is a whole adb backup archive (.ab); the messages are inside it",
            path=str(path),
            hint="unpack it (e.g. `abe unpack backup.ab backup.tar` with android-backup-extractor, "
            "then tar xf) and import apps/com.android.providers.telephony/d_f/",
        )


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region``."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Read one TelephonyBackupAgent file, or every ``NNNNNN_*_backup`` file of a ``d_f`` folder.

    SMS ids match the SB&R/mmssms importers'; MMS carry no ``m_id`` here, so they get their own.
    Raises CorruptArchive for data that does not inflate or parse.
    """
    files = _members(path) if path.is_dir() else [path]
    if not files:
        raise UnsupportedArchive(
            "no TelephonyBackupAgent files (NNNNNN_sms_backup) in this folder", path=str(path)
        )
    for number, member in enumerate(files, start=1):
        ordinal = 0
        try:
            # bytes that are not UTF-8 (a damaged body) become U+FFFD; the records after them stay
            stream = io.TextIOWrapper(
                io.BufferedReader(_Inflater(member, options.limits)), "utf-8", "replace"
            )
            for record in iter_json_array(stream, max_element=options.limits.max_record_bytes):
                ordinal += 1
                message = account(json_record(record, _record, f"{member.name}#{ordinal}"), stats)
                if message is None:
                    continue
                stats.read += 1
                yield message
        except TruncatedJson:
            raise TruncatedArchive(
                f"{member.name}: read {ordinal} records; the data ends early",
                path=str(path),
                records_read=stats.read,
            ) from None
        except (ValueError, zlib.error, UnicodeDecodeError, RecursionError) as exc:
            raise CorruptArchive(
                f"{member.name} is not a readable TelephonyBackupAgent file ({exc})", path=str(path)
            ) from None
        if options.on_progress is not None:
            options.on_progress(number, len(files))
    stats.details["telephony_backup_files"] = str(len(files))


class _Inflater(io.RawIOBase):
    """A read-only stream of the inflated bytes of a zlib file (so the JSON is never all in memory).

    Inflates at most ``_CHUNK`` bytes at a time, and refuses a possible zlib bomb: more than
    ``Limits.max_inflate_ratio`` times the file's size (and more than 1 MiB), as for ZIP members.
    """

    def __init__(self, path: Path, limits: Limits) -> None:
        self._path = path
        self._file: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._zlib = zlib.decompressobj()
        self._pending = b""
        self._offset = 0
        self._size = max(path.stat().st_size, 1)
        self._ratio = limits.max_inflate_ratio
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._offset >= len(self._pending):
            if self._zlib.eof:  # bytes after the stream are not part of it (and stay in unconsumed_tail)
                return 0
            compressed = self._zlib.unconsumed_tail or self._file.read(_CHUNK)
            if not compressed:
                self._pending, self._offset = self._zlib.flush(), 0
                if not self._pending:
                    return 0
                break
            self._pending, self._offset = self._zlib.decompress(compressed, _CHUNK), 0
            self.inflated += len(self._pending)
            if self.inflated > max(1 << 20, self._size * self._ratio):
                raise CorruptArchive(
                    f"refusing a possible zlib bomb: {self._path.name} inflates beyond {self._ratio}× its size",
                    path=str(self._path),
                    hint="if you trust this file, raise the limit with SMS_AUDIT_MAX_INFLATE_RATIO",
                )
        n = min(len(buffer), len(self._pending) - self._offset)
        buffer[:n] = self._pending[self._offset : self._offset + n]
        self._offset += n
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def _record(record: dict[str, Any], source_record: str) -> Record | Skip | Exclude:
    raw_recipients = record.get("recipients") or []
    if not isinstance(raw_recipients, list):
        return Skip("'recipients' is not a list")
    raw_addresses = record.get("mms_addresses") or []
    if not isinstance(raw_addresses, list):
        return Skip("'mms_addresses' is not a list")
    recipients = [str(r) for r in raw_recipients if r]
    if "msg_box" in record:
        # {"date": "1579531789" (s), "msg_box": "1", "recipients": ["+12345678"], "tr_id": "...",
        #  "mms_addresses": [{"type": 137, "address": "+12345678", "charset": 106}, ...],
        #  "mms_body": "Very suspicious MMS ...", "mms_charset": 106}
        addrs = [
            (str(a.get("address") or ""), int_field(a, "type")) for a in raw_addresses if isinstance(a, dict)
        ]
        body = text_field(record, "mms_body")
        return mms_record(
            record=source_record,
            date=text_field(record, "date"),
            date_sent=text_field(record, "date_sent"),
            box=int_field(record, "msg_box"),
            m_id=text_field(record, "m_id"),
            tr_id=text_field(record, "tr_id"),
            addrs=addrs,
            parts=[("text/plain", body)] if body else [],
            listed=recipients,
            m_type=int_field(record, "m_type"),
        )
    # {"address": "06543219", "body": "...", "date": "1645543781956" (ms), "date_sent": "0",
    #  "status": "-1", "type": "6", "recipients": ["06543219"], "read": "1"}
    address = text_field(record, "address") or (recipients[0] if len(recipients) == 1 else "")
    return sms_record(
        record=source_record,
        address=address,
        date=text_field(record, "date"),
        kind=int_field(record, "type"),
        body=text_field(record, "body") or "",
        date_sent=text_field(record, "date_sent"),
    )
