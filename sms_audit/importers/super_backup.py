"""Super Backup / 超级备份 (``com.idea.backup.smscontacts``, MobileIdea) SMS XML, read record by record.

The app writes one flat element per SMS, attributes in a fixed order (FORMATS-CN.md §7.1)::

    <?xml version="1.0" encoding="UTF-8"?>
    <allsms count="2">
        <sms address="10690000123" time="2013年12月26日 下午8:56:00" date="1388062560000" type="1"
                 body="…" read="1" service_center="+8613800100500" name="" />
    </allsms>

It does not escape quotes (nor always ``<``/``&``) inside bodies, so the file is not well-formed
XML and no XML parser reads it. This reader splits the text at each ``<sms`` start tag and takes
the body from ``body="`` up to the record's *last* ``" read="`` (greedy), so an unescaped quote,
``/>`` or ``<`` in a message cannot cut it short, and one broken record never costs the ones after
it. ``date`` is Unix ms (its unit is checked by magnitude), ``type`` the Android provider's, ``time``
a localized display string (ignored). Character references (``&#10;``, emoji written as UTF-16
surrogate pairs ``&#55357;&#56842;``) and the five XML entities are decoded; any other ``&`` is
text. The SMS ids are those of SB&R/mmssms, so the same message in both backups is stored once.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from sms_audit.errors import CorruptArchive, TruncatedArchive
from sms_audit.importers._textfile import TextLines, decode_head, read_chunks, sniff_encoding
from sms_audit.importers.android_provider import sms_record
from sms_audit.importers.base import (
    ReadOptions,
    ReadStats,
    Skip,
    account,
    build_messages,
    parse_int,
    read_head,
)
from sms_audit.model import Message, Record

NAME = "super_backup_xml"
DESCRIPTION = "Super Backup (超级备份) SMS XML (<allsms>)"

_SNIFF_BYTES = 4096
_ROOT = re.compile(r"\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<allsms[\s>/]", re.DOTALL)
_COUNT = re.compile(r"<allsms\b[^>]*?\bcount\s*=\s*\"([0-9]+)\"")
_START = re.compile(r"<sms\s+[A-Za-z_][A-Za-z0-9_]*\s*=\s*\"")
_ATTR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*\"([^\"]*)\"")
_BODY = re.compile(r"\sbody\s*=\s*\"")
_READ = re.compile(r"\"\s+read\s*=\s*\"")
_NEXT_ATTR = re.compile(r"\"\s+[A-Za-z_][A-Za-z0-9_]*\s*=\s*\"")
_CLOSE = re.compile(r"\"?\s*/?>\s*$")
_END = re.compile(r"</allsms\s*>\s*$")
_REF = re.compile(r"&(?:#[xX]([0-9A-Fa-f]{1,8})|#([0-9]{1,10})|(amp|lt|gt|quot|apos));")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
MAX_RECORD_CHARS = 16 * 1024 * 1024  # one SMS is a few KB; a longer "record" is damage, not text


def sniff(path: Path) -> bool:
    """Text whose root element is ``<allsms>`` (it need not be well-formed XML)."""
    if not path.is_file():
        return False
    head = read_head(path, _SNIFF_BYTES)
    if not head:
        return False
    return _ROOT.match(decode_head(head, sniff_encoding(head, xml=True))) is not None


def _is_xml_char(cp: int) -> bool:
    # The characters XML 1.0 allows: others become U+FFFD, as the SB&R reader does, so a message
    # in both backups keeps one id.
    return (
        cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF
    )


_NONCHARACTERS = {0xFFFE: 0xFFFD, 0xFFFF: 0xFFFD}


def unescape(text: str) -> str:
    """Character references and the five XML entities → text; surrogate pairs joined; anything
    else (a bare ``&``, ``&copy;``) kept as written. The noncharacters U+FFFE and U+FFFF, which XML
    forbids even unescaped, become U+FFFD as in the SB&R reader."""
    text = text.translate(_NONCHARACTERS)
    if "&" not in text:
        return text
    out: list[str] = []
    pos = 0
    high: int | None = None  # a high surrogate waiting for its low half

    def flush() -> None:
        nonlocal high
        if high is not None:
            out.append("\ufffd")
            high = None

    for match in _REF.finditer(text):
        if match.start() != pos:
            flush()
            out.append(text[pos : match.start()])
        pos = match.end()
        if match.group(3):
            flush()
            out.append(_ENTITIES[match.group(3)])
            continue
        value = int(match.group(1), 16) if match.group(1) else int(match.group(2))
        if high is not None and 0xDC00 <= value <= 0xDFFF:
            out.append(chr(0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)))
            high = None
            continue
        flush()
        if 0xD800 <= value <= 0xDBFF:
            high = value
        else:
            out.append(chr(value) if _is_xml_char(value) else "\ufffd")
    flush()
    out.append(text[pos:])
    return "".join(out)


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region``."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Every ``<sms>`` record, in file order; memory holds one record at a time.

    A malformed record in the middle is skipped (counted with its reason) and reading goes on.
    Raises TruncatedArchive after yielding every complete record when the file ends inside a
    record or before ``</allsms>``; CorruptArchive when no record can be found at all.
    """
    head = read_head(path, _SNIFF_BYTES)
    encoding = sniff_encoding(head, xml=True)
    stats.details["encoding"] = encoding.describe()
    size = path.stat().st_size
    reader = TextLines(read_chunks(path), encoding)
    buffer = ""
    line = 1  # line number of buffer[0]
    declared: int | None = None
    ordinal = 0
    first = True
    for text in reader.text_chunks():
        buffer += text
        starts = [m.start() for m in _START.finditer(buffer)]
        if first and starts:
            prefix = buffer[: starts[0]]
            match = _COUNT.search(prefix)
            declared = parse_int(match.group(1)) if match else None
            line += prefix.count("\n")
            buffer = buffer[starts[0] :]
            starts = [s - starts[0] for s in starts]
            first = False
        if first:
            if len(buffer) > MAX_RECORD_CHARS:
                break
            continue
        for begin, end in itertools.pairwise(starts):
            ordinal += 1
            chunk = buffer[begin:end]
            record = account(_record(chunk, ordinal), stats)
            if record is not None:
                stats.read += 1
                if options.on_progress is not None and stats.read % 500 == 0:
                    options.on_progress(reader.bytes_read, size)
                yield record
            line += chunk.count("\n")
        buffer = buffer[starts[-1] :]
        if len(buffer) > MAX_RECORD_CHARS:
            raise CorruptArchive(
                f"read {stats.read} records; the record at line {line} never ends "
                f"(over {MAX_RECORD_CHARS // 1_000_000} MB)",
                path=str(path),
                hint="the file is damaged; the records before this line were read",
            )
    if first:
        raise CorruptArchive("no <sms> record in the file", path=str(path))
    ordinal += 1
    ended = _END.search(buffer)
    last = buffer[: ended.start()] if ended else buffer
    complete = _CLOSE.search(last) is not None and _READ.search(last) is not None
    if complete:
        record = account(_record(last, ordinal), stats)
        if record is not None:
            stats.read += 1
            yield record
    if options.on_progress is not None:
        options.on_progress(size, size)
    warning = reader.warning()
    if warning:
        stats.warnings.append(warning)
    if not complete or not ended:
        where = "inside the <sms> record" if not complete else "after the <sms> record"
        raise TruncatedArchive(
            f"read {ordinal - (0 if complete else 1)} records; the file ends {where} at line {line}"
            + ("" if ended or not complete else " without </allsms>"),
            path=str(path),
            records_read=stats.read,
            line=line,
            hint="the backup ends early (interrupted copy?); every complete record before the break was read",
        )
    if declared is not None and declared != ordinal:
        stats.warnings.append(f"the file says it holds {declared} messages but {ordinal} records were found")


