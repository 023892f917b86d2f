"""The embedded SQLite store: one deduplicated message table, import records and run state.

Messages are keyed by their content-hash ``message_id``, so re-importing the same or an
overlapping backup adds nothing. Each archive is imported in one transaction: an interrupted import
leaves the store as it was. The file is created private to the user (0600, directory 0700).
Reads return message frames (:data:`~sms_audit.schema.MESSAGE_SCHEMA`) built column by column;
callers say what they want with a :class:`~sms_audit.query.MessageFilter`, never with SQL.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sms_audit.errors import StoreError
from sms_audit.normalize import to_unix_us
from sms_audit.schema import MESSAGE_COLUMNS, string_column, time_column

if TYPE_CHECKING:
    import pandas as pd

    from sms_audit.query import MessageFilter

SCHEMA_VERSION = 1

# Each entry upgrades the schema from version i to i + 1 (PRAGMA user_version).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE imports (
        import_id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        size INTEGER,
        sha256 TEXT,
        format TEXT NOT NULL,
        status TEXT NOT NULL,            -- ok | truncated | corrupt
        read INTEGER NOT NULL,
        new INTEGER NOT NULL,
        duplicates INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        excluded INTEGER NOT NULL,
        region TEXT,
        details TEXT NOT NULL DEFAULT '{}',  -- JSON: schema version, device, warnings ...
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL
    );
    CREATE TABLE messages (
        message_id TEXT PRIMARY KEY,
        timestamp_us INTEGER NOT NULL,   -- microseconds since 1970-01-01 UTC
        direction TEXT NOT NULL,
        address TEXT NOT NULL,
        sender_kind TEXT NOT NULL,
        address_raw TEXT NOT NULL,
        body TEXT NOT NULL,
        service TEXT NOT NULL,
        thread_key TEXT NOT NULL,
        recipients TEXT NOT NULL,        -- JSON list of normalised addresses
        is_group INTEGER NOT NULL,
        has_attachments INTEGER NOT NULL,
        is_filtered INTEGER NOT NULL,
        sent_timestamp_us INTEGER,
        source_format TEXT NOT NULL,
        source_file TEXT NOT NULL,
        source_record TEXT NOT NULL,
        import_id INTEGER NOT NULL REFERENCES imports(import_id)
    ) WITHOUT ROWID;
    CREATE INDEX messages_by_time ON messages(timestamp_us);
    CREATE INDEX messages_by_address ON messages(address, timestamp_us);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE seen (                   -- what scheduled runs have already reported (--new)
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (scope, key)
    );
    """,
)
assert len(MIGRATIONS) == SCHEMA_VERSION

# Store columns, in MESSAGE_COLUMNS order (times as integer microseconds).
_STORE_COLUMNS = tuple(
    {"timestamp": "timestamp_us", "sent_timestamp": "sent_timestamp_us"}.get(c, c) for c in MESSAGE_COLUMNS
)
_INSERT = (
    f"INSERT OR IGNORE INTO messages({', '.join(_STORE_COLUMNS)}, import_id) "
    f"VALUES ({', '.join('?' * (len(_STORE_COLUMNS) + 1))})"
)
_SELECT = ", ".join(_STORE_COLUMNS)
_FETCH = 50_000  # rows per fetchmany while building a frame


LOCK_TIMEOUT_ENV = "SMS_AUDIT_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 600.0  # seconds a second import waits for the first (cron jobs overlap)


