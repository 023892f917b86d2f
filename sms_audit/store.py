"""The embedded SQLite store: deduplicated messages with their labels, import records, run state.

Messages are identified by a 64-bit key derived from their content-hash ``message_id``, so
re-importing the same or an overlapping backup adds nothing (duplicates are skipped by key before a
row is built). Each archive is imported — and its senders labelled — in one transaction: an
interrupted import leaves the store as it was. Labels are written at import time with the
fingerprint of the rules/model that produced them (``labels`` table, ``meta.labels_fingerprint``)
and recomputed once when that fingerprint changes. The file is created private to the user (0600,
directory 0700) and runs in WAL mode: readers see the last committed state while an import writes.

Reads return frames built column by column (:data:`~sms_audit.schema.MESSAGE_SCHEMA`, plus the
classifier's columns when labelled); callers say what they want with a
:class:`~sms_audit.query.MessageFilter`, never with SQL.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sms_audit.errors import StoreError
from sms_audit.normalize import to_unix_us, us_to_datetime
from sms_audit.output import us_time_text
from sms_audit.schema import CLASSIFY_COLUMNS, MESSAGE_COLUMNS, string_column

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from sms_audit.model import Record
    from sms_audit.query import MessageFilter

SCHEMA_VERSION = 3

_MESSAGES_V2 = """
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,          -- row id: new messages are appended
        key INTEGER NOT NULL UNIQUE,     -- 64-bit key from message_id: duplicates are skipped by it
        message_id TEXT NOT NULL,
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
    );
    CREATE INDEX messages_by_address ON messages(address, timestamp_us);
    CREATE INDEX messages_by_time ON messages(timestamp_us, message_id);
    CREATE TABLE labels (                -- the classifier's columns, one row per message
        id INTEGER PRIMARY KEY REFERENCES messages(id),
        label TEXT NOT NULL,
        reason TEXT NOT NULL,
        brand TEXT NOT NULL,
        brand_display TEXT NOT NULL,
        optout_keyword TEXT NOT NULL,
        is_resubscribe INTEGER NOT NULL,
        is_trap INTEGER NOT NULL,
        trap_reason TEXT NOT NULL,
        is_promotional INTEGER NOT NULL
    );
    -- what the report starts from: unsubscribe replies and confirmations, traps, brands
    CREATE INDEX labels_unsubscribe ON labels(label)
        WHERE label IN ('unsubscribe-reply', 'unsubscribe-confirmation');
    CREATE INDEX labels_trap ON labels(id) WHERE is_trap;
    CREATE INDEX labels_by_brand ON labels(brand) WHERE brand != '';
"""

_TOTALS_WHERE = "m.direction IN ('in', 'out') AND NOT m.is_group"
#: The group conversations' messages a report leaves out (and says how many).
_GROUPS_COUNT = "SELECT count(*) FROM messages WHERE direction IN ('in', 'out') AND is_group"
_HOURLY_REFRESH = f"""
    DELETE FROM hourly;
    INSERT INTO hourly(hour, label, messages)
    SELECT m.timestamp_us / 3600000000, l.label, count(*) FROM messages m JOIN labels l ON l.id = m.id
    WHERE {_TOTALS_WHERE} GROUP BY 1, 2;
    DELETE FROM meta WHERE key = 'totals';
    INSERT INTO meta(key, value) SELECT 'totals', json_array(count(*), min(timestamp_us), max(timestamp_us),
        ({_GROUPS_COUNT}))
    FROM messages m WHERE {_TOTALS_WHERE};
