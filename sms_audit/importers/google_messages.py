"""Google Messages ``bugle_db`` (rooted or forensic extractions): SMS, MMS and RCS, groups included.

The app's private database (``/data/data/com.google.android.apps.messaging/databases/bugle_db``
plus ``-wal``) is the only place end-to-end encrypted RCS text is kept (FORMATS-CN §6; FORMATS.md
§1.4). Tables (AOSP Messaging ``DatabaseHelper``, checked on a 2026 database):

* ``messages(_id, conversation_id, sender_id → participants, sent_timestamp ms, received_timestamp
  ms, message_protocol 0 SMS / 1 MMS / 3 RCS, message_status, rcs_message_id, …)``;
* ``parts(message_id, content_type, text, …)``: the text of every protocol is ``parts.text`` where
  ``content_type`` is ``text/plain``;
* ``participants(_id, sub_id, send_destination, normalized_destination, display_destination, …)``:
  ``sub_id`` −2 is another person (AOSP ``OTHER_THAN_SELF_SUB_ID``), anything else is the owner;
* ``conversations(_id, name, participant_count, rcs_group_id, …)`` and
  ``conversation_participants(conversation_id, participant_id)``.

Direction comes from the sender's ``sub_id`` (ALEAPP's rule), never from ``message_status``: modern
app versions write statuses AOSP never had (213 on a sent SMS). The status only refines an outgoing
message (3 draft; 4–9 queued or failed). Only when a message has no sender participant are the AOSP
status ranges used (1–9 outgoing, 100–107 incoming); anything else is skipped and counted. A
conversation with more than one other participant, or an RCS group id, is a group.

SMS get the same id as in SB&R/mmssms.db (Bugle copies the provider's ``date`` into
``received_timestamp`` and its address into ``send_destination``); MMS and RCS get ids of their own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from pathlib import Path

from sms_audit.errors import CorruptArchive, UnsupportedArchive
from sms_audit.importers._sqlite import (
    column_names,
    count_rows_or_none,
    open_padded_copy,
    open_readonly,
    probe_tables_even_truncated,
    scalar,
    select_list,
    table_names,
    truncated_error,
    truncated_size,
)
from sms_audit.importers.base import (
    Exclude,
    ReadOptions,
    ReadStats,
    Skip,
    account,
    build_messages,
    main_time_us,
    secondary_time_us,
)
from sms_audit.model import Message, Record, make_message_id, sms_message_id
from sms_audit.schema import Direction, Service

NAME = "google_messages"
DESCRIPTION = "Google Messages bugle_db (SQLite)"

REQUIRED_TABLES = frozenset({"messages", "parts", "participants", "conversations"})
OTHER_THAN_SELF = -2  # participants.sub_id of everyone but the phone's owner
PROTOCOL_SERVICE = {0: Service.SMS, 1: Service.MMS, 3: Service.RCS}
_DRAFT = 3
_NOT_SENT = frozenset(range(4, 10))  # yet to send, sending, resending, awaiting retry, failed (AOSP)
_AOSP_OUTGOING = frozenset(range(1, 10))
_AOSP_INCOMING = frozenset(range(100, 108))
_TEXT = "text/plain"
_SMIL = "application/smil"
_MESSAGE_COLUMNS = (
    "_id",
    "conversation_id",
    "sender_id",
    "sent_timestamp",
    "received_timestamp",
    "message_protocol",
    "message_status",
    "rcs_message_id",
)
_PROGRESS_EVERY = 2000


@dataclass(frozen=True, slots=True)
class _Participant:
    sub_id: int | None
    destination: str

    @property
    def is_other(self) -> bool:
        return self.sub_id == OTHER_THAN_SELF


@dataclass(frozen=True, slots=True)
class _Conversation:
    members: tuple[str, ...]  # the other participants' destinations
    group_id: str  # the RCS group id, or ""
    is_group: bool


def sniff(path: Path) -> bool:
    """A bugle_db has ``messages``, ``parts``, ``participants`` and ``conversations``, with
    ``participants.sub_id`` and ``messages.sender_id`` (iOS has ``message``; mmssms.db ``sms``)."""
    tables = probe_tables_even_truncated(path)
    if tables is None or not REQUIRED_TABLES <= tables:
        return False
    info = path.stat()
    return _has_bugle_columns(str(path.resolve()), info.st_size, info.st_mtime_ns)


@lru_cache(maxsize=16)
def _has_bugle_columns(path: str, _size: int, _mtime: int) -> bool:
    cut = truncated_size(Path(path))
    try:
        with open_padded_copy(Path(path), cut[1]) if cut else open_readonly(Path(path)) as conn:
            return "sub_id" in column_names(conn, "participants") and "sender_id" in column_names(
                conn, "messages"
            )
    except (CorruptArchive, sqlite3.DatabaseError, OSError):
        return False


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region``."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Yield every message of a bugle_db (a ``-wal`` beside it is read too, without changing it).

    Messages with no part at all (RCS system events) are counted as excluded. Raises
    TruncatedArchive/CorruptArchive after every row read when the database is damaged.
    """
    cut = truncated_size(path)
    with open_padded_copy(path, cut[1]) if cut is not None else open_readonly(path) as conn:
        tables = table_names(conn)
        missing = sorted(REQUIRED_TABLES - tables) or [
            f"{table}.{column}"
            for table, column in (("participants", "sub_id"), ("messages", "sender_id"))
            if column not in column_names(conn, table)
        ]
        if missing:
            raise UnsupportedArchive(
                f"not a Google Messages bugle_db (no {', '.join(missing)})", path=str(path)
            )
        stats.details["bugle_user_version"] = str(scalar(conn, "PRAGMA user_version"))
        protocols: dict[str, int] = {}
        done = 0
        try:
            participants = _load_participants(conn)
            conversations = _load_conversations(conn, tables, participants)
            total = count_rows_or_none(conn, ["messages"])
            for result in _messages(conn, participants, conversations, protocols, cut is not None):
                done += 1
                if options.on_progress is not None and done % _PROGRESS_EVERY == 0:
                    options.on_progress(done, total)
                record = account(result, stats)
                if record is None:
                    continue
                stats.read += 1
                yield record
        except sqlite3.DatabaseError as exc:
            if cut is None:
                raise CorruptArchive(
                    f"read {stats.read} messages, then the database failed ({exc})", path=str(path)
                ) from None
        for protocol, count in sorted(protocols.items()):
            stats.details[f"bugle_protocol_{protocol}"] = str(count)
        if cut is not None:
            raise truncated_error(path, cut, stats.read)
        if options.on_progress is not None:
            options.on_progress(done, done)


