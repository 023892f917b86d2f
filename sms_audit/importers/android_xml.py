"""SMS Backup & Restore XML (``<smses>``, also Signal/Silence exports), plain or zipped, streamed."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO

from lxml import etree

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive
from sms_audit.importers.base import ReadOptions, ReadStats, read_head
from sms_audit.importers.xml_charrefs import CharRefFilter
from sms_audit.model import Direction, Message, MessageBuilder, Service, mms_message_id, sms_message_id
from sms_audit.normalize import SenderKind, from_unix_ms, from_unix_s, normalize_address

NAME = "sbr_xml"
DESCRIPTION = "SMS Backup & Restore XML (.xml or .zip)"

# SMS `type` (AOSP Telephony.TextBasedSmsColumns; LG extras 7/8/19, FORMATS.md §1.3).
_SMS_TYPE = {
    "1": Direction.IN,
    "2": Direction.OUT,
    "3": Direction.DRAFT,
    "4": Direction.FAILED,
    "5": Direction.FAILED,
    "6": Direction.FAILED,
    "7": Direction.IN,
    "8": Direction.DRAFT,
    "19": Direction.IN,
}
_SMS_BLOCKED = "7"  # LG "blocked number": received, but filtered
# MMS `msg_box` (Telephony.BaseMmsColumns MESSAGE_BOX_*).
_MMS_BOX = {
    "1": Direction.IN,
    "2": Direction.OUT,
    "3": Direction.DRAFT,
    "4": Direction.FAILED,
    "5": Direction.FAILED,
}
_ADDR_FROM, _ADDR_TO, _ADDR_CC, _ADDR_BCC = "137", "151", "130", "129"
_OWN_PLACEHOLDER = "insert-address-token"
_GROUP_SPLIT = re.compile(r"[~;,]")
_ROOT = re.compile(rb"<([A-Za-z_][A-Za-z0-9_.-]*)[\s/>]")
_SNIFF_BYTES = 64 * 1024


def _absent(value: str | None) -> bool:
    return value is None or value == "" or value == "null"


def _attr(elem: etree._Element, name: str) -> str | None:
    value = elem.get(name)
    return None if _absent(value) else value


# --- container handling -------------------------------------------------------------------------


def _xml_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    members = [i for i in archive.infolist() if i.filename.lower().endswith(".xml") and not i.is_dir()]
    for info in members:  # prefer the messages file when a zip holds sms-*.xml and calls-*.xml
        with archive.open(info) if not info.flag_bits & 0x1 else _null() as head:
            if head is None or _root_name(head.read(_SNIFF_BYTES)) == "smses":
                return info
    return members[0] if members else None


@contextmanager
def _null() -> Iterator[None]:
    yield None


@contextmanager
def _open_source(path: Path) -> Iterator[tuple[IO[bytes], int]]:
    """Open the XML read-only, directly or inside a zip; yields (stream, size in bytes)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            info = _xml_member(archive)
            if info is None:
                raise UnsupportedArchive("zip file holds no .xml backup", path=str(path))
            if info.flag_bits & 0x1:
                raise CorruptArchive(
                    f"the backup inside the zip ({info.filename}) is encrypted",
                    path=str(path),
                    hint="extract it with the password first (e.g. 7z x FILE), then import the .xml",
                )
            with archive.open(info) as stream:
                yield stream, info.file_size
    else:
        with open(path, "rb") as stream:
            yield stream, path.stat().st_size


def _root_name(head: bytes) -> str | None:
    """Name of the root element in the first bytes of an XML document (skips prolog/comments)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"<"):
        return None
    text = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", text, flags=re.DOTALL)
    match = _ROOT.search(text)
    return match.group(1).decode("ascii", "replace") if match else None


def _head(path: Path) -> bytes:
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                info = _xml_member(archive)
                if info is None or info.flag_bits & 0x1:
                    return b"<smses>" if info is not None else b""
                with archive.open(info) as stream:
                    return stream.read(_SNIFF_BYTES)
        return read_head(path, _SNIFF_BYTES)
    except (OSError, zipfile.BadZipFile):
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


# --- records ------------------------------------------------------------------------------------


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """Stream ``<sms>`` and ``<mms>`` records; memory stays flat whatever the file size.

    Raises TruncatedArchive after yielding every complete record when the file ends early, and
    CorruptArchive (also after yielding) for malformed XML in the middle.
    """
    builder = MessageBuilder(source_format=NAME, source_file=str(path), region=options.region)
    with _open_source(path) as (raw, size):
        stream = CharRefFilter(raw)
        root = _root_name(_head(path))
        if root not in (None, "smses"):
            explain_unsupported(path)
            raise UnsupportedArchive(f"not an SMS backup (root element is <{root}>)", path=str(path))
        parser = etree.iterparse(
            stream,
            events=("end",),
            tag=("sms", "mms"),
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
                try:
                    message = (
                        _sms(elem, builder, ordinal) if elem.tag == "sms" else _mms(elem, builder, ordinal)
                    )
                except ValueError:
                    message = None
                _release(elem)
                if message is None:
                    stats.skipped += 1
                    continue
                stats.read += 1
                if options.on_progress is not None and ordinal % 500 == 0:
                    options.on_progress(stream.bytes_read, size)
                yield message
        except etree.XMLSyntaxError as exc:
            line = exc.lineno or last_line
            records = stats.read + stats.skipped
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
        if options.on_progress is not None:
            options.on_progress(size, size)


def _release(elem: etree._Element) -> None:
    """Free a processed record and everything before it (iterparse keeps the tree otherwise)."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


