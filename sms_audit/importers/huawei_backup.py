"""Huawei/Honor backups (KoBackup app, HiSuite): the decrypted ``sms.db`` and the encrypted folder.

A Huawei/Honor backup (FORMATS-CN §4) is a folder with ``info.xml`` (root ``<info.xml>``, rows
``<row table="BackupFilesTypeInfo">`` with the key material) and system data as ``<module>.db``
files, ``sms.db`` among them, encrypted with a key derived from the backup password (mandatory
since KoBackup 9). sms-audit reads the **decrypted** ``sms.db`` (or the folder kobackupdec writes)
and, given the encrypted folder, says how to decrypt it.

Why no native decryption: three cipher generations exist (AES-CTR with PBKDF2 5000, then AES-GCM
variants with 5000 or 10000 rounds and a changed check message), the newer two are described by
single, partly contradicting sources, and no public backup with a known password exists to test
against — a decrypter checked only against an encrypter built from the same reading would prove
nothing, and a wrong one would look like a wrong password. kobackupdec (MIT) documents and
implements the verified generations.

``sms.db`` holds the telephony provider's columns (pa_script AutoBackupHuaweiSMSParser, XLY
HuaweiSmsDataParseCoreV1_0): ``sms_tb(address, date ms, date_sent, type, body, read, …)`` with AOSP
``type`` (1 received, 2 sent, 3 draft, 5 failed), and ``table_broadcastchat_tb(send_msg_status,
msg_content, msg_date ms, address)`` for group sends (status 2/5 group-sent, 3 sent, 8 draft).
Rows go through :func:`~sms_audit.importers.android_provider.sms_record`, so the same SMS in an
SB&R export of the phone gets the same id.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sms_audit.errors import CorruptArchive, UnsupportedArchive
from sms_audit.importers._sqlite import (
    column_names,
    count_rows_or_none,
    open_padded_copy,
    open_readonly,
    probe_tables_even_truncated,
    select_list,
    table_names,
    truncated_error,
    truncated_size,
)
from sms_audit.importers.android_provider import sms_record
from sms_audit.importers.base import ReadOptions, ReadStats, Skip, account, build_messages, read_head
from sms_audit.model import Message, Record

NAME = "huawei_backup"
FOLDER = True  # a backup folder is one archive: never split into its files
DESCRIPTION = "Huawei/Honor backup sms.db (decrypted; sms_tb)"

SMS_TABLE = "sms_tb"
BROADCAST_TABLE = "table_broadcastchat_tb"
#: Where kobackupdec puts the decrypted system databases (README: db/; 2020 rewrite: data/data/).
DECRYPTED_DB = ("db/sms.db", "data/data/sms.db", "sms.db")
_KNOWN_TABLES = frozenset({SMS_TABLE, BROADCAST_TABLE, "android_metadata", "sqlite_sequence"})
# send_msg_status → AOSP sms type (XLY's mapping: 2/5 group-sent, 3 sent, 8 draft).
_BROADCAST_TYPE = {2: 2, 3: 2, 5: 2, 8: 3}
_SMS_COLUMNS = ("address", "date", "date_sent", "type", "body")
_BROADCAST_COLUMNS = ("address", "msg_date", "send_msg_status", "msg_content")
_INFO_XML = re.compile(rb"<info\.xml[\s>]")
_PROGRESS_EVERY = 2000

DECRYPT_HINT = (
    "the backup password is needed: decrypt the folder with kobackupdec "
    "(https://github.com/RealityNet/kobackupdec, Python 3 + pycryptodome): "
    'python3 kobackupdec.py PASSWORD "BACKUP_FOLDER" decrypted, then run: sms-audit import decrypted '
    "(kobackupdec does not read HiSuite backups made without your own password, nor every newer "
    "KoBackup version)"
)


def _is_sms_db(path: Path) -> bool:
    tables = probe_tables_even_truncated(path)
    return tables is not None and SMS_TABLE in tables


def _decrypted_db(folder: Path) -> Path | None:
    """The sms.db of a folder written by kobackupdec (or any folder holding a decrypted one)."""
    for relative in DECRYPTED_DB:
        candidate = folder / relative
        if candidate.is_file() and _is_sms_db(candidate):
            return candidate
    return None


def _is_encrypted_backup(folder: Path) -> bool:
    # <info.xml><row table="HeaderInfo">…</row><row table="BackupFilesTypeInfo">…
    head = read_head(folder / "info.xml", 64 * 1024)
    return bool(_INFO_XML.search(head)) and (b'table="HeaderInfo"' in head or b'table="BackupFile' in head)


def sniff(path: Path) -> bool:
    """A decrypted Huawei ``sms.db`` (table ``sms_tb``), a folder holding one, or an encrypted
    KoBackup/HiSuite backup folder (``info.xml`` with the ``BackupFile…`` rows)."""
    if path.is_dir():
        return _decrypted_db(path) is not None or _is_encrypted_backup(path)
    return _is_sms_db(path)


def explain_unsupported(path: Path) -> None:
    """HarmonyOS 5 (NEXT) backups keep an ``info.json`` whose format is not documented anywhere."""
    if not path.is_dir():
        return
    head = read_head(path / "info.json", 8192)
    if head.lstrip().startswith(b"{") and b"backup" in head.lower():
        raise UnsupportedArchive(
            "this looks like a HarmonyOS 5 (NEXT) backup (info.json); its format is not documented and "
            "sms-audit cannot read it",
            path=str(path),
            hint="export the messages another way, e.g. with a backup app that writes SMS Backup & Restore "
            "XML, and import that",
        )


def read(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
    """:func:`read_records`, normalised with ``options.region``."""
    return build_messages(
        read_records(path, options, stats), source_format=NAME, source_file=str(path), region=options.region
    )


def read_records(path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
    """Yield the SMS of ``sms_tb`` then the group sends of ``table_broadcastchat_tb``.

    ``path`` is the decrypted ``sms.db`` or a folder holding it. Raises UnsupportedArchive for the
    encrypted backup folder (with how to decrypt it), TruncatedArchive/CorruptArchive (after every
    row read) for a damaged database.
    """
    db = path
    if path.is_dir():
        found = _decrypted_db(path)
        if found is None:
            raise _encrypted_error(path)
        db = found
        stats.details["huawei_sms_db"] = str(found.relative_to(path))
        _record_identity(found, stats)
    cut = truncated_size(db)
    with open_padded_copy(db, cut[1]) if cut is not None else open_readonly(db) as conn:
        tables = table_names(conn)
        if SMS_TABLE not in tables:
            raise UnsupportedArchive(f"not a Huawei sms.db (no {SMS_TABLE} table)", path=str(path))
        others = sorted(t for t in tables - _KNOWN_TABLES if not t.startswith("sqlite_"))
        if others:
            stats.details["huawei_other_tables"] = ", ".join(others)
        sources = [t for t in (SMS_TABLE, BROADCAST_TABLE) if t in tables]
        done = 0
        try:
            total = count_rows_or_none(conn, sources)
            for table in sources:
                rows = (
                    _sms_rows(conn, cut is not None)
                    if table == SMS_TABLE
                    else _broadcast_rows(conn, cut is not None)
                )
                done_in_table = 0
                for result in rows:
                    done += 1
                    done_in_table += 1
                    if options.on_progress is not None and done % _PROGRESS_EVERY == 0:
                        options.on_progress(done, total)
                    record = account(result, stats)
                    if record is None:
                        continue
                    stats.read += 1
                    yield record
                stats.details[f"huawei_{table}_rows"] = str(done_in_table)
        except sqlite3.DatabaseError as exc:
            if cut is None:
                raise CorruptArchive(
                    f"read {stats.read} messages, then the database failed ({exc})", path=str(path)
                ) from None
        if cut is not None:
            raise truncated_error(path, cut, stats.read)
        if options.on_progress is not None:
            options.on_progress(done, done)


def _encrypted_error(path: Path) -> UnsupportedArchive:
    if not (path / "sms.db").exists():
        return UnsupportedArchive(
            "this Huawei/Honor backup holds no messages (no sms.db in it)",
            path=str(path),
            hint="back up again with 信息 (Messages) selected, remember the backup password, and decrypt "
            "the backup with kobackupdec before importing",
        )
    return UnsupportedArchive(
        "encrypted Huawei/Honor backup (KoBackup/HiSuite): sms-audit reads its sms.db only once it is "
        "decrypted",
        path=str(path),
        hint=DECRYPT_HINT,
    )


def _record_identity(db: Path, stats: ReadStats) -> None:
    from sms_audit.files import sha256_file

    stats.details["sha256"] = sha256_file(db)
    stats.details["sha256_of"] = db.name


CUT_OFF = "text cut off by the truncation"


def _cut_off(*values: object) -> bool:
    """A text value that runs into the zero padding of a truncated copy (see open_padded_copy)."""
    return any(isinstance(v, str) and "\x00" in v for v in values)


def _int(value: object) -> int | None:
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# sms_tb row: (rowid, address, date ms, date_sent ms, type, body)
#             (7, "1069012345670", 1757900000000, 1757899998000, 1, "【优选商城】… 回TD退订")
def _sms_rows(conn: sqlite3.Connection, truncated: bool) -> Iterator[Record | Skip]:
    query = f"SELECT rowid, {select_list(column_names(conn, SMS_TABLE), _SMS_COLUMNS)} FROM {SMS_TABLE} ORDER BY rowid"
    for rowid, address, date, date_sent, kind, body in conn.execute(query):
        if truncated and _cut_off(address, body):
            yield Skip(CUT_OFF)
            continue
        yield sms_record(
            record=f"{SMS_TABLE}:{rowid}",
            address=str(address) if address is not None else None,
            date=date,
            kind=_int(kind),
            body=body if isinstance(body, str) else "",
            date_sent=date_sent,
        )


# table_broadcastchat_tb row: (rowid, address, msg_date ms, send_msg_status, msg_content)
#                             (1, "13800138001,13800138002", 1757900000000, 2, "中秋快乐")
def _broadcast_rows(conn: sqlite3.Connection, truncated: bool) -> Iterator[Record | Skip]:
    columns = select_list(column_names(conn, BROADCAST_TABLE), _BROADCAST_COLUMNS)
    for rowid, address, date, status, content in conn.execute(
        f"SELECT rowid, {columns} FROM {BROADCAST_TABLE} ORDER BY rowid"
    ):
        if truncated and _cut_off(address, content):
            yield Skip(CUT_OFF)
            continue
        code = _int(status)
        yield sms_record(
            record=f"{BROADCAST_TABLE}:{rowid}",
            address=str(address) if address is not None else None,
            date=date,
            kind=_BROADCAST_TYPE.get(code, 0) if code is not None else None,
            body=content if isinstance(content, str) else "",
        )
