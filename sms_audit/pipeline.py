"""The library API: read archives, classify, audit — what every command and a Python user calls.

A path to a report line, in four calls::

    import sms_audit

    messages = sms_audit.read_archives(["sms-20251130.xml"])  # region inferred while reading
    labelled = sms_audit.classify(messages)  # packaged + your <config>/rules
    report = sms_audit.audit(labelled, policy="cn")  # grace period, time zone from the region
    report.findings_frame()  # one row per message after an unsubscribe

Stages hand on frames with the columns of :mod:`sms_audit.schema` (checked at each boundary) and a
:class:`Messages` that carries the per-archive facts and the region the numbers were read in.
One archive that cannot be read never costs the others: its :class:`ArchiveResult` holds the error.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sms_audit.errors import CorruptArchive, SmsAuditError, TruncatedArchive
from sms_audit.files import path_text
from sms_audit.schema import CLASSIFIED_SCHEMA, CLASSIFY_COLUMNS, MESSAGE_SCHEMA, check_frame, empty_frame

if TYPE_CHECKING:
    import pandas as pd

    from sms_audit.classifier.rules import RuleSet
    from sms_audit.importers.base import Importer, ProgressCallback, ReadOptions, ReadStats
    from sms_audit.model import Record
    from sms_audit.query import MessageFilter
    from sms_audit.report.analysis import Report
    from sms_audit.report.evidence import Target
    from sms_audit.report.policy import Policy
    from sms_audit.store import Store, Totals

#: Opens a progress display for one step (its description) and gives the importer a callback.
ProgressFactory = Callable[[str], AbstractContextManager["ProgressCallback | None"]]

REGION_SAMPLE = 5000  # records read ahead (buffered, never re-read) to infer an archive's region
BATCH = 20_000  # records per frame while streaming an archive
#: Archives of at least this many bytes are parsed in a child process while this one writes (a
#: child costs ~0.1 s to start; 4 MB is ~12,000 SMS in SB&R XML).
PROCESS_READ_BYTES = 4 * 1024 * 1024
#: The importers read that way: single files that need no passphrase, the formats that reach a
#: million messages (an encrypted iPhone backup asks for its passphrase, which cannot cross).
PROCESS_READERS = frozenset({"sbr_xml", "ios_sms_db", "android_mmssms"})


# --- facts ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegionChoice:
    """The ISO 3166 region national numbers were read in, and how it was chosen (in words)."""

    code: str | None
    source: str

    def __str__(self) -> str:
        return f"{self.code or 'none'} ({self.source})"


UNKNOWN_REGION = RegionChoice(None, "unknown: national numbers kept as digits")


@dataclass(slots=True)
class ArchiveResult:
    """What happened to one archive: format, region, counts, identity and any error.

    ``status`` is ``ok``, ``truncated``/``corrupt`` (every complete record before the damage was
    kept) or ``failed`` (nothing was read). ``new`` is set by store imports only.
    """

    path: Path
    format: str = ""
    description: str = ""
    region: RegionChoice = UNKNOWN_REGION
    status: str = "pending"
    read: int = 0
    duplicates: int = 0
    skipped: int = 0
    excluded: int = 0
    new: int | None = None
    size: int | None = None
    sha256: str | None = None
    details: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: SmsAuditError | None = None
    #: Seconds spent per step of an import (``read``: parse and store, ``label``), for ``-v``.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def identify(self) -> None:
        """Fill ``size`` and ``sha256`` of a file archive (a folder's come from its importer)."""
        from sms_audit.files import sha256_file

        if self.sha256 is None and self.path.is_file():
            self.size = self.path.stat().st_size
            self.sha256 = sha256_file(self.path)
        elif self.sha256 is None:
            self.sha256 = self.details.get("sha256")


@dataclass(frozen=True, slots=True)
class Messages:
    """A message frame plus where it came from: per-archive facts and the region used.

    ``frame`` has :data:`~sms_audit.schema.MESSAGE_SCHEMA` columns, and after :func:`classify`
    also :data:`~sms_audit.schema.CLASSIFY_COLUMNS`. ``store`` is the store file it was loaded
    from (None for archives read directly).
    """

    frame: pd.DataFrame
    archives: tuple[ArchiveResult, ...] = ()
    region: RegionChoice = UNKNOWN_REGION
    store: Path | None = None
    #: For a frame that holds only what a report needs (:func:`load_for_report`): the whole store's
    #: count and time span of 1:1 messages, which the report states.
    totals: Totals | None = None

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def classified(self) -> bool:
        return all(c in self.frame.columns for c in CLASSIFY_COLUMNS)

    @property
    def failed(self) -> tuple[ArchiveResult, ...]:
        """Archives that could not be read completely."""
        return tuple(a for a in self.archives if not a.ok)


class SeenState(Protocol):
    """Remembers which findings a scheduled run has shown (``report --new``)."""

    def unseen(self, keys: Iterable[str]) -> set[str]: ...

    def mark_seen(self, keys: Iterable[str]) -> None: ...


# --- reading archives -------------------------------------------------------------------------------


def read_archives(
    paths: Iterable[str | Path],
    *,
    region: str | RegionChoice | None = None,
    input_format: str | None = None,
    archive_timezone: str | None = None,
    progress: ProgressFactory | None = None,
    get_passphrase: Callable[[str], str | None] | None = None,
    on_archive: Callable[[ArchiveResult], None] | None = None,
    csv_map: str | Mapping[str, str] | None = None,
) -> Messages:
    """Read archives directly (no store): one message frame, deduplicated by message id.

    ``paths`` are archive files, iOS backup folders or folders of archives. The format is detected
    from the content unless ``input_format`` names an importer. ``region`` (ISO 3166, e.g. "CN")
    says how to read national numbers; without it each archive's region is inferred from its first
    :data:`REGION_SAMPLE` records while they are read. Formats that write local times without a
    zone (vMessage, some CSV exports) are read in ``archive_timezone`` (IANA), else in the main zone
    of the archive's region; the zone used is in the archive's ``details``. ``csv_map`` says which
    column of a CSV export is which (``"date=Time,direction=Type,address=Number,body=Content"``, see
    :func:`sms_audit.importers.csv_export.parse_csv_map`; UsageError when malformed). An archive that
    fails is reported in its :class:`ArchiveResult` (``on_archive`` is called as each one finishes)
    and the others are read.
    """
    import pandas as pd

    from sms_audit.importers import expand_folders

    given = _given_region(region)
    zone = _valid_zone(archive_timezone)
    column_map = _csv_map(csv_map)
    frames: list[pd.DataFrame] = []
    owners: list[int] = []
    results: list[ArchiveResult] = []
    fallback: RegionChoice | None = None
    for number, path in enumerate(expand_folders([Path(p) for p in paths], input_format)):
        result = ArchiveResult(path=path)
        results.append(result)
        with _archive_boundary(result):
            importer, stats = _open_archive(path, input_format, result)
            options = _options(get_passphrase, column_map)
            stream = _ArchiveStream(
                path, importer, stats, given, fallback, zone, options.limits.max_body_bytes
            )
            with _progress(progress, f"reading {path.name}") as callback:
                options.on_progress = callback
                try:
                    for batch in stream.batches(options):
                        frames.append(stream.normalizer.frame(batch, importer.NAME, path_text(path)))
                        owners.append(number)
                finally:
                    _collect(result, stats, stream)
            fallback = fallback or _as_fallback(stream.region)
        if on_archive is not None:
            on_archive(result)
    frame = pd.concat(frames, ignore_index=True) if frames else empty_frame(MESSAGE_SCHEMA)
    if len(frame):
        owner = pd.Series([o for o, f in zip(owners, frames, strict=True) for _ in range(len(f))])
        dup = frame["message_id"].duplicated(keep="first").to_numpy()
        for number, count in owner[dup].value_counts().items():
            results[int(number)].duplicates += int(count)
        frame = frame.loc[~dup].reset_index(drop=True)
    check_frame(frame, MESSAGE_SCHEMA, "read_archives")
    return Messages(frame=frame, archives=tuple(results), region=given or _main_region(results))


def import_archives(
    store: Store,
    paths: Iterable[str | Path],
    *,
    region: str | RegionChoice | None = None,
    input_format: str | None = None,
    archive_timezone: str | None = None,
    rules: RuleSet | None = None,
    progress: ProgressFactory | None = None,
    get_passphrase: Callable[[str], str | None] | None = None,
    on_archive: Callable[[ArchiveResult], None] | None = None,
    csv_map: str | Mapping[str, str] | None = None,
) -> list[ArchiveResult]:
    """Import archives into ``store``, one transaction per archive (idempotent), labelling them.

    The region is ``region``, else the one the store remembers from earlier imports, else inferred
    from each archive as in :func:`read_archives`. A file whose SHA-256 was imported completely
    before is answered at once (nothing is parsed). Parsing runs in a thread (in a child process for
    a large SB&R, iPhone or mmssms.db file) while the store writes. The senders whose history an
    archive changed are labelled with ``rules`` (default: packaged plus the user's) in the same
    transaction; when the rules changed since the store was labelled, every message is labelled
    again. A truncated or corrupt archive keeps every complete message
    before the damage (status ``truncated``/``corrupt``); any other failure leaves the store as it
    was for that archive. Returns one result per archive, with ``new``.
    ``csv_map`` is as in :func:`read_archives`.
    """
    from sms_audit.importers import expand_folders

    zone = _valid_zone(archive_timezone)
    column_map = _csv_map(csv_map)
    remembered = store.get_meta("region")
    given = _given_region(region) or (
        RegionChoice(remembered, "remembered by the store") if remembered else None
    )
    results: list[ArchiveResult] = []
    fallback: RegionChoice | None = None
    for path in expand_folders([Path(p) for p in paths], input_format):
        result = ArchiveResult(path=path)
        results.append(result)
        with _archive_boundary(result):
            importer, stats = _open_archive(path, input_format, result)
            result.identify()
            if _already_imported(store, result):
                if on_archive is not None:
                    on_archive(result)
                continue
            options = _options(get_passphrase, column_map)
            stream = _ArchiveStream(
                path, importer, stats, given, fallback, zone, options.limits.max_body_bytes
            )
            error: CorruptArchive | None = None
            started = time.perf_counter()
            with store.importing(path_text(path), importer.NAME) as writer:
                with _progress(progress, f"importing {path.name}") as callback:
                    options.on_progress = callback
                    try:
                        # parsed in a thread; normalised here, once the stored duplicates are dropped
                        # closed at once when the import stops (Ctrl-C, SIGTERM, an error), so the
                        # reader thread ends and cleans up before this archive's transaction rolls back
                        with contextlib.closing(_prefetch(stream.batches(options))) as batches:
                            for batch in batches:
                                writer.add_records(batch, stream.columns)
                    except CorruptArchive as exc:  # keep every complete record before the damage
                        error = exc
                _collect(result, stats, stream)
                result.region = stream.region or result.region
                result.timings["read"] = time.perf_counter() - started
                started = time.perf_counter()
                classify_rows, fingerprint = labeller(result.region.code, rules)
                with _progress(progress, f"labelling {path.name}") as callback:
                    labelled = writer.label(classify_rows, fingerprint, callback)
                result.timings["label"] = time.perf_counter() - started
                result.details["labelled"] = str(labelled)
                result.identify()
                result.status = _status(error)
                writer.finish(
                    status=result.status,
                    read=result.read,
                    skipped=result.skipped,
                    excluded=result.excluded,
                    size=result.size,
                    sha256=result.sha256,
                    region=result.region.code,
                    details={**result.details, **({"error": error.message} if error else {})},
                )
            result.new = writer.new
            result.duplicates = result.read - writer.new
            fallback = fallback or _as_fallback(stream.region)
            if error is not None:
                raise error
        if on_archive is not None:
            on_archive(result)
    return results


def _already_imported(store: Store, result: ArchiveResult) -> bool:
    """A file with the same SHA-256 was imported completely: record it as read, nothing new."""
    if result.sha256 is None or not result.path.is_file():
        return False
    earlier = store.imported(result.sha256)
    if earlier is None:
        return False
    with store.importing(path_text(result.path), result.format) as writer:
        result.read, result.skipped, result.excluded = (
            earlier["read"],
            earlier["skipped"],
            earlier["excluded"],
        )
        result.region = RegionChoice(earlier["region"], "of the earlier import")
        result.details = {
            **json.loads(earlier["details"] or "{}"),
            "same_sha256_as_import": str(earlier["import_id"]),
        }
        result.details.pop("error", None)
        result.status = "ok"
        writer.finish(
            status="ok",
            read=result.read,
            skipped=result.skipped,
            excluded=result.excluded,
            size=result.size,
            sha256=result.sha256,
            region=result.region.code,
            details=result.details,
        )
    result.new, result.duplicates = 0, result.read
    return True


def _prefetch(items: Iterator[Any], depth: int = 2) -> Generator[Any, None, None]:
    """Run ``items`` in a thread, ``depth`` ahead of the consumer: parsing overlaps the store's
    writes (sqlite3 releases the GIL while SQLite works). Exceptions reach the consumer in order."""
    import queue
    import threading

    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        box.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            box.put(("error", exc))
        finally:
            # in this thread, whatever ended the reading: the reader's finally blocks (a temporary
            # copy of a WAL database, its SQLite connection, a parser child) run where they began
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="sms-audit-reader", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while worker.is_alive():
            try:
                box.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.1)


