"""``sms-audit report`` and ``sms-audit evidence``: options → library → render → exit code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import sms_audit.output as formats
from sms_audit import config
from sms_audit.cli.common import (
    AppState,
    ArchivesArg,
    ArchiveTimezoneOption,
    CsvMapOption,
    InputFormatOption,
    OutputOption,
    ReportFormatOption,
    WideOption,
    check_output,
    examples,
    get_state,
    info,
    open_output,
    progress,
    status,
)
from sms_audit.cli.messages import message_store
from sms_audit.errors import ExitCode, UsageError
from sms_audit.output import OutputFormat, resolve_format

if TYPE_CHECKING:
    from sms_audit.pipeline import AuditOptions, Messages

#: Scope name under which ``report --new`` remembers findings in the store.
NEW_SCOPE = "report"

PolicyOpt = Annotated[
    str | None,
    typer.Option(
        "--policy",
        help="Grace-period rules: cn, us, ca, au, sg, uk, eu, in or strict. [env: SMS_AUDIT_POLICY; default: "
        "config.toml, else the region (+86 → cn, +1 → us)]",
        show_default=False,
        metavar="POLICY",
    ),
]
GraceOpt = Annotated[
    str | None,
    typer.Option(
        "--grace",
        help="Override the grace period: 24h, 72h, 3d, 10bd (business days), 1mo.",
        metavar="DURATION",
    ),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="IANA zone for local times and business days. [env: SMS_AUDIT_TIMEZONE; default: config.toml, "
        "else the region's main zone, else UTC]",
        show_default=False,
        metavar="ZONE",
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``evidence`` to ``app``."""
    app.command(
        "report",
        epilog=examples(
            "sms-audit report                                  # the store, as a table",
            "sms-audit report backup.xml --details --format md -o report.md",
            "sms-audit report --new --check --format md -o new.md   # in cron: exit 1 on new violations",
        ),
    )(report)
    app.command(
        "evidence",
        epilog=examples(
            "sms-audit evidence 优选商城 -o evidence/",
            "sms-audit evidence 10690123456701 backup.xml -o evidence-port/",
        ),
    )(evidence)


def _options(state: AppState, policy: str | None, grace: str | None, timezone: str | None) -> AuditOptions:
    """Flags over config; checked before any archive is read (a typo is a usage error first)."""
    from sms_audit.pipeline import AuditOptions

    chosen_policy = state.setting("policy", policy)
    chosen_grace = state.setting("grace", grace)
    zone = state.setting("timezone", timezone)
    for chosen, values in (
        (chosen_policy, (chosen_policy.value, None, None)),
        (chosen_grace, (None, chosen_grace.value, None)),
        (zone, (None, None, zone.value)),
    ):
        try:
            AuditOptions.parse(*values)
        except UsageError as exc:  # a bad value from the environment or config.toml says so
            if chosen.source.startswith("--"):
                raise
            raise UsageError(
                f"{exc.message} (from {config.source_text(chosen.source)})", hint=exc.hint
            ) from None
    return AuditOptions.parse(
        chosen_policy.value,
        chosen_grace.value,
        zone.value,
        timezone_source=zone.source.replace("config.toml", "config"),
        grace_source=chosen_grace.source,
    )


def _policy_info(state: AppState, messages: Messages, options: AuditOptions, report_policy: str) -> None:
    if options.policy is None:
        region = messages.region.code
        how = f"region {region}" if region else "no region known: fallback"
        info(state, f"policy {report_policy} ({how}); choose another with --policy")


