"""SMS Backup & Restore XML (``<smses>``, also Signal/Silence exports), plain or zipped, streamed."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from lxml import etree

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers._zip import ZIP_ERRORS, is_zip, open_cut_zip, open_member, open_zip, starts_like_zip
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
from sms_audit.importers.xml_charrefs import CharRefFilter, Utf8Transcoder, decode_head, detect_xml_encoding
from sms_audit.model import Message, Record

NAME = "sbr_xml"
DESCRIPTION = "SMS Backup & Restore XML (.xml or .zip)"

_ROOT = re.compile(r"<([A-Za-z_][A-Za-z0-9_.:-]*)[\s/>]")
_SNIFF_BYTES = 64 * 1024


def _absent(value: str | None) -> bool:
    return not value or value == "null"


def _attr(elem: etree._Element, name: str) -> str | None:
    value = elem.get(name)
    return None if _absent(value) else value


# --- container handling -------------------------------------------------------------------------


def _xml_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    members = [i for i in archive.infolist() if i.filename.lower().endswith(".xml") and not i.is_dir()]
    for info in members:  # prefer the messages file when a zip holds sms-*.xml and calls-*.xml
        if info.flag_bits & 0x1 or info.compress_type not in _READABLE:
            return info  # reading it will say why it cannot be read
        try:
            with archive.open(info) as head:
                if _root_name(head.read(_SNIFF_BYTES)) == "smses":
                    return info
        except ZIP_ERRORS:
            return info
    return members[0] if members else None


_READABLE = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})


@contextmanager
def _open_source(path: Path, limits: Limits) -> Iterator[tuple[IO[bytes], int | None, str | None]]:
    """Open the XML read-only, directly or inside a zip; yields (stream, size in bytes if known, a
    warning about the container or None)."""
    if is_zip(path):
        with open_zip(path) as archive:
            info = _xml_member(archive)
            if info is None:
                raise UnsupportedArchive("zip file holds no .xml backup", path=str(path))
            with open_member(archive, info, path, limits) as stream:
                yield stream, info.file_size, None
    elif starts_like_zip(path):  # a zip cut short: its first member, as far as the file goes
        with open_cut_zip(path, limits) as (name, member):
            yield (
                member,
                None,
                f"the zip file is cut short (its list of files is missing): read {name} as far as it goes",
            )  # type: ignore[misc]
    else:
        with open(path, "rb") as stream:
            yield stream, path.stat().st_size, None


def _root_name(head: bytes) -> str | None:
    """Name of the root element (namespace prefix dropped) in the first bytes of an XML document,
    whatever its encoding (skips the prolog, comments and the DTD)."""
    text = decode_head(head).lstrip(" \t\r\n")
    if not text.startswith("<"):
        return None
    text = re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>", "", text, flags=re.DOTALL)
    match = _ROOT.search(text)
    return match.group(1).rpartition(":")[2] if match else None


def _head(path: Path) -> bytes:
    try:
        if not is_zip(path) and starts_like_zip(path):
            with open_cut_zip(path, Limits()) as (name, member):
                return member.read(_SNIFF_BYTES) if name.lower().endswith(".xml") else b""
        if is_zip(path):
            with zipfile.ZipFile(path) as archive:
                info = _xml_member(archive)
                if info is None:
                    return b""
                if info.flag_bits & 0x1 or info.compress_type not in _READABLE:
                    return b"<smses>"  # an SB&R zip whose backup cannot be read: reading says why
                with archive.open(info) as stream:
                    return stream.read(_SNIFF_BYTES)
        return read_head(path, _SNIFF_BYTES)
    except CorruptArchive:
        return b"<smses>"  # an SB&R zip whose backup cannot be read (encrypted): reading says why
    except ZIP_ERRORS:
        return b""


def sniff(path: Path) -> bool:
    """An SB&R backup is XML whose root element is ``<smses>`` (FORMATS.md §7)."""
    return path.is_file() and _root_name(_head(path)) == "smses"


def explain_unsupported(path: Path) -> None:
    """Give a precise error for the SB&R call-log sibling (``<calls>``)."""
    if path.is_file() and _root_name(_head(path)) == "calls":
        raise UnsupportedArchive(
            "this is a call log, not messages (root element is <calls>)",
            path=str(path),
            hint="pass the sms-*.xml file of the same backup, not calls-*.xml",
        )


def _declared_count(head: bytes) -> int | None:
    """The ``count`` SB&R writes on ``<smses>`` (the number of <sms> plus <mms> records)."""
    match = re.search(
        r"<(?:[A-Za-z_][\w.-]*:)?smses\b[^>]*?\scount=[\"']([0-9]{1,12})[\"']", decode_head(head)
    )
    return int(match.group(1)) if match else None


def _refuse_entities(head: bytes, path: Path) -> None:
    """SB&R files never declare entities: a DTD that does is refused, never resolved (XXE)."""
    text = decode_head(head)
    if re.search(r"<!DOCTYPE[^>\[]*\[[^\]]*<!ENTITY", text, flags=re.DOTALL):
        raise CorruptArchive(
            "the XML declares entities in a DTD; SB&R backups never do, so it is refused",
            path=str(path),
            hint="a file that declares entities may try to read other files; re-export the backup",
        )


# --- records ------------------------------------------------------------------------------------


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region``."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Stream ``<sms>`` and ``<mms>`` records; memory stays flat whatever the file size.

    Raises TruncatedArchive after yielding every complete record when the file ends early, and
    CorruptArchive (also after yielding) for malformed XML in the middle.
    """
    with _open_source(path, options.limits) as (raw, size, container_note):
        if container_note:
            stats.warnings.append(container_note)
        head = _head(path)
        _refuse_entities(head, path)
        encoding = detect_xml_encoding(head)
        if encoding != "utf-8":
            stats.details["xml_encoding"] = encoding
            raw = Utf8Transcoder(raw, encoding)  # type: ignore[assignment]
        stream = CharRefFilter(raw, max_value=options.limits.max_body_bytes)
        root = _root_name(head)
        if root not in (None, "smses"):
            explain_unsupported(path)
            raise UnsupportedArchive(f"not an SMS backup (root element is <{root}>)", path=str(path))
        parser = etree.iterparse(
            stream,
            events=("end",),
            tag=("{*}sms", "{*}mms"),
            huge_tree=True,
            resolve_entities=False,
            no_network=True,
            remove_comments=True,
        )
        ordinal = 0
        last_line = 1
        try:
            for _event, elem in parser:
                ordinal += 1
                last_line = elem.sourceline or last_line
                # "{ns}sms", or "x:sms" when a damaged file lost its xmlns:x (lxml keeps the prefix)
                local = elem.tag.rpartition("}")[2].rpartition(":")[2]
                result = _sms(elem, ordinal) if local == "sms" else _mms(elem, ordinal)
                _release(elem)
                record = account(result, stats)
                if record is None:
                    continue
                stats.read += 1
                if options.on_progress is not None and ordinal % 500 == 0:
                    options.on_progress(stream.bytes_read, size)  # size None: the total is unknown
                yield record
        except etree.XMLSyntaxError as exc:
            line = exc.lineno or last_line
            records = stats.read + stats.skipped + stats.excluded
            if stream.eof and line >= stream.last_line:  # the parser ran out of data: cut off
                raise TruncatedArchive(
                    f"read {records} records; file is truncated at line {line}",
                    path=str(path),
                    records_read=records,
                    line=line,
                    hint="the backup ends early (interrupted copy or upload?); every complete record "
                    "before the break was read",
                ) from None
            if stats.read == 0 and ordinal == 0 and root is None:
                raise UnsupportedArchive("not an XML file", path=str(path)) from None
            cause = re.sub(r",? line [0-9]+, column [0-9]+$", "", exc.msg or "syntax error")
            raise CorruptArchive(
                f"read {records} records; malformed XML at line {line}: {cause}",
                path=str(path),
                hint="the records before this line were read",
            ) from None
        finally:
            if stream.truncated:
                stats.warnings.append(
                    f"{stream.truncated} text(s) longer than {options.limits.max_body_bytes} bytes were cut "
                    "and marked (limit SMS_AUDIT_MAX_BODY_BYTES)"
                )
        declared = _declared_count(head)
        if declared is not None and declared > ordinal:
            stats.warnings.append(
                f"the backup says it holds {declared} records but {ordinal} were found"
                + (" (are they in another XML namespace or element?)" if ordinal == 0 else "")
            )
        if options.on_progress is not None:
            options.on_progress(size or stream.bytes_read, size or stream.bytes_read)