def labeller(
    region: str | None, rules: RuleSet | None = None
) -> tuple[Callable[[pd.DataFrame], pd.DataFrame], str]:
    """The classifier the store labels with, and the fingerprint of what decides its labels.

    ``rules`` default to the packaged rules plus the user's ``<config dir>/rules/*.toml``.
    """
    from sms_audit import config
    from sms_audit.classifier.fingerprint import files_fingerprint

    if rules is not None:
        from sms_audit.classifier.engine import classifier_fingerprint

        fingerprint = classifier_fingerprint(rules)
    else:  # from the files' bytes: the rules and the model are loaded only when something must be labelled
        fingerprint = files_fingerprint(config.rules_dir())
    loaded: list[RuleSet] = [rules] if rules is not None else []

    def classify_rows(frame: pd.DataFrame) -> pd.DataFrame:
        from sms_audit.classifier.engine import classify_frame
        from sms_audit.classifier.rules import load_rules

        if not loaded:
            loaded.append(load_rules(config.rules_dir()))
        return classify_frame(frame, region=region, rules=loaded[0])

    return classify_rows, fingerprint


def _given_region(region: str | RegionChoice | None) -> RegionChoice | None:
    if region is None or isinstance(region, RegionChoice):
        return region
    from sms_audit.normalize import valid_region

    return RegionChoice(valid_region(region), "given")


