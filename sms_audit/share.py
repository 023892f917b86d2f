"""Donated findings: the merchant-side facts of one person's report, in a file they can read first.

A findings file (``sms-audit share -o findings.json``, described by docs/findings-schema.json) lets a
person give a consumer association, a newspaper or a regulator what merchants did — and nothing about
their own life. It holds, per brand that was sent an unsubscribe:

* the brand's display name and key, and the merchant numbers involved — only numbers of a
  business kind (:data:`~sms_audit.normalize.BUSINESS_KINDS`: 106/1069 ports, short codes, service
  and toll-free numbers, alphanumeric sender IDs); a number a private person could hold is withheld;
* each unsubscribe: the keyword sent, when, to which merchant number, whether and when it was confirmed,
  its status (violated, honoured …);
* each marketing message after it: when, from which merchant number, within grace or violation, and
  its text with codes, names, personal numbers and link paths masked.

Never in it: chats, verification codes and notices, personal numbers, contact names, message ids,
unsubscribes sent to personal numbers (counted in ``withheld``). The donor id is random
(:func:`new_donor_id`, :mod:`secrets`), never derived from the phone number. Times are cut to the
minute: bulk marketing goes to many people in the same minute.

:func:`findings_document` builds the document from a :class:`~sms_audit.report.analysis.Report`;
:func:`load_findings` reads and checks one (the league reads donations with it).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sms_audit import __version__
from sms_audit.errors import CorruptArchive, UsageError
from sms_audit.normalize import BUSINESS_KINDS, SenderKind, normalize_address
from sms_audit.report.analysis import (
    CONFIRMATION_WITH_MARKETING,
    VIOLATION,
    VIOLATION_KINDS,
    WITHIN_GRACE,
    Finding,
    LedgerEntry,
    Report,
)
from sms_audit.report.redact import MASK, redact_text
from sms_audit.report.render import brand_label

FORMAT = "sms-audit-findings"
SCHEMA_VERSION = 1
#: Kinds of message after an unsubscribe that are shared: marketing only (codes and notices never).
SHARED_KINDS = (WITHIN_GRACE, VIOLATION, CONFIRMATION_WITH_MARKETING)
_DONOR_ID = re.compile(r"[0-9a-f]{32}")
# A link: scheme or www. or a host with a known-looking TLD, then an optional path. The host is the
# merchant's (kept: it is evidence); the path and query can be a per-recipient tracking token.
_URL = re.compile(
    r"(?i)((?:https?://)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(/[A-Za-z0-9\-._~/?#\[\]@!$&'()*+,;=%]*)"
)


class InvalidFindings(CorruptArchive):
    """A file that claims to be a findings file but is not a valid one (exit 3)."""


def new_donor_id() -> str:
    """A random donor id: 128 bits from :mod:`secrets`, as 32 hex digits. Never derived from data."""
    return secrets.token_hex(16)


def valid_donor_id(text: str) -> str:
    """``text`` lower-cased if it is 32 hex digits (a donor id from an earlier file); else UsageError."""
    value = text.strip().lower()
    if not _DONOR_ID.fullmatch(value):
        raise UsageError(
            f"not a donor id: {text!r}",
            hint="a donor id is 32 hex digits, as in the donor_id field of an earlier findings file",
        )
    return value


def mask_links(text: str) -> str:
    """``yx.example.cn/b/x9Kq2`` → ``yx.example.cn/•••``: the host stays, the path (a possible
    per-recipient tracking token) is masked."""

    def mask(match: re.Match[str]) -> str:
        path = match.group(2)
        tail = len(path) - len(path.rstrip(".,;:!?)'"))  # sentence punctuation after a link stays
        kept = path[: len(path) - tail]
        return match.group(1) + ("/" + MASK * 3 if len(kept) > 1 else kept) + path[len(path) - tail :]

    return _URL.sub(mask, text)


def share_text(body: str) -> str:
    """A marketing text as shared: :func:`~sms_audit.report.redact.redact_text` plus link paths masked."""
    return mask_links(redact_text(body))


def minute(moment: datetime | None) -> str | None:
    """ISO-8601 UTC cut to the minute (``2025-09-10T12:15:00.000Z``), or None."""
    if moment is None:
        return None
    from sms_audit.output import format_time

    return format_time(moment.astimezone(UTC).replace(second=0, microsecond=0))


@dataclass(frozen=True, slots=True)
class _Kinds:
    """Sender kinds of the report's numbers (from the analysed frame, else re-derived)."""

    known: Mapping[str, str]
    region: str | None

    def kind(self, number: str) -> str:
        value = self.known.get(number)
        return value if value else normalize_address(number, self.region).kind.value

    def business(self, number: str) -> bool:
        return bool(number) and SenderKind(self.kind(number)) in BUSINESS_KINDS


