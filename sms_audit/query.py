"""Message filters (--since/--until/--sender/--direction/--search/--label), defined once.

Labels depend on a sender's history (a reply "Q" is an unsubscribe because that sender asked for
"Q" earlier), so only the sender filter, which keeps a sender's whole history, is pushed into the
store's SQL; every other filter runs on the classified frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sms_audit.errors import UsageError
from sms_audit.normalize import normalize_address, parse_when
from sms_audit.schema import LABELS, Direction

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class MessageFilter:
    since: datetime | None = None
    until: datetime | None = None
    sender: str | None = None  # normalised key
    sender_raw: str | None = None
    direction: str | None = None
    search: str | None = None
    label: str | None = None

    @classmethod
    def from_options(
        cls,
        *,
        since: str | None,
        until: str | None,
        sender: str | None,
        direction: str | None,
        search: str | None,
        label: str | None,
        region: str | None,
    ) -> MessageFilter:
        """Validate command-line values; bad ones raise UsageError (exit 2)."""
        try:
            since_at = parse_when(since) if since else None
            until_at = parse_when(until) if until else None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if direction is not None and direction not in {d.value for d in Direction}:
            raise UsageError(
                f"unknown direction {direction!r}", hint="one of: " + ", ".join(d.value for d in Direction)
            )
        if label is not None and label not in LABELS:
            raise UsageError(f"unknown label {label!r}", hint="one of: " + ", ".join(LABELS))
        key = normalize_address(sender, region).key if sender else None
        return cls(since_at, until_at, key, sender.strip() if sender else None, direction, search, label)

    def to_sql(self, *, history_safe: bool = True) -> tuple[str, list[Any]]:
        """A WHERE clause (without the keyword) and its parameters for the store.

        ``history_safe`` (the default) keeps to the sender filter, which keeps each sender's whole
        history for classification. Otherwise time, direction and (ASCII) search are included too,
        for picking rows whose senders' histories are then loaded separately.
        """
        clauses: list[str] = []
        params: list[Any] = []
        if self.sender is not None:
            clauses.append("(address = ? OR address_raw = ? OR thread_key = ?)")
            params.extend([self.sender, self.sender_raw, self.sender])
        if not history_safe:
            if self.since:
                clauses.append("timestamp_us >= ?")
                params.append(_us(self.since))
            if self.until:
                clauses.append("timestamp_us < ?")
                params.append(_us(self.until))
            if self.direction:
                clauses.append("direction = ?")
                params.append(self.direction)
            if self.search:
                clauses.append("instr(lower(body), lower(?)) > 0")  # SQLite lower() is ASCII-only
                params.append(self.search)
        return " AND ".join(clauses), params

    @property
    def sql_exact(self) -> bool:
        """Whether :meth:`to_sql` selects exactly what :meth:`apply` keeps (search must be ASCII)."""
        return self.search is None or self.search.isascii()

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Every filter but the label on a message frame (vectorized); run it after classifying."""
        mask = None

        def both(cond: Any) -> None:
            nonlocal mask
            mask = cond if mask is None else (mask & cond)

        if self.since:
            both(frame["timestamp"] >= self.since)
        if self.until:
            both(frame["timestamp"] < self.until)
        if self.sender is not None:
            both(
                (frame["address"] == self.sender)
                | (frame["address_raw"] == self.sender_raw)
                | (frame["thread_key"] == self.sender)
            )
        if self.direction:
            both(frame["direction"] == self.direction)
        if self.search:
            both(frame["body"].str.lower().str.contains(self.search.lower(), regex=False))
        return frame if mask is None else frame[mask]

    def apply_label(self, frame: pd.DataFrame) -> pd.DataFrame:
        """--label, after classification."""
        return frame if not self.label else frame[frame["label"] == self.label]


def _us(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
