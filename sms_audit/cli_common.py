"""What every command shares: the run state, stderr messages, progress, output files, loading.

This is the only place (with cli.py) that looks at TTYs, prints to stderr or picks exit codes.
"""

from __future__ import annotations

import getpass
import itertools
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from sms_audit import config
from sms_audit.errors import ExitCode, SmsAuditError, UsageError
from sms_audit.output import OutputFormat, resolve_format, visible, write_records

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from sms_audit.importers.base import ProgressCallback, ReadOptions
    from sms_audit.model import Message
    from sms_audit.store import Store

_REGION_SAMPLE = 5000  # messages read ahead to infer the owner's region

# Options and arguments shared by the commands (one definition, one help text).
ArchivesArg = Annotated[
    list[Path] | None, typer.Argument(help="Archives to read directly; none = the store.", show_default=False)
]
OutputOption = Annotated[
    str | None,
    typer.Option("--output", "-o", help="Write to FILE instead of stdout (written atomically, mode 0600)."),
]
InputFormatOption = Annotated[
    str | None,
    typer.Option("--input-format", help="Skip content detection and read archives as this format."),
]


@dataclass(slots=True)
class AppState:
    """Global options, resolved once in the app callback."""

    db_flag: str | None = None
    region_flag: str | None = None
    quiet: bool = False
    verbose: bool = False
    debug: bool = False
    settings: config.Settings = field(default_factory=config.Settings)
    exit_code: ExitCode = ExitCode.OK

    @property
    def db_path(self) -> Path:
        return config.resolve_db_path(self.db_flag, self.settings)

    @property
    def region(self) -> str | None:
        return config.resolve_region(self.region_flag, self.settings)

    def fail(self, code: ExitCode) -> None:
        """Remember the worst exit code seen so far (data errors do not stop the run)."""
        if self.exit_code == ExitCode.OK or code > self.exit_code:
            self.exit_code = code


def get_state(ctx: typer.Context) -> AppState:
    """The run state set by the app callback (a bare app in tests gets a default one)."""
    state = ctx.find_object(AppState)
    if state is None:
        state = AppState(settings=config.load_settings())
        ctx.obj = state
    return state


def classify_messages(frame: pd.DataFrame, region: str | None) -> pd.DataFrame:
    """Label a message frame with the packaged rules plus the user's (``<config dir>/rules``)."""
    from sms_audit.classify import classify_frame, load_rules

    return classify_frame(frame, region=region, rules=load_rules(config.rules_dir()))


# --- stderr -------------------------------------------------------------------------------------

_stderr: Console | None = None


def stderr() -> Console:
    global _stderr
    if _stderr is None:
        from rich.console import Console

        _stderr = Console(stderr=True, markup=False, highlight=False, emoji=False, soft_wrap=True)
    return _stderr


def _say(text: str) -> None:
    # plain write: stderr must stay free of colour codes when it is a pipe or a log file
    sys.stderr.write(visible(text, keep_newlines=True) + "\n")
    sys.stderr.flush()


def info(state: AppState, text: str) -> None:
    """Progress-level information; silenced by -q."""
    if not state.quiet:
        _say(text)


def warn(text: str) -> None:
    """Never silenced."""
    _say(f"warning: {text}")


def print_error(exc: SmsAuditError) -> None:
    """``error: PATH: cause`` on one line, then an optional ``hint:`` line."""
    _say(f"error: {exc}")
    if exc.hint:
        _say(f"hint: {exc.hint}")


@contextmanager
def progress(state: AppState, description: str) -> Iterator[ProgressCallback | None]:
    """A transient rich progress bar on stderr, only when stderr is a terminal and not -q."""
    if state.quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=stderr(),
        transient=True,
    ) as bar:
        task = bar.add_task(visible(description, keep_newlines=False), total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def get_passphrase(prompt: str) -> str | None:
    """Encrypted backups: ``$SMS_AUDIT_BACKUP_PASSWORD``, else a hidden prompt on a terminal, else None.

    Never from argv (it would show in ``ps`` and shell history); never a prompt under cron.
    """
    value = os.environ.get(config.ENV_BACKUP_PASSWORD)
    if value:
        return value
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt, stream=sys.stderr)
    return None


# --- output -------------------------------------------------------------------------------------


