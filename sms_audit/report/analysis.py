"""Unsubscribe analysis on the classified frame: episodes, confirmations, violations, ledger, traps."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sms_audit.report.policy import Policy

if TYPE_CHECKING:
    import pandas as pd

# Finding kinds and their severity (OPT-OUT-RULES.md §1: confirmation / within grace / after grace).
VIOLATION = "violation"
CONFIRMATION_WITH_MARKETING = "confirmation_with_marketing"
EXTRA_CONFIRMATION = "extra_confirmation"
LATE_CONFIRMATION = "late_confirmation"
WITHIN_GRACE = "within_grace"
CONFIRMATION = "confirmation"
NON_MARKETING = "non_marketing_after_unsubscribe"
TRAP = "trap"

SEVERITY: dict[str, str] = {
    VIOLATION: "violation",
    CONFIRMATION_WITH_MARKETING: "violation",
    EXTRA_CONFIRMATION: "flagged",
    LATE_CONFIRMATION: "flagged",
    WITHIN_GRACE: "within_grace",
    CONFIRMATION: "info",
    NON_MARKETING: "info",
    TRAP: "warning",
}
#: Kinds that count as violations (``--check`` exits 1 on them).
VIOLATION_KINDS = frozenset({VIOLATION, CONFIRMATION_WITH_MARKETING})
CONFIRMATION_KINDS = frozenset(
    {CONFIRMATION, CONFIRMATION_WITH_MARKETING, EXTRA_CONFIRMATION, LATE_CONFIRMATION}
)

# Ledger/summary statuses, worst first. "replied to trap": the unsubscribe went to a suspected trap.
STATUS_ORDER = ("violated", "replied to trap", "within grace", "honoured", "re-subscribed")

SAME_NUMBER = "same-number"
OTHER_NUMBER = "other-number"


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Evidence for one message: ids, times (UTC and local), numbers, full text, classifier rule."""

    message_id: str
    timestamp: datetime
    local_time: str
    direction: str
    address: str
    address_raw: str
    sender_kind: str
    body: str
    label: str
    reason: str
    brand: str
    brand_display: str
    source_file: str
    #: ``timestamp`` as output text (:func:`~sms_audit.output.format_time`), made for all at once
    utc_time: str = ""


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """One unsubscribe episode: the first reply to a number, until a re-subscribe to that number."""

    unsubscribe_id: str  # message_id of the first unsubscribe reply
    subject: str  # brand key, or the number when no brand is known
    brand: str
    brand_display: str
    address: str
    message: MessageRef
    keyword: str  # what the user sent ("TD")
    asked_keyword: str  # what the prompt asked for ("T"), "" if unknown
    reply_ids: tuple[str, ...]  # every unsubscribe reply in the episode (first included)
    deadline: datetime  # end of the grace period (UTC)
    resubscribe: MessageRef | None = None
    to_trap: bool = False  # the number had sent a suspected trap before this reply

    @property
    def replies(self) -> int:
        return len(self.reply_ids)


