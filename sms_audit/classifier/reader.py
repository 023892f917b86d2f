"""Read messages to classify from JSONL, CSV or TSV (a file or stdin), every field kept as text."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TextIO

from sms_audit.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from sms_audit.importers._textfile import TextEncoding

INPUT_FORMATS: tuple[str, ...] = ("jsonl", "csv", "tsv")
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
}


#: The input fields the classifier reads (the others only pass through to the output).
_CLASSIFIER_FIELDS = ("direction", "sender", "address", "body", "timestamp", "sender_kind")


@dataclass(slots=True)
class ClassifyInput:
    """Messages given to ``sms-audit classify``: a frame to classify and each message as given.

    ``frame`` has the input fields the classifier reads (``direction``, ``sender``, ``address``,
    ``body``, ``timestamp``, ``sender_kind`` — those present) as text, ``address`` being a
    message's ``address``, or its ``sender`` where it has no address. :meth:`records` yields the
    messages exactly as read, in input order — JSON values keep their types and a field a message
    lacks stays absent — re-read from a private spool file, so memory holds only the frame;
    ``columns`` lists every input field in first-seen order.
    """

    frame: pd.DataFrame
    columns: list[str]
    fmt: str
    spool: IO[str]
    #: how bytes were read (its ``describe()``: ``gb18030 (detected)``); None for text given as text
    encoding: TextEncoding | None = None
    #: characters that did not decode and were replaced by U+FFFD
    replaced: int = 0
    #: messages given without a ``body`` (JSON Lines: absent or null), classified as an empty text
    without_body: int = 0

    def records(self) -> Iterator[dict[str, object]]:
        """Every message as given, in input order (one pass over the spool per call)."""
        self.spool.seek(0)
        if self.fmt == "jsonl":
            for line in self.spool:
                if line.strip():
                    yield json.loads(line)
            return
        names = self.columns
        for row in _rows(csv.reader(self.spool, **_dialect(self.fmt)), len(names), "<spool>"):
            yield dict(zip(names, row, strict=True))

    def close(self) -> None:
        self.spool.close()


def read_classify_input(
    stream: TextIO | BinaryIO, input_format: str | None, name: str | None
) -> pd.DataFrame:
    """Every input field as text, plus ``address`` as in :func:`read_classify_records`, in one
    frame (``frame.attrs["input_columns"]`` names the input fields)."""
    import pandas as pd

    data = read_classify_records(stream, input_format, name)
    with closing(data):
        rows = [[_as_text(record.get(c)) for c in data.columns] for record in data.records()]
    string = pd.StringDtype("pyarrow", na_value=float("nan"))
    frame = pd.DataFrame(rows, columns=data.columns, dtype=object).astype(string)
    frame["address"] = data.frame["address"]
    frame.attrs["input_columns"] = data.columns
    return frame


def read_classify_records(
    stream: TextIO | BinaryIO, input_format: str | None, name: str | None, encoding: str | None = None
) -> ClassifyInput:
    """Parse messages for ``sms-audit classify`` (JSONL, CSV or TSV), line by line.

    The format is ``input_format`` if given, else taken from ``name``'s extension, else sniffed:
    ``{`` first → JSONL, a tab in the header → TSV, otherwise CSV. Needs ``direction``, ``body``
    and ``sender`` or ``address``. Raises UsageError on a missing field or a malformed line. The
    input is copied to an anonymous temporary file (removed when closed, private to the user)
    so the messages can be written out again without holding them in memory.

    Bytes are decoded as the importers decode text archives (:mod:`~sms_audit.importers._textfile`):
    a byte-order mark, else UTF-8, else the detected legacy encoding (a GBK export is read as
    GB18030), or ``encoding`` when given (a codec name: ``gbk``, ``big5``); bytes that still do not
    decode become U+FFFD, counted in ``replaced``.
    """
    import tempfile

    import pandas as pd

    from sms_audit.importers._textfile import DETECT_BYTES, TextLines, sniff_encoding

    label = name or "<stdin>"
    text_stream: Iterable[str]
    decoded: TextLines | None = None
    if isinstance(stream, (io.RawIOBase, io.BufferedIOBase)) or "b" in getattr(stream, "mode", ""):
        binary: Any = stream
        first = binary.read(DETECT_BYTES)
        chosen = sniff_encoding(first) if encoding is None else given_encoding(encoding)
        decoded = TextLines(itertools.chain([first], iter(lambda: binary.read(1 << 20), b"")), chosen)
        text_stream = decoded
    else:
        text_stream = stream  # type: ignore[assignment]  # a text stream here (TextIO), not bytes
    spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115 - ClassifyInput closes it
    try:
        head: list[str] = []
        text_lines = iter(text_stream)
        for line in text_lines:
            line = line.lstrip("\ufeff") if not head else line
            head.append(line)
            if line.strip():
                break
        fmt = _detect("".join(head), input_format, name, label)

        def lines() -> Iterator[str]:  # the input as read, copied to the spool on the way
            for line in itertools.chain(head, text_lines):
                spool.write(line)
                yield line

        if fmt == "jsonl":
            columns, fields = _read_jsonl(lines(), label)
        else:
            columns, fields = _read_delimited(lines(), fmt, label)
        spool.flush()
    except BaseException:
        spool.close()
        raise
    if not columns:  # nothing at all (an empty file, or a filter upstream that matched nothing)
        empty = {c: pd.Series([], dtype=pd.StringDtype("pyarrow")) for c in ("direction", "address", "body")}
        return ClassifyInput(frame=pd.DataFrame(empty), columns=[], fmt=fmt, spool=spool)
    frame = pd.DataFrame(fields.arrays())
    present = set(columns)
    missing = [f for f in ("direction", "body") if f not in present]
    if "sender" not in present and "address" not in present:
        missing.append("sender (or address)")
    if missing:
        spool.close()
        raise UsageError(
            f"{fmt} input lacks required field(s): {', '.join(missing)}",
            path=label,
            hint=_missing_hint(columns, fmt),
        )
    if "address" not in present:
        frame["address"] = frame["sender"]
    elif "sender" in present:  # files that mix the two: a row's sender stands in for its missing address
        frame["address"] = frame["address"].where(frame["address"] != "", frame["sender"])
    return ClassifyInput(
        frame=frame,
        columns=columns,
        fmt=fmt,
        spool=spool,
        encoding=None if decoded is None else decoded.encoding,
        replaced=0 if decoded is None else decoded.replaced,
        without_body=fields.without_body,
    )


def given_encoding(name: str) -> TextEncoding:
    """The encoding a user named (a byte-order mark it reads as U+FEFF is dropped with the first line's)."""
    from sms_audit.importers._textfile import TextEncoding, text_codec

    codec = text_codec(name)
    if codec is None:
        raise UsageError(
            f"unknown text encoding {name!r}", hint="e.g. utf-8, gbk, gb18030, big5, shift_jis, utf-16"
        )
    return TextEncoding(codec, 0, "given")


def _missing_hint(columns: list[str], fmt: str) -> str:
    """Why the fields may look absent: names in another case, or another separator."""
    hint = "each message needs direction (in/out), sender or address, and body"
    cased = [c for c in columns if c not in _CLASSIFIER_FIELDS and c.strip().lower() in _CLASSIFIER_FIELDS]
    if cased:
        verb = "is" if len(cased) == 1 else "are"
        hint += f"; field names are lower case ({', '.join(repr(c) for c in cased)} {verb} not read)"
    elif fmt == "csv" and len(columns) == 1:
        for separator, name in ((";", "semicolons"), ("|", "bars")):
            if separator in columns[0]:
                hint += f"; the header is one field: its names are separated by {name}, not commas"
                break
    return hint


_JSON_LINES_HINT = (
    "give one JSON object per line: sms-audit messages --format jsonl, or jq -c '.[]' FILE "
    "(jq -c '.messages[]' for a --format json document)"
)


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
        return "jsonl"  # no messages, in any format
    if stripped.startswith("["):
        raise UsageError("this is a JSON array, not JSON Lines", path=label, hint=_JSON_LINES_HINT)
    if stripped.startswith("{"):
        return "jsonl"
    header = stripped.split("\n", 1)[0]
    return "tsv" if "\t" in header else "csv"


class _Fields:
    """The classifier's fields of every message as text, turned into Arrow strings every
    :data:`CHUNK` messages: Python lists of a million messages' fields took ~600 MB, their Arrow
    columns a quarter of that."""

    CHUNK = 50_000

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.count = 0
        self.without_body = 0  # JSON messages with no "body" (or null): read as an empty text
        self.pending: dict[str, list[str]] = {n: [] for n in names}
        self.chunks: dict[str, list[Any]] = {n: [] for n in self.pending}

    def add_field(self, name: str) -> None:
        """A field first seen now: the messages before lack it (empty text)."""
        self._flush()
        self.pending[name] = []
        self.chunks[name] = [_strings([""] * self.count)] if self.count else []

    def append(self, values: Iterable[str]) -> None:
        """One message's values, in the order of the fields' names."""
        for column, value in zip(self.pending.values(), values, strict=True):
            column.append(value)
        self.count += 1
        if self.count % self.CHUNK == 0:
            self._flush()

    def arrays(self) -> dict[str, Any]:
        """Each field as one contiguous Arrow-backed string array (the classifier's string
        operations on an array of many chunks took more time and memory)."""
        import pandas as pd
        import pyarrow as pa

        self._flush()
        string = pd.StringDtype("pyarrow", na_value=float("nan"))
        return {
            name: pd.array(pa.concat_arrays(chunks) if chunks else _strings([]), dtype=string)
            for name, chunks in self.chunks.items()
        }

    def _flush(self) -> None:
        for name, values in self.pending.items():
            if values:
                self.chunks[name].append(_strings(values))
                self.pending[name] = []


def _strings(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, type=pa.large_string())


def _read_jsonl(lines: Iterable[str], label: str) -> tuple[list[str], _Fields]:
    """Every field name in first-seen order, and the classifier's fields as text per message."""
    columns: dict[str, None] = {}
    fields = _Fields()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            document = number == 1 and line.strip() == "{"  # an indented document (--format json)
            raise UsageError(
                f"line {number}: not valid JSON ({exc.msg})"
                + ("; this looks like an indented JSON document, not JSON Lines" if document else ""),
                path=label,
                hint=_JSON_LINES_HINT if document else None,
            ) from None
        if not isinstance(record, dict):
            array = isinstance(record, list)
            raise UsageError(
                f"line {number}: expected a JSON object" + (", found an array" if array else ""),
                path=label,
                hint=_JSON_LINES_HINT if array else None,
            )
        for key in record:
            if key not in columns:
                columns[str(key)] = None
                if key in _CLASSIFIER_FIELDS:
                    fields.add_field(key)  # a field first seen late: earlier messages lack it
        fields.append([_as_text(record.get(key)) for key in fields.pending])
        if record.get("body") is None:
            fields.without_body += 1
    return list(columns), fields


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


def _dialect(fmt: str) -> dict[str, Any]:
    # TSV has no quoting convention: a '"' in a body is a literal character (as in eval/dev.tsv).
    if fmt == "tsv":
        return {"delimiter": "\t", "quoting": csv.QUOTE_NONE}
    # strict: a quote left open would otherwise swallow every later line into one field
    return {"delimiter": ",", "quoting": csv.QUOTE_MINIMAL, "strict": True}


def _rows(reader: Any, width: int, label: str, *, header: bool = True) -> Iterator[list[str]]:
    """The data rows of a CSV/TSV reader (its header skipped when ``header``): blank lines
    skipped, short rows padded, long rows an error."""
    start = 1  # the line the record being read begins on (a quoted field may span lines)
    try:
        if header:
            next(reader)
        start = reader.line_num + 1
        for row in reader:
            if row and row != [""]:
                if len(row) < width:
                    row = row + [""] * (width - len(row))
                elif len(row) > width:
                    raise UsageError(f"line {start}: {len(row)} fields, header has {width}", path=label)
                yield row
            start = reader.line_num + 1
    except StopIteration:
        return
    except csv.Error as exc:
        if _unclosed(exc):
            raise _unclosed_error(start, label) from None
        raise UsageError(f"line {reader.line_num}: {exc}", path=label) from None


def _unclosed(exc: csv.Error) -> bool:
    """The input ended inside a quoted field (csv's wording in strict mode)."""
    return str(exc) == "unexpected end of data"


def _unclosed_error(line: int, label: str) -> UsageError:
    return UsageError(
        f"line {line}: a quoted field that starts here is never closed",
        path=label,
        hint='every field opened with " needs a closing "; a " inside a quoted field is written ""',
    )


def _read_delimited(lines: Iterable[str], fmt: str, label: str) -> tuple[list[str], _Fields]:
    """The header's field names, and the classifier's fields per message."""
    reader = csv.reader(lines, **_dialect(fmt))
    try:
        header = next(reader)
    except StopIteration:
        return [], _Fields()  # no header: no messages
    except csv.Error as exc:
        if _unclosed(exc):
            raise _unclosed_error(1, label) from None
        raise UsageError(f"cannot parse header: {exc}", path=label) from None
    names = [h.strip() for h in header]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:  # a message is written back as one field per name: a second column would be lost
        raise UsageError(
            f"the header names {', '.join(repr(n) for n in repeated)} more than once",
            path=label,
            hint="give every column its own name",
        )
    wanted = [(i, n) for i, n in enumerate(names) if n in _CLASSIFIER_FIELDS]
    fields = _Fields(n for _, n in wanted)
    for row in _rows(reader, len(names), label, header=False):
        fields.append([row[i] for i, _ in wanted])
    return names, fields
