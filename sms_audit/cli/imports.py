"""``sms-audit import`` and ``sms-audit imports``: fill the store, list what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sms_audit.cli.common import (
    ArchiveTimezoneOption,
    CsvMapOption,
    InputFormatOption,
    OutputOption,
    RecordFormatOption,
    WideOption,
    check_input_format,
    check_output,
    display_timezone,
    emit,
    examples,
    get_passphrase,
    get_state,
    info,
    local_time_note,
    open_store,
    progress,
    report_archive,
)
from sms_audit.cli.messages import TimezoneOption
from sms_audit.output import MINUTES, Col, RecordFormat, RecordView

if TYPE_CHECKING:
    from sms_audit.pipeline import ArchiveResult

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


def register(app: typer.Typer) -> None:
    from sms_audit.archive_formats import catalog_help

    app.command(
        "import",
        epilog=examples(
            "sms-audit import ~/Downloads/sms-20251130.xml",
            "sms-audit import ~/backups/sms/          # every archive in the folder",
            "sms-audit import --archive-timezone Asia/Shanghai sms.vmsg",
        )
        + "\n\nFormats (detected from the content):\n\n"
        + catalog_help(),
    )(import_)
    app.command(
        "imports",
        epilog=examples("sms-audit imports", "sms-audit imports --format json | jq '.imports[].sha256'"),
    )(imports)


def import_summary(result: ArchiveResult) -> str:
    """``PATH: FORMAT (device): read N, new N, already present N, skipped N`` for one import."""
    device = ", ".join(result.details[k] for k in ("device_name", "ios_version") if k in result.details)
    return (
        f"{result.path}: {result.description}{f' ({device})' if device else ''}: "
        f"read {result.read}, new {result.new}, already present {result.duplicates}, skipped {result.skipped}"
        + (f", excluded {result.excluded} non-messages" if result.excluded else "")
        + ("" if result.status == "ok" else f" ({result.status})")
        + local_time_note(result)
    )


def import_(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Archive files, iOS backup folders, or folders of archives.",
            show_default=False,
            metavar="PATH...",
        ),
    ],
    input_format: InputFormatOption = None,
    archive_timezone: ArchiveTimezoneOption = None,
    csv_map: CsvMapOption = None,
) -> None:
    """Import archives into the store (idempotent: messages already there are not added again)."""
    from sms_audit.pipeline import import_archives

    state = get_state(ctx)
    fmt = check_input_format(input_format)
    with open_store(state, create=True) as store:
        import_archives(
            store,
            paths,
            region=state.region_choice(),
            input_format=fmt,
            archive_timezone=archive_timezone,
            csv_map=csv_map,
            progress=lambda description: progress(state, description),
            get_passphrase=get_passphrase,
            on_archive=lambda result: report_archive(
                state, result, import_summary(result) if result.new is not None else None
            ),
        )
        info(state, f"store: {state.db_path} ({store.count_messages()} messages)")
    raise typer.Exit(state.exit_code)


def imports(
    ctx: typer.Context,
    fmt: RecordFormatOption = None,
    output: OutputOption = None,
    timezone: TimezoneOption = None,
    wide: WideOption = False,
) -> None:
    """List the imports recorded in the store: file, size, SHA-256, format and counts."""
    import json
    from datetime import datetime

    state = get_state(ctx)
    check_output(output, state.output_format(fmt, RecordFormat))
    with open_store(state, create=False) as store:
        records = store.imports()
        region = store.get_meta("region")
    zone = display_timezone(state, timezone, region)
    for record in records:
        record["details"] = json.loads(record["details"] or "{}")
        for name in ("started_at", "finished_at"):  # ISO-8601 UTC with milliseconds, like every time
            record[name] = datetime.fromisoformat(record[name])
    view = RecordView(
        json_key="imports",
        table_specs=(
            Col("import_id", "#", 60),
            Col("finished_at", "Imported", 90, compact=MINUTES),
            Col("path", "File", 100, free_text=True, min_width=30, cut="start"),
            Col("format", "Format", 50),
            Col("status", "Status", 95, styles={"failed": "bold red", "partial": "yellow"}),
            Col("read", "Read", 80),
            Col("new", "New", 85),
            Col("duplicates", "Already there", 70),
            Col("skipped", "Skipped", 75),
        ),
        title=f"Imports into {state.db_path} (times in {zone})",
        timezone=zone,
        wide=wide,
    )
    emit(records, IMPORTS_COLUMNS, state.output_format(fmt, RecordFormat), output, view)
    raise typer.Exit(state.exit_code)