def _load_participants(conn: sqlite3.Connection) -> dict[int, _Participant]:
    # participants row: (4, -2, "+12025550142", "+12025550142", "(202) 555-0142")
    columns = select_list(
        column_names(conn, "participants"),
        ("_id", "sub_id", "send_destination", "normalized_destination", "display_destination"),
    )
    found: dict[int, _Participant] = {}
    for rowid, sub_id, send, normalized, display in conn.execute(f"SELECT {columns} FROM participants"):
        if not isinstance(rowid, int):
            continue
        destination = next((str(v).strip() for v in (send, normalized, display) if v and str(v).strip()), "")
        found[rowid] = _Participant(sub_id if isinstance(sub_id, int) else _int(sub_id), destination)
    return found


def _load_conversations(
    conn: sqlite3.Connection, tables: set[str], participants: dict[int, _Participant]
) -> dict[int, _Conversation]:
    members: dict[int, list[str]] = {}
    if "conversation_participants" in tables:
        for conversation_id, participant_id in conn.execute(
            "SELECT conversation_id, participant_id FROM conversation_participants ORDER BY conversation_id, _id"
            if "_id" in column_names(conn, "conversation_participants")
            else "SELECT conversation_id, participant_id FROM conversation_participants"
        ):
            person = participants.get(participant_id) if isinstance(participant_id, int) else None
            if person is not None and person.is_other and person.destination:
                members.setdefault(conversation_id, []).append(person.destination)
    columns = select_list(column_names(conn, "conversations"), ("_id", "participant_count", "rcs_group_id"))
    found: dict[int, _Conversation] = {}
    for rowid, count, rcs_group_id in conn.execute(f"SELECT {columns} FROM conversations"):
        people = tuple(dict.fromkeys(members.get(rowid, ())))
        group_id = str(rcs_group_id).strip() if rcs_group_id else ""
        is_group = len(people) > 1 or bool(group_id) or (_int(count) or 0) > 1
        found[rowid] = _Conversation(people, group_id, is_group)
    return found


def _int(value: object) -> int | None:
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _grouped(rows: Iterable[tuple[object, ...]]) -> Iterator[tuple[int, list[tuple[object, ...]]]]:
    for key, group in groupby(rows, key=lambda row: row[0]):
        if isinstance(key, int):
            yield key, list(group)


