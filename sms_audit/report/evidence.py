"""Evidence pack for one brand or number: timeline, summary, HTML page, sources with SHA-256, complaint texts."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sms_audit.errors import UsageError
from sms_audit.output import format_time, visible, write_csv
from sms_audit.report.analysis import VIOLATION, Finding, Report
from sms_audit.report.render import brand_label, md_escape, write_report_markdown
from sms_audit.report.timelines import Target  # what the pack is about: a brand or one number

if TYPE_CHECKING:
    import pandas as pd

TIMELINE_COLUMNS: tuple[str, ...] = (
    "message_id",
    "timestamp",
    "local_time",
    "direction",
    "address",
    "address_raw",
    "label",
    "brand_display",
    "finding",
    "via",
    "body",
    "reason",
    "source_file",
)
SOURCE_COLUMNS: tuple[str, ...] = ("name", "path", "size", "sha256", "format")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """An archive the messages came from, with what identifies it."""

    path: str
    size: int | None
    sha256: str | None
    format: str = ""

    @property
    def name(self) -> str:
        return Path(self.path).name


def _fold(text: str) -> str:
    return text.strip().strip("【】[]").casefold()


def resolve_target(report: Report, f: pd.DataFrame, target: str, region: str | None) -> Target:
    """Find the brand or number ``target`` names in ``f`` (a frame from :func:`prepare`); raises
    UsageError when none or several match."""
    from sms_audit.normalize import normalize_address

    if not any(ch.isalnum() for ch in target):
        raise UsageError(
            f"the evidence target {target!r} names no brand or number",
            hint="name a brand as the report shows it (e.g. 优选商城) or a sender number",
        )
    wanted = _fold(target)
    brands = (
        f.loc[(f["brand"].str.casefold() == wanted) | (f["brand_display"].str.casefold() == wanted), "brand"]
        .unique()
        .tolist()
    )
    if len(brands) > 1:
        raise UsageError(
            f"{target!r} matches several brands: {', '.join(sorted(brands))}",
            hint="pass the brand key exactly as the report shows it",
        )
    if not brands:
        key = normalize_address(target, region).key
        hits = f.loc[(f["address"] == key) | (f["address"] == target.strip())]
        if hits.empty:
            raise UsageError(
                f"no messages from or to {target!r}",
                hint="use a brand as the report shows it (e.g. 优选商城) or a sender number",
            )
        address = str(hits["address"].iloc[0])
        owned = [u for u in report.unsubscribes if u.address == address and u.brand]
        branded = hits.loc[(hits["direction"] == "in") & (hits["brand"] != ""), "brand"]
        brand = owned[0].brand if owned else (str(branded.mode().iloc[0]) if len(branded) else "")
        if not brand:
            return Target(subject=address, brand="", brand_display="", addresses=(address,))
        brands = [brand]
    brand = str(brands[0])
    inc = f.loc[(f["direction"] == "in") & (f["brand"] == brand)]
    addresses = set(inc["address"].astype(str)) | {u.address for u in report.unsubscribes if u.brand == brand}
    display = inc["brand_display"].mode()
    return Target(
        subject=brand,
        brand=brand,
        brand_display=str(display.iloc[0]) if len(display) else brand,
        addresses=tuple(sorted(addresses)),
    )


def _subreport(report: Report, target: Target) -> Report:
    import numpy as np

    subjects = {target.subject}
    items = report.findings
    findings = items.where(
        np.isin(items.subjects, list(subjects))
        | ((items.kinds == "trap") & np.isin(items.addresses(), list(target.addresses)))
    )
    return replace(
        report,
        findings=findings,
        unsubscribes=tuple(u for u in report.unsubscribes if u.subject in subjects),
        ledger=tuple(e for e in report.ledger if e.unsubscribe.subject in subjects),
        summary=tuple(s for s in report.summary if s.subject in subjects),
    )


def timeline(f: pd.DataFrame, report: Report, target: Target) -> list[dict[str, Any]]:
    """Every message to and from the target's numbers (other brands on a shared port left out);
    ``f`` is a frame from :func:`prepare`."""
    mask = f["address"].isin(list(target.addresses))
    if target.brand:
        mask &= (f["brand"] == target.brand) | (f["brand"] == "") | (f["direction"] == "out")
    rows = f.loc[mask.to_numpy(dtype=bool, na_value=False)]
    kinds = {x.message.message_id: x for x in report.findings}
    out = []
    for rec in rows.to_dict("records"):
        item = kinds.get(str(rec["message_id"]))
        moment = rec["timestamp"]
        out.append(
            {
                "message_id": rec["message_id"],
                "timestamp": moment,
                "local_time": moment.tz_convert(report.timezone).isoformat(),
                "direction": rec["direction"],
                "address": rec["address"],
                "address_raw": rec.get("address_raw", ""),
                "label": rec["label"],
                "brand_display": rec["brand_display"],
                "finding": item.kind
                if item
                else (
                    "unsubscribe" if rec["label"] == "unsubscribe-reply" and rec["direction"] == "out" else ""
                ),
                "via": item.via if item else "",
                "body": rec["body"],
                "reason": rec["reason"],
                "source_file": rec.get("source_file", ""),
            }
        )
    return out


def complaint_messages(report: Report) -> list[Finding]:
    """Only marketing after the grace period: codes and notices never go into complaints (12321 advice)."""
    return [f for f in report.findings if f.kind == VIOLATION and f.message.label == "marketing"]


def _cn_number(address: str) -> str:
    return address.removeprefix("+86")


def _one_line(text: str) -> str:
    return visible(" ".join(text.split()), keep_newlines=False)


def complaint_texts(report: Report, target: Target) -> dict[str, str]:
    """Ready-to-send texts per channel (OPT-OUT-RULES.md §10), marketing messages only."""
    items = complaint_messages(report)
    who = brand_label(target.brand_display) if target.brand else target.subject
    if not items:
        note = (
            f"No marketing message from {who} after the grace period was found, so there is nothing to "
            "report. Verification codes and notices are never included in complaints.\n"
        )
        return dict.fromkeys(
            ("12321.txt", "10086999.txt", "10010.txt", "10000999.txt", "7726.txt", "fcc.txt"), note
        )
    head = (
        "# One SMS per line. Marketing messages only: verification codes and notices are left out on "
        "purpose (reporting them can get all SMS to you blocked).\n"
    )

    def lines(fmt: str) -> str:
        return head + "".join(
            fmt.format(number=_cn_number(i.message.address), body=_one_line(i.message.body)) + "\n"
            for i in items
        )

    forward = [
        "Forward each message below to 7726 (UK / Canada). When the carrier replies asking for the sender's",
        "number, reply with the number shown. Marketing messages only.",
        "",
    ]
    for i in items:
        forward += [
            f"Received {i.message.local_time} from {i.message.address}:",
            _one_line(i.message.body),
            "",
        ]
    fcc = [
        "FCC consumer complaint (consumercomplaints.fcc.gov, Phone > Unwanted texts).",
        "NOTE: the FCC form's exact field list was not verified; copy these values into the matching fields.",
        "",
    ]
    first = next((u for u in report.unsubscribes), None)
    for n, i in enumerate(items, 1):
        unsub = i.unsubscribe
        fcc += [
            f"--- message {n} ---",
            "Method of communication: Text message",
            f"Date and time received: {i.message.local_time} ({report.timezone})",
            f"Phone number that sent the text: {i.message.address}",
            f"Company / brand named in the text: {who}",
            (
                "Did you ask them to stop? Yes: replied "
                f'"{unsub.keyword if unsub else ""}" to {unsub.address if unsub else ""} on '
                f"{unsub.message.local_time if unsub else ''}"
            ),
            f"Message text: {_one_line(i.message.body)}",
            f"Description: {_one_line(i.explanation)}",
            "",
        ]
    if first is None:
        fcc.append("No unsubscribe reply was found.")
    return {
        "12321.txt": lines("{number}*{body}"),
        "10086999.txt": lines("{number}*{body}"),
        "10010.txt": lines("ljdxjb#{number}#{body}"),
        "10000999.txt": lines("{number}:{body}"),
        "7726.txt": "\n".join(forward) + "\n",
        "fcc.txt": "\n".join(fcc) + "\n",
    }


_HOWTO = """
## How to complain

