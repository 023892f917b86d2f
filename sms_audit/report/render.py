"""Report renderers: table, Markdown, JSON, JSON Lines and CSV, plus the plain-language footer
(HTML: :mod:`sms_audit.report.html_report`)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO, assert_never
from zoneinfo import ZoneInfo

from rich.cells import cell_len

from sms_audit import __version__
from sms_audit.output import (
    Col,
    OutputFormat,
    format_time,
    plural,
    table_width,
    visible,
    write_csv,
    write_json,
    write_jsonl,
    write_table,
)
from sms_audit.report.analysis import (
    NON_MARKETING,
    Finding,
    Findings,
    FindingTuple,
    LedgerEntry,
    MessageRef,
    Report,
    SubjectSummary,
)
from sms_audit.report.records import (
    FINDING_COLUMNS,
    counts,
    ledger_record,
    summary_record,
)

SCHEMA_VERSION = 1

_TABLE_HEADERS = {
    "who": "Brand / sender",
    "volume": "Weekly volume",
    "numbers": "Numbers used",
    "first_unsubscribe": "First unsubscribe",
    "keyword": "Keyword",
    "confirmed": "Confirmed?",
    "violations": "Violating msgs",
    "via_other_numbers": "Via other numbers",
    "within_grace": "In grace",
    "last_violation": "Last violation",
    "status": "Status",
}

CAVEATS: tuple[str, ...] = (
    (
        "The archive may be incomplete: messages you deleted, and messages a spam filter dropped or an "
        "auto-delete rule removed (e.g. OTP cleanup), are not in it; end-to-end RCS is not in SMS backups."
    ),
    (
        '"No violation found" does not mean "compliant": it means none was found in this archive under '
        "these rules."
    ),
    (
        "Grace periods marked heuristic are defaults chosen by sms-audit, not law; change them with --policy "
        "or --grace."
    ),
    (
        'Brand grouping is an inference from message signatures (【…】) and brand names ("ACME Outlet" counts '
        "as ACME); numbers are never grouped by contact name."
    ),
    "sms-audit never sends anything. Do not reply to suspected traps: a reply confirms your number is in use.",
)


_CJK = re.compile("[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def brand_label(display: str) -> str:
    """A brand as people know it: Chinese signatures in 【】, other brand names as they are."""
    return f"【{display}】" if _CJK.search(display) else display


# --- records ------------------------------------------------------------------------------------


def _short_local(moment: datetime | None, tz: str) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def document(report: Report, *, generated_at: datetime | None = None, lazy: bool = False) -> dict[str, Any]:
    """The ``--format json`` document (docs/report-schema.json). ``lazy``: the lists of summary rows,
    findings, ledger entries and traps are iterators, for :func:`~sms_audit.output.write_json` to
    stream (a large report never holds every record at once)."""
    records: Callable[[Iterable[Any]], Any] = iter if lazy else list
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "sms-audit", "version": __version__},
        "generated_at": generated_at or datetime.now(UTC),
        "policy": report.policy.to_record(),
        "timezone": {"name": report.timezone, "source": report.timezone_source},
        "region": report.region,
        "period": {"first_message": report.first_message, "last_message": report.last_message},
        "messages_checked": report.messages_checked,
        "group_messages_not_checked": report.group_messages,
        "sources": list(report.sources),
        "new_only": report.new_only,
        "redacted": bool(report.meta.get("redacted", False)),
        "counts": counts(report),
        "summary": records(summary_record(r) for r in report.summary),
        "findings": records(_finding_records(report.unsubscribe_findings, report)),
        "ledger": records(ledger_record(e, report) for e in report.ledger),
        "traps": records(_finding_records(report.traps, report)),
        "caveats": list(CAVEATS),
    }


def _finding_records(items: Findings | FindingTuple, report: Report) -> Iterator[dict[str, Any]]:
    """Findings as output records, times as their UTC text, made from the findings' columns."""
    return items.records(time_text=True)


# --- footer -------------------------------------------------------------------------------------


def _was(count: int) -> str:
    return f"{count} {'was' if count == 1 else 'were'}"


