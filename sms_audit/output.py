"""Writers for the output contract: table (rich), json, jsonl, csv, md; and terminal-safe text.

Writers take plain records (dicts) and a column list, so they are testable without pandas. Message
text is hostile input: tables never interpret rich markup and show control characters escaped; CSV
cells that a spreadsheet would run as a formula are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, assert_never

if TYPE_CHECKING:
    import pandas as pd


class OutputFormat(StrEnum):
    """Every format a report can be written in (``--format`` of ``report``)."""

    AUTO = "auto"
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    MD = "md"
    HTML = "html"


class RecordFormat(StrEnum):
    """The formats of record listings (``messages``, ``imports``, ``classify``): no Markdown or HTML."""

    AUTO = "auto"
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"


def stdout_is_tty() -> bool:
    """Whether stdout is a terminal (decided with isatty, not rich: FORCE_COLOR must not matter)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


_F = TypeVar("_F", OutputFormat, RecordFormat)


#: ``-o FILE`` suffixes that say the format when it is ``auto``.
SUFFIX_FORMATS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    # formats no command writes: named so that `-o x.xlsx` is refused, not filled with JSON Lines
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xls": "xlsx",
    ".ods": "ods",
    ".pdf": "pdf",
    ".xml": "xml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".gz": "gzip",
    ".bz2": "bzip2",
    ".xz": "xz",
    ".zst": "zstd",
    ".zip": "zip",
    ".tar": "tar",
    ".7z": "7z",
}


FORMAT_NAMES = {
    "md": "Markdown",
    "html": "HTML",
    "csv": "CSV",
    "json": "JSON",
    "jsonl": "JSON Lines",
    "tsv": "TSV",
    "xlsx": "Excel",
    "ods": "OpenDocument spreadsheet",
    "pdf": "PDF",
    "xml": "XML",
    "yaml": "YAML",
    "gzip": "gzip-compressed files",
    "bzip2": "bzip2-compressed files",
    "xz": "xz-compressed files",
    "zstd": "zstd-compressed files",
    "zip": "ZIP archives",
    "tar": "tar archives",
    "7z": "7z archives",
}


def resolve_format(fmt: _F, *, to_stdout: bool, output: str | None = None) -> _F:
    """``auto`` is a table on a terminal, the format ``-o FILE``'s suffix names (``report.html``,
    ``findings.csv``), and JSON Lines everywhere else (pipes, cron, a suffix that names no format).

    Raises UsageError when the suffix names a format ``fmt``'s command does not write
    (``messages -o list.md``): writing JSON Lines into a file called ``.md`` would surprise.
    """
    if fmt.value != "auto":
        return fmt
    if output and not to_stdout:
        named = SUFFIX_FORMATS.get(Path(output).suffix.lower())
        offered = [f.value for f in type(fmt) if f.value != "auto"]
        if named in offered:
            return type(fmt)(named)
        if named is not None:
            from sms_audit.errors import UsageError

            raise UsageError(
                f"this command does not write {FORMAT_NAMES.get(named, named)}, which the file name's suffix "
                "asks for",
                path=output,
                hint=f"choose a format with --format ({', '.join(offered)}) or another file name",
            )
    return type(fmt)("table" if to_stdout and stdout_is_tty() else "jsonl")


# --- values -------------------------------------------------------------------------------------


