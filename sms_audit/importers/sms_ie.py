"""SMS Import / Export (tmo1/sms-ie): v2 ZIP with ``messages.ndjson``, v1 JSON array, ``.ssef`` detection."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers._provider_json import int_field, text_field
from sms_audit.importers._zip import ZIP_ERRORS, is_zip, open_member, open_zip
from sms_audit.importers.android_provider import ADDR_FROM, OWN_PLACEHOLDER, mms_record, sms_record
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
from sms_audit.model import Message, Record

NAME = "sms_ie"
DESCRIPTION = "SMS Import/Export (sms-ie) ZIP or JSON"

NDJSON = "messages.ndjson"
SSEF_MAGIC = b"SSEF\x00\xff"  # libsodium SecretStream container (sms-ie ENCRYPTION.md)
_SNIFF_BYTES = 64 * 1024
_CHUNK = 256 * 1024
_PROGRESS_EVERY = 2000


class TruncatedJson(ValueError):
    """The JSON array ends inside an element."""


def sniff(path: Path) -> bool:
    """A ZIP with ``messages.ndjson`` (v2), or a JSON array of message objects (v1)."""
    if not path.is_file():
        return False
    if is_zip(path):
        try:
            with zipfile.ZipFile(path) as archive:
                return NDJSON in archive.namelist()
        except ZIP_ERRORS:
            return False
    return _looks_like_v1(read_head(path, _SNIFF_BYTES))


def _looks_like_v1(head: bytes) -> bool:
    # [ { "_id": "1", "thread_id": "1", "address": "22000", "date": "1709647200123", "type": "1", ...
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"[") or not text[1:].lstrip().startswith(b"{"):
        return False
    return b'"date"' in text and (b'"address"' in text or b'"msg_box"' in text)


def explain_unsupported(path: Path) -> None:
    """An encrypted sms-ie export (``*.zip.ssef``) is recognised by its header and explained."""
    if path.is_file() and read_head(path, _SNIFF_BYTES).startswith(SSEF_MAGIC):
        raise UnsupportedArchive(
            "this is an encrypted SMS Import/Export file (.ssef)",
            path=str(path),
            hint="decrypt it with sms-ie's tools/ssef-decrypt.py (needs PyNaCl), then import the .zip",
        )


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region``."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Stream the messages of an sms-ie export (all values are JSON strings).

    Raises UnsupportedArchive for ``.ssef``, CorruptArchive for a damaged ZIP/JSON, and
    TruncatedArchive (after yielding every complete record) when the export ends early.
    """
    explain_unsupported(path)
    limits = options.limits
    with _open(path, limits) as (stream, size, is_v2):
        records = (
            _ndjson(stream, stats, limits.max_record_bytes)
            if is_v2
            else iter_json_array(
                io.TextIOWrapper(stream, "utf-8", "replace"), max_element=limits.max_record_bytes
            )  # type: ignore[arg-type]
        )
        ordinal = 0
        try:
            for record in records:
                ordinal += 1
                message = account(json_record(record, to_record, ordinal, v1=not is_v2), stats)
                if message is None:
                    continue
                stats.read += 1
                if options.on_progress is not None and ordinal % _PROGRESS_EVERY == 0:
                    options.on_progress(ordinal, None)
                yield message
        except TruncatedJson:
            raise TruncatedArchive(
                f"read {ordinal} records; the JSON ends early",
                path=str(path),
                records_read=ordinal,
                hint="the export was cut off; every complete record was read",
            ) from None
        except CorruptArchive as exc:
            raise CorruptArchive(
                f"read {ordinal} records, then: {exc.message}", path=str(path), hint=exc.hint
            ) from None
        except (ValueError, UnicodeDecodeError, RecursionError, *ZIP_ERRORS) as exc:
            raise CorruptArchive(
                f"read {ordinal} records, then the export is damaged ({_cause(exc)})", path=str(path)
            ) from None
        stats.details["sms_ie_version"] = "2 (zip)" if is_v2 else "1 (json)"
        if options.on_progress is not None:
            options.on_progress(size, size)