@dataclass(frozen=True, slots=True)
class Finding:
    """A message seen after an unsubscribe (or a trap), with the unsubscribe and rule behind it."""

    finding_id: str
    key: str  # stable identity for --new: kind | subject | unsubscribe id | message id
    kind: str
    severity: str
    subject: str
    brand: str
    brand_display: str
    via: str  # same-number | other-number | "" (traps)
    message: MessageRef
    unsubscribe: Unsubscribe | None
    explanation: str
    trap_reason: str = ""
    reply: MessageRef | None = None  # traps: the user's reply, if any


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One unsubscribe sent and what happened since."""

    unsubscribe: Unsubscribe
    confirmed: bool
    confirmation_at: datetime | None
    status: str
    violations: int
    via_other_numbers: int
    within_grace: int
    non_marketing: int
    flagged: int
    first_violation: datetime | None
    last_violation: datetime | None
    days_since: int


@dataclass(frozen=True, slots=True)
class SubjectSummary:
    """One row of the summary table: a brand (or a number without a brand)."""

    subject: str
    brand: str
    brand_display: str
    numbers: tuple[str, ...]
    first_unsubscribe: datetime
    keyword: str
    unsubscribes: int
    confirmed: str  # yes | no | partly
    violations: int
    via_other_numbers: int
    within_grace: int
    non_marketing: int
    flagged: int
    last_violation: datetime | None
    status: str


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the renderers need."""

    policy: Policy
    timezone: str
    timezone_source: str
    region: str | None
    messages_checked: int
    first_message: datetime | None
    last_message: datetime | None
    unsubscribes: tuple[Unsubscribe, ...]
    findings: tuple[Finding, ...]  # traps included (kind "trap")
    ledger: tuple[LedgerEntry, ...]
    summary: tuple[SubjectSummary, ...]
    sources: tuple[str, ...] = ()
    new_only: bool = False
    #: Messages of group conversations, left out: they count as neither opt-outs nor violations.
    group_messages: int = 0
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: The analysed messages (:func:`prepare`'s frame): for timelines and evidence, never re-sorted.
    #: From a store it holds what concerns the unsubscribes (and ``overview`` counts the rest).
    frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    #: Messages per UTC hour and label over the whole archive (columns hour, label, messages), when
    #: ``frame`` holds only part of it; None when ``frame`` is the whole archive.
    overview: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def traps(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind == TRAP)

    @property
    def unsubscribe_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind != TRAP)

    @property
    def violations(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind in VIOLATION_KINDS)

    def findings_frame(self) -> pd.DataFrame:
        """Every message seen after an unsubscribe, one row each (``FINDING_SCHEMA`` columns)."""
        from sms_audit.report.records import findings_frame

        return findings_frame(self)

    def traps_frame(self) -> pd.DataFrame:
        """Suspected unsubscribe traps and whether they were answered (``FINDING_SCHEMA`` columns)."""
        from sms_audit.report.records import findings_frame

        return findings_frame(self, traps=True)

    def ledger_frame(self) -> pd.DataFrame:
        """Every unsubscribe sent and what happened since (``LEDGER_SCHEMA`` columns)."""
        from sms_audit.report.records import ledger_frame

        return ledger_frame(self)

    def summary_frame(self) -> pd.DataFrame:
        """One row per brand or number unsubscribed from (``SUMMARY_SCHEMA`` columns)."""
        from sms_audit.report.records import summary_frame

        return summary_frame(self)


def finding_id(key: str) -> str:
    """A short stable id that does not reveal the numbers in ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


# --- frame preparation ------------------------------------------------------------------------


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Incoming/outgoing 1:1 messages sorted by time, with a ``row`` column.

    Raises SchemaError when a message or classifier column is missing or mistyped: a renamed
    column must fail, not yield an empty report. Group messages are never opt-out evidence.
    """
    from sms_audit.schema import CLASSIFIED_SCHEMA, check_frame

    check_frame(frame, CLASSIFIED_SCHEMA, "report")
    f = frame.loc[frame["direction"].isin(["in", "out"]) & ~frame["is_group"]].copy()
    f = f.sort_values(["timestamp", "message_id"], kind="stable").reset_index(drop=True)
    f["row"] = range(len(f))
    return f


# --- unsubscribe episodes ---------------------------------------------------------------------