def _valid_zone(zone: str | None) -> str | None:
    from sms_audit.report.policy import valid_timezone

    return valid_timezone(zone) if zone else None


def _as_fallback(region: RegionChoice | None) -> RegionChoice | None:
    if region is None or region.code is None:
        return None
    return RegionChoice(region.code, "inferred from an earlier archive of this run")


def _main_region(results: Sequence[ArchiveResult]) -> RegionChoice:
    """The region of the archive with the most messages among those that have one."""
    known = [r for r in results if r.region.code]
    return max(known, key=lambda r: r.read).region if known else UNKNOWN_REGION


def _options(
    get_passphrase: Callable[[str], str | None] | None, csv_map: dict[str, str] | None = None
) -> ReadOptions:
    from sms_audit.importers.base import ReadOptions

    return ReadOptions(get_passphrase=get_passphrase, csv_map=csv_map)


def _csv_map(value: str | Mapping[str, str] | None) -> dict[str, str] | None:
    """A ``--csv-map`` checked before any archive is read (UsageError)."""
    if value is None:
        return None
    from sms_audit.importers.csv_export import check_csv_map, parse_csv_map

    return parse_csv_map(value) if isinstance(value, str) else check_csv_map(value)


def _progress(
    factory: ProgressFactory | None, description: str
) -> AbstractContextManager[ProgressCallback | None]:
    return factory(description) if factory is not None else contextlib.nullcontext(None)


