"""The ``sms-audit`` command line: a thin typer view over the library (import, messages, classify)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from sms_audit import __version__, cli_report, config
from sms_audit.cli_common import (
    AppState,
    ArchivesArg,
    InputFormatOption,
    OutputOption,
    classify_messages,
    emit,
    get_state,
    info,
    load_frame,
    open_store,
    print_error,
    progress,
    read_options,
    reporting_errors,
    warn,
)
from sms_audit.errors import ExitCode, SmsAuditError, UsageError
from sms_audit.output import OutputFormat


class _Group(TyperGroup):
    """Turns library errors into one-line messages and exit codes; tracebacks only with --debug."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # typer's Context subclass
        try:
            return super().invoke(ctx)
        except SmsAuditError as exc:
            if _debug(ctx):
                raise
            print_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(ExitCode.OK) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:  # a bug: say so in one line, keep message text out of it
            if _debug(ctx):
                raise
            sys.stderr.write(
                f"error: internal error ({type(exc).__name__}); "
                "run again with --debug for the traceback and please report it\n"
            )
            raise typer.Exit(ExitCode.INTERNAL) from None


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
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        envvar=config.ENV_FORMAT,
        case_sensitive=False,
        help="auto = table on a terminal, JSON Lines otherwise.",
    ),
]


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
            help=f"Message store file. [env: {config.ENV_DB}; default: "
            "<user data dir>/sms-audit/archive.sqlite]",
            show_default=False,
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            help="Default region for national numbers (CN, US, GB...). "
            f"[env: {config.ENV_REGION}; default: inferred from the archive]",
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


def _check_input_format(name: str | None) -> str | None:
    """Check an --input-format name early: an unknown one is a usage error (exit 2)."""
    if name is None:
        return None
    from sms_audit.importers import importer_names

    if name not in importer_names():
        raise UsageError(f"unknown input format {name!r}", hint="one of: " + ", ".join(importer_names()))
    return name


# --- import -------------------------------------------------------------------------------------

IMPORT_SUMMARY_COLUMNS = ("path", "format", "status", "read", "new", "duplicates", "skipped", "excluded")


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Archive files, iOS backup folders, or folders of archives.", show_default=False),
    ],
    input_format: InputFormatOption = None,
) -> None:
    """Import archives into the store (idempotent: messages already there are not added again)."""
    from sms_audit.importers import ReadStats, detect, expand_folders, get_importer
    from sms_audit.store import ImportResult

    state = get_state(ctx)
    fmt = _check_input_format(input_format)
    paths = expand_folders(paths, fmt)
    with open_store(state, create=True) as store:
        region = state.region or store.get_meta("region")
        if region is None:
            from sms_audit.cli_common import infer_archive_region

            region = infer_archive_region(paths, fmt)
        for path in paths:
            stats = ReadStats()
            result: ImportResult | None = None
            with reporting_errors(state, path):
                importer = get_importer(fmt) if fmt else detect(path)
                result = ImportResult(path=str(path), format=importer.NAME)
                with progress(state, f"importing {path.name}") as on_progress:
                    store.import_messages(
                        importer.read(path, read_options(region, on_progress), stats),
                        result,
                        source=path,
                        region=region,
                        stats=stats,
                    )
            for text in stats.warnings:
                warn(f"{path}: {text}")
            if result is not None and result.status != "pending":  # recorded in the store
                device = ", ".join(
                    result.details[k] for k in ("device_name", "ios_version") if k in result.details
                )
                info(
                    state,
                    f"{path}: {importer.DESCRIPTION}{f' ({device})' if device else ''}: "
                    f"read {result.read}, new {result.new}, "
                    f"already present {result.duplicates}, skipped {result.skipped}"
                    + (f", excluded {result.excluded} non-messages" if result.excluded else "")
                    + ("" if result.status == "ok" else f" ({result.status})"),
                )
        info(state, f"store: {state.db_path} ({store.count_messages()} messages)")
    raise typer.Exit(state.exit_code)


#: Field order of ``imports`` output.
IMPORTS_COLUMNS = (
    "import_id",
    "finished_at",
    "path",
    "format",
    "status",
    "read",
    "new",
    "duplicates",
    "skipped",
    "excluded",
    "size",
    "sha256",
    "region",
    "started_at",
    "details",
)


@app.command("imports")
def imports(ctx: typer.Context, fmt: FormatOption = OutputFormat.AUTO, output: OutputOption = None) -> None:
    """List the imports recorded in the store: file, size, SHA-256, format and counts."""
    import json

    state = get_state(ctx)
    with open_store(state, create=False) as store:
        records = store.imports()
    for record in records:
        record["details"] = json.loads(record["details"] or "{}")
    emit(
        records,
        IMPORTS_COLUMNS,
        fmt,
        output,
        json_key="imports",
        table_columns=(
            "import_id",
            "finished_at",
            "path",
            "format",
            "status",
            "read",
            "new",
            "duplicates",
            "skipped",
        ),
    )
    raise typer.Exit(state.exit_code)


# --- messages -----------------------------------------------------------------------------------

#: Field order of ``messages`` output (documented in the README).
MESSAGES_COLUMNS = (
    "message_id",
    "timestamp",
    "direction",
    "address",
    "sender_kind",
    "brand",
    "label",
    "reason",
    "body",
    "service",
    "thread_key",
    "recipients",
    "is_group",
    "has_attachments",
    "is_filtered",
    "sent_timestamp",
    "address_raw",
    "source_format",
    "source_file",
    "source_record",
)
_MESSAGES_TABLE = ("timestamp", "direction", "address", "label", "body")


