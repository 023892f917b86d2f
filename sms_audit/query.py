"""Message filters (--since/--until/--sender/--direction/--search/--label), defined once.

Labels depend on a sender's history (a reply "Q" is an unsubscribe because that sender asked for
"Q" earlier), so only the sender filter, which keeps a sender's whole history, is pushed into the
store's SQL; every other filter runs on the classified frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sms_audit.errors import UsageError
from sms_audit.schema import LABELS, Direction

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Which messages to read; every part given must hold.

    ``since``/``until``: times (``until`` excluded; a naive datetime is read as UTC). ``sender``: a
    number, short code or sender ID as written ("+86 138 0013 8000", "13800138000", "95555"),
    matched in the messages' region (:meth:`for_region` keeps what was written in ``sender_raw`` and
    the normalised key in ``sender``). ``direction`` (in, out, draft, failed, other) and ``label``
    (:data:`~sms_audit.schema.LABELS`) in any case; ``search``: text the body contains, any case;
    ``addresses``: only these normalised addresses (their whole history). An unknown direction or
    label raises UsageError.
    """

    since: datetime | None = None
    until: datetime | None = None
    sender: str | None = None  # normalised key (when sender_raw is set); as written otherwise
    sender_raw: str | None = None
    direction: str | None = None
    search: str | None = None
    label: str | None = None
    addresses: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        # the library takes what the command line takes, in the same spellings
        if self.sender is not None and self.sender_raw is None:
            object.__setattr__(self, "sender_raw", self.sender.strip() or None)
            object.__setattr__(self, "sender", None)
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                object.__setattr__(self, name, moment.replace(tzinfo=UTC))
        if self.direction is not None:
            direction = self.direction.strip().lower()
            if direction not in {d.value for d in Direction}:
                raise UsageError(
                    f"unknown direction {direction!r}",
                    hint="one of: " + ", ".join(d.value for d in Direction),
                )
            object.__setattr__(self, "direction", direction)
        if self.label is not None:
            label = self.label.strip().lower()
            if label not in LABELS:
                raise UsageError(f"unknown label {label!r}", hint="one of: " + ", ".join(LABELS))
            object.__setattr__(self, "label", label)

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
        zone: str | None = None,
    ) -> MessageFilter:
        """Validate command-line values; bad ones raise UsageError (exit 2). ``since``/``until``
        without an offset are wall-clock times in ``zone`` (IANA name; None: UTC).

        The sender is normalised later, with the region of the messages it filters
        (:meth:`for_region`): a national number means a number of the archive's country.
        """
        from sms_audit.normalize import parse_when

        try:
            since_at = parse_when(since, zone=zone) if since else None
            until_at = parse_when(until, zone=zone) if until else None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return cls(since_at, until_at, sender or None, None, direction, search, label)

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
