"""The HTML report's charts: matplotlib figures saved as SVG, text kept as text, no JavaScript.

Why matplotlib SVG (issue 14): the page needs no script at all, so its Content-Security-Policy can
forbid every script; vectors print sharply; text stays ``<text>``, so the browser draws Chinese
with the system's fonts (nothing downloaded) and find-in-page and screen readers read it; a chart
is 10-60 kB. Colours are Okabe-Ito (safe for colour-blind readers) and what matters differs by
shape too: violations are rings, unsubscribes dashed lines, the grace window a shaded band.

Every chart carries ``<title>``/``<desc>`` (its text alternative), ``role="img"``, ids prefixed
with its own id (several charts share a page), and each highlighted mark a ``class`` and
``data-*`` attributes plus a ``<title>`` tooltip. matplotlib is imported only here, inside the
functions: ``sms-audit --help`` never loads it.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from sms_audit.report.analysis import STATUS_ORDER, VIOLATION_KINDS, Finding, LedgerEntry, Unsubscribe

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from sms_audit.report.timelines import TimelineData

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour deficiency.
BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
BLACK = "#000000"
GREY = "#8C8C8C"
LIGHT_GREY = "#C8C8C8"

#: Label → (colour, legend text), in stacking order (bottom first).
LABEL_STYLE: dict[str, tuple[str, str]] = {
    "marketing": (BLUE, "marketing"),
    "verification": (ORANGE, "verification codes"),
    "other": (LIGHT_GREY, "other (notices, personal)"),
    "unsubscribe-confirmation": (GREEN, "unsubscribe confirmations"),
    "unsubscribe-reply": (BLACK, "your unsubscribe replies"),
}
STATUS_COLOURS: dict[str, str] = {
    "violated": VERMILLION,
    "replied to trap": PURPLE,
    "within grace": YELLOW,
    "honoured": GREEN,
    "re-subscribed": SKY,
}
#: Swimlane rows before the rest of a brand's numbers share one row.
MAX_ROWS = 12
#: Above this many messages in a window, a timeline draws one point per number, bar and kind.
MAX_POINTS = 1500
#: Violation rings get a hover text up to this many per chart (beyond, the table has the details).
MAX_TOOLTIPS = 300

# Fonts matplotlib measures text with (the SVG keeps text as text and the page's CSS picks the
# system's fonts when it is shown): DejaVu ships with matplotlib; the CJK families are tried if
# installed so Chinese brand names are measured with real glyphs.
_FONT_PREFERENCE = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "Arial Unicode MS",
)

_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"


@dataclass(frozen=True, slots=True)
class Mark:
    """A drawn element to expose to the page: CSS class, data attributes, tooltip."""

    css_class: str
    data: Mapping[str, str]
    tooltip: str


# --- shared set-up ------------------------------------------------------------------------------


def _fonts() -> list[str]:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [name for name in _FONT_PREFERENCE if name in installed] or ["DejaVu Sans"]


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    rc: dict[Any, Any] = {
        "svg.fonttype": "none",  # text as <text>, drawn by the browser's fonts
        "svg.hashsalt": "sms-audit",  # ids and clip paths stable from run to run
        "text.parse_math": False,  # "$5 off $20" is money, not TeX
        "font.family": _fonts(),
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#6e7781",
        "axes.labelcolor": "#24292f",
        "xtick.color": "#57606a",
        "ytick.color": "#24292f",
        "axes.titlesize": 10,
        "legend.frameon": False,
        "legend.fontsize": 8.5,
    }
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        # Without a CJK font installed, matplotlib warns per glyph it cannot measure; the
        # browser still draws them with the viewer's fonts.
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        yield


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def _text(text: str) -> str:
    """Chart text: control and invisible characters shown escaped, never interpreted."""
    from sms_audit.output import visible

    return visible(text, keep_newlines=False)


# --- SVG post-processing ----------------------------------------------------------------------


_FONT_FAMILY = re.compile(r"font-family:[^;\"]*;?\s*")
# Coordinates to 1/100 of a point (the chart is 720 points wide): a third of the bytes.
_LONG_DECIMAL = re.compile(r"(\d\.\d\d)\d+")
_GEOMETRY = ("d", "x", "y", "transform", "points")


def _apply(element: ET.Element, mark: Mark) -> None:
    element.set("class", mark.css_class)
    for key, value in mark.data.items():
        element.set(f"data-{key}", value)
    if mark.tooltip:
        tip = ET.Element(f"{{{_SVG}}}title")
        tip.text = mark.tooltip
        element.insert(0, tip)


def _hoist_marker_styles(root: ET.Element) -> None:
    """matplotlib repeats the same ``style`` on every marker ``<use>`` of a line; put it once on
    the group (fill and stroke inherit), which halves the size of a chart with many points."""
    use = f"{{{_SVG}}}use"
    for group in root.iter(f"{{{_SVG}}}g"):
        children = list(group)
        if len(children) < 2 or any(c.tag != use for c in children):
            continue
        styles = {c.get("style") for c in children}
        if len(styles) != 1 or None in styles or group.get("style"):
            continue
        group.set("style", styles.pop() or "")
        for child in children:
            del child.attrib["style"]


def finish_svg(
    raw: str, chart_id: str, title: str, desc: str, marks: Mapping[str, Mark | Sequence[Mark]]
) -> str:
    """matplotlib's SVG made fit for inlining: no XML prolog or metadata, ids prefixed with
    ``chart_id``, fonts left to the page, ``role="img"`` with ``<title>``/``<desc>``, and the
    elements whose gid is in ``marks`` given their class, data attributes and tooltip. A sequence
    of marks goes to the gid's marker points (``<use>``), one each, in plotting order; raises
    ValueError when the counts differ (a point was not drawn)."""
    ET.register_namespace("", _SVG)
    ET.register_namespace("xlink", _XLINK)
    root = ET.fromstring(raw.encode("utf-8"))
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{_SVG}}}metadata", f"{{{_SVG}}}style"):
                parent.remove(child)
    href = f"{{{_XLINK}}}href"
    for element in root.iter():
        if element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
        for name in _GEOMETRY:
            value = element.get(name)
            if value:
                element.set(name, _LONG_DECIMAL.sub(r"\1", value))
        gid = element.get("id")
        if gid is not None:
            element.set("id", f"{chart_id}-{gid}")
        for name, value in list(element.attrib.items()):
            if "url(#" in value:
                element.set(name, value.replace("url(#", f"url(#{chart_id}-"))
        if element.get(href, "").startswith("#"):
            element.set(href, "#" + chart_id + "-" + element.get(href, "")[1:])
        style = element.get("style")
        if style and "font-family" in style:
            element.set("style", _FONT_FAMILY.sub("", style).strip())
        mark = marks.get(gid or "")
        if isinstance(mark, Mark):
            _apply(element, mark)
        elif mark is not None:
            points = list(element.iter(f"{{{_SVG}}}use"))
            if len(points) != len(mark):
                raise ValueError(f"{chart_id}: {len(mark)} marks for {len(points)} points of {gid}")
            for point, one in zip(points, mark, strict=True):
                _apply(point, one)
    _hoist_marker_styles(root)
    for name in ("width", "height"):
        root.attrib.pop(name, None)
    root.set("class", "chart-svg")
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    title_el = ET.Element(f"{{{_SVG}}}title", {"id": f"{chart_id}-title"})
    title_el.text = title
    desc_el = ET.Element(f"{{{_SVG}}}desc", {"id": f"{chart_id}-desc"})
    desc_el.text = desc
    root.insert(0, desc_el)
    root.insert(0, title_el)
    return ET.tostring(root, encoding="unicode")


def _save(
    fig: Figure, chart_id: str, title: str, desc: str, marks: Mapping[str, Mark | Sequence[Mark]]
) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return finish_svg(buffer.getvalue(), chart_id, title, desc, marks)


def _legend_columns(handles: Sequence[Any]) -> int:
    """Four columns fit the 10-inch figure for labels up to about 34 characters; then three."""
    longest = max((len(h.get_label()) for h in handles), default=0)
    return 4 if longest <= 34 else 3


# --- a brand's timeline -------------------------------------------------------------------------


def _row_numbers(messages: pd.DataFrame) -> tuple[list[str], dict[str, int]]:
    """Swimlane rows: numbers in order of first appearance; beyond :data:`MAX_ROWS` the least busy
    share the last row. Returns the row labels' numbers (``""`` = the shared row) and number → row."""
    if messages.empty:
        return [], {}
    stats = messages.groupby("address", sort=False).agg(first=("time", "min"), n=("time", "size"))
    if len(stats) > MAX_ROWS:
        kept = set(stats.sort_values(["n", "first"], ascending=[False, True]).index[: MAX_ROWS - 1])
    else:
        kept = set(stats.index)
    ordered = [a for a in stats.sort_values("first").index if a in kept]
    rows = {a: i for i, a in enumerate(ordered)}
    if len(stats) > len(kept):
        shared = len(ordered)
        rows.update({a: shared for a in stats.index if a not in kept})
        ordered.append("")
    return ordered, rows


