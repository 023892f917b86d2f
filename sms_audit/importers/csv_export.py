"""CSV exports of messages: iMazing (iPhone), QQ同步助手 (ic.qq.com), and any other CSV with ``--csv-map``.

Presets (FORMATS-CN.md §7.2, §7.4):

* **iMazing** — matched on its column names, in any of its four known column sets (14 columns;
  + ``Edited Date``; + ``Deleted Date``/``Reactions``; + ``Message ID``):
  ``Chat Session,Message Date,…,Service,Type,Sender ID,Sender Name,Status,…,Text,…``. ``Type`` is
  Incoming/Outgoing (Notification rows are no messages); an outgoing row has no ``Sender ID``, so
  its other party is the chat's incoming sender (several senders make the chat a group).
* **QQ同步助手** — GBK, columns ``body, name, address, time, type`` with ``type`` 收件箱/发件箱/草稿箱.
  Its header text is unverified, so it is matched on content: a column of those box words, a
  column of date-times and a column of phone numbers; the body is the first other column.
* **--csv-map** ``date=COL,direction=COL,address=COL,body=COL[,date_format=FMT]`` for any other
  CSV; COL is a header name (case-insensitive) or a 1-based column number.

The encoding comes from a byte-order mark, else strict UTF-8, else charset-normalizer (GBK is
read as GB18030); the delimiter is a comma, tab or semicolon. Times without a zone are local
(``Record.local_time``, read in the archive's zone); times with an offset and epoch numbers are
UTC. Direction words are the data in :mod:`sms_audit.importers.direction_words`.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sms_audit.errors import CorruptArchive, TruncatedArchive, UnsupportedArchive, UsageError
from sms_audit.importers._textfile import (
    DETECT_BYTES,
    LineTooLong,
    TextEncoding,
    TextLines,
    decode_head,
    read_chunks,
    sniff_encoding,
)
from sms_audit.importers._walltime import WallTime, parse_walltime
from sms_audit.importers.base import (
    Exclude,
    ReadOptions,
    ReadStats,
    Skip,
    account,
    build_messages,
    parse_int,
    read_head,
)
from sms_audit.importers.direction_words import QQ_BOX_WORDS, direction_of, is_not_message
from sms_audit.model import Message, Record, make_message_id, sms_message_id
from sms_audit.normalize import address_identity, split_group_address
from sms_audit.schema import Direction, Service

NAME = "csv"
DESCRIPTION = "CSV export (iMazing, QQ同步助手, or any CSV with --csv-map)"

MAP_KEYS = ("date", "direction", "address", "body")
MAP_OPTIONAL = ("date_format",)
_DELIMITERS = (",", "\t", ";")
_SAMPLE_ROWS = 200
_MAX_COLUMNS = 64  # columns looked at when recognising an export by its content
_SNIFF_BYTES = 64 * 1024
_IMAZING_REQUIRED = ("chat session", "message date", "type", "text")
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-.]{2,24}(?:[;,~]\s*\+?[0-9][0-9 ()\-.]{2,24})*")
_SERVICES = {"sms": Service.SMS, "mms": Service.MMS, "imessage": Service.IMESSAGE, "rcs": Service.RCS}
csv.field_size_limit(16 * 1024 * 1024)  # one message is small; a bigger "field" is damage


_MAP_EXAMPLE = "e.g. --csv-map 'date=Time,direction=Type,address=Number,body=Content'"


def parse_csv_map(text: str) -> dict[str, str]:
    """``date=Time,direction=Type,address=Number,body=Content`` → a dict; raises UsageError.

    Keys: date, direction, address and body (required) and date_format (``strptime`` codes).
    A value is a column name as in the CSV's first row, or a 1-based column number; ``direction``
    may also be a direction word (``direction=in``) when every row goes one way.
    """
    found: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        if not eq or not value.strip():
            raise UsageError(f"--csv-map: {part.strip()!r} is not KEY=COLUMN", hint=_MAP_EXAMPLE)
        found[key.strip().lower()] = value.strip()
    return check_csv_map(found)


def check_csv_map(mapping: Mapping[str, str]) -> dict[str, str]:
    """The keys of a column map checked (UsageError for an unknown or missing key)."""
    found = {str(k).strip().lower(): str(v).strip() for k, v in mapping.items()}
    for key in found:
        if key not in MAP_KEYS + MAP_OPTIONAL:
            raise UsageError(
                f"--csv-map: unknown key {key!r}", hint="keys: " + ", ".join(MAP_KEYS + MAP_OPTIONAL)
            )
    missing = [k for k in MAP_KEYS if not found.get(k)]
    if missing:
        raise UsageError("--csv-map needs " + ", ".join(missing), hint=_MAP_EXAMPLE)
    return found


# --- detection ----------------------------------------------------------------------------------


def _printable(text: str) -> bool:
    """Text, not binary: no NUL, no undecodable bytes, and control characters rare. Message
    bodies may hold a few (an ESC of a colour code, a BEL): up to 8, or 1 % of the text, pass."""
    if "\x00" in text or "\ufffd" in text[:2000]:
        return False
    controls = sum(1 for c in text if c < " " and c not in "\t\r\n")
    return controls <= max(8, len(text) // 100)


def _dialect_rows(text: str, delimiter: str, limit: int = 20) -> list[list[str]]:
    try:
        rows = []
        # lines end at \n or \r only (str.splitlines would also break at \v, \f, U+2028 in a body)
        lines = itertools.islice(io.StringIO(text, newline=""), limit * 4)
        for row in csv.reader(lines, delimiter=delimiter):
            rows.append(row)
            if len(rows) >= limit:
                break
        return rows
    except csv.Error:
        return []


def _delimiter(text: str) -> str | None:
    """The delimiter whose rows have the most, and consistent, columns (None: not a table)."""
    best: tuple[int, str] | None = None
    for delimiter in _DELIMITERS:
        rows = _dialect_rows(text, delimiter)
        if not rows or len(rows[0]) < 3:
            continue
        width = len(rows[0])
        body = rows[1:-1] if len(rows) > 2 else rows[1:]  # the sample may cut the last row
        if body and sum(len(r) == width for r in body) < len(body) * 0.8:
            continue
        if best is None or width > best[0]:
            best = (width, delimiter)
    return best[1] if best else None


def _head_text(path: Path) -> tuple[str, TextEncoding] | None:
    head = read_head(path, DETECT_BYTES)
    if not head:
        return None
    encoding = sniff_encoding(head)
    return decode_head(head, encoding), encoding


def sniff(path: Path) -> bool:
    """Delimited text (comma, tab or semicolon) with at least three consistent columns."""
    if not path.is_file():
        return False
    found = _head_text(path)
    if found is None:
        return False
    text = found[0][:_SNIFF_BYTES]
    if text.lstrip()[:1] in ("<", "{", "[", "") or not _printable(text):
        return False
    return _delimiter(text) is not None


# --- layouts ------------------------------------------------------------------------------------


def _key(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).casefold()


@dataclass(slots=True)
class _Row:
    line: int
    cells: list[str]
    error: str | None = None  # the csv module could not read this row

    def get(self, index: int | None) -> str:
        return self.cells[index] if index is not None and index < len(self.cells) else ""


class _Layout:
    """How one CSV's columns become records (a preset or the user's map)."""

    name = ""
    has_header = True
    width = 0

    def prepare(self, rows: Iterable[_Row]) -> None:
        """A first pass over every row, for layouts that need one (iMazing's chats)."""

    def record(self, row: _Row, unknown: Counter[str]) -> Record | Skip | Exclude:
        raise NotImplementedError


def _build(
    *,
    row: _Row,
    address: str,
    direction: Direction,
    when: WallTime,
    body: str,
    service: Service = Service.SMS,
    members: Sequence[str] = (),
    has_attachments: bool = False,
) -> Record:
    """A record; the id is the provider SMS id when the time is exact UTC, else a CSV content id."""
    if not when.local and service is Service.SMS:
        message_id = sms_message_id(address, direction, when.us // 1000, body)
    else:
        message_id = make_message_id("csv", address_identity(address), direction.value, f"{when.us}L", body)
    parties = list(dict.fromkeys(members)) or split_group_address(address)
    is_group = len(parties) > 1
    return Record(
        message_id=message_id,
        source_record=f"line {row.line}",
        direction=direction,
        timestamp_us=when.us,
        address_raw=address,
        body=body,
        service=service,
        recipients=tuple(p for p in parties if p != address) if is_group else (),
        is_group=is_group,
        members=tuple(parties) if is_group else (),
        has_attachments=has_attachments,
        local_time=when.local,
    )


def _direction(word: str, unknown: Counter[str]) -> Direction:
    found = direction_of(word)
    if found is None:
        unknown[word.strip()] += 1
        return Direction.OTHER
    return found


class _Imazing(_Layout):
    name = "iMazing"

    def __init__(self, header: list[str]) -> None:
        self.width = len(header)
        index = {_key(h): i for i, h in enumerate(header)}
        self.chat = index["chat session"]
        self.date = index["message date"]
        self.type = index["type"]
        self.text = index["text"]
        self.sender = index.get("sender id")
        self.service = index.get("service")
        self.attachment = index.get("attachment")
        self.senders: dict[str, list[str]] = defaultdict(list)

    def prepare(self, rows: Iterable[_Row]) -> None:
        for row in rows:
            sender = row.get(self.sender).strip()
            if sender and direction_of(row.get(self.type)) is Direction.IN:
                chat = self.senders[row.get(self.chat)]
                if sender not in chat:
                    chat.append(sender)

    def record(self, row: _Row, unknown: Counter[str]) -> Record | Skip | Exclude:
        kind = row.get(self.type)
        if is_not_message(kind):
            return Exclude("iMazing notification row")
        when = parse_walltime(row.get(self.date))
        if when is None:
            return Skip("date not understood" if row.get(self.date).strip() else "no date")
        direction = _direction(kind, unknown)
        chat = row.get(self.chat)
        members = self.senders.get(chat, [])
        sender = row.get(self.sender).strip()
        if direction is Direction.IN and sender:
            address = sender
        elif len(members) == 1:
            address = members[0]
        elif members:
            address = "~".join(members)
        else:
            address = chat.strip()
        if not address:
            return Skip("no address (Sender ID / Chat Session)")
        service = _SERVICES.get(row.get(self.service).strip().casefold(), Service.UNKNOWN)
        if not row.get(self.service).strip():
            service = Service.SMS
        return _build(
            row=row,
            address=address,
            direction=direction,
            when=when,
            body=row.get(self.text),
            service=service,
            members=members if len(members) > 1 else (),
            has_attachments=bool(row.get(self.attachment).strip()),
        )


class _Columns(_Layout):
    """Four columns by index: QQ同步助手 (found by content) or the user's ``--csv-map``."""

    def __init__(
        self,
        name: str,
        *,
        date: int,
        direction: int | None,
        address: int,
        body: int,
        has_header: bool,
        width: int,
        date_format: str | None = None,
        fixed_direction: Direction | None = None,
    ) -> None:
        self.name = name
        self.date, self.direction, self.address, self.body = date, direction, address, body
        self.has_header = has_header
        self.width = width
        self.date_format = date_format
        self.fixed_direction = fixed_direction

    def record(self, row: _Row, unknown: Counter[str]) -> Record | Skip | Exclude:
        text = row.get(self.date)
        when = parse_walltime(text, self.date_format)
        if when is None:
            return Skip("date not understood" if text.strip() else "no date")
        word = row.get(self.direction)
        if self.fixed_direction is None and is_not_message(word):
            return Exclude("notification row")
        direction = self.fixed_direction or _direction(word, unknown)
        address = row.get(self.address).strip()
        if not address:
            return Skip("no address")
        return _build(row=row, address=address, direction=direction, when=when, body=row.get(self.body))


def _find_column(header: list[str] | None, value: str, width: int, path: Path) -> int:
    """A --csv-map column: a header name (case-insensitive) or a 1-based number."""
    if header is not None:
        names = [_key(h) for h in header]
        if _key(value) in names:
            return names.index(_key(value))
    number = parse_int(value.lstrip("#"))
    if number is not None and 1 <= number <= width:
        return number - 1
    shown = ", ".join(h.strip() for h in header) if header else f"{width} unnamed columns"
    raise UsageError(
        f"--csv-map: no column {value!r} in this CSV (columns: {shown})",
        path=str(path),
        hint="use a column name exactly as in the first row, or its number (1 = first column)",
    )


def _mapped(csv_map: dict[str, str], rows: list[list[str]], path: Path) -> _Columns:
    first = rows[0] if rows else []
    width = max((len(r) for r in rows), default=0)
    names = [csv_map[k] for k in MAP_KEYS]
    by_name = any(_key(v) in {_key(h) for h in first} for v in names)
    header = first if by_name else None
    date = _find_column(header, csv_map["date"], width, path)
    fixed = None
    direction: int | None
    try:
        direction = _find_column(header, csv_map["direction"], width, path)
    except UsageError:
        fixed = direction_of(csv_map["direction"])  # direction=in: every row is incoming
        if fixed is None:
            raise
        direction = None
    address = _find_column(header, csv_map["address"], width, path)
    body = _find_column(header, csv_map["body"], width, path)
    has_header = header is not None or (
        bool(first) and date < len(first) and parse_walltime(first[date], csv_map.get("date_format")) is None
    )
    return _Columns(
        "--csv-map",
        date=date,
        direction=direction,
        address=address,
        body=body,
        has_header=has_header,
        width=max(_common_width(rows), 1 + max(c for c in (date, direction, address, body) if c is not None)),
        date_format=csv_map.get("date_format"),
        fixed_direction=fixed,
    )


def _common_width(rows: list[list[str]]) -> int:
    """The number of fields most sample rows have (at most _MAX_COLUMNS): the layout's width.

    Not the widest row's: one damaged row of a million fields must neither make every other row
    "shorter than the header" nor make recognising the columns cost rows × a million."""
    counts = Counter(min(len(r), _MAX_COLUMNS) for r in rows if any(c.strip() for c in r))
    return counts.most_common(1)[0][0] if counts else 0


def _share(values: list[str], test: Callable[[str], object]) -> float:
    filled = [v for v in values if v.strip()]
    if not filled:
        return 0.0
    return sum(1 for v in filled if test(v)) / len(filled)


def _qq(rows: list[list[str]]) -> _Columns | None:
    """QQ同步助手: a column of 收件箱/发件箱/草稿箱, a date column and a phone-number column."""
    if not rows:
        return None
    width = _common_width(rows)
    data = rows[1:] if len(rows) > 1 else rows
    columns = [[r[j] if j < len(r) else "" for r in data] for j in range(width)]
    box = [j for j, col in enumerate(columns) if _share(col, lambda v: v.strip() in QQ_BOX_WORDS) >= 0.9]
    # a written date-time, not a bare number (a 10-digit port would read as an epoch)
    date = [
        j
        for j, col in enumerate(columns)
        if j not in box and _share(col, lambda v: not v.strip().isdigit() and parse_walltime(v)) >= 0.9
    ]
    phone = [
        j
        for j, col in enumerate(columns)
        if j not in box and j not in date and _share(col, lambda v: _PHONE.fullmatch(v.strip())) >= 0.8
    ]
    if not (box and date and phone):
        return None
    used = {box[0], date[0], phone[0]}
    rest = [j for j in range(width) if j not in used]
    if not rest:
        return None
    # The known order is body, name, address, time, type: the body comes first when it fits.
    body = 0 if 0 in rest else max(rest, key=lambda j: sum(len(v) for v in columns[j]))
    first = rows[0]
    has_header = len(first) <= box[0] or first[box[0]].strip() not in QQ_BOX_WORDS
    return _Columns(
        "QQ同步助手",
        date=date[0],
        direction=box[0],
        address=phone[0],
        body=body,
        has_header=has_header,
        width=width,
    )


_GUESS = {
    "date": ("date", "time", "时间", "日期", "timestamp", "sent"),
    "direction": ("direction", "type", "box", "folder", "类型", "方向", "状态"),
    "address": ("address", "number", "phone", "from", "sender", "contact", "号码", "电话", "联系人"),
    "body": ("body", "text", "message", "content", "内容", "短信", "正文"),
}


def map_example(header: list[str]) -> str:
    """A ``--csv-map`` value built from a CSV's columns, for the hint of an unrecognised CSV."""
    # a name that cannot be typed back inside '…' as one map value (quotes, separators, controls,
    # a whole line of some other format) is given by its column number instead
    names = [h.replace("\ufeff", "").strip() for h in header]
    names = [
        n if len(n) <= 40 and n.isprintable() and not any(c in n for c in "',=\"") else str(i + 1)
        for i, n in enumerate(names)
    ]
    chosen: dict[str, str] = {}
    for key in MAP_KEYS:
        for i, name in enumerate(names):
            if name in chosen.values() or not name:
                continue
            if any(word in name.casefold() for word in _GUESS[key]):
                chosen[key] = name
                break
    free = iter(n for n in names if n and n not in chosen.values())
    for key in MAP_KEYS:
        if key not in chosen:
            chosen[key] = next(free, str(MAP_KEYS.index(key) + 1))
    return ",".join(f"{k}={chosen[k]}" for k in MAP_KEYS)


def _layout(rows: list[list[str]], options: ReadOptions, path: Path) -> _Layout:
    if options.csv_map:
        return _mapped(dict(options.csv_map), rows, path)
    header = rows[0] if rows else []
    keys = {_key(h) for h in header}
    if all(k in keys for k in _IMAZING_REQUIRED):
        return _Imazing(header)
    found = _qq(rows)
    if found is not None:
        return found
    shown = ", ".join(h.replace("\ufeff", "").strip() or "(empty)" for h in header)
    example = map_example(header)
    raise UnsupportedArchive(
        f"a CSV whose columns match no known export (columns: {shown})",
        path=str(path),
        hint=f"say which column is which: sms-audit import {path.name} --csv-map '{example}'",
    )


# --- reading ------------------------------------------------------------------------------------


class _RawLines:
    """The lines the csv reader consumed for its current row (to check the last row)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.current: list[str] = []
        self.line = 0

    def __iter__(self) -> _RawLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.current.append(line)
        self.line += 1
        return line


def _rows(path: Path, encoding: TextEncoding, delimiter: str) -> Generator[tuple[_Row, list[str]]]:
    """(row, the raw lines it spans) for every row. A row the csv module cannot read (a bare CR
    in an unquoted field) comes with its ``error`` set, and reading goes on with the next line."""
    reader = TextLines(read_chunks(path), encoding)
    raw = _RawLines(reader)
    table = csv.reader(raw, delimiter=delimiter)
    while True:
        start = raw.line + 1
        try:
            row = _Row(start, next(table))
        except StopIteration:
            return
        except csv.Error as exc:
            row = _Row(start, [], str(exc).split(" - ")[0])
        except LineTooLong as exc:
            raise CorruptArchive(
                f"{exc}; the rows before it were read",
                path=str(path),
                hint="the file is damaged; the rows before this line were read",
            ) from None
        lines, raw.current = raw.current, []
        yield row, lines


def _readable_rows(path: Path, encoding: TextEncoding, delimiter: str) -> Generator[tuple[_Row, list[str]]]:
    """:func:`_rows` up to any damage, for the passes that only look (the reading pass reports it
    after yielding every row before it)."""
    try:
        yield from _rows(path, encoding, delimiter)
    except CorruptArchive:
        return


def _ends_inside_quotes(lines: list[str], delimiter: str) -> bool:
    try:
        list(csv.reader(lines, delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return "end of data" in str(exc)
    return False


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region``."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Records of one CSV export, in file order (``options.csv_map`` picks the columns).

    Raises UnsupportedArchive (with a ``--csv-map`` example) for a CSV that matches no preset,
    UsageError for a ``--csv-map`` column that is not there, TruncatedArchive after yielding every
    complete row when the last row is cut, CorruptArchive when no row has a readable date.
    """
    found = _head_text(path)
    if found is None:
        raise UnsupportedArchive("empty file", path=str(path))
    text, encoding = found
    delimiter = _delimiter(text[:_SNIFF_BYTES]) or ","
    sample: list[list[str]] = []
    with closing(_readable_rows(path, encoding, delimiter)) as first_rows:
        for row, _lines in first_rows:
            if row.error is not None:
                continue
            sample.append(row.cells)
            if len(sample) > _SAMPLE_ROWS:
                break
    layout = _layout(sample, options, path)
    stats.details["encoding"] = encoding.describe()
    stats.details["csv_layout"] = layout.name
    layout.prepare(row for row, _ in _readable_rows(path, encoding, delimiter))
    unknown: Counter[str] = Counter()
    size = path.stat().st_size
    pending: tuple[_Row, list[str]] | None = None
    rows = _rows(path, encoding, delimiter)
    if layout.has_header:
        next(rows, None)
    width = layout.width
    try:
        for current in rows:
            if pending is not None:
                yield from _emit(pending[0], layout, width, stats, unknown)
                if options.on_progress is not None and stats.read % 500 == 0:
                    options.on_progress(pending[0].line, None)
            pending = current
    except CorruptArchive:
        if pending is not None:  # the row before the damage is whole
            yield from _emit(pending[0], layout, width, stats, unknown)
        raise
    if pending is not None:
        row, lines = pending
        if (width and 0 < len(row.cells) < width) or _ends_inside_quotes(lines, delimiter):
            raise TruncatedArchive(
                f"read {stats.read} records; the last row (line {row.line}) is cut short",
                path=str(path),
                records_read=stats.read,
                line=row.line,
                hint="the export ends early (interrupted copy?); every complete row before it was read",
            )
        yield from _emit(row, layout, width, stats, unknown)
    if options.on_progress is not None:
        options.on_progress(size, size)
    for word, count in unknown.most_common(5):
        stats.warnings.append(
            f"direction {word!r} ({count} row{'s' if count != 1 else ''}) is not a known word: "
            "read as 'other', never as an unsubscribe"
        )
    if stats.read == 0 and stats.skip_reasons.get("date not understood"):
        raise CorruptArchive(
            "no row has a date sms-audit understands",
            path=str(path),
            hint="give its format: --csv-map '…,date_format=%d/%m/%Y %H:%M' (strptime codes)",
        )


def _emit(
    row: _Row, layout: _Layout, width: int, stats: ReadStats, unknown: Counter[str]
) -> Iterator[Record]:
    if row.error is not None:
        stats.skip(f"unreadable CSV row ({row.error})")
        return
    if not any(c.strip() for c in row.cells):
        return  # a blank line
    if width and len(row.cells) < width:
        stats.skip("row with fewer columns than the header")
        return
    record = account(layout.record(row, unknown), stats)
    if record is not None:
        stats.read += 1
        yield record