def _kinds(report: Report) -> _Kinds:
    known: dict[str, str] = {}
    frame = report.frame
    if frame is not None and len(frame):
        pairs = frame[["address", "sender_kind"]].drop_duplicates("address")
        known = dict(zip(pairs["address"].astype(str), pairs["sender_kind"].astype(str), strict=True))
    return _Kinds(known, report.region)


def findings_document(
    report: Report, *, donor_id: str | None = None, generated_at: datetime | None = None
) -> dict[str, Any]:
    """The findings file of ``report`` as plain JSON values (docs/findings-schema.json).

    ``donor_id`` defaults to a new random one. Brands whose every number is of a kind a private
    person could hold, and unbranded unsubscribes to such numbers, are left out and counted in
    ``withheld``. Works on redacted and unredacted reports alike (texts are masked here).
    """
    kinds = _kinds(report)
    by_unsub: dict[str, list[Finding]] = {}
    for item in report.unsubscribe_findings:
        if item.unsubscribe is not None and item.kind in SHARED_KINDS:
            by_unsub.setdefault(item.unsubscribe.unsubscribe_id, []).append(item)
    entries: dict[str, list[LedgerEntry]] = {}
    for entry in report.ledger:
        entries.setdefault(entry.unsubscribe.subject, []).append(entry)
    brands: list[dict[str, Any]] = []
    withheld = {"unsubscribes": 0, "numbers": 0}
    for row in report.summary:
        subject_entries = entries.get(row.subject, [])
        involved = set(row.numbers) | {e.unsubscribe.address for e in subject_entries}
        merchant = sorted(n for n in involved if kinds.business(n))
        if not (merchant if row.brand else kinds.business(row.subject)):
            withheld["unsubscribes"] += len(subject_entries)  # a private person's number, or maybe one
            continue
        withheld["numbers"] += len(involved) - len(merchant)
        brands.append(
            {
                "subject": row.subject,
                "brand": row.brand,
                "brand_display": row.brand_display,
                "numbers": [{"number": n, "kind": kinds.kind(n)} for n in merchant],
                "unsubscribes": [_unsubscribe(e, by_unsub, kinds) for e in subject_entries],
            }
        )
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "sms-audit", "version": __version__},
        "donor_id": donor_id or new_donor_id(),
        "generated_at": minute(generated_at or datetime.now(UTC)),
        "region": report.region,
        "policy": report.policy.to_record(),
        "timezone": report.timezone,
        "period": {
            "first_day": _day(report.first_message, report.timezone),
            "last_day": _day(report.last_message, report.timezone),
        },
        "messages_checked": report.messages_checked,
        "brands": brands,
        "withheld": withheld,
    }


def _day(moment: datetime | None, tz: str) -> str | None:
    from zoneinfo import ZoneInfo

    return None if moment is None else moment.astimezone(ZoneInfo(tz)).date().isoformat()


def _unsubscribe(entry: LedgerEntry, by_unsub: Mapping[str, list[Finding]], kinds: _Kinds) -> dict[str, Any]:
    unsub = entry.unsubscribe
    after = sorted(by_unsub.get(unsub.unsubscribe_id, []), key=lambda f: f.message.timestamp)
    return {
        "sent_at": minute(unsub.message.timestamp),
        "keyword": redact_text(unsub.keyword),
        "number": unsub.address if kinds.business(unsub.address) else None,
        "confirmed": entry.confirmed,
        "confirmed_at": minute(entry.confirmation_at),
        "grace_deadline": minute(unsub.deadline),
        "status": entry.status,
        "resubscribed_at": minute(unsub.resubscribe.timestamp) if unsub.resubscribe else None,
        "messages_after": [
            {
                "received_at": minute(f.message.timestamp),
                "number": f.message.address if kinds.business(f.message.address) else None,
                "kind": f.kind,
                "via": f.via,
                "text": share_text(f.message.body),
            }
            for f in after
        ],
    }


# --- reading ----------------------------------------------------------------------------------------


