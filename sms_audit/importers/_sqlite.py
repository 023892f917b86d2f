"""Read-only SQLite access for evidence databases: WAL-safe copies, table and column probing."""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sms_audit.errors import CorruptArchive, TruncatedArchive
from sms_audit.importers.base import read_head

SQLITE_MAGIC = b"SQLite format 3\x00"
#: Files SQLite keeps next to a database; the WAL may hold the newest, not yet checkpointed rows.
SIDECARS = ("-wal", "-shm", "-journal")
_HEADER_SIZE = 100


def is_sqlite(path: Path) -> bool:
    """True when ``path`` is a file that starts with the SQLite 3 magic (FORMATS.md §7)."""
    return path.is_file() and read_head(path, _HEADER_SIZE).startswith(SQLITE_MAGIC)


def _needs_copy(path: Path, header: bytes) -> bool:
    # Header bytes 18/19 = 2 mean WAL mode. mode=ro on such a file fails in a read-only folder
    # ("attempt to write a readonly database"), and immutable=1 silently ignores the -wal file.
    wal_mode = len(header) >= 20 and (header[18] == 2 or header[19] == 2)
    return wal_mode or any(Path(f"{path}{suffix}").exists() for suffix in SIDECARS)


@contextmanager
def open_readonly(path: Path) -> Iterator[sqlite3.Connection]:
    """Open an evidence database without ever modifying it.

    A WAL-mode database, or one with ``-wal``/``-shm``/``-journal`` sidecars, is copied together
    with its sidecars into a private 0700 temporary directory (removed afterwards, even on error)
    and the copy is opened; otherwise the original is opened with ``mode=ro``.
    Raises CorruptArchive when the file is not a readable SQLite database.
    """
    header = read_head(path, _HEADER_SIZE)
    if not header.startswith(SQLITE_MAGIC):
        raise CorruptArchive(
            "not an SQLite database",
            path=str(path),
            hint="the file may be damaged, encrypted, or another format",
        )
    tmpdir: str | None = None
    conn: sqlite3.Connection | None = None
    try:
        target = path
        if _needs_copy(path, header):
            tmpdir = tempfile.mkdtemp(prefix="sms-audit-")
            os.chmod(tmpdir, stat.S_IRWXU)
            target = Path(tmpdir) / "evidence.db"
            shutil.copyfile(path, target)
            for suffix in SIDECARS:
                sidecar = Path(f"{path}{suffix}")
                if sidecar.exists():
                    shutil.copyfile(sidecar, Path(f"{target}{suffix}"))
        # The copy is ours, but it is still opened read-only: SQLite replays the WAL from -wal/-shm.
        uri = f"file:{quote(str(target.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True)
        try:
            conn.execute("SELECT name, sql FROM sqlite_master").fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise CorruptArchive(
                f"corrupt SQLite database: its schema cannot be read ({_reason(exc)})",
                path=str(path),
                hint="the file is damaged (an interrupted copy?) or encrypted; copy it from the phone again",
            ) from None
        yield conn
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise CorruptArchive(f"corrupt SQLite database ({_reason(exc)})", path=str(path)) from None
    finally:
        if conn is not None:
            conn.close()
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _reason(exc: BaseException) -> str:
    # SQLite's message about a damaged schema can itself hold undecodable bytes
    return "undecodable text in the schema" if isinstance(exc, UnicodeDecodeError) else str(exc)