def find_unsubscribes(f: pd.DataFrame, policy: Policy, tz: str) -> pd.DataFrame:
    """Episodes per number: a run of unsubscribe replies, ended by the next re-subscribe.

    Returns one row per episode: ``ep, address, start, row, replies, reply_rows, end, end_row,
    brand, brand_display, subject, keyword, asked_keyword, deadline`` (``f`` from :func:`prepare`).
    """
    import pandas as pd

    out = f["direction"] == "out"
    unsub = out & (f["label"] == "unsubscribe-reply")
    resub = out & f["is_resubscribe"] & ~unsub
    ev = f.loc[unsub | resub, ["address", "timestamp", "row"]].copy()
    ev["type"] = "U"
    ev.loc[resub[unsub | resub].to_numpy(), "type"] = "R"
    ev = ev.sort_values(["address", "timestamp", "row"], kind="stable")
    new_block = (ev["type"] != ev["type"].shift()) | (ev["address"] != ev["address"].shift())
    ev["block"] = new_block.to_numpy(dtype=bool, na_value=True).cumsum()
    blocks = ev.groupby("block", sort=True).agg(
        address=("address", "first"),
        type=("type", "first"),
        start=("timestamp", "first"),
        row=("row", "first"),
        replies=("row", "size"),
        reply_rows=("row", list),
    )
    blocks["end"] = blocks["start"].shift(-1)
    blocks["end_row"] = blocks["row"].shift(-1)
    same = (blocks["address"].shift(-1) == blocks["address"]).to_numpy(dtype=bool, na_value=False)
    blocks.loc[~same, ["end", "end_row"]] = None
    ep = blocks.loc[blocks["type"] == "U"].drop(columns="type").reset_index(drop=True)
    ep["end"] = pd.to_datetime(ep["end"], utc=True)
    ep["ep"] = range(len(ep))
    if ep.empty:
        for name in ("brand", "brand_display", "subject", "keyword", "asked_keyword"):
            ep[name] = pd.Series(dtype=str)
        ep["to_trap"] = pd.Series(dtype=bool)
        ep["deadline"] = pd.Series(dtype="datetime64[us, UTC]")
        return ep

    # The number's brand: the latest branded incoming message from it at or before the reply,
    # else its most common brand overall.
    inc = f.loc[f["direction"] == "in"]
    branded = inc.loc[inc["brand"] != "", ["timestamp", "address", "brand", "brand_display"]]
    left = ep[["ep", "start", "address"]].sort_values("start")
    latest = pd.merge_asof(
        left, branded.rename(columns={"timestamp": "start"}), on="start", by="address", direction="backward"
    )
    latest = latest.set_index("ep")
    common = (
        branded.groupby(["address", "brand", "brand_display"], observed=True)
        .size()
        .reset_index(name="n")
        .sort_values(["address", "n"], ascending=[True, False], kind="stable")
        .drop_duplicates("address")
        .set_index("address")
    )
    ep["brand"] = latest["brand"].reindex(ep["ep"]).to_numpy()
    ep["brand_display"] = latest["brand_display"].reindex(ep["ep"]).to_numpy()
    missing = ep["brand"].isna() | (ep["brand"] == "")
    ep.loc[missing, "brand"] = ep.loc[missing, "address"].map(common["brand"])
    ep.loc[missing, "brand_display"] = ep.loc[missing, "address"].map(common["brand_display"])
    ep["brand"] = ep["brand"].fillna("").astype(str)
    ep["brand_display"] = ep["brand_display"].fillna("").astype(str)
    ep["subject"] = ep["brand"].where(ep["brand"] != "", ep["address"])

    # What the prompt asked for: the latest incoming optout keyword from that number.
    asked = inc.loc[inc["optout_keyword"] != "", ["timestamp", "address", "optout_keyword"]]
    asked = pd.merge_asof(
        left, asked.rename(columns={"timestamp": "start"}), on="start", by="address", direction="backward"
    ).set_index("ep")
    ep["asked_keyword"] = asked["optout_keyword"].reindex(ep["ep"]).fillna("").astype(str).to_numpy()
    ep["keyword"] = f["body"].iloc[ep["row"].to_numpy()].str.strip().str.slice(0, 24).to_numpy()
    ep["deadline"] = policy.deadlines(ep["start"], tz).to_numpy()
    trap_from = f.loc[(f["direction"] == "in") & f["is_trap"], ["timestamp", "address", "row"]]
    trapped = pd.merge_asof(
        left,
        trap_from.rename(columns={"timestamp": "start", "row": "trap_row"}),
        on="start",
        by="address",
        direction="backward",
    ).set_index("ep")
    ep["to_trap"] = trapped["trap_row"].reindex(ep["ep"]).notna().to_numpy()
    return ep