def _release(elem: etree._Element) -> None:
    """Free a processed record and everything before it (iterparse keeps the tree otherwise)."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else int(value.strip())
    except ValueError:
        return None


# <sms protocol="0" address="+15550000001" date="1512226167463" type="1" subject="null"
#      body="Body text 1" ... date_sent="1512226166000" sub_id="-1" contact_name="Contact A" />
def _sms(elem: etree._Element, ordinal: int) -> Record | Skip:
    get = elem.get  # the hot path of a million-message file: one lookup per attribute
    record, address, date, date_sent = get("_id"), get("address"), get("date"), get("date_sent")
    return sms_record(
        record=f"sms#{ordinal}" if _absent(record) else record,
        address=None if _absent(address) else address,
        date=None if _absent(date) else date,
        kind=_int(_attr(elem, "type")),
        body=get("body") or "",  # a body of "null" is text the user typed; keep it
        date_sent=None if _absent(date_sent) else date_sent,
    )


# <mms date="1720997593000" msg_box="1" address="+15550000006" date_sent="1720997593" m_type="132" ...>
#   <parts><part seq="0" ct="text/plain" text="Body text" data="..."/></parts>
#   <addrs><addr address="+15550000006" type="137" charset="106"/></addrs></mms>
def _mms(elem: etree._Element, ordinal: int) -> Record | Skip | Exclude:
    parts = [(part.get("ct") or "", part.get("text")) for part in elem.iterfind("{*}parts/{*}part")]
    addrs = [
        (addr.get("address") or "", _int(addr.get("type"))) for addr in elem.iterfind("{*}addrs/{*}addr")
    ]
    return mms_record(
        record=_attr(elem, "_id") or f"mms#{ordinal}",
        date=_attr(elem, "date"),
        date_sent=_attr(elem, "date_sent"),  # seconds in SB&R MMS; the unit is checked by magnitude
        box=_int(_attr(elem, "msg_box")),
        m_id=_attr(elem, "m_id"),
        tr_id=elem.get("tr_id"),
        addrs=addrs,
        parts=parts,
        address=_attr(elem, "address") or "",
        m_type=_int(_attr(elem, "m_type")),
    )
