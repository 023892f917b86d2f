"""What every command shares: run state, stderr messages, progress, output files, shared options.

This package is the only place that looks at TTYs, prints to stderr or picks exit codes.
"""

from __future__ import annotations

import getpass
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
from sms_audit.errors import ExitCode, SmsAuditError, TruncatedArchive, UsageError
from sms_audit.output import (
    DEFAULT_VIEW,
    OutputFormat,
    RecordFormat,
    RecordView,
    resolve_format,
    visible,
    write_records,
)

if TYPE_CHECKING:
    from rich.console import Console

    from sms_audit.importers.base import ProgressCallback
    from sms_audit.pipeline import ArchiveResult, RegionChoice
    from sms_audit.store import Store

# Options and arguments shared by the commands (one definition, one help text).
ArchivesArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Archives to read directly; none = the store.", show_default=False, metavar="[ARCHIVE]..."
    ),
]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to FILE instead of stdout (written atomically, mode 0600).",
        metavar="FILE",
    ),
]
InputFormatOption = Annotated[
    str | None,
    typer.Option(
        "--input-format",
        help="Skip content detection: read the inputs as this format (see `sms-audit import --help`).",
        metavar="FORMAT",
    ),
]

ArchiveTimezoneOption = Annotated[
    str | None,
    typer.Option(
        "--archive-timezone",
        help="IANA zone that archives writing local times without a zone (vMessage, some CSV) were made in. "
        "[default: the main zone of the archive's region]",
        show_default=False,
        metavar="ZONE",
    ),
]


def format_option(extra: str = "") -> Any:
    """The one declaration of ``--format``; the annotated enum lists the formats that work."""
    return typer.Option(
        "--format",
        "-f",
        envvar=config.ENV_FORMAT,
        case_sensitive=False,
        help="auto = table on a terminal, JSON Lines otherwise" + extra + ".",
    )


RecordFormatOption = Annotated[RecordFormat, format_option()]
ReportFormatOption = Annotated[
    OutputFormat,
    format_option("; md = a Markdown report; html = a self-contained page with timelines (with -o FILE)"),
]


@dataclass(slots=True)
class AppState:
    """Global options, resolved once (they may be given before or after the command name)."""

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

    def region_choice(self) -> RegionChoice | None:
        """The region the user set (flag, environment or config), with where it came from."""
        from sms_audit.pipeline import RegionChoice

        code = self.region
        if code is None:
            return None
        source = (
            "--region"
            if self.region_flag
            else ("$" + config.ENV_REGION if os.environ.get(config.ENV_REGION) else "config.toml")
        )
        return RegionChoice(code, source)

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


def open_store(state: AppState, *, create: bool) -> Store:
    from sms_audit.pipeline import open_store as open_

    return open_(state.db_path, create=create)


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


def report_archive(state: AppState, result: ArchiveResult, summary: str | None) -> None:
    """Tell how one archive went: its summary line (info), warnings, and its error (exit 3)."""
    if summary is not None and (result.ok or result.read):
        info(state, summary)
    for text in result.warnings:
        warn(f"{result.path}: {text}")
    if result.error is None:
        return
    if state.debug and result.error.__cause__ is not None:
        import traceback

        traceback.print_exception(result.error.__cause__, file=sys.stderr)
    if isinstance(result.error, TruncatedArchive):
        warn(str(result.error))  # every complete record before the break was kept
    else:
        print_error(result.error)
    state.fail(result.error.exit_code if result.error.exit_code != ExitCode.INTERNAL else ExitCode.DATA_ERROR)


def local_time_note(result: ArchiveResult) -> str:
    """``; local times read in ZONE (why)`` for archives whose format writes times without a zone."""
    zone = result.details.get("archive_timezone")
    if not zone:
        return ""
    return f"; local times read in {zone} ({result.details.get('archive_timezone_source', '')})"


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


def check_input_format(name: str | None) -> str | None:
    """Check an archive --input-format name early: an unknown one is a usage error (exit 2)."""
    if name is None:
        return None
    from sms_audit.importers import importer_names

    if name not in importer_names():
        raise UsageError(f"unknown input format {name!r}", hint="one of: " + ", ".join(importer_names()))
    return name


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
    fmt: RecordFormat,
    output: str | None,
    view: RecordView = DEFAULT_VIEW,
) -> int:
    """Write records to stdout or ``-o FILE`` in the resolved format; returns the count."""
    resolved = resolve_format(fmt, to_stdout=output is None or output == "-")
    with open_output(output) as stream:
        return write_records(records, columns, resolved, stream, view)


def frame_records(frame: Any, columns: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Rows of a frame as dicts with ``columns`` (those present), in order."""
    present = [c for c in columns if c in frame.columns]
    for row in frame[present].itertuples(index=False, name=None):
        yield dict(zip(present, row, strict=True))