@contextmanager
def open_output(path: str | None) -> Iterator[TextIO]:
    """stdout for None/"-"; otherwise a file written atomically (temp file + rename) at the end."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path).expanduser()
    if target.is_dir():
        raise UsageError("is a directory", path=str(target), hint="-o takes a file name")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".sms-audit-", dir=target.parent if str(target.parent) else ".")
    except OSError as exc:
        raise UsageError(f"cannot write: {exc.strerror}", path=str(target)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.chmod(tmp, 0o600)  # reports hold message text: private like the store
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: OutputFormat,
    output: str | None,
    **kwargs: Any,
) -> int:
    """Write records to stdout or ``-o FILE`` in the resolved format; returns the count."""
    to_stdout = output is None or output == "-"
    resolved = resolve_format(fmt, to_stdout=to_stdout)
    if resolved is OutputFormat.MD:
        raise UsageError("--format md is only available for reports")
    with open_output(output) as stream:
        return write_records(records, columns, resolved, stream, **kwargs)


# --- loading messages ---------------------------------------------------------------------------


def open_store(state: AppState, *, create: bool) -> Store:
    from sms_audit.store import Store

    return Store(state.db_path, create=create)


def infer_archive_region(paths: Sequence[Path], input_format: str | None) -> str | None:
    """The owner's region from the first messages of the archives (for national numbers)."""
    from sms_audit.importers import ReadOptions, ReadStats, read_archive
    from sms_audit.normalize import infer_region

    addresses: list[str] = []
    for path in paths:
        try:
            # no passphrase here: an encrypted backup is decrypted once, when it is read for real
            stream = read_archive(path, ReadOptions(), ReadStats(), input_format)
            addresses.extend(m.address_raw for m in itertools.islice(stream, _REGION_SAMPLE))
        except SmsAuditError:
            continue  # reported when the archive is read for real
    return infer_region(addresses)


@contextmanager
def reporting_errors(state: AppState, path: Path) -> Iterator[None]:
    """Report a failing archive on stderr and record the exit code; the run goes on with the next.

    A truncated archive is a warning (every complete record before the break was kept).
    """
    from sms_audit.errors import TruncatedArchive

    try:
        yield
    except TruncatedArchive as exc:
        warn(str(exc))
        state.fail(ExitCode.DATA_ERROR)
    except SmsAuditError as exc:
        print_error(exc)
        state.fail(exc.exit_code)
    except OSError as exc:
        print_error(SmsAuditError(f"cannot read: {exc.strerror or exc}", path=str(path)))
        state.fail(ExitCode.DATA_ERROR)


def read_options(region: str | None, on_progress: ProgressCallback | None) -> ReadOptions:
    """How archives are read: the owner's region, a progress bar, and the passphrase source."""
    from sms_audit.importers import ReadOptions

    return ReadOptions(region=region, on_progress=on_progress, get_passphrase=get_passphrase)


def read_archives(
    state: AppState, paths: Sequence[Path], input_format: str | None
) -> tuple[list[Message], str | None]:
    """Read archives directly (no store), deduplicated by message_id across files; also returns the
    region their national numbers were normalised with.

    Errors are reported per archive and recorded in ``state`` (exit 3); the other archives are
    still read, and a truncated archive keeps every message before the break.
    """
    from sms_audit.importers import ReadStats, detect, expand_folders, get_importer

    paths = expand_folders(list(paths), input_format)
    region = state.region or infer_archive_region(paths, input_format)
    seen: set[str] = set()
    messages: list[Message] = []
    for path in paths:
        stats = ReadStats()
        with reporting_errors(state, path):
            importer = get_importer(input_format) if input_format else detect(path)
            info(state, f"{path}: {importer.DESCRIPTION}")
            with progress(state, f"reading {path.name}") as on_progress:
                for message in importer.read(path, read_options(region, on_progress), stats):
                    if message.message_id not in seen:
                        seen.add(message.message_id)
                        messages.append(message)
        for text in stats.warnings:
            warn(f"{path}: {text}")
    return messages, region


def load_frame(
    state: AppState,
    archives: Sequence[Path],
    input_format: str | None,
    where: str = "",
    params: Sequence[Any] = (),
) -> pd.DataFrame:
    """The message frame from archives (read directly) or, with none given, from the store."""
    from sms_audit.model import to_frame

    if archives:
        messages, region = read_archives(state, archives, input_format)
        frame = to_frame(messages)
        frame.attrs["region"] = region  # what effective_region() must use for these messages
        return frame
    with open_store(state, create=False) as store:
        return store.load_frame(where, params)


def effective_region(
    state: AppState, frame: pd.DataFrame | None = None, *, use_store: bool = True
) -> str | None:
    """Explicit region, else the one the frame's archives were read with, else the store's
    remembered one (``use_store``: the frame came from the store), else inferred from the frame."""
    region = state.region or (frame.attrs.get("region") if frame is not None else None)
    if region:
        return region
    if use_store and state.db_path.exists():
        try:
            with open_store(state, create=False) as store:
                remembered = store.get_meta("region")
            if remembered:
                return remembered
        except SmsAuditError:
            pass
    if frame is not None and len(frame):
        from sms_audit.normalize import infer_region

        return infer_region(frame["address_raw"].unique().tolist())
    return None
