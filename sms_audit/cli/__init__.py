"""The ``sms-audit`` command line: a thin typer view over :mod:`sms_audit.pipeline`.

One module per command group: :mod:`.imports` (``import``, ``imports``), :mod:`.messages`
(``messages``, ``classify``), :mod:`.report` (``report``, ``evidence``); :mod:`.common` holds what
they share. Every command parses its options, calls the library and renders the result.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from sms_audit import __version__, config
from sms_audit.cli import imports as _imports
from sms_audit.cli import league as _league
from sms_audit.cli import messages as _messages
from sms_audit.cli import report as _report
from sms_audit.cli.common import AppState, print_error
from sms_audit.cli.messages import MESSAGES_COLUMNS
from sms_audit.errors import ExitCode, SmsAuditError, Terminated, UsageError


class _Group(TyperGroup):
    """Turns library errors into one-line messages and exit codes; tracebacks only with --debug.

    Global options may also follow the command name (``sms-audit report --db x -q``): they are
    moved in front of it before parsing, so they mean the same wherever they are typed.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        """Usage errors as one ``error:`` line plus a ``hint:`` (exit 2), never a usage block."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
        except typer.TyperException as exc:  # click's UsageError, BadParameter, NoSuchOption ...
            usage_error(exc)
            sys.exit(int(getattr(exc, "exit_code", ExitCode.USAGE)))
        except typer.Abort:
            sys.stderr.write("interrupted\n")
            sys.exit(ExitCode.INTERRUPTED)
        sys.exit(code if isinstance(code, int) else ExitCode.OK)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:  # type: ignore[override]
        command = super().get_command(ctx, cmd_name)  # type: ignore[arg-type]
        if command is not None:
            for param in getattr(command, "params", []):
                _conventional(param)
        return command

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        args = hoist_global_options(args, lambda name: self._value_options(ctx, name))
        name = help_request(args, lambda name: self._value_options(ctx, name))
        if name is not None and (command := self.get_command(ctx, name)) is not None:
            # `CMD --help` prints the command's help before the global options are coerced or the
            # settings read: help works with a broken config, and typer's per-option coercion
            # (pydantic, ~0.25 s to import) is not paid for a page of text.
            command.make_context(name, ["--help"], parent=ctx)  # prints, raises Exit(0)
        return super().parse_args(ctx, args)

    def _value_options(self, ctx: typer.Context, name: str) -> set[str]:
        """The options of command ``name`` that take a value (their next argument is that value)."""
        command = self.get_command(ctx, name)  # type: ignore[arg-type]
        names: set[str] = set()
        for param in getattr(command, "params", []):
            if getattr(param, "param_type_name", "") == "option" and not (
                getattr(param, "is_flag", False) or getattr(param, "count", False)
            ):
                names.update(getattr(param, "opts", []))
                names.update(getattr(param, "secondary_opts", []))
        return names

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)  # type: ignore[arg-type]
        except SmsAuditError as exc:
            if _debug(ctx):
                raise
            print_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt as exc:
            if isinstance(exc, Terminated):
                sys.stderr.write("terminated\n")
                raise typer.Exit(exc.exit_code) from None
            sys.stderr.write("interrupted\n")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except BrokenPipeError:  # the reader stopped early (| head): quiet, with the run's exit code
            _silence_stdout()
            state = ctx.find_object(AppState)
            raise typer.Exit(state.exit_code if state is not None else ExitCode.OK) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:  # a bug: say so in one line, keep message text out of it
            if _debug(ctx):
                raise
            if isinstance(exc, OSError) and exc.errno in _MACHINE_ERRNOS:
                # a full disk or a failing device is the machine's state, not a bug
                _silence_stdout()
                where = f"{exc.filename}: " if isinstance(exc.filename, str) else ""
                verb = "cannot read or write" if exc.errno == errno.EIO else "cannot write"
                print_error(
                    SmsAuditError(f"{where}{verb}: {exc.strerror or exc}", hint=_MACHINE_ERRNOS[exc.errno])
                )
                raise typer.Exit(ExitCode.DATA_ERROR) from None
            sys.stderr.write(
                f"error: internal error ({type(exc).__name__}); "
                "run again with --debug for the traceback and please report it\n"
            )
            raise typer.Exit(ExitCode.INTERNAL) from None


def usage_error(exc: Exception) -> None:
    """``error: no such option: --bogus`` and ``hint: did you mean --format?`` on stderr."""
    import difflib

    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    message = re.sub(r" \(env var: '[^']*'\)| \(Possible options: [^)]*\)|Value error, ", "", message).rstrip(
        "."
    )
    message = re.sub(r"'(--?[\w-]+)'(?: / '(-\w)')?", r"\1", message)  # '--format' / '-f' → --format
    hint = None
    ctx = getattr(exc, "ctx", None)
    possibilities = sorted(getattr(exc, "possibilities", None) or [])
    option = getattr(exc, "option_name", None)
    if not possibilities and option and ctx is not None:
        known = [o for param in ctx.command.params for o in getattr(param, "opts", [])]
        possibilities = difflib.get_close_matches(option, known, n=2, cutoff=0.6)
    if possibilities:
        hint = "did you mean " + " or ".join(possibilities) + "?"
    bad = re.search(r"(--[\w-]+): '([^']*)' is not one of ((?:'[^']*'(?:, )?)+)", message)
    if bad:
        choices = re.findall(r"'([^']*)'", bad.group(3))
        close = difflib.get_close_matches(bad.group(2).lower(), choices, n=1, cutoff=0.55)
        message = f"invalid value for {bad.group(1)}: {bad.group(2)!r} is not one of {', '.join(choices)}"
        hint = f"did you mean {bad.group(1)} {close[0]}?" if close else None
    if hint is None and ctx is not None:
        hint = f"see {ctx.command_path} --help"
    print_error(UsageError(message[:1].lower() + message[1:], hint=hint))


def _conventional(param: Any) -> None:
    """Help like a normal CLI: ``PATH...`` and ``[ARCHIVE]...`` in usage lines, no ``<list[Path]>``
    type tags (typer's arguments carry them; the metavar already says what is expected)."""
    if getattr(param, "param_type_name", "") != "argument" or getattr(param, "_conventional", False):
        return
    name = param.metavar or param.name.upper()
    shown = name if param.required else f"[{name}]"
    if param.nargs != 1 and not shown.endswith("..."):
        shown += "..."
    param.display_type_rich = lambda ctx: ""
    param._usage_display_name = lambda: shown
    param._rich_display_name = lambda: shown
    param._conventional = True


#: OS errors that say something about the machine (disk full, device failing), with a hint.
_MACHINE_ERRNOS: dict[int, str | None] = {
    errno.ENOSPC: "free some space, or write elsewhere with -o FILE",
    errno.EDQUOT: "free some space, or write elsewhere with -o FILE",
    errno.EFBIG: "write elsewhere with -o FILE",
    errno.EROFS: "write elsewhere with -o FILE",
    errno.EIO: None,
}


class MissingOptionValue(typer.TyperException):
    """A global option typed after the command name without its value (``report --db``)."""

    exit_code = ExitCode.USAGE

    def format_message(self) -> str:
        return str(self)


GLOBAL_FLAGS = frozenset({"-q", "--quiet", "-v", "--verbose", "--debug"})
GLOBAL_VALUE_OPTIONS = frozenset({"--db", "--region"})
HELP_OPTIONS = ("-h", "--help")
_SHORT_FLAGS = re.compile(r"-[qv]+")


def _command_index(args: list[str]) -> int | None:
    """Where the command name is in ``args``, past the global options in front; None when there is
    none (only options, or ``--`` first)."""
    i = 0
    while i < len(args) and args[i] != "--" and args[i].startswith("-"):
        i += 2 if args[i] in GLOBAL_VALUE_OPTIONS else 1
    return None if i >= len(args) or args[i] == "--" else i


def hoist_global_options(args: list[str], value_options: Callable[[str], set[str]]) -> list[str]:
    """Move global options typed after the command name in front of it.

    ``value_options(command)`` names the command's options that take a value, so a value such as
    ``--search -q`` is never mistaken for a global option. Nothing after ``--`` is touched.
    """
    i = _command_index(args)
    if i is None:
        return args
    takes_value = value_options(args[i])
    front, rest = list(args[: i + 1]), []
    j = i + 1
    while j < len(args):
        arg = args[j]
        if arg == "--":
            rest.extend(args[j:])
            break
        name = arg.split("=", 1)[0]
        if arg in GLOBAL_FLAGS or _SHORT_FLAGS.fullmatch(arg):
            front.insert(i, arg)
            i += 1
        elif name in GLOBAL_VALUE_OPTIONS and name not in takes_value:
            width = 1 if "=" in arg else 2
            if width == 2 and (j + 1 >= len(args) or args[j + 1] == "--"):
                # moved in front bare, it would take the command's name as its value
                raise MissingOptionValue(f"option {name} requires an argument")
            front[i:i] = args[j : j + width]
            i += width
            j += width - 1
        elif arg in takes_value:
            rest.extend(args[j : j + 2])
            j += 1
        else:
            rest.append(arg)
        j += 1
    return front + rest


def help_request(args: list[str], value_options: Callable[[str], set[str]]) -> str | None:
    """The command whose help ``args`` ask for (``report --help``, ``-q report -h``), else None.

    ``args`` have been through :func:`hoist_global_options`. A ``--help`` that is the value of an
    option (``messages --search --help``) or follows ``--`` is no help request.
    """
    i = _command_index(args)
    if i is None:
        return None
    takes_value = value_options(args[i])
    j = i + 1
    while j < len(args) and args[j] != "--":
        if args[j] in HELP_OPTIONS:
            return args[i]
        j += 2 if args[j] in takes_value else 1
    return None


def _debug(ctx: typer.Context) -> bool:
    state = ctx.find_object(AppState)
    return bool(state and state.debug) or bool(os.environ.get("SMS_AUDIT_DEBUG"))


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


app = typer.Typer(
    cls=_Group,
    name="sms-audit",
    help="Audit an exported SMS archive: who kept sending marketing after you replied TD / 退订 / STOP.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": list(HELP_OPTIONS)},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"sms-audit {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help=f"Message store file. [env: {config.ENV_DB}; default: <user data dir>/sms-audit/archive.sqlite]",
            show_default=False,
            metavar="FILE",
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            help="Default region for national numbers (CN, US, GB...). "
            f"[env: {config.ENV_REGION}; default: inferred from the archive]",
            metavar="REGION",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress or info on stderr (errors and warnings still shown)."
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail on stderr.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Audit an exported SMS archive: who kept sending marketing after you replied TD / 退订 / STOP."""
    state = AppState(db_flag=db, region_flag=region, quiet=quiet, verbose=verbose, debug=debug)
    ctx.obj = state
    try:
        state.settings = config.load_settings()
        state.region  # validate early: a bad region is a usage error before any work  # noqa: B018
    except SmsAuditError as exc:
        print_error(exc)
        raise typer.Exit(exc.exit_code) from None


_imports.register(app)
_messages.register(app)
_report.register(app)
_league.register(app)


def main() -> None:
    """Console-script entry point."""
    import signal

    def terminate(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    # clean up as on Ctrl-C (roll back, remove temporary copies), then exit 128 + the signal's number:
    # SIGTERM (a scheduler's timeout) 143, SIGHUP (the terminal closed, an SSH session dropped) 129
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), terminate)
    try:
        app(prog_name="sms-audit")
    except BrokenPipeError:  # raised while click prints (help text into `head`)
        _silence_stdout()
        sys.exit(ExitCode.OK)


__all__ = ["MESSAGES_COLUMNS", "app", "main"]
