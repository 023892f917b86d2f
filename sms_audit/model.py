"""What importers yield (:class:`Record`, raw values only) and how it becomes the message frame.

An importer reads an archive into records that depend on nothing but the file. The
:class:`Normalizer` then derives, with the owner's region, what depends on it — the normalised
address and its kind, the conversation's thread key, group addressing — in one place for every
format, each distinct address normalised once. The pipeline infers the region from an archive's
first records while it reads them (:mod:`sms_audit.pipeline`), so no archive is parsed twice.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from sms_audit.normalize import (
    Address,
    SenderKind,
    address_identity,
    normalize_address_uncached,
    split_group_address,
    us_to_datetime,
)
from sms_audit.schema import (
    MESSAGE_COLUMNS,
    MESSAGE_SCHEMA,
    Direction,
    Kind,
    Service,
    string_column,
    time_column,
)

if TYPE_CHECKING:
    import pandas as pd


class Record(NamedTuple):
    """One message as read from an archive: raw values only, nothing that depends on the region.

    ``address_raw`` is the other party as written: the sender of an incoming message, the
    recipient of an outgoing one; for a group, the author of an incoming message and the group's
    address (as written) of an outgoing one. A group's thread key comes from ``group_id`` (its own
    identifier: an RCS ``…@rcs.google.com`` address, an iOS ``chat_identifier``) or else from
    ``members`` (its participants as written, the owner left out). Times are Unix microseconds;
    with ``local_time`` they are wall-clock microseconds in the archive's time zone (formats that
    write local times without a zone, such as vMessage), converted to UTC by the
    :class:`Normalizer` once that zone is known.
    """

    message_id: str
    source_record: str
    direction: Direction
    timestamp_us: int
    address_raw: str
    body: str = ""
    service: Service = Service.SMS
    sent_timestamp_us: int | None = None
    recipients: tuple[str, ...] = ()
    is_group: bool = False
    group_id: str = ""
    members: tuple[str, ...] = ()
    has_attachments: bool = False
    is_filtered: bool = False  # a phone's spam filter moved it (Samsung spam_sms, iOS is_spam)
    local_time: bool = False


class RecordBatch(Sequence[Record]):
    """Records held as columns, one tuple per :class:`Record` field (in ``Record._fields`` order).

    What a parser child process sends (:mod:`~sms_audit.importers._parse_process`: columns pickle
    about four times faster than record tuples) and what :meth:`Normalizer.columns` turns records into
    anyway. Indexing or iterating makes :class:`Record` objects on demand.
    """

    __slots__ = ("columns",)

    def __init__(self, columns: Mapping[str, Sequence[Any]]) -> None:
        self.columns = dict(columns)

    @classmethod
    def from_records(cls, records: Sequence[Record]) -> RecordBatch:
        values = list(zip(*records, strict=True)) if records else [()] * len(Record._fields)
        return cls(dict(zip(Record._fields, values, strict=True)))

    @classmethod
    def concat(cls, batches: Sequence[RecordBatch]) -> RecordBatch:
        return cls({name: [v for b in batches for v in b.columns[name]] for name in Record._fields})

    def __len__(self) -> int:
        return len(self.columns["message_id"])

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> RecordBatch: ...
    def __getitem__(self, index: int | slice) -> Record | RecordBatch:
        if isinstance(index, slice):
            return RecordBatch({name: values[index] for name, values in self.columns.items()})
        return Record._make(self.columns[name][index] for name in Record._fields)

    def __iter__(self) -> Iterator[Record]:
        return map(Record._make, zip(*(self.columns[name] for name in Record._fields), strict=True))

    def take(self, positions: Sequence[int]) -> RecordBatch:
        """The records at ``positions``, as a batch."""
        return RecordBatch({name: [values[i] for i in positions] for name, values in self.columns.items()})


@dataclass(frozen=True, slots=True)
class Message:
    """One message, normalised (one row of the message frame). Raw values sit next to normalised ones.

    ``address`` is the *other party*: the sender of an incoming message, the recipient of an
    outgoing one (for a message sent to a group: the group's thread key). ``timestamp`` is aware UTC.
    """

    message_id: str
    source_format: str
    source_file: str
    source_record: str  # the record's own id in the archive (_id, guid, line number)
    thread_key: str
    direction: Direction
    address_raw: str
    address: str
    sender_kind: str
    timestamp: datetime
    body: str = ""
    sent_timestamp: datetime | None = None
    service: Service = Service.SMS
    recipients: tuple[str, ...] = ()
    has_attachments: bool = False
    is_group: bool = False
    is_filtered: bool = False

    def to_record(self) -> dict[str, Any]:
        """The message as a plain dict in :data:`~sms_audit.schema.MESSAGE_COLUMNS` order."""
        return {name: getattr(self, name) for name in MESSAGE_COLUMNS}


def make_message_id(kind: str, *parts: object) -> str:
    """Content hash of a message's natural key: the same message in two backups gets the same id.

    ``kind`` separates key spaces ("sms", "mms", "ios"). Parts are joined unambiguously.
    """
    texts = ["" if part is None else str(part) for part in parts]
    # kind, then "\x1f<length in characters>:<text>" per part, hashed as UTF-8 in one call
    key = kind + "".join(f"\x1f{len(text)}:{text}" for text in texts)
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def sms_message_id(address_raw: str, direction: Direction, date_ms: int, body: str) -> str:
    """Natural key of an SMS, shared by SB&R XML, mmssms.db and sms-ie (FORMATS.md §6)."""
    # make_message_id("sms", identity, direction, date_ms, body), spelled out: a million-message
    # archive computes this once per record (the test pins both to the same ids)
    identity, way, date = address_identity(address_raw), direction.value, str(date_ms)
    key = f"sms\x1f{len(identity)}:{identity}\x1f{len(way)}:{way}\x1f{len(date)}:{date}\x1f{len(body)}:{body}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def mms_message_id(address_raw: str, direction: Direction, date_s: int, body: str, m_id: str | None) -> str:
    """Natural key of an MMS. ``date_s`` is whole seconds: the provider stores seconds, SB&R ms."""
    return make_message_id("mms", address_identity(address_raw), direction.value, date_s, m_id or "", body)


class Normalizer:
    """Derives the region-dependent columns of records; each distinct address is normalised once.

    ``region`` is the ISO 3166 code national numbers are read in (None keeps them as digits);
    ``zone`` the IANA time zone that local (zone-less) record times are read in (default UTC).
    """

    def __init__(self, region: str | None, zone: str | None = None, *, max_body: int | None = None) -> None:
        self.region = region
        self.zone = zone or "UTC"
        self.max_body = max_body
        self._seen: dict[str, Address] = {}
        self._plain: dict[str, tuple[str, str, str, tuple[str, ...]]] = {}  # 1:1 records by raw address

    def address(self, raw: str) -> Address:
        found = self._seen.get(raw)
        if found is None:
            found = self._seen[raw] = normalize_address_uncached(raw, self.region)
        return found

    def _derive(
        self,
        address_raw: str,
        recipients: Sequence[str],
        is_group: bool,
        group_id: str,
        members: Sequence[str],
        direction: Direction,
    ) -> tuple[str, str, str, tuple[str, ...]]:
        """(address, sender_kind, thread_key, recipients) of one record, given its fields."""
        if not is_group and not recipients:  # most records: one lookup per record
            plain = self._plain.get(address_raw)
            if plain is None:
                addr = self.address(address_raw)
                plain = self._plain[address_raw] = (addr.key, addr.kind.value, addr.key, ())
            return plain
        addr = self.address(address_raw)
        keys = tuple(dict.fromkeys(self.address(r).key for r in recipients if r and r.strip()))
        if not is_group:
            return addr.key, addr.kind.value, addr.key, keys
        if group_id.strip():
            thread = group_id.strip().casefold()
        else:
            known = {self.address(m).key for m in members if m and m.strip()}
            thread = "~".join(sorted(known)) or addr.key
        author_known = (
            direction is Direction.IN
            and address_raw.strip() != group_id.strip()
            and len(split_group_address(address_raw)) == 1
        )
        if not author_known:
            # A message to a group (or from it, author unknown) has no single other party: its
            # address is the group itself.
            return thread, SenderKind.GROUP.value, thread, keys
        return addr.key, addr.kind.value, thread, keys

    def message(self, rec: Record, source_format: str, source_file: str) -> Message:
        """One record as a :class:`Message`."""
        address, kind, thread, recipients = self._derive(
            rec.address_raw, rec.recipients, rec.is_group, rec.group_id, rec.members, rec.direction
        )
        stamp: int | None = rec.timestamp_us
        sent = rec.sent_timestamp_us
        if rec.local_time:
            stamp, sent = local_to_utc_us(stamp, self.zone), local_to_utc_us(sent, self.zone)
        timestamp = us_to_datetime(stamp)
        assert timestamp is not None
        return Message(
            message_id=rec.message_id,
            source_format=source_format,
            source_file=source_file,
            source_record=rec.source_record,
            thread_key=thread,
            direction=rec.direction,
            address_raw=rec.address_raw,
            address=address,
            sender_kind=kind,
            timestamp=timestamp,
            body=rec.body,
            sent_timestamp=us_to_datetime(sent),
            service=rec.service,
            recipients=recipients,
            has_attachments=rec.has_attachments,
            is_group=rec.is_group,
            is_filtered=rec.is_filtered,
        )

    def columns(
        self, records: Sequence[Record], source_format: str, source_file: str
    ) -> dict[str, list[Any]]:
        """Records as columns (:data:`~sms_audit.schema.MESSAGE_COLUMNS` → list): times as UTC Unix
        µs (None when missing), flags as bools, recipients as tuples; texts longer than
        ``max_body`` characters cut and marked. What the store writes and :meth:`frame` builds on."""
        n = len(records)
        raw = (records if isinstance(records, RecordBatch) else RecordBatch.from_records(records)).columns
        fields = (
            raw[name]
            for name in ("address_raw", "recipients", "is_group", "group_id", "members", "direction")
        )
        derived = (
            list(zip(*itertools.starmap(self._derive, zip(*fields)), strict=True)) if n else [(), (), (), ()]
        )
        stamps: list[int | None] = list(raw["timestamp_us"])
        sent: list[int | None] = list(raw["sent_timestamp_us"])
        if any(raw["local_time"]):  # wall-clock times without a zone: read them in the archive's zone
            stamps, sent = self._utc(stamps, raw["local_time"]), self._utc(sent, raw["local_time"])
        body = list(raw["body"])
        if self.max_body is not None:
            body = [b if len(b) <= self.max_body else b[: self.max_body] + BODY_CUT_MARK for b in body]
        return {
            "message_id": list(raw["message_id"]),
            "timestamp": stamps,
            "direction": [str(d) for d in raw["direction"]],
            "address": utf8_texts(derived[0]),
            "sender_kind": list(derived[1]),
            "address_raw": utf8_texts(raw["address_raw"]),
            "body": utf8_texts(body),
            "service": [str(x) for x in raw["service"]],
            "thread_key": utf8_texts(derived[2]),
            "recipients": list(derived[3]),
            "is_group": list(raw["is_group"]),
            "has_attachments": list(raw["has_attachments"]),
            "is_filtered": list(raw["is_filtered"]),
            "sent_timestamp": sent,
            "source_format": [source_format] * n,
            "source_file": [source_file] * n,
            "source_record": utf8_texts(raw["source_record"]),
        }

    def _utc(self, micros: list[int | None], local: Sequence[bool]) -> list[int | None]:
        import numpy as np

        mask = np.array(local, dtype=bool)
        series = time_column(micros)
        series[mask] = _localize(series[mask], self.zone)
        values = series.to_numpy(dtype="datetime64[us]").view(np.int64).tolist()
        return [None if m is None else v for m, v in zip(micros, values, strict=True)]

    def frame(self, records: Sequence[Record], source_format: str, source_file: str) -> pd.DataFrame:
        """Records as a message frame (:data:`~sms_audit.schema.MESSAGE_SCHEMA`), built column-wise."""
        return columns_frame(self.columns(records, source_format, source_file))


def utf8_texts(values: Sequence[str]) -> list[str]:
    """``values`` as a list, with code points UTF-8 cannot hold (a lone surrogate from a JSON
    ``"\\ud800"`` escape) replaced by U+FFFD; checked once per batch, at C speed."""
    texts = list(values)
    try:
        "\x00".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        return [_SURROGATE.sub("\ufffd", t) for t in texts]
    return texts


_SURROGATE = re.compile("[\ud800-\udfff]")

#: Appended to a message text cut at the body size limit (``Limits.max_body_bytes``).
BODY_CUT_MARK = " [... truncated by sms-audit: longer than the size limit]"


def columns_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """A message frame from :meth:`Normalizer.columns` output."""
    import numpy as np
    import pandas as pd

    data: dict[str, pd.Series] = {}
    for name in MESSAGE_COLUMNS:
        values = columns[name]
        if name in ("timestamp", "sent_timestamp"):
            data[name] = time_column(values)
        elif name in ("is_group", "has_attachments", "is_filtered"):
            data[name] = pd.Series(np.array(values, dtype=bool))
        elif name == "recipients":
            data[name] = pd.Series(values, dtype=object)
        else:
            data[name] = string_column(values)
    return pd.DataFrame(data, columns=list(MESSAGE_COLUMNS))


def _localize(times: pd.Series, zone: str) -> pd.Series:
    """Wall-clock times (stored as if UTC) read in ``zone``, back in UTC. In a DST overlap the
    earlier reading is taken; a time in a DST gap moves forward (the phone could not show it)."""
    import numpy as np

    naive = times.dt.tz_localize(None)
    ambiguous = np.ones(len(naive), dtype=bool)
    return naive.dt.tz_localize(zone, ambiguous=ambiguous, nonexistent="shift_forward").dt.tz_convert("UTC")


def local_to_utc_us(us: int | None, zone: str) -> int | None:
    """One wall-clock time in ``zone`` (µs as if UTC) → Unix µs (the per-message twin of the frame path)."""
    if us is None:
        return None
    return int(_localize(time_column([us]), zone).astype("int64").iloc[0])


def to_frame(messages: Iterable[Message | dict[str, Any]]) -> pd.DataFrame:
    """A message frame (:data:`~sms_audit.schema.MESSAGE_SCHEMA`) from messages or dict rows."""
    import pandas as pd

    rows = [m.to_record() if isinstance(m, Message) else m for m in messages]
    frame = pd.DataFrame.from_records(rows, columns=list(MESSAGE_COLUMNS))
    return normalize_frame_dtypes(frame)


def normalize_frame_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Coerce a frame with the message columns to the canonical dtypes (in place, returned)."""
    import pandas as pd

    string = pd.StringDtype(storage="pyarrow")
    for column in MESSAGE_SCHEMA:
        name = column.name
        if column.kind is Kind.STRING:
            frame[name] = frame[name].fillna("").astype(str).astype(string)
        elif column.kind is Kind.TIME:
            frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601").astype(
                "datetime64[us, UTC]"
            )
        elif column.kind is Kind.BOOL:
            frame[name] = frame[name].fillna(False).astype(bool)
        elif column.kind is Kind.LIST:
            frame[name] = frame[name].map(_as_tuple).astype(object)
    return frame


def _as_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(str(v) for v in value)
    if isinstance(value, str) and value:
        import json

        loaded = json.loads(value) if value.startswith("[") else value.split(";")
        return tuple(str(v) for v in loaded)
    return ()