@app.command("messages")
def messages(
    ctx: typer.Context,
    archives: ArchivesArg = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only messages at or after this time (2024-05-01, "
            "2024-05-01T08:00+08:00, or 30d for 30 days ago)."
        ),
    ] = None,
    until: Annotated[str | None, typer.Option(help="Only messages before this time.")] = None,
    sender: Annotated[
        str | None, typer.Option(help="Only this other party (number, short code, ID).")
    ] = None,
    direction: Annotated[str | None, typer.Option(help="in, out, draft, failed or other.")] = None,
    search: Annotated[
        str | None, typer.Option(help="Only messages whose text contains this (case-insensitive).")
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(
            help="Only this label: verification, marketing, "
            "unsubscribe-reply, unsubscribe-confirmation, other."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=0, help="At most N messages.")] = None,
    newest_first: Annotated[
        bool, typer.Option("--newest-first", help="Newest first (with --limit: the latest N).")
    ] = False,
    input_format: InputFormatOption = None,
    fmt: FormatOption = OutputFormat.AUTO,
    output: OutputOption = None,
) -> None:
    """List messages, labelled, from archives or the store."""
    from sms_audit.cli_common import effective_region
    from sms_audit.query import MessageFilter

    state = get_state(ctx)
    flt = MessageFilter.from_options(
        since=since,
        until=until,
        sender=sender,
        direction=direction,
        search=search,
        label=label,
        region=state.region,
    )
    if not archives and limit is not None and limit <= _FAST_LIMIT and flt.label is None and flt.sql_exact:
        frame = _latest_from_store(state, flt, limit, newest_first)
    else:
        frame = load_frame(state, archives or [], _check_input_format(input_format), *flt.to_sql())
        frame = classify_messages(frame, effective_region(state, frame, use_store=not archives))
        frame = flt.apply_label(flt.apply(frame))  # after classifying: labels need each sender's history
    frame["brand"] = frame["brand_display"]  # as written in the signature; the report groups by key
    frame = frame.sort_values(["timestamp", "message_id"], ascending=not newest_first, kind="stable")
    if limit is not None:
        frame = frame.head(limit)
    count = emit(
        _records(frame, MESSAGES_COLUMNS),
        MESSAGES_COLUMNS,
        fmt,
        output,
        json_key="messages",
        table_columns=_MESSAGES_TABLE,
        max_widths={"body": 70, "address": 18},
        headers={"timestamp": "time (UTC)"},
    )
    info(state, f"{count} messages")
    raise typer.Exit(state.exit_code)


_FAST_LIMIT = 5000  # up to this many rows, --limit picks rows in SQL and loads only their senders


def _latest_from_store(state: AppState, flt: Any, limit: int, newest_first: bool) -> Any:
    """--limit on a large store without reading it all: pick the rows in SQL, then classify them
    with their senders' whole histories (labels depend on them), as the full path would."""
    from sms_audit.cli_common import effective_region

    with open_store(state, create=False) as store:
        picked = store.load_frame(*flt.to_sql(history_safe=False), limit=limit, newest_first=newest_first)
        addresses = picked["address"].unique().tolist()
        marks = ", ".join("?" * len(addresses))
        history = store.load_frame(f"address IN ({marks})" if addresses else "0", addresses)
    labelled = classify_messages(history, effective_region(state, history))
    return labelled[labelled["message_id"].isin(picked["message_id"])]


def _records(frame: Any, columns: tuple[str, ...]) -> Any:
    present = [c for c in columns if c in frame.columns]
    for row in frame[present].itertuples(index=False, name=None):
        yield dict(zip(present, row, strict=True))


# --- classify -----------------------------------------------------------------------------------


@app.command("classify")
def classify(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="JSONL, CSV or TSV file of messages, or - for stdin.")],
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format", help="jsonl, csv or tsv (needed for stdin when detection is ambiguous)."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.AUTO,
    output: OutputOption = None,
) -> None:
    """Label messages given as JSONL/CSV/TSV (fields: direction, sender or address, body)."""
    from sms_audit.classify import CLASSIFY_COLUMNS, read_classify_input

    state = get_state(ctx)
    if input_format is not None and input_format not in ("jsonl", "csv", "tsv"):
        raise UsageError(f"unknown input format {input_format!r}", hint="one of: jsonl, csv, tsv")
    if source == "-":
        frame = read_classify_input(sys.stdin, input_format, None)
    else:
        path = Path(source)
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                frame = read_classify_input(handle, input_format, path.name)
        except OSError as exc:
            raise UsageError(f"cannot read: {exc.strerror or exc}", path=source) from None
        except UnicodeDecodeError:
            raise UsageError("not UTF-8 text", path=source) from None
    input_columns = [c for c in frame.attrs.get("input_columns", frame.columns) if c not in CLASSIFY_COLUMNS]
    labelled = classify_messages(frame, state.region)
    columns = tuple(input_columns) + tuple(c for c in CLASSIFY_COLUMNS if c not in input_columns)
    count = emit(
        _records(labelled, columns),
        columns,
        fmt,
        output,
        json_key="messages",
        table_columns=tuple(
            c for c in ("direction", "sender", "address", "label", "reason", "body") if c in columns
        ),
        max_widths={"body": 60, "reason": 40},
    )
    info(state, f"{count} messages classified")
    raise typer.Exit(state.exit_code)


cli_report.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="sms-audit")
    except BrokenPipeError:  # raised while click prints (help text into `head`)
        _silence_stdout()
        sys.exit(ExitCode.OK)