def _covered(f: pd.DataFrame, ep: pd.DataFrame) -> pd.DataFrame:
    """Incoming messages inside an episode (same number, or same brand on any number).

    A message covered by several episodes goes to the one that started first. A message from the
    unsubscribed number that carries a *different* brand is not counted against the episode (a
    shared port carries several signatures; OPT-OUT-RULES.md §3.2).
    """
    import numpy as np
    import pandas as pd

    inc = f.loc[f["direction"] == "in", ["row", "timestamp", "address", "brand"]]
    cols = ["ep", "address", "brand", "start", "end", "deadline"]
    by_number = inc.merge(ep[cols], on="address", suffixes=("", "_ep"))
    by_number = by_number.loc[
        (by_number["brand"] == by_number["brand_ep"])
        | (by_number["brand"] == "")
        | (by_number["brand_ep"] == "")
    ]
    by_number = by_number.assign(address_ep=by_number["address"]).drop(columns="brand_ep")
    branded_ep = ep.loc[ep["brand"] != "", cols]
    by_brand = inc.loc[inc["brand"] != ""].merge(branded_ep, on="brand", suffixes=("", "_ep"))
    cand = pd.concat([by_number, by_brand], ignore_index=True)
    active = (cand["timestamp"] > cand["start"]) & (cand["end"].isna() | (cand["timestamp"] < cand["end"]))
    cand = cand.loc[active].sort_values(["row", "start", "ep"], kind="stable").drop_duplicates("row")
    same_number = (cand["address"] == cand["address_ep"]).to_numpy(dtype=bool, na_value=False)
    cand["via"] = np.where(same_number, SAME_NUMBER, OTHER_NUMBER)
    return cand[["row", "ep", "via", "timestamp", "start", "deadline"]].reset_index(drop=True)