"""

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
        timestamp_us INTEGER NOT NULL,
        direction TEXT NOT NULL,
        address TEXT NOT NULL,
        sender_kind TEXT NOT NULL,
        address_raw TEXT NOT NULL,
        body TEXT NOT NULL,
        service TEXT NOT NULL,
        thread_key TEXT NOT NULL,
        recipients TEXT NOT NULL,
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
    # 1 → 2: an integer key (faster imports), messages appended in time order, labels stored.
    """
    DROP INDEX messages_by_time;
    DROP INDEX messages_by_address;
    ALTER TABLE messages RENAME TO messages_v1;
    """
    + _MESSAGES_V2
    + """
    INSERT INTO messages(key, message_id, timestamp_us, direction, address, sender_kind, address_raw, body,
        service, thread_key, recipients, is_group, has_attachments, is_filtered, sent_timestamp_us,
        source_format, source_file, source_record, import_id)
    SELECT sms_audit_key(message_id), message_id, timestamp_us, direction, address, sender_kind, address_raw,
        body, service, thread_key, recipients, is_group, has_attachments, is_filtered, sent_timestamp_us,
        source_format, source_file, source_record, import_id
    FROM messages_v1 ORDER BY timestamp_us, message_id;
    DROP TABLE messages_v1;
    DELETE FROM meta WHERE key = 'labels_fingerprint';
    """,
    # 2 → 3: the report's whole-archive counts kept with the labels (see Store._refresh_totals)
    """
    CREATE TABLE hourly (                 -- 1:1 in/out messages per UTC hour and label
        hour INTEGER NOT NULL,            -- hours since 1970-01-01 UTC
        label TEXT NOT NULL,
        messages INTEGER NOT NULL,
        PRIMARY KEY (hour, label)
    ) WITHOUT ROWID;
    """
    + _HOURLY_REFRESH,
)
assert len(MIGRATIONS) == SCHEMA_VERSION

# Stored message columns, in MESSAGE_COLUMNS order (times as integer microseconds).
#: The stored name of each time column (Unix µs).
_STORED = {"timestamp": "timestamp_us", "sent_timestamp": "sent_timestamp_us"}
_STORE_COLUMNS = tuple(_STORED.get(c, c) for c in MESSAGE_COLUMNS)
_INSERT = (
    f"INSERT OR IGNORE INTO messages(key, {', '.join(_STORE_COLUMNS)}, import_id) "
    f"VALUES ({', '.join('?' * (len(_STORE_COLUMNS) + 2))})"
)
_SELECT = ", ".join(f"m.{c}" for c in _STORE_COLUMNS)
_LABEL_COLUMNS = tuple(c for c in CLASSIFY_COLUMNS if c != "sender_kind")
_SELECT_LABELLED = _SELECT + ", " + ", ".join(f"l.{c}" for c in _LABEL_COLUMNS)
_STAGE_LABELS = (
    f"INSERT INTO temp.new_labels(id, {', '.join(_LABEL_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(_LABEL_COLUMNS) + 1))})"
)
#: What the classifier reads of a stored message (:func:`~sms_audit.classifier.classify_frame`).
CLASSIFIER_INPUT = ("direction", "address", "sender_kind", "body", "timestamp")
_CLASSIFIER_SELECT = tuple(_STORED.get(c, c) for c in CLASSIFIER_INPUT)
# What a report reads of each message (the rest stays empty in its frame): no recipients, thread
# or record ids, which only listings show; no service; no group flag (it selects 1:1 messages only).
_REPORT_COLUMNS = tuple(
    c
    for c in _STORE_COLUMNS + _LABEL_COLUMNS
    if c
    not in (
        "thread_key",
        "recipients",
        "source_record",
        "has_attachments",
        "is_filtered",
        "sent_timestamp_us",
        "source_format",
        "service",
        "is_group",
    )
)
_REPORT_SELECT = ", ".join(("l." if c in _LABEL_COLUMNS else "m.") + c for c in _REPORT_COLUMNS)
# The report's selection: the numbers unsubscribed from (or that sent a trap), their brands, then
# every 1:1 message of those numbers and every incoming one of those brands, by index lookups
# (number; brand), never a scan of the whole store. CROSS JOIN: labels first, through the partial
# indexes (the planner has no statistics).
_REPORT_SQL = (
    "WITH numbers(address) AS ("
    "SELECT m.address FROM labels l CROSS JOIN messages m ON m.id = l.id "
    "WHERE l.label IN ('unsubscribe-reply', 'unsubscribe-confirmation') AND l.label = 'unsubscribe-reply' "
    "AND m.direction = 'out' AND NOT m.is_group "
    "UNION SELECT m.address FROM labels l CROSS JOIN messages m ON m.id = l.id "
    "WHERE l.is_trap AND m.direction = 'in' AND NOT m.is_group), "
    "brands(brand) AS (SELECT DISTINCT l.brand FROM messages m JOIN labels l ON l.id = m.id "
    "WHERE m.address IN (SELECT address FROM numbers) AND m.direction = 'in' AND l.brand != ''), "
    "wanted(id) AS (SELECT m.id FROM messages m WHERE m.address IN (SELECT address FROM numbers) "
    "UNION SELECT l.id FROM labels l WHERE l.brand != '' AND l.brand IN (SELECT brand FROM brands)) "
    f"SELECT {_REPORT_SELECT} FROM wanted w JOIN messages m ON m.id = w.id JOIN labels l ON l.id = m.id "
    "WHERE m.direction IN ('in', 'out') AND NOT m.is_group AND ("
    "m.address IN (SELECT address FROM numbers) "
    "OR (l.brand IN (SELECT brand FROM brands) AND m.direction = 'in')) "
    "ORDER BY m.timestamp_us, m.message_id"
)
_BOOLEAN = frozenset(
    {"is_group", "has_attachments", "is_filtered", "is_resubscribe", "is_trap", "is_promotional"}
)
FETCH = 20_000  # rows per classification chunk when labelling
_REPORT_FETCH = 5_000  # rows per Arrow conversion of the report selection: less held as tuples at once
_ADBC_BATCH_ROWS = 65_536  # rows per Arrow batch from the ADBC driver (its default, 1,024, makes many chunks)
STREAM_BATCH = 10_000  # rows per frame when streaming messages out: small frames, flat memory
_STORE_TABLES = frozenset({"imports", "messages", "meta"})  # in every schema version
FIRST_BATCH = 1_000  # the first records of a listing: out before a whole batch is fetched
LOCK_TIMEOUT_ENV = "SMS_AUDIT_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 600.0  # seconds a second import waits for the first (cron jobs overlap)
# Page cache while importing: the random inserts into the key index stay in memory (1,000,000
# messages: 88 s / 401 MB peak at 32 MiB, 92 s / 440 MB at 64 MiB).
_CACHE_KIB = 32_768
# While labelling: SQLite's sorter buffers as much as the page cache before it spills to a temporary
# file, and the labels are merged in id order, which touches few pages (1,000,000-message relabel:
# 30 s / 386 MB peak at 16 MiB against 34 s / 451 MB at 64 MiB).
_LABEL_CACHE_KIB = 16_384
#: New rows after which an import that at least doubles the store drops the secondary indexes
#: and builds them again at the end (:meth:`ImportWriter._defer_indexes`).
_DEFER_INDEXES_AT = 50_000
_DEFERRABLE_INDEXES = ("messages_by_address", "messages_by_time")
_FLAG_COLUMNS = frozenset({"is_group", "has_attachments", "is_filtered"})


def message_key(message_id: str) -> int:
    """The 64-bit store key of a message id (its first 16 hex digits, as a signed integer)."""
    try:
        value = int(message_id[:16], 16)
    except ValueError:
        import hashlib

        value = int.from_bytes(
            hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).digest()[:8], "big"
        )
    return value - (1 << 63)


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


@dataclass(frozen=True, slots=True)
class Totals:
    """Whole-store facts a report states without reading every message (1:1 in/out messages):
    their count and span, and ``by_hour`` — messages per UTC hour and label (columns ``hour``,
    ``label``, ``messages``), from which any zone's months and weeks are counted."""

    messages: int
    first: datetime | None
    last: datetime | None
    by_hour: pd.DataFrame | None = None
    group_messages: int = 0  # incoming/outgoing messages of group conversations: not checked