def _open_archive(path: Path, input_format: str | None, result: ArchiveResult) -> tuple[Importer, ReadStats]:
    from sms_audit.importers import detect, get_importer
    from sms_audit.importers.base import ReadStats

    importer = get_importer(input_format) if input_format else detect(path)
    result.format, result.description = importer.NAME, importer.DESCRIPTION
    return importer, ReadStats()


def _collect(result: ArchiveResult, stats: ReadStats, stream: _ArchiveStream) -> None:
    result.read, result.skipped, result.excluded = stats.read, stats.skipped, stats.excluded
    result.details.update(stats.details)
    result.warnings.extend(stats.warnings)
    result.warnings.extend(stats.skip_summary())
    if stream.region is not None:
        result.region = stream.region


def _status(error: SmsAuditError | None) -> str:
    if error is None:
        return "ok"
    return "truncated" if isinstance(error, TruncatedArchive) else "corrupt"


@contextlib.contextmanager
def _archive_boundary(result: ArchiveResult) -> Iterator[None]:
    """Every failure while reading one archive becomes that archive's data error (never the run's).

    sms-audit's own errors keep their message; an unexpected exception from reading a damaged file
    becomes CorruptArchive naming its type (the traceback stays on ``__cause__`` for --debug).
    """
    try:
        yield
    except SmsAuditError as exc:
        result.error = exc
    except OSError as exc:
        result.error = CorruptArchive(f"cannot read: {exc.strerror or exc}", path=str(result.path))
        result.error.__cause__ = exc
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - the boundary: a damaged file must not stop the run
        result.error = CorruptArchive(
            f"unreadable ({type(exc).__name__} while reading it)",
            path=str(result.path),
            hint="the file is damaged or in an unexpected shape; run with --debug and please report it",
        )
        result.error.__cause__ = exc
    if result.error is not None and result.status in ("pending", "ok"):
        result.status = "failed" if not result.read else _status(result.error)
    elif result.status == "pending":
        result.status = "ok"