def _classify_covered(f: pd.DataFrame, cov: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Give each covered message its finding kind (vectorized)."""
    import numpy as np
    import pandas as pd

    label = f["label"].to_numpy()[cov["row"].to_numpy()]
    promo = f["is_promotional"].to_numpy()[cov["row"].to_numpy()]
    is_conf = label == "unsubscribe-confirmation"
    cov = cov.assign(is_conf=is_conf)
    rank = cov.loc[is_conf].sort_values(["ep", "timestamp", "row"]).groupby("ep").cumcount()
    cov["conf_rank"] = rank.reindex(cov.index).fillna(-1).astype(int)
    in_window = (cov["timestamp"] - cov["start"]) <= pd.Timedelta(policy.confirmation_window)
    after_grace = cov["timestamp"] >= cov["deadline"]
    kinds = np.select(
        [
            is_conf & promo,
            is_conf & (cov["conf_rank"] > 0),
            is_conf & ~in_window,
            is_conf,
            (label == "marketing") & after_grace,
            label == "marketing",
        ],
        [
            CONFIRMATION_WITH_MARKETING,
            EXTRA_CONFIRMATION,
            LATE_CONFIRMATION,
            CONFIRMATION,
            VIOLATION,
            WITHIN_GRACE,
        ],
        default=NON_MARKETING,
    )
    return cov.assign(kind=kinds)


def find_traps(f: pd.DataFrame) -> pd.DataFrame:
    """Incoming trap messages, with the user's first later message to that number (if any)."""
    import pandas as pd

    traps = f.loc[(f["direction"] == "in") & f["is_trap"], ["row", "timestamp", "address", "trap_reason"]]
    outs = f.loc[f["direction"] == "out", ["row", "timestamp", "address"]].rename(
        columns={"row": "reply_row"}
    )
    if traps.empty:
        return traps.assign(reply_row=pd.Series(dtype=float))
    return pd.merge_asof(
        traps.sort_values("timestamp"),
        outs.sort_values("timestamp"),
        on="timestamp",
        by="address",
        direction="forward",
        allow_exact_matches=False,
    )


# --- assembling the report ----------------------------------------------------------------------


def analyze(
    frame: pd.DataFrame,
    policy: Policy,
    *,
    tz: str = "UTC",
    timezone_source: str = "default",
    region: str | None = None,
    sources: Sequence[str] = (),
    totals: Any = None,
) -> Report:
    """Run the whole analysis on a classified frame (:data:`~sms_audit.schema.CLASSIFIED_SCHEMA`).

    ``tz`` is the IANA zone for local times and business-day counting. Findings are ordered by
    subject, then time; "now" for statuses is the newest message, not the clock. ``totals``
    (count, first, last, group messages: a :class:`~sms_audit.store.Totals`) are given when ``frame`` holds only
    the messages the analysis needs (the store's report selection), not the whole archive.
    """
    import pandas as pd

    f = prepare(frame)
    groups = (
        totals.group_messages
        if totals is not None
        else int((frame["direction"].isin(["in", "out"]) & frame["is_group"]).sum())
    )
    ep = find_unsubscribes(f, policy, tz)
    cov = (
        _classify_covered(f, _covered(f, ep), policy)
        if len(ep)
        else pd.DataFrame(columns=["row", "ep", "via", "timestamp", "start", "deadline", "kind"])
    )
    traps = find_traps(f)
    as_of = f["timestamp"].max() if len(f) else None
    if totals is not None and totals.last is not None:
        as_of = pd.Timestamp(totals.last)

    rows_needed = set(ep["row"].tolist()) | set(cov["row"].tolist()) | set(traps["row"].tolist())
    rows_needed |= {int(r) for r in ep["end_row"].dropna().tolist()}
    rows_needed |= {int(r) for r in traps["reply_row"].dropna().tolist()}
    refs = _message_refs(f, sorted(rows_needed), tz)

    unsubscribes = _build_unsubscribes(f, ep, refs)
    findings = _build_findings(cov, traps, unsubscribes, refs, policy, tz)
    ledger = _build_ledger(unsubscribes, findings, as_of)
    summary = _build_summary(f, unsubscribes, ledger, findings)
    rank = {row.subject: i for i, row in enumerate(summary)}
    findings = tuple(
        sorted(
            findings,
            key=lambda x: (
                x.kind == TRAP,
                rank.get(x.subject, len(rank)),
                x.message.timestamp,
                x.message.message_id,
            ),
        )
    )
    return Report(
        policy=policy,
        timezone=tz,
        timezone_source=timezone_source,
        region=region,
        messages_checked=totals.messages if totals is not None else len(f),
        group_messages=groups,
        first_message=(
            totals.first if totals is not None else _py_time(f["timestamp"].min()) if len(f) else None
        ),
        last_message=_py_time(as_of) if as_of is not None else None,
        unsubscribes=tuple(unsubscribes.values()),
        findings=findings,
        ledger=ledger,
        summary=summary,
        sources=tuple(sources) or _source_files(f),
        frame=f,
        overview=getattr(totals, "by_hour", None),
    )


def only_new(report: Report, unseen: set[str]) -> Report:
    """The report limited to findings whose key is in ``unseen`` (``report --new``): the summary
    keeps the brands with a new finding; the unsubscribes and the ledger stay whole, so the counts
    of replies and confirmations are the archive's."""
    findings = tuple(f for f in report.findings if f.key in unseen)
    subjects = {f.subject for f in findings}
    return replace(
        report,
        findings=findings,
        new_only=True,
        summary=tuple(s for s in report.summary if s.subject in subjects),
    )


def _source_files(f: pd.DataFrame) -> tuple[str, ...]:
    if "source_file" not in f.columns:
        return ()
    return tuple(sorted(str(s) for s in f["source_file"].dropna().unique() if str(s)))


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _py_time(value: Any) -> datetime:
    return value.to_pydatetime() if hasattr(value, "to_pydatetime") else value


def local_isoformat(times: pd.Series, tz: str) -> list[str]:
    """``Timestamp.isoformat()`` of each time in zone ``tz`` ("2025-09-10T20:15:00+08:00", with
    microseconds when there are some), computed column-wise."""
    import numpy as np

    utc = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    wall = times.dt.tz_convert(tz).dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    text = np.datetime_as_string(wall, unit="s").astype(object)
    micros = (wall.astype(np.int64) % 1_000_000).tolist()
    offsets = ((wall - utc).astype("timedelta64[s]").astype(np.int64)).tolist()
    zones: dict[int, str] = {}
    out = []
    for base, fraction, offset in zip(text.tolist(), micros, offsets, strict=True):
        zone = zones.get(offset)
        if zone is None:
            sign = "-" if offset < 0 else "+"
            hours, rest = divmod(abs(offset), 3600)
            zone = zones[offset] = f"{sign}{hours:02d}:{rest // 60:02d}" + (
                f":{rest % 60:02d}" if rest % 60 else ""
            )
        out.append(f"{base}.{fraction:06d}{zone}" if fraction else base + zone)
    return out


def _message_refs(f: pd.DataFrame, rows: Sequence[int], tz: str) -> dict[int, MessageRef]:
    from sms_audit.output import time_texts

    if not rows:
        return {}
    sub = f.iloc[list(rows)]
    n = len(sub)

    def text(name: str) -> list[str]:
        if name not in sub.columns:
            return [""] * n
        return sub[name].fillna("").tolist()  # str already (Arrow strings)

    stamps = sub["timestamp"].dt.tz_convert("UTC").dt.to_pydatetime().tolist()
    utc_text = time_texts(sub["timestamp"])
    local = local_isoformat(sub["timestamp"], tz)
    columns = zip(
        sub["row"].tolist(),
        text("message_id"),
        stamps,
        local,
        text("direction"),
        text("address"),
        text("address_raw"),
        text("sender_kind"),
        text("body"),
        text("label"),
        text("reason"),
        text("brand"),
        text("brand_display"),
        text("source_file"),
        utc_text,
        strict=True,
    )
    return {
        int(row): MessageRef(
            message_id=mid,
            timestamp=ts,
            local_time=loc,
            direction=dr,
            address=ad,
            address_raw=raw,
            sender_kind=kind,
            body=body,
            label=label,
            reason=reason,
            brand=brand,
            brand_display=display,
            source_file=source,
            utc_time=utc_text,
        )
        for row, mid, ts, loc, dr, ad, raw, kind, body, label, reason, brand, display, source, utc_text in columns
    }


def _build_unsubscribes(
    f: pd.DataFrame, ep: pd.DataFrame, refs: Mapping[int, MessageRef]
) -> dict[int, Unsubscribe]:
    ids = f["message_id"].to_numpy()
    out: dict[int, Unsubscribe] = {}
    for rec in ep.to_dict("records"):
        end_row = rec["end_row"]
        first = refs[int(rec["row"])]
        out[int(rec["ep"])] = Unsubscribe(
            unsubscribe_id=first.message_id,
            subject=str(rec["subject"]),
            brand=str(rec["brand"]),
            brand_display=str(rec["brand_display"]),
            address=str(rec["address"]),
            message=first,
            keyword=str(rec["keyword"]),
            asked_keyword=str(rec["asked_keyword"]),
            reply_ids=tuple(str(ids[r]) for r in rec["reply_rows"]),
            deadline=_py_time(rec["deadline"]),
            resubscribe=None if _missing(end_row) else refs[int(end_row)],
            to_trap=bool(rec["to_trap"]),
        )
    return out


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return f"{max(seconds // 60, 0)} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _explain(kind: str, via: str, msg: MessageRef, unsub: Unsubscribe, policy: Policy, deadline: str) -> str:
    after = _ago(msg.timestamp - unsub.message.timestamp)
    where = (
        "from the same number"
        if via == SAME_NUMBER
        else f"from another number of the same brand ({msg.address})"
    )
    replied = f'you replied "{unsub.keyword}" to {unsub.address} at {unsub.message.local_time}'
    if kind == VIOLATION:
        return (
            f"marketing {where}, {after} after {replied}; the grace period ({policy.grace_text}, "
            f"{policy.kind}) ended {deadline}"
        )
    if kind == WITHIN_GRACE:
        return (
            f"marketing {where}, {after} after {replied}; inside the grace period ({policy.grace_text}, "
            f"until {deadline}), so not a violation"
        )
    if kind == CONFIRMATION:
        return f"confirmation {where}, {after} after {replied}; one confirmation is allowed"
    if kind == LATE_CONFIRMATION:
        window = _ago(policy.confirmation_window)
        return (
            f"confirmation {where}, {after} after {replied}; later than the {window} confirmation "
            "window (not presumed compliant)"
        )
    if kind == EXTRA_CONFIRMATION:
        return f"another confirmation {where}, {after} after {replied}; only one confirmation is allowed"
    if kind == CONFIRMATION_WITH_MARKETING:
        return (
            f"confirmation that also advertises {where}, {after} after {replied}; a confirmation may "
            "not contain marketing (47 CFR §64.1200(a)(12))"
        )
    return (
        f"{msg.label} message {where}, {after} after {replied}; not marketing, so not counted as a violation"
    )


def _local(moment: datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz)).isoformat()


