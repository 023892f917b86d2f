"""Unsubscribe analysis on the classified frame: episodes, confirmations, violations, ledger, traps."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
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
    #: Traps included (kind "trap"): :class:`Findings` (columns, objects made when read) from
    #: :func:`analyze`; any other sequence of :class:`Finding` given is held as a :class:`FindingTuple`.
    findings: Findings | FindingTuple
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

    def __post_init__(self) -> None:
        if not isinstance(self.findings, Findings):
            held = FindingTuple(self.findings)
            held.policy_name = self.policy.name
            object.__setattr__(self, "findings", held)

    @property
    def traps(self) -> Findings | FindingTuple:
        return self.findings.where(self.findings.kinds == TRAP)

    @property
    def unsubscribe_findings(self) -> Findings | FindingTuple:
        return self.findings.where(self.findings.kinds != TRAP)

    @property
    def violations(self) -> Findings | FindingTuple:
        import numpy as np

        return self.findings.where(np.isin(self.findings.kinds, list(VIOLATION_KINDS)))

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


class _Context:
    """What every finding of one report shares: the analysed frame (its rows are the findings'
    messages), the episodes, the policy and the zone; arrays of the frame made once, on first use."""

    def __init__(
        self,
        frame: pd.DataFrame,
        unsubscribes: Mapping[int, Unsubscribe],
        policy: Policy,
        tz: str,
        shown: Mapping[int, Unsubscribe] | None = None,
    ) -> None:
        self.frame = frame
        self.unsubscribes = unsubscribes  # as analysed: explanations are made from these
        self.shown = unsubscribes if shown is None else shown  # as output (masked by --redact)
        self.redacted = shown is not None
        self.policy = policy
        self.tz = tz
        self._text: dict[str, Any] = {}
        self._times: Any = None
        self._episodes: dict[int, tuple[str, int, str, str]] | None = None
        self._starts: Any = None

    def times_us(self) -> Any:
        """The frame's times as int64 UTC microseconds (a numpy array), made once."""
        if self._times is None:
            self._times = _microseconds(self.frame["timestamp"])
        return self._times

    def text(self, name: str, rows: Any) -> list[str]:
        """The values of text column ``name`` at ``rows`` (positions), "" for missing; a column the
        frame lacks reads as "". One contiguous Arrow array per column, made once: a take from it
        is a third of the time of one from the frame's chunks."""
        import pyarrow as pa
        import pyarrow.compute as pc

        array = self._text.get(name)
        if array is None:
            if name not in self.frame.columns:
                return [""] * len(rows)
            data = pa.array(self.frame[name].array, from_pandas=True)
            array = data.combine_chunks() if isinstance(data, pa.ChunkedArray) else data
            if array.null_count:
                array = pc.fill_null(array, "")
            self._text[name] = array
        result: list[str] = array.take(pa.array(rows, pa.int64())).to_pylist()
        return result

    def episode_starts(self) -> Any:
        """Each episode's first reply as UTC microseconds, at index ``ep + 1`` (0 at index 0, for
        the traps' -1): an int64 array."""
        import numpy as np

        if self._starts is None:
            self._starts = np.zeros(len(self.unsubscribes) + 1, dtype=np.int64)
            for ep in self.unsubscribes:
                self._starts[ep + 1] = self.episode(ep)[1]
        return self._starts

    def episode(self, ep: int) -> tuple[str, int, str, str]:
        """Of episode ``ep``: its first reply's message id and UTC microseconds, the "you replied
        ..." phrase and the end of its grace period as local time text."""
        if self._episodes is None:
            self._episodes = {
                e: (
                    u.unsubscribe_id,
                    _to_us(u.message.timestamp),
                    f'you replied "{u.keyword}" to {u.address} at {u.message.local_time}',
                    _local(u.deadline, self.tz),
                )
                for e, u in self.unsubscribes.items()
            }
        return self._episodes[ep]