def report(
    ctx: typer.Context,
    archives: ArchivesArg = None,
    fmt: ReportFormatOption = None,
    output: OutputOption = None,
    input_format: InputFormatOption = None,
    archive_timezone: ArchiveTimezoneOption = None,
    csv_map: CsvMapOption = None,
    policy: PolicyOpt = None,
    grace: GraceOpt = None,
    timezone: TimezoneOpt = None,
    details: Annotated[
        bool, typer.Option("--details", help="Table: add the messages after each unsubscribe and the ledger.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when there are violations (with --new: new violations).")
    ] = False,
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="Only findings not shown by an earlier --new run (state kept in the store; no archives).",
        ),
    ] = False,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Mask personal phone numbers (last 4 digits kept), verification codes and names; "
            "merchants' numbers stay.",
        ),
    ] = False,
    wide: WideOption = False,
) -> None:
    """Who kept messaging after you unsubscribed: per brand and number, with evidence."""
    from sms_audit.pipeline import audit, load_for_report, remember_shown
    from sms_audit.report.redact import redact_report
    from sms_audit.report.render import counts, footer_lines, render

    state = get_state(ctx)
    chosen_format = state.output_format(fmt, OutputFormat)
    check_output(output, chosen_format)
    if new and archives:
        raise UsageError(
            "--new works on the store, not on archives given directly",
            hint="sms-audit import FILE first, then: sms-audit report --new",
        )
    options = _options(state, policy, grace, timezone)
    with message_store(state, archives or [], input_format, archive_timezone, csv_map) as store:
        with status(state, "reading the unsubscribes and what followed them"):
            messages = load_for_report(
                store, region=state.region_choice(), progress=lambda description: progress(state, description)
            )
        seen = store.seen_state(NEW_SCOPE) if new else None
        with status(state, f"analysing {len(messages.frame)} messages"):
            result = audit(messages, options=options, since_state=seen)
        _policy_info(state, messages, options, result.policy.name)
        if check and counts(result)["violations"]:
            state.fail(ExitCode.FINDINGS)  # decided before writing: a reader that stops early keeps it
        shown = redact_report(result) if redact else result
        to_stdout = output is None or output == "-"
        resolved = resolve_format(chosen_format, to_stdout=to_stdout, output=output)
        if resolved is OutputFormat.HTML and to_stdout and formats.stdout_is_tty():
            raise UsageError(
                "an HTML report is a file to open in a browser, not terminal output",
                hint="add -o report.html (or redirect: > report.html)",
            )
        with open_output(output) as stream:
            render(shown, resolved, stream, details=details, verbose=state.verbose, wide=wide)
        if resolved is not OutputFormat.TABLE:  # the table states it; a file or a pipe does not show it
            for line in footer_lines(shown, brief=True):
                info(state, line)
        if resolved is OutputFormat.HTML and not to_stdout:
            info(
                state,
                f"wrote {output} ({Path(str(output)).stat().st_size // 1024 + 1} kB): open it in a browser",
            )
        if seen is not None:
            remember_shown(result, seen)
    raise typer.Exit(state.exit_code)


def evidence(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            help="A brand as the report shows it (e.g. 优选商城) or a number.", metavar="BRAND_OR_NUMBER"
        ),
    ],
    archives: ArchivesArg = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Folder to write the pack into.", show_default=False, metavar="DIR"
        ),
    ] = None,
    input_format: InputFormatOption = None,
    archive_timezone: ArchiveTimezoneOption = None,
    csv_map: CsvMapOption = None,
    policy: PolicyOpt = None,
    grace: GraceOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Write an evidence pack for one brand or number: timeline, summary, sources, complaint texts."""
    from sms_audit.pipeline import audit, load_for_report, write_evidence

    state = get_state(ctx)
    if out_dir is None:
        raise UsageError("the evidence pack needs a folder", hint="add -o DIR, e.g. -o evidence/")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError("not a folder", path=str(out_dir), hint="-o takes a folder for the pack")
    options = _options(state, policy, grace, timezone)
    with message_store(state, archives or [], input_format, archive_timezone, csv_map) as store:
        with status(state, "reading the unsubscribes and what followed them"):
            messages = load_for_report(
                store, region=state.region_choice(), progress=lambda description: progress(state, description)
            )
        with status(state, f"analysing {len(messages.frame)} messages"):
            result = audit(messages, options=options)
        _policy_info(state, messages, options, result.policy.name)
        pack = write_evidence(messages, result, target, out_dir)
    info(
        state,
        f"evidence for {pack.target.brand_display or pack.target.subject}: {len(pack.files)} files in {out_dir}",
    )
    raise typer.Exit(state.exit_code)
