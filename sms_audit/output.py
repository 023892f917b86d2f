"""Writers for the output contract: table (rich), json, jsonl, csv, md; and terminal-safe text.

Writers take plain records (dicts) and a column list, so they are testable without pandas. Message
text is hostile input: tables never interpret rich markup and show control characters escaped; CSV
cells that a spreadsheet would run as a formula are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TextIO, TypeVar, assert_never


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


def resolve_format(fmt: _F, *, to_stdout: bool) -> _F:
    """``auto`` is a table on a terminal and JSON Lines everywhere else (pipes, files, cron)."""
    if fmt.value != "auto":
        return fmt
    return type(fmt)("table" if to_stdout and stdout_is_tty() else "jsonl")


# --- values -------------------------------------------------------------------------------------


def format_time(value: datetime) -> str:
    """ISO-8601 UTC with millisecond precision and a ``Z``: ``2024-05-01T08:30:00.000Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _is_nat(value: datetime) -> bool:
    return type(value).__name__ == "NaTType"


def to_jsonable(value: Any) -> Any:
    """Plain JSON values: times as ISO-8601 UTC, tuples as lists, NaN/NaT/NA as null."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, datetime):  # pandas.Timestamp is a datetime
        return None if _is_nat(value) else format_time(value)
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
# format characters that can reorder or hide text on a terminal.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def visible(text: str, *, keep_newlines: bool = True) -> str:
    """Make control and invisible format characters visible (``\\x1b``, ``\\u202e``)."""

    def escape(match: re.Match[str]) -> str:
        cp = ord(match.group(0))
        return f"\\x{cp:02x}" if cp <= 0xFF else f"\\u{cp:04x}"

    text = _UNSAFE.sub(escape, text)
    return text if keep_newlines else text.replace("\n", "\\n").replace("\t", "\\t")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Numbers and lists of numbers ("+8613600003333;+8613500004444") cannot call functions: keep them.
_SIGNED_NUMBER = re.compile(r"[+-][0-9][0-9 .]*(?:;[+-]?[0-9][0-9 .]*)*")


def csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas (OWASP CSV injection) but keep ``+8613800138000`` intact."""
    if text.startswith(_FORMULA_START) and not _SIGNED_NUMBER.fullmatch(text):
        return "'" + text
    return text


# --- writers ------------------------------------------------------------------------------------


def write_jsonl(records: Iterable[Mapping[str, Any]], columns: Sequence[str], stream: TextIO) -> int:
    """One JSON object per line, keys in ``columns`` order. Returns the number of records."""
    count = 0
    for record in records:
        stream.write(json.dumps({c: to_jsonable(record.get(c)) for c in columns}, ensure_ascii=False))
        stream.write("\n")
        count += 1
    return count


def write_json(document: Mapping[str, Any], stream: TextIO) -> None:
    """One JSON document (e.g. ``{"schema_version": 1, "messages": [...]}``), indented."""
    json.dump(to_jsonable(document), stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def write_csv(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    stream: TextIO,
    *,
    escape_controls: bool = False,
) -> int:
    """Header plus rows; lists joined with ``;``; formula-looking cells prefixed with ``'``."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for record in records:
        cells = [csv_safe(_cell_text(record.get(c))) for c in columns]
        if escape_controls:
            cells = [visible(c) for c in cells]
        writer.writerow(cells)
        count += 1
    return count


def write_table(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    stream: TextIO,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    max_widths: Mapping[str, int] | None = None,
    fixed_widths: Mapping[str, int] | None = None,
) -> int:
    """A rich table for people. Cells are ``Text`` objects: markup is never interpreted.

    ``fixed_widths`` columns keep their width when a narrow terminal squeezes the table (a sparkline
    must not fold; the other columns wrap instead).
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False, header_style="bold", expand=False)
    for column in columns:
        width = (max_widths or {}).get(column)
        table.add_column(
            (headers or {}).get(column, column),
            overflow="fold",
            max_width=width,
            width=(fixed_widths or {}).get(column),
        )
    count = 0
    for record in records:
        table.add_row(*(Text(visible(_table_text(record.get(c)))) for c in columns))
        count += 1
    is_terminal = hasattr(stream, "isatty") and stream.isatty()
    # Off a terminal (a file, a test) rich would assume 80 columns: use the table's natural width.
    console = Console(
        file=stream,
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        width=None if is_terminal else 4096,
    )
    console.print(table)
    return count


def _table_text(value: Any) -> str:
    if isinstance(value, datetime):
        return "" if _is_nat(value) else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_table_text(v) for v in value)
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
            return write_jsonl(records, columns, stream)
        case RecordFormat.CSV:
            return write_csv(
                records, columns, stream, escape_controls=stream is sys.stdout and stdout_is_tty()
            )
        case RecordFormat.JSON:
            rows = [{c: r.get(c) for c in columns} for r in records]
            write_json({"schema_version": 1, **view.json_meta, view.json_key: rows}, stream)
            return len(rows)
        case RecordFormat.TABLE:
            return write_table(
                records,
                view.table_columns or columns,
                stream,
                title=view.title,
                headers=view.headers,
                max_widths=view.max_widths,
            )
        case RecordFormat.AUTO:
            raise ValueError("resolve --format auto before writing")
        case _:
            assert_never(fmt)
