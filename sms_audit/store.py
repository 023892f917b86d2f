"""The embedded SQLite store: one deduplicated message table, import records and run state.

Messages are keyed by their content-hash ``message_id``, so re-importing the same or an
overlapping backup adds nothing. Each archive is imported in one transaction: an interrupted import
leaves the store as it was. The file is created private to the user (0600, directory 0700).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sms_audit.errors import StoreError
from sms_audit.importers.base import ReadStats
from sms_audit.model import MESSAGE_COLUMNS, Message

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1
_BATCH = 2000

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


@dataclass(slots=True)
class ImportResult:
    """What one archive added to the store (the per-file summary line)."""

    path: str
    format: str
    read: int = 0
    new: int = 0
    duplicates: int = 0
    skipped: int = 0
    excluded: int = 0
    status: str = "pending"  # ok | truncated | corrupt once recorded in the store
    details: dict[str, str] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _us(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class Store:
    """A connection to the store, migrated to :data:`SCHEMA_VERSION` on open."""

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
        try:
            self.conn = sqlite3.connect(path, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA busy_timeout = 5000")
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
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(MIGRATIONS[target]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {target + 1}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

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
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- writing -------------------------------------------------------------------------------

    def import_messages(
        self,
        messages: Iterable[Message],
        result: ImportResult,
        *,
        source: Path,
        region: str | None,
        stats: ReadStats | None = None,
    ) -> ImportResult:
        """Insert messages in ONE transaction; duplicates (same message_id) are counted, not added.

        If ``messages`` raises, the exception propagates after the transaction is rolled back,
        except for :class:`~sms_audit.errors.TruncatedArchive`/``CorruptArchive``, where every
        message read before the break is kept and the import recorded with that status.
        """
        from sms_audit.errors import CorruptArchive, TruncatedArchive

        started = _now()
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        error: CorruptArchive | None = None
        try:
            cursor = conn.execute(
                "INSERT INTO imports(path, format, status, read, new, duplicates, skipped, excluded,"
                " region, started_at, finished_at) VALUES (?, ?, 'running', 0, 0, 0, 0, 0, ?, ?, ?)",
                (str(source), result.format, region, started, started),
            )
            import_id = cursor.lastrowid
            batch: list[tuple[Any, ...]] = []
            try:
                for message in messages:
                    batch.append(_row(message, import_id))
                    result.read += 1
                    if len(batch) >= _BATCH:
                        result.new += self._insert(batch)
                        batch.clear()
            except CorruptArchive as exc:  # includes TruncatedArchive: keep what was read
                error = exc
                result.status = "truncated" if isinstance(exc, TruncatedArchive) else "corrupt"
            result.new += self._insert(batch)
            result.duplicates = result.read - result.new
            if result.status == "pending":
                result.status = "ok"
            if stats is not None:
                result.skipped, result.excluded = stats.skipped, stats.excluded
                result.details.update(stats.details)
            size = source.stat().st_size if source.is_file() else None
            digest = sha256_file(source) if source.is_file() else result.details.get("sha256")
            details = dict(result.details)
            if error is not None:
                details["error"] = error.message
            conn.execute(
                "UPDATE imports SET size=?, sha256=?, status=?, read=?, new=?, duplicates=?, skipped=?,"
                " excluded=?, details=?, finished_at=? WHERE import_id=?",
                (
                    size,
                    digest,
                    result.status,
                    result.read,
                    result.new,
                    result.duplicates,
                    result.skipped,
                    result.excluded,
                    json.dumps(details, ensure_ascii=False, sort_keys=True),
                    _now(),
                    import_id,
                ),
            )
            if region and self.get_meta("region") is None:
                self.set_meta("region", region)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if error is not None:
            raise error
        return result

    def _insert(self, rows: Sequence[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        before = self.conn.total_changes
        self.conn.executemany(_INSERT, rows)
        return self.conn.total_changes - before

    # --- reading -------------------------------------------------------------------------------

    def count_messages(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM messages").fetchone()[0])

    def iter_rows(
        self,
        where: str = "",
        params: Sequence[Any] = (),
        *,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Message records (MESSAGE_COLUMNS) ordered by time, optionally filtered with SQL."""
        order = "DESC" if newest_first else "ASC"
        sql = (
            f"SELECT {_SELECT} FROM messages {('WHERE ' + where) if where else ''} "
            f"ORDER BY timestamp_us {order}, message_id {order}"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with closing(self.conn.execute(sql, tuple(params))) as cursor:
            for row in cursor:
                yield _record(row)

    def load_frame(
        self,
        where: str = "",
        params: Sequence[Any] = (),
        *,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> pd.DataFrame:
        from sms_audit.model import to_frame

        return to_frame(self.iter_rows(where, params, limit=limit, newest_first=newest_first))

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

    def mark_seen(self, scope: str, keys: Iterable[str]) -> None:
        now = _now()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(
                "INSERT OR IGNORE INTO seen(scope, key, first_seen) VALUES (?, ?, ?)",
                [(scope, k, now) for k in keys],
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise


_STORE_COLUMNS = (
    "message_id",
    "timestamp_us",
    "direction",
    "address",
    "sender_kind",
    "address_raw",
    "body",
    "service",
    "thread_key",
    "recipients",
    "is_group",
    "has_attachments",
    "is_filtered",
    "sent_timestamp_us",
    "source_format",
    "source_file",
    "source_record",
)
_INSERT = (
    f"INSERT OR IGNORE INTO messages({', '.join(_STORE_COLUMNS)}, import_id) "
    f"VALUES ({', '.join('?' * (len(_STORE_COLUMNS) + 1))})"
)
_SELECT = ", ".join(_STORE_COLUMNS)


def _row(m: Message, import_id: int | None) -> tuple[Any, ...]:
    return (
        m.message_id,
        _us(m.timestamp),
        m.direction.value,
        m.address,
        m.sender_kind,
        m.address_raw,
        m.body,
        m.service.value,
        m.thread_key,
        json.dumps(list(m.recipients), ensure_ascii=False),
        int(m.is_group),
        int(m.has_attachments),
        int(m.is_filtered),
        _us(m.sent_timestamp),
        m.source_format,
        m.source_file,
        m.source_record,
        import_id,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _record(row: Sequence[Any]) -> dict[str, Any]:
    from datetime import timedelta

    values = dict(zip(_STORE_COLUMNS, row, strict=True))
    record = {name: values.get(name) for name in MESSAGE_COLUMNS}
    record["timestamp"] = _EPOCH + timedelta(microseconds=values["timestamp_us"])
    sent = values["sent_timestamp_us"]
    record["sent_timestamp"] = None if sent is None else _EPOCH + timedelta(microseconds=sent)
    record["recipients"] = tuple(json.loads(values["recipients"]))
    for name in ("is_group", "has_attachments", "is_filtered"):
        record[name] = bool(values[name])
    return record


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip() and not s.strip().startswith("--")]
