"""Android telephony provider database ``mmssms.db``: sms, MMS (pdu/part/addr), Samsung spam_sms."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from itertools import groupby
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
from sms_audit.importers.android_provider import mms_record, sms_record
from sms_audit.importers.base import Exclude, ReadOptions, ReadStats, Skip, account, build_messages
from sms_audit.model import Message, Record

NAME = "android_mmssms"
DESCRIPTION = "Android mmssms.db (telephony provider database)"

_SMS_COLUMNS = ("_id", "thread_id", "address", "date", "date_sent", "type", "body")
_PDU_COLUMNS = ("_id", "thread_id", "date", "date_sent", "msg_box", "m_id", "tr_id", "m_type")
_PROGRESS_EVERY = 2000


def sniff(path: Path) -> bool:
    """An mmssms.db has ``sms`` plus ``threads``/``canonical_addresses`` or ``pdu`` (FORMATS.md §7)."""
    tables = probe_tables(path)
    return tables is not None and "sms" in tables and bool({"threads", "canonical_addresses", "pdu"} & tables)


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region``."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Yield SMS (``sms`` and Samsung's ``spam_sms``, the latter marked filtered) and MMS.

    SMS ids match the SB&R XML importer's (same address, type, ms date, body); MMS ids use the
    provider's seconds and ``m_id``. Raises CorruptArchive for a damaged database.
    """
    with open_readonly(path) as conn:
        tables = table_names(conn)
        if "sms" not in tables:
            raise UnsupportedArchive("not an Android mmssms.db (no sms table)", path=str(path))
        _record_schema(conn, tables, stats)
        threads = _load_threads(conn, tables, stats)
        sources = [t for t in ("sms", "spam_sms", "pdu") if t in tables]
        total = sum(count_rows(conn, t) for t in sources)
        done = 0
        try:
            for table in sources:
                results = (
                    _read_mms(conn, tables, threads) if table == "pdu" else _read_sms(conn, table, threads)
                )
                for result in results:
                    done += 1
                    if options.on_progress is not None and done % _PROGRESS_EVERY == 0:
                        options.on_progress(done, total)
                    record = account(result, stats)
                    if record is None:
                        continue
                    stats.read += 1
                    yield record
        except sqlite3.DatabaseError as exc:
            raise CorruptArchive(
                f"read {stats.read} messages, then the database failed ({exc})", path=str(path)
            ) from None
        stats.details["android_spam_sms"] = str(count_rows(conn, "spam_sms")) if "spam_sms" in tables else "0"
        if options.on_progress is not None:
            options.on_progress(total, total)


def _record_schema(conn: sqlite3.Connection, tables: set[str], stats: ReadStats) -> None:
    stats.details["android_user_version"] = str(scalar(conn, "PRAGMA user_version"))
    sms_columns = set(column_names(conn, "sms"))
    if "spam_sms" in tables or {"sim_slot", "secret_mode"} & sms_columns:
        stats.details["android_vendor"] = "samsung"
    elif "lgeSiid" in sms_columns:
        stats.details["android_vendor"] = "lg"
    if "spam_pdu" in tables:
        stats.details["android_spam_pdu_not_imported"] = str(count_rows(conn, "spam_pdu"))


def _load_threads(conn: sqlite3.Connection, tables: set[str], stats: ReadStats) -> dict[int, list[str]]:
    """Thread participants; damaged thread tables cost the group details, not the messages."""
    try:
        return _threads(conn, tables)
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        stats.warnings.append(f"the thread tables are damaged ({exc}); group details are missing")
        return {}


def _threads(conn: sqlite3.Connection, tables: set[str]) -> dict[int, list[str]]:
    """thread id -> participant addresses (small tables, loaded once; messages are streamed).

    threads.recipient_ids is "space-separated canonical_addresses ids in numerical order".
    """
    if not {"threads", "canonical_addresses"} <= tables:
        return {}
    canonical = {
        rowid: address
        for rowid, address in rows(conn, "SELECT _id, address FROM canonical_addresses ORDER BY _id")
        if isinstance(address, str)
    }
    threads: dict[int, list[str]] = {}
    # threads row: (7, "3 12 15")
    for thread_id, recipient_ids in rows(conn, "SELECT _id, recipient_ids FROM threads ORDER BY _id"):
        # ASCII digits only: "²".isdigit() is true, and int() refuses it and 5,000-digit numbers
        ids = [
            int(i) for i in text_value(recipient_ids).split() if i.isascii() and i.isdigit() and len(i) < 19
        ]
        threads[thread_id] = [canonical[i] for i in ids if i in canonical]
    return threads


