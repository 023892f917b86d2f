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
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO, TypeVar

import typer

from sms_audit import config
from sms_audit.errors import ExitCode, SmsAuditError, TruncatedArchive, UsageError
from sms_audit.output import (
    DEFAULT_VIEW,
    FORMAT_NAMES,
    SUFFIX_FORMATS,
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
        help="Archives to read directly; none = the store.", show_default=False, metavar="ARCHIVE"
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

CsvMapOption = Annotated[
    str | None,
    typer.Option(
        "--csv-map",
        help="Which column of a CSV export is which, for CSVs no preset matches: "
        "date=COL,direction=COL,address=COL,body=COL[,date_format=FMT]; COL = a column name or number.",
        show_default=False,
        metavar="MAP",
    ),
]

WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Tables: every column at full width (by default the least useful columns are left out "
        "and long text is cut to fit the terminal).",
    ),
]


def display_timezone(state: AppState, option: str | None, region: str | None) -> str:
    """The zone tables show times in: --timezone > $SMS_AUDIT_TIMEZONE > config.toml > the main zone
    of the region > UTC (a usage error for an unknown zone)."""
    from sms_audit.report.policy import default_timezone, valid_timezone

    chosen = state.setting("timezone", option)
    return valid_timezone(chosen.value) if chosen.value else default_timezone(region)[0]