def _record(chunk: str, ordinal: int) -> Record | Skip:
    """One ``<sms …/>`` element (possibly malformed) → a record, or why it is skipped."""
    body_at = _BODY.search(chunk)
    if body_at is None:
        attrs = dict(_ATTR.findall(chunk))
        body = None
    else:
        attrs = dict(_ATTR.findall(chunk[: body_at.start()]))
        rest = chunk[body_at.end() :]
        reads = list(_READ.finditer(rest))
        if reads:
            end = reads[-1]
            tail = rest[end.start() + 1 :]
        else:  # another attribute order: the body ends at the last `" name="` or at the tag's end
            ends = list(_NEXT_ATTR.finditer(rest)) or list(re.finditer(r"\"\s*/?>\s*$", rest))
            if not ends:
                return Skip("malformed <sms> element (its body never ends)")
            end = ends[-1]
            tail = rest[end.start() + 1 :]
        body = rest[: end.start()]
        attrs.update(_ATTR.findall(tail))
    if body is None:
        return Skip("malformed <sms> element (no body attribute)")
    return sms_record(
        record=f"sms#{ordinal}",
        address=unescape(attrs.get("address", "")),
        date=attrs.get("date") or None,
        kind=parse_int(attrs.get("type")),
        body=unescape(body),
    )
