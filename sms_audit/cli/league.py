"""``sms-audit share`` (a findings file to donate) and ``sms-audit league`` (many donations, on Dask)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sms_audit.cli.common import (
    ArchivesArg,
    ArchiveTimezoneOption,
    CsvMapOption,
    InputFormatOption,
    OutputOption,
    RecordFormatOption,
    check_output,
    emit,
    get_state,
    info,
    open_output,
    warn,
)
from sms_audit.cli.report import GraceOpt, PolicyOpt, TimezoneOpt
from sms_audit.errors import ExitCode
from sms_audit.output import RecordFormat, RecordView, plural

if TYPE_CHECKING:
    from sms_audit.league import League


def register(app: typer.Typer) -> None:
    """Add ``share`` and ``league`` to ``app``."""
    app.command("share")(share)
    app.command("league")(league)


def share(
    ctx: typer.Context,
    archives: ArchivesArg = None,
    output: OutputOption = None,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview",
            help="Show what the file would hold, as tables, before writing it (without -o nothing is written; "
            "with -o on a terminal you are asked first).",
        ),
    ] = False,
    donor_id: Annotated[
        str | None,
        typer.Option(
            "--donor-id",
            help="Reuse the donor id of your earlier findings file, so a league counts you once (the newer "
            "file replaces the older). [default: a new random id]",
            show_default=False,
            metavar="ID",
        ),
    ] = None,
    input_format: InputFormatOption = None,
    archive_timezone: ArchiveTimezoneOption = None,
    csv_map: CsvMapOption = None,
    policy: PolicyOpt = None,
    grace: GraceOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Write a findings file to donate: merchants' facts only, no chats, codes or personal numbers."""
    from sms_audit.cli.messages import message_store
    from sms_audit.cli.report import _options
    from sms_audit.output import write_json
    from sms_audit.pipeline import audit, load_for_report
    from sms_audit.share import findings_document, valid_donor_id, write_preview

    state = get_state(ctx)
    check_output(output, only="json")
    donor = valid_donor_id(donor_id) if donor_id else None
    options = _options(state, policy, grace, timezone)
    with message_store(state, archives or [], input_format, archive_timezone, csv_map) as store:
        messages = load_for_report(store, region=state.region_choice())
        doc = findings_document(audit(messages, options=options), donor_id=donor)
    to_file = output is not None and output != "-"
    if preview:
        write_preview(doc, sys.stdout)
        sys.stdout.flush()
        if not to_file:
            info(state, "nothing written; add -o findings.json to write this file")
            raise typer.Exit(state.exit_code)
        if _interactive() and not typer.confirm(
            f"Write these findings to {output}?", default=False, err=True
        ):
            info(state, "nothing written")
            raise typer.Exit(state.exit_code)
    with open_output(output) as stream:
        write_json(doc, stream)
    unsubscribes = sum(len(b["unsubscribes"]) for b in doc["brands"])
    after = sum(len(u["messages_after"]) for b in doc["brands"] for u in b["unsubscribes"])
    info(
        state,
        f"{output if to_file else 'findings'}: {len(doc['brands'])} brands, {unsubscribes} unsubscribes, "
        f"{after} marketing messages after them; donor id {doc['donor_id']}"
        + ("" if preview else "; read it first with --preview"),
    )
    raise typer.Exit(state.exit_code)


def _interactive() -> bool:
    """Ask only a person at a terminal (never under cron or in a pipe)."""
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


_LEAGUE_VIEW_HEADERS = {
    "brand": "Brand",
    "donors_affected": "Donors affected",
    "donors": "Donors",
    "unsubscribes": "Unsubscribes",
    "ignored": "Ignored",
    "ignore_rate": "Ignored rate",
    "violating_messages": "Violating msgs",
    "numbers_after_unsubscribe": "Numbers after unsub.",
    "median_hours_to_violation": "Median h to violation",
    "p90_hours_to_violation": "p90 h",
    "confirmation_rate": "Confirmed rate",
    "first_seen": "First seen (UTC)",
    "last_seen": "Last seen (UTC)",
}


def league(
    ctx: typer.Context,
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Findings files, raw archives, or folders of either; local paths or fsspec URLs "
            "(s3://bucket/donations/).",
            show_default=False,
            metavar="INPUT...",
        ),
    ],
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            envvar="DASK_SCHEDULER_ADDRESS",
            help="Use a running Dask cluster (tcp://host:8786), or 'synchronous' for this process only. "
            "[env: DASK_SCHEDULER_ADDRESS; default: a local cluster bound to 127.0.0.1]",
            show_default=False,
            metavar="ADDRESS",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Worker processes of the local cluster. [default: one per core]",
            show_default=False,
            metavar="N",
        ),
    ] = None,
    min_donors: Annotated[
        int,
        typer.Option(
            "--min-donors",
            min=1,
            help="Leave out brands seen by fewer donors, so no single donor's merchants are exposed.",
            metavar="K",
        ),
    ] = 3,
    fmt: RecordFormatOption = None,
    output: OutputOption = None,
) -> None:
    """Merchant league table from many donations (findings files or archives), computed on Dask."""
    from sms_audit.league import ERROR_COLUMNS, LEAGUE_COLUMNS
    from sms_audit.league import league as compute_league

    state = get_state(ctx)
    check_output(output, state.output_format(fmt, RecordFormat))  # before Dask starts
    stream = sys.stderr if not state.quiet and sys.stderr.isatty() else None  # Dask's bar: terminals only
    result = compute_league(
        inputs,
        scheduler=scheduler or None,
        workers=workers,
        min_donors=min_donors,
        progress=stream,
    )
    view = RecordView(
        json_key="league",
        json_meta=_json_meta(result),
        title=f"Merchants that ignored unsubscribes ({result.donors} donors; brands seen by at least "
        f"{result.min_donors} donors)",
        headers=_LEAGUE_VIEW_HEADERS,
        table_columns=("brand", *[c for c in LEAGUE_COLUMNS if c in _LEAGUE_VIEW_HEADERS]),
        max_widths={"brand": 24},
    )
    emit(_rows(result), LEAGUE_COLUMNS, state.output_format(fmt, RecordFormat), output, view)
    if result.errors:
        _errors_table(result, ERROR_COLUMNS)
        state.fail(ExitCode.DATA_ERROR)
    if not result.rows:
        warn(f"no brand was seen by at least {result.min_donors} donors (lower it with --min-donors)")
    info(state, result.summary())
    raise typer.Exit(state.exit_code)


def _rows(result: League) -> list[dict[str, Any]]:
    from sms_audit.report.render import brand_label

    return [{**row, "brand": brand_label(row["brand_display"])} for row in result.rows]


def _json_meta(result: League) -> dict[str, Any]:
    return {
        "min_donors": result.min_donors,
        "donors": result.donors,
        "inputs": {
            "total": result.inputs,
            "findings_files": result.findings_files,
            "archives": result.archives,
            "failed": len(result.errors),
            "repeated_donor_ids": result.duplicates,
        },
        "brands_left_out": result.hidden,
        "errors": [e.record() for e in result.errors],
    }


def _errors_table(result: League, columns: tuple[str, ...]) -> None:
    """Unreadable inputs as a table on stderr (never silenced: these are errors)."""
    from sms_audit.output import write_table

    write_table(
        [e.record() for e in result.errors],
        list(columns),
        sys.stderr,
        title=f"{plural(len(result.errors), 'input')} could not be read (the league was computed from the rest)",
        headers={"used": "partly used"},
        max_widths={"reason": 70},
    )