def format_time(value: datetime) -> str:
    """ISO-8601 UTC with millisecond precision and a ``Z``: ``2024-05-01T08:30:00.000Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def time_texts(times: pd.Series) -> list[str | None]:
    """:func:`format_time` of every time of a datetime column (naive: UTC), computed column-wise;
    NaT → None."""
    import numpy as np
    import pandas as pd

    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    array = times.to_numpy(dtype="datetime64[ms]")
    text = np.datetime_as_string(array, unit="ms").tolist()
    return [None if m else t + "Z" for t, m in zip(text, np.isnat(array).tolist(), strict=True)]


def us_time_text(us: int | None) -> str | None:
    """:func:`format_time` of Unix microseconds (a stored time), without building an aware datetime;
    None, or a time beyond year 9999, → None."""
    if us is None:
        return None
    try:
        moment = _NAIVE_EPOCH + timedelta(microseconds=int(us) // 1000 * 1000)
    except (OverflowError, ValueError, TypeError):
        return None
    return moment.isoformat(timespec="milliseconds") + "Z"


_NAIVE_EPOCH = datetime(1970, 1, 1)

# Findings repeat their unsubscribe's time and deadline: 115,669 findings of a 1,000,000-message
# bench store format ~350,000 times but only ~120,000 distinct ones (equal times give equal text).
_time_text = functools.lru_cache(maxsize=16_384)(format_time)


def _is_nat(value: datetime) -> bool:
    return type(value).__name__ == "NaTType"


def to_jsonable(value: Any) -> Any:
    """Plain JSON values: times as ISO-8601 UTC, tuples as lists, NaN/NaT/NA as null."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, datetime):  # pandas.Timestamp is a datetime
        return None if _is_nat(value) else _time_text(value)
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return to_jsonable(value.item())
    if value.__class__.__name__ in ("NAType", "NaTType"):
        return None
    return str(value)


def _orjson_default(value: Any) -> Any:
    """orjson's hook for what it does not write itself, with :func:`to_jsonable`'s meaning."""
    if isinstance(value, datetime):
        return None if _is_nat(value) else _time_text(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    if value.__class__.__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "item"):  # numpy scalars orjson does not take
        return value.item()
    return str(value)


def dumps_json(value: Any, *, indent: bool = False) -> str:
    """JSON text of ``value`` (UTF-8 text unescaped; times as :func:`format_time`; NaN, NaT and NA
    as null): orjson, or the standard encoder for what orjson refuses (a lone surrogate, an integer
    beyond 64 bits)."""
    return _dumps_bytes(value, indent=indent).decode("utf-8")


def _dumps_bytes(value: Any, *, indent: bool = False) -> bytes:
    """:func:`dumps_json` as UTF-8 bytes (what orjson makes: no decoding for a byte stream)."""
    import orjson

    options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    if indent:
        options |= orjson.OPT_INDENT_2
    try:
        return orjson.dumps(value, default=_orjson_default, option=options)
    except (orjson.JSONEncodeError, TypeError):
        text = json.dumps(to_jsonable(value), ensure_ascii=False, indent=2 if indent else None)
        # a lone surrogate cannot be written as UTF-8: as a JSON escape it can (and means the same)
        return text.encode("utf-8", "backslashreplace")


def _cell_text(value: Any) -> str:
    plain = to_jsonable(value)
    if plain is None:
        return ""
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if isinstance(plain, list):
        return ";".join(_cell_text(v) for v in plain)
    if isinstance(plain, dict):
        return json.dumps(plain, ensure_ascii=False, sort_keys=True)
    return str(plain)


