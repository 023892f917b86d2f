"""The columns that pass between stages, with their dtypes, defined once and checked at each boundary.

Stages and the frames they hand on (every frame is a pandas frame with pyarrow-backed strings):

* importers → :data:`MESSAGE_COLUMNS` (one row per message, UTC times);
* classifier → the message columns plus :data:`CLASSIFY_COLUMNS`;
* report → findings, ledger and traps frames (:mod:`sms_audit.report.frames`).

:func:`check_frame` raises :class:`SchemaError` naming the first missing or mistyped column, so a
renamed column fails loudly instead of yielding an empty report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sms_audit.errors import ExitCode, SmsAuditError

if TYPE_CHECKING:
    import pandas as pd


class Direction(StrEnum):
    """From the phone owner's side. Only ``in`` and ``out`` count for the unsubscribe analysis."""

    IN = "in"
    OUT = "out"
    DRAFT = "draft"
    FAILED = "failed"  # failed, or still queued/in the outbox: not delivered
    OTHER = "other"


class Service(StrEnum):
    """How a message travelled."""

    SMS = "sms"
    MMS = "mms"
    IMESSAGE = "imessage"
    RCS = "rcs"
    UNKNOWN = "unknown"


#: The five primary labels, in report order.
LABELS: tuple[str, ...] = (
    "verification",
    "marketing",
    "unsubscribe-reply",
    "unsubscribe-confirmation",
    "other",
)


class Kind(StrEnum):
    """The dtype family a column must have."""

    STRING = "string"  # pyarrow-backed str (missing = "")
    TIME = "time"  # datetime64[us, UTC] (missing = NaT)
    BOOL = "bool"
    INT = "int"
    LIST = "list"  # object column of tuples of str
    OPT_BOOL = "optional bool"  # pandas "boolean" (NA where the field does not apply)
    OPT_INT = "optional int"  # pandas "Int64"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    doc: str


def _cols(*specs: tuple[str, Kind, str]) -> tuple[Column, ...]:
    return tuple(Column(name, kind, doc) for name, kind, doc in specs)


S, T, B, L, I = Kind.STRING, Kind.TIME, Kind.BOOL, Kind.LIST, Kind.INT
OB = Kind.OPT_BOOL

#: The message frame every importer produces (order = the store's and the outputs' order).
MESSAGE_SCHEMA: tuple[Column, ...] = _cols(
    ("message_id", S, "content hash of the message's natural key (32 hex digits)"),
    ("timestamp", T, "when the phone received or sent it, UTC"),
    ("direction", S, "in, out, draft, failed or other (Direction)"),
    ("address", S, "the other party, normalised: E.164, short code, 106 port, sender ID; a group's key"),
    ("sender_kind", S, "SenderKind of the address"),
    ("address_raw", S, "the other party exactly as in the archive"),
    ("body", S, "the text"),
    ("service", S, "sms, mms, imessage, rcs or unknown (Service)"),
    ("thread_key", S, "the conversation: the address, or the group's key"),
    ("recipients", L, "other members of a group conversation, normalised"),
    ("is_group", B, "a group conversation (never opt-out evidence)"),
    ("has_attachments", B, "carries a picture, video or other file"),
    ("is_filtered", B, "moved by the phone's spam filter"),
    ("sent_timestamp", T, "when the sender's device sent it (NaT when unknown)"),
    ("source_format", S, "importer name"),
    ("source_file", S, "the archive path as given"),
    ("source_record", S, "the record's own id in the archive"),
)
MESSAGE_COLUMNS: tuple[str, ...] = tuple(c.name for c in MESSAGE_SCHEMA)

#: What the classifier adds (order = output order).
CLASSIFY_SCHEMA: tuple[Column, ...] = _cols(
    ("label", S, "one of LABELS"),
    ("reason", S, "the rule (or model) behind the label and the text it matched"),
    ("sender_kind", S, "SenderKind of the address (filled in when the input had none)"),
    ("brand", S, "brand key shared by one merchant's numbers ('' when unknown)"),
    ("brand_display", S, "the brand as written in the signature"),
    ("optout_keyword", S, "the reply keyword an incoming message asks for ('T', 'STOP')"),
    ("is_resubscribe", B, "an outgoing START/UNSTOP/YES"),
    ("is_trap", B, "a suspected unsubscribe trap"),
    ("trap_reason", S, "why it looks like a trap"),
    ("is_promotional", B, "the content itself advertises"),
)
CLASSIFY_COLUMNS: tuple[str, ...] = tuple(c.name for c in CLASSIFY_SCHEMA)