def _build_findings(
    cov: pd.DataFrame,
    traps: pd.DataFrame,
    unsubscribes: Mapping[int, Unsubscribe],
    refs: Mapping[int, MessageRef],
    policy: Policy,
    tz: str,
) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    deadlines = {ep: _local(u.deadline, tz) for ep, u in unsubscribes.items()}
    for ep, row, kind, via in zip(
        cov["ep"].tolist(), cov["row"].tolist(), cov["kind"].tolist(), cov["via"].tolist(), strict=True
    ):
        unsub = unsubscribes[int(ep)]
        msg = refs[int(row)]
        key = f"{kind}|{unsub.subject}|{unsub.unsubscribe_id}|{msg.message_id}"
        findings.append(
            Finding(
                finding_id=finding_id(key),
                key=key,
                kind=kind,
                severity=SEVERITY[kind],
                subject=unsub.subject,
                brand=unsub.brand,
                brand_display=unsub.brand_display,
                via=via,
                message=msg,
                unsubscribe=unsub,
                explanation=_explain(kind, via, msg, unsub, policy, deadlines[int(ep)]),
            )
        )
    for rec in traps.to_dict("records"):
        msg = refs[int(rec["row"])]
        reply_row = rec.get("reply_row")
        reply = None if _missing(reply_row) else refs[int(reply_row)]
        key = f"{TRAP}|{msg.address}|{msg.message_id}"
        text = (
            "this message asks for a reply but looks like a trap; do not reply (replying confirms "
            "your number is in use)"
        )
        if reply is not None:
            text = (
                f"you replied to this suspected trap at {reply.local_time}; replying confirms your number "
                "is in use; do not reply again"
            )
        findings.append(
            Finding(
                finding_id=finding_id(key),
                key=key,
                kind=TRAP,
                severity=SEVERITY[TRAP],
                subject=msg.address,
                brand=msg.brand,
                brand_display=msg.brand_display,
                via="",
                message=msg,
                unsubscribe=None,
                explanation=text,
                trap_reason=str(rec["trap_reason"]),
                reply=reply,
            )
        )
    findings.sort(key=lambda x: (x.kind == TRAP, x.subject, x.message.timestamp, x.message.message_id))
    return tuple(findings)