# Control characters (C0 except \n and \t, DEL, C1), bidi overrides/isolates and other invisible
# format characters that can reorder or hide text on a terminal; lone surrogates (a file name's
# undecodable bytes, held by Python as U+DC80–U+DCFF) cannot be written at all.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def visible(text: str, *, keep_newlines: bool = True) -> str:
    """Make control and invisible format characters visible (``\\x1b``, ``\\u202e``); a byte a
    file name could not decode shows as itself (``\\xff``)."""

    def escape(match: re.Match[str]) -> str:
        cp = ord(match.group(0))
        if 0xDC80 <= cp <= 0xDCFF:  # surrogateescape: the undecodable byte
            return f"\\x{cp - 0xDC00:02x}"
        return f"\\x{cp:02x}" if cp <= 0xFF else f"\\u{cp:04x}"

    text = _UNSAFE.sub(escape, text)
    return text if keep_newlines else text.replace("\n", "\\n").replace("\t", "\\t")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Numbers and lists of numbers ("+8613600003333;+8613500004444", a group's thread key joined with
# "~") cannot call functions: keep them.
_SIGNED_NUMBER = re.compile(r"[+-][0-9][0-9 .]*(?:[;~][+-]?[0-9][0-9 .]*)*")


def csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas (OWASP CSV injection) but keep ``+8613800138000`` intact."""
    if text.startswith(_FORMULA_START) and not _SIGNED_NUMBER.fullmatch(text):
        return "'" + text
    return text


# --- writers ------------------------------------------------------------------------------------


def write_jsonl(
    records: Iterable[Mapping[str, Any]], columns: Sequence[str], stream: TextIO, *, exact_keys: bool = False
) -> int:
    """One JSON object per line, keys in ``columns`` order (with ``exact_keys``: each record's own
    keys, in its order). Returns the number of records.

    On a terminal, C1 controls, DEL and bidi/invisible format characters are written as ``\\uXXXX``
    escapes (the JSON stays valid and means the same); to a pipe or file the text is unchanged.
    """
    safe = _json_escaper(stream)
    count = 0
    for record in records:
        row = record if exact_keys else {c: record.get(c) for c in columns}
        stream.write(safe(dumps_json(row)))
        stream.write("\n")
        count += 1
    return count


_JSON_CHUNK = 1_000  # items of a streamed list encoded in one call


def write_json(document: Mapping[str, Any], stream: TextIO) -> None:
    """One JSON document (e.g. ``{"schema_version": 1, "messages": [...]}``), indented (terminal-safe
    like :func:`write_jsonl`).

    A top-level value that is an iterator (not a list) is streamed: its items are encoded and written
    one at a time, so a report with 100,000 findings never holds them all as dicts and text at once.
    The bytes are those of encoding the whole document in one go (2-space indent; JSON strings hold
    no raw line break, so re-indenting an item line by line is exact).
    """
    escape = _json_escaper(stream)
    raw = _utf8_buffer(stream)
    if not document:
        stream.write("{}\n")
        return
    stream.write("{")
    for n, (key, value) in enumerate(document.items()):
        stream.write(("," if n else "") + "\n  " + dumps_json(str(key)) + ": ")
        if not isinstance(value, Iterator):
            stream.write(escape(dumps_json(value, indent=True).replace("\n", "\n  ")))
            continue
        empty = True
        while chunk := list(itertools.islice(value, _JSON_CHUNK)):
            # a chunk encoded as one list: "[\n  {...},\n  {...}\n]" without its brackets, each line
            # two spaces deeper, is exactly those items as members of the document's list
            data = (b"[\n  " if empty else b",\n  ") + _dumps_bytes(chunk, indent=True)[2:-2].replace(
                b"\n", b"\n  "
            )
            if raw is not None:  # UTF-8 straight to the file: no decoding and encoding again
                stream.flush()
                raw.write(data)
            else:
                stream.write(escape(data.decode("utf-8")))
            empty = False
        stream.write("[]" if empty else "\n  ]")
    stream.write("\n}\n")


def _utf8_buffer(stream: TextIO) -> Any:
    """The byte stream under ``stream`` when text can go to it as UTF-8 unchanged: a UTF-8 text file
    or pipe (not a terminal, whose text is made safe first); else None."""
    buffer = getattr(stream, "buffer", None)
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    if buffer is None or encoding != "utf8" or (stream is sys.stdout and stdout_is_tty()):
        return None
    return buffer


def _json_escaper(stream: TextIO) -> Any:
    if not (stream is sys.stdout and stdout_is_tty()):
        return lambda text: text
    return lambda text: _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def write_csv(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    stream: TextIO,
    *,
    escape_controls: bool | None = None,
) -> int:
    """Header plus rows (RFC 4180 quoting); lists joined with ``;``; formula-looking cells prefixed
    with ``'``. Lines end in LF; a field holding a comma, quote, CR or LF is quoted (Python's csv
    module would leave a bare CR unquoted with an LF line terminator, breaking the row).

    ``escape_controls``: write control and invisible format characters as visible escapes
    (:func:`visible`); by default when ``stream`` is standard output on a terminal, where an escape
    sequence in a message would act instead of showing."""
    if escape_controls is None:
        escape_controls = stream is sys.stdout and stdout_is_tty()
    writer = csv.writer(stream, lineterminator="\n")
    quoted = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    count = 0
    rows: list[list[str]] = []
    for record in records:
        cells = [csv_safe(v if type(v) is str else _cell_text(v)) for v in map(record.get, columns)]
        if escape_controls:
            cells = [visible(c) for c in cells]
        if "\r" in "".join(cells):
            writer.writerows(rows)
            rows.clear()
            quoted.writerow(cells)
        else:
            rows.append(cells)
            if len(rows) == 1_000:  # written a thousand at a time: one call, not one per row
                writer.writerows(rows)
                rows.clear()
        count += 1
    writer.writerows(rows)
    return count


@dataclass(frozen=True, slots=True)
class Col:
    """A table column: its header, how much it matters when the terminal is narrow, and how it fits.

    When a table is wider than the terminal, columns with a ``compact`` form switch to it first
    (the record's ``compact`` key, or a function of the cell's text: a date instead of a date and
    time; :data:`MINUTES` drops the seconds), then the columns with the
    lowest ``priority`` are left out (100: never). Numbers, times, codes and keywords never wrap;
    only ``free_text`` (a message body, a reason, a list of numbers) is cut, on one line, with an
    ellipsis, or for a list with "+N more". ``styles`` maps a cell's text to a colour style (shown
    on a colour terminal only).
    """

    name: str
    header: str = ""
    priority: int = 50
    free_text: bool = False
    min_width: int = 12
    max_width: int | None = None
    width: int | None = None  # a fixed width (a sparkline)
    compact: str | Callable[[str], str] | None = None
    styles: Mapping[str, str] = field(default_factory=dict)
    #: Where free text is cut: "end" (a message) or "start" (a path: the file name stays).
    cut: str = "end"
    #: What a list holds, for "4 numbers" when not even its first item fits with the count.
    noun: str = "items"


_FREE_TEXT = frozenset(
    {"body", "reason", "why", "trap_reason", "path", "explanation", "details", "numbers", "text"}
)
_GAP = 2  # cells between two columns


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``"1 message"``, ``"2 messages"``: a count with its noun in the right number."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def GROUP_ADDRESS(text: str) -> str:  # used like a constant: Col(..., compact=GROUP_ADDRESS)
    """A group conversation's participants ("a~b~c", as the store keys them) as the first one and
    a count ("a +2"): the column then fits without cutting a number."""
    first, sep, rest = text.partition("~")
    return f"{first} +{rest.count('~') + 1}" if sep else text


_SHORT_LABELS = {
    "unsubscribe-confirmation": "confirmation",
    "unsubscribe-reply": "unsub reply",
    "verification": "code",
}


def SHORT_LABEL(text: str) -> str:  # used like a constant: Col(..., compact=SHORT_LABEL)
    """A label in at most 12 cells ("unsubscribe-confirmation" → "confirmation")."""
    return _SHORT_LABELS.get(text, text)


def MINUTES(text: str) -> str:  # used like a constant: Col(..., compact=MINUTES)
    """A table time without its seconds ("2025-06-02 11:24:00" → "2025-06-02 11:24")."""
    return text[:16] if len(text) == 19 and text[16] == ":" else text


def table_width(stream: TextIO) -> int | None:
    """Cells a table on ``stream`` may take: the terminal's width on a terminal, else ``COLUMNS``
    when it is set (as for rich and most CLIs), else None (the table's natural width)."""
    import os
    import shutil

    if hasattr(stream, "isatty") and stream.isatty():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    # ASCII digits only: str.isdigit accepts "²", which int() refuses
    return int(columns) if columns.isascii() and columns.isdigit() and int(columns) > 0 else None


def write_table(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[str | Col],
    stream: TextIO,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    max_widths: Mapping[str, int] | None = None,
    fixed_widths: Mapping[str, int] | None = None,
    timezone: str = "UTC",
    width: int | None = None,
    wide: bool = False,
    shown: list[str] | None = None,
) -> int:
    """A table for people, fitted to ``width`` cells (default: :func:`table_width`).

    Cells are ``Text`` objects: markup is never interpreted, controls are made visible, times are
    shown in ``timezone`` (IANA). When the table is too wide, compact forms are used, then the
    least important columns are left out (``wide``: neither) and free text is cut; CJK characters
    count two cells. Header and rows are never wrapped. The names of the columns kept are
    appended to ``shown``. Returns the number of rows.
    """
    from rich import box
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    specs = [_spec(c, i, len(columns), headers, max_widths, fixed_widths) for i, c in enumerate(columns)]
    keys = {s.name for s in specs} | {s.compact for s in specs if isinstance(s.compact, str)}
    rows = [_row(r, keys, timezone) for r in records]
    available = None if wide else (width if width is not None else table_width(stream))
    if available is not None:
        specs = _shrink(specs, rows, available)
    if shown is not None:
        shown.extend(s.name for s in specs)
    natural = {s.name: _natural(s, rows) for s in specs}
    widths = _fit(specs, natural, available)
    table = Table(
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        expand=False,
    )
    for spec in specs:
        table.add_column(spec.header, no_wrap=True, overflow="ellipsis", width=widths[spec.name])
    for row in rows:
        cells = []
        for spec in specs:
            value = row[spec.name]
            text = _list_fit(value, widths[spec.name], spec.noun) if isinstance(value, list) else value
            cell = Text(text, style=spec.styles.get(text, ""))
            if cell_len(text) > widths[spec.name]:
                if spec.cut == "start":
                    cell = Text("…" + _tail(text, widths[spec.name] - 1), style=cell.style)
                else:
                    cell.truncate(widths[spec.name], overflow="ellipsis")
            cells.append(cell)
        table.add_row(*cells)
    on_terminal = hasattr(stream, "isatty") and stream.isatty()
    total = sum(widths.values()) + _GAP * max(len(specs) - 1, 0)
    # rich would otherwise assume 80 columns off a terminal and fold the table
    console = Console(
        file=stream if on_terminal else io.StringIO(),
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        width=max(total, cell_len(title or "")) + 1,
    )
    if title:  # its own line: a rich title longer than the table would fold
        console.print(Text(visible(title, keep_newlines=False), style="bold"))
    console.print(table)
    if not on_terminal:  # files and pipes get no padding at the ends of lines
        text = console.file.getvalue()  # type: ignore[attr-defined]
        stream.write("".join(line.rstrip() + "\n" for line in text.splitlines()))
    return len(rows)


def _row(record: Mapping[str, Any], keys: set[str], timezone: str) -> dict[str, Any]:
    """A record's cells as one-line text; a list stays a list of texts (fitted later)."""
    out: dict[str, Any] = {}
    for key in keys:
        value = record.get(key)
        if isinstance(value, (list, tuple)):
            out[key] = [visible(_table_text(v, timezone), keep_newlines=False) for v in value]
        else:
            out[key] = visible(_table_text(value, timezone), keep_newlines=False)
    return out


def _head(text: str, cells: int) -> str:
    """The start of ``text`` that fits in ``cells`` terminal cells."""
    from rich.cells import cell_len

    out = ""
    for char in text:
        if cell_len(out + char) > cells:
            break
        out += char
    return out


def _tail(text: str, cells: int) -> str:
    """The end of ``text`` that fits in ``cells`` terminal cells."""
    from rich.cells import cell_len

    out = ""
    for char in reversed(text):
        if cell_len(char + out) > cells:
            break
        out = char + out
    return out


_SEPARATOR = ", "


def _list_widths(items: Sequence[str], limit: int) -> list[int]:
    """Cells taken by the first k items joined, for k = 1, 2, … until ``limit`` is passed (linear:
    a brand's list can hold thousands of numbers)."""
    from rich.cells import cell_len

    widths: list[int] = []
    total = -len(_SEPARATOR)
    for item in items:
        total += len(_SEPARATOR) + cell_len(item)
        widths.append(total)
        if total > limit:
            break
    return widths


def _list_fit(items: Sequence[str], width: int, noun: str = "items") -> str:
    """As many items as fit in ``width`` cells, then "+N more"; an item is never cut (a number cut
    short is a wrong number): when not even the first fits with the count, the count alone
    ("4 numbers")."""
    from rich.cells import cell_len

    if not items:
        return ""
    widths = _list_widths(items, width)
    if len(widths) == len(items) and widths[-1] <= width:
        return _SEPARATOR.join(items)
    for shown in range(min(len(widths), len(items) - 1), 0, -1):
        suffix = f" +{len(items) - shown} more"
        if widths[shown - 1] + len(suffix) <= width:
            return _SEPARATOR.join(items[:shown]) + suffix
    more = f" +{len(items) - 1}"
    for text in (f"{items[0]}{more} more", f"{items[0]}{more}"):
        if cell_len(text) <= width:
            return text
    if len(items) == 1:
        return items[0] if cell_len(items[0]) <= width else f"1 {noun.removesuffix('s')}"
    return f"{len(items)} {noun}"


def _cell_width(value: Any, limit: int) -> int:
    """Cells ``value`` takes (counted up to just past ``limit``)."""
    from rich.cells import cell_len

    if isinstance(value, list):
        widths = _list_widths(value, limit)
        return widths[-1] if widths else 0
    return cell_len(value)


def _natural(spec: Col, rows: Sequence[Mapping[str, Any]]) -> int:
    from rich.cells import cell_len

    if spec.width:
        return spec.width
    limit = spec.max_width or 10**6
    widest = max([cell_len(spec.header), *(_cell_width(r[spec.name], limit) for r in rows)])
    return min(widest, spec.max_width) if spec.max_width else widest


def _shrink(specs: list[Col], rows: list[dict[str, Any]], available: int) -> list[Col]:
    """Compact forms first (least important column first), then leave columns out, until the
    table fits ``available`` cells or only columns of priority 100 are left."""
    from dataclasses import replace

    specs = list(specs)
    for spec in sorted((s for s in specs if s.compact), key=lambda s: s.priority):
        if _needed(specs, rows) <= available:
            return specs
        compact = spec.compact
        for row in rows:
            row[spec.name] = compact(row[spec.name]) if callable(compact) else row[compact or spec.name]
        specs[specs.index(spec)] = replace(spec, compact=None)
    while _needed(specs, rows) > available:
        droppable = [s for s in specs if s.priority < 100]
        if not droppable:
            break
        specs.remove(min(reversed(droppable), key=lambda s: s.priority))
    return specs


def _spec(
    column: str | Col,
    index: int,
    count: int,
    headers: Mapping[str, str] | None,
    max_widths: Mapping[str, int] | None,
    fixed_widths: Mapping[str, int] | None,
) -> Col:
    if isinstance(column, Col):
        spec = column
    else:  # a plain name: earlier columns matter more; free text is the body-like ones
        spec = Col(column, priority=90 - (80 * index) // max(count, 1), free_text=column in _FREE_TEXT)
    from dataclasses import replace

    return replace(
        spec,
        header=spec.header or (headers or {}).get(spec.name, spec.name),
        max_width=spec.max_width or (max_widths or {}).get(spec.name),
        width=spec.width or (fixed_widths or {}).get(spec.name),
    )


def _needed(specs: Sequence[Col], rows: Sequence[Mapping[str, Any]]) -> int:
    """Cells the table needs with every free-text column at its minimum."""
    total = _GAP * max(len(specs) - 1, 0)
    for s in specs:
        natural = _natural(s, rows)
        total += min(natural, s.min_width) if s.free_text and not s.width else natural
    return total


def _fit(specs: Sequence[Col], natural: Mapping[str, int], available: int | None) -> dict[str, int]:
    """Column widths: fixed columns at their natural width, free text sharing what is left."""
    widths = dict(natural)
    free = [s for s in specs if s.free_text and not s.width]
    if available is None or not free:
        return {s.name: widths[s.name] for s in specs}
    room = available - _GAP * max(len(specs) - 1, 0) - sum(natural[s.name] for s in specs if s not in free)
    # every free-text column gets its minimum; what is left goes to the narrow ones first (they
    # are shown whole), then is shared evenly among the wide ones
    for spec in free:
        widths[spec.name] = min(spec.min_width, natural[spec.name])
    extra = max(room - sum(widths[s.name] for s in free), 0)
    pending = sorted(free, key=lambda s: natural[s.name] - widths[s.name])
    while pending:
        spec = pending.pop(0)
        grow = min(natural[spec.name] - widths[spec.name], extra // (len(pending) + 1))
        widths[spec.name] += grow
        extra -= grow
    return {s.name: widths[s.name] for s in specs}


def _table_text(value: Any, timezone: str = "UTC") -> str:
    if isinstance(value, datetime):
        if _is_nat(value):
            return ""
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_table_text(v, timezone) for v in value)
    return _cell_text(value)


@dataclass(frozen=True, slots=True)
class RecordView:
    """How a listing looks: the JSON document key, and the table's columns, headers and widths."""

    json_key: str = "records"
    json_meta: Mapping[str, Any] = field(default_factory=dict)
    title: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    table_columns: Sequence[str] | None = None
    max_widths: Mapping[str, int] = field(default_factory=dict)
    #: JSON/JSONL: write each record's own keys (absent fields stay absent) instead of ``columns``.
    exact_keys: bool = False
    #: The IANA zone a table shows times in (machine formats are always UTC).
    timezone: str = "UTC"
    #: Table columns as :class:`Col` specs (priority, free text); plain names get defaults.
    table_specs: Sequence[Col] = ()
    wide: bool = False


DEFAULT_VIEW = RecordView()


def write_records(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: RecordFormat,
    stream: TextIO,
    view: RecordView = DEFAULT_VIEW,
) -> int:
    """Write records in a resolved record format (not ``auto``); returns the number written."""
    match fmt:
        case RecordFormat.JSONL:
            return write_jsonl(records, columns, stream, exact_keys=view.exact_keys)
        case RecordFormat.CSV:
            return write_csv(
                records, columns, stream, escape_controls=stream is sys.stdout and stdout_is_tty()
            )
        case RecordFormat.JSON:
            rows = [dict(r) if view.exact_keys else {c: r.get(c) for c in columns} for r in records]
            write_json({"schema_version": 1, **view.json_meta, view.json_key: rows}, stream)
            return len(rows)
        case RecordFormat.TABLE:
            return write_table(
                records,
                view.table_specs or view.table_columns or columns,
                stream,
                title=view.title,
                headers=view.headers,
                max_widths=view.max_widths,
                timezone=view.timezone,
                wide=view.wide,
            )
        case RecordFormat.AUTO:
            raise ValueError("resolve --format auto before writing")
        case _:
            assert_never(fmt)


# --- frames, streamed ---------------------------------------------------------------------------


def write_frames(
    frames: Iterable[Any],
    columns: Sequence[str],
    fmt: RecordFormat,
    stream: TextIO,
    view: RecordView = DEFAULT_VIEW,
) -> int:
    """Write message frames (batches of rows, e.g. from ``Store.batches``) as they come: JSON
    Lines and CSV are written batch by batch with column operations (the first rows appear at once
    and memory does not grow with the archive); a table or a JSON document is written at the end.
    Values follow the output contract (UTC times with milliseconds, lists, booleans, null)."""
    match fmt:
        case RecordFormat.JSONL:
            return _jsonl_frames(frames, columns, stream)
        case RecordFormat.CSV:
            return _csv_frames(
                frames, columns, stream, escape_controls=stream is sys.stdout and stdout_is_tty()
            )
        case RecordFormat.JSON | RecordFormat.TABLE:
            records = (record for frame in frames for record in _frame_records(frame, columns))
            return write_records(records, columns, fmt, stream, view)
        case RecordFormat.AUTO:
            raise ValueError("resolve --format auto before writing")
        case _:
            assert_never(fmt)


def _frame_records(frame: Any, columns: Sequence[str]) -> Iterator[dict[str, Any]]:
    present = [c for c in columns if c in frame.columns]
    for row in frame[present].itertuples(index=False, name=None):
        yield dict(zip(present, row, strict=True))


def _json_columns(frame: Any, columns: Sequence[str]) -> list[list[Any]]:
    """Each column as a list of JSON-ready values, converted column by column."""
    import pandas as pd

    out: list[list[Any]] = []
    for name in columns:
        series = frame[name]
        dtype = series.dtype
        if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
            out.append(time_texts(series))
        elif dtype == bool:
            out.append(series.tolist())
        elif dtype == object:
            out.append([list(v) if isinstance(v, tuple) else v for v in series.tolist()])
        else:
            out.append(series.astype(object).where(series.notna(), None).tolist())
    return out


def _jsonl_frames(frames: Iterable[Any], columns: Sequence[str], stream: TextIO) -> int:
    import orjson

    safe = _json_escaper(stream)
    count = 0
    for frame in frames:
        values = _json_columns(frame, columns)
        lines = []
        for row in zip(*values, strict=True):
            record = dict(zip(columns, row, strict=True))
            try:
                lines.append(orjson.dumps(record).decode())
            except (orjson.JSONEncodeError, TypeError):  # text orjson refuses: the standard encoder
                lines.append(json.dumps(to_jsonable(record), ensure_ascii=False))
        if lines:
            stream.write(safe("\n".join(lines)) + "\n")
            stream.flush()
        count += len(lines)
    return count


_FORMULA_PATTERN = "^[=+\\-@\\t\\r\uff1d\uff0b\uff0d\uff20]"


def _csv_frames(
    frames: Iterable[Any], columns: Sequence[str], stream: TextIO, *, escape_controls: bool
) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    writer = csv.writer(stream, lineterminator="\n")
    quoted = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    count = 0
    for frame in frames:
        cells: list[list[str]] = []
        has_cr = np.zeros(len(frame), dtype=bool)
        for name, values in zip(columns, _json_columns(frame, columns), strict=True):
            if values and isinstance(next((v for v in values if v is not None), ""), str):
                texts = ["" if v is None else v for v in values]
                arr = pa.array(texts, pa.large_string())
                risky = pc.match_substring_regex(arr, _FORMULA_PATTERN).to_numpy(zero_copy_only=False)
                for i in np.flatnonzero(risky):
                    texts[i] = csv_safe(texts[i])
                has_cr |= pc.match_substring(arr, "\r").to_numpy(zero_copy_only=False)
                cells.append(texts)
            else:  # lists, flags, times: a list of texts can start with "=" too
                cells.append([csv_safe(_cell_text(v)) for v in values])
        rows = list(zip(*cells, strict=True))
        if escape_controls:
            rows = [tuple(visible(c) for c in row) for row in rows]
        if has_cr.any():
            for row, cr in zip(rows, has_cr.tolist(), strict=True):
                (quoted if cr else writer).writerow(row)
        else:
            writer.writerows(rows)
        stream.flush()
        count += len(rows)
    return count