def footer_lines(report: Report, *, brief: bool = False) -> list[str]:
    """Plain-language footer: what was checked, the policy and its source, and the caveats.

    ``brief``: the three lines a table ends with (counts, policy, where the rest is); the full
    notes are for ``-v``, Markdown and JSON.
    """
    c = counts(report)
    files = f" in {plural(len(report.sources), 'file')}" if report.sources else ""
    period = ""
    if report.first_message and report.last_message:
        period = (
            f" from {_short_local(report.first_message, report.timezone)} to "
            f"{_short_local(report.last_message, report.timezone)}"
        )
    new = "new " if report.new_only else ""
    replies = (
        f"You sent {plural(c['unsubscribe_replies'], 'unsubscribe reply', 'unsubscribe replies')} to "
        f"{plural(c['unsubscribes'], 'number')}; {_was(c['confirmed'])} confirmed."
        if c["unsubscribes"]
        else "No unsubscribe replies (TD, T, R, 退订, STOP ...) were found in this archive."
    )
    outcome = (
        f"{plural(c['violations'], new + 'violating message')} from "
        f"{plural(c['violating_subjects'], 'brand or sender', 'brands or senders')}; "
        f"{plural(c['within_grace'], new + 'message')} within the grace period"
    )
    traps = (
        f"{plural(c['traps'], 'suspected trap')}, {c['traps_replied']} replied to: do not reply to messages like these."
        if c["traps"]
        else ""
    )
    groups_note = (
        f"; {plural(report.group_messages, 'group message')} not checked"
        + ("" if brief else " (group conversations count as neither opt-outs nor violations)")
        if report.group_messages
        else ""
    )
    if brief:
        basis = "set by law" if report.policy.kind == "statutory" else "a default, not law"
        short_period = (
            f", {_date(report.first_message, report.timezone)} to {_date(report.last_message, report.timezone)}"
            if report.first_message and report.last_message
            else ""
        )
        trap_note = (
            f"{plural(c['traps'], 'suspected trap')}"
            + (f" ({c['traps_replied']} replied to: do not reply again). " if c["traps_replied"] else ". ")
            if c["traps"]
            else ""
        )
        return [
            (
                f"Checked {plural(report.messages_checked, 'message')}{short_period} "
                f"(times in {report.timezone}){groups_note}."
            ),
            (
                f"{replies} {plural(c['violations'], new + 'violating message')} from "
                f"{plural(c['violating_subjects'], 'brand or sender', 'brands or senders')}, "
                f"{c['within_grace']} within the grace period."
            ),
            f"{trap_note}Policy {report.policy.name}: grace {report.policy.grace_text} ({basis})."
            + (" Only findings not shown by an earlier --new run." if report.new_only else "")
            + " Caveats and sources: -v.",
        ]
    lines = [
        f"Checked {plural(report.messages_checked, 'message')}{period}{files}{groups_note}.",
        (
            f"{replies} {outcome}; {plural(c['non_marketing_after_unsubscribe'], 'non-marketing message')} "
            "after an unsubscribe (not counted)."
        ),
        "Policy " + report.policy.describe().removeprefix("policy ") + ".",
        f"Scope: {report.policy.scope}. Confirmation: {report.policy.confirmation_text}.",
    ]
    if report.policy.notes:
        lines.append(report.policy.notes)
    lines.append(f"Times are shown in {report.timezone} ({report.timezone_source}).")
    if report.new_only:
        lines.append("Only findings not shown by an earlier --new run are listed.")
    if traps:
        lines.append(traps[0].upper() + traps[1:])
    lines.extend("Note: " + text for text in CAVEATS)
    return lines


# --- table --------------------------------------------------------------------------------------

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_MARK = "┊"
ASCII_LEVELS = ".:-=+*#@"
ASCII_MARK = "|"