class _ArchiveStream:
    """One archive read in frames of :data:`BATCH` records.

    Without a given region the first :data:`REGION_SAMPLE` records are buffered, the region is
    inferred from their numbers, and reading goes on from there: nothing is parsed twice.
    """

    def __init__(
        self,
        path: Path,
        importer: Importer,
        stats: ReadStats,
        given: RegionChoice | None,
        fallback: RegionChoice | None,
        zone: str | None = None,
        max_body: int | None = None,
    ) -> None:
        from sms_audit.model import Normalizer

        self.path = path
        self.importer = importer
        self.stats = stats
        self.region: RegionChoice | None = given
        self.fallback = fallback
        self.zone = zone
        self.max_body = max_body
        self.normalizer = Normalizer(None)

    def batches(self, options: ReadOptions) -> Iterator[Sequence[Record]]:
        """Batches of records, normalised by :attr:`normalizer` once the first batches have decided
        the region; a CorruptArchive/TruncatedArchive is raised after the batch holding every
        complete record before the damage."""
        from sms_audit.model import Normalizer, RecordBatch

        source = self._source(options)
        head: list[Sequence[Record]] = []
        error: CorruptArchive | None = None
        try:  # the first batches, until there are enough numbers to tell the region
            while not head or (self.region is None and sum(map(len, head)) < REGION_SAMPLE):
                batch = next(source, None)
                if batch is None:
                    break
                head.append(batch)
        except CorruptArchive as exc:  # every complete record before the damage is still written
            error = exc
        if len(head) == 1:
            first = head[0]
        elif head and all(isinstance(b, RecordBatch) for b in head):
            first = RecordBatch.concat(head)  # type: ignore[arg-type]
        else:
            first = [r for b in head for r in b]
        if self.region is None:
            self.region = _infer_region(first) or self.fallback or UNKNOWN_REGION
        self.normalizer = Normalizer(self.region.code, self._zone(first), max_body=self.max_body)
        if len(first):
            yield first
        if error is not None:
            raise error
        yield from source

    def _source(self, options: ReadOptions) -> Iterator[Sequence[Record]]:
        """The importer's records in batches: from a child process when the archive is large enough
        for the second core to pay and its importer can run there
        (:mod:`~sms_audit.importers._parse_process`; batches held as columns), else read here (the
        first batch :data:`REGION_SAMPLE` records when the region is still to be inferred). The
        damage that ends a damaged archive is raised after its last batch."""
        if self.importer.NAME in PROCESS_READERS and _file_size(self.path) >= PROCESS_READ_BYTES:
            from sms_audit.importers._parse_process import ParserUnavailable, read_batches_in_process

            try:
                yield from read_batches_in_process(self.importer, self.path, options, self.stats)  # type: ignore[arg-type]
                return
            except ParserUnavailable:
                pass  # raised before any batch: read in this process instead
        records = iter(self.importer.read_records(self.path, options, self.stats))
        size = REGION_SAMPLE if self.region is None else BATCH
        while True:
            batch: list[Record] = []
            try:
                for record in records:
                    batch.append(record)
                    if len(batch) >= size:
                        break
            except CorruptArchive:
                if batch:
                    yield batch
                raise
            if batch:
                yield batch
            if len(batch) < size:
                return
            size = BATCH

    def columns(self, records: Sequence[Record]) -> dict[str, list[Any]]:
        """Records of this archive as the store's columns (:meth:`~sms_audit.model.Normalizer.columns`)."""
        return self.normalizer.columns(records, self.importer.NAME, path_text(self.path))

    def _zone(self, head: Sequence[Record]) -> str:
        """The zone local record times are read in (recorded in the details when the archive has them)."""
        from sms_audit.report.policy import default_timezone

        assert self.region is not None
        if self.zone:
            zone, how = self.zone, "--archive-timezone"
        else:
            zone, how = default_timezone(self.region.code)
        if any(r.local_time for r in head):
            self.stats.details["archive_timezone"] = zone
            self.stats.details["archive_timezone_source"] = how
        return zone


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