@contextmanager
def _open(path: Path, limits: Limits) -> Iterator[tuple[IO[bytes], int, bool]]:
    if not is_zip(path):
        if not _looks_like_v1(read_head(path, _SNIFF_BYTES)):
            raise UnsupportedArchive("not an SMS Import/Export export", path=str(path))
        with open(path, "rb") as stream:
            yield stream, path.stat().st_size, False
        return
    with open_zip(path) as archive:
        try:
            info = archive.getinfo(NDJSON)
        except KeyError:
            raise UnsupportedArchive(f"the ZIP holds no {NDJSON}", path=str(path)) from None
        with open_member(archive, info, path, limits) as stream:
            yield stream, info.file_size, True  # type: ignore[misc]


def _cause(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply"
    return str(exc) or type(exc).__name__


def json_record(
    value: object, convert: Callable[..., Record | Skip | Exclude], *args: Any, **kwargs: Any
) -> Record | Skip | Exclude:
    """Convert one JSON record; a value that is no object, or fields of the wrong JSON type (a number
    where a list belongs), skip the record and count it instead of stopping the file."""
    if isinstance(value, _BadLine):
        return Skip(value.reason)
    if not isinstance(value, dict):
        return Skip("a record that is not a JSON object")
    try:
        return convert(value, *args, **kwargs)
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:
        return Skip(f"a field of the wrong type ({type(exc).__name__})")


class _BadLine:
    """An NDJSON line that could not be read (it is counted, and the next line is read)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _ndjson(stream: IO[bytes], stats: ReadStats, max_line: int) -> Iterator[Any]:
    # {"_id":"41","thread_id":"7","address":"22000","date":"1709647200123","type":"1","body":"..."}
    number = 0
    while True:
        raw = stream.readline(max_line + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_line and not raw.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass  # skip the rest of an overlong line without holding it
            yield _BadLine(f"a record longer than {max_line} bytes (limit SMS_AUDIT_MAX_RECORD_BYTES)")
            continue
        line = raw.strip()
        if not line:
            continue
        try:
            value = _loads(line)
        except RecursionError:
            value = _BadLine("JSON nested too deeply")
        except json.JSONDecodeError:
            if not raw.endswith(b"\n"):
                raise TruncatedJson from None
            stats.warnings.append(f"line {number} of {NDJSON} is not JSON; skipped")
            value = _BadLine("a line that is not JSON")
        except ValueError:  # json's int() refuses numbers of more than 4,300 digits
            value = _BadLine("a number too long to read (over 4,300 digits)")
        yield value


def _loads(line: bytes) -> Any:
    """One JSON value; bytes that are not UTF-8 (a damaged body) become U+FFFD, the record stays."""
    try:
        return json.loads(line)
    except UnicodeDecodeError:
        return json.loads(line.decode("utf-8", "replace"))


def iter_json_array(
    stream: IO[str], chunk_size: int = _CHUNK, *, max_element: int | None = None
) -> Iterator[Any]:
    """Yield the elements of a top-level JSON array one by one, without loading the whole file.

    Raises ValueError when the text is not a JSON array (or is malformed) or an element is longer
    than ``max_element`` characters, RecursionError when one is nested too deeply, TruncatedJson
    when the text ends inside the array.
    """
    decoder = json.JSONDecoder()
    buffer, pos, eof, started = "", 0, False, False
    while True:
        while pos < len(buffer) and buffer[pos] in " \t\r\n\ufeff" + ("," if started else ""):
            pos += 1
        if pos >= len(buffer):
            if eof:
                raise TruncatedJson if started else ValueError("empty file")
            more = stream.read(chunk_size)
            buffer, pos, eof = buffer[pos:] + more, 0, more == ""
            continue
        if not started:
            if buffer[pos] != "[":
                raise ValueError("not a JSON array")
            started, pos = True, pos + 1
            continue
        if buffer[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(buffer, pos)
            # A number is only complete once a delimiter follows it ("2" may become "2.5e3").
            delimited = end < len(buffer) and (buffer[end] in " \t\r\n,]" or not _is_number(value))
            complete = eof or delimited
        except json.JSONDecodeError as exc:
            if eof:
                if _cut_off(buffer, exc):
                    raise TruncatedJson from None
                raise
            complete = False
        if not complete:
            if max_element is not None and len(buffer) - pos > max_element:
                raise ValueError(f"a record is longer than {max_element} characters")
            # Read at least as much again as is buffered, so a huge element costs linear time.
            more = stream.read(max(chunk_size, len(buffer) - pos))
            buffer, pos, eof = buffer[pos:] + more, 0, more == ""
            continue
        yield value
        buffer, pos = buffer[end:], 0


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cut_off(text: str, exc: json.JSONDecodeError) -> bool:
    """True when the decode error is the end of the data (cut off), not malformed JSON inside it."""
    return exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip())


def to_record(record: dict[str, Any], ordinal: int, *, v1: bool) -> Record | Skip | Exclude:
    """One sms-ie record -> a record. MMS records have ``msg_box``; SMS have ``type``."""
    record_id = f"{text_field(record, '_id') or ordinal}"
    if "msg_box" in record:
        return _mms(record, f"mms:{record_id}", v1=v1)
    # SMS: {"address": "22000", "date": "1709647200123" (ms), "type": "1", "body": "..."}
    return sms_record(
        record=f"sms:{record_id}",
        address=text_field(record, "address") or "",
        date=text_field(record, "date"),
        kind=int_field(record, "type"),
        body=text_field(record, "body") or "",
        date_sent=text_field(record, "date_sent"),
    )


# MMS: {"date": "1709740900" (s), "msg_box": "1", "m_id": "...",
#       "__sender_address": {"address": "+12025550142", "type": "137"},
#       "__recipient_addresses": [{"address": "+12025550100", "type": "151"}],
#       "__parts": [{"seq": "0", "ct": "text/plain", "text": "look at this"}]}   (v1: no "__")
def _mms(record: dict[str, Any], source_record: str, *, v1: bool) -> Record | Skip | Exclude:
    prefix = "" if v1 else "__"
    sender = record.get(f"{prefix}sender_address")
    recipients = record.get(f"{prefix}recipient_addresses") or []
    parts = record.get(f"{prefix}parts") or []
    addrs: list[tuple[str, int | None]] = []
    if isinstance(sender, dict):
        addrs.append((text_field(sender, "address") or "", ADDR_FROM))
    for entry in recipients if isinstance(recipients, list) else []:
        if isinstance(entry, dict):
            addrs.append((text_field(entry, "address") or "", int_field(entry, "type")))
    ordered = sorted(
        (p for p in parts if isinstance(p, dict)) if isinstance(parts, list) else [],
        key=lambda p: int_field(p, "seq") or 0,
    )
    others = [a for a, kind in addrs if kind != ADDR_FROM and a and a != OWN_PLACEHOLDER]
    box = int_field(record, "msg_box")
    from_address = addrs[0][0] if addrs and addrs[0][1] == ADDR_FROM else ""
    # The thread's participants are not exported: for a sent MMS they are the recipients; for a
    # received one the sender (plus the To list, which also holds the owner, when it is a group).
    listed = others if box != 1 else ([from_address] + (others if len(others) > 1 else []))
    return mms_record(
        record=source_record,
        date=text_field(record, "date"),
        date_sent=text_field(record, "date_sent"),
        box=box,
        m_id=text_field(record, "m_id"),
        tr_id=text_field(record, "tr_id"),
        addrs=addrs,
        parts=[(text_field(p, "ct") or "", text_field(p, "text")) for p in ordered],
        listed=[a for a in listed if a],
        m_type=int_field(record, "m_type"),
    )
