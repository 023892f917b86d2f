"""Parse an archive in a child process, so the parse and the store's writes use both cores.

In one process the reader thread and the writer share the GIL: a 1,000,000-message SB&R file took
~35 s to read and store although the parse alone takes ~21 s and the writes ~15 s. Here a child
Python runs the importer's ``read_records`` and sends its records back in pickled batches over a
pipe; the parent only unpickles, normalises and writes.

The child is started with ``subprocess`` (``python -m sms_audit.importers._parse_process``), not
``multiprocessing``: a spawned ``multiprocessing`` child imports the parent's ``__main__`` again,
which would run a library user's unguarded script a second time, and a forked one copies a process
that has threads. The stream is pickle (it never leaves this machine and only this module writes
it). Everything the child knows reaches the parent: its records in order, its progress, its
:class:`~sms_audit.importers.base.ReadStats`, and the exception that ended the reading — raised in
the parent after every record before it, as in-process reading does.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from sms_audit.errors import CorruptArchive
from sms_audit.importers.base import ReadOptions, ReadStats
from sms_audit.model import Record, RecordBatch

#: Records per message from the child (~3 MB pickled for SMS): small enough to keep both
#: processes busy, large enough that pickling stays cheap per record.
BATCH = 10_000


def read_batches_in_process(
    importer: ModuleType, path: Path, options: ReadOptions, stats: ReadStats, *, batch: int | None = None
) -> Iterator[RecordBatch]:
    """``importer.read_records(path, options, stats)``, run in a child process, in batches of up to
    ``batch`` (default :data:`BATCH`) records held as columns.

    Yields the same records in the same order, calls ``options.on_progress`` with the child's
    progress, adds the child's counts, warnings and details to ``stats`` and raises the error that
    ended the reading (after its records). ``options.get_passphrase`` cannot cross processes:
    importers that ask for one are read in process. Raises ParserUnavailable, before yielding
    anything, when no child can be started or it ends without a word (the caller then reads in
    process), and CorruptArchive when the child dies later without saying why (killed, out of
    memory). Closing the iterator early stops the child.
    """
    request = (importer.__name__, str(path), options.limits, options.csv_map, batch or BATCH)
    env = dict(os.environ)
    # the child imports sms_audit (and a test's importer module) from where the parent did
    env["PYTHONPATH"] = os.pathsep.join(p or os.getcwd() for p in sys.path)  # "": the working folder
    if not sys.executable or getattr(sys, "frozen", False):  # no Python to start (a frozen app)
        raise ParserUnavailable("no Python interpreter to run a child with")
    try:
        child = subprocess.Popen(
            # -P: the working folder is not put first on the child's path (a stray pickle.py or an
            # sms_audit/ checkout there must not be run); PYTHONPATH is this process's own path
            [sys.executable, "-P", "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    except OSError as exc:  # too many processes, no such file
        raise ParserUnavailable(str(exc)) from None
    assert child.stdin is not None and child.stdout is not None
    heard = False  # until the child has sent something, a failure is the child's, not the archive's
    try:
        try:
            pickle.dump(request, child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            child.stdin.close()
        except OSError as exc:
            raise ParserUnavailable(f"the child did not take its request: {exc}") from None
        while True:
            try:
                kind, payload, progress = pickle.load(child.stdout)
            except (EOFError, pickle.UnpicklingError, OSError):
                if not heard:
                    raise ParserUnavailable(f"the child ended before reading ({_how(child)})") from None
                raise CorruptArchive(
                    f"reading stopped: the parser process ended unexpectedly ({_how(child)})",
                    path=str(path),
                    hint="the records read before were kept; if memory is short, close other programs "
                    "and import again",
                ) from None
            heard = True
            if progress is not None and options.on_progress is not None:
                options.on_progress(*progress)
            if kind == "records":
                yield RecordBatch(dict(zip(Record._fields, payload, strict=True)))
                continue
            child_stats, error = payload
            _add(stats, child_stats)
            if error is not None:
                raise error
            return
    finally:
        _stop(child)


def _stop(child: subprocess.Popen[bytes]) -> None:
    """End the child: SIGTERM first, so that it removes its temporary copies (a WAL database is read
    from one), then SIGKILL if it does not go within 5 s."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
    child.wait()
    if child.stdout is not None:
        child.stdout.close()


class ParserUnavailable(Exception):
    """No child could be started, or it ended before it said anything (nothing was read): the
    caller reads in process instead."""


def _how(child: subprocess.Popen[bytes]) -> str:
    try:
        code = child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return "it stopped answering"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _add(stats: ReadStats, child: ReadStats) -> None:
    stats.read += child.read
    stats.skipped += child.skipped
    stats.excluded += child.excluded
    stats.warnings.extend(child.warnings)
    stats.details.update(child.details)
    stats.skip_reasons.update(child.skip_reasons)


def _send(out: IO[bytes], message: tuple[str, Any, Any]) -> None:
    pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


def _serve() -> None:
    """The child: read the request on stdin, stream ``(kind, payload, progress)`` messages on stdout."""
    import importlib

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    signal.signal(signal.SIGTERM, _terminated)  # unwind: the importer's finally blocks clean up
    if hasattr(signal, "SIGHUP"):  # the terminal closed: the parent goes too
        signal.signal(signal.SIGHUP, _terminated)
    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing printed by accident can corrupt the stream
    module_name, path, limits, csv_map, batch = pickle.load(sys.stdin.buffer)
    importer = importlib.import_module(module_name)
    progress: list[tuple[int, int | None] | None] = [None]

    def on_progress(done: int, total: int | None) -> None:
        progress[0] = (done, total)

    stats = ReadStats()
    options = ReadOptions(on_progress=on_progress, limits=limits, csv_map=csv_map)
    records: list[Record] = []
    error: BaseException | None = None

    def send() -> None:  # as columns: a quarter of the pickling work of record tuples
        _send(out, ("records", tuple(zip(*records, strict=True)), progress[0]))

    try:
        for record in importer.read_records(Path(path), options, stats):
            records.append(record)
            if len(records) >= batch:
                send()
                records = []
    except Exception as exc:  # noqa: BLE001 - the parent raises it, as reading in process would
        error = exc
    if records:
        send()
    try:
        pickle.dumps(error)
    except Exception:  # noqa: BLE001 - an exception that cannot cross: its type and text can
        error = CorruptArchive(f"{type(error).__name__}: {error}", path=path)
    _send(out, ("end", (stats, error), progress[0]))


def _terminated(_signum: int, _frame: object) -> None:
    raise SystemExit(143)


if __name__ == "__main__":
    try:
        _serve()
    except BrokenPipeError:  # the parent stopped reading (it was interrupted or gave up)
        sys.exit(0)