class Store:
    """A connection to the store, migrated to :data:`SCHEMA_VERSION` on open.

    ``scratch``: a private store for one command, removed after it (archives read directly): its
    rollback journal is kept in memory instead of a write-ahead log, and nothing waits for the disk
    (a 1,000,000-message direct report: 46.1 → 43.6 s). Raises StoreError when the file is missing
    (``create=False``) or is not an sms-audit store.
    """

    def __init__(self, path: Path, *, create: bool = True, scratch: bool = False) -> None:
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
            self.conn.create_function("sms_audit_key", 1, message_key, deterministic=True)
            self.conn.create_function("sms_audit_fold", 1, _fold, deterministic=True)
            self.conn.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")
            self._check_ours(create)  # before anything is written: a phone's sms.db stays untouched
            self.conn.execute("PRAGMA foreign_keys = ON")
            if scratch:
                # a private store for one command, removed after it: no write-ahead log written
                # and then copied into the file (a rollback journal in memory still undoes a
                # failed import), no waiting for the disk
                self.conn.execute("PRAGMA journal_mode = MEMORY")
                self.conn.execute("PRAGMA synchronous = OFF")
            else:
                # WAL: readers see the last committed state while an import writes, and never wait.
                self.conn.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            readonly = "readonly" in str(exc) or "read-only" in str(exc)
            raise StoreError(
                f"cannot open the store: {exc}",
                path=str(path),
                hint=(
                    # WAL mode writes its -wal and -shm files beside the store, even to read it
                    "the store or its folder is read-only: sms-audit writes its journal files beside "
                    "the store; copy it to a folder you can write to, or give write access"
                    if readonly
                    else "is it an sms-audit store? use --db to choose another file"
                ),
            ) from None

    def _check_ours(self, create: bool) -> None:
        """Refuse a database that is not an sms-audit store (a phone's ``sms.db`` given as ``--db``):
        only an empty database becomes one, and only when ``create`` (an import), made private."""
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {
            name for (name,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if version >= 1 and tables >= _STORE_TABLES:
            return
        if tables or version:
            self.conn.close()
            raise StoreError(
                "not an sms-audit store: a database of something else, left untouched",
                path=str(self.path),
                hint="to read it as an archive: sms-audit import PATH (--db names sms-audit's own store)",
            )
        if not create:
            self.conn.close()
            raise StoreError(
                "no message store yet (an empty file)",
                path=str(self.path),
                hint="import an archive first: sms-audit import FILE",
            )
        with suppress(OSError):  # private like a store made here
            os.chmod(self.path, 0o600)

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

        Use :meth:`ImportWriter.add` for each batch, :meth:`ImportWriter.label` and
        :meth:`ImportWriter.finish` once at the end; an import that was not finished is rolled back.
        """
        started = _now()
        self.conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
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

    def labelled_as(self) -> str | None:
        """The fingerprint of the rules/model every stored label was made with (None: not all are)."""
        return self.get_meta("labels_fingerprint")

    def relabel(
        self,
        classify: Callable[[pd.DataFrame], pd.DataFrame],
        fingerprint: str,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> int:
        """Label every message again (the rules or the model changed); one transaction. Returns rows."""
        with self._transaction():
            self.conn.execute("DELETE FROM labels")
            done = self._label(classify, None, on_progress)
            self.set_meta("labels_fingerprint", fingerprint)
        return done

    def _refresh_totals(self) -> None:
        """Recount the whole-archive figures a report states (:meth:`totals`) after labels changed:
        one grouped scan here instead of one per report."""
        for statement in _HOURLY_REFRESH.split(";"):
            if statement.strip():
                self.conn.execute(statement)

    def _label(
        self,
        classify: Callable[[pd.DataFrame], pd.DataFrame],
        addresses: set[str] | None,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> int:
        """Classify the whole history of ``addresses`` (None: every address) in chunks of about
        :data:`FETCH` rows that never split one address, and store the labels.

        ``classify`` is given the classifier's input columns only (:data:`CLASSIFIER_INPUT`: direction,
        address, sender_kind, body, timestamp) and must return at least :data:`_LABEL_COLUMNS`.
        The history is read in address order through SQLite's sorter (a sequential scan, then an
        external merge sort in bounded memory: 1,000,000 messages in 3.7 s, against 11 s walking the
        address index, which reads the table's pages in random order). Labels come out in that order
        too; they are appended to a temporary table and merged into ``labels`` once, in id order,
        instead of being inserted at random places of its B-tree (1,000,000 labels: 6.8 s against
        8.9 s with a warm page cache, and far more when the cache spills). The page cache is
        :data:`_LABEL_CACHE_KIB` meanwhile.
        """
        conn = self.conn
        if addresses is not None:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS affected(address TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM temp.affected")
            conn.executemany("INSERT OR IGNORE INTO temp.affected VALUES (?)", ((a,) for a in addresses))
            where = "WHERE m.address IN (SELECT address FROM temp.affected)"
            total = conn.execute(f"SELECT count(*) FROM messages m {where}").fetchone()[0]
        else:
            where = ""
            total = self.count_messages()
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS new_labels(id INTEGER, {', '.join(_LABEL_COLUMNS)})")
        conn.execute("DELETE FROM temp.new_labels")
        # "+m.address": sort, do not walk the index (see above)
        sql = (
            f"SELECT m.id, {', '.join('m.' + c for c in _CLASSIFIER_SELECT)} FROM messages m {where} "
            "ORDER BY +m.address, m.timestamp_us, m.message_id"
        )
        address_at = 1 + _CLASSIFIER_SELECT.index("address")
        conn.execute(f"PRAGMA cache_size = -{_LABEL_CACHE_KIB}")
        done = 0
        pending: list[tuple[Any, ...]] = []
        with closing(conn.execute(sql)) as cursor:
            while True:
                batch = cursor.fetchmany(FETCH)
                if batch:
                    pending.extend(batch)
                    # cut at the last address boundary: one sender's history is never split
                    last = pending[-1][address_at]
                    cut = len(pending)
                    while cut > 0 and pending[cut - 1][address_at] == last:
                        cut -= 1
                    if cut == 0:
                        continue
                    chunk, pending = pending[:cut], pending[cut:]
                else:
                    chunk, pending = pending, []
                if chunk:
                    done += self._stage_labels(chunk, classify)
                    if on_progress is not None:
                        on_progress(done, total)
                if not batch:
                    break
        conn.execute(
            f"INSERT OR REPLACE INTO labels(id, {', '.join(_LABEL_COLUMNS)}) "
            f"SELECT id, {', '.join(_LABEL_COLUMNS)} FROM temp.new_labels ORDER BY id"
        )
        conn.execute("DELETE FROM temp.new_labels")
        self._refresh_totals()
        return done

    def _stage_labels(
        self, rows: Sequence[tuple[Any, ...]], classify: Callable[[pd.DataFrame], pd.DataFrame]
    ) -> int:
        """Classify one chunk of (id, *classifier input) rows; append its labels to temp.new_labels."""
        labelled = classify(_classifier_frame(rows))
        columns: list[Sequence[Any]] = [[r[0] for r in rows]]
        for name in _LABEL_COLUMNS:
            values = labelled[name]
            columns.append(
                values.to_numpy(dtype=bool).astype(int).tolist() if name in _BOOLEAN else values.tolist()
            )
        self.conn.executemany(_STAGE_LABELS, zip(*columns, strict=True))
        return len(rows)

    # --- reading -------------------------------------------------------------------------------

    def count_messages(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM messages").fetchone()[0])

    def totals(self) -> Totals:
        """Count and time span of the 1:1 incoming and outgoing messages (what a report checks)."""
        import pandas as pd

        stored = self.get_meta("totals")
        if stored is not None:  # kept by every labelling (see _refresh_totals)
            count, first, last, *rest = json.loads(stored)
            # a store labelled by 0.1.0 before the group count was kept: counted here, once per report
            groups = rest[0] if rest else self.conn.execute(_GROUPS_COUNT).fetchone()[0]
            rows = self.conn.execute("SELECT hour, label, messages FROM hourly").fetchall()
        else:  # counted here (a store being written by an older version, say)
            count, first, last = self.conn.execute(
                f"SELECT count(*), min(timestamp_us), max(timestamp_us) FROM messages m WHERE {_TOTALS_WHERE}"
            ).fetchone()
            groups = self.conn.execute(_GROUPS_COUNT).fetchone()[0]
            rows = self.conn.execute(
                "SELECT m.timestamp_us / 3600000000, l.label, count(*) FROM messages m "
                f"JOIN labels l ON l.id = m.id WHERE {_TOTALS_WHERE} GROUP BY 1, 2"
            ).fetchall()
        by_hour = pd.DataFrame(rows, columns=["hour", "label", "messages"])
        by_hour["hour"] = pd.to_datetime(by_hour["hour"].astype("int64") * 3600, unit="s", utc=True)
        return Totals(int(count), _datetime(first), _datetime(last), by_hour, int(groups))

    def messages(
        self,
        flt: MessageFilter | None = None,
        *,
        limit: int | None = None,
        newest_first: bool = False,
        labelled: bool = False,
    ) -> pd.DataFrame:
        """The messages ``flt`` selects, ordered by time (then id), as one frame (see :meth:`batches`)."""
        import pandas as pd

        frames = list(self.batches(flt, limit=limit, newest_first=newest_first, labelled=labelled))
        if len(frames) == 1:
            return frames[0]
        if not frames:
            return _frame([], labelled=labelled)
        return pd.concat(frames, ignore_index=True)

    def batches(
        self,
        flt: MessageFilter | None = None,
        *,
        limit: int | None = None,
        newest_first: bool = False,
        labelled: bool = False,
        size: int = STREAM_BATCH,
    ) -> Iterator[pd.DataFrame]:
        """Frames of at most ``size`` messages, in time order: memory stays flat however large the
        store. Every part of ``flt`` is applied in SQL (the label too when ``labelled``; labels are
        stored, so no sender's history is needed to filter)."""
        sql, params = _listing(flt, limit=limit, newest_first=newest_first, labelled=labelled)
        with closing(self.conn.execute(sql, params)) as cursor:
            first = True
            while rows := cursor.fetchmany(size):
                first = False
                yield _frame(rows, labelled=labelled)
            if first:
                yield _frame([], labelled=labelled)

    def records(
        self,
        flt: MessageFilter | None = None,
        *,
        limit: int | None = None,
        newest_first: bool = False,
        columns: Mapping[str, str] | None = None,
        size: int = STREAM_BATCH,
        time_text: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """The labelled messages of :meth:`batches` as lists of plain records (at most ``size`` each;
        the first list holds at most :data:`FIRST_BATCH`): the values a frame holds, as Python objects —
        text ("" for NULL), bool, an aware UTC datetime or None, recipients as a list. No pandas: a
        listing's first lines are written in the time it would take to import it.

        ``columns`` maps each record key, in order, to the message or label column it holds (default:
        :data:`~sms_audit.schema.MESSAGE_COLUMNS` then the label columns, each as itself); only those
        are read. With ``time_text`` the times are their output text instead of datetimes
        (:func:`~sms_audit.output.format_time`: UTC, milliseconds, ``Z``). Raises KeyError for a
        column the store does not have."""
        wanted = dict(columns) if columns is not None else {c: c for c in MESSAGE_COLUMNS + _LABEL_COLUMNS}
        stored = [_STORED.get(c, c) for c in wanted.values()]
        select = ", ".join(("l." if c in _LABEL_COLUMNS else "m.") + _known(c) for c in stored)
        sql, params = _listing(flt, limit=limit, newest_first=newest_first, labelled=True, select=select)
        convert = [_converter(c, us_time_text if time_text else _utc) for c in stored]
        keys = list(wanted)
        with closing(self.conn.execute(sql, params)) as cursor:
            batch = min(size, FIRST_BATCH)
            while rows := cursor.fetchmany(batch):
                values = [f(v) for f, v in zip(convert, zip(*rows, strict=True), strict=True)]
                yield [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]
                batch = size

    def report_messages(self) -> pd.DataFrame:
        """The labelled messages a report needs, read through the label indexes instead of the whole
        store: every 1:1 message to or from a number the user unsubscribed from or that sent a
        suspected trap, and every incoming message of those numbers' brands; in time order.

        Read by the ADBC SQLite driver straight into Arrow columns, in a thread while this one
        imports pandas (1,000,000-message store, 145,027 rows: 0.9 s against 1.8 s through sqlite3,
        a Python tuple per row). Through sqlite3 when this connection holds uncommitted writes
        (another connection would not see them) or the driver cannot read the store.
        """
        import threading

        read: dict[str, Any] = {}

        def run() -> None:
            try:
                read["table"] = _adbc_query(self.path, _REPORT_SQL)
            except Exception as exc:  # noqa: BLE001 - any failure: read through sqlite3 below
                read["error"] = exc

        worker = None
        if not self.conn.in_transaction:
            worker = threading.Thread(target=run, name="sms-audit-report-query", daemon=True)
            worker.start()
        try:
            import pandas as pd
        finally:
            if worker is not None:
                worker.join()
        frame = _arrow_frame(read["table"]) if "table" in read else None
        if frame is not None:
            return frame
        # one Arrow-backed frame per fetch: a Python tuple per row of the whole selection took
        # ~1 KB each (1,000,000-message store: 1.1 GB peak)
        with closing(self.conn.execute(_REPORT_SQL)) as cursor:
            frames = [
                _frame(batch, labelled=True, columns=_REPORT_COLUMNS)
                for batch in iter(lambda: cursor.fetchmany(_REPORT_FETCH), [])
            ]
        if not frames:
            return _frame([], labelled=True, columns=_REPORT_COLUMNS)
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def imports(self) -> list[dict[str, Any]]:
        cursor = self.conn.execute("SELECT * FROM imports ORDER BY import_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def imported(self, sha256: str) -> dict[str, Any] | None:
        """The last complete import of a file with this SHA-256, if any."""
        cursor = self.conn.execute(
            "SELECT * FROM imports WHERE sha256 = ? AND status = 'ok' ORDER BY import_id DESC LIMIT 1",
            (sha256,),
        )
        row = cursor.fetchone()
        return None if row is None else dict(zip([d[0] for d in cursor.description], row, strict=True))

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
    """Adds message batches to one import and labels what changed (see :meth:`Store.importing`)."""

    def __init__(self, store: Store, import_id: int) -> None:
        self.store = store
        self.import_id = import_id
        self.new = 0
        self.finished = False
        self.addresses: set[str] = set()  # senders whose history this import changed
        self.prior = store.count_messages()  # messages stored before this import
        self._deferred: list[str] = []  # CREATE INDEX statements dropped while rows pour in

    def add(self, columns: Mapping[str, Sequence[Any]]) -> int:
        """Insert a batch given as columns (:data:`~sms_audit.schema.MESSAGE_COLUMNS`, times as Unix
        µs, flags as bools, recipients as tuples). Messages already stored are skipped by key before
        their row is built. Returns the number of new rows."""
        keys = [message_key(m) for m in columns["message_id"]]
        return self._insert(columns, keys, self._fresh(keys))

    def add_records(
        self, records: Sequence[Record], to_columns: Callable[[Sequence[Record]], Mapping[str, Sequence[Any]]]
    ) -> int:
        """Insert a batch of importer records: those already stored are skipped by key before
        ``to_columns`` (the normaliser, :meth:`~sms_audit.model.Normalizer.columns`) turns the rest
        into :meth:`add`'s columns, so an overlapping backup's duplicates cost their parse and one
        key lookup, not their normalisation. Returns the number of new rows."""
        from sms_audit.model import RecordBatch

        batch = records if isinstance(records, RecordBatch) else None
        ids = batch.columns["message_id"] if batch is not None else [r.message_id for r in records]
        keys = list(map(message_key, ids))
        # An empty store holds nothing to look up; INSERT OR IGNORE drops repeats within the archive.
        fresh = self._fresh(keys) if self.prior else range(len(keys))
        if not fresh:
            return 0
        if len(fresh) < len(keys):
            records = batch.take(fresh) if batch is not None else [records[i] for i in fresh]
            keys = [keys[i] for i in fresh]
        return self._insert(to_columns(records), keys, range(len(keys)))

    def _fresh(self, keys: Sequence[int]) -> Sequence[int]:
        """Positions of the keys not stored yet."""
        if not keys:
            return []
        known = {
            k
            for (k,) in self.store.conn.execute(
                "SELECT key FROM messages WHERE key IN (SELECT value FROM json_each(?))", (json.dumps(keys),)
            )
        }
        return [i for i, k in enumerate(keys) if k not in known] if known else range(len(keys))

    def _insert(self, columns: Mapping[str, Sequence[Any]], keys: Sequence[int], fresh: Sequence[int]) -> int:
        """Insert the ``fresh`` positions of a column batch whose message keys are ``keys``."""
        if not fresh:
            return 0
        conn = self.store.conn
        rows = _rows(columns, keys, fresh, self.import_id)
        before = conn.total_changes
        conn.executemany(_INSERT, rows)
        added = conn.total_changes - before
        if added and not self.new:  # the stored totals are stale until the labels are written
            conn.execute("DELETE FROM meta WHERE key = 'totals'")
        address = columns["address"]
        self.addresses.update(address[i] for i in fresh)
        self.new += added
        if not self._deferred and self.new >= max(_DEFER_INDEXES_AT, self.prior):
            self._defer_indexes()
        return added

    def _defer_indexes(self) -> None:
        """Drop the messages' secondary indexes until the rows are in (:meth:`_restore_indexes`).

        An import that at least doubles the store inserts faster without them: each row otherwise
        lands at a random place in two B-trees larger than the page cache, while CREATE INDEX sorts
        once (1,000,000 rows: 11.2 s → 7.9 s in SQLite alone). Inside the import's transaction, so a
        failed import rolls the DROP back with everything else. The key index stays: it skips
        duplicates.
        """
        conn = self.store.conn
        found = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'"
            " AND sql IS NOT NULL AND name IN (?, ?) ORDER BY name",
            _DEFERRABLE_INDEXES,
        ).fetchall()
        for name, _sql in found:
            conn.execute(f'DROP INDEX "{name}"')
        self._deferred = [sql for _name, sql in found]

    def _restore_indexes(self) -> None:
        """Build the indexes :meth:`_defer_indexes` dropped (before labelling reads by address)."""
        for sql in self._deferred:
            self.store.conn.execute(sql)
        self._deferred = []

    def label(
        self,
        classify: Callable[[pd.DataFrame], pd.DataFrame],
        fingerprint: str,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> int:
        """Label the whole history of every sender this import added messages for (same transaction).

        When the stored labels were made with other rules (``fingerprint`` differs), every message
        is labelled again instead. Returns the number of messages labelled.
        """
        self._restore_indexes()
        store = self.store
        stored = store.labelled_as()
        if stored != fingerprint and (stored is not None or store.count_messages() > self.new):
            store.conn.execute("DELETE FROM labels")
            done = store._label(classify, None, on_progress)
        elif self.addresses:
            done = store._label(classify, self.addresses, on_progress)
        else:
            done = 0
        store.set_meta("labels_fingerprint", fingerprint)
        return done

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
        self._restore_indexes()
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


def _fold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def _datetime(us: int | None) -> datetime | None:
    from sms_audit.normalize import us_to_datetime

    return us_to_datetime(us)


def _rows(
    columns: Mapping[str, Sequence[Any]], keys: Sequence[int], picked: Sequence[int], import_id: int
) -> list[tuple[Any, ...]]:
    """Store rows for the ``picked`` positions of a column batch, built column by column (flags as
    0/1, recipients as JSON)."""
    everything = isinstance(picked, range) and picked == range(len(keys))
    ordered = []
    for name in MESSAGE_COLUMNS:
        column = columns[name]
        if not everything:
            column = [column[i] for i in picked]
        if name == "recipients":
            column = [json.dumps(list(v), ensure_ascii=False) if v else "[]" for v in column]
        elif name in _FLAG_COLUMNS:
            column = list(map(int, column))  # numpy bools too
        ordered.append(column)
    chosen = keys if everything else [keys[i] for i in picked]
    return list(zip(chosen, *ordered, itertools.repeat(import_id, len(chosen)), strict=True))


def _listing(
    flt: MessageFilter | None,
    *,
    limit: int | None,
    newest_first: bool,
    labelled: bool,
    select: str | None = None,
) -> tuple[str, list[Any]]:
    """The SQL (and parameters) of a listing of ``select`` (default: every column): ``flt`` applied,
    in time order, at most ``limit`` rows."""
    where, params = _where(flt, labelled=labelled)
    order = "DESC" if newest_first else "ASC"
    source = "messages m LEFT JOIN labels l ON l.id = m.id" if labelled else "messages m"
    select = select or (_SELECT_LABELLED if labelled else _SELECT)
    sql = (
        f"SELECT {select} FROM {source} "
        f"{('WHERE ' + where) if where else ''} ORDER BY m.timestamp_us {order}, m.message_id {order}"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, params


def _utc(us: Any) -> datetime | None:
    """:func:`~sms_audit.normalize.us_to_datetime`, with a time beyond year 9999 (which no importer
    stores) read as None, as a frame reads NULL as NaT."""
    try:
        return us_to_datetime(None if us is None else int(us))
    except (OverflowError, ValueError, TypeError):
        return None


def _text(value: Any) -> str:
    return value if type(value) is str else "" if value is None else str(value)


def _known(column: str) -> str:
    if column not in _STORE_COLUMNS and column not in _LABEL_COLUMNS:
        raise KeyError(f"no column {column!r} in the store")
    return column


def _converter(column: str, time: Callable[[Any], Any]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """How one stored column becomes record values (:func:`_frame`'s values), column at a time."""
    if column in _STORED.values():
        return lambda values: list(map(time, values))
    if column in _BOOLEAN:
        return lambda values: list(map(bool, values))  # NULL (no label yet) reads as False
    if column == "recipients":
        return lambda values: [json.loads(v) if v and v != "[]" else [] for v in values]
    # text: as stored, NULL read as "" (a check of the whole column first: NULLs are rare)
    return lambda values: [_text(v) for v in values] if None in values else values


def _frame(
    rows: Sequence[tuple[Any, ...]], *, labelled: bool = False, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """A message frame (plus the classifier's columns when ``labelled``) from store rows: each
    column converted by one Arrow call (no Python work per value but for non-empty recipient lists).

    ``columns``: the stored columns the rows hold (default: all, in order); the others are filled
    with their empty value ("", False, NaT, ())."""
    names = tuple(columns) if columns is not None else _STORE_COLUMNS + (_LABEL_COLUMNS if labelled else ())
    values_of = dict(zip(names, zip(*rows, strict=True) if rows else [()] * len(names), strict=True))
    return _frame_of(values_of, len(rows), labelled=labelled)


def _frame_of(values_of: Mapping[str, Any], n: int, *, labelled: bool) -> pd.DataFrame:
    """:func:`_frame` from its columns: per stored column, its ``n`` values as a sequence of Python
    values or as an Arrow array (what the ADBC driver reads); a column left out is empty."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    data: dict[str, pd.Series] = {}
    for name in _STORE_COLUMNS + (_LABEL_COLUMNS if labelled else ()):
        values = values_of.get(name)
        if name in _STORED.values():
            data[name.removesuffix("_us")] = _time_column(values, n)
        elif name in _BOOLEAN:
            if values is None:
                data[name] = pd.Series(np.zeros(n, dtype=bool))
            else:
                flags = pc.fill_null(_arrow(values, pa.int64()), 0)
                data[name] = pd.Series(pc.not_equal(flags, 0).to_numpy(zero_copy_only=False), dtype=bool)
        elif name == "recipients":
            lists = np.empty(n, dtype=object)
            lists[:] = [()] * n
            for i, value in enumerate(values or ()):
                if value != "[]":
                    lists[i] = tuple(json.loads(value))
            data[name] = pd.Series(lists, dtype=object)
        else:
            data[name] = _text_column(values if values is not None else [""] * n)
    order = list(MESSAGE_COLUMNS) + [c for c in _LABEL_COLUMNS if labelled]
    return pd.DataFrame(data, columns=order, copy=False)


def _classifier_frame(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """The classifier's input (:data:`CLASSIFIER_INPUT`) from (id, *columns) store rows."""
    import pandas as pd

    values = list(zip(*rows, strict=True)) if rows else [()] * (1 + len(CLASSIFIER_INPUT))
    data = {
        name: _time_column(values[i], len(rows)) if name == "timestamp" else _text_column(values[i])
        for i, name in enumerate(CLASSIFIER_INPUT, start=1)
    }
    return pd.DataFrame(data, columns=list(CLASSIFIER_INPUT), copy=False)


def _adbc_query(path: Path, sql: str) -> pa.Table:
    """The rows of ``sql`` on the store at ``path`` as an Arrow table, read by the ADBC SQLite
    driver (https://arrow.apache.org/adbc/current/driver/sqlite.html) over its own read-only
    connection: no Python object per value. Column types are the driver's (it infers them from the
    first batch; the report's columns are NOT NULL text and integers). Raises ImportError without the
    driver, ``adbc_driver_manager.Error`` when it cannot read the file."""
    import adbc_driver_manager
    import adbc_driver_sqlite
    import pyarrow as pa

    uri = path.resolve().as_uri() + "?mode=ro"
    with (
        closing(adbc_driver_sqlite.connect(uri)) as database,
        closing(adbc_driver_manager.AdbcConnection(database)) as connection,
        closing(adbc_driver_manager.AdbcStatement(connection)) as statement,
    ):
        statement.set_options(**{"adbc.sqlite.query.batch_rows": str(_ADBC_BATCH_ROWS)})
        statement.set_sql_query(sql)
        stream, _rows = statement.execute_query()
        return pa.RecordBatchReader.from_stream(stream).read_all()


def _arrow_frame(table: pa.Table) -> pd.DataFrame | None:
    """The labelled frame of a report selection read by :func:`_adbc_query`; None when a column's
    type is not what the store holds (the driver guessed it from the first rows)."""
    import pyarrow as pa

    try:
        return _frame_of(
            dict(zip(table.column_names, table.columns, strict=True)), table.num_rows, labelled=True
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, UnicodeError):
        return None


def _arrow(values: Any, kind: pa.DataType) -> pa.Array:
    """``values`` (Python values, or an Arrow array or chunked array) as one Arrow array of ``kind``."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == kind else values.cast(kind)
    return pa.array(values, kind)


def _time_column(values: Sequence[Any] | None, n: int) -> pd.Series:
    """UTC datetimes from stored Unix µs (NULL, or no values at all: NaT)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    micros = (
        np.full(n, -(2**63), dtype=np.int64)
        if values is None
        else pc.fill_null(_arrow(values, pa.int64()), -(2**63)).to_numpy()
    )
    return pd.Series(micros.view("datetime64[us]")).dt.tz_localize("UTC")


def _text_column(values: Any) -> pd.Series:
    """A pyarrow string column from stored text, NULL read as ""."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = _arrow(values, pa.large_string())
    except (UnicodeError, pa.ArrowInvalid, pa.ArrowTypeError):
        if isinstance(values, pa.Array | pa.ChunkedArray):
            raise  # read by the ADBC driver: the caller reads through sqlite3 instead
        return string_column(["" if v is None else str(v) for v in values])
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    return pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow")))


def _where(flt: MessageFilter | None, *, labelled: bool) -> tuple[str, list[Any]]:
    """The WHERE clause (without the keyword) and parameters for a filter, all of it in SQL."""
    if flt is None:
        return "", []
    clauses: list[str] = []
    params: list[Any] = []
    if flt.sender_raw is not None:
        key = flt.sender if flt.sender is not None else flt.sender_raw
        clauses.append("(m.address = ? OR m.address_raw = ? OR m.thread_key = ?)")
        params.extend([key, flt.sender_raw, key])
    if flt.addresses is not None:
        clauses.append(f"m.address IN ({', '.join('?' * len(flt.addresses))})" if flt.addresses else "0")
        params.extend(flt.addresses)
    if flt.since:
        clauses.append("m.timestamp_us >= ?")
        params.append(to_unix_us(flt.since))
    if flt.until:
        clauses.append("m.timestamp_us < ?")
        params.append(to_unix_us(flt.until))
    if flt.direction:
        clauses.append("m.direction = ?")
        params.append(flt.direction)
    if flt.search:
        if flt.search.isascii():
            clauses.append("instr(lower(m.body), lower(?)) > 0")  # SQLite lower() is ASCII-only
            params.append(flt.search)
        else:
            clauses.append("instr(sms_audit_fold(m.body), ?) > 0")
            params.append(flt.search.casefold())
    if flt.label and labelled:
        clauses.append("l.label = ?")
        params.append(flt.label)
    return " AND ".join(clauses), params


def _statements(script: str) -> list[str]:
    statements = []
    for part in script.split(";"):
        lines = [line for line in part.splitlines() if not line.strip().startswith("--")]
        text = "\n".join(lines).strip()
        if text:
            statements.append(text)
    return statements