class Findings(Sequence[Finding]):
    """The findings of a report in report order, held as columns (a few numbers and shared strings
    each); a :class:`Finding` is made when it is read, a batch at a time, so a report of 100,000
    findings never holds 100,000 objects. Compared, joined and hashed as the tuple of its findings.

    ``kinds``, ``subjects`` (never masked: for selecting), ``rows`` (of ``Report.frame``) and
    ``reply_rows`` (-1: none) are numpy arrays with one value per finding; :meth:`where` selects
    by a mask over them; :meth:`records` yields the output records straight from the columns.
    """

    __slots__ = ("_batch", "_columns", "_ctx")
    _BATCH = 5_000

    def __init__(self, columns: Mapping[str, Any], ctx: _Context) -> None:
        self._columns = dict(columns)
        self._ctx = ctx
        self._batch: tuple[int, list[Finding]] | None = None  # the batch the last index fell in

    # --- columns ------------------------------------------------------------------------------

    @property
    def kinds(self) -> Any:
        return self._columns["kind"]

    @property
    def subjects(self) -> Any:
        return self._columns["subject"]

    @property
    def rows(self) -> Any:
        return self._columns["row"]

    @property
    def reply_rows(self) -> Any:
        return self._columns["reply_row"]

    @property
    def vias(self) -> Any:
        return self._columns["via"]

    @property
    def episodes(self) -> Any:
        """The episode (an index of ``Report.unsubscribes``) of each finding; -1 for traps."""
        return self._columns["ep"]

    def shown_subjects(self) -> Any:
        """``subjects`` as the findings show them: in a redacted report a trap's number and a number
        without a brand masked (the summary's subjects are masked alike)."""
        import numpy as np

        return np.array(self._shown(self._columns)[0], dtype=object) if self._ctx.redacted else self.subjects

    def addresses(self) -> Any:
        """The number each finding's message came from (as analysed, never masked)."""
        import numpy as np

        return np.array(self._ctx.text("address", self.rows), dtype=object)

    def message_ids(self) -> Any:
        import numpy as np

        return np.array(self._ctx.text("message_id", self.rows), dtype=object)

    def times_us(self) -> Any:
        """Each finding's message time, as int64 UTC microseconds."""
        return self._ctx.times_us()[self.rows]

    def stable_keys(self) -> list[str]:
        """Each finding's stable identity (``Finding.key``), as :meth:`Finding.key` gives it."""
        return self._keys(self._columns)

    def where(self, mask: Any) -> Findings:
        """The findings where ``mask`` (a boolean array, one value per finding) is true, in order;
        or, given an array of positions, those findings in that order."""
        return Findings({n: a[mask] for n, a in self._columns.items()}, self._ctx)

    def redacted(self, unsubscribe: Callable[[Unsubscribe], Unsubscribe]) -> Findings:
        """The same findings, masked as they are read (``--redact``, :mod:`~sms_audit.report.redact`):
        numbers, codes and names in their messages, explanations and trap reasons; ``unsubscribe``
        gives each episode's redacted :class:`Unsubscribe`. Selecting still sees the real subjects."""
        ctx = self._ctx
        shown = {ep: unsubscribe(u) for ep, u in ctx.unsubscribes.items()}
        return Findings(self._columns, _Context(ctx.frame, ctx.unsubscribes, ctx.policy, ctx.tz, shown=shown))

    # --- the sequence -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._columns["kind"])

    def __getitem__(self, index: Any) -> Any:
        import operator

        import numpy as np

        if isinstance(index, slice):
            return tuple(self._make(np.arange(len(self))[index]))
        n = len(self)
        position = operator.index(index)  # an int, as a tuple takes (not "1", not 1.0)
        position += n if position < 0 else 0
        if not 0 <= position < n:
            raise IndexError("finding index out of range")
        # the batch around it is made once: reading one finding after another costs what iterating does
        start = position - position % self._BATCH
        if self._batch is None or self._batch[0] != start:
            self._batch = (start, self._make(np.arange(start, min(start + self._BATCH, n))))
        return self._batch[1][position - start]

    def __iter__(self) -> Iterator[Finding]:
        import numpy as np

        for start in range(0, len(self), self._BATCH):
            yield from self._make(np.arange(start, min(start + self._BATCH, len(self))))

    # like the tuple this once was: compared, joined, repeated and hashed as the tuple of its findings
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Findings | tuple):
            return len(self) == len(other) and tuple(self) == tuple(other)
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        return tuple(self) < _as_tuple(other)

    def __le__(self, other: object) -> bool:
        return tuple(self) <= _as_tuple(other)

    def __gt__(self, other: object) -> bool:
        return tuple(self) > _as_tuple(other)

    def __ge__(self, other: object) -> bool:
        return tuple(self) >= _as_tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __add__(self, other: object) -> tuple[Finding, ...]:
        return tuple(self) + _as_tuple(other)

    def __radd__(self, other: object) -> tuple[Finding, ...]:
        return _as_tuple(other) + tuple(self)

    def __mul__(self, times: int) -> tuple[Finding, ...]:
        return tuple(self) * times

    __rmul__ = __mul__

    def __repr__(self) -> str:
        kinds: dict[str, int] = {}
        for kind in self.kinds.tolist():
            kinds[kind] = kinds.get(kind, 0) + 1
        shown = ", ".join(f"{kind} {count}" for kind, count in kinds.items())
        return f"<Findings: {len(self)}{': ' + shown if shown else ''}{' (redacted)' if self._ctx.redacted else ''}>"

    # --- making findings and records ----------------------------------------------------------

    def _keys(self, cols: Mapping[str, Any]) -> list[str]:
        ctx = self._ctx
        ids = ctx.text("message_id", cols["row"])
        out = []
        for kind, subject, ep, mid in zip(
            cols["kind"].tolist(), cols["subject"].tolist(), cols["ep"].tolist(), ids, strict=True
        ):
            out.append(
                f"{kind}|{subject}|{mid}" if ep < 0 else f"{kind}|{subject}|{ctx.episode(ep)[0]}|{mid}"
            )
        return out

    def _shown(self, cols: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """The subjects and trap reasons of ``cols`` as shown: masked when the report is redacted."""
        subjects, reasons = cols["subject"].tolist(), cols["trap_reason"].tolist()
        if not self._ctx.redacted:
            return subjects, reasons
        from sms_audit.report.redact import redact_text

        return _shown_subjects(cols), [redact_text(reason) for reason in reasons]

    def _explanations(self, cols: Mapping[str, Any]) -> list[str]:
        """The explanation of each finding in ``cols`` (masked too when the report is redacted)."""
        import numpy as np

        ctx = self._ctx
        rows = cols["row"]
        addresses = ctx.text("address", rows)
        labels = ctx.text("label", rows)
        times = ctx.times_us()[rows]
        replies = cols["reply_row"]
        reply_times = (
            dict(
                zip(
                    replies[replies >= 0].tolist(),
                    local_isoformat(ctx.frame["timestamp"].iloc[replies[replies >= 0]], ctx.tz),
                    strict=True,
                )
            )
            if bool(np.any(replies >= 0))
            else {}
        )
        policy = ctx.policy
        eps = cols["ep"]
        afters = _ago_texts(times - ctx.episode_starts()[eps + 1])
        out = []
        for kind, via, ep, reply, address, label, after in zip(
            cols["kind"].tolist(),
            cols["via"].tolist(),
            eps.tolist(),
            replies.tolist(),
            addresses,
            labels,
            afters,
            strict=True,
        ):
            if ep < 0:
                out.append(_trap_text(reply_times.get(reply)))
                continue
            _id, _start, replied, deadline = ctx.episode(ep)
            out.append(_explain(kind, via, address, label, after, replied, policy, deadline))
        if ctx.redacted:
            from sms_audit.report.redact import redact_text

            out = [redact_text(text) for text in out]
        return out

    def _make(self, index: Any) -> list[Finding]:
        ctx = self._ctx
        cols = {n: a[index] for n, a in self._columns.items()}
        rows, replies = cols["row"], cols["reply_row"]
        wanted = sorted(set(rows.tolist()) | set(replies[replies >= 0].tolist()))
        refs = _message_refs(ctx.frame, wanted, ctx.tz, ctx)
        subjects, traps_reasons = self._shown(cols)
        if ctx.redacted:
            from sms_audit.report.redact import redact_message

            refs = {row: redact_message(ref) for row, ref in refs.items()}
        keys = self._keys(cols)
        out = []
        for key, text, kind, via, row, ep, reply, subject, brand, display, trap_reason in zip(
            keys,
            self._explanations(cols),
            cols["kind"].tolist(),
            cols["via"].tolist(),
            rows.tolist(),
            cols["ep"].tolist(),
            replies.tolist(),
            subjects,
            cols["brand"].tolist(),
            cols["brand_display"].tolist(),
            traps_reasons,
            strict=True,
        ):
            out.append(
                Finding(
                    finding_id=finding_id(key),
                    key=key,
                    kind=kind,
                    severity=SEVERITY[kind],
                    subject=subject,
                    brand=brand,
                    brand_display=display,
                    via=via,
                    message=refs[row],
                    unsubscribe=None if ep < 0 else ctx.shown[ep],
                    explanation=text,
                    trap_reason=trap_reason,
                    reply=refs[reply] if reply >= 0 else None,
                )
            )
        return out

    def records(self, *, time_text: bool = False) -> Iterator[dict[str, Any]]:
        """Every finding as a flat record in :data:`~sms_audit.schema.FINDING_COLUMNS` order, made
        from the columns a batch at a time (the values :func:`~sms_audit.report.records.finding_record`
        gives for the :class:`Finding`). With ``time_text`` the UTC times are their output text
        (:func:`~sms_audit.output.format_time`) instead of datetimes."""
        import numpy as np

        from sms_audit.output import _time_text, time_texts

        ctx = self._ctx
        f = ctx.frame
        wanted = ["message_id", "direction", "address", "address_raw", "sender_kind", "label", "reason"]
        wanted += ["body", "source_file"]
        if ctx.redacted:
            from sms_audit.report.redact import mask_address, redact_body

        def when(times: Any) -> list[Any]:
            if time_text:
                return time_texts(times)
            return times.dt.tz_convert("UTC").dt.to_pydatetime().tolist()

        unsub_fields: dict[int, tuple[Any, ...]] = {}
        for ep, u in ctx.shown.items():
            moment = (
                (u.message.utc_time or _time_text(u.message.timestamp)) if time_text else u.message.timestamp
            )
            deadline = _time_text(u.deadline) if time_text else u.deadline
            unsub_fields[ep] = (
                u.unsubscribe_id,
                moment,
                u.message.local_time,
                u.address,
                u.keyword,
                deadline,
            )
        no_unsub, no_reply = (None,) * 6, (None,) * 3
        policy = ctx.policy.name
        for start in range(0, len(self), self._BATCH):
            index = np.arange(start, min(start + self._BATCH, len(self)))
            cols = {n: a[index] for n, a in self._columns.items()}
            rows, replies, kinds = cols["row"], cols["reply_row"], cols["kind"].tolist()
            values = {name: ctx.text(name, rows) for name in wanted}
            stamps = f["timestamp"].iloc[rows]
            times, local = when(stamps), local_isoformat(stamps, ctx.tz)
            subjects, trap_reasons = self._shown(cols)
            if ctx.redacted:  # as redact_message masks a message
                values["address"] = [mask_address(v) for v in values["address"]]
                values["address_raw"] = [mask_address(v) for v in values["address_raw"]]
                values["body"] = list(map(redact_body, values["body"], values["label"]))
            has_reply = replies >= 0
            reply_of: dict[int, tuple[Any, Any, Any]] = {}
            if bool(has_reply.any()):
                chosen = np.unique(replies[has_reply])
                bodies = ctx.text("body", chosen)
                if ctx.redacted:
                    bodies = list(map(redact_body, bodies, ctx.text("label", chosen)))
                reply_of = dict(
                    zip(
                        chosen.tolist(),
                        zip(
                            ctx.text("message_id", chosen),
                            when(f["timestamp"].iloc[chosen]),
                            bodies,
                            strict=True,
                        ),
                        strict=True,
                    )
                )
            episodes = [no_unsub if ep < 0 else unsub_fields[ep] for ep in cols["ep"].tolist()]
            answered = [reply_of.get(reply, no_reply) for reply in replies.tolist()]
            for (
                key,
                kind,
                subject,
                brand,
                display,
                via,
                mid,
                moment,
                loc,
                direction,
                address,
                raw,
                sender_kind,
                label,
                rule,
                body,
                episode,
                text,
                trap_reason,
                reply,
                source,
            ) in zip(
                self._keys(cols),
                kinds,
                subjects,
                cols["brand"].tolist(),
                cols["brand_display"].tolist(),
                cols["via"].tolist(),
                values["message_id"],
                times,
                local,
                values["direction"],
                values["address"],
                values["address_raw"],
                values["sender_kind"],
                values["label"],
                values["reason"],
                values["body"],
                episodes,
                self._explanations(cols),
                trap_reasons,
                answered,
                values["source_file"],
                strict=True,
            ):
                trap = kind == TRAP
                # keys in FINDING_COLUMNS order (a test holds them to it)
                yield {
                    "finding_id": finding_id(key),
                    "kind": kind,
                    "severity": SEVERITY[kind],
                    "subject": subject,
                    "brand": brand,
                    "brand_display": display,
                    "via": via,
                    "message_id": mid,
                    "timestamp": moment,
                    "local_time": loc,
                    "direction": direction,
                    "address": address,
                    "address_raw": raw,
                    "sender_kind": sender_kind,
                    "label": label,
                    "rule": rule,
                    "body": body,
                    "unsubscribe_message_id": episode[0],
                    "unsubscribed_at": episode[1],
                    "unsubscribed_local_time": episode[2],
                    "unsubscribe_address": episode[3],
                    "unsubscribe_keyword": episode[4],
                    "grace_deadline": episode[5],
                    "policy": policy,
                    "explanation": text,
                    "trap_reason": trap_reason if trap else None,
                    "replied": (reply[0] is not None) if trap else None,
                    "reply_message_id": reply[0],
                    "replied_at": reply[1],
                    "reply_body": reply[2],
                    "source_file": source,
                }


class FindingTuple(tuple[Finding, ...]):
    """Findings given as objects — ``dataclasses.replace(report, findings=(...))``, a tuple or list a
    library user made — with the column view of :class:`Findings` computed from the objects, so a
    report built that way renders, redacts and selects as one :func:`analyze` made. A tuple."""

    policy_name: str = ""  # the report's policy, for the records (set by Report)

    @property
    def kinds(self) -> Any:
        return _objects_array([f.kind for f in self])

    @property
    def subjects(self) -> Any:
        return _objects_array([f.subject for f in self])

    @property
    def vias(self) -> Any:
        return _objects_array([f.via for f in self])

    @property
    def reply_rows(self) -> Any:
        """0 for a finding with a reply, -1 without (the objects have no frame rows)."""
        import numpy as np

        return np.array([-1 if f.reply is None else 0 for f in self], dtype=np.int64)

    def shown_subjects(self) -> Any:
        return self.subjects

    def addresses(self) -> Any:
        return _objects_array([f.message.address for f in self])

    def message_ids(self) -> Any:
        return _objects_array([f.message.message_id for f in self])

    def times_us(self) -> Any:
        import numpy as np

        return np.array([_to_us(f.message.timestamp) for f in self], dtype=np.int64)

    def stable_keys(self) -> list[str]:
        return [f.key for f in self]

    def where(self, mask: Any) -> FindingTuple:
        import numpy as np

        chosen = np.arange(len(self))[mask].tolist()
        return self._again(self[i] for i in chosen)

    def records(self, *, time_text: bool = False) -> Iterator[dict[str, Any]]:
        from sms_audit.report.records import record_of_finding

        return (record_of_finding(f, self.policy_name, time_text=time_text) for f in self)

    def _again(self, items: Iterable[Finding]) -> FindingTuple:
        out = FindingTuple(items)
        out.policy_name = self.policy_name
        return out


def _objects_array(values: list[Any]) -> Any:
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _as_tuple(other: object) -> tuple[Any, ...]:
    """``other`` as a tuple for :class:`Findings`' tuple operations (a tuple, or findings)."""
    if isinstance(other, tuple):
        return other
    if isinstance(other, Findings):
        return tuple(other)
    raise TypeError(f"can only combine findings with a tuple or findings, not {type(other).__name__}")


def _shown_subjects(columns: Mapping[str, Any]) -> list[str]:
    """The subjects of a redacted report's findings as shown: a trap's (its number) and a number
    without a brand masked unless it is a merchant's (:func:`~sms_audit.report.redact.mask_address`)."""
    from sms_audit.report.redact import mask_address

    return [
        mask_address(subject) if kind == TRAP or not brand else subject
        for subject, brand, kind in zip(
            columns["subject"].tolist(), columns["brand"].tolist(), columns["kind"].tolist(), strict=True
        )
    ]


def finding_id(key: str) -> str:
    """A short stable id that does not reveal the numbers in ``key``."""
    return hashlib.sha256(key.encode("utf-8")).digest()[:8].hex()  # the first 16 hex digits


# --- frame preparation ------------------------------------------------------------------------


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Incoming/outgoing 1:1 messages sorted by time, with a ``row`` column.

    Raises SchemaError when a message or classifier column is missing or mistyped: a renamed
    column must fail, not yield an empty report. Group messages are never opt-out evidence.
    """
    import numpy as np
    import pandas as pd

    from sms_audit.schema import CLASSIFIED_SCHEMA, check_frame

    check_frame(frame, CLASSIFIED_SCHEMA, "report")
    kept = (frame["direction"].isin(["in", "out"]) & ~frame["is_group"]).to_numpy(dtype=bool)
    # a store's report selection is already 1:1 and in order: no copy of it then (a 1,000,000-message
    # store gives ~150,000 rows; each copy held another ~60 MB)
    f = frame if kept.all() else frame.loc[kept]
    if not _in_time_order(f):
        f = f.sort_values(["timestamp", "message_id"], kind="stable")
    f = f.copy(deep=False)  # the caller's frame keeps its index and columns; nothing writes into f
    f.index = pd.RangeIndex(len(f))
    f["row"] = np.arange(len(f), dtype=np.int64)
    return f


def _in_time_order(f: pd.DataFrame) -> bool:
    """Whether ``f`` is sorted by time, then message id (as :func:`prepare` sorts it)."""
    import numpy as np

    if len(f) < 2:
        return True
    step = np.diff(_microseconds(f["timestamp"]))
    if (step < 0).any():
        return False
    ties = np.flatnonzero(step == 0)
    if not len(ties):
        return True
    ids = f["message_id"].to_numpy(dtype=object)
    return bool(np.all(ids[ties] <= ids[ties + 1]))


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
    inc = f.loc[f["direction"] == "in", ["timestamp", "address", "brand", "brand_display", "optout_keyword"]]
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

    # refs only for the episodes' messages: the findings stay columns (Findings makes objects)
    rows_needed = set(ep["row"].tolist()) | {int(r) for r in ep["end_row"].dropna().tolist()}
    unsubscribes = _build_unsubscribes(f, ep, _message_refs(f, sorted(rows_needed), tz))
    ctx = _Context(f, unsubscribes, policy, tz)
    findings = _finding_columns(f, cov, traps, unsubscribes, ctx)
    ledger = _build_ledger(unsubscribes, findings, as_of)
    summary = _build_summary(f, unsubscribes, ledger, findings)
    findings = _in_report_order(findings, summary)
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
    import numpy as np

    findings = report.findings.where(
        np.array([key in unseen for key in report.findings.stable_keys()], dtype=bool)
    )
    subjects = set(findings.subjects.tolist())
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
    micros = wall.astype(np.int64) % 1_000_000
    # seconds only when there is no fraction, as Timestamp.isoformat() writes it
    text = np.where(
        micros != 0, np.datetime_as_string(wall, unit="us"), np.datetime_as_string(wall, unit="s")
    )
    offsets = (wall - utc).astype("timedelta64[s]").astype(np.int64)
    found, which = np.unique(offsets, return_inverse=True)
    zones = np.array([_utc_offset(int(offset)) for offset in found.tolist()] or [""], dtype=str)
    return list(np.char.add(text, zones[which.reshape(-1)]).tolist())


def _utc_offset(seconds: int) -> str:
    """``+08:00``, ``-03:30``, ``+00:19:32`` (seconds only when there are some, as isoformat())."""
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}" + (f":{rest % 60:02d}" if rest % 60 else "")


def _message_refs(
    f: pd.DataFrame, rows: Sequence[int], tz: str, ctx: _Context | None = None
) -> dict[int, MessageRef]:
    """A :class:`MessageRef` for each of ``rows`` (positions in ``f``, a :func:`prepare` frame), by
    row; with ``ctx`` its text columns are taken from the context's contiguous arrays (many rows)."""
    from sms_audit.output import time_texts

    if not len(rows):
        return {}
    positions = list(rows)
    if ctx is None:
        sub = f.iloc[positions]
        n = len(sub)

        def text(name: str) -> list[str]:
            if name not in sub.columns:
                return [""] * n
            return sub[name].fillna("").tolist()  # str already (Arrow strings)

        times = sub["timestamp"]
    else:

        def text(name: str) -> list[str]:
            return ctx.text(name, positions)

        times = f["timestamp"].iloc[positions]
    stamps = times.dt.tz_convert("UTC").dt.to_pydatetime().tolist()
    utc_text = time_texts(times)
    local = local_isoformat(times, tz)
    columns = zip(
        positions,
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
    return _ago_seconds(int(delta.total_seconds()))


def _ago_texts(delta_us: Any) -> list[str]:
    """:func:`_ago` of each difference in an int64 array of microseconds, column-wise."""
    import numpy as np

    seconds = (delta_us / 1_000_000).astype(np.int64)  # toward zero, as int() of total_seconds()
    text = np.where(
        seconds < 3600,
        np.char.add(np.maximum(seconds // 60, 0).astype(str), " min"),
        np.where(
            seconds < 2 * 86400,
            np.char.add((seconds // 3600).astype(str), " h"),
            np.char.add((seconds // 86400).astype(str), " days"),
        ),
    )
    return list(text.tolist())


def _ago_seconds(seconds: int) -> str:
    if seconds < 3600:
        return f"{max(seconds // 60, 0)} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _explain(
    kind: str, via: str, address: str, label: str, after: str, replied: str, policy: Policy, deadline: str
) -> str:
    """Why a message after an unsubscribe is a finding of ``kind``: ``after`` is how long after the
    reply it came (:func:`_ago`), ``replied`` the 'you replied "TD" to ... at ...' phrase."""
    where = (
        "from the same number" if via == SAME_NUMBER else f"from another number of the same brand ({address})"
    )
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
    return f"{label} message {where}, {after} after {replied}; not marketing, so not counted as a violation"


def _trap_text(replied_at: str | None) -> str:
    """A trap's explanation; ``replied_at``: local time of the user's reply to it, if any."""
    if replied_at is None:
        return (
            "this message asks for a reply but looks like a trap; do not reply (replying confirms "
            "your number is in use)"
        )
    return (
        f"you replied to this suspected trap at {replied_at}; replying confirms your number "
        "is in use; do not reply again"
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc_us(us: Any) -> datetime:
    """An aware UTC datetime from Unix microseconds (exact, unlike a float timestamp)."""
    return _EPOCH + timedelta(microseconds=int(us))


def _to_us(moment: datetime) -> int:
    """Unix microseconds of an aware datetime (exact)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _microseconds(times: pd.Series) -> Any:
    """A datetime column as int64 Unix microseconds (UTC)."""
    import numpy as np

    return times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]").astype(np.int64)


def _local(moment: datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz)).isoformat()


def _finding_columns(
    f: pd.DataFrame,
    cov: pd.DataFrame,
    traps: pd.DataFrame,
    unsubscribes: Mapping[int, Unsubscribe],
    ctx: _Context,
) -> Findings:
    """The findings as columns: one per covered message (kind from :func:`_classify_covered`), then
    one per trap; ordered by :func:`_in_report_order` later."""
    import numpy as np

    eps = cov["ep"].to_numpy(dtype=np.int64)
    per_ep = {e: (u.subject, u.brand, u.brand_display) for e, u in unsubscribes.items()}
    subject, brand, display = (np.array([per_ep[e][i] for e in eps.tolist()], dtype=object) for i in range(3))
    trap_rows = traps["row"].to_numpy(dtype=np.int64)
    n_traps = len(trap_rows)
    reply = traps["reply_row"].to_numpy(dtype=float, na_value=np.nan)
    columns = {
        "kind": np.concatenate([cov["kind"].to_numpy(dtype=object), np.full(n_traps, TRAP, dtype=object)]),
        "via": np.concatenate([cov["via"].to_numpy(dtype=object), np.full(n_traps, "", dtype=object)]),
        "row": np.concatenate([cov["row"].to_numpy(dtype=np.int64), trap_rows]),
        "ep": np.concatenate([eps, np.full(n_traps, -1, dtype=np.int64)]),
        "reply_row": np.concatenate(
            [np.full(len(eps), -1, dtype=np.int64), np.where(np.isnan(reply), -1, reply).astype(np.int64)]
        ),
        # a trap's subject is its number; its brand is the message's own
        "subject": np.concatenate([subject, np.array(ctx.text("address", trap_rows), dtype=object)]),
        "brand": np.concatenate([brand, np.array(ctx.text("brand", trap_rows), dtype=object)]),
        "brand_display": np.concatenate(
            [display, np.array(ctx.text("brand_display", trap_rows), dtype=object)]
        ),
        "trap_reason": np.concatenate(
            [np.full(len(eps), "", dtype=object), traps["trap_reason"].to_numpy(dtype=object, na_value="")]
        ),
    }
    return Findings(columns, ctx)


def _in_report_order(findings: Findings, summary: Sequence[SubjectSummary]) -> Findings:
    """Unsubscribe findings before traps, by the summary's order of subjects (others after), then
    by time (the frame's row order: time, then message id)."""
    import numpy as np

    rank = {row.subject: i for i, row in enumerate(summary)}
    ranks = np.array([rank.get(s, len(rank)) for s in findings.subjects.tolist()], dtype=np.int64)
    order = np.lexsort((findings.rows, ranks, findings.kinds == TRAP))
    return findings.where(order)


def _build_ledger(
    unsubscribes: Mapping[int, Unsubscribe], findings: Findings, as_of: Any
) -> tuple[LedgerEntry, ...]:
    import numpy as np
    import pandas as pd

    kinds = findings.kinds
    d = pd.DataFrame(
        {
            "ep": findings.episodes,
            "bad": np.isin(kinds, list(VIOLATION_KINDS)),
            "conf": np.isin(kinds, list(CONFIRMATION_KINDS)),
            "within": kinds == WITHIN_GRACE,
            "notice": kinds == NON_MARKETING,
            "flagged": np.isin(kinds, [k for k, v in SEVERITY.items() if v == "flagged"]),
            "time": findings.times_us(),
        }
    )
    d = d.loc[d["ep"] >= 0]
    d["other"] = d["bad"] & (findings.vias[findings.episodes >= 0] == OTHER_NUMBER)
    per = d.groupby("ep")[["bad", "conf", "within", "notice", "flagged", "other"]].sum()
    confirmed_at = d.loc[d["conf"]].groupby("ep")["time"].min()
    bad = d.loc[d["bad"]].groupby("ep")["time"]
    first_bad, last_bad = bad.min(), bad.max()
    counts = {int(e): tuple(int(v) for v in row) for e, row in zip(per.index, per.to_numpy(), strict=True)}
    now = _py_time(as_of) if as_of is not None else None
    entries: list[LedgerEntry] = []
    for ep, unsub in unsubscribes.items():
        n_bad, n_conf, within, notice, flagged, other = counts.get(ep, (0, 0, 0, 0, 0, 0))
        if n_bad:
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
                confirmed=bool(n_conf),
                confirmation_at=_utc_us(confirmed_at[ep]) if n_conf else None,
                status=status,
                violations=n_bad,
                via_other_numbers=other,
                within_grace=within,
                non_marketing=notice,
                flagged=flagged,
                first_violation=_utc_us(first_bad[ep]) if n_bad else None,
                last_violation=_utc_us(last_bad[ep]) if n_bad else None,
                days_since=(now - unsub.message.timestamp).days if now is not None else 0,
            )
        )
    entries.sort(key=lambda e: (e.unsubscribe.message.timestamp, e.unsubscribe.unsubscribe_id))
    return tuple(entries)


def _build_summary(
    f: pd.DataFrame,
    unsubscribes: Mapping[int, Unsubscribe],
    ledger: Sequence[LedgerEntry],
    findings: Findings,
) -> tuple[SubjectSummary, ...]:
    inc = f.loc[(f["direction"] == "in") & (f["brand"] != ""), ["brand", "address"]].drop_duplicates()
    numbers_by_brand = inc.groupby("brand")["address"].agg(lambda s: sorted(s.astype(str)))
    by_subject: dict[str, list[LedgerEntry]] = {}
    for entry in ledger:
        by_subject.setdefault(entry.unsubscribe.subject, []).append(entry)
    seen_numbers: dict[str, set[str]] = {}
    unsub_findings = findings.where(findings.kinds != TRAP)
    for subject, address in zip(
        unsub_findings.subjects.tolist(), unsub_findings.addresses().tolist(), strict=True
    ):
        seen_numbers.setdefault(subject, set()).add(address)
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
