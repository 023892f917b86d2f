"""The normalised message record every importer yields, and the frame built from it once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sms_audit.normalize import address_identity, normalize_address
from sms_audit.schema import MESSAGE_COLUMNS, Direction, Service

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class Message:
    """One message, normalised. Raw values are kept next to normalised ones for evidence.

    ``address`` is the *other party*: the sender of an incoming message, the recipient of an
    outgoing one (for a group: the group's thread key). ``timestamp`` is aware UTC.
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
    is_filtered: bool = False  # a phone's spam filter moved it (Samsung spam_sms, iOS is_spam)

    def to_record(self) -> dict[str, Any]:
        """The message as a plain dict in :data:`MESSAGE_COLUMNS` order."""
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


@dataclass(slots=True)
class MessageBuilder:
    """Fills the derived fields (normalised address, kind, id) the same way for every importer."""

    source_format: str
    source_file: str
    region: str | None = None
    _seen_threads: dict[str, str] = field(default_factory=dict)

    def build(
        self,
        *,
        natural_id: str,
        source_record: str,
        direction: Direction,
        address_raw: str,
        timestamp: datetime,
        body: str,
        thread_key: str | None = None,
        sent_timestamp: datetime | None = None,
        service: Service = Service.SMS,
        recipients: Sequence[str] = (),
        has_attachments: bool = False,
        is_group: bool = False,
        is_filtered: bool = False,
    ) -> Message:
        addr = normalize_address(address_raw, self.region)
        norm_recipients = tuple(
            dict.fromkeys(normalize_address(r, self.region).key for r in recipients if r and r.strip())
        )
        return Message(
            message_id=natural_id,
            source_format=self.source_format,
            source_file=self.source_file,
            source_record=source_record,
            thread_key=thread_key or addr.key,
            direction=direction,
            address_raw=address_raw,
            address=addr.key,
            sender_kind=addr.kind.value,
            timestamp=timestamp,
            body=body,
            sent_timestamp=sent_timestamp,
            service=service,
            recipients=norm_recipients,
            has_attachments=has_attachments,
            is_group=is_group,
            is_filtered=is_filtered,
        )


def to_frame(messages: Iterable[Message | dict[str, Any]]) -> pd.DataFrame:
    """Build the message frame once: :data:`MESSAGE_COLUMNS`, pyarrow-backed strings, UTC times."""
    import pandas as pd

    rows = [m.to_record() if isinstance(m, Message) else m for m in messages]
    frame = pd.DataFrame.from_records(rows, columns=list(MESSAGE_COLUMNS))
    return normalize_frame_dtypes(frame)


def normalize_frame_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Coerce a frame with MESSAGE_COLUMNS to the canonical dtypes (in place, returned)."""
    import pandas as pd

    string = pd.StringDtype(storage="pyarrow")
    for name in (
        "message_id",
        "direction",
        "address",
        "sender_kind",
        "address_raw",
        "body",
        "service",
        "thread_key",
        "source_format",
        "source_file",
        "source_record",
    ):
        frame[name] = frame[name].fillna("").astype(str).astype(string)
    for name in ("timestamp", "sent_timestamp"):
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601").astype("datetime64[us, UTC]")
    for name in ("is_group", "has_attachments", "is_filtered"):
        frame[name] = frame[name].fillna(False).astype(bool)
    frame["recipients"] = frame["recipients"].map(_as_tuple)
    return frame


def _as_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(str(v) for v in value)
    if isinstance(value, str) and value:
        import json

        loaded = json.loads(value) if value.startswith("[") else value.split(";")
        return tuple(str(v) for v in loaded)
    return ()