def _infer_region(records: Sequence[Record]) -> RegionChoice | None:
    from sms_audit.normalize import infer_region

    addresses = [r.address_raw for r in records]
    for r in records:
        addresses.extend(r.members)
    code = infer_region(addresses)
    if code is None:
        return None
    return RegionChoice(code, f"inferred from the numbers in its first {len(records)} messages")


# --- the store ----------------------------------------------------------------------------------


@contextlib.contextmanager
def ephemeral_store() -> Iterator[Store]:
    """A private store in a temporary folder (0700), removed afterwards, also on errors and Ctrl-C.

    Archives read directly on the command line go through it, so reading, labelling and writing
    keep memory flat whatever the archive's size.
    """
    import shutil
    import tempfile

    from sms_audit.store import Store

    folder = Path(tempfile.mkdtemp(prefix="sms-audit-"))
    try:
        folder.chmod(0o700)
        with Store(folder / "archive.sqlite", create=True, scratch=True) as store:
            yield store
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def open_store(path: str | Path, *, create: bool = False) -> Store:
    """The message store at ``path`` (created private to the user when ``create``)."""
    from sms_audit.store import Store

    return Store(Path(path).expanduser(), create=create)


def load_store(
    store: Store,
    flt: MessageFilter | None = None,
    *,
    region: str | RegionChoice | None = None,
    rules: RuleSet | None = None,
    limit: int | None = None,
    newest_first: bool = False,
    progress: ProgressFactory | None = None,
) -> Messages:
    """Labelled messages from the store that pass ``flt``, ordered by time (newest first on request).

    Labels are read from the store (made at import); when the rules or the model changed since,
    every message is labelled again first, once (with ``progress``). Every filter, the label
    included, is applied in SQL. See :func:`iter_store` for the same in batches.
    """
    import pandas as pd

    frames = [
        m.frame
        for m in iter_store(
            store, flt, region=region, rules=rules, limit=limit, newest_first=newest_first, progress=progress
        )
    ]
    first = _store_messages(store, region, frames[0] if frames else None)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return replace(first, frame=frame)


def iter_store(
    store: Store,
    flt: MessageFilter | None = None,
    *,
    region: str | RegionChoice | None = None,
    rules: RuleSet | None = None,
    limit: int | None = None,
    newest_first: bool = False,
    progress: ProgressFactory | None = None,
) -> Generator[Messages, None, None]:
    """:func:`load_store` in batches of at most :data:`~sms_audit.store.STREAM_BATCH` messages: the first
    arrives at once and memory stays flat however large the store."""
    choice, flt = _labelled_selection(store, flt, region, rules, progress)
    sources = tuple(_store_sources(store))
    for frame in store.batches(flt, limit=limit, newest_first=newest_first, labelled=True):
        yield Messages(check_frame(frame, CLASSIFIED_SCHEMA, "store"), sources, choice, store.path)


def iter_store_records(
    store: Store,
    flt: MessageFilter | None = None,
    *,
    region: str | RegionChoice | None = None,
    rules: RuleSet | None = None,
    limit: int | None = None,
    newest_first: bool = False,
    columns: Mapping[str, str] | None = None,
    time_text: bool = False,
    progress: ProgressFactory | None = None,
) -> Generator[list[dict[str, Any]], None, None]:
    """The messages ``flt`` selects, labelled, in time order, as lists of plain dicts — 1,000 in the
    first list, then at most 10,000 per list — without pandas (for listings whose first lines should
    not wait for it). The labels are brought up to date first, as in :func:`iter_store`.

    Each record holds :data:`~sms_audit.schema.MESSAGE_COLUMNS` then the classifier's columns
    (``label``, ``reason``, ``brand``, ``brand_display``, ``optout_keyword``, ``is_resubscribe``,
    ``is_trap``, ``trap_reason``, ``is_promotional``): text as ``str`` ("" when empty), flags as
    ``bool``, ``timestamp``/``sent_timestamp`` as aware UTC ``datetime`` (``sent_timestamp`` may be
    None), ``recipients`` as a ``list`` of numbers. ``columns`` maps the keys wanted, in order, to
    the column each holds (e.g. ``{"id": "message_id", "brand": "brand_display"}``); ``time_text``
    gives the times as their output text (``2024-05-01T08:30:00.000Z``) instead. Raises KeyError
    for an unknown column, StoreError when the store cannot be read."""
    _, flt = _labelled_selection(store, flt, region, rules, progress)
    yield from store.records(
        flt, limit=limit, newest_first=newest_first, columns=columns, time_text=time_text
    )


