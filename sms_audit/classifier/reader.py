"""Read messages to classify from JSONL, CSV or TSV (a file or stdin), every field kept as text."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, TextIO

from sms_audit.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

INPUT_FORMATS: tuple[str, ...] = ("jsonl", "csv", "tsv")
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
}


@dataclass(slots=True)
class ClassifyInput:
    """Messages given to ``sms-audit classify``: a frame to classify and each message as given.

    ``frame`` has every input field as text plus ``address`` (a message's ``address``, or its
    ``sender`` where it has no address); ``records`` are the messages exactly as read — JSON
    values keep their types and a field a message lacks stays absent; ``columns`` lists every
    input field in first-seen order.
    """

    frame: pd.DataFrame
    records: list[dict[str, object]]
    columns: list[str]
    fmt: str


def read_classify_input(
    stream: TextIO | BinaryIO, input_format: str | None, name: str | None
) -> pd.DataFrame:
    """The frame of :func:`read_classify_records` (``frame.attrs["input_columns"]`` names the input fields)."""
    data = read_classify_records(stream, input_format, name)
    data.frame.attrs["input_columns"] = data.columns
    return data.frame


def read_classify_records(
    stream: TextIO | BinaryIO, input_format: str | None, name: str | None
) -> ClassifyInput:
    """Parse messages for ``sms-audit classify`` (JSONL, CSV or TSV).

    The format is ``input_format`` if given, else taken from ``name``'s extension, else sniffed:
    ``{`` first → JSONL, a tab in the header → TSV, otherwise CSV. Needs ``direction``, ``body``
    and ``sender`` or ``address``. Raises UsageError on a missing field or a malformed line.
    """
    import pandas as pd

    label = name or "<stdin>"
    raw = stream.read()
    text = raw.decode("utf-8-sig", errors="replace") if isinstance(raw, bytes) else raw.lstrip("\ufeff")
    fmt = _detect(text, input_format, name, label)
    if fmt == "jsonl":
        columns, rows, records = _read_jsonl(text, label)
    else:
        columns, rows = _read_delimited(text, "\t" if fmt == "tsv" else ",", label)
        records = [dict(zip(columns, row, strict=True)) for row in rows]
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    string = pd.StringDtype("pyarrow", na_value=float("nan"))
    for column in frame.columns:
        frame[column] = frame[column].fillna("").astype(str).astype(string)
    present = set(frame.columns)
    missing = [f for f in ("direction", "body") if f not in present]
    if "sender" not in present and "address" not in present:
        missing.append("sender (or address)")
    if missing:
        raise UsageError(
            f"{fmt} input lacks required field(s): {', '.join(missing)}",
            path=label,
            hint="each message needs direction (in/out), sender or address, and body",
        )
    if "address" not in present:
        frame["address"] = frame["sender"]
    elif "sender" in present:  # files that mix the two: a row's sender stands in for its missing address
        frame["address"] = frame["address"].where(frame["address"] != "", frame["sender"])
    return ClassifyInput(frame=frame, records=records, columns=list(columns), fmt=fmt)


def _detect(text: str, input_format: str | None, name: str | None, label: str) -> str:
    if input_format:
        fmt = input_format.lower()
        if fmt == "ndjson":
            fmt = "jsonl"
        if fmt not in INPUT_FORMATS:
            raise UsageError(
                f"unknown input format {input_format!r}", hint=f"use one of: {', '.join(INPUT_FORMATS)}"
            )
        return fmt
    if name and name != "-":
        for ext, fmt in _EXTENSIONS.items():
            if name.lower().endswith(ext):
                return fmt
    stripped = text.lstrip()
    if not stripped:
        raise UsageError("empty input: no header or messages", path=label)
    if stripped.startswith("{"):
        return "jsonl"
    header = stripped.split("\n", 1)[0]
    return "tsv" if "\t" in header else "csv"


def _read_jsonl(text: str, label: str) -> tuple[list[str], list[list[str]], list[dict[str, object]]]:
    columns: dict[str, None] = {}
    records: list[dict[str, object]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"line {number}: not valid JSON ({exc.msg})", path=label) from None
        if not isinstance(record, dict):
            raise UsageError(f"line {number}: expected a JSON object", path=label)
        for key in record:
            columns.setdefault(str(key), None)
        records.append(record)
    names = list(columns)
    rows = [[_as_text(record.get(key)) for key in names] for record in records]
    return names, rows, records


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _read_delimited(text: str, delimiter: str, label: str) -> tuple[list[str], list[list[str]]]:
    # TSV has no quoting convention: a '"' in a body is a literal character (as in eval/dev.tsv).
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL,
    )
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError("empty input: no header line", path=label) from None
    except csv.Error as exc:
        raise UsageError(f"cannot parse header: {exc}", path=label) from None
    names = [h.strip() for h in header]
    rows: list[list[str]] = []
    try:
        for row in reader:
            if not row or row == [""]:
                continue
            if len(row) < len(names):
                row = row + [""] * (len(names) - len(row))
            elif len(row) > len(names):
                raise UsageError(
                    f"line {reader.line_num}: {len(row)} fields, header has {len(names)}", path=label
                )
            rows.append(row)
    except csv.Error as exc:
        raise UsageError(f"line {reader.line_num}: {exc}", path=label) from None
    return names, rows
