"""Date-time text as exported by phones and PC tools: local wall-clock times, or times with a zone.

Formats that write a time without a zone (vMessage ``Date:2018/08/04 14:08:59``, CSV exports)
give *wall-clock* microseconds, read later in the archive's time zone (``Record.local_time``);
a time with ``Z``/``UTC``/an offset is converted to UTC here; a bare number is an epoch in s/ms/µs/ns
(:func:`sms_audit.importers.base.main_time_us` decides the unit by magnitude).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

_EPOCH = datetime(1970, 1, 1)
_MIN_YEAR, _MAX_YEAR = 1990, 2100  # the same plausibility window as the epoch helper

# 2018/08/04 14:08:59 · 2018-08-04T14:08:59.123+08:00 · 2018.08.04 14:08 · 2013年12月26日 下午8:56:00
_YMD = re.compile(
    r"(?P<y>[0-9]{4})\s*[-/.年]\s*(?P<m>[0-9]{1,2})\s*[-/.月]\s*(?P<d>[0-9]{1,2})\s*日?"
    r"(?:(?:\s+|T|\s*,\s*)(?P<ap1>上午|下午|凌晨|晚上|中午)?\s*(?P<H>[0-9]{1,2})[:：](?P<M>[0-9]{2})"
    r"(?:[:：](?P<S>[0-9]{2})(?:[.,](?P<frac>[0-9]{1,9}))?)?\s*(?P<ap2>[AaPp]\.?[Mm]\.?)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|(?:UTC|GMT)?\s*[+-][0-9]{1,2}(?::?[0-9]{2})?)?"
)
# 04.08.2018 14:08:59 (Nokia-style day.month.year; dots only, so never ambiguous with M/D/Y)
_DMY = re.compile(
    r"(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})"
    r"(?:\s+(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?"
)
_EPOCH_NUMBER = re.compile(r"[0-9]{9,19}(?:\.[0-9]+)?")
_PM = ("下午", "晚上")  # 上午/凌晨 are morning


class WallTime(NamedTuple):
    """Microseconds: Unix µs when ``local`` is False, wall-clock µs (as if UTC) when True."""

    us: int
    local: bool


def _offset(text: str) -> timedelta | None:
    """``Z``/``UTC``/``+08:00``/``+0800``/``GMT+8`` → the offset (None when there is none)."""
    text = text.strip().upper().removeprefix("UTC").removeprefix("GMT").strip()
    if text in ("", "Z"):
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    else:
        hours, minutes = int(digits[:-2]), int(digits[-2:])
    if hours > 14 or minutes > 59:
        raise ValueError(text)
    return sign * timedelta(hours=hours, minutes=minutes)


def _build(
    y: str, m: str, d: str, hh: str | None, mm: str | None, ss: str | None, frac: str | None, pm: bool | None
) -> datetime:
    hour = int(hh or 0)
    if pm is not None:  # 12-hour clock: 12 AM is midnight, 12 PM noon
        if not 1 <= hour <= 12:
            raise ValueError("hour")
        hour = hour % 12 + (12 if pm else 0)
    extra = timedelta(0)
    if hour == 24:  # Java "kk" writes midnight as 24:00
        hour, extra = 0, timedelta(days=1)
    micro = int((frac or "0").ljust(6, "0")[:6])
    value = datetime(int(y), int(m), int(d), hour, int(mm or 0), int(ss or 0), micro) + extra
    if not _MIN_YEAR <= value.year <= _MAX_YEAR:
        raise ValueError("year")
    return value


def _us(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_walltime(text: str, date_format: str | None = None) -> WallTime | None:
    """A date-time as written in an export, or None when it is not one.

    ``date_format`` (``strptime`` codes, e.g. ``%d/%m/%Y %H:%M``) is used instead of the
    built-in forms when given; with ``%z`` in it the time is read as UTC.
    """
    text = text.strip()
    if not text:
        return None
    if date_format:
        try:
            parsed = datetime.strptime(text, date_format)
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            return WallTime(_us(parsed.astimezone(UTC).replace(tzinfo=None)), False)
        return WallTime(_us(parsed), True) if _MIN_YEAR <= parsed.year <= _MAX_YEAR else None
    if len(text) == 19 and text[4] in "-/." and text[7] == text[4] and text[10] in " T" and text[13] == ":":
        # the common fixed layout (2018/08/04 14:08:59), without the regex
        try:
            value = _build(
                text[0:4], text[5:7], text[8:10], text[11:13], text[14:16], text[17:19], None, None
            )
        except ValueError:
            return None
        return WallTime(_us(value), True)
    if _EPOCH_NUMBER.fullmatch(text):
        from sms_audit.importers.base import Skip, main_time_us

        found = main_time_us(text.split(".")[0])
        return None if isinstance(found, Skip) else WallTime(found, False)
    match = _YMD.fullmatch(text)
    try:
        if match:
            ap = match["ap1"] or match["ap2"]
            pm = None if ap is None else (ap in _PM or ap[0] in "Pp")
            if ap == "中午":  # around noon: 中午11:30 is morning, 中午12:30 and 中午1:30 afternoon
                pm = int(match["H"]) != 11
            value = _build(
                match["y"], match["m"], match["d"], match["H"], match["M"], match["S"], match["frac"], pm
            )
            if match["tz"]:
                offset = _offset(match["tz"])
                assert offset is not None
                return WallTime(_us(value - offset), False)
            return WallTime(_us(value), True)
        match = _DMY.fullmatch(text)
        if match:
            value = _build(match["y"], match["m"], match["d"], match["H"], match["M"], match["S"], None, None)
            return WallTime(_us(value), True)
    except (ValueError, OverflowError):
        return None
    return None
