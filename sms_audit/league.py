"""The merchant league table: donated findings and raw archives aggregated on Dask.

``league(inputs)`` reads many donations — findings files (:mod:`sms_audit.share`), raw archives, or
folders of either, local paths or fsspec URLs (``s3://bucket/donations/``) — one Dask task per
input, and aggregates them per brand with ``dask.dataframe`` groupbys. A raw archive goes through the
same library code as ``sms-audit report`` and ``share``: :func:`~sms_audit.pipeline.read_archives`
→ :func:`~sms_audit.pipeline.classify` → :func:`~sms_audit.pipeline.audit` →
:func:`~sms_audit.share.findings_document`; a findings file is read with
:func:`~sms_audit.share.load_findings`. Both become the same document, so a league from findings
files equals the league from the archives they were made from.

The scheduler is a :class:`distributed.LocalCluster` on this machine by default (worker processes,
one per core, bound to 127.0.0.1, no dashboard), an existing cluster given by address (``tcp://…``;
the same code path whether it came from dask-jobqueue, dask-kubernetes or ``dask scheduler``), or
``"synchronous"`` (this process, no cluster: for debugging and small runs). Dask retries a task whose
worker died; an input that cannot be read becomes an :class:`InputError` and the league is computed
from the rest.

Dask is imported only when a league is computed (``pip install 'sms-audit[scale]'``).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sms_audit.errors import SmsAuditError, UsageError

if TYPE_CHECKING:
    import pandas as pd

    from sms_audit.classifier.rules import RuleSet

SYNCHRONOUS = "synchronous"
DEFAULT_MIN_DONORS = 3
#: Dask retries of a task that raised (a worker that dies is retried by the scheduler on its own,
#: up to ``distributed.scheduler.allowed-failures`` times).
RETRIES = 2
#: Above this many inputs, several inputs share one task (the scheduler's per-task overhead).
MAX_TASKS = 50_000

#: Field order of the league (documented in the README).
LEAGUE_COLUMNS = (
    "subject",
    "brand_display",
    "regions",
    "donors",
    "donors_affected",
    "unsubscribes",
    "ignored",
    "ignore_rate",
    "violating_messages",
    "numbers_after_unsubscribe",
    "median_hours_to_violation",
    "p90_hours_to_violation",
    "confirmation_rate",
    "first_seen",
    "last_seen",
)
#: Field order of the errors table.
ERROR_COLUMNS = ("input", "kind", "reason", "used")

FINDINGS = "findings"
ARCHIVE = "archive"


@dataclass(frozen=True, slots=True)
class InputError:
    """An input that could not be read (``used``: its complete part still counts, e.g. a truncated archive)."""

    input: str
    kind: str
    reason: str
    used: bool = False

    def record(self) -> dict[str, Any]:
        return {"input": self.input, "kind": self.kind, "reason": self.reason, "used": self.used}


@dataclass(frozen=True, slots=True)
class League:
    """The league per brand (``rows`` in :data:`LEAGUE_COLUMNS`, sorted) and how the run went.

    ``hidden`` brands were seen by fewer than ``min_donors`` donors and are not in ``rows``.
    ``duplicates`` findings files repeated a donor id already counted (the newest one counts).
    ``peak_memory`` is each worker's peak resident memory in bytes (this process when synchronous).
    """

    rows: tuple[dict[str, Any], ...]
    hidden: int
    errors: tuple[InputError, ...]
    inputs: int
    findings_files: int
    archives: int
    donors: int
    duplicates: int
    min_donors: int
    scheduler: str
    workers: int
    seconds: float
    peak_memory: Mapping[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame with :data:`LEAGUE_COLUMNS`."""
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=list(LEAGUE_COLUMNS))

    def summary(self) -> str:
        """One line: inputs, time, donors, failures and brands shown."""
        unknown = self.inputs - self.findings_files - self.archives
        kinds = f"{self.findings_files} findings files, {self.archives} archives" + (
            f", {unknown} neither" if unknown else ""
        )
        rate = self.inputs / self.seconds if self.seconds > 0 else 0.0
        return (
            f"league: {self.inputs} inputs ({kinds}) in {self.seconds:.1f} s on "
            f"{self.scheduler} ({rate:.1f} inputs/s); {self.donors} donors"
            + (f", {self.duplicates} repeated donor ids skipped" if self.duplicates else "")
            + f", {len(self.errors)} failed; {len(self.rows) + self.hidden} brands, {len(self.rows)} shown "
            f"(seen by at least {self.min_donors} donors)"
        )


