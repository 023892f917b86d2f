"""Message filters (--since/--until/--sender/--direction/--search/--label), defined once.

Labels depend on a sender's history (a reply "Q" is an unsubscribe because that sender asked for
"Q" earlier), so only the sender filter, which keeps a sender's whole history, is pushed into the
store's SQL; every other filter runs on the classified frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sms_audit.errors import UsageError
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
    addresses: tuple[str, ...] | None = None  # only these normalised addresses (their whole history)

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
    ) -> MessageFilter:
        """Validate command-line values; bad ones raise UsageError (exit 2).

        The sender is normalised later, with the region of the messages it filters
        (:meth:`for_region`): a national number means a number of the archive's country.
        """
        from sms_audit.normalize import parse_when

        try:
            since_at = parse_when(since) if since else None
            until_at = parse_when(until) if until else None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        # names as the user may type them: Marketing, IN, " out "
        direction = direction.strip().lower() if direction is not None else None
        label = label.strip().lower() if label is not None else None
        if direction is not None and direction not in {d.value for d in Direction}:
            raise UsageError(
                f"unknown direction {direction!r}", hint="one of: " + ", ".join(d.value for d in Direction)
            )
        if label is not None and label not in LABELS:
            raise UsageError(f"unknown label {label!r}", hint="one of: " + ", ".join(LABELS))
        raw = sender.strip() if sender else None
        return cls(since_at, until_at, None, raw or None, direction, search, label)

    def for_region(self, region: str | None) -> MessageFilter:
        """This filter with its sender normalised in ``region`` (the messages' region)."""
        from sms_audit.normalize import normalize_address

        if self.sender_raw is None:
            return self
        return replace(self, sender=normalize_address(self.sender_raw, region).key)

    @property
    def sql_exact(self) -> bool:
        """Whether the store's SQL selects exactly what :meth:`apply` keeps (search must be ASCII)."""
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
        if self.sender_raw is not None:
            from sms_audit.normalize import normalize_address

            key = self.sender if self.sender is not None else normalize_address(self.sender_raw).key
            both(
                (frame["address"] == key)
                | (frame["address_raw"] == self.sender_raw)
                | (frame["thread_key"] == key)
            )
        if self.direction:
            both(frame["direction"] == self.direction)
        if self.search:
            both(frame["body"].str.lower().str.contains(self.search.lower(), regex=False))
        return frame if mask is None else frame[mask]

    def apply_label(self, frame: pd.DataFrame) -> pd.DataFrame:
        """--label, after classification."""
        return frame if not self.label else frame[frame["label"] == self.label]
