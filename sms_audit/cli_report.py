"""The ``report`` and ``evidence`` commands: options → classify → analyze → render → exit code."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sms_audit import config
from sms_audit.cli_common import (
    AppState,
    ArchivesArg,
    InputFormatOption,
    OutputOption,
    classify_messages,
    get_state,
    info,
    load_frame,
    open_output,
    open_store,
)
from sms_audit.errors import ExitCode, UsageError
from sms_audit.output import OutputFormat, resolve_format

if TYPE_CHECKING:
    import pandas as pd

    from sms_audit.report.analysis import Report
    from sms_audit.report.evidence import SourceFile

#: Scope name under which ``report --new`` remembers findings in the store.
NEW_SCOPE = "report"

FormatOpt = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        envvar=config.ENV_FORMAT,
        case_sensitive=False,
        help="auto = table on a terminal, JSON Lines otherwise; md = a Markdown report.",
    ),
]
PolicyOpt = Annotated[
    str | None,
    typer.Option(
        "--policy",
        envvar=config.ENV_POLICY,
        help="Grace-period rules: cn, us, ca, au, sg, uk, eu, in or strict. [default: from config, else the "
        "region (+86 → cn, +1 → us)]",
        show_default=False,
    ),
]
GraceOpt = Annotated[
    str | None,
    typer.Option("--grace", help="Override the grace period: 24h, 72h, 3d, 10bd (business days), 1mo."),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="IANA zone for local times and business days. [default: config, else the "
        "region's main zone, else UTC]",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``evidence`` to ``app``."""
    app.command("report")(report)
    app.command("evidence")(evidence)


def _analyze(
    state: AppState,
    archives: list[Path],
    input_format: str | None,
    policy_name: str | None,
    grace: str | None,
    timezone: str | None,
) -> tuple[Report, pd.DataFrame]:
    from sms_audit.cli_common import effective_region
    from sms_audit.report.analysis import analyze
    from sms_audit.report.policy import (
        default_policy_name,
        default_timezone,
        get_policy,
        valid_timezone,
        with_grace,
    )

    # Options first: a typo is a usage error before any archive is read.
    policy_name = policy_name or state.settings.policy
    policy = get_policy(policy_name) if policy_name else None
    grace = grace or state.settings.grace
    if grace:
        with_grace(get_policy("strict"), grace)  # validate before any archive is read
    zone = valid_timezone(timezone) if timezone else None
    frame = load_frame(state, archives, input_format)
    region = effective_region(state, frame, use_store=not archives)
    if policy is None:
        policy = get_policy(default_policy_name(region))
        how = f"region {region}" if region else "no region known: fallback"
        info(state, f"policy {policy.name} ({how}); choose another with --policy")
    if grace:
        policy = with_grace(policy, grace)
    if zone:
        tz, tz_source = zone, "--timezone"
    else:
        tz, tz_source = default_timezone(region, state.settings.timezone)
    classified = classify_messages(frame, region)
    return analyze(classified, policy, tz=tz, timezone_source=tz_source, region=region), classified


def _only_new(report: Report, unseen: set[str]) -> Report:
    findings = tuple(f for f in report.findings if f.key in unseen)
    subjects = {f.subject for f in findings}
    return replace(
        report,
        findings=findings,
        new_only=True,
        summary=tuple(s for s in report.summary if s.subject in subjects),
        ledger=tuple(e for e in report.ledger if e.unsubscribe.subject in subjects),
    )


def report(
    ctx: typer.Context,
    archives: ArchivesArg = None,
    fmt: FormatOpt = OutputFormat.AUTO,
    output: OutputOption = None,
    input_format: InputFormatOption = None,
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
            help="Mask personal phone numbers (last 4 digits "
            "kept), verification codes and names; "
            "merchants' numbers stay.",
        ),
    ] = False,
) -> None:
    """Who kept messaging after you unsubscribed: per brand and number, with evidence."""
    from sms_audit.report.redact import redact_report
    from sms_audit.report.render import counts, footer_lines, render

    state = get_state(ctx)
    if new and archives:
        raise UsageError(
            "--new works on the store, not on archives given directly",
            hint="sms-audit import FILE first, then: sms-audit report --new",
        )
    result, _ = _analyze(state, archives or [], input_format, policy, grace, timezone)
    keys = [f.key for f in result.findings]
    if new:
        with open_store(state, create=False) as store:
            result = _only_new(result, store.unseen(NEW_SCOPE, keys))
    shown = redact_report(result) if redact else result
    resolved = resolve_format(fmt, to_stdout=output is None or output == "-")
    with open_output(output) as stream:
        render(shown, resolved, stream, details=details)
    if resolved in (OutputFormat.JSONL, OutputFormat.CSV, OutputFormat.JSON):
        for line in footer_lines(shown)[:3]:
            info(state, line)
    if new:
        with open_store(state, create=False) as store:
            store.mark_seen(NEW_SCOPE, keys)
    code = state.exit_code
    if code == ExitCode.OK and check and counts(result)["violations"]:
        code = ExitCode.FINDINGS
    raise typer.Exit(code)


def _sources(state: AppState, archives: list[Path], frame: pd.DataFrame) -> list[SourceFile]:
    from sms_audit.report.evidence import SourceFile, source_file

    if archives:
        formats = frame.groupby("source_file")["source_format"].first().to_dict() if len(frame) else {}
        return [source_file(p, str(formats.get(str(p), ""))) for p in archives if p.is_file()]
    with open_store(state, create=False) as store:
        rows = store.source_files()
    used = {str(s) for s in frame["source_file"].dropna().unique()} if "source_file" in frame else set()
    picked = [r for r in rows if r["path"] in used or Path(r["path"]).name in used] or rows
    return [
        SourceFile(path=r["path"], size=r["size"], sha256=r["sha256"], format=r["format"] or "")
        for r in picked
    ]


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
        Path | None, typer.Option("--output", "-o", help="Folder to write the pack into.", show_default=False)
    ] = None,
    input_format: InputFormatOption = None,
    policy: PolicyOpt = None,
    grace: GraceOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Write an evidence pack for one brand or number: timeline, summary, sources, complaint texts."""
    from sms_audit.report.analysis import prepare
    from sms_audit.report.evidence import resolve_target, write_evidence

    state = get_state(ctx)
    if out_dir is None:
        raise UsageError("the evidence pack needs a folder", hint="add -o DIR, e.g. -o evidence/")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError("not a folder", path=str(out_dir), hint="-o takes a folder for the pack")
    result, classified = _analyze(state, archives or [], input_format, policy, grace, timezone)
    prepared = prepare(classified)  # sorted once for the target lookup and the timeline
    chosen = resolve_target(result, prepared, target, result.region)
    written = write_evidence(result, prepared, chosen, out_dir, _sources(state, archives or [], classified))
    info(state, f"evidence for {chosen.brand_display or chosen.subject}: {len(written)} files in {out_dir}")
    raise typer.Exit(state.exit_code)
