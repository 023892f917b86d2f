"""What importers yield (:class:`Record`, raw values only) and how it becomes the message frame.

An importer reads an archive into records that depend on nothing but the file. The
:class:`Normalizer` then derives, with the owner's region, what depends on it — the normalised
address and its kind, the conversation's thread key, group addressing — in one place for every
format, each distinct address normalised once. The pipeline infers the region from an archive's
first records while it reads them (:mod:`sms_audit.pipeline`), so no archive is parsed twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

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
    digest = hashlib.sha256(kind.encode())
    for part in parts:
        text = "" if part is None else str(part)
        digest.update(b"\x1f" + str(len(text)).encode() + b":" + text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def sms_message_id(address_raw: str, direction: Direction, date_ms: int, body: str) -> str:
    """Natural key of an SMS, shared by SB&R XML, mmssms.db and sms-ie (FORMATS.md §6)."""
    return make_message_id("sms", address_identity(address_raw), direction.value, date_ms, body)


def mms_message_id(address_raw: str, direction: Direction, date_s: int, body: str, m_id: str | None) -> str:
    """Natural key of an MMS. ``date_s`` is whole seconds: the provider stores seconds, SB&R ms."""
    return make_message_id("mms", address_identity(address_raw), direction.value, date_s, m_id or "", body)


class Normalizer:
    """Derives the region-dependent columns of records; each distinct address is normalised once.

    ``region`` is the ISO 3166 code national numbers are read in (None keeps them as digits);
    ``zone`` the IANA time zone that local (zone-less) record times are read in (default UTC).
    """

    def __init__(self, region: str | None, zone: str | None = None) -> None:
        self.region = region
        self.zone = zone or "UTC"
        self._seen: dict[str, Address] = {}

    def address(self, raw: str) -> Address:
        found = self._seen.get(raw)
        if found is None:
            found = self._seen[raw] = normalize_address_uncached(raw, self.region)
        return found

    def _derive(self, rec: Record) -> tuple[str, str, str, tuple[str, ...]]:
        """(address, sender_kind, thread_key, recipients) of one record."""
        addr = self.address(rec.address_raw)
        recipients = tuple(dict.fromkeys(self.address(r).key for r in rec.recipients if r and r.strip()))
        if not rec.is_group:
            return addr.key, addr.kind.value, addr.key, recipients
        if rec.group_id.strip():
            thread = rec.group_id.strip().casefold()
        else:
            keys = {self.address(m).key for m in rec.members if m and m.strip()}
            thread = "~".join(sorted(keys)) or addr.key
        author_known = (
            rec.direction is Direction.IN
            and rec.address_raw.strip() != rec.group_id.strip()
            and len(split_group_address(rec.address_raw)) == 1
        )
        if not author_known:
            # A message to a group (or from it, author unknown) has no single other party: its
            # address is the group itself.
            return thread, SenderKind.GROUP.value, thread, recipients
        return addr.key, addr.kind.value, thread, recipients

    def message(self, rec: Record, source_format: str, source_file: str) -> Message:
        """One record as a :class:`Message`."""
        address, kind, thread, recipients = self._derive(rec)
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

    def frame(self, records: Sequence[Record], source_format: str, source_file: str) -> pd.DataFrame:
        """Records as a message frame (:data:`~sms_audit.schema.MESSAGE_SCHEMA`), built column-wise."""
        import numpy as np
        import pandas as pd

        derived = [self._derive(r) for r in records]
        n = len(records)
        columns = list(zip(*records, strict=True)) if n else [()] * len(Record._fields)
        raw = dict(zip(Record._fields, columns, strict=True))
        derived_cols = list(zip(*derived, strict=True)) if n else [(), (), (), ()]

        stamps, sent = time_column(raw["timestamp_us"]), time_column(raw["sent_timestamp_us"])
        local = np.array(raw["local_time"], dtype=bool)
        if local.any():  # wall-clock times without a zone: read them in the archive's zone
            stamps[local] = _localize(stamps[local], self.zone)
            sent[local] = _localize(sent[local], self.zone)
        data = {
            "message_id": string_column(raw["message_id"]),
            "timestamp": stamps,
            "direction": string_column([str(d) for d in raw["direction"]]),
            "address": string_column(derived_cols[0]),
            "sender_kind": string_column(derived_cols[1]),
            "address_raw": string_column(raw["address_raw"]),
            "body": string_column(raw["body"]),
            "service": string_column([str(s) for s in raw["service"]]),
            "thread_key": string_column(derived_cols[2]),
            "recipients": pd.Series(list(derived_cols[3]), dtype=object),
            "is_group": pd.Series(np.array(raw["is_group"], dtype=bool)),
            "has_attachments": pd.Series(np.array(raw["has_attachments"], dtype=bool)),
            "is_filtered": pd.Series(np.array(raw["is_filtered"], dtype=bool)),
            "sent_timestamp": sent,
            "source_format": string_column([source_format] * n),
            "source_file": string_column([source_file] * n),
            "source_record": string_column(raw["source_record"]),
        }
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