def lock_timeout_seconds() -> float:
    """``$SMS_AUDIT_LOCK_TIMEOUT`` (seconds), else :data:`DEFAULT_LOCK_TIMEOUT`."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV)
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        return max(0.0, float(raw))
    except ValueError:
        from sms_audit.errors import UsageError

        raise UsageError(f"{LOCK_TIMEOUT_ENV} must be a number of seconds, not {raw!r}") from None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Store:
    """A connection to the store, migrated to :data:`SCHEMA_VERSION` on open.

    Raises StoreError when the file is missing (``create=False``) or is not an sms-audit store.
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if not path.exists():
            if not create:
                raise StoreError(
                    "no message store yet",
                    path=str(path),
                    hint="import an archive first: sms-audit import FILE",
                )
            self._create_private(path)
        self.lock_timeout = lock_timeout_seconds()
        try:
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=self.lock_timeout)
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")
            # WAL: readers see the last committed state while an import writes, and never wait.
            self.conn.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot open the store: {exc}",
                path=str(path),
                hint="is it an sms-audit store? use --db to choose another file",
            ) from None

    @staticmethod
    def _create_private(path: Path) -> None:
        try:
            if not path.parent.exists():
                path.parent.mkdir(parents=True, mode=0o700)
            fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
            os.close(fd)
            os.chmod(path, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot create the store: {exc.strerror}", path=str(path)) from None

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store schema {version} is newer than this sms-audit ({SCHEMA_VERSION})",
                path=str(self.path),
                hint="upgrade sms-audit",
            )
        for target in range(version, SCHEMA_VERSION):
            with self._transaction():
                for statement in _statements(MIGRATIONS[target]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {target + 1}")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise StoreError(
                f"another import is running on this store (waited {self.lock_timeout:.0f} s)",
                path=str(self.path),
                hint=f"run again when it has finished, or wait longer with {LOCK_TIMEOUT_ENV}=SECONDS",
            ) from None
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- meta ----------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- writing -------------------------------------------------------------------------------

    @contextmanager
    def importing(self, source: str, fmt: str) -> Iterator[ImportWriter]:
        """One archive's import, in ONE transaction: rolled back on any exception.

        Use :meth:`ImportWriter.add` for each frame and :meth:`ImportWriter.finish` once at the end;
        an import that was not finished is rolled back too.
        """
        started = _now()
        with self._transaction():
            cursor = self.conn.execute(
                "INSERT INTO imports(path, format, status, read, new, duplicates, skipped, excluded,"
                " started_at, finished_at) VALUES (?, ?, 'running', 0, 0, 0, 0, 0, ?, ?)",
                (source, fmt, started, started),
            )
            writer = ImportWriter(self, int(cursor.lastrowid or 0))
            yield writer
            if not writer.finished:
                raise StoreError("import was not finished", path=source)

    # --- reading -------------------------------------------------------------------------------

    def count_messages(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM messages").fetchone()[0])

    def messages(
        self,
        flt: MessageFilter | None = None,
        *,
        history: bool = True,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> pd.DataFrame:
        """A message frame ordered by time (then id), read column-wise.

        ``history`` (the default) applies only the parts of ``flt`` that keep each sender's whole
        history (sender, addresses) — labels depend on it; ``history=False`` applies every part
        SQL can (time, direction, ASCII search) too.
        """
        where, params = _where(flt, history=history)
        order = "DESC" if newest_first else "ASC"
        sql = (
            f"SELECT {_SELECT} FROM messages {('WHERE ' + where) if where else ''} "
            f"ORDER BY timestamp_us {order}, message_id {order}"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with closing(self.conn.execute(sql, params)) as cursor:
            rows: list[tuple[Any, ...]] = []
            while batch := cursor.fetchmany(_FETCH):
                rows.extend(batch)
        return _frame(rows)

    def imports(self) -> list[dict[str, Any]]:
        cursor = self.conn.execute("SELECT * FROM imports ORDER BY import_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def source_files(self) -> list[dict[str, Any]]:
        """Latest import record per source path (for evidence: name, size, SHA-256)."""
        cursor = self.conn.execute(
            "SELECT path, size, sha256, format, max(finished_at) FROM imports "
            "WHERE status != 'running' GROUP BY path, sha256 ORDER BY path"
        )
        return [
            {"path": p, "size": s, "sha256": h, "format": f, "imported_at": t} for p, s, h, f, t in cursor
        ]

    # --- run state (report --new) -----------------------------------------------------------------

    def unseen(self, scope: str, keys: Iterable[str]) -> set[str]:
        """The keys not yet recorded under ``scope``."""
        wanted = set(keys)
        seen = {k for (k,) in self.conn.execute("SELECT key FROM seen WHERE scope = ?", (scope,))}
        return wanted - seen

    def seen_state(self, scope: str) -> SeenScope:
        """What ``report --new`` has shown, under ``scope`` (a :class:`~sms_audit.pipeline.SeenState`)."""
        return SeenScope(self, scope)

    def mark_seen(self, scope: str, keys: Iterable[str]) -> None:
        now = _now()
        with self._transaction():
            self.conn.executemany(
                "INSERT OR IGNORE INTO seen(scope, key, first_seen) VALUES (?, ?, ?)",
                [(scope, k, now) for k in keys],
            )


class SeenScope:
    """The findings a scheduled run has shown, under one scope name."""

    def __init__(self, store: Store, scope: str) -> None:
        self.store = store
        self.scope = scope

    def unseen(self, keys: Iterable[str]) -> set[str]:
        return self.store.unseen(self.scope, keys)

    def mark_seen(self, keys: Iterable[str]) -> None:
        self.store.mark_seen(self.scope, keys)


class ImportWriter:
    """Adds message frames to one import (see :meth:`Store.importing`)."""

    def __init__(self, store: Store, import_id: int) -> None:
        self.store = store
        self.import_id = import_id
        self.new = 0
        self.finished = False

    def add(self, frame: pd.DataFrame) -> int:
        """Insert a message frame; rows whose message_id is stored already are skipped. Returns
        the number of new rows."""
        if not len(frame):
            return 0
        conn = self.store.conn
        before = conn.total_changes
        conn.executemany(_INSERT, _rows(frame, self.import_id))
        added = conn.total_changes - before
        self.new += added
        return added

    def finish(
        self,
        *,
        status: str,
        read: int,
        skipped: int,
        excluded: int,
        size: int | None,
        sha256: str | None,
        region: str | None,
        details: Mapping[str, str],
    ) -> None:
        """Record the import's outcome (status ok, truncated or corrupt), its counts and the region
        its numbers were read in (the store remembers the first region for later imports)."""
        self.store.conn.execute(
            "UPDATE imports SET size=?, sha256=?, region=?, status=?, read=?, new=?, duplicates=?,"
            " skipped=?, excluded=?, details=?, finished_at=? WHERE import_id=?",
            (
                size,
                sha256,
                region,
                status,
                read,
                self.new,
                read - self.new,
                skipped,
                excluded,
                json.dumps(dict(details), ensure_ascii=False, sort_keys=True),
                _now(),
                self.import_id,
            ),
        )
        if region and self.store.get_meta("region") is None:
            self.store.set_meta("region", region)
        self.finished = True


def _rows(frame: pd.DataFrame, import_id: int) -> Iterator[tuple[Any, ...]]:
    """Store rows from a message frame, column-wise: times as µs, flags as 0/1, lists as JSON."""
    import numpy as np

    def micros(name: str) -> list[int | None]:
        values = frame[name].to_numpy(dtype="datetime64[us]").view(np.int64)
        missing = frame[name].isna().to_numpy()
        return [None if m else int(v) for v, m in zip(values.tolist(), missing.tolist(), strict=True)]

    columns: list[Sequence[Any]] = []
    for name in MESSAGE_COLUMNS:
        if name in ("timestamp", "sent_timestamp"):
            columns.append(micros(name))
        elif name in ("is_group", "has_attachments", "is_filtered"):
            columns.append(frame[name].to_numpy(dtype=bool).astype(np.int8).tolist())
        elif name == "recipients":
            columns.append([json.dumps(list(r), ensure_ascii=False) if r else "[]" for r in frame[name]])
        else:
            columns.append(frame[name].astype(str).tolist())
    columns.append([import_id] * len(frame))
    return zip(*columns, strict=True)


def _frame(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """A message frame from store rows (in :data:`_STORE_COLUMNS` order), built column-wise."""
    import numpy as np
    import pandas as pd

    n = len(rows)
    columns = list(zip(*rows, strict=True)) if n else [()] * len(_STORE_COLUMNS)
    raw = dict(zip(_STORE_COLUMNS, columns, strict=True))

    data: dict[str, pd.Series] = {}
    for name, store_name in zip(MESSAGE_COLUMNS, _STORE_COLUMNS, strict=True):
        values = raw[store_name]
        if name in ("timestamp", "sent_timestamp"):
            data[name] = time_column(values)
        elif name in ("is_group", "has_attachments", "is_filtered"):
            data[name] = pd.Series(np.array(values, dtype=bool))
        elif name == "recipients":
            data[name] = pd.Series([() if v == "[]" else tuple(json.loads(v)) for v in values], dtype=object)
        else:
            data[name] = string_column(values)
    return pd.DataFrame(data, columns=list(MESSAGE_COLUMNS))


def _where(flt: MessageFilter | None, *, history: bool) -> tuple[str, list[Any]]:
    """The WHERE clause (without the keyword) and parameters for a filter."""
    if flt is None:
        return "", []
    clauses: list[str] = []
    params: list[Any] = []
    if flt.sender_raw is not None:
        key = flt.sender if flt.sender is not None else flt.sender_raw
        clauses.append("(address = ? OR address_raw = ? OR thread_key = ?)")
        params.extend([key, flt.sender_raw, key])
    if flt.addresses is not None:
        clauses.append(f"address IN ({', '.join('?' * len(flt.addresses))})" if flt.addresses else "0")
        params.extend(flt.addresses)
    if not history:
        if flt.since:
            clauses.append("timestamp_us >= ?")
            params.append(to_unix_us(flt.since))
        if flt.until:
            clauses.append("timestamp_us < ?")
            params.append(to_unix_us(flt.until))
        if flt.direction:
            clauses.append("direction = ?")
            params.append(flt.direction)
        if flt.search:
            clauses.append("instr(lower(body), lower(?)) > 0")  # SQLite lower() is ASCII-only
            params.append(flt.search)
    return " AND ".join(clauses), params


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip() and not s.strip().startswith("--")]