#: A classified message frame: the message columns, then the classifier's (sender_kind once).
CLASSIFIED_SCHEMA: tuple[Column, ...] = MESSAGE_SCHEMA + tuple(
    c for c in CLASSIFY_SCHEMA if c.name not in MESSAGE_COLUMNS
)


#: A finding: a message after an unsubscribe, or a trap (json ``findings``/``traps``, jsonl, csv).
FINDING_SCHEMA: tuple[Column, ...] = _cols(
    ("finding_id", S, "short stable id (no number in it)"),
    ("kind", S, "violation, within_grace, confirmation, … or trap"),
    ("severity", S, "violation, flagged, within_grace, info or warning"),
    ("subject", S, "brand key, or the number when no brand is known"),
    ("brand", S, "brand key"),
    ("brand_display", S, "brand as written"),
    ("via", S, "same-number or other-number ('' for traps)"),
    ("message_id", S, "the message"),
    ("timestamp", T, "when it arrived, UTC"),
    ("local_time", S, "when it arrived, ISO-8601 in the report's time zone"),
    ("direction", S, "in or out"),
    ("address", S, "its number, normalised"),
    ("address_raw", S, "its number as in the archive"),
    ("sender_kind", S, "SenderKind"),
    ("label", S, "its label"),
    ("rule", S, "the classifier's reason"),
    ("body", S, "its text"),
    ("unsubscribe_message_id", S, "the unsubscribe it follows ('' for traps)"),
    ("unsubscribed_at", T, "when the unsubscribe was sent, UTC"),
    ("unsubscribed_local_time", S, "the same, local"),
    ("unsubscribe_address", S, "the number the unsubscribe went to"),
    ("unsubscribe_keyword", S, "what was sent (TD, STOP …)"),
    ("grace_deadline", T, "end of the grace period, UTC"),
    ("policy", S, "policy name"),
    ("explanation", S, "why this is a finding, in words"),
    ("trap_reason", S, "traps: why it looks like one"),
    ("replied", OB, "traps: whether the user replied"),
    ("reply_message_id", S, "traps: the reply"),
    ("replied_at", T, "traps: when the reply was sent"),
    ("reply_body", S, "traps: the reply's text"),
    ("source_file", S, "the archive it came from"),
)
FINDING_COLUMNS: tuple[str, ...] = tuple(c.name for c in FINDING_SCHEMA)

#: An unsubscribe and what happened since (json ``ledger``).
LEDGER_SCHEMA: tuple[Column, ...] = _cols(
    ("unsubscribe_message_id", S, "the first unsubscribe reply of the episode"),
    ("subject", S, "brand key or number"),
    ("brand", S, "brand key"),
    ("brand_display", S, "brand as written"),
    ("address", S, "the number the reply went to"),
    ("unsubscribed_at", T, "when, UTC"),
    ("unsubscribed_local_time", S, "when, local"),
    ("keyword", S, "what was sent"),
    ("asked_keyword", S, "what the prompt asked for"),
    ("replies", I, "unsubscribe replies in the episode"),
    ("reply_message_ids", L, "their message ids"),
    ("confirmed", B, "a confirmation came"),
    ("confirmation_at", T, "when the first confirmation came"),
    ("status", S, "violated, replied to trap, within grace, honoured or re-subscribed"),
    ("violations", I, "violating messages"),
    ("via_other_numbers", I, "of them from other numbers of the brand"),
    ("within_grace", I, "marketing inside the grace period"),
    ("non_marketing", I, "codes and notices after the unsubscribe"),
    ("flagged", I, "late or extra confirmations"),
    ("first_violation", T, "first violating message"),
    ("last_violation", T, "last violating message"),
    ("grace_deadline", T, "end of the grace period"),
    ("resubscribed_at", T, "when the user re-subscribed"),
    ("resubscribe_message_id", S, "the re-subscribe"),
    ("days_since", I, "days from the unsubscribe to the newest message"),
)
LEDGER_COLUMNS: tuple[str, ...] = tuple(c.name for c in LEDGER_SCHEMA)

#: One brand (or number) in the summary (json ``summary``).
SUMMARY_SCHEMA: tuple[Column, ...] = _cols(
    ("subject", S, "brand key or number"),
    ("brand", S, "brand key"),
    ("brand_display", S, "brand as written"),
    ("numbers", L, "every number seen for it"),
    ("first_unsubscribe", T, "first unsubscribe"),
    ("keyword", S, "first keyword sent"),
    ("unsubscribes", I, "unsubscribe replies sent"),
    ("confirmed", S, "yes, no or partly"),
    ("violations", I, "violating messages"),
    ("via_other_numbers", I, "of them from other numbers"),
    ("within_grace", I, "marketing inside the grace period"),
    ("non_marketing", I, "codes and notices after an unsubscribe"),
    ("flagged", I, "late or extra confirmations"),
    ("last_violation", T, "last violating message"),
    ("status", S, "worst status of its unsubscribes"),
)
SUMMARY_COLUMNS: tuple[str, ...] = tuple(c.name for c in SUMMARY_SCHEMA)