def _messages(
    conn: sqlite3.Connection,
    participants: dict[int, _Participant],
    conversations: dict[int, _Conversation],
    protocols: dict[str, int],
    truncated: bool = False,
) -> Iterator[Record | Skip | Exclude]:
    """Merge-join messages with their parts, both streamed in message-id order. In a truncated copy
    a text that runs into the zero padding (a NUL in it) marks a message as cut off."""
    query = (
        f"SELECT {select_list(column_names(conn, 'messages'), _MESSAGE_COLUMNS)} FROM messages ORDER BY _id"
    )
    # parts row: (message_id, content_type, text) = (17, "text/plain", "See you at 6")
    parts = _grouped(
        conn.execute("SELECT message_id, content_type, text FROM parts ORDER BY message_id, _id")
    )
    next_parts = next(parts, None)
    for row in conn.execute(query):
        rowid = row[0]
        mine: list[tuple[object, ...]] = []
        while next_parts is not None and isinstance(rowid, int) and next_parts[0] < rowid:
            next_parts = next(parts, None)
        if next_parts is not None and next_parts[0] == rowid:
            mine, next_parts = next_parts[1], next(parts, None)
        if truncated and any(isinstance(v, str) and "\x00" in v for part in mine for v in part):
            yield Skip("text cut off by the truncation")
            continue
        yield _message(row, mine, participants, conversations, protocols)


# messages row: (_id, conversation_id, sender_id, sent_timestamp ms, received_timestamp ms,
#                message_protocol, message_status, rcs_message_id)
#               (17, 3, 4, 1757900000000, 1757900001000, 3, 100, "MxAbC…")
def _message(
    row: tuple[object, ...],
    parts: list[tuple[object, ...]],
    participants: dict[int, _Participant],
    conversations: dict[int, _Conversation],
    protocols: dict[str, int],
) -> Record | Skip | Exclude:
    rowid, conversation_id, sender_id, sent, received, protocol, status, rcs_message_id = row
    code = _int(protocol)
    if code is None:
        code = 0  # AOSP's column default
    protocols[str(code)] = protocols.get(str(code), 0) + 1
    texts = [str(t) for _m, ct, t in parts if str(ct or "").lower().startswith(_TEXT) and t is not None]
    attachments = any(
        str(ct or "").lower() not in ("", _SMIL) and not str(ct).lower().startswith(_TEXT)
        for _m, ct, _t in parts
    )
    if not parts and code != 1:
        return Exclude("message without content (RCS/system event)")
    direction = _direction(participants.get(sender_id) if isinstance(sender_id, int) else None, _int(status))
    if isinstance(direction, Skip):
        return direction
    when = main_time_us(received if _int(received) else sent)
    if isinstance(when, Skip):
        return when
    conversation = (
        conversations.get(conversation_id) if isinstance(conversation_id, int) else None
    ) or _Conversation((), "", False)
    sender = participants.get(sender_id) if isinstance(sender_id, int) else None
    group = conversation.is_group
    if direction is Direction.IN:
        address = sender.destination if sender is not None and sender.destination else ""
        if not address and len(conversation.members) == 1:
            address = conversation.members[0]
    elif group:
        address = conversation.group_id or "~".join(conversation.members)
    else:
        address = conversation.members[0] if conversation.members else ""
    if not address:
        return Skip("no address (conversation without other participants)")
    body = "".join(texts)
    date_ms = when // 1000
    service = PROTOCOL_SERVICE.get(code, Service.UNKNOWN)
    if service is Service.SMS:
        message_id = sms_message_id(address, direction, date_ms, body)
    else:
        group_key = conversation.group_id or "~".join(sorted(conversation.members))
        message_id = make_message_id(
            "bugle", code, group_key, address, direction.value, date_ms, body, rcs_message_id or ""
        )
    return Record(
        message_id=message_id,
        source_record=f"messages:{rowid}",
        direction=direction,
        timestamp_us=when,
        address_raw=address,
        body=body,
        service=service,
        sent_timestamp_us=secondary_time_us(sent) if _int(sent) else None,
        recipients=tuple(m for m in conversation.members if m != address) if group else (),
        is_group=group,
        group_id=conversation.group_id if group else "",
        members=conversation.members if group else (),
        has_attachments=attachments,
    )


def _direction(sender: _Participant | None, status: int | None) -> Direction | Skip:
    """In or out from the sender's sub_id; the status only says whether an outgoing one was sent."""
    if sender is not None and sender.sub_id is not None:
        outgoing = not sender.is_other
    elif status in _AOSP_OUTGOING:
        outgoing = True
    elif status in _AOSP_INCOMING:
        outgoing = False
    else:
        return Skip("no sender participant (direction unknown)")
    if not outgoing:
        return Direction.IN
    if status == _DRAFT:
        return Direction.DRAFT
    if status in _NOT_SENT:
        return Direction.FAILED
    return Direction.OUT
