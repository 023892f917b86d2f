"""Report renderers: table, Markdown, JSON, JSON Lines and CSV, plus the plain-language footer
(HTML: :mod:`sms_audit.report.html_report`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO, assert_never
from zoneinfo import ZoneInfo

from sms_audit import __version__
from sms_audit.output import (
    OutputFormat,
    format_time,
    visible,
    write_csv,
    write_json,
    write_jsonl,
    write_table,
)
from sms_audit.report.analysis import (
    NON_MARKETING,
    Finding,
    LedgerEntry,
    MessageRef,
    Report,
    SubjectSummary,
)
from sms_audit.report.records import (
    FINDING_COLUMNS,
    counts,
    finding_record,
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


def document(report: Report, *, generated_at: datetime | None = None) -> dict[str, Any]:
    """The ``--format json`` document (docs/report-schema.json)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "sms-audit", "version": __version__},
        "generated_at": generated_at or datetime.now(UTC),
        "policy": report.policy.to_record(),
        "timezone": {"name": report.timezone, "source": report.timezone_source},
        "region": report.region,
        "period": {"first_message": report.first_message, "last_message": report.last_message},
        "messages_checked": report.messages_checked,
        "sources": list(report.sources),
        "new_only": report.new_only,
        "redacted": bool(report.meta.get("redacted", False)),
        "counts": counts(report),
        "summary": [summary_record(r) for r in report.summary],
        "findings": [finding_record(f, report) for f in report.unsubscribe_findings],
        "ledger": [ledger_record(e, report) for e in report.ledger],
        "traps": [finding_record(f, report) for f in report.traps],
        "caveats": list(CAVEATS),
    }


# --- footer -------------------------------------------------------------------------------------


def footer_lines(report: Report) -> list[str]:
    """Plain-language footer: what was checked, the policy and its source, and the caveats."""
    c = counts(report)
    period = ""
    if report.first_message and report.last_message:
        period = (
            f" from {_short_local(report.first_message, report.timezone)} to "
            f"{_short_local(report.last_message, report.timezone)}"
        )
    lines = [
        f"Checked {report.messages_checked} messages{period}"
        + (f" in {len(report.sources)} source file(s)" if report.sources else "")
        + ".",
        (
            f"You sent {c['unsubscribe_replies']} unsubscribe replies to {c['unsubscribes']} number(s); "
            f"{c['confirmed']} were confirmed; {c['violations']} violating message(s) from "
            f"{c['violating_subjects']} sender(s)/brand(s); {c['within_grace']} message(s) within the grace period; "
            f"{c['non_marketing_after_unsubscribe']} non-marketing message(s) after an unsubscribe (not counted)."
        ),
        "Policy " + report.policy.describe().removeprefix("policy ") + ".",
        f"Scope: {report.policy.scope}. Confirmation: {report.policy.confirmation_text}.",
    ]
    if report.policy.notes:
        lines.append(report.policy.notes)
    lines.append(f"Times are shown in {report.timezone} ({report.timezone_source}).")
    if report.new_only:
        lines.append("Only findings not shown by a previous --new run are listed.")
    if c["traps"]:
        lines.append(
            f"{c['traps']} suspected trap(s), {c['traps_replied']} of them replied to: do not reply "
            "to messages like these."
        )
    if not c["unsubscribes"]:
        lines.append("No unsubscribe replies (TD, T, R, 退订, STOP ...) were found in this archive.")
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


