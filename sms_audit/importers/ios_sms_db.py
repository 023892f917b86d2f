"""iOS ``sms.db`` and macOS ``chat.db`` (iOS 6 to today): messages, handles, chats, attributedBody."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sms_audit.errors import CorruptArchive, UnsupportedArchive
from sms_audit.importers._sqlite import (
    column_names,
    count_rows,
    open_readonly,
    probe_tables,
    rows,
    scalar,
    select_list,
    table_names,
    text_value,
)
from sms_audit.importers.base import ReadOptions, ReadStats, Skip, build_messages, main_time_us
from sms_audit.importers.typedstream import decode_attributed_body, strip_placeholders
from sms_audit.model import Message, Record, make_message_id
from sms_audit.schema import Direction, Service

NAME = "ios_sms_db"
DESCRIPTION = "iOS sms.db / macOS chat.db (SQLite)"

_GROUP_STYLE = 43  # chat.style: 43 = group, 45 = 1:1 (FORMATS.md §4.3)
_PROGRESS_EVERY = 2000
# Columns read from `message`, by name; missing ones (older iOS, trimmed copies) read as NULL.
_MESSAGE_COLUMNS = (
    "ROWID",
    "guid",
    "text",
    "attributedBody",
    "handle_id",
    "service",
    "is_from_me",
    "date",
    "error",
    "cache_roomnames",
    "associated_message_type",
    "item_type",
    "group_action_type",
    "group_title",
    "is_system_message",
    "is_service_message",
    "is_spam",
    "cache_has_attachments",
)
_LEGACY_TABLES = frozenset({"msg_group", "madrid_chat", "group_member", "msg_pieces"})
_LEGACY_HINT = (
    "sms-audit reads the sms.db of iOS 6 and later; back the phone up with a current "
    "iTunes/Finder (or export the messages with another tool) and import that"
)


def _is_legacy(tables: frozenset[str] | set[str]) -> bool:
    # iOS <= 5 (`_ClientVersion` 21): `message` without `handle`, with msg_group/madrid_* tables.
    return "message" in tables and "handle" not in tables and bool(tables & _LEGACY_TABLES)


def sniff(path: Path) -> bool:
    """An iOS Messages database has the tables ``message`` and ``handle`` (``chat`` is optional)."""
    tables = probe_tables(path)
    return tables is not None and {"message", "handle"} <= tables


def explain_unsupported(path: Path) -> None:
    """Reject the pre-iOS 6 schema with a clear error instead of "not a supported archive"."""
    tables = probe_tables(path)
    if tables is not None and _is_legacy(tables):
        with open_readonly(path) as conn:
            raise _legacy_error(conn, str(path))


def _legacy_error(conn: sqlite3.Connection, source_file: str) -> UnsupportedArchive:
    version = scalar(conn, "SELECT value FROM _SqliteDatabaseProperties WHERE key = '_ClientVersion'")
    suffix = f", _ClientVersion {version}" if version is not None else ""
    return UnsupportedArchive(
        f"unsupported legacy iOS database (iOS 5 or older{suffix})", path=source_file, hint=_LEGACY_HINT
    )


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region``."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Yield the text messages of an sms.db/chat.db; tapbacks, group events and system rows are
    counted in ``stats.excluded`` instead. Raises UnsupportedArchive for the iOS 5 schema."""
    return read_database(path, options, stats, source_file=str(path))


@dataclass(frozen=True, slots=True)
class _Chat:
    identifier: str  # "+12025550142", "22000", "chat493875620745871235"
    is_group: bool
    participants: tuple[str, ...]