def _int(value: object) -> int | None:
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# --- SMS -----------------------------------------------------------------------------------------


# sms row: (_id, thread_id, address, date ms, date_sent ms, type, body)
#          (41, 7, "22000", 1709647200123, 1709647199000, 1, "ACME: 20% off. Reply STOP to opt out")
def _read_sms(conn: sqlite3.Connection, table: str, threads: dict[int, list[str]]) -> Iterator[Record | Skip]:
    query = f"SELECT {select_list(column_names(conn, table), _SMS_COLUMNS)} FROM {table} ORDER BY _id"
    filtered = table == "spam_sms"  # Samsung's blocked/spam folder: received, then filtered
    for rowid, thread_id, address, date, date_sent, kind, body in rows(conn, query):
        address_raw = text_value(address)
        if not address_raw:
            listed = threads.get(thread_id, []) if isinstance(thread_id, int) else []
            address_raw = listed[0] if len(listed) == 1 else ""
        yield sms_record(
            record=f"{table}:{rowid}",
            address=address_raw,
            date=date,
            kind=_int(kind) if kind is not None else (1 if filtered else None),
            body=body if isinstance(body, str) else "",
            date_sent=date_sent,
            filtered=filtered,
        )


# --- MMS -----------------------------------------------------------------------------------------


def _grouped(rows: Iterable[tuple[object, ...]]) -> Iterator[tuple[int, list[tuple[object, ...]]]]:
    for key, group in groupby(rows, key=lambda row: row[0]):
        if isinstance(key, int):
            yield key, list(group)


def _read_mms(
    conn: sqlite3.Connection, tables: set[str], threads: dict[int, list[str]]
) -> Iterator[Record | Skip | Exclude]:
    """Merge-join pdu with its part and addr rows, all three streamed in message-id order.

    (A query per pdu would rescan the unindexed part/addr tables for every message.)
    """
    pdus = rows(conn, f"SELECT {select_list(column_names(conn, 'pdu'), _PDU_COLUMNS)} FROM pdu ORDER BY _id")
    # part rows: (mid, seq, ct, text) = (12, 0, "text/plain", "see attached"); (12, -1, "application/smil", ...)
    parts = _grouped(
        rows(conn, "SELECT mid, seq, ct, text FROM part ORDER BY mid, seq, _id") if "part" in tables else ()
    )
    # addr rows: (msg_id, address, type) = (12, "+12025550142", 137), (12, "insert-address-token", 151)
    addrs = _grouped(
        rows(conn, "SELECT msg_id, address, type FROM addr ORDER BY msg_id, _id") if "addr" in tables else ()
    )
    next_part, next_addr = next(parts, None), next(addrs, None)
    for rowid, thread_id, date, date_sent, box, m_id, tr_id, m_type in pdus:
        if not isinstance(rowid, int):
            yield Skip("MMS without an _id")
            continue
        my_parts: list[tuple[object, ...]] = []
        my_addrs: list[tuple[object, ...]] = []
        while next_part is not None and next_part[0] < rowid:
            next_part = next(parts, None)
        if next_part is not None and next_part[0] == rowid:
            my_parts, next_part = next_part[1], next(parts, None)
        while next_addr is not None and next_addr[0] < rowid:
            next_addr = next(addrs, None)
        if next_addr is not None and next_addr[0] == rowid:
            my_addrs, next_addr = next_addr[1], next(addrs, None)
        yield mms_record(
            record=f"pdu:{rowid}",
            date=date,
            date_sent=date_sent,
            box=_int(box),
            m_id=m_id if isinstance(m_id, str) else None,
            tr_id=tr_id if isinstance(tr_id, str) else None,
            addrs=[(text_value(a), _int(t)) for _mid, a, t in my_addrs],
            parts=[(text_value(ct), t if isinstance(t, str) else None) for _mid, _seq, ct, t in my_parts],
            listed=threads.get(thread_id, []) if isinstance(thread_id, int) else [],
            m_type=_int(m_type),
        )