def _labelled_selection(
    store: Store,
    flt: MessageFilter | None,
    region: str | RegionChoice | None,
    rules: RuleSet | None,
    progress: ProgressFactory | None,
) -> tuple[RegionChoice, MessageFilter]:
    """Before reading the store: its labels brought up to date, its region, and ``flt`` read in it."""
    from sms_audit.query import MessageFilter

    ensure_labels(store, region=region, rules=rules, progress=progress)
    choice = store_region(store, region)
    return choice, (flt or MessageFilter()).for_region(choice.code)


def ensure_labels(
    store: Store,
    *,
    region: str | RegionChoice | None = None,
    rules: RuleSet | None = None,
    progress: ProgressFactory | None = None,
) -> int:
    """Label every stored message again when the rules or model changed since it was labelled
    (a new version, edited user rules). Returns the number of messages labelled (0: up to date)."""
    classify_rows, fingerprint = labeller(store_region(store, region).code, rules)
    if store.labelled_as() == fingerprint or store.count_messages() == 0:
        return 0
    with _progress(progress, "labelling the store with the current rules") as callback:
        return store.relabel(classify_rows, fingerprint, callback)


def load_for_report(
    store: Store,
    *,
    region: str | RegionChoice | None = None,
    rules: RuleSet | None = None,
    progress: ProgressFactory | None = None,
) -> Messages:
    """The labelled messages a report needs (see :meth:`~sms_audit.store.Store.report_messages`),
    with the whole store's totals: the report reads what concerns unsubscribes, not the archive."""
    ensure_labels(store, region=region, rules=rules, progress=progress)
    frame = check_frame(store.report_messages(), CLASSIFIED_SCHEMA, "store")
    return replace(_store_messages(store, region, frame), totals=store.totals())


def _store_messages(store: Store, region: str | RegionChoice | None, frame: pd.DataFrame | None) -> Messages:
    return Messages(
        frame if frame is not None else empty_frame(CLASSIFIED_SCHEMA),
        tuple(_store_sources(store)),
        store_region(store, region),
        store.path,
    )


def store_region(store: Store, region: str | RegionChoice | None) -> RegionChoice:
    """The region a store's messages are read in: ``region`` when given, else the one the store
    remembers from its imports, else unknown."""
    choice = _given_region(region)
    if choice is not None:
        return choice
    remembered = store.get_meta("region")
    return RegionChoice(remembered, "remembered by the store") if remembered else UNKNOWN_REGION


def _store_sources(store: Store) -> Iterator[ArchiveResult]:
    for row in store.source_files():
        yield ArchiveResult(
            path=Path(row["path"]),
            format=row["format"] or "",
            status="ok",
            size=row["size"],
            sha256=row["sha256"],
        )


def remember_shown(report: Report, state: SeenState) -> None:
    """Record every finding of ``report`` as shown, so the next ``since_state`` audit skips it."""
    state.mark_seen(report.findings.stable_keys())


# --- classify, select, audit ------------------------------------------------------------------------


def classify(messages: Messages, *, rules: RuleSet | None = None) -> Messages:
    """Label every message (adds :data:`~sms_audit.schema.CLASSIFY_COLUMNS`).

    ``rules`` defaults to the packaged rules plus the user's ``<config dir>/rules/*.toml``.
    Raises SchemaError when the frame lacks a message column.
    """
    from sms_audit import config
    from sms_audit.classifier import classify_frame, load_rules

    check_frame(messages.frame, MESSAGE_SCHEMA, "classify")
    rules = rules if rules is not None else load_rules(config.rules_dir())
    frame = classify_frame(messages.frame, region=messages.region.code, rules=rules)
    return replace(messages, frame=check_frame(frame, CLASSIFIED_SCHEMA, "classify"))