Only marketing messages after the grace period are in the complaint texts; verification codes and
notices are left out on purpose (12321 warns that reporting them can get all SMS to you blocked).

| channel | file | how |
|---|---|---|
| China: 12321 | `complaints/12321.txt` | send each line as an SMS to 12321 (`号码*内容`), or use www.12321.cn |
| China Mobile | `complaints/10086999.txt` | send each line as an SMS to 10086999 |
| China Unicom | `complaints/10010.txt` | send each line as an SMS to 10010 (`ljdxjb#号码#内容`) |
| China Telecom | `complaints/10000999.txt` | send each line as an SMS to 10000999 (`号码:全文`) |
| UK / Canada: 7726 | `complaints/7726.txt` | forward each message to 7726, then send the number when asked |
| US: FCC | `complaints/fcc.txt` | values for the FCC consumer complaint form (field list not verified) |

`report.html` shows the brand's timeline and messages (open it in any browser; it loads nothing from
the network and prints well); `timeline.csv` lists every message to and from the brand's numbers;
`sources.csv` names the archives with their size and SHA-256; `manifest.json` holds the SHA-256 of
every file in this folder.
sms-audit never sends anything: you decide what to send.
"""


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def _write(path: Path, text: str) -> None:
    """Create ``path`` (0600); never overwrite a file or follow a symlink planted in its place."""
    try:
        fd = os.open(path, _NEW_FILE, 0o600)
    except FileExistsError:
        raise UsageError(
            f"{path.name} already exists in {path.parent}",
            hint="write the pack into a new folder (an evidence pack is never overwritten)",
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def _prepare_folder(out_dir: Path, names: Sequence[str]) -> None:
    """Create the pack's folders (0700) and check that none of its files exists yet."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        complaints = out_dir / "complaints"
        if complaints.is_symlink():
            raise UsageError(
                "complaints is a symbolic link", path=str(out_dir), hint="use a new folder for the pack"
            )
        complaints.mkdir(exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UsageError(f"cannot create the folder: {exc.strerror}", path=str(out_dir)) from None
    taken = [name for name in names if os.path.lexists(out_dir / name)]
    if taken:
        raise UsageError(
            f"{taken[0]} already exists in {out_dir}",
            hint="write the pack into a new folder (an evidence pack is never overwritten)",
        )


def write_evidence(
    report: Report,
    frame: pd.DataFrame,
    target: Target,
    out_dir: Path,
    sources: Sequence[SourceFile],
    *,
    generated_at: datetime | None = None,
) -> list[Path]:
    """Write the pack into ``out_dir`` (created private, 0700); returns the files written.

    ``frame`` is the classified frame after :func:`~sms_audit.report.analysis.prepare`.
    """
    sub = _subreport(report, target)
    complaints = complaint_texts(sub, target)
    created = [d for d in (out_dir, out_dir / "complaints") if not d.exists()]
    _prepare_folder(
        out_dir,
        [
            "timeline.csv",
            "summary.md",
            "sources.csv",
            "manifest.json",
            "report.html",
            *(f"complaints/{n}" for n in complaints),
        ],
    )
    written: list[Path] = []
    try:
        buffer = io.StringIO()
        write_csv(timeline(frame, sub, target), TIMELINE_COLUMNS, buffer)
        written.append(out_dir / "timeline.csv")
        _write(written[-1], buffer.getvalue())

        buffer = io.StringIO()
        write_report_markdown(sub, buffer)
        text = buffer.getvalue().replace(
            "# sms-audit report: messages after you unsubscribed",
            f"# Evidence: {md_escape(target.brand_display or target.subject)}",
            1,
        )
        text += (
            _HOWTO
            + "\n## Source archives\n\n"
            + "".join(
                f"- {md_escape(s.name)}: {s.size if s.size is not None else '?'} bytes, SHA-256 `{s.sha256 or '?'}`\n"
                for s in sources
            )
        )
        written.append(out_dir / "summary.md")
        _write(written[-1], text)

        from sms_audit.report.html_report import write_report_html  # imports matplotlib

        buffer = io.StringIO()
        write_report_html(
            sub,
            buffer,
            targets=[target],
            generated_at=generated_at,
            title=f"Evidence: {brand_label(target.brand_display) if target.brand else target.subject}",
        )
        written.append(out_dir / "report.html")
        _write(written[-1], buffer.getvalue())

        buffer = io.StringIO()
        write_csv(
            (
                {"name": s.name, "path": s.path, "size": s.size, "sha256": s.sha256, "format": s.format}
                for s in sources
            ),
            SOURCE_COLUMNS,
            buffer,
        )
        written.append(out_dir / "sources.csv")
        _write(written[-1], buffer.getvalue())

        for name, body in complaints.items():
            written.append(out_dir / "complaints" / name)
            _write(written[-1], body)

        manifest = {
            "schema_version": 1,
            "generated_at": format_time(generated_at or datetime.now(UTC)),
            "target": {
                "subject": target.subject,
                "brand": target.brand,
                "brand_display": target.brand_display,
                "numbers": list(target.addresses),
            },
            "policy": report.policy.to_record(),
            "timezone": report.timezone,
            "sources": [
                {"name": s.name, "path": s.path, "size": s.size, "sha256": s.sha256} for s in sources
            ],
            "files": [
                {
                    "name": str(p.relative_to(out_dir)),
                    "size": p.stat().st_size,
                    "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                }
                for p in written
            ],
            "complaint_messages": [i.message.message_id for i in complaint_messages(sub)],
        }
        written.append(out_dir / "manifest.json")
        _write(written[-1], json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    except BaseException:
        # interrupted (Ctrl-C, SIGTERM) or failed: no half pack, which would also block the rerun
        for path in written:
            path.unlink(missing_ok=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):  # only when empty: never anything of the user's
                folder.rmdir()
        raise
    return written