# --- inputs -----------------------------------------------------------------------------------------


def expand_inputs(inputs: Iterable[str | Path]) -> list[str]:
    """Every input to read: files as given; a folder stands for the files directly inside it.

    Local paths become absolute (workers may run elsewhere in the same file system). An iOS backup
    folder is one archive. URLs (``s3://``, ``gs://``, ``file://`` … anything fsspec opens) are
    listed through fsspec. Hidden files are skipped; a missing path is kept (its task reports it).
    """
    from sms_audit.importers import IMPORTERS

    out: list[str] = []
    for item in inputs:
        name = str(item)
        if "://" in name:
            out.extend(_expand_url(name))
            continue
        path = Path(name).expanduser().absolute()
        if not path.is_dir() or any(m.sniff(path) for m in IMPORTERS):
            out.append(str(path))
            continue
        for child in sorted(path.iterdir()):
            if child.name.startswith("."):
                continue
            if child.is_file() or any(m.sniff(child) for m in IMPORTERS):
                out.append(str(child))
    return out


def _expand_url(url: str) -> list[str]:
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url)
        if not fs.isdir(root):
            return [url]
        children = sorted(fs.find(root, maxdepth=1, withdirs=False))
    except (ImportError, ValueError) as exc:
        raise UsageError(f"cannot open {url}: {exc}", hint="install the fsspec driver, e.g. s3fs") from None
    except OSError:
        return [url]
    return [fs.unstrip_protocol(p) for p in children if not p.rstrip("/").rsplit("/", 1)[-1].startswith(".")]


# --- one input → one donation (runs on a worker) ----------------------------------------------------


def load_input(index: int, source: str, rules: RuleSet | None = None) -> dict[str, Any]:
    """Read one input into a donation: ``{"index", "input", "kind", "error", "used", "doc", "messages"}``.

    ``doc`` is a findings document (:mod:`sms_audit.share`), read from a findings file or made from
    a raw archive with the library pipeline; ``error`` is the reason it could not be read (None when
    it was). Never raises for bad input: one donation never costs the league.
    """
    donation: dict[str, Any] = {
        "index": index,
        "input": source,
        "kind": "",
        "error": None,
        "used": False,
        "doc": None,
        "messages": 0,
    }
    try:
        with _local_copy(source) as path:
            donation["kind"] = FINDINGS if _is_findings(path) else ARCHIVE
            if donation["kind"] == FINDINGS:
                from sms_audit.share import read_findings

                donation["doc"] = read_findings(path)
            else:
                _archive_donation(path, rules, donation)
    except SmsAuditError as exc:
        donation["error"] = exc.message
    except OSError as exc:
        donation["error"] = f"cannot read: {exc.strerror or exc}"
    if donation["doc"] is not None:
        donation["used"] = True
        donation["messages"] = int(donation["doc"]["messages_checked"])
    return donation


def _archive_donation(path: Path, rules: RuleSet | None, donation: dict[str, Any]) -> None:
    from sms_audit.pipeline import audit, classify, read_archives
    from sms_audit.share import findings_document

    messages = read_archives([path])
    result = messages.archives[0] if messages.archives else None
    if result is not None and not result.format:
        donation["kind"] = ""  # not a supported archive either
    if result is not None and result.error is not None:
        donation["error"] = result.error.message
        if not result.read:
            return
    report = audit(classify(messages, rules=rules))
    donation["doc"] = findings_document(report)


def _is_findings(path: Path) -> bool:
    from sms_audit.share import sniff_findings

    if not path.is_file():
        return False
    with open(path, "rb") as handle:
        return sniff_findings(handle.read(4096))


