"""The columns that pass between stages, with their dtypes, defined once and checked at each boundary.

Stages and the frames they hand on (every frame is a pandas frame with pyarrow-backed strings):

* importers → :data:`MESSAGE_COLUMNS` (one row per message, UTC times);
* classifier → the message columns plus :data:`CLASSIFY_COLUMNS`;
* report → findings, ledger and traps frames (:mod:`sms_audit.report.frames`).

:func:`check_frame` raises :class:`SchemaError` naming the first missing or mistyped column, so a
renamed column fails loudly instead of yielding an empty report.
"""

from __future__ import annotations

from collections.abc import Sequence
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


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    doc: str


def _cols(*specs: tuple[str, Kind, str]) -> tuple[Column, ...]:
    return tuple(Column(name, kind, doc) for name, kind, doc in specs)


S, T, B, L = Kind.STRING, Kind.TIME, Kind.BOOL, Kind.LIST

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
        }[column.kind](dtype)
        if not ok:
            raise SchemaError(
                f"{stage}: column {column.name!r} has dtype {dtype}, expected {column.kind.value}"
            )
    return frame


def empty_frame(schema: Sequence[Column]) -> pd.DataFrame:
    """A frame with no rows and the schema's columns and dtypes."""
    import pandas as pd

    data: dict[str, pd.Series] = {}
    for column in schema:
        data[column.name] = pd.Series(
            [],
            dtype={
                Kind.STRING: pd.StringDtype("pyarrow"),
                Kind.TIME: "datetime64[us, UTC]",
                Kind.BOOL: bool,
                Kind.INT: "int64",
                Kind.LIST: object,
            }[column.kind],
        )
    return pd.DataFrame(data)