def _build_ledger(
    unsubscribes: Mapping[int, Unsubscribe], findings: Sequence[Finding], as_of: Any
) -> tuple[LedgerEntry, ...]:
    per: dict[str, list[Finding]] = {}
    for item in findings:
        if item.unsubscribe is not None:
            per.setdefault(item.unsubscribe.unsubscribe_id, []).append(item)
    now = _py_time(as_of) if as_of is not None else None
    entries: list[LedgerEntry] = []
    for unsub in unsubscribes.values():
        items = per.get(unsub.unsubscribe_id, [])
        bad = [i for i in items if i.kind in VIOLATION_KINDS]
        confs = [i for i in items if i.kind in CONFIRMATION_KINDS]
        if bad:
            status = "violated"
        elif unsub.to_trap:
            status = "replied to trap"
        elif unsub.resubscribe is not None:
            status = "re-subscribed"
        elif now is not None and unsub.deadline > now:
            status = "within grace"
        else:
            status = "honoured"
        entries.append(
            LedgerEntry(
                unsubscribe=unsub,
                confirmed=bool(confs),
                confirmation_at=min(c.message.timestamp for c in confs) if confs else None,
                status=status,
                violations=len(bad),
                via_other_numbers=sum(1 for i in bad if i.via == OTHER_NUMBER),
                within_grace=sum(1 for i in items if i.kind == WITHIN_GRACE),
                non_marketing=sum(1 for i in items if i.kind == NON_MARKETING),
                flagged=sum(1 for i in items if i.severity == "flagged"),
                first_violation=min(i.message.timestamp for i in bad) if bad else None,
                last_violation=max(i.message.timestamp for i in bad) if bad else None,
                days_since=(now - unsub.message.timestamp).days if now is not None else 0,
            )
        )
    entries.sort(key=lambda e: (e.unsubscribe.message.timestamp, e.unsubscribe.unsubscribe_id))
    return tuple(entries)