@contextlib.contextmanager
def _local_copy(source: str) -> Iterator[Path]:
    """A local path for ``source``: the path itself, or a private temporary copy of a URL's file."""
    if "://" not in source:
        path = Path(source)
        if not path.exists():
            raise OSError(2, "no such file or folder")
        yield path
        return
    import tempfile

    import fsspec

    with tempfile.TemporaryDirectory(prefix="sms-audit-league-") as tmp:
        target = Path(tmp) / (source.rstrip("/").rsplit("/", 1)[-1] or "input")
        with fsspec.open(source, "rb") as src, open(target, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        yield target


def _status(donation: Mapping[str, Any]) -> dict[str, Any]:
    """What the client needs of a donation to count it and to drop repeated donor ids."""
    doc = donation["doc"]
    return {
        "index": donation["index"],
        "input": donation["input"],
        "kind": donation["kind"],
        "error": donation["error"],
        "used": donation["used"],
        "donor": doc["donor_id"] if doc else None,
        "generated_at": doc["generated_at"] if doc else None,
        "messages": donation["messages"],
    }


# --- donation → rows ---------------------------------------------------------------------------------


def _us(text: str | None) -> int | None:
    if text is None:
        return None
    return (datetime.fromisoformat(text) - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_VIOLATING = frozenset({"violation", "confirmation_with_marketing"})


def episode_rows(donation: Mapping[str, Any], skip: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
    """One row per unsubscribe of a used donation (times as Unix µs, the delay in seconds)."""
    doc = donation["doc"]
    if doc is None or donation["index"] in skip:
        return []
    rows = []
    donor, region = doc["donor_id"], doc["region"] or ""
    for brand in doc["brands"]:
        for unsub in brand["unsubscribes"]:
            sent = _us(unsub["sent_at"]) or 0
            times = [sent] + [_us(m["received_at"]) or sent for m in unsub["messages_after"]]
            bad = [_us(m["received_at"]) or sent for m in unsub["messages_after"] if m["kind"] in _VIOLATING]
            ignored = unsub["status"] == "violated"
            rows.append(
                {
                    "subject": brand["subject"],
                    "brand_display": brand["brand_display"] or brand["subject"],
                    "region": region,
                    "donor": donor,
                    "unsubscribes": 1,
                    "ignored": int(ignored),
                    "confirmed": int(bool(unsub["confirmed"])),
                    "violations": len(bad),
                    "delay_s": float((min(bad) - sent) // 1_000_000) if ignored and bad else float("nan"),
                    "first_us": min(times),
                    "last_us": max(times),
                }
            )
    return rows


def number_rows(donation: Mapping[str, Any], skip: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
    """One row per merchant number that sent marketing after an unsubscribe (withheld numbers left out)."""
    doc = donation["doc"]
    if doc is None or donation["index"] in skip:
        return []
    return [
        {"subject": brand["subject"], "number": m["number"]}
        for brand in doc["brands"]
        for unsub in brand["unsubscribes"]
        for m in unsub["messages_after"]
        if m["number"]
    ]


def _episode_meta() -> pd.DataFrame:
    import pandas as pd

    text = pd.StringDtype("pyarrow")
    return pd.DataFrame(
        {
            "subject": pd.Series([], dtype=text),
            "brand_display": pd.Series([], dtype=text),
            "region": pd.Series([], dtype=text),
            "donor": pd.Series([], dtype=text),
            "unsubscribes": pd.Series([], dtype="int64"),
            "ignored": pd.Series([], dtype="int64"),
            "confirmed": pd.Series([], dtype="int64"),
            "violations": pd.Series([], dtype="int64"),
            "delay_s": pd.Series([], dtype="float64"),
            "first_us": pd.Series([], dtype="int64"),
            "last_us": pd.Series([], dtype="int64"),
        }
    )


def _number_meta() -> pd.DataFrame:
    import pandas as pd

    text = pd.StringDtype("pyarrow")
    return pd.DataFrame({"subject": pd.Series([], dtype=text), "number": pd.Series([], dtype=text)})


def _p90(values: pd.Series) -> float:
    import numpy as np

    data = values.dropna().to_numpy(dtype="float64")
    return float(np.percentile(data, 90)) if len(data) else float("nan")


def _median(values: pd.Series) -> float:
    import numpy as np

    data = values.dropna().to_numpy(dtype="float64")
    return float(np.percentile(data, 50)) if len(data) else float("nan")


# --- the scheduler ---------------------------------------------------------------------------------


class _Engine:
    """Runs Dask collections on the chosen scheduler: a client (local or remote cluster) or none."""

    def __init__(self, scheduler: str | None, workers: int | None) -> None:
        self.client: Any = None
        self.cluster: Any = None
        self.scratch: str | None = None
        self.workers = 1
        if scheduler == SYNCHRONOUS:
            self.name = "the synchronous scheduler"
            return
        import logging

        from distributed import Client, LocalCluster

        if scheduler:
            try:
                self.client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise UsageError(
                    f"cannot connect to the Dask scheduler at {scheduler}: {exc}",
                    hint="check the address (tcp://host:8786) and that the scheduler is running",
                ) from None
            self.workers = max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))
            self.name = f"the cluster at {scheduler} ({self.workers} workers)"
            return
        import tempfile
        import warnings

        import dask

        count = workers or os.cpu_count() or 1
        # the workers' spill and lock files go in a folder of ours, removed on close (Dask's default,
        # dask-scratch-space in the temporary folder, is left behind); the setting is restored then
        self.scratch = tempfile.mkdtemp(prefix="sms-audit-dask-")
        self._config = dask.config.set({"temporary-directory": self.scratch})
        with warnings.catch_warnings():
            # the scheduler's health endpoint moves to a free loopback port when 8787 is taken
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            self.cluster = LocalCluster(
                n_workers=count,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
                local_directory=self.scratch,
            )
        self.client = Client(self.cluster)
        self.workers = count
        self.name = f"a local cluster of {count} worker{'s' if count != 1 else ''}"

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        if self.scratch is not None:
            import shutil

            self._config.__exit__(None, None, None)
            shutil.rmtree(self.scratch, ignore_errors=True)

    def persist(self, collection: Any, progress: TextIO | None, retries: int) -> Any:
        if self.client is None:
            with _local_progress(progress):
                return collection.persist(scheduler=SYNCHRONOUS)
        persisted = self.client.persist(collection, retries=retries)
        if progress is not None:
            from distributed import progress as show

            with contextlib.redirect_stdout(progress):  # Dask draws its bar on stdout: data goes there
                show(persisted)
                progress.write("\n")
        return persisted

    def compute(self, collections: Sequence[Any], retries: int) -> list[Any]:
        import dask

        if self.client is None:
            return list(dask.compute(*collections, scheduler=SYNCHRONOUS))
        futures = self.client.compute(list(collections), retries=retries)
        return list(self.client.gather(futures))

    def peak_memory(self) -> dict[str, int]:
        """Peak resident memory of each worker process (bytes), or of this process when synchronous."""
        if self.client is None:
            return {"synchronous": _peak_rss()}
        return {str(k): int(v) for k, v in self.client.run(_peak_rss).items()}


def _peak_rss() -> int:
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # Linux reports KiB


@contextlib.contextmanager
def _local_progress(stream: TextIO | None) -> Iterator[None]:
    if stream is None:
        yield
        return
    from dask.diagnostics import ProgressBar

    with ProgressBar(out=stream):
        yield


# --- the league --------------------------------------------------------------------------------------

Loader = Callable[[int, str, "RuleSet | None"], dict[str, Any]]


def league(
    inputs: Iterable[str | Path],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    min_donors: int = DEFAULT_MIN_DONORS,
    rules: RuleSet | None = None,
    progress: TextIO | None = None,
    retries: int = RETRIES,
    load: Loader = load_input,
) -> League:
    """The league per brand from donations (findings files, raw archives, folders, fsspec URLs).

    ``scheduler``: None = a new LocalCluster of ``workers`` processes (default one per core),
    ``"synchronous"`` = this process, else the address of a running Dask scheduler. ``rules`` classify
    raw archives (default: the packaged rules plus this user's ``<config dir>/rules``); they are sent
    to the workers, so every worker labels alike. ``progress``: a stream for Dask's progress bar.
    ``load`` turns one input into a donation (tests inject faults through it). Brands seen by fewer
    than ``min_donors`` donors are counted in ``hidden``, not listed. Raises UsageError for bad
    options or an unreachable scheduler; unreadable inputs are in ``errors``.
    """
    if min_donors < 1:
        raise UsageError("--min-donors must be at least 1")
    if workers is not None and (workers < 1 or scheduler):
        raise UsageError(
            "--workers sets the size of the local cluster"
            + (" and must be at least 1" if workers < 1 else "; it cannot be used with --scheduler")
        )
    sources = expand_inputs(inputs)
    if not sources:
        raise UsageError("no inputs", hint="give findings files, archives or folders of them")
    try:
        import dask.bag as db
        from dask import delayed
    except ImportError:
        raise UsageError(
            "the league needs Dask", hint="pip install 'sms-audit[scale]' (dask[distributed])"
        ) from None
    if rules is None:
        from sms_audit import config
        from sms_audit.classifier import load_rules

        rules = load_rules(config.rules_dir())
    started = time.perf_counter()
    engine = _Engine(scheduler, workers)
    try:
        tasks = min(len(sources), MAX_TASKS)
        bag = db.from_sequence(list(enumerate(sources)), npartitions=tasks)
        shared_rules = delayed(rules, pure=True)
        loaded = bag.starmap(load, rules=shared_rules)
        loaded = engine.persist(loaded, progress, retries)
        (statuses,) = engine.compute([loaded.map(_status)], retries)
        statuses = sorted(statuses, key=lambda s: s["index"])
        skip = _repeated_donors(statuses)
        frames = _aggregate(loaded, frozenset(skip), max(1, min(tasks, 4 * engine.workers)))
        results = engine.compute(frames, retries)
        peak = engine.peak_memory()
    except KeyboardInterrupt:
        # Ctrl-C/SIGTERM cancel the client's pending gathers, which asyncio would report one by one
        # as "Task exception was never retrieved" with a traceback while the client closes
        import logging

        logging.getLogger("asyncio").setLevel(logging.CRITICAL + 1)
        raise
    finally:
        engine.close()
    rows, hidden = _finish(results, min_donors)
    errors = tuple(
        InputError(s["input"], s["kind"] or "unknown", s["error"], s["used"]) for s in statuses if s["error"]
    )
    used = [s for s in statuses if s["used"] and s["index"] not in skip]
    return League(
        rows=tuple(rows),
        hidden=hidden,
        errors=errors,
        inputs=len(sources),
        findings_files=sum(s["kind"] == FINDINGS for s in statuses),
        archives=sum(s["kind"] == ARCHIVE for s in statuses),
        donors=len({s["donor"] for s in used}),
        duplicates=len(skip),
        min_donors=min_donors,
        scheduler=engine.name,
        workers=engine.workers,
        seconds=time.perf_counter() - started,
        peak_memory=peak,
    )


def _repeated_donors(statuses: Sequence[Mapping[str, Any]]) -> set[int]:
    """Indices of donations whose donor id also came in a newer file (ties: the later input counts)."""
    newest: dict[str, Mapping[str, Any]] = {}
    for status in statuses:
        if not status["used"]:
            continue
        seen = newest.get(status["donor"])
        if seen is None or (status["generated_at"], status["index"]) >= (seen["generated_at"], seen["index"]):
            newest[status["donor"]] = status
    keep = {s["index"] for s in newest.values()}
    return {s["index"] for s in statuses if s["used"] and s["index"] not in keep}


def _aggregate(loaded: Any, skip: frozenset[int], partitions: int) -> list[Any]:
    """The dask.dataframe groupbys of the league (lazy), over ``partitions`` frames: the rows of many
    inputs are gathered into a few frames first, so the groupbys run few, larger tasks."""
    rows = loaded.map(partial(episode_rows, skip=skip)).flatten().repartition(npartitions=partitions)
    episodes = rows.to_dataframe(meta=_episode_meta())
    rows = loaded.map(partial(number_rows, skip=skip)).flatten().repartition(npartitions=partitions)
    numbers = rows.to_dataframe(meta=_number_meta())
    by_subject = episodes.groupby("subject")
    ignored = episodes[episodes["ignored"] == 1]
    return [
        by_subject.agg(
            {
                "unsubscribes": "sum",
                "ignored": "sum",
                "confirmed": "sum",
                "violations": "sum",
                "first_us": "min",
                "last_us": "max",
            }
        ),
        by_subject["donor"].nunique(),
        ignored.groupby("subject")["donor"].nunique(),
        ignored.groupby("subject")["delay_s"].apply(
            _median, meta=("delay_s", "float64"), shuffle_method="tasks"
        ),
        ignored.groupby("subject")["delay_s"].apply(
            _p90, meta=("delay_s", "float64"), shuffle_method="tasks"
        ),
        numbers.groupby("subject")["number"].nunique(),
        episodes.groupby(["subject", "brand_display"])["unsubscribes"].sum(),
        episodes.groupby(["subject", "region"])["unsubscribes"].sum(),
    ]


def _finish(results: Sequence[Any], min_donors: int) -> tuple[list[dict[str, Any]], int]:
    """Join the groupby results into rows, drop brands with too few donors, sort."""
    base, donors, affected, median, p90, numbers, names, regions = results
    table = base.join(donors.rename("donors"), how="left")
    table["donors_affected"] = affected.reindex(table.index).fillna(0).astype("int64")
    table["median_s"] = median.reindex(table.index)
    table["p90_s"] = p90.reindex(table.index)
    table["numbers"] = numbers.reindex(table.index).fillna(0).astype("int64")
    display = _most_common(names)
    region_lists = {
        subject: sorted(str(r) for r in group.index.get_level_values(1) if str(r))
        for subject, group in regions.groupby(level=0)
    }
    rows: list[dict[str, Any]] = []
    hidden = 0
    for subject, rec in table.sort_index().iterrows():
        if int(rec["donors"]) < min_donors:
            hidden += 1
            continue
        unsubscribes = int(rec["unsubscribes"])
        rows.append(
            {
                "subject": str(subject),
                "brand_display": display.get(str(subject), str(subject)),
                "regions": region_lists.get(str(subject), []),
                "donors": int(rec["donors"]),
                "donors_affected": int(rec["donors_affected"]),
                "unsubscribes": unsubscribes,
                "ignored": int(rec["ignored"]),
                "ignore_rate": round(int(rec["ignored"]) / unsubscribes, 4) if unsubscribes else None,
                "violating_messages": int(rec["violations"]),
                "numbers_after_unsubscribe": int(rec["numbers"]),
                "median_hours_to_violation": _hours(rec["median_s"]),
                "p90_hours_to_violation": _hours(rec["p90_s"]),
                "confirmation_rate": round(int(rec["confirmed"]) / unsubscribes, 4) if unsubscribes else None,
                "first_seen": _time(rec["first_us"]),
                "last_seen": _time(rec["last_us"]),
            }
        )
    rows.sort(
        key=lambda r: (
            -r["donors_affected"],
            -(r["ignore_rate"] or 0),
            -r["violating_messages"],
            r["subject"],
        )
    )
    return rows, hidden


def _most_common(counts: pd.Series) -> dict[str, str]:
    """Per subject, the display name used most often (ties: the first in sort order)."""
    frame = counts.rename("n").reset_index()
    frame = frame.sort_values(["subject", "n", "brand_display"], ascending=[True, False, True], kind="stable")
    first = frame.drop_duplicates("subject")
    return dict(zip(first["subject"].astype(str), first["brand_display"].astype(str), strict=True))


def _hours(seconds: Any) -> float | None:
    import math

    value = float(seconds)
    return None if math.isnan(value) else round(value / 3600, 1)


def _time(micros: Any) -> datetime:
    return datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