def sparkline(counts: Sequence[int], mark: int | None = None, *, ascii_only: bool = False) -> str:
    """One character per cell, scaled to the busiest cell of ``counts`` (a blank for none); the
    mark goes just before cell ``mark`` (the unsubscribe's week).

    ``sparkline([0, 1, 4, 8, 2], mark=3)`` → ``" ▁▄┊█▂"``; ASCII: ``" .=|@:"``.
    """
    levels = ASCII_LEVELS if ascii_only else SPARK_BLOCKS
    top = max(counts, default=0)
    chars = [
        " " if n <= 0 else levels[min(len(levels) - 1, max(0, -(-n * len(levels) // top) - 1))]
        for n in counts
    ]
    if mark is not None and 0 <= mark <= len(chars):
        chars.insert(mark, ASCII_MARK if ascii_only else SPARK_MARK)
    return "".join(chars)


def can_draw_blocks(stream: TextIO) -> bool:
    """Whether ``stream``'s encoding has the block characters (a cp1252 or ASCII console has not)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        (SPARK_BLOCKS + SPARK_MARK).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _volumes(report: Report, ascii_only: bool, max_cells: int) -> tuple[list[str], str] | None:
    """Sparklines for the summary rows and the footer line that explains them (None: no frame)."""
    from sms_audit.report.timelines import summary_targets, weekly_volume

    targets = summary_targets(report)
    if not targets:
        return None
    volume = weekly_volume(report, targets, max_cells=max_cells)
    lines = [sparkline(c, m, ascii_only=ascii_only) for c, m in zip(volume.cells, volume.marks, strict=True)]
    span = "week" if volume.weeks_per_cell == 1 else f"{volume.weeks_per_cell} weeks"
    since = f" from the week of {volume.first_week:%Y-%m-%d}" if volume.first_week else ""
    mark = ASCII_MARK if ascii_only else SPARK_MARK
    note = (
        f"Weekly volume: messages received per {span}{since}, each row scaled to its busiest {span}; "
        f"{mark} marks the week of the first unsubscribe."
    )
    return lines, note


def _numbers(numbers: Sequence[str], limit: int) -> str:
    shown = ", ".join(numbers[:limit])
    return shown + (f" (+{len(numbers) - limit} more)" if len(numbers) > limit else "")


#: Statuses in colour on a colour terminal (plain text everywhere else).
STATUS_STYLES = {
    "violated": "bold red",
    "replied to trap": "bold yellow",
    "within grace": "yellow",
    "honoured": "green",
    "re-subscribed": "dim",
}


def _date(moment: datetime | None, tz: str) -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d")


def _spark_cells(available: int | None) -> int:
    """Cells a sparkline may take: all :data:`MAX_SPARK_CELLS` at natural width (files, pipes,
    ``--wide``), fewer on a narrower terminal so the columns that matter more still fit."""
    from sms_audit.report.timelines import MAX_SPARK_CELLS

    if available is None:
        return MAX_SPARK_CELLS
    return max(6, min(MAX_SPARK_CELLS, (available - 110) // 2 + 6))


def _who(row: SubjectSummary) -> str:
    return brand_label(row.brand_display or row.brand) if row.brand else row.subject


def _summary_columns(spark_width: int | None) -> list[Col]:
    """The summary table's columns, most important kept longest on a narrow terminal."""
    columns = [
        Col("who", "Brand / sender", 100, free_text=True, min_width=14, max_width=28),
        Col("volume", "Weekly volume", 45, width=spark_width) if spark_width else None,
        Col("numbers", "Numbers", 50, free_text=True, min_width=14, max_width=32, noun="numbers"),
        Col("first_unsubscribe", "Unsubscribed", 80, compact="first_unsubscribe_date"),
        Col("keyword", "Reply", 40),
        Col("confirmed", "Confirmed", 60),
        Col("violations", "Violations", 90),
        Col("via_other_numbers", "Via others", 30),
        Col("within_grace", "In grace", 35),
        Col("last_violation", "Last violation", 70, compact="last_violation_date"),
        Col("status", "Status", 95, styles=STATUS_STYLES),
    ]
    return [c for c in columns if c is not None]


def write_report_table(
    report: Report,
    stream: TextIO,
    *,
    details: bool = False,
    verbose: bool = False,
    width: int | None = None,
    wide: bool = False,
) -> None:
    """Human view: the summary per brand/sender, optional details, traps, then the footer.

    Fitted to ``width`` cells (default: the terminal's, see :func:`~sms_audit.output.table_width`);
    ``wide`` shows every column at natural width. The footer is three lines, or every note and
    caveat with ``verbose``.
    """
    tz = report.timezone
    available = None if wide else (width if width is not None else table_width(stream))
    fit: dict[str, Any] = {"width": available, "wide": wide}
    volumes = (
        _volumes(report, ascii_only=not can_draw_blocks(stream), max_cells=_spark_cells(available))
        if report.summary
        else None
    )
    sparks = volumes[0] if volumes else [""] * len(report.summary)
    rows = [
        {
            "who": _who(r),
            "volume": spark,
            "numbers": list(r.numbers),
            "first_unsubscribe": _short_local(r.first_unsubscribe, tz),
            "first_unsubscribe_date": _date(r.first_unsubscribe, tz),
            "keyword": r.keyword,
            "confirmed": r.confirmed,
            "violations": r.violations,
            "via_other_numbers": r.via_other_numbers,
            "within_grace": r.within_grace,
            "last_violation": _short_local(r.last_violation, tz),
            "last_violation_date": _date(r.last_violation, tz),
            "status": r.status,
        }
        for r, spark in zip(report.summary, sparks, strict=True)
    ]
    tables = 0

    shown: list[str] = []

    def table(rows: list[dict[str, Any]], columns: Sequence[Col], title: str) -> None:
        nonlocal tables
        if tables:
            stream.write("\n")
        write_table(rows, columns, stream, title=title, shown=shown if not tables else None, **fit)
        tables += 1

    if rows:
        spark_width = max((cell_len(s) for s in sparks), default=0) if volumes else None
        spark_width = max(spark_width, len("Weekly volume")) if spark_width else None
        table(rows, _summary_columns(spark_width), "Who kept messaging after you unsubscribed")
    if details:
        detail_columns = [
            Col("kind", "Finding", 95),
            Col("time", "Time", 90, compact="date"),
            Col("number", "Number", 80),
            Col("via", "Via", 40),
            Col("body", "Message", 100, free_text=True, min_width=20, max_width=60),
        ]
        by_subject: dict[str, list[Finding]] = {}
        listed = report.unsubscribe_findings
        for item in listed.where(listed.kinds != NON_MARKETING):
            by_subject.setdefault(item.subject, []).append(item)
        for row in report.summary:
            items = by_subject.get(row.subject, [])
            if items:
                table(
                    [
                        {
                            "kind": i.kind,
                            "time": _short_local(i.message.timestamp, tz),
                            "date": _date(i.message.timestamp, tz),
                            "number": i.message.address,
                            "via": i.via,
                            "body": i.message.body,
                        }
                        for i in items
                    ],
                    detail_columns,
                    f"{_who(row)}: messages after the unsubscribe",
                )
        others = list(listed.where(listed.kinds == NON_MARKETING))
        if others:
            table(
                [
                    {
                        "brand": brand_label(i.brand_display) if i.brand else i.subject,
                        "label": i.message.label,
                        "time": _short_local(i.message.timestamp, tz),
                        "date": _date(i.message.timestamp, tz),
                        "number": i.message.address,
                        "body": i.message.body,
                    }
                    for i in others
                ],
                [
                    Col("brand", "Brand / sender", 95, free_text=True, min_width=10, max_width=24),
                    Col("label", "Label", 90),
                    Col("time", "Time", 85, compact="date"),
                    Col("number", "Number", 60),
                    Col("body", "Message", 100, free_text=True, min_width=20, max_width=60),
                ],
                "Non-marketing after an unsubscribe (codes, notices: not violations)",
            )
        if report.ledger:
            table(
                [
                    {
                        "who": (
                            brand_label(e.unsubscribe.brand_display)
                            if e.unsubscribe.brand
                            else e.unsubscribe.subject
                        ),
                        "number": e.unsubscribe.address,
                        "sent": _short_local(e.unsubscribe.message.timestamp, tz),
                        "date": _date(e.unsubscribe.message.timestamp, tz),
                        "keyword": e.unsubscribe.keyword,
                        "replies": e.unsubscribe.replies,
                        "confirmed": "yes" if e.confirmed else "no",
                        "status": e.status,
                        "days": e.days_since,
                    }
                    for e in report.ledger
                ],
                [
                    Col("who", "Brand / sender", 100, free_text=True, min_width=14, max_width=28),
                    Col("number", "Number", 85),
                    Col("sent", "Sent", 90, compact="date"),
                    Col("keyword", "Reply", 50),
                    Col("replies", "Times", 30),
                    Col("confirmed", "Confirmed", 70),
                    Col("status", "Status", 95, styles=STATUS_STYLES),
                    Col("days", "Days observed", 40),
                ],
                "Unsubscribe ledger",
            )
    if report.traps:
        table(
            [
                {
                    "time": _short_local(t.message.timestamp, tz),
                    "date": _date(t.message.timestamp, tz),
                    "number": t.message.address,
                    "why": t.trap_reason,
                    "replied": "YES: do not reply again" if t.reply else "no",
                    "body": t.message.body,
                }
                for t in report.traps
            ],
            [
                Col("time", "Time", 90, compact="date"),
                Col("number", "Number", 95),
                Col("why", "Why", 60, free_text=True, min_width=12, max_width=40),
                Col("replied", "You replied", 98, styles={"YES: do not reply again": "bold red"}),
                Col("body", "Message", 100, free_text=True, min_width=16, max_width=50),
            ],
            "Suspected unsubscribe traps (do not reply)",
        )
    if tables:
        stream.write("\n")
    footer = footer_lines(report, brief=not verbose)
    if volumes and verbose:
        footer.insert(1, volumes[1])
    elif volumes and "volume" in shown:
        footer[-1] += (
            f" Weekly volume: {SPARK_MARK if can_draw_blocks(stream) else ASCII_MARK} is your first unsubscribe."
        )
    for line in footer:
        line = visible(line, keep_newlines=False)
        if available is not None:  # wrapped at spaces: dates, numbers and names stay whole
            line = textwrap.fill(line, width=available, break_long_words=False, break_on_hyphens=False)
        stream.write(line + "\n")


# --- markdown -----------------------------------------------------------------------------------

# Only what is Markdown or HTML syntax mid-line (text never starts a line here: it follows "| " or
# "- **label**: "), so dates, numbers and sentences stay readable when pasted as plain text.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~<>&])")


def md_escape(text: str) -> str:
    """Inline Markdown text: controls made visible, HTML and Markdown syntax escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", visible(str(text), keep_newlines=False))


def md_block(text: str) -> str:
    """A fenced code block that the body cannot close (the fence is longer than any backtick run)."""
    body = visible(text, keep_newlines=True)
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(md_escape(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out.extend("| " + " | ".join(md_escape("" if v is None else str(v)) for v in row) + " |" for row in rows)
    return out


def _md_message(ref: MessageRef, tz: str, label: str) -> list[str]:
    return [
        (
            f"- **{md_escape(label)}**: {md_escape(_short_local(ref.timestamp, tz))} local "
            f"({md_escape(format_time(ref.timestamp))}), number {md_escape(ref.address)}, "
            f"message id `{ref.message_id}`"
        ),
        "",
        md_block(ref.body),
        "",
    ]


def write_report_markdown(report: Report, stream: TextIO) -> None:
    """A Markdown report a person can paste into a complaint; message text is fenced or escaped."""
    tz = report.timezone
    lines = [
        "# sms-audit report: messages after you unsubscribed",
        "",
        (
            f"Policy **{md_escape(report.policy.name)}** ({md_escape(report.policy.jurisdiction)}): grace "
            f"{md_escape(report.policy.grace_text)}, {md_escape(report.policy.kind)}. "
            f"Source: {md_escape(report.policy.source)}."
        ),
        "",
        f"Times in {md_escape(report.timezone)} ({md_escape(report.timezone_source)}).",
        "",
        "## Summary",
        "",
    ]
    if report.summary:
        lines += _md_table(
            [
                "Brand / sender",
                "Numbers used",
                "First unsubscribe",
                "Keyword",
                "Confirmed?",
                "Violating msgs",
                "Via other numbers",
                "In grace",
                "Last violation",
                "Status",
            ],
            [
                [
                    _who(r),
                    _numbers(r.numbers, 10),
                    _short_local(r.first_unsubscribe, tz),
                    r.keyword,
                    r.confirmed,
                    r.violations,
                    r.via_other_numbers,
                    r.within_grace,
                    _short_local(r.last_violation, tz),
                    r.status,
                ]
                for r in report.summary
            ],
        )
    else:
        lines.append("No unsubscribe replies were found.")
    lines.append("")
    by_subject: dict[str, list[Finding]] = {}
    listed = report.unsubscribe_findings
    for item in listed.where(listed.kinds != NON_MARKETING):
        by_subject.setdefault(item.subject, []).append(item)
    entries_by_subject: dict[str, list[LedgerEntry]] = {}
    for entry in report.ledger:
        entries_by_subject.setdefault(entry.unsubscribe.subject, []).append(entry)
    for row in report.summary:
        lines += [f"## {md_escape(_who(row))}: {md_escape(row.status)}", ""]
        for entry in entries_by_subject.get(row.subject, []):
            unsub = entry.unsubscribe
            lines += _md_message(unsub.message, tz, f"Unsubscribe ({unsub.keyword})")
            lines.append(
                f"- Grace period ends {md_escape(_short_local(unsub.deadline, tz))} local "
                f"({md_escape(report.policy.grace_text)})."
            )
            if not entry.confirmed:
                lines.append("- No confirmation was received.")
            if unsub.resubscribe is not None:
                lines.append(
                    f"- You re-subscribed at {md_escape(_short_local(unsub.resubscribe.timestamp, tz))} "
                    "local; later messages are not counted."
                )
            lines.append("")
        for item in by_subject.get(row.subject, []):
            lines += _md_message(item.message, tz, f"{item.kind} ({item.via})")
            lines[-2:-2] = [f"  {md_escape(item.explanation)}", ""]
    others = list(listed.where(listed.kinds == NON_MARKETING))
    if others:
        lines += [
            "## Non-marketing after an unsubscribe (not violations)",
            "",
            (
                "Verification codes and notices are not marketing: they are listed here, never counted, and "
                "should not be reported."
            ),
            "",
        ]
        for item in others:
            who = brand_label(item.brand_display) if item.brand else item.subject
            lines += _md_message(item.message, tz, f"{who}: {item.message.label}")
    if report.traps:
        lines += ["## Suspected unsubscribe traps: do not reply", ""]
        for trap in report.traps:
            lines += _md_message(trap.message, tz, "Trap")
            lines[-2:-2] = [f"  Why: {md_escape(trap.trap_reason)}. {md_escape(trap.explanation)}", ""]
    lines += ["## What was checked", ""]
    lines += [f"- {md_escape(line)}" for line in footer_lines(report)]
    stream.write("\n".join(lines) + "\n")


# --- dispatch -----------------------------------------------------------------------------------


def render(
    report: Report,
    fmt: OutputFormat,
    stream: TextIO,
    *,
    details: bool = False,
    generated_at: datetime | None = None,
    verbose: bool = False,
    width: int | None = None,
    wide: bool = False,
) -> None:
    """Write ``report`` in a resolved format (not ``auto``). ``verbose``, ``width`` and ``wide``
    concern the table (see :func:`write_report_table`)."""
    match fmt:
        case OutputFormat.TABLE:
            write_report_table(report, stream, details=details, verbose=verbose, width=width, wide=wide)
        case OutputFormat.MD:
            write_report_markdown(report, stream)
        case OutputFormat.JSON:
            write_json(document(report, generated_at=generated_at, lazy=True), stream)
        case OutputFormat.JSONL:
            write_jsonl(_finding_records(report.findings, report), FINDING_COLUMNS, stream)
        case OutputFormat.CSV:
            write_csv(_finding_records(report.findings, report), FINDING_COLUMNS, stream)
        case OutputFormat.HTML:
            from sms_audit.report.html_report import write_report_html  # imports matplotlib

            write_report_html(report, stream, generated_at=generated_at)
        case OutputFormat.AUTO:
            raise ValueError("resolve --format auto before rendering")
        case _:
            assert_never(fmt)