# <sms protocol="0" address="+15550000001" date="1512226167463" type="1" subject="null"
#      body="Body text 1" ... date_sent="1512226166000" sub_id="-1" contact_name="Contact A" />
def _sms(elem: etree._Element, builder: MessageBuilder, ordinal: int) -> Message | None:
    address = _attr(elem, "address")
    date_ms = _attr(elem, "date")
    kind = _attr(elem, "type")
    if address is None or date_ms is None or kind is None:
        return None
    timestamp = from_unix_ms(date_ms)
    if timestamp is None:
        return None
    direction = _SMS_TYPE.get(kind, Direction.OTHER)
    body = elem.get("body") or ""  # a body of "null" is text the user typed; keep it
    return builder.build(
        natural_id=sms_message_id(address, direction, int(date_ms), body),
        source_record=_attr(elem, "_id") or f"sms#{ordinal}",
        direction=direction,
        address_raw=address,
        timestamp=timestamp,
        body=body,
        sent_timestamp=from_unix_ms(_attr(elem, "date_sent")),
        service=Service.SMS,
        is_filtered=kind == _SMS_BLOCKED,
    )


# <mms date="1720997593000" msg_box="1" address="+15550000006" date_sent="1720997593" m_type="132" ...>
#   <parts><part seq="0" ct="text/plain" text="Body text" data="..."/></parts>
#   <addrs><addr address="+15550000006" type="137" charset="106"/></addrs></mms>
def _mms(elem: etree._Element, builder: MessageBuilder, ordinal: int) -> Message | None:
    date_ms = _attr(elem, "date")
    box = _attr(elem, "msg_box")
    if date_ms is None or box is None:
        return None
    timestamp = from_unix_ms(date_ms)
    if timestamp is None:
        return None
    direction = _MMS_BOX.get(box, Direction.OTHER)
    texts: list[str] = []
    has_attachments = False
    for part in elem.iterfind("parts/part"):
        ctype = (part.get("ct") or "").lower()
        if ctype.startswith("text/plain"):
            text = part.get("text")
            if not _absent(text):
                texts.append(text or "")
        elif ctype != "application/smil":
            has_attachments = True
    body = "".join(texts)  # SB&R keeps parts in seq order; text parts carry their own spacing

    sender: str | None = None
    others: list[str] = []
    for addr in elem.iterfind("addrs/addr"):
        value = _attr(addr, "address")
        if value is None or value == _OWN_PLACEHOLDER:
            continue
        if addr.get("type") == _ADDR_FROM:
            sender = sender or value
        elif addr.get("type") in (_ADDR_TO, _ADDR_CC, _ADDR_BCC):
            others.append(value)
    address_attr = _attr(elem, "address") or ""
    listed = [a for a in _GROUP_SPLIT.split(address_attr) if a.strip()]
    people = [
        a for a in listed if "@rcs.google.com" not in a.lower()
    ]  # the group pseudo-address is no person
    participants = list(dict.fromkeys(people + others + ([sender] if sender else [])))
    is_rcs = "@rcs.google.com" in address_attr.lower() or (elem.get("tr_id") or "").startswith("proto:")
    is_group = len(listed) > 1 or "@rcs.google.com" in address_attr.lower() or len(participants) > 2

    if direction == Direction.IN:
        other_party = sender or (listed[0] if listed else address_attr)
    else:
        other_party = address_attr or (others[0] if others else "")
    if not other_party:
        return None
    recipients = [p for p in participants if p != other_party] if is_group else []
    message = builder.build(
        natural_id=mms_message_id(other_party, direction, int(date_ms) // 1000, body, _attr(elem, "m_id")),
        source_record=_attr(elem, "_id") or f"mms#{ordinal}",
        direction=direction,
        address_raw=other_party,
        timestamp=timestamp,
        body=body,
        thread_key=_group_key(listed, address_attr, builder.region) if is_group else None,
        sent_timestamp=from_unix_s(_attr(elem, "date_sent")),  # seconds in SB&R MMS, not ms
        service=Service.RCS if is_rcs else Service.MMS,
        recipients=recipients,
        has_attachments=has_attachments,
        is_group=is_group,
    )
    if is_group and direction != Direction.IN:
        # A message to a group has no single other party: its address is the group itself.
        message = replace(message, address=message.thread_key, sender_kind=SenderKind.GROUP.value)
    return message


def _group_key(listed: list[str], address_attr: str, region: str | None) -> str:
    if "@" in address_attr:
        return normalize_address(address_attr, region).key
    return "~".join(sorted(normalize_address(a, region).key for a in listed))