def timeline_svg(
    data: TimelineData,
    *,
    unsubscribes: Sequence[Unsubscribe],
    findings: Sequence[Finding],
    tz: str,
    chart_id: str,
    title: str,
    desc: str,
    show_number: Callable[[str], str] = str,
    grace_text: str = "",
) -> str:
    """One brand's timeline as inline SVG.

    Top: one row per sending number (``show_number`` masks it for ``--redact``), a point per
    message (filled = marketing, hollow = codes/notices/other, square = confirmation, diamond =
    your reply), a ring on each violating message. Bottom: messages received per day or week,
    marketing vs other. Both: each unsubscribe a dashed line, its grace window shaded yellow, the
    time after it tinted, a re-subscribe a dotted green line. Violation rings carry
    ``class="violation"`` and ``data-finding``/``data-kind``/``data-number``.
    """
    import matplotlib.dates as mdates
    import pandas as pd
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    messages = data.messages
    numbers, row_of = _row_numbers(messages)
    shared = sum(1 for a in row_of if a not in numbers)
    # Findings name numbers as shown (masked by --redact): place them by message id.
    row_of_message = dict(zip(messages["message_id"], messages["address"].map(row_of), strict=True))
    n_rows = max(len(numbers), 1)
    start = pd.Timestamp(data.start)
    end = pd.Timestamp(data.end)
    pad = max((end - start) * 0.02, pd.Timedelta(hours=12))
    marks: dict[str, Mark | Sequence[Mark]] = {}
    with _style():
        fig = _figure(10, 0.3 * n_rows + 2.9)
        lanes, bars = fig.subplots(
            2, 1, sharex=True, height_ratios=[0.3 * n_rows + 0.5, 1.45], gridspec_kw={"hspace": 0.05}
        )
        handles: list[Any] = []

        points = messages.assign(row=messages["address"].map(row_of))
        if len(points) > MAX_POINTS:
            day = points["time"].dt.normalize()
            if data.bin == "week":
                day = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
            middle = pd.Timedelta(hours=12) if data.bin == "day" else pd.Timedelta(days=3.5)
            points = points.assign(time=day + middle).drop_duplicates(["row", "time", "direction", "label"])
        incoming = points["direction"] == "in"
        groups: list[tuple[pd.Series, dict[str, Any], str]] = [
            (
                incoming & (points["label"] == "marketing"),
                {"marker": "o", "markersize": 5.5, "markerfacecolor": BLUE, "markeredgecolor": "white"},
                "marketing received",
            ),
            (
                incoming & (points["label"] == "unsubscribe-confirmation"),
                {"marker": "s", "markersize": 5.5, "markerfacecolor": GREEN, "markeredgecolor": "white"},
                "unsubscribe confirmation",
            ),
            (
                incoming & ~points["label"].isin(["marketing", "unsubscribe-confirmation"]),
                {"marker": "o", "markersize": 5, "markerfacecolor": "white", "markeredgecolor": "#57606a"},
                "code, notice or other",
            ),
            (
                ~incoming & (points["label"] == "unsubscribe-reply"),
                {"marker": "D", "markersize": 6, "markerfacecolor": BLACK, "markeredgecolor": "white"},
                "your unsubscribe reply",
            ),
            (
                ~incoming & (points["label"] != "unsubscribe-reply"),
                {"marker": "|", "markersize": 8, "markeredgecolor": "#57606a", "markeredgewidth": 1.2},
                "your other messages",
            ),
        ]
        for mask, style, label in groups:
            chosen = points.loc[mask]
            if chosen.empty:
                continue
            lanes.plot(chosen["time"], chosen["row"], linestyle="none", zorder=3, **style)
            handles.append(Line2D([], [], linestyle="none", label=label, **style))

        violations = [f for f in findings if f.kind in VIOLATION_KINDS]
        if violations:
            # One line of rings, so the SVG holds one <use> per violation (tagged below).
            times = [_local(item.message.timestamp, tz) for item in violations]
            rows = [row_of_message.get(item.message.message_id) for item in violations]
            lanes.plot(
                times,
                [n_rows - 1 if r is None or pd.isna(r) else int(r) for r in rows],
                linestyle="none",
                marker="o",
                markersize=12 if len(violations) <= 60 else (9 if len(violations) <= 300 else 7),
                markerfacecolor="none",
                markeredgecolor=VERMILLION,
                markeredgewidth=2.2 if len(violations) <= 300 else 1.6,
                zorder=4,
                gid="violations",
            )
            with_tips = len(violations) <= MAX_TOOLTIPS
            marks["violations"] = [
                Mark(
                    "violation",
                    {"finding": item.finding_id, "kind": item.kind},
                    f"violation {at:%Y-%m-%d %H:%M} from {item.message.address}" if with_tips else "",
                )
                for item, at in zip(violations, times, strict=True)
            ]
        if violations:
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="o",
                    markersize=10,
                    markerfacecolor="none",
                    markeredgecolor=VERMILLION,
                    markeredgewidth=2,
                    label="violation (marketing after grace)",
                )
            )

        # Unsubscribes, grace windows, the time after them, re-subscribes.
        has_grace = has_after = has_resub = False
        for n, unsub in enumerate(unsubscribes):
            sent = _local(unsub.message.timestamp, tz)
            deadline = _local(unsub.deadline, tz)
            stop = _local(unsub.resubscribe.timestamp, tz) if unsub.resubscribe else end.to_pydatetime()
            for ax in (lanes, bars):
                if deadline > sent:
                    ax.axvspan(sent, deadline, color=YELLOW, alpha=0.55, linewidth=0, zorder=0)
                if stop > deadline:
                    ax.axvspan(deadline, stop, color=VERMILLION, alpha=0.07, linewidth=0, zorder=0)
                ax.axvline(sent, color=BLACK, linewidth=1.1, linestyle=(0, (4, 2)), zorder=2)
                if unsub.resubscribe is not None:
                    ax.axvline(stop, color=GREEN, linewidth=1.3, linestyle=":", zorder=2)
            has_grace |= deadline > sent
            has_after |= stop > deadline
            has_resub |= unsub.resubscribe is not None
            gid = f"unsubscribe-{n}"
            lanes.annotate(
                _text(f'you sent "{unsub.keyword}" {sent:%m-%d %H:%M}'),
                xy=(sent, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, 2),
                textcoords="offset points",
                fontsize=8.5,
                fontweight="bold",
                va="bottom",
                ha="left",
                gid=gid,
            )
            marks[gid] = Mark(
                "unsubscribe",
                {"number": unsub.address, "keyword": unsub.keyword},
                f'Unsubscribe "{unsub.keyword}" sent to {unsub.address} at {sent:%Y-%m-%d %H:%M}; '
                f"grace until {deadline:%Y-%m-%d %H:%M}",
            )
        handles.append(
            Line2D([], [], color=BLACK, linewidth=1.1, linestyle=(0, (4, 2)), label="your unsubscribe")
        )
        if has_grace:
            short = grace_text if grace_text and len(grace_text) <= 16 else ""
            grace = f"grace period ({short})" if short else "grace period"
            handles.append(Patch(facecolor=YELLOW, alpha=0.55, label=grace))
        if has_after:
            handles.append(Patch(facecolor=VERMILLION, alpha=0.12, label="after the grace period"))
        if has_resub:
            handles.append(
                Line2D([], [], color=GREEN, linewidth=1.3, linestyle=":", label="you re-subscribed")
            )

        lanes.set_yticks(
            range(len(numbers)),
            [_text(show_number(a)) if a else f"{shared} other numbers" for a in numbers],
        )
        lanes.set_ylim(n_rows - 0.4, -0.6)
        lanes.tick_params(axis="y", length=0)
        lanes.grid(axis="y", color="#eaeef2", linewidth=0.8)
        lanes.set_axisbelow(True)
        lanes.spines["left"].set_visible(False)
        lanes.spines["bottom"].set_visible(False)
        lanes.tick_params(axis="x", length=0)
        if n_rows >= 3:
            lanes.set_ylabel("sending number", fontsize=8.5, color="#57606a")

        width = 1 if data.bin == "day" else 7
        bins = data.bins
        if len(bins):
            # Steps, not one rectangle per bar: one path per series whatever the span.
            edges = mdates.date2num(list(bins["start"]) + [bins["start"].iloc[-1] + pd.Timedelta(days=width)])
            marketing = bins["marketing"].to_numpy(dtype=float)
            both = marketing + bins["other"].to_numpy(dtype=float)
            bars.stairs(both, edges, baseline=marketing, fill=True, color=LIGHT_GREY, zorder=3)
            bars.stairs(marketing, edges, fill=True, color=BLUE, zorder=3)
            bars.stairs(both, edges, color="white", linewidth=0.6, zorder=3.5)
            handles.insert(0, Patch(facecolor=LIGHT_GREY, label=f"other messages per {data.bin}"))
            handles.insert(0, Patch(facecolor=BLUE, label=f"marketing per {data.bin}"))
        bars.set_ylabel(f"per {data.bin}", fontsize=8.5, color="#57606a")
        bars.yaxis.set_major_locator(MaxNLocator(integer=True))
        bars.grid(axis="y", color="#eaeef2", linewidth=0.8)
        bars.set_axisbelow(True)
        locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
        bars.xaxis.set_major_locator(locator)
        bars.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        bars.set_xlim(start - pad, end + pad)
        fig.legend(handles=handles, loc="outside lower center", ncols=_legend_columns(handles))
        return _save(fig, chart_id, title, desc, marks)


