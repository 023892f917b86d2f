"""``--format html``: one self-contained page with timelines, for people and the officials they
complain to.

The page loads nothing: no script (the Content-Security-Policy forbids every script and every
fetch), no font, no stylesheet, no image file; charts are inline SVG (:mod:`.charts`). It prints
on A4/Letter (a print stylesheet). Every piece of message text, number and name is escaped here,
control characters made visible. With a redacted report (``--redact``), what comes from the
unredacted ``Report.frame`` (numbers on the charts, the message you replied to) is masked with the
same functions as the rest.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from sms_audit import __version__
from sms_audit.output import visible
from sms_audit.report.analysis import (
    CONFIRMATION,
    CONFIRMATION_WITH_MARKETING,
    EXTRA_CONFIRMATION,
    LATE_CONFIRMATION,
    NON_MARKETING,
    VIOLATION,
    VIOLATION_KINDS,
    WITHIN_GRACE,
    Finding,
    MessageRef,
    Report,
    SubjectSummary,
    Unsubscribe,
)
from sms_audit.report.records import counts
from sms_audit.report.render import brand_label, footer_lines
from sms_audit.report.timelines import Target

# Script none, fetch none: the page is a document, nothing in it may run or load.
CSP = (
    "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'"
)

_KIND_TEXT = {
    VIOLATION: ("violation", "bad"),
    CONFIRMATION_WITH_MARKETING: ("violation: confirmation with advertising", "bad"),
    WITHIN_GRACE: ("within grace (not counted)", "grace"),
    CONFIRMATION: ("confirmation", "ok"),
    LATE_CONFIRMATION: ("late confirmation", "flag"),
    EXTRA_CONFIRMATION: ("extra confirmation", "flag"),
    NON_MARKETING: ("code or notice (not counted)", "muted"),
}
_STATUS_CLASS = {
    "violated": "bad",
    "replied to trap": "trap",
    "within grace": "grace",
    "honoured": "ok",
    "re-subscribed": "muted",
}
#: Findings listed under a timeline; the chart still shows every violation.
MAX_LISTED = 300
#: Timelines on one page, worst brands first (the summary table still lists every brand).
MAX_TIMELINES = 40
_CJK = re.compile("[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _e(text: object) -> str:
    """Escaped, one line, control characters visible."""
    return html.escape(visible(str(text), keep_newlines=False), quote=True)


def _block(text: str) -> str:
    """Escaped, newlines kept (the cell shows them with ``white-space: pre-wrap``)."""
    return html.escape(visible(text, keep_newlines=True), quote=True)


def _when(moment: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(tz)).strftime(fmt)


def _day(moment: datetime | None, tz: str) -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(tz)).strftime("%-d %b %Y")


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _who(row: SubjectSummary) -> str:
    return brand_label(row.brand_display or row.brand) if row.brand else row.subject


class _Page:
    """Builds the page for one report; ``show_number`` masks frame numbers for ``--redact``."""

    def __init__(
        self, report: Report, targets: Sequence[Target] | None, generated_at: datetime, title: str | None
    ) -> None:
        from sms_audit.report.redact import mask_address, redact_text

        self.report = report
        self.tz = report.timezone
        self.redacted = bool(report.meta.get("redacted", False))
        self.show_number: Callable[[str], str] = mask_address if self.redacted else (lambda a: a)
        self.show_text: Callable[[str, str], str] = (
            (lambda text, label: redact_text(text, verification=label == "verification"))
            if self.redacted
            else (lambda text, label: text)
        )
        self.generated_at = generated_at
        self.title = title or "Who kept messaging after you unsubscribed"
        self.counts = counts(report)
        self.text_lang = {"TW": "zh-TW", "HK": "zh-HK", "MO": "zh-HK", "JP": "ja", "KR": "ko"}.get(
            report.region or "", "zh-CN"
        )
        self.targets = list(targets) if targets is not None else self._violating_targets()
        self.untimed = self.targets[MAX_TIMELINES:]
        self.targets = self.targets[:MAX_TIMELINES]
        self.section_of = {t.subject: f"brand-{i + 1}" for i, t in enumerate(self.targets)}
        self.owner = None
        if report.frame is not None and self.targets:
            from sms_audit.report.timelines import row_owners

            self.owner = row_owners(report.frame, self.targets)

    def _violating_targets(self) -> list[Target]:
        from sms_audit.report.timelines import summary_targets

        targets = summary_targets(self.report)  # [] without a frame: no charts then
        if not targets:
            return []
        return [t for t, row in zip(targets, self.report.summary, strict=True) if row.violations]

    # --- pieces --------------------------------------------------------------------------------

    def _lang(self, text: str) -> str:
        return f' lang="{self.text_lang}"' if _CJK.search(text) else ""

    def _number(self, shown: str) -> str:
        return f'<span class="num">{_e(shown)}</span>'

    def _badge(self, text: str, css: str) -> str:
        return f'<span class="badge {css}">{_e(text)}</span>'

    def _status(self, status: str) -> str:
        return self._badge(status, _STATUS_CLASS.get(status, "muted"))

    def _head(self) -> str:
        title = f"sms-audit: {self.title}"
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="color-scheme" content="light">\n'
            f'<meta name="generator" content="sms-audit {_e(__version__)}">\n'
            '<link rel="icon" href="data:,">\n'
            f"<title>{_e(title)}{' (redacted)' if self.redacted else ''}"
            f"{': ' + _e(self._period()) if self._period() else ''}</title>\n"
            f"<style>{STYLE}</style>\n</head>\n"
        )

    def _period(self) -> str:
        r = self.report
        if r.first_message is None or r.last_message is None:
            return ""
        return f"{_day(r.first_message, self.tz)} – {_day(r.last_message, self.tz)}"

    def _headline(self) -> str:
        r, c = self.report, self.counts
        period = ""
        if r.first_message and r.last_message:
            period = f"From {_day(r.first_message, self.tz)} to {_day(r.last_message, self.tz)}, "
        parts: list[str] = []
        if not c["unsubscribes"]:
            checked = r.messages_checked
            text = (
                f"no unsubscribe replies (TD, T, R, 退订, STOP …) were found among the {checked:,} "
                f"message{'' if checked == 1 else 's'} checked, so there is no sender to hold to one."
            )
            parts.append(_e(period + text if period else text[0].upper() + text[1:]))
        else:
            parts.append(
                _e(
                    f"{period}{'you' if period else 'You'} sent "
                    f"{_plural(c['unsubscribe_replies'], 'unsubscribe reply', 'unsubscribe replies')} to "
                    f"{_plural(c['unsubscribes'], 'number')}; {c['confirmed']} "
                    f"{'was' if c['confirmed'] == 1 else 'were'} confirmed."
                )
            )
            bad = [row for row in r.summary if row.violations]
            if bad:
                named = ", ".join(
                    f"<strong{self._lang(_who(row))}>{_e(_who(row))}</strong> "
                    + _e(
                        f"({_plural(row.violations, 'message')}"
                        + (f", {row.via_other_numbers} from other numbers" if row.via_other_numbers else "")
                        + ")"
                    )
                    for row in bad[:5]
                )
                more = _e(f" and {len(bad) - 5} more") if len(bad) > 5 else ""
                parts.append(
                    _e(f"{_plural(len(bad), 'sender')} kept sending marketing after the grace period: ")
                    + named
                    + more
                    + "."
                )
            else:
                parts.append(
                    _e(
                        "No sender sent marketing after the grace period. That does not prove they comply: "
                        "see what was checked at the end."
                    )
                )
        if c["traps"]:
            n, replied = c["traps"], c["traps_replied"]
            text = (
                "1 message looked like an unsubscribe trap"
                if n == 1
                else f"{n} messages looked like unsubscribe traps"
            )
            if replied:
                text += ", and you replied to it" if n == 1 else f", and you replied to {replied} of them"
            parts.append(_e(text + ": do not reply to messages like these."))
        return "".join(f'<p class="lede">{p}</p>' for p in parts)

    def _policy_sentence(self) -> str:
        p = self.report.policy
        basis = "set by law" if p.kind == "statutory" else "a default chosen by sms-audit, not law"
        return (
            f"Rules: <strong>{_e(p.name)}</strong> ({_e(p.jurisdiction)}). Marketing that arrives more "
            f"than <strong>{_e(p.grace_text)}</strong> after your unsubscribe is a violation ({_e(basis)}). "
            f"Source: {_e(p.source)}. Times are in {_e(self.tz)}."
        )

    def _cards(self) -> str:
        c = self.counts
        ignored = sum(1 for e in self.report.ledger if e.status == "violated")
        cards = [
            ("Messages checked", f"{self.report.messages_checked:,}", ""),
            ("Unsubscribes sent", str(c["unsubscribes"]), ""),
            ("Confirmed", str(c["confirmed"]), ""),
            ("Ignored", str(ignored), "bad" if ignored else ""),
            ("Violating messages", str(c["violations"]), "bad" if c["violations"] else ""),
            ("Suspected traps", str(c["traps"]), "trap" if c["traps"] else ""),
        ]
        return (
            '<dl class="cards">'
            + "".join(
                f'<div class="card {css}"><dt>{_e(label)}</dt><dd>{_e(value)}</dd></div>'
                for label, value, css in cards
            )
            + "</dl>"
        )

    def _summary_table(self) -> str:
        r = self.report
        if not r.summary:
            return '<p class="muted">No unsubscribe replies were found in this archive.</p>'
        head = (
            '<tr><th>Brand / sender</th><th>Status</th><th class="n">Violating messages</th>'
            '<th class="n">From other numbers</th><th class="n">Within grace</th><th>First unsubscribe</th>'
            "<th>Confirmed?</th><th>Last violation</th><th>Numbers used</th></tr>"
        )
        rows = []
        for row in r.summary:
            who = _who(row)
            anchor = self.section_of.get(row.subject)
            name = f'<a href="#{anchor}">{_e(who)}</a>' if anchor else _e(who)
            numbers = ", ".join(self._number(n) for n in row.numbers[:6])
            if len(row.numbers) > 6:
                numbers += _e(f" (+{len(row.numbers) - 6} more)")
            rows.append(
                f'<tr class="{_STATUS_CLASS.get(row.status, "")}">'
                f"<td{self._lang(who)}>{name}</td><td>{self._status(row.status)}</td>"
                f'<td class="n">{row.violations}</td><td class="n">{row.via_other_numbers}</td>'
                f'<td class="n">{row.within_grace}</td>'
                f'<td class="when">{_e(_when(row.first_unsubscribe, self.tz))} '
                f"<span{self._lang(row.keyword)}>“{_e(row.keyword)}”</span></td>"
                f"<td>{_e(row.confirmed)}</td>"
                f'<td class="when">{_e(_when(row.last_violation, self.tz))}</td>'
                f'<td class="numbers">{numbers}</td></tr>'
            )
        return (
            '<div class="scroll"><table class="summary">'
            f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div>"
        )

    # --- a brand ---------------------------------------------------------------------------------

    def _prompt(self, unsub: Unsubscribe) -> MessageRef | None:
        """The last message received from that number before the reply (what it most likely answered)."""
        from dataclasses import replace

        f = self.report.frame
        if f is None:
            return None
        sent = f.loc[f["message_id"] == unsub.unsubscribe_id]
        if sent.empty:
            return None
        address = sent["address"].iloc[0]
        before = f.loc[
            (f["address"] == address)
            & (f["direction"] == "in")
            & (f["timestamp"] < sent["timestamp"].iloc[0])
        ]
        if before.empty:
            return None
        rec = before.iloc[-1]
        moment = rec["timestamp"].to_pydatetime()
        label = str(rec["label"])
        ref = MessageRef(
            message_id=str(rec["message_id"]),
            timestamp=moment,
            local_time=moment.astimezone(ZoneInfo(self.tz)).isoformat(),
            direction="in",
            address=str(rec["address"]),
            address_raw=str(rec.get("address_raw", "")),
            sender_kind=str(rec.get("sender_kind", "")),
            body=str(rec["body"]),
            label=label,
            reason=str(rec["reason"]),
            brand=str(rec["brand"]),
            brand_display=str(rec["brand_display"]),
            source_file=str(rec.get("source_file", "")),
        )
        return replace(
            ref,
            address=self.show_number(ref.address),
            address_raw=self.show_number(ref.address_raw),
            body=self.show_text(ref.body, label),
        )

    def _story(self, target: Target, row: SubjectSummary | None, unsubs: Sequence[Unsubscribe]) -> str:
        who = brand_label(target.brand_display or target.brand) if target.brand else target.subject
        if not unsubs:
            return f"<p>No unsubscribe reply to {_e(who)} was found in this archive.</p>"
        first = min(unsubs, key=lambda u: u.message.timestamp)
        entries = [e for e in self.report.ledger if e.unsubscribe.subject == target.subject]
        confirmed = any(e.confirmed for e in entries)
        text = (
            f"You replied “{_e(first.keyword)}” to {self._number(first.address)} on "
            f"{_e(_when(first.message.timestamp, self.tz))}. "
            + ("A confirmation came. " if confirmed else "No confirmation came. ")
            + f"The grace period of {_e(self.report.policy.grace_text)} ended "
            f"{_e(_when(first.deadline, self.tz))}. "
        )
        if row is not None and row.violations:
            violations = self.report.violations
            numbers = set(
                violations.where(violations.shown_subjects() == target.subject).addresses().tolist()
            )
            text += (
                f"After it, {_e(who)} sent <strong>{_plural(row.violations, 'marketing message')}</strong> "
                f"from {_plural(len(numbers), 'number')}"
                + (
                    f", {row.via_other_numbers} of them from numbers other than the one you replied to"
                    if row.via_other_numbers
                    else ""
                )
                + f"; the last on {_e(_when(row.last_violation, self.tz))}."
            )
        elif row is not None:
            text += f"Status: {self._status(row.status)}."
        if len(unsubs) > 1:
            text += f" You unsubscribed {_plural(len(unsubs), 'time')} in all."
        return f"<p{self._lang(who)}>{text}</p>"

    def _message_rows(
        self, target: Target, unsubs: Sequence[Unsubscribe], findings: Sequence[Finding]
    ) -> str:
        """The unsubscribes and what came after, in time order; past :data:`MAX_LISTED` findings
        codes and notices go first, then the latest messages (the page stays small; the evidence
        pack lists every one)."""
        notices = 0
        later = 0
        if len(findings) > MAX_LISTED:
            kept = [f for f in findings if f.kind != NON_MARKETING]
            notices = len(findings) - len(kept)
            later = max(0, len(kept) - MAX_LISTED)
            findings = sorted(kept, key=lambda f: f.message.timestamp)[:MAX_LISTED]
        items: list[tuple[datetime, str]] = []
        for unsub in unsubs:
            prompt = self._prompt(unsub)
            if prompt is not None:
                items.append(
                    (prompt.timestamp, self._row(prompt, "last message before your reply", "muted", ""))
                )
            items.append((unsub.message.timestamp, self._row(unsub.message, "your unsubscribe", "you", "")))
            if unsub.resubscribe is not None:
                items.append(
                    (
                        unsub.resubscribe.timestamp,
                        self._row(unsub.resubscribe, "you re-subscribed", "you", ""),
                    )
                )
        for item in findings:
            text, css = _KIND_TEXT.get(item.kind, (item.kind, "muted"))
            if item.kind in VIOLATION_KINDS and item.via == "other-number":
                text += " (another number)"
            items.append((item.message.timestamp, self._row(item.message, text, css, item.finding_id)))
        items.sort(key=lambda pair: pair[0])
        head = (
            "<tr><th>When</th><th>Number</th><th>What</th><th>Message</th><th>Rule that labelled it</th></tr>"
        )
        omitted = []
        if later:
            omitted.append(
                f"{_plural(later, 'later message')} after {_when(findings[-1].message.timestamp, self.tz)}"
            )
        if notices:
            omitted.append(f"{_plural(notices, 'code or notice', 'codes and notices')} (not violations)")
        note = ""
        if omitted:
            who = target.brand_display or target.brand or target.subject
            note = (
                f'<tr class="omitted"><td colspan="5">Not listed here: {_e(" and ".join(omitted))}. '
                f"<code>sms-audit evidence {_e(who)} -o DIR</code> writes every message to "
                "<code>timeline.csv</code>.</td></tr>"
            )
        return (
            '<div class="scroll"><table class="messages"><thead>'
            + head
            + "</thead><tbody>"
            + "".join(row for _, row in items)
            + note
            + "</tbody></table></div>"
        )

    def _row(self, ref: MessageRef, what: str, css: str, finding_id: str) -> str:
        reason = self.show_text(ref.reason, ref.label)
        attrs = f' data-finding="{_e(finding_id)}"' if finding_id else ""
        return (
            f'<tr class="{css}"{attrs}><td class="when">{_e(_when(ref.timestamp, self.tz))}</td>'
            f"<td>{self._number(ref.address)}</td><td>{self._badge(what, css)}</td>"
            f'<td class="body"{self._lang(ref.body)}>{_block(ref.body)}</td>'
            f'<td class="rule"{self._lang(reason)}>{_e(reason)}</td></tr>'
        )

    def _brand(self, index: int, target: Target) -> str:
        from sms_audit.report.charts import timeline_svg
        from sms_audit.report.timelines import timeline_data

        r = self.report
        row = next((s for s in r.summary if s.subject == target.subject), None)
        unsubs = sorted(
            (u for u in r.unsubscribes if u.subject == target.subject), key=lambda u: u.message.timestamp
        )
        candidates = r.unsubscribe_findings
        findings = list(candidates.where(candidates.shown_subjects() == target.subject))
        since = unsubs[0].message.timestamp if unsubs else None
        data = timeline_data(r, target, since=since, rows=None if self.owner is None else self.owner == index)
        who = brand_label(target.brand_display or target.brand) if target.brand else target.subject
        violations = [f for f in findings if f.kind in VIOLATION_KINDS]
        numbers = data.messages["address"].nunique()
        received = int((data.messages["direction"] == "in").sum())
        desc = (
            f"Timeline of {who}: {received} messages received from {numbers} numbers between "
            f"{data.start:%Y-%m-%d} and {data.end:%Y-%m-%d}, by {data.bin}. "
            + " ".join(
                f'Unsubscribe "{u.keyword}" sent {_when(u.message.timestamp, self.tz)}, grace until '
                f"{_when(u.deadline, self.tz)}."
                for u in unsubs
            )
            + f" {_plural(len(violations), 'violating message')} highlighted."
        )
        anchor = self.section_of[target.subject]
        svg = timeline_svg(
            data,
            unsubscribes=unsubs,
            findings=findings,
            tz=self.tz,
            chart_id=f"t{index + 1}",
            title=f"{visible(who, keep_newlines=False)}: messages over time",
            desc=visible(desc, keep_newlines=False),
            show_number=self.show_number,
            grace_text=r.policy.grace_text,
        )
        earlier = (
            f" {_plural(data.earlier, 'earlier message')} before {data.start:%Y-%m-%d} are not drawn."
            if data.earlier
            else ""
        )
        caption = (
            f"Every message to and from {_e(who)}’s numbers, one row per number; bars count what arrived "
            f"each {data.bin}. "
            + (
                f"Rings mark the {_plural(len(violations), 'violation')}. "
                if violations
                else "No violation. "
            )
            + ("The dashed line is your unsubscribe, the yellow band its grace period." if unsubs else "")
            + _e(earlier)
        )
        status = self._status(row.status) if row is not None else ""
        return (
            f'<section class="brand" id="{anchor}" data-subject="{_e(target.subject)}" '
            f'data-violations="{len(violations)}">'
            f"<h3><span{self._lang(who)}>{_e(who)}</span> {status}</h3>"
            + self._story(target, row, unsubs)
            + f'<figure class="chart timeline">{svg}<figcaption>{caption}</figcaption></figure>'
            + (
                "<h4>The messages</h4>" + self._message_rows(target, unsubs, findings)
                if unsubs or findings
                else ""
            )
            + "</section>"
        )

    # --- archive, ledger, traps, footer ------------------------------------------------------------

    def _overview(self) -> str:
        from sms_audit.report.charts import LABEL_STYLE, overview_svg
        from sms_audit.report.timelines import monthly_labels, violations_by_month

        table = monthly_labels(self.report)
        if table.empty:
            return ""
        by_month = violations_by_month(self.report)
        total = int(table.to_numpy().sum())
        busiest = table.sum(axis=1).idxmax()
        desc = (
            f"{total} messages over {len(table)} months, {table.index[0]} to {table.index[-1]}; busiest month "
            f"{busiest}. Marketing: {int(table['marketing'].sum())}, verification codes: "
            f"{int(table['verification'].sum())}. "
            + (
                "Violations in " + ", ".join(f"{m} ({n})" for m, n in sorted(by_month.items())) + "."
                if by_month
                else "No violations."
            )
        )
        svg = overview_svg(table, by_month, chart_id="ov", title="Messages per month by label", desc=desc)
        head = "<tr><th>Month</th>" + "".join(
            f'<th class="n">{_e(LABEL_STYLE[c][1])}</th>' for c in table.columns
        )
        head += '<th class="n">violations</th></tr>'
        body = "".join(
            f"<tr><td>{_e(month)}</td>"
            + "".join(f'<td class="n">{int(v)}</td>' for v in values)
            + f'<td class="n">{by_month.get(month, 0)}</td></tr>'
            for month, values in zip(table.index, table.to_numpy(), strict=True)
        )
        return (
            '<section id="overview"><h2>The archive, month by month</h2>'
            f'<figure class="chart">{svg}<figcaption>All {total:,} messages checked, sent and received, by the '
            "label the classifier gave them"
            + ("; ▼ marks months with violations." if by_month else ".")
            + "</figcaption></figure>"
            f'<details><summary>The numbers behind the chart</summary><div class="scroll"><table class="months">'
            f"<thead>{head}</thead><tbody>{body}</tbody></table></div></details></section>"
        )

    def _ledger(self) -> str:
        from sms_audit.report.charts import ledger_svg

        ledger = self.report.ledger
        if not ledger:
            return ""
        sent = sum(e.unsubscribe.replies for e in ledger)
        confirmed = sum(1 for e in ledger if e.confirmed)
        ignored = sum(1 for e in ledger if e.status == "violated")
        headline = (
            f"{_plural(sent, 'unsubscribe reply', 'unsubscribe replies')} sent to {_plural(len(ledger), 'number')}, "
            f"{confirmed} confirmed, {ignored} ignored"
        )
        statuses = ", ".join(
            f"{sum(1 for e in ledger if e.status == s)} {s}" for s in dict.fromkeys(e.status for e in ledger)
        )
        svg = ledger_svg(
            ledger,
            chart_id="lg",
            title="What became of your unsubscribes",
            desc=f"{headline}. {statuses}.",
        )
        rows = []
        for e in ledger:
            u = e.unsubscribe
            who = brand_label(u.brand_display) if u.brand else u.subject
            anchor = self.section_of.get(u.subject)
            name = f'<a href="#{anchor}">{_e(who)}</a>' if anchor else _e(who)
            rows.append(
                f'<tr class="{_STATUS_CLASS.get(e.status, "")}"><td{self._lang(who)}>{name}</td>'
                f"<td>{self._number(u.address)}</td><td>{_e(_when(u.message.timestamp, self.tz))}</td>"
                f'<td{self._lang(u.keyword)}>{_e(u.keyword)}</td><td class="n">{u.replies}</td>'
                f'<td>{"yes" if e.confirmed else "no"}</td><td class="n">{e.violations}</td>'
                f'<td>{self._status(e.status)}</td><td class="n">{e.days_since}</td></tr>'
            )
        head = (
            "<tr><th>Brand / sender</th><th>Number</th><th>Sent</th><th>Keyword</th>"
            '<th class="n">Replies</th><th>Confirmed</th><th class="n">Violations</th><th>Status</th>'
            '<th class="n">Days observed</th></tr>'
        )
        return (
            f'<section id="ledger"><h2>Unsubscribe ledger</h2><p class="big">{_e(headline)}.</p>'
            f'<figure class="chart ledger">{svg}<figcaption>Each unsubscribe you sent and what happened '
            "after it.</figcaption></figure>"
            f'<div class="scroll"><table class="ledger"><thead>{head}</thead><tbody>{"".join(rows)}</tbody>'
            "</table></div></section>"
        )

    def _traps(self) -> str:
        traps = self.report.traps
        if not traps:
            return ""
        rows = []
        for t in traps:
            replied = (
                self._badge("you replied", "bad")
                + f'<br><span class="when">{_e(_when(t.reply.timestamp, self.tz))}</span>'
                + "<br>do not reply again"
                if t.reply is not None
                else "no"
            )
            reason = self.show_text(t.trap_reason, t.message.label)
            rows.append(
                f'<tr class="trap"><td class="when">{_e(_when(t.message.timestamp, self.tz))}</td>'
                f"<td>{self._number(t.message.address)}</td><td{self._lang(reason)}>{_e(reason)}</td>"
                f'<td>{replied}</td><td class="body"{self._lang(t.message.body)}>{_block(t.message.body)}</td></tr>'
            )
        return (
            '<section id="traps" class="callout trap"><h2>Suspected unsubscribe traps: do not reply</h2>'
            "<p><strong>Do not reply to messages like these.</strong> They ask for a reply to unsubscribe "
            "but come from a personal mobile, carry no sender signature, or ask you to confirm: a reply "
            "only tells the sender your number is in use. Block the number or report it instead.</p>"
            '<div class="scroll"><table class="traps"><thead><tr><th>When</th><th>Number</th><th>Why it looks '
            "like a trap</th><th>Replied?</th><th>Message</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table></div></section>"
        )

    def _footer(self) -> str:
        r = self.report
        lines = footer_lines(r)
        notes = [line.removeprefix("Note: ") for line in lines if line.startswith("Note: ")]
        checked = [line for line in lines if not line.startswith("Note: ")]
        sources = "".join(f"<li><code>{_e(s)}</code></li>" for s in r.sources) or "<li>not recorded</li>"
        redacted = (
            "<p><strong>Redacted:</strong> personal phone numbers (last 4 digits kept), verification codes "
            "and names are masked; merchants' numbers are kept, they are the evidence.</p>"
            if self.redacted
            else ""
        )
        return (
            '<footer id="checked"><h2>What was checked</h2>'
            + "".join(f"<p>{_e(line)}</p>" for line in checked)
            + redacted
            + f"<h3>Source files</h3><ul>{sources}</ul>"
            + "<h3>Caveats</h3><ul>"
            + "".join(f"<li>{_e(n)}</li>" for n in notes)
            + "</ul>"
            + f'<p class="muted">Made by sms-audit {_e(__version__)} on '
            f"{_e(self.generated_at.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC'))}, offline: this page loads "
            "nothing from the network and runs no script.</p></footer>"
        )

    def _nav(self) -> str:
        links = [("summary", "Summary")]
        if self.targets:
            links.append(("brands", "Timelines"))
        links += [("overview", "Month by month")]
        if self.report.ledger:
            links.append(("ledger", "Unsubscribe ledger"))
        if self.report.traps:
            links.append(("traps", "Traps"))
        links.append(("checked", "What was checked"))
        return '<nav class="toc">' + " ".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in links) + "</nav>"

    def render(self) -> Iterable[str]:
        r = self.report
        yield self._head()
        yield '<body>\n<main>\n<header class="top">'
        yield (
            f'<p class="eyebrow">sms-audit report{" · redacted" if self.redacted else ""}'
            f"{' · ' + _e(self._period()) if self._period() else ''}</p>"
        )
        yield f"<h1>{_e(self.title)}</h1>"
        yield self._headline()
        yield f'<p class="policy">{self._policy_sentence()}</p>'
        yield "</header>\n"
        yield self._nav()
        yield f'<section id="summary"><h2>Summary</h2>{self._cards()}{self._summary_table()}</section>\n'
        if self.targets:
            bad = {row.subject for row in r.summary if row.violations}
            heading = (
                "Timelines of the senders that ignored you"
                if all(t.subject in bad for t in self.targets)
                else ("Timeline" if len(self.targets) == 1 else "Timelines")
            )
            yield f'<section id="brands"><h2>{_e(heading)}</h2>'
            for i, target in enumerate(self.targets):
                yield self._brand(i, target)
                yield "\n"
            if self.untimed:
                yield (
                    f'<p class="muted">{_e(_plural(len(self.untimed), "more sender"))} violated (see the '
                    "summary); their timelines are left out to keep this page small. "
                    "<code>sms-audit evidence BRAND -o DIR</code> draws any one of them.</p>"
                )
            yield "</section>\n"
        yield self._overview()
        yield "\n"
        yield self._ledger()
        yield "\n"
        yield self._traps()
        yield "\n"
        yield self._footer()
        yield "\n</main>\n</body>\n</html>\n"


def write_report_html(
    report: Report,
    stream: TextIO,
    *,
    targets: Sequence[Target] | None = None,
    generated_at: datetime | None = None,
    title: str | None = None,
) -> None:
    """Write the self-contained HTML page for ``report`` (redacted or not).

    ``targets``: the brands or numbers that get a timeline (default: every one with a violation;
    evidence packs pass their own); ``title`` replaces the page's heading. Needs ``report.frame``
    for the charts (reports from :func:`~sms_audit.pipeline.audit` have it). Imports matplotlib.
    """
    page = _Page(report, targets, generated_at or datetime.now(UTC), title)
    stream.writelines(page.render())


STYLE = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#0969da;
--bad:#b42318;--bad-bg:#fef3f2;--bad-line:#f4b8b1;--grace:#7d5f00;--grace-bg:#fff8c5;
--ok:#116329;--ok-bg:#dafbe1;--trap:#8250df;--trap-bg:#fbefff;--trap-line:#d8b9ff;
--sans:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","PingFang SC",
"Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","Noto Sans Mono CJK SC",monospace}
*{box-sizing:border-box}
html{background:#eef1f4}
body{margin:0;color:var(--fg);font:15px/1.55 var(--sans);-webkit-text-size-adjust:100%}
main{max-width:1180px;margin:24px auto;background:#fff;padding:36px 44px 28px;border-radius:10px;
box-shadow:0 1px 3px rgba(31,35,40,.12)}
h1{font-size:30px;line-height:1.2;margin:4px 0 14px;letter-spacing:-.01em}
h2{font-size:21px;margin:40px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:18px;margin:26px 0 8px}
h4{font-size:14px;margin:18px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
p{margin:8px 0}
a{color:var(--accent);text-decoration:none}
a:hover{text-decoration:underline}
.eyebrow{color:var(--muted);font-size:13px;text-transform:uppercase;letter-spacing:.06em;margin:0}
.lede{font-size:17px;max-width:62em}
.policy{color:var(--muted);font-size:14px;max-width:70em}
.big{font-size:18px;font-weight:600}
.muted{color:var(--muted)}
.toc{display:flex;flex-wrap:wrap;gap:6px 18px;margin:18px 0 0;padding:10px 0;border-top:1px solid var(--line);
border-bottom:1px solid var(--line);font-size:14px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:14px 0 18px}
.card{margin:0;padding:12px 14px;border:1px solid var(--line);border-radius:8px;background:var(--soft)}
.card dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card dd{margin:2px 0 0;font-size:28px;font-weight:650;font-variant-numeric:tabular-nums}
.card.bad{background:var(--bad-bg);border-color:var(--bad-line)}.card.bad dd{color:var(--bad)}
.card.trap{background:var(--trap-bg);border-color:var(--trap-line)}.card.trap dd{color:var(--trap)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13.5px;margin:6px 0 10px}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{font-size:12px;color:var(--muted);font-weight:600;background:var(--soft)}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.when,span.when{white-space:nowrap;font-variant-numeric:tabular-nums}
td.numbers{min-width:12em}
table.summary td:first-child{white-space:nowrap}
td.body{white-space:pre-wrap;overflow-wrap:anywhere;min-width:18em;max-width:36em}
td.rule{color:var(--muted);font-size:12px;overflow-wrap:anywhere;max-width:18em}
.num{font-family:var(--mono);font-size:.92em;white-space:nowrap}
code{font-family:var(--mono);font-size:.9em;overflow-wrap:anywhere}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;
white-space:nowrap;border:1px solid var(--line);background:var(--soft);color:var(--muted);vertical-align:1px}
.badge.bad{background:var(--bad-bg);color:var(--bad);border-color:var(--bad-line)}
.badge.grace,.badge.flag{background:var(--grace-bg);color:var(--grace);border-color:#eed888}
.badge.ok{background:var(--ok-bg);color:var(--ok);border-color:#aceebb}
.badge.trap{background:var(--trap-bg);color:var(--trap);border-color:var(--trap-line)}
.badge.you{background:#1f2328;color:#fff;border-color:#1f2328}
table.messages tr.bad td{background:#fffafa}
table.messages tr.bad td:first-child{box-shadow:inset 3px 0 0 #d55e00}
table.messages tr.you td{background:#f6f8fa}
table.messages tr.omitted td{color:var(--muted);font-size:13px;background:var(--soft)}
section.brand{margin:28px 0 36px;padding-top:4px}
section.brand h3{font-size:22px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
figure.chart{margin:12px 0 14px;padding:10px 8px 6px;border:1px solid var(--line);border-radius:8px;background:#fff}
figure.chart figcaption{font-size:13px;color:var(--muted);padding:4px 6px 2px}
svg.chart-svg{display:block;width:100%;height:auto;font-family:var(--sans)}
svg.chart-svg *{stroke-linejoin:round;stroke-linecap:butt}
svg.chart-svg .violation{cursor:help}
details{margin:6px 0 12px}
summary{cursor:pointer;color:var(--accent);font-size:14px}
.callout{border:1px solid var(--trap-line);background:var(--trap-bg);border-radius:10px;padding:2px 20px 12px;margin-top:40px}
.callout h2{margin-top:18px;border-bottom-color:var(--trap-line);color:var(--trap)}
.callout table{background:#fff}
footer{margin-top:40px;font-size:14px}
footer h3{font-size:15px;margin:18px 0 6px}
footer ul{padding-left:20px}
@media (max-width:720px){main{margin:0;padding:18px 14px;border-radius:0}h1{font-size:24px}}
@media print{
@page{size:A4;margin:14mm 12mm}
html,body{background:#fff}
body{font-size:10pt}
main{max-width:none;margin:0;padding:0;box-shadow:none;border-radius:0}
.toc,details{display:none}
h2{break-after:avoid;margin-top:22px}
h3,h4{break-after:avoid}
figure.chart,.card,tr,.callout p{break-inside:avoid}
section.brand+section.brand{break-before:page}
.scroll{overflow:visible}
table{font-size:8.5pt}
th,td{padding:3px 5px}
td.when,span.when,table.summary td:first-child,.num,.badge{white-space:normal}
td.numbers,td.body{min-width:0;max-width:none}
.cards{grid-template-columns:repeat(6,1fr);gap:6px}
.card{padding:6px 8px}.card dd{font-size:15pt}
a{color:inherit}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

__all__ = ["CSP", "write_report_html"]