def _build_summary(
    f: pd.DataFrame,
    unsubscribes: Mapping[int, Unsubscribe],
    ledger: Sequence[LedgerEntry],
    findings: Sequence[Finding],
) -> tuple[SubjectSummary, ...]:
    inc = f.loc[(f["direction"] == "in") & (f["brand"] != ""), ["brand", "address"]].drop_duplicates()
    numbers_by_brand = inc.groupby("brand")["address"].agg(lambda s: sorted(s.astype(str)))
    by_subject: dict[str, list[LedgerEntry]] = {}
    for entry in ledger:
        by_subject.setdefault(entry.unsubscribe.subject, []).append(entry)
    seen_numbers: dict[str, set[str]] = {}
    for item in findings:
        if item.kind != TRAP:
            seen_numbers.setdefault(item.subject, set()).add(item.message.address)
    rows: list[SubjectSummary] = []
    for subject, entries in by_subject.items():
        first = min(entries, key=lambda e: e.unsubscribe.message.timestamp).unsubscribe
        numbers = set(numbers_by_brand.get(first.brand, [])) if first.brand else set()
        numbers |= {e.unsubscribe.address for e in entries}
        numbers |= seen_numbers.get(subject, set())
        confirmed = [e.confirmed for e in entries]
        lasts = [e.last_violation for e in entries if e.last_violation is not None]
        status = min((e.status for e in entries), key=STATUS_ORDER.index)
        rows.append(
            SubjectSummary(
                subject=subject,
                brand=first.brand,
                brand_display=first.brand_display,
                numbers=tuple(sorted(numbers)),
                first_unsubscribe=first.message.timestamp,
                keyword=first.keyword,
                unsubscribes=sum(e.unsubscribe.replies for e in entries),
                confirmed="yes" if all(confirmed) else ("partly" if any(confirmed) else "no"),
                violations=sum(e.violations for e in entries),
                via_other_numbers=sum(e.via_other_numbers for e in entries),
                within_grace=sum(e.within_grace for e in entries),
                non_marketing=sum(e.non_marketing for e in entries),
                flagged=sum(e.flagged for e in entries),
                last_violation=max(lasts) if lasts else None,
                status=status,
            )
        )
    rows.sort(
        key=lambda r: (
            STATUS_ORDER.index(r.status),
            -r.violations,
            -r.flagged,
            -(r.last_violation.timestamp() if r.last_violation else 0),
            r.subject,
        )
    )
    return tuple(rows)