# --- the archive by month ------------------------------------------------------------------------


def overview_svg(
    table: pd.DataFrame, violations: Mapping[str, int], *, chart_id: str, title: str, desc: str
) -> str:
    """Messages per month, stacked by label (``table`` from
    :func:`~sms_audit.report.timelines.monthly_labels`); months with violations get a vermillion
    marker with their count (``class="month-violations"``)."""
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    marks: dict[str, Mark | Sequence[Mark]] = {}
    months = list(table.index)
    x = np.arange(len(months))
    with _style():
        fig = _figure(10, 3.3)
        ax = fig.subplots()
        bottom = np.zeros(len(months))
        for label, (colour, text) in LABEL_STYLE.items():
            values = table[label].to_numpy(dtype=float) if label in table.columns else np.zeros(len(months))
            if not values.any():
                continue
            ax.bar(x, values, bottom=bottom, width=0.78, color=colour, label=text, zorder=3)
            bottom += values
        top = float(bottom.max()) if len(bottom) else 0.0
        for i, month in enumerate(months):
            count = violations.get(month, 0)
            if not count:
                continue
            gid = f"month-violations-{month}"
            ax.plot(
                [i],
                [bottom[i] + top * 0.06],
                marker="v",
                markersize=7,
                color=VERMILLION,
                linestyle="none",
                zorder=4,
                gid=gid,
            )
            ax.annotate(
                str(count),
                (i, bottom[i] + top * 0.06),
                xytext=(0, 6),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color=VERMILLION,
                fontweight="bold",
            )
            marks[gid] = Mark(
                "month-violations",
                {"month": month, "count": str(count)},
                f"{count} violation{'' if count == 1 else 's'} in {month}",
            )
        step = max(1, -(-len(months) // 18))
        ax.set_xticks(
            x[::step],
            months[::step],
            rotation=0 if len(months) <= 12 else 45,
            ha="center" if len(months) <= 12 else "right",
        )
        ax.set_xlim(-0.6, len(months) - 0.4)
        ax.set_ylim(0, top * 1.22 if top else 1)
        ax.set_ylabel("messages per month", fontsize=8.5, color="#57606a")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", color="#eaeef2", linewidth=0.8)
        ax.set_axisbelow(True)
        handles, _ = ax.get_legend_handles_labels()
        if violations:
            handles.append(
                Line2D([], [], marker="v", color=VERMILLION, linestyle="none", label="violations that month")
            )
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(_legend_columns(handles), max(len(handles), 1)),
        )
        return _save(fig, chart_id, title, desc, marks)


# --- the unsubscribe ledger ---------------------------------------------------------------------


def ledger_svg(ledger: Sequence[LedgerEntry], *, chart_id: str, title: str, desc: str) -> str:
    """Two stacked bars: what became of the unsubscribes (by status) and how many were confirmed.
    Segments carry ``class="ledger-segment"`` and ``data-status``/``data-count``."""
    from matplotlib.ticker import MaxNLocator

    marks: dict[str, Mark | Sequence[Mark]] = {}
    total = len(ledger)
    statuses = [(s, sum(1 for e in ledger if e.status == s)) for s in STATUS_ORDER]
    confirmed = sum(1 for e in ledger if e.confirmed)
    rows = [
        ("what happened", [(s, n, STATUS_COLOURS[s]) for s, n in statuses if n]),
        (
            "confirmation",
            [
                (s, n, c)
                for s, n, c in (
                    ("confirmed", confirmed, GREEN),
                    ("no confirmation", total - confirmed, LIGHT_GREY),
                )
                if n
            ],
        ),
    ]
    with _style():
        fig = _figure(10, 1.75)
        ax = fig.subplots()
        for y, (_, segments) in enumerate(rows):
            left = 0
            for status, n, colour in segments:
                gid = f"ledger-{y}-{status.replace(' ', '-')}"
                ax.barh(y, n, left=left, color=colour, edgecolor="white", linewidth=1.5, height=0.62, gid=gid)
                dark = colour in (VERMILLION, BLUE, GREEN, PURPLE, BLACK)
                text = f"{n} {status}" if n / max(total, 1) >= 0.14 else str(n)
                ax.text(
                    left + n / 2,
                    y,
                    text,
                    ha="center",
                    va="center",
                    fontsize=8.5,
                    color="white" if dark else "#24292f",
                    fontweight="bold",
                )
                marks[gid] = Mark(
                    "ledger-segment", {"status": status, "count": str(n)}, f"{n} of {total}: {status}"
                )
                left += n
        ax.set_yticks(range(len(rows)), [name for name, _ in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlim(0, max(total, 1))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(f"unsubscribes sent ({total})", fontsize=8.5, color="#57606a")
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        return _save(fig, chart_id, title, desc, marks)


__all__ = ["LABEL_STYLE", "Mark", "finish_svg", "ledger_svg", "overview_svg", "timeline_svg"]