def examples(*lines: str) -> str:
    """A help epilog of example command lines, kept as written (click's ``\\b`` marker)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def format_option(choices: Iterable[str], extra: str = "") -> Any:
    """The one declaration of ``--format``; ``choices`` are the formats that work for the command."""
    return typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        metavar="FORMAT",
        show_default=False,
        help=f"One of {', '.join(choices)}. auto = a table on a terminal, the format of -o FILE's suffix "
        "(.json, .csv ...), JSON Lines otherwise"
        + extra
        + ". [env: SMS_AUDIT_FORMAT; default: config.toml, else auto]",
    )


RecordFormatOption = Annotated[RecordFormat | None, format_option(f.value for f in RecordFormat)]
ReportFormatOption = Annotated[
    OutputFormat | None,
    format_option(
        (f.value for f in OutputFormat),
        "; md = a Markdown report; html = a self-contained page with timelines (with -o FILE)",
    ),
]


_E = TypeVar("_E", bound=StrEnum)


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
    hints_shown: set[str] = field(default_factory=set)  # a hint is said once per run, not per archive

    @property
    def db_path(self) -> Path:
        return config.resolve_db_path(self.db_flag, self.settings)

    @property
    def region(self) -> str | None:
        return config.resolve_region(self.region_flag, self.settings).value

    def region_choice(self) -> RegionChoice | None:
        """The region the user set (option, environment or config), with where it came from."""
        from sms_audit.pipeline import RegionChoice

        chosen = config.resolve_region(self.region_flag, self.settings)
        return None if chosen.value is None else RegionChoice(chosen.value, chosen.source)

    def setting(self, name: str, option: str | None, default: str | None = None) -> config.Resolved:
        """A setting by the one precedence: option > environment > config.toml > default."""
        return config.resolve(name, option, self.settings, default)

    def output_format(self, option: StrEnum | None, choices: type[_E]) -> _E:
        """``--format``: option > $SMS_AUDIT_FORMAT > config.toml ``format`` > auto; a value this
        command does not offer is a usage error naming where it came from."""
        chosen = self.setting("format", option.value if option is not None else None, "auto")
        try:
            return choices(str(chosen.value).strip().lower())
        except ValueError:
            raise UsageError(
                f"unknown format {chosen.value!r} (from {chosen.source})",
                hint="one of: " + ", ".join(c.value for c in choices),
            ) from None

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
    # plain write: stderr must stay free of colour codes when it is a pipe or a log file; one line
    # always (a file name holding a newline or an escape sequence must not forge another line)
    sys.stderr.write(visible(text, keep_newlines=False) + "\n")
    sys.stderr.flush()


def info(state: AppState, text: str) -> None:
    """Progress-level information; silenced by -q."""
    if not state.quiet:
        _say(text)


def warn(text: str) -> None:
    """Never silenced."""
    _say(f"warning: {text}")


def print_error(exc: SmsAuditError, state: AppState | None = None) -> None:
    """``error: PATH: cause`` on one line, then an optional ``hint:`` line — once per run when
    ``state`` is given (ten unsupported files get one list of the supported formats)."""
    _say(f"error: {exc}")
    if exc.hint and (state is None or exc.hint not in state.hints_shown):
        _say(f"hint: {exc.hint}")
        if state is not None:
            state.hints_shown.add(exc.hint)


def report_archive(state: AppState, result: ArchiveResult, summary: str | None) -> None:
    """Tell how one archive went: its summary line (info), warnings, and its error (exit 3)."""
    if summary is not None and (result.ok or result.read):
        info(state, summary)
    if state.verbose and result.timings:
        steps = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.timings.items())
        info(state, f"{result.path}: {steps} ({result.details.get('labelled', '0')} messages labelled)")
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
        print_error(result.error, state)
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
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    with Progress(  # a percentage: the steps count bytes read or messages labelled
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=stderr(),
        transient=True,
    ) as bar:
        task = bar.add_task(visible(description, keep_newlines=False), total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def status(state: AppState, description: str) -> Iterator[None]:
    """A transient spinner on stderr for a step that can take seconds (terminal only, not -q)."""
    if state.quiet or not sys.stderr.isatty():
        yield
        return
    with stderr().status(visible(description, keep_newlines=False)):
        yield


def counted(state: AppState, frames: Iterable[Any], description: str) -> Iterator[Any]:
    """``frames`` passed through, with a progress count of their rows on stderr (terminal only, and
    only when stdout is not that terminal: a bar would tear the output)."""
    from sms_audit.output import stdout_is_tty

    if stdout_is_tty():
        yield from frames
        return
    with progress(state, description) as update:
        done = 0
        for frame in frames:
            done += len(frame)
            if update is not None:
                update(done, None)
            yield frame


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


def check_output(path: str | None, fmt: Any = None, *, only: str | None = None) -> None:
    """A usage error before any work when ``-o`` cannot be written (a folder, a missing parent), or
    when its suffix names a format the command will not write there: ``fmt`` is the command's
    ``--format`` (:func:`~sms_audit.output.resolve_format` decides), ``only`` the one format a
    command without ``--format`` writes (``share``: JSON)."""
    if path is None or path == "-":
        return
    target = Path(path).expanduser()
    if target.is_dir():
        raise UsageError("is a directory", path=str(target), hint="-o takes a file name")
    if not target.parent.is_dir():
        raise UsageError("its folder does not exist", path=str(target), hint="create the folder first")
    if fmt is not None:
        resolve_format(fmt, to_stdout=False, output=path)
    named = SUFFIX_FORMATS.get(target.suffix.lower())
    if only is not None and named not in (None, only):
        raise UsageError(
            f"this command writes {FORMAT_NAMES.get(only, only)}, not the "
            f"{FORMAT_NAMES.get(named, named)} the file name's suffix asks for",
            path=path,
            hint=f"name the file with the .{only} suffix",
        )


@contextmanager
def open_output(path: str | None) -> Iterator[TextIO]:
    """stdout for None/"-"; a regular file is written atomically (temp file + rename, mode 0600);
    a symlink, FIFO or device (``/dev/null``, ``/dev/stdout``) is written through, never replaced."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    check_output(path)
    target = Path(path).expanduser()
    if target.is_symlink() or (target.exists() and not target.is_file()):
        try:
            handle = open(target, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UsageError(f"cannot write: {exc.strerror}", path=str(target)) from None
        with handle:
            yield handle
        return
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
    resolved = resolve_format(fmt, to_stdout=output is None or output == "-", output=output)
    with open_output(output) as stream:
        return write_records(records, columns, resolved, stream, view)