def _spark_cells(stream: TextIO) -> int:
    """Cells a sparkline may take: all :data:`MAX_SPARK_CELLS` off a terminal (files, pipes, tests),
    fewer on a narrow one, so the table's other columns (the status last) still fit."""
    import shutil

    from sms_audit.report.timelines import MAX_SPARK_CELLS

    if not (hasattr(stream, "isatty") and stream.isatty()):
        return MAX_SPARK_CELLS
    width = shutil.get_terminal_size().columns
    return max(6, min(MAX_SPARK_CELLS, (width - 110) // 2 + 6))


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


def _who(row: SubjectSummary) -> str:
    return brand_label(row.brand_display or row.brand) if row.brand else row.subject


def write_report_table(report: Report, stream: TextIO, *, details: bool = False) -> None:
    """Human view: the summary per brand/sender, optional details, traps, then the footer."""
    tz = report.timezone
    on_terminal = hasattr(stream, "isatty") and stream.isatty()
    volumes = (
        _volumes(report, ascii_only=not can_draw_blocks(stream), max_cells=_spark_cells(stream))
        if report.summary
        else None
    )
    sparks = volumes[0] if volumes else [""] * len(report.summary)
    rows = [
        {
            "who": _who(r),
            "volume": spark,
            "numbers": _numbers(r.numbers, 4),
            "first_unsubscribe": _short_local(r.first_unsubscribe, tz),
            "keyword": r.keyword,
            "confirmed": r.confirmed,
            "violations": r.violations,
            "via_other_numbers": r.via_other_numbers,
            "within_grace": r.within_grace,
            "last_violation": _short_local(r.last_violation, tz),
            "status": r.status,
        }
        for r, spark in zip(report.summary, sparks, strict=True)
    ]
    if rows:
        write_table(
            rows,
            [c for c in _TABLE_HEADERS if c != "volume" or volumes],
            stream,
            headers=_TABLE_HEADERS,
            title="Who kept messaging after you unsubscribed",
            max_widths={"numbers": 32},
            # Off a terminal the header stays on one line; on a narrow one it may wrap ("Weekly/volume").
            fixed_widths=(
                {
                    "volume": max(
                        6 if on_terminal else len(_TABLE_HEADERS["volume"]), *(len(s) for s in sparks)
                    )
                }
                if volumes
                else None
            ),
        )
    if details:
        detail_cols = ["kind", "time", "number", "via", "body"]
        by_subject: dict[str, list[Finding]] = {}
        for item in report.unsubscribe_findings:
            if item.kind != NON_MARKETING:
                by_subject.setdefault(item.subject, []).append(item)
        for row in report.summary:
            items = by_subject.get(row.subject, [])
            if not items:
                continue
            write_table(
                [
                    {
                        "kind": i.kind,
                        "time": _short_local(i.message.timestamp, tz),
                        "number": i.message.address,
                        "via": i.via,
                        "body": i.message.body,
                    }
                    for i in items
                ],
                detail_cols,
                stream,
                title=f"{_who(row)}: messages after the unsubscribe",
                max_widths={"body": 60},
            )
        others = [i for i in report.unsubscribe_findings if i.kind == NON_MARKETING]
        if others:
            write_table(
                [
                    {
                        "brand": brand_label(i.brand_display) if i.brand else i.subject,
                        "label": i.message.label,
                        "time": _short_local(i.message.timestamp, tz),
                        "number": i.message.address,
                        "body": i.message.body,
                    }
                    for i in others
                ],
                ["brand", "label", "time", "number", "body"],
                stream,
                title="Non-marketing after an unsubscribe (codes, notices: not violations)",
                max_widths={"body": 60},
            )
        if report.ledger:
            write_table(
                [
                    {
                        "who": (
                            brand_label(e.unsubscribe.brand_display)
                            if e.unsubscribe.brand
                            else e.unsubscribe.subject
                        ),
                        "number": e.unsubscribe.address,
                        "sent": _short_local(e.unsubscribe.message.timestamp, tz),
                        "keyword": e.unsubscribe.keyword,
                        "replies": e.unsubscribe.replies,
                        "confirmed": "yes" if e.confirmed else "no",
                        "status": e.status,
                        "days": e.days_since,
                    }
                    for e in report.ledger
                ],
                ["who", "number", "sent", "keyword", "replies", "confirmed", "status", "days"],
                stream,
                title="Unsubscribe ledger",
            )
    if report.traps:
        write_table(
            [
                {
                    "time": _short_local(t.message.timestamp, tz),
                    "number": t.message.address,
                    "why": t.trap_reason,
                    "replied": "YES: do not reply again" if t.reply else "no",
                    "body": t.message.body,
                }
                for t in report.traps
            ],
            ["time", "number", "why", "replied", "body"],
            stream,
            title="Suspected unsubscribe traps (do not reply)",
            max_widths={"body": 50, "why": 40},
        )
    stream.write("\n")
    footer = footer_lines(report)
    if volumes:
        footer.insert(1, volumes[1])
    stream.writelines(visible(line, keep_newlines=False) + "\n" for line in footer)


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
    for item in report.unsubscribe_findings:
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
            if item.kind == NON_MARKETING:
                continue
            lines += _md_message(item.message, tz, f"{item.kind} ({item.via})")
            lines[-2:-2] = [f"  {md_escape(item.explanation)}", ""]
    others = [i for i in report.unsubscribe_findings if i.kind == NON_MARKETING]
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
) -> None:
    """Write ``report`` in a resolved format (not ``auto``)."""
    match fmt:
        case OutputFormat.TABLE:
            write_report_table(report, stream, details=details)
        case OutputFormat.MD:
            write_report_markdown(report, stream)
        case OutputFormat.JSON:
            write_json(document(report, generated_at=generated_at), stream)
        case OutputFormat.JSONL:
            write_jsonl((finding_record(f, report) for f in report.findings), FINDING_COLUMNS, stream)
        case OutputFormat.CSV:
            write_csv((finding_record(f, report) for f in report.findings), FINDING_COLUMNS, stream)
        case OutputFormat.HTML:
            from sms_audit.report.html_report import write_report_html  # imports matplotlib

            write_report_html(report, stream, generated_at=generated_at)
        case OutputFormat.AUTO:
            raise ValueError("resolve --format auto before rendering")
        case _:
            assert_never(fmt)