def read_database(
    db_path: Path, options: ReadOptions, stats: ReadStats, *, source_file: str
) -> Iterator[Record]:
    """Read the Messages database at ``db_path``; ``source_file`` is what the user gave (a backup
    folder, or the database itself; used in errors), ``db_path`` may be a private decrypted copy."""
    with open_readonly(db_path) as conn:
        tables = table_names(conn)
        if _is_legacy(tables):
            raise _legacy_error(conn, source_file)
        if not {"message", "handle"} <= tables:
            raise UnsupportedArchive(
                "not an iOS Messages database (no message/handle tables)", path=source_file
            )
        _record_schema(conn, tables, stats)
        chats = _load_chats(conn, tables, stats)
        total = count_rows(conn, "message")
        done = 0
        counts = {"tapbacks": 0, "group_events": 0, "system": 0, "empty": 0, "spam": 0}
        try:
            for row in rows(conn, _message_query(conn, tables)):
                done += 1
                if options.on_progress is not None and done % _PROGRESS_EVERY == 0:
                    options.on_progress(done, total)
                message = _message(row, chats, counts, stats)
                if message is not None:
                    stats.read += 1
                    yield message
        except sqlite3.DatabaseError as exc:
            raise CorruptArchive(
                f"read {stats.read} messages, then the database failed ({exc})", path=source_file
            ) from None
        for key, value in counts.items():
            stats.details[f"ios_{key}"] = str(value)
        if options.on_progress is not None:
            options.on_progress(total, total)


def _record_schema(conn: sqlite3.Connection, tables: set[str], stats: ReadStats) -> None:
    if "_SqliteDatabaseProperties" in tables:
        version = scalar(conn, "SELECT value FROM _SqliteDatabaseProperties WHERE key = '_ClientVersion'")
        if version is not None:
            stats.details["ios_client_version"] = str(version)
    stats.details["ios_message_columns"] = str(len(column_names(conn, "message")))


def _load_chats(conn: sqlite3.Connection, tables: set[str], stats: ReadStats) -> dict[int, _Chat]:
    """Chats and their participants; an unreadable chat table costs the group details, not the messages."""
    try:
        return _chats(conn, tables)
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        stats.warnings.append(
            f"the chat tables are damaged ({exc}); group and participant details are missing"
        )
        return {}


def _chats(conn: sqlite3.Connection, tables: set[str]) -> dict[int, _Chat]:
    """Chats and their participants (small tables, loaded once; messages are streamed)."""
    if "chat" not in tables:  # trimmed copies (iosbackup-mvt-ios14) have only message + handle
        return {}
    participants: dict[int, list[str]] = {}
    if "chat_handle_join" in tables:
        for chat_id, handle in rows(
            conn,
            "SELECT j.chat_id, h.id FROM chat_handle_join j JOIN handle h ON h.ROWID = j.handle_id "
            "ORDER BY j.chat_id, h.ROWID",
        ):
            if handle:
                participants.setdefault(chat_id, []).append(text_value(handle))
    cols = column_names(conn, "chat")
    chats: dict[int, _Chat] = {}
    query = (
        f"SELECT {select_list(cols, ('ROWID', 'guid', 'style', 'chat_identifier', 'room_name'))} FROM chat"
    )
    for rowid, guid, style, identifier, room_name in rows(conn, query + " ORDER BY ROWID"):
        people = tuple(dict.fromkeys(participants.get(rowid, ())))
        is_group = style == _GROUP_STYLE or bool(room_name) or len(people) > 1
        chats[rowid] = _Chat(text_value(identifier or guid or rowid), is_group, people)
    return chats


def _message_query(conn: sqlite3.Connection, tables: set[str]) -> str:
    cols = column_names(conn, "message")
    chat_id = (
        "(SELECT min(j.chat_id) FROM chat_message_join j WHERE j.message_id = m.ROWID)"
        if "chat_message_join" in tables
        else "NULL"
    )
    return (
        f"SELECT {select_list(cols, _MESSAGE_COLUMNS, alias='m')}, h.id AS handle, "
        f"h.service AS handle_service, {chat_id} AS chat_id "
        "FROM message m LEFT JOIN handle h ON h.ROWID = m.handle_id ORDER BY m.ROWID"
    )