def select(
    messages: Messages,
    flt: MessageFilter | None = None,
    *,
    limit: int | None = None,
    newest_first: bool = False,
) -> Messages:
    """The messages that pass ``flt`` (label included), in time order, at most ``limit``."""
    frame = messages.frame
    if flt is not None:
        flt = flt.for_region(messages.region.code)
        frame = flt.apply(frame)
        if flt.label is not None:
            frame = flt.apply_label(frame)
    frame = frame.sort_values(["timestamp", "message_id"], ascending=not newest_first, kind="stable")
    if limit is not None:
        frame = frame.head(limit)
    return replace(messages, frame=frame.reset_index(drop=True))


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """Validated audit settings: the policy (None = the region's), a grace override, a time zone."""

    policy: Policy | None = None
    grace: str | None = None
    timezone: str | None = None
    timezone_source: str = "given"
    grace_source: str = "--grace"

    @classmethod
    def parse(
        cls,
        policy: str | Policy | None = None,
        grace: str | None = None,
        timezone: str | None = None,
        *,
        timezone_source: str = "given",
        grace_source: str = "--grace",
    ) -> AuditOptions:
        """Check names and values before any archive is read; raises UsageError."""
        from sms_audit.report.policy import Policy, get_policy, valid_timezone, with_grace

        chosen = policy if isinstance(policy, Policy) or policy is None else get_policy(policy)
        if grace:
            with_grace(get_policy("strict"), grace)
        zone = valid_timezone(timezone) if timezone else None
        return cls(chosen, grace or None, zone, timezone_source, grace_source)


def audit(
    messages: Messages,
    *,
    policy: str | Policy | None = None,
    grace: str | None = None,
    timezone: str | None = None,
    since_state: SeenState | None = None,
    options: AuditOptions | None = None,
) -> Report:
    """Who kept messaging after an unsubscribe: the :class:`~sms_audit.report.analysis.Report`.

    ``policy`` is a preset name (``cn``, ``us`` …) or a Policy; None takes the region's. ``grace``
    overrides the grace period (``24h``, ``10bd``, ``1mo``); ``timezone`` is the IANA zone for
    local times and business days (default: the region's main zone). With ``since_state`` only
    findings it has not seen are kept (call :func:`remember_shown` once they are shown).
    ``options`` (from :meth:`AuditOptions.parse`) replaces the three settings when given.
    Unclassified messages are classified first. Raises UsageError for a bad option.
    """
    from sms_audit.report.analysis import analyze, only_new
    from sms_audit.report.policy import default_policy_name, default_timezone, get_policy, with_grace

    options = options or AuditOptions.parse(policy, grace, timezone)
    if not messages.classified:
        messages = classify(messages)
    frame = check_frame(messages.frame, CLASSIFIED_SCHEMA, "audit")
    region = messages.region.code
    chosen = options.policy
    if chosen is None:
        chosen = get_policy(default_policy_name(region))
        policy_source = f"region {region}" if region else "no region known: fallback"
    else:
        policy_source = "given"
    if options.grace:
        chosen = with_grace(chosen, options.grace, options.grace_source)
    if options.timezone:
        tz, tz_source = options.timezone, options.timezone_source
    else:
        tz, tz_source = default_timezone(region)
    report = analyze(frame, chosen, tz=tz, timezone_source=tz_source, region=region, totals=messages.totals)
    report = replace(report, meta={**report.meta, "policy_source": policy_source})
    if since_state is not None:
        report = only_new(report, since_state.unseen(report.findings.stable_keys()))
    return report


# --- evidence -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvidencePack:
    """What :func:`write_evidence` wrote: for whom, and which files."""

    target: Target
    directory: Path
    files: tuple[Path, ...]


def write_evidence(messages: Messages, report: Report, target: str, out_dir: str | Path) -> EvidencePack:
    """Write the evidence pack for one brand or number of ``report`` into ``out_dir``.

    The pack names the archives the messages came from, with size and SHA-256 (read from the store's
    import records, or computed for archives read directly). Raises UsageError when ``target``
    matches no brand or number, or several brands.
    """
    from sms_audit.report.evidence import SourceFile, resolve_target
    from sms_audit.report.evidence import write_evidence as write

    if report.frame is None:
        raise ValueError("the report holds no messages (it was not made by audit())")
    chosen = resolve_target(report, report.frame, target, messages.region.code)
    used = set(messages.frame["source_file"].astype(str).unique())
    picked = [a for a in messages.archives if str(a.path) in used or a.path.name in used]
    picked = picked or [a for a in messages.archives if a.ok]
    sources = []
    for archive in picked:
        archive.identify()
        sources.append(
            SourceFile(
                path=str(archive.path), size=archive.size, sha256=archive.sha256, format=archive.format
            )
        )
    out = Path(out_dir)
    files = write(report, report.frame, chosen, out, sources)
    return EvidencePack(target=chosen, directory=out, files=tuple(files))
