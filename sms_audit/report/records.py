"""Report objects as flat records and frames, in the column order of :mod:`sms_audit.schema`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sms_audit.output import _time_text
from sms_audit.report.analysis import (
    CONFIRMATION_KINDS,
    NON_MARKETING,
    SEVERITY,
    TRAP,
    VIOLATION_KINDS,
    WITHIN_GRACE,
    Finding,
    LedgerEntry,
    MessageRef,
    Report,
    SubjectSummary,
)
from sms_audit.schema import FINDING_COLUMNS, LEDGER_COLUMNS, SUMMARY_COLUMNS

if TYPE_CHECKING:
    import pandas as pd


def finding_record(item: Finding, report: Report, *, time_text: bool = False) -> dict[str, Any]:
    """One finding as a flat record in :data:`FINDING_COLUMNS` order; with ``time_text`` its UTC
    times are their output text (:func:`~sms_audit.output.format_time`) instead of datetimes."""
    return record_of_finding(item, report.policy.name, time_text=time_text)


def record_of_finding(item: Finding, policy: str, *, time_text: bool = False) -> dict[str, Any]:
    """:func:`finding_record` given the report's policy name."""
    msg, unsub, reply = item.message, item.unsubscribe, item.reply

    def time(ref: MessageRef) -> Any:
        return (ref.utc_time or _time_text(ref.timestamp)) if time_text else ref.timestamp

    return {
        "finding_id": item.finding_id,
        "kind": item.kind,
        "severity": item.severity,
        "subject": item.subject,
        "brand": item.brand,
        "brand_display": item.brand_display,
        "via": item.via,
        "message_id": msg.message_id,
        "timestamp": time(msg),
        "local_time": msg.local_time,
        "direction": msg.direction,
        "address": msg.address,
        "address_raw": msg.address_raw,
        "sender_kind": msg.sender_kind,
        "label": msg.label,
        "rule": msg.reason,
        "body": msg.body,
        "unsubscribe_message_id": unsub.unsubscribe_id if unsub else None,
        "unsubscribed_at": time(unsub.message) if unsub else None,
        "unsubscribed_local_time": unsub.message.local_time if unsub else None,
        "unsubscribe_address": unsub.address if unsub else None,
        "unsubscribe_keyword": unsub.keyword if unsub else None,
        "grace_deadline": (_time_text(unsub.deadline) if time_text else unsub.deadline) if unsub else None,
        "policy": policy,
        "explanation": item.explanation,
        "trap_reason": item.trap_reason if item.kind == TRAP else None,
        "replied": (item.reply is not None) if item.kind == TRAP else None,
        "reply_message_id": reply.message_id if reply else None,
        "replied_at": time(reply) if reply else None,
        "reply_body": reply.body if reply else None,
        "source_file": msg.source_file,
    }


def ledger_record(entry: LedgerEntry, report: Report) -> dict[str, Any]:
    """One unsubscribe in :data:`LEDGER_COLUMNS` order."""
    unsub = entry.unsubscribe
    return {
        "unsubscribe_message_id": unsub.unsubscribe_id,
        "subject": unsub.subject,
        "brand": unsub.brand,
        "brand_display": unsub.brand_display,
        "address": unsub.address,
        "unsubscribed_at": unsub.message.timestamp,
        "unsubscribed_local_time": unsub.message.local_time,
        "keyword": unsub.keyword,
        "asked_keyword": unsub.asked_keyword,
        "replies": unsub.replies,
        "reply_message_ids": list(unsub.reply_ids),
        "confirmed": entry.confirmed,
        "confirmation_at": entry.confirmation_at,
        "status": entry.status,
        "violations": entry.violations,
        "via_other_numbers": entry.via_other_numbers,
        "within_grace": entry.within_grace,
        "non_marketing": entry.non_marketing,
        "flagged": entry.flagged,
        "first_violation": entry.first_violation,
        "last_violation": entry.last_violation,
        "grace_deadline": unsub.deadline,
        "resubscribed_at": unsub.resubscribe.timestamp if unsub.resubscribe else None,
        "resubscribe_message_id": unsub.resubscribe.message_id if unsub.resubscribe else None,
        "days_since": entry.days_since,
    }


def summary_record(row: SubjectSummary) -> dict[str, Any]:
    """One summary row in :data:`SUMMARY_COLUMNS` order."""
    return {
        name: (list(row.numbers) if name == "numbers" else getattr(row, name)) for name in SUMMARY_COLUMNS
    }


def counts(report: Report) -> dict[str, int]:
    """Headline numbers (``counts`` in json), counted on the findings' columns."""
    import numpy as np

    items = report.findings
    kinds = items.kinds
    bad = np.isin(kinds, list(VIOLATION_KINDS))
    trap = kinds == TRAP
    return {
        "unsubscribes": len(report.unsubscribes),
        "unsubscribe_replies": sum(u.replies for u in report.unsubscribes),
        "confirmed": sum(1 for e in report.ledger if e.confirmed),
        "violations": int(bad.sum()),
        "violating_subjects": len(set(items.shown_subjects()[bad].tolist())),
        "via_other_numbers": int((bad & (items.vias == "other-number")).sum()),
        "within_grace": int((kinds == WITHIN_GRACE).sum()),
        "confirmations": int(np.isin(kinds, list(CONFIRMATION_KINDS)).sum()),
        "flagged": int(np.isin(kinds, [k for k, v in SEVERITY.items() if v == "flagged"]).sum()),
        "non_marketing_after_unsubscribe": int((kinds == NON_MARKETING).sum()),
        "traps": int(trap.sum()),
        "traps_replied": int((trap & (items.reply_rows >= 0)).sum()),
    }


def findings_frame(report: Report, *, traps: bool = False) -> pd.DataFrame:
    """The unsubscribe findings (or, with ``traps``, the trap findings) as a frame
    (:data:`~sms_audit.schema.FINDING_SCHEMA`)."""
    from sms_audit.schema import FINDING_SCHEMA, frame_from_records

    items = report.traps if traps else report.unsubscribe_findings
    return frame_from_records(list(items.records()), FINDING_SCHEMA)


def ledger_frame(report: Report) -> pd.DataFrame:
    """The unsubscribe ledger as a frame (:data:`~sms_audit.schema.LEDGER_SCHEMA`)."""
    from sms_audit.schema import LEDGER_SCHEMA, frame_from_records

    return frame_from_records([ledger_record(e, report) for e in report.ledger], LEDGER_SCHEMA)


def summary_frame(report: Report) -> pd.DataFrame:
    """The per-brand summary as a frame (:data:`~sms_audit.schema.SUMMARY_SCHEMA`)."""
    from sms_audit.schema import SUMMARY_SCHEMA, frame_from_records

    return frame_from_records([summary_record(r) for r in report.summary], SUMMARY_SCHEMA)


__all__ = [
    "FINDING_COLUMNS",
    "LEDGER_COLUMNS",
    "SUMMARY_COLUMNS",
    "counts",
    "finding_record",
    "findings_frame",
    "ledger_frame",
    "ledger_record",
    "summary_frame",
    "summary_record",
]