def rows(conn: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The rows of a query with a fixed ORDER BY, surviving text that is not UTF-8.

    Rows are read with Python's fast UTF-8 decoding; at the first undecodable text the query runs
    again with a decoder that puts U+FFFD in place of the bad bytes, from the row it stopped at
    (a damaged body costs characters, never the rows after it).
    """
    done = 0
    try:
        for row in conn.execute(sql, params):
            done += 1
            yield row
        return
    except UnicodeDecodeError:
        pass
    except sqlite3.OperationalError as exc:  # what Python's sqlite3 raises for text that is not UTF-8
        if not str(exc).startswith("Could not decode to UTF-8"):
            raise
    previous = conn.text_factory
    conn.text_factory = _tolerant
    try:
        yield from itertools.islice(conn.execute(sql, params), done, None)
    finally:
        conn.text_factory = previous


def _tolerant(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def text_value(value: object) -> str:
    """A cell read as text. SQLite lets any column hold any type (a damaged or hand-edited database
    has numbers in TEXT columns, text in BLOBs): numbers are written out, blobs decoded as UTF-8
    with U+FFFD for bad bytes, NULL is ""."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return _tolerant(value)
    return value if isinstance(value, str) else str(value)


def explain_corrupt(path: Path) -> None:
    """For an SQLite file no importer recognised: raise CorruptArchive when it is damaged, or
    UnsupportedArchive naming its tables when it is just another database."""
    from sms_audit.errors import UnsupportedArchive

    if not is_sqlite(path):
        return
    with open_readonly(path) as conn:
        conn.text_factory = _tolerant
        names = sorted(table_names(conn))
    shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
    raise UnsupportedArchive(
        f"an SQLite database without SMS tables (tables: {shown or 'none'})",
        path=str(path),
        hint="pass mmssms.db, sms.db/chat.db or bugle_db, or a backup that holds one",
    )


def table_names(conn: sqlite3.Connection) -> set[str]:
    """Names of the tables in the database (views and indexes excluded)."""
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def column_names(conn: sqlite3.Connection, table: str) -> list[str]:
    """Column names of ``table`` in declaration order (``PRAGMA table_info``); [] if it is missing."""
    return [row[1] for row in conn.execute(f"PRAGMA table_info({quote_ident(table)})")]


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (table and column names come from the file, so never trust them)."""
    return '"' + name.replace('"', '""') + '"'


def select_list(available: Iterable[str], wanted: Iterable[str], alias: str = "") -> str:
    """``"col"`` for every wanted column that exists, ``NULL AS "col"`` for the others.

    Schemas differ between vendors and OS versions, so queries are built from what is there
    (plaso's CheckRequiredTablesAndColumns, imessage-exporter's query variants).
    """
    have = {name.lower() for name in available}
    prefix = f"{alias}." if alias else ""
    return ", ".join(
        f"{prefix}{quote_ident(col)} AS {quote_ident(col)}"
        if col.lower() in have
        else f"NULL AS {quote_ident(col)}"
        for col in wanted
    )


def count_rows(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()[0])


def scalar(conn: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()) -> object:
    """The first column of the first row, or None (also when the query fails on an odd schema)."""
    try:
        row = conn.execute(sql, params).fetchone()
    except sqlite3.DatabaseError:
        return None
    return None if row is None else row[0]


def probe_tables(path: Path) -> frozenset[str] | None:
    """Table names of an SQLite file for sniffing, or None when it is not a readable database.

    Cached by (path, size, mtime): every database importer sniffs the same file in turn.
    """
    if not is_sqlite(path):
        return None
    try:
        info = path.stat()
    except OSError:
        return None
    return _probe_tables(str(path.resolve()), info.st_size, info.st_mtime_ns)


@lru_cache(maxsize=64)
def _probe_tables(path: str, _size: int, _mtime: int) -> frozenset[str] | None:
    try:
        with open_readonly(Path(path)) as conn:
            conn.text_factory = _tolerant
            return frozenset(table_names(conn))
    except (CorruptArchive, sqlite3.DatabaseError, UnicodeDecodeError, OSError):
        return None


def truncated_size(path: Path) -> tuple[int, int] | None:
    """(actual, expected) byte sizes when a database file is shorter than its header says, else None.

    The header's page count (offset 28) is trusted only when its version-valid-for number (offset 92)
    equals the change counter (offset 24), as the SQLite file format requires
    (https://sqlite.org/fileformat2.html §1.3). A cut-off copy reads as "malformed" to SQLite; this
    tells the user it is truncated instead.
    """
    header = read_head(path, _HEADER_SIZE)
    if len(header) < _HEADER_SIZE or not header.startswith(SQLITE_MAGIC):
        return None
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if not pages or header[24:28] != header[92:96]:
        return None
    try:
        actual = path.stat().st_size
    except OSError:
        return None
    expected = pages * page_size
    return (actual, expected) if actual < expected else None


@contextmanager
def open_padded_copy(path: Path, size: int) -> Iterator[sqlite3.Connection]:
    """Open a truncated database (see :func:`truncated_size`) so that its surviving pages can be read.

    SQLite refuses a file shorter than its header says ("malformed") even where the rows are intact.
    The file (and any sidecar) is copied into a private 0700 temporary directory, the copy's partial
    last page is dropped and the copy padded with zero bytes to ``size``, then opened read-only; a
    query that reaches a missing page then fails with DatabaseError after the rows before it. A text
    value whose overflow pages are missing reads with NUL characters: callers treat those rows as cut
    off. The original is never modified.
    """
    tmpdir = tempfile.mkdtemp(prefix="sms-audit-")
    os.chmod(tmpdir, stat.S_IRWXU)
    conn: sqlite3.Connection | None = None
    try:
        target = Path(tmpdir) / "evidence.db"
        shutil.copyfile(path, target)
        header = read_head(path, _HEADER_SIZE)
        page_size = int.from_bytes(header[16:18], "big") if len(header) >= 18 else 0
        page_size = 65536 if page_size == 1 else page_size or 4096
        with open(target, "r+b") as handle:
            # The last page is partly missing: drop it whole, or its cells would point into the
            # padding and read as made-up rows. Then extend with zero bytes.
            handle.truncate(os.path.getsize(target) // page_size * page_size)
            handle.truncate(size)
        for suffix in SIDECARS:
            sidecar = Path(f"{path}{suffix}")
            if sidecar.exists():
                shutil.copyfile(sidecar, Path(f"{target}{suffix}"))
        conn = sqlite3.connect(f"file:{quote(str(target.resolve()))}?mode=ro", uri=True)
        try:
            conn.execute("SELECT name, sql FROM sqlite_master").fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise CorruptArchive(
                f"cannot read the truncated SQLite database ({_reason(exc)})",
                path=str(path),
                hint="the file was cut off before the end of its table definitions",
            ) from None
        yield conn
    except UnicodeDecodeError as exc:  # as in open_readonly: SQLite's message held undecodable bytes
        raise CorruptArchive(f"corrupt SQLite database ({_reason(exc)})", path=str(path)) from None
    finally:
        if conn is not None:
            conn.close()
        shutil.rmtree(tmpdir, ignore_errors=True)


def probe_tables_even_truncated(path: Path) -> frozenset[str] | None:
    """:func:`probe_tables`, and for a cut-off database the tables its surviving header pages name."""
    tables = probe_tables(path)
    if tables is not None or not is_sqlite(path):
        return tables
    cut = truncated_size(path)
    if cut is None:
        return None
    try:
        with open_padded_copy(path, cut[1]) as conn:
            conn.text_factory = _tolerant
            return frozenset(table_names(conn))
    except (CorruptArchive, sqlite3.DatabaseError, UnicodeDecodeError, OSError):
        return None


def truncated_error(path: Path, cut: tuple[int, int], records: int) -> TruncatedArchive:
    """The error for a database found to be cut off after ``records`` messages were read from it."""
    return TruncatedArchive(
        f"read {records} messages; the database is truncated ({cut[0]} of {cut[1]} bytes)",
        path=str(path),
        records_read=records,
        hint="the copy was cut off; every message on the pages before the break was read",
    )


def count_rows_or_none(conn: sqlite3.Connection, tables: Iterable[str]) -> int | None:
    """The rows of ``tables`` together, or None when a damaged page stops the count (the rows
    before it can still be read one by one)."""
    try:
        return sum(count_rows(conn, table) for table in tables)
    except sqlite3.DatabaseError:
        return None
