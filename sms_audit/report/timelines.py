"""Counts over time from the analysed messages (``Report.frame``): who each summary row is in the
frame, a brand's messages for its timeline, weekly volumes (terminal sparklines) and messages per
month by label (the HTML overview).

Pure pandas/numpy, imported lazily; nothing here plots. Numbers returned here are the frame's
(unmasked): renderers mask them for ``--redact`` with :func:`sms_audit.report.redact.mask_address`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sms_audit.report.analysis import Report, SubjectSummary

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: A sparkline never gets wider than this many cells; longer archives put several weeks in a cell.
MAX_SPARK_CELLS = 26
#: Timelines bin by day up to this span, by week beyond it.
MAX_DAILY_SPAN = timedelta(days=100)


@dataclass(frozen=True, slots=True)
class Target:
    """A brand (all its numbers) or one number, as found in the frame.

    ``subject`` is as the report shows it (masked in a redacted report); ``addresses`` are the
    frame's normalised numbers (never masked: they select rows).
    """

    subject: str
    brand: str
    brand_display: str
    addresses: tuple[str, ...]


def summary_targets(report: Report) -> list[Target]:
    """One :class:`Target` per ``report.summary`` row, in the same order.

    The numbers come from the frame through message ids (the unsubscribes and findings of the
    row), never from the shown numbers, so a redacted report finds the same rows. A brand also
    gets every number that sent a message signed with it. Empty when ``report.frame`` is None.
    """
    f = report.frame
    if f is None or not report.summary:
        return []
    ids: dict[str, set[str]] = {row.subject: set() for row in report.summary}
    for unsub in report.unsubscribes:
        if unsub.subject in ids:
            ids[unsub.subject].update(unsub.reply_ids)
            ids[unsub.subject].add(unsub.unsubscribe_id)
    items = report.unsubscribe_findings
    for subject, message_id in zip(
        items.shown_subjects().tolist(), items.message_ids().tolist(), strict=True
    ):
        if subject in ids:
            ids[subject].add(message_id)
    wanted = set().union(*ids.values())
    found = f.loc[f["message_id"].isin(list(wanted)), ["message_id", "address"]]
    address_of = dict(zip(found["message_id"].astype(str), found["address"].astype(str), strict=True))
    brands = sorted({row.brand for row in report.summary if row.brand})
    signed = f.loc[(f["direction"] == "in") & f["brand"].isin(brands), ["brand", "address"]]
    by_brand = {str(b): set(a.astype(str)) for b, a in signed.groupby("brand", observed=True)["address"]}
    return [_target(row, ids[row.subject], address_of, by_brand) for row in report.summary]


def _target(
    row: SubjectSummary, ids: set[str], address_of: dict[str, str], by_brand: dict[str, set[str]]
) -> Target:
    addresses = {address_of[i] for i in ids if i in address_of}
    if row.brand:
        addresses |= by_brand.get(row.brand, set())
    return Target(row.subject, row.brand, row.brand_display, tuple(sorted(addresses)))


def row_owners(f: pd.DataFrame, targets: Sequence[Target]) -> np.ndarray:
    """For each row of ``f``, the index of the target it belongs to, or -1.

    Incoming: a message signed with a target brand is that brand's; an unsigned message (or any
    message from a number followed on its own) belongs to the target of its number. A message
    signed with *another* brand on a brand's number is not the brand's (shared ports,
    OPT-OUT-RULES.md §3.2). Outgoing: the target of the number it went to.
    """
    import numpy as np
    import pandas as pd

    owner = np.full(len(f), -1, dtype=np.int64)
    if not targets or f.empty:
        return owner
    by_brand: dict[str, int] = {}
    by_number: dict[str, int] = {}  # numbers followed on their own: every message counts
    unsigned_only: dict[str, int] = {}  # a brand's numbers: unsigned messages only
    for i, t in enumerate(targets):
        if t.brand:
            by_brand.setdefault(t.brand, i)
            for a in t.addresses:
                unsigned_only.setdefault(a, i)
        else:
            for a in t.addresses:
                by_number.setdefault(a, i)
    brand = f["brand"].astype(str)
    address = f["address"].astype(str)
    incoming = (f["direction"] == "in").to_numpy(dtype=bool)
    from_brand = brand.map(by_brand).to_numpy(dtype=float, na_value=np.nan)
    from_number = address.map(by_number).to_numpy(dtype=float, na_value=np.nan)
    from_unsigned = address.map(unsigned_only).to_numpy(dtype=float, na_value=np.nan)
    unsigned = (brand == "").to_numpy(dtype=bool)
    picked = np.where(
        ~np.isnan(from_brand),
        from_brand,
        np.where(~np.isnan(from_number), from_number, np.where(unsigned, from_unsigned, np.nan)),
    )
    to_any = pd.Series(from_number).fillna(pd.Series(from_unsigned)).to_numpy(dtype=float)
    picked = np.where(incoming, picked, to_any)
    ok = ~np.isnan(picked)
    owner[ok] = picked[ok].astype(np.int64)
    return owner


# --- weekly volume (sparklines) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeeklyVolume:
    """Incoming messages per target and cell of ``weeks_per_cell`` weeks (Monday-based, local time).

    ``cells[i]`` are the counts of target ``i``; ``marks[i]`` the cell of its first unsubscribe
    (None when outside the archive's period).
    """

    weeks_per_cell: int
    first_week: datetime | None
    cells: tuple[tuple[int, ...], ...]
    marks: tuple[int | None, ...]


def weekly_volume(
    report: Report, targets: Sequence[Target], *, max_cells: int = MAX_SPARK_CELLS
) -> WeeklyVolume:
    """Each target's incoming messages per week over the whole archive (same cells for every row,
    so rows compare); beyond ``max_cells`` weeks a cell holds several weeks."""
    import numpy as np
    import pandas as pd

    f = report.frame
    if f is None or f.empty or not targets:
        empty = tuple(() for _ in targets)
        return WeeklyVolume(1, None, empty, tuple(None for _ in targets))

    def mondays(times: pd.Series) -> pd.Series:
        days = times.dt.tz_convert(report.timezone).dt.tz_localize(None).dt.normalize()
        return days - (days.dt.day_of_week.astype("int64") * np.timedelta64(1, "D"))

    monday = mondays(f["timestamp"])
    # the whole archive's span (a store report's frame holds only what concerns unsubscribes)
    span = pd.Series(
        pd.to_datetime(
            [report.first_message or f["timestamp"].min(), report.last_message or f["timestamp"].max()],
            utc=True,
        )
    )
    first_week, last_week = mondays(span)
    origin = min(monday.min(), first_week)
    week = ((monday - origin).dt.days // 7).to_numpy(dtype=np.int64)
    n_weeks = max(int(week.max()), (last_week - origin).days // 7) + 1
    per_cell = max(1, math.ceil(n_weeks / max_cells))
    n_cells = math.ceil(n_weeks / per_cell)
    owner = row_owners(f, targets)
    use = (owner >= 0) & (f["direction"] == "in").to_numpy(dtype=bool)
    flat = owner[use] * n_cells + week[use] // per_cell
    counts = np.bincount(flat, minlength=len(targets) * n_cells).reshape(len(targets), n_cells)
    marks: list[int | None] = []
    by_subject = {row.subject: row for row in report.summary}
    for t in targets:
        row = by_subject.get(t.subject)
        if row is None:
            marks.append(None)
            continue
        at = pd.Timestamp(row.first_unsubscribe).tz_convert(report.timezone).tz_localize(None).normalize()
        w = int((at - pd.Timedelta(days=at.day_of_week) - origin).days // 7)
        marks.append(w // per_cell if 0 <= w < n_weeks else None)
    return WeeklyVolume(
        weeks_per_cell=per_cell,
        first_week=origin.to_pydatetime(),
        cells=tuple(tuple(int(v) for v in r) for r in counts),
        marks=tuple(marks),
    )


# --- a brand's timeline -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineData:
    """What one brand's timeline chart shows.

    ``messages``: the target's rows in the window, columns ``message_id, time`` (local wall clock,
    naive), ``address, direction, label``; ``start``/``end`` the window (local, naive);
    ``earlier``: the target's messages before the window (not drawn); ``bin`` ``day`` or
    ``week``; ``bins``: incoming messages per bin, columns ``start, marketing, other``.
    """

    target: Target
    messages: pd.DataFrame
    start: datetime
    end: datetime
    earlier: int
    bin: str
    bins: pd.DataFrame


def timeline_data(
    report: Report, target: Target, *, since: datetime | None = None, rows: np.ndarray | None = None
) -> TimelineData:
    """The target's messages and per-day (span up to 100 days) or per-week counts.

    The window runs from the target's first message to the archive's last one, but shows at most
    twice as much time before ``since`` (the first unsubscribe, UTC) as after it, and never less
    than 180 days: a brand followed for years still shows the unsubscribe legibly. ``rows``: the
    target's rows of the frame as a boolean mask, when already known (:func:`row_owners` of
    several targets at once is one pass over the frame).
    """
    import numpy as np
    import pandas as pd

    f = report.frame
    if f is None:
        raise ValueError("the report holds no messages (it was not made by audit())")
    mask = row_owners(f, [target]) == 0 if rows is None else rows
    picked = f.loc[mask, ["message_id", "timestamp", "address", "direction", "label"]]
    tz = report.timezone
    local = picked["timestamp"].dt.tz_convert(tz).dt.tz_localize(None)
    messages = pd.DataFrame(
        {
            "message_id": picked["message_id"].astype(str).to_numpy(),
            "time": local.to_numpy(),
            "address": picked["address"].astype(str).to_numpy(),
            "direction": picked["direction"].astype(str).to_numpy(),
            "label": picked["label"].astype(str).to_numpy(),
        }
    )
    last = pd.Timestamp(report.last_message).tz_convert(tz).tz_localize(None) if report.last_message else None
    end = last if last is not None else (messages["time"].max() if len(messages) else pd.Timestamp.now())
    start = messages["time"].min() if len(messages) else end - pd.Timedelta(days=30)
    if since is not None:
        pivot = pd.Timestamp(since).tz_convert(tz).tz_localize(None)
        before = max(pd.Timedelta(days=180), 2 * (end - pivot))
        start = max(start, pivot - before)
        end = max(end, pivot)
    earlier = int((messages["time"] < start).sum())
    messages = messages.loc[messages["time"] >= start].reset_index(drop=True)
    span = end - start
    unit = "day" if span <= pd.Timedelta(MAX_DAILY_SPAN) else "week"
    day = messages["time"].dt.normalize()
    if unit == "day":
        first = start.normalize()
        key = day
        edges = pd.date_range(first, end.normalize(), freq="D")
    else:
        key = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
        first = start.normalize() - pd.Timedelta(days=start.day_of_week)
        edges = pd.date_range(first, end.normalize(), freq="7D")
    incoming = messages["direction"] == "in"
    marketing = incoming & (messages["label"] == "marketing")
    table = pd.DataFrame({"start": key, "marketing": marketing, "other": incoming & ~marketing})
    sums = table.loc[incoming].groupby("start")[["marketing", "other"]].sum()
    bins = sums.reindex(edges, fill_value=0).rename_axis("start").reset_index()
    bins[["marketing", "other"]] = bins[["marketing", "other"]].astype(np.int64)
    return TimelineData(
        target=target,
        messages=messages,
        start=start.to_pydatetime(),
        end=end.to_pydatetime(),
        earlier=earlier,
        bin=unit,
        bins=bins,
    )


# --- the archive by month -----------------------------------------------------------------------


def monthly_labels(report: Report) -> pd.DataFrame:
    """Messages (both directions) per local calendar month and label: index ``YYYY-MM`` strings
    covering every month of the period, columns :data:`sms_audit.schema.LABELS` (counts)."""
    import pandas as pd

    from sms_audit.schema import LABELS

    f = report.frame
    if report.overview is not None:  # a store report: the whole archive's counts per hour and label
        counts = report.overview
        if counts.empty:
            return pd.DataFrame(columns=list(LABELS), dtype="int64")
        month = counts["hour"].dt.tz_convert(report.timezone).dt.tz_localize(None).dt.to_period("M")
        table = counts.assign(month=month).pivot_table(
            index="month", columns="label", values="messages", aggfunc="sum", fill_value=0
        )
    elif f is None or f.empty:
        return pd.DataFrame(columns=list(LABELS), dtype="int64")
    else:
        month = f["timestamp"].dt.tz_convert(report.timezone).dt.tz_localize(None).dt.to_period("M")
        table = pd.crosstab(month, f["label"].astype(str))
    periods = pd.period_range(month.min(), month.max(), freq="M")
    table = table.reindex(index=periods, columns=list(LABELS), fill_value=0)
    table.index = [str(p) for p in table.index]
    return table.astype("int64")


def violations_by_month(report: Report) -> dict[str, int]:
    """Violating messages per local month (``YYYY-MM``), months in the order of the findings."""
    from collections import Counter

    import pandas as pd

    micros = report.violations.times_us()
    local = pd.Series(micros.view("datetime64[us]")).dt.tz_localize("UTC").dt.tz_convert(report.timezone)
    return dict(Counter(local.dt.strftime("%Y-%m").tolist()))


__all__ = [
    "Target",
    "TimelineData",
    "WeeklyVolume",
    "monthly_labels",
    "row_owners",
    "summary_targets",
    "timeline_data",
    "violations_by_month",
    "weekly_volume",
]