# A row, with the names of _MESSAGE_COLUMNS + handle, handle_service, chat_id, e.g. (iOS 16):
# (412, "5C1A…-9E", None, b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@…", 3, "SMS", 0,
#  708541200000000000, 0, None, 0, 0, 0, None, 0, 0, 0, 0, "22000", "SMS", 4)
def _message(
    row: tuple[object, ...], chats: dict[int, _Chat], counts: dict[str, int], stats: ReadStats
) -> Record | None:
    (
        _rowid,
        guid,
        text,
        attributed,
        _handle_id,
        service,
        is_from_me,
        date,
        error,
        roomnames,
        assoc_type,
        item_type,
        action_type,
        group_title,
        is_system,
        is_service,
        is_spam,
        has_att,
        handle,
        handle_service,
        chat_id,
    ) = row
    if isinstance(assoc_type, int) and 2000 <= assoc_type < 4000:
        # Tapbacks/reactions (2000-2005 add, 3000-3005 remove; later versions add 2006/2007 ...).
        counts["tapbacks"] += 1
        stats.excluded += 1
        return None
    if item_type or action_type or group_title is not None:
        counts["group_events"] += 1  # member added/removed, renamed, photo changed, SharePlay
        stats.excluded += 1
        return None
    if is_system or is_service:
        counts["system"] += 1
        stats.excluded += 1
        return None
    if not guid:
        stats.skip("no guid")
        return None
    when = main_time_us(date if isinstance(date, (int, float)) else None, apple=True)
    if isinstance(when, Skip):
        stats.skip(str(when))
        return None
    if isinstance(text, str):
        raw_body: str | None = text
    else:
        raw_body = decode_attributed_body(attributed if isinstance(attributed, bytes) else None)
    body = strip_placeholders(raw_body or "")
    has_attachments = bool(has_att) or (raw_body is not None and "\ufffc" in raw_body)
    if not body and not has_attachments:
        counts["empty"] += 1  # retracted ("unsent") messages and rows without any content
        stats.excluded += 1
        return None

    chat = chats.get(chat_id) if isinstance(chat_id, int) else None
    is_group = bool(roomnames) or (chat is not None and chat.is_group)
    outgoing = bool(is_from_me)
    direction = (Direction.FAILED if error else Direction.OUT) if outgoing else Direction.IN
    # Received: the sender is the handle. Sent 1:1: the handle is the recipient (or, when it is 0,
    # the chat's only participant). Sent to a group: the group itself (its chat_identifier).
    group_id = (chat.identifier if chat is not None else text_value(roomnames)) if is_group else ""
    if outgoing and is_group:
        address_raw = group_id
    else:
        address_raw = text_value(handle) or (chat.identifier if chat is not None else "")
    if not address_raw:
        stats.skip("no handle or chat")
        return None
    participants = chat.participants if chat is not None else ()
    if is_group:
        recipients = tuple(p for p in participants if p != address_raw)
    else:
        recipients = (address_raw,) if outgoing else ()
    if is_spam:
        counts["spam"] += 1
    return Record(
        message_id=make_message_id("ios", text_value(guid)),
        source_record=text_value(guid),
        direction=direction,
        timestamp_us=when,
        address_raw=address_raw,
        body=body,
        service=_service(service, handle_service, has_attachments),
        recipients=recipients,
        is_group=is_group,
        group_id=group_id,
        members=participants if is_group else (),
        has_attachments=has_attachments,
        is_filtered=bool(is_spam),
    )


def _service(service: object, handle_service: object, has_attachments: bool) -> Service:
    """``message.service`` ("SMS", "iMessage", "rcs"/"RCS" on iOS 18+), else the handle's (it is
    NULL in iosbackup-mvt-ios14). An SMS row with attachments is an MMS."""
    name = str(service or handle_service or "").lower()
    if name == "sms":
        return Service.MMS if has_attachments else Service.SMS
    if name.startswith("imessage"):  # "iMessage", "iMessageLite" (satellite)
        return Service.IMESSAGE
    if name == "rcs":
        return Service.RCS
    return Service.UNKNOWN