class SchemaError(SmsAuditError, ValueError):
    """A frame handed between stages lacks a column or has it with the wrong dtype.

    In the command line this is a bug (exit 70); from Python it means the frame passed in is not
    what the stage takes.
    """

    exit_code = ExitCode.INTERNAL


def check_frame(frame: pd.DataFrame, schema: Sequence[Column], stage: str) -> pd.DataFrame:
    """Return ``frame`` unchanged if it has every column of ``schema`` with the right dtype family.

    Raises SchemaError naming the stage and the first bad column.
    """
    import pandas as pd

    for column in schema:
        if column.name not in frame.columns:
            raise SchemaError(f"{stage}: the frame has no column {column.name!r} ({column.doc})")
        dtype = frame[column.name].dtype
        ok = {
            Kind.STRING: lambda d: pd.api.types.is_string_dtype(d) and d != object,
            Kind.TIME: lambda d: isinstance(d, pd.DatetimeTZDtype) and str(d.tz) == "UTC",
            Kind.BOOL: pd.api.types.is_bool_dtype,
            Kind.INT: pd.api.types.is_integer_dtype,
            Kind.LIST: lambda d: d == object,
            Kind.OPT_BOOL: lambda d: pd.api.types.is_bool_dtype(d) or d == object,
            Kind.OPT_INT: pd.api.types.is_integer_dtype,
        }[column.kind](dtype)
        if not ok:
            raise SchemaError(
                f"{stage}: column {column.name!r} has dtype {dtype}, expected {column.kind.value}"
            )
    return frame


def empty_frame(schema: Sequence[Column]) -> pd.DataFrame:
    """A frame with no rows and the schema's columns and dtypes."""
    import pandas as pd

    return pd.DataFrame({c.name: pd.Series([], dtype=_dtype(c.kind)) for c in schema})


def _dtype(kind: Kind) -> object:
    import pandas as pd

    return {
        Kind.STRING: pd.StringDtype("pyarrow"),
        Kind.TIME: "datetime64[us, UTC]",
        Kind.BOOL: bool,
        Kind.INT: "int64",
        Kind.LIST: object,
        Kind.OPT_BOOL: "boolean",
        Kind.OPT_INT: "Int64",
    }[kind]


def frame_from_records(records: Sequence[Mapping[str, object]], schema: Sequence[Column]) -> pd.DataFrame:
    """A frame with the schema's columns and dtypes from plain records (missing strings → "")."""
    import pandas as pd

    data: dict[str, pd.Series] = {}
    for column in schema:
        values = [r.get(column.name) for r in records]
        if column.kind is Kind.STRING:
            data[column.name] = string_column(["" if v is None else str(v) for v in values])
        elif column.kind is Kind.TIME:
            data[column.name] = pd.Series(pd.to_datetime(values, utc=True)).astype("datetime64[us, UTC]")
        elif column.kind is Kind.LIST:
            data[column.name] = pd.Series(
                [tuple(v) if isinstance(v, (list, tuple)) else () for v in values], dtype=object
            )
        else:
            data[column.name] = pd.Series(values, dtype=_dtype(column.kind))  # type: ignore[call-overload]
    return pd.DataFrame(data, columns=[c.name for c in schema])


def string_column(values: Sequence[object]) -> pd.Series:
    """A pyarrow-backed string column from Python strings (built in one Arrow call).

    Text that cannot be UTF-8 (a lone surrogate such as ``"\\ud800"`` from a JSON escape) has the
    offending code points replaced by U+FFFD; the message is kept.
    """
    import pandas as pd
    import pyarrow as pa

    try:
        arr = pa.array(values, pa.large_string())
    except (UnicodeError, pa.ArrowInvalid):
        arr = pa.array([_utf8_safe(v) for v in values], pa.large_string())
    return pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow")))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _utf8_safe(value: object) -> object:
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


def time_column(micros: Sequence[int | None]) -> pd.Series:
    """A ``datetime64[us, UTC]`` column from Unix microseconds (None → NaT)."""
    import numpy as np
    import pandas as pd

    arr = np.array([-(2**63) if v is None else v for v in micros], dtype=np.int64)
    return pd.Series(arr.view("datetime64[us]")).dt.tz_localize("UTC")