def sniff_findings(head: bytes) -> bool:
    """Whether the first bytes of a file look like a findings file (a JSON object naming the format)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and FORMAT.encode() in text[:4096]


def load_findings(text: str | bytes, source: str = "<findings>") -> dict[str, Any]:
    """Parse and check a findings document; raises :class:`InvalidFindings` naming ``source``.

    Checks the format marker, the schema version (a newer one asks for an upgrade) and the fields
    the league reads, with their types.
    """
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidFindings(f"not valid JSON ({exc})", path=source) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidFindings(
            'not an sms-audit findings file (no "format": "sms-audit-findings")', path=source
        )
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        raise InvalidFindings(
            f"findings schema version {version!r} is not supported (this sms-audit reads {SCHEMA_VERSION})",
            path=source,
            hint="upgrade sms-audit" if newer else None,
        )
    _check(doc, _DOC_FIELDS, source, "$")
    if not _DONOR_ID.fullmatch(doc["donor_id"]):
        raise InvalidFindings("$.donor_id: not 32 hex digits", path=source)
    for i, brand in enumerate(doc["brands"]):
        where = f"$.brands[{i}]"
        _check(brand, _BRAND_FIELDS, source, where)
        for j, unsub in enumerate(brand["unsubscribes"]):
            _check(unsub, _UNSUB_FIELDS, source, f"{where}.unsubscribes[{j}]")
            for k, msg in enumerate(unsub["messages_after"]):
                _check(msg, _MESSAGE_FIELDS, source, f"{where}.unsubscribes[{j}].messages_after[{k}]")
                if msg["kind"] not in SHARED_KINDS:
                    raise InvalidFindings(f"{where}: unknown message kind {msg['kind']!r}", path=source)
    return doc


def read_findings(path: str | Path) -> dict[str, Any]:
    """:func:`load_findings` on a file (a local path or an fsspec URL such as ``s3://bucket/x.json``)."""
    name = str(path)
    try:
        if "://" in name:
            import fsspec

            with fsspec.open(name, "rb") as handle:
                data = handle.read()
        else:
            data = Path(name).read_bytes()
    except OSError as exc:
        raise CorruptArchive(f"cannot read: {exc.strerror or exc}", path=name) from None
    return load_findings(data, name)


_STR, _OPT_STR, _INT, _BOOL, _LIST, _DICT = "string", "string or null", "integer", "boolean", "list", "object"
_TYPES: dict[str, tuple[type, ...]] = {
    _STR: (str,),
    _OPT_STR: (str, type(None)),
    _INT: (int,),
    _BOOL: (bool,),
    _LIST: (list,),
    _DICT: (dict,),
}
_DOC_FIELDS = {
    "donor_id": _STR,
    "generated_at": _STR,
    "region": _OPT_STR,
    "policy": _DICT,
    "timezone": _STR,
    "period": _DICT,
    "messages_checked": _INT,
    "brands": _LIST,
    "withheld": _DICT,
}
_BRAND_FIELDS = {
    "subject": _STR,
    "brand": _STR,
    "brand_display": _STR,
    "numbers": _LIST,
    "unsubscribes": _LIST,
}
_UNSUB_FIELDS = {
    "sent_at": _STR,
    "keyword": _STR,
    "number": _OPT_STR,
    "confirmed": _BOOL,
    "confirmed_at": _OPT_STR,
    "grace_deadline": _OPT_STR,
    "status": _STR,
    "resubscribed_at": _OPT_STR,
    "messages_after": _LIST,
}
_MESSAGE_FIELDS = {"received_at": _STR, "number": _OPT_STR, "kind": _STR, "via": _STR, "text": _STR}


def _check(value: Any, fields: Mapping[str, str], source: str, where: str) -> None:
    if not isinstance(value, dict):
        raise InvalidFindings(f"{where}: expected an object", path=source)
    for name, kind in fields.items():
        if name not in value:
            raise InvalidFindings(f"{where}: missing field {name!r}", path=source)
        item = value[name]
        ok = isinstance(item, _TYPES[kind]) and not (kind == _INT and isinstance(item, bool))
        if not ok:
            raise InvalidFindings(f"{where}.{name}: expected {kind}, got {type(item).__name__}", path=source)


# --- what a person reads before sending ---------------------------------------------------------


def preview_rows(doc: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """One row per unsubscribe and per message after it, as the preview table shows them."""
    for brand in doc["brands"]:
        name = brand_label(brand["brand_display"]) if brand["brand"] else brand["subject"]
        for unsub in brand["unsubscribes"]:
            yield {
                "brand": name,
                "what": f"you sent {unsub['keyword']}",
                "time": _short(unsub["sent_at"]),
                "number": unsub["number"] or WITHHELD,
                "status": unsub["status"] + ("; confirmed" if unsub["confirmed"] else "; not confirmed"),
                "text": "",
            }
            for msg in unsub["messages_after"]:
                yield {
                    "brand": name,
                    "what": "violation" if msg["kind"] in VIOLATION_KINDS else "within grace",
                    "time": _short(msg["received_at"]),
                    "number": msg["number"] or WITHHELD,
                    "status": msg["via"],
                    "text": msg["text"],
                }


WITHHELD = "(withheld)"


def _short(stamp: str) -> str:
    """``2025-09-10T12:15:00.000Z`` → ``2025-09-10 12:15`` (the file's times are cut to the minute)."""
    return stamp[:16].replace("T", " ")


def write_preview(doc: Mapping[str, Any], stream: TextIO) -> None:
    """What a findings file would share, for a person to read before sending it: two tables and
    what is left out. Texts are shown exactly as in the file (masked), terminal-safe."""
    import textwrap

    from sms_audit.output import Col, plural, table_width, visible, write_table

    width = table_width(stream)

    def paragraph(text: str) -> str:  # wrapped to the terminal, like the tables
        return textwrap.fill(text, width=width, break_on_hyphens=False) if width else text

    period = doc["period"]
    stream.write(
        visible(
            paragraph(
                f"Findings to share: donor id {doc['donor_id']} (random), region "
                f"{doc['region'] or 'unknown'}, policy {doc['policy']['name']}, {period['first_day'] or '?'} "
                f"to {period['last_day'] or '?'}, {plural(doc['messages_checked'], 'message')} checked."
            )
            + "\n\n",
        )
    )
    brands = [
        {
            "brand": brand_label(b["brand_display"]) if b["brand"] else b["subject"],
            "key": b["brand"],
            "numbers": [n["number"] for n in b["numbers"]],
            "unsubscribes": len(b["unsubscribes"]),
            "ignored": sum(u["status"] == "violated" for u in b["unsubscribes"]),
            "after": sum(len(u["messages_after"]) for u in b["unsubscribes"]),
        }
        for b in doc["brands"]
    ]
    if brands:
        # what a person must be able to read before sending: who, how many, and the texts
        write_table(
            brands,
            [
                Col("brand", "Brand", 100, free_text=True, min_width=12, max_width=24),
                Col("key", "Brand key", 30, free_text=True, min_width=8, max_width=16),
                Col("numbers", "Numbers", 50, free_text=True, min_width=14, max_width=40, noun="numbers"),
                Col("unsubscribes", "Unsubscribes", 90),
                Col("ignored", "Ignored", 95),
                Col("after", "Marketing after", 80),
            ],
            stream,
            title="Brands (merchant numbers only)",
        )
        write_table(
            preview_rows(doc),
            [
                Col("brand", "Brand", 90, free_text=True, min_width=12, max_width=16),
                Col("what", "What", 95),
                Col("time", "Time (UTC)", 85, compact=lambda t: t[:10]),
                Col("number", "Number", 60),
                Col("status", "Status", 40, free_text=True, min_width=10, max_width=28),
                Col("text", "Text (masked)", 100, free_text=True, min_width=20, max_width=60),
            ],
            stream,
            title="Each unsubscribe and the marketing after it (times UTC; texts masked)",
        )
    else:
        stream.write("No unsubscribe to a merchant was found: the file would hold no brand.\n")
    withheld = doc["withheld"]
    left_out = (
        "Not in the file: your chats, verification codes and notices, personal numbers, contact "
        "names, message ids and archive names"
        + (
            f"; {plural(withheld['unsubscribes'], 'unsubscribe')} to numbers a private person could hold"
            if withheld["unsubscribes"]
            else ""
        )
        + (
            f"; {plural(withheld['numbers'], 'such number')} of the brands above"
            if withheld["numbers"]
            else ""
        )
        + "."
    )
    stream.write(
        "\n"
        + paragraph(left_out)
        + "\n"
        + paragraph("sms-audit sends nothing: the file leaves this computer only if you send it.")
        + "\n"
    )
