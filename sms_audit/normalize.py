"""Pure normalisation helpers: sender addresses to (key, kind) and archive timestamps to aware UTC.

The sender key is what an unsubscribe is matched on, so short codes, Chinese 106 ports, service
numbers like 95555 and alphanumeric sender IDs must survive verbatim (case-folded), and only real
phone numbers are rewritten to E.164 (FORMATS.md §6, OPT-OUT-RULES.md §3.2).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType


class SenderKind(StrEnum):
    """What kind of party an address is; drives unsubscribe and trap logic."""

    MOBILE = "mobile"
    FIXED_LINE = "fixed_line"
    LONG_CODE = "long_code"  # a possible phone number whose type phonenumbers cannot tell
    TOLL_FREE = "toll_free"
    PREMIUM_RATE = "premium_rate"
    SHARED_COST = "shared_cost"  # CN 400/800 numbers, UK 084x
    VOIP = "voip"
    SHORT_CODE = "short_code"
    CN_COMMERCIAL_PORT = "cn_commercial_port"  # 106 / 1069 ... SP ports
    SERVICE_NUMBER = "service_number"  # 95555, 10086, 12306 ...
    ALPHANUMERIC = "alphanumeric"
    EMAIL = "email"
    GROUP = "group"  # RCS group pseudo-address
    UNKNOWN = "unknown"


#: Kinds that belong to businesses rather than private persons.
BUSINESS_KINDS = frozenset(
    {
        SenderKind.TOLL_FREE,
        SenderKind.PREMIUM_RATE,
        SenderKind.SHARED_COST,
        SenderKind.SHORT_CODE,
        SenderKind.CN_COMMERCIAL_PORT,
        SenderKind.SERVICE_NUMBER,
        SenderKind.ALPHANUMERIC,
    }
)
#: Kinds that look like a private person's number (trap heuristics, OPT-OUT-RULES.md §9).
PERSONAL_KINDS = frozenset({SenderKind.MOBILE, SenderKind.FIXED_LINE, SenderKind.LONG_CODE})


class Address(NamedTuple):
    key: str
    kind: SenderKind


_PHONE_PUNCT = re.compile(r"[\s\-().\u00a0\u2000-\u200f\u2028\u2029\u202f\u3000/]")
_DIGITS = re.compile(r"\+?[0-9]+")
_CN_PORT = re.compile(r"106[0-9]{2,}")
# Chinese bank/carrier/government service numbers (95588, 10086, 10010, 1010xxxx SP numbers, 12306 ...).
_CN_SERVICE = re.compile(r"(?:95[0-9]{3,4}|96[0-9]{3,4}|100[0-9]{2,3}|101[0-9]{2,5}|12[0-9]{3})")
_TYPE_KIND = {
    PhoneNumberType.MOBILE: SenderKind.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: SenderKind.MOBILE,
    PhoneNumberType.PERSONAL_NUMBER: SenderKind.MOBILE,
    PhoneNumberType.PAGER: SenderKind.MOBILE,
    PhoneNumberType.FIXED_LINE: SenderKind.FIXED_LINE,
    PhoneNumberType.TOLL_FREE: SenderKind.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE: SenderKind.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST: SenderKind.SHARED_COST,
    PhoneNumberType.UAN: SenderKind.SHARED_COST,
    PhoneNumberType.VOIP: SenderKind.VOIP,
}


def _region(region: str | None) -> str | None:
    return region.upper() if region and region.upper() != "ZZ" else None


@lru_cache(maxsize=4096)
def normalize_address(raw: str | None, region: str | None = None) -> Address:
    """Normalise one address to its matching key and sender kind (cached; see the uncached twin).

    ``region`` is the ISO 3166 default region for national numbers ("CN", "US"); ``None`` keeps
    national numbers as bare digits. Never raises; idempotent: normalising a key gives the same key.
    """
    return normalize_address_uncached(raw, region)


def normalize_address_uncached(raw: str | None, region: str | None = None) -> Address:
    """:func:`normalize_address` without the shared cache (callers that keep their own per-archive
    cache use this, so a million distinct numbers never thrash a global one)."""
    text = (raw or "").strip()
    if not text:
        return Address("", SenderKind.UNKNOWN)
    if "@" in text:
        key = text.casefold()
        return Address(key, SenderKind.GROUP if key.endswith("@rcs.google.com") else SenderKind.EMAIL)
    compact = _PHONE_PUNCT.sub("", text)
    if not _DIGITS.fullmatch(compact):
        # Alphanumeric sender IDs ("Google", "AD-HDFCBK-P", "MTN N"): verbatim, case-folded.
        return Address(" ".join(text.split()).casefold(), SenderKind.ALPHANUMERIC)
    return _normalize_number(compact, _region(region))


def _normalize_number(number: str, region: str | None) -> Address:
    plus = number.startswith("+")
    digits = number.lstrip("+")
    if digits.startswith("00") and len(digits) > 8:  # international prefix written as 00
        digits, plus = digits[2:], True
    # 106 ports exist only in China, and no other plan starts a national number with 106:
    # recognise them whenever the region is unknown too.
    chinese = region == "CN" or (
        region is None and not plus and _CN_PORT.fullmatch(digits) is not None and len(digits) >= 8
    )
    if plus and digits.startswith("86"):
        national, chinese = digits[2:], True
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1" and digits[3] != "0":
        national, chinese, plus = digits[2:], True, True  # 8613800138000 written without "+"
    else:
        national = digits
    if chinese:
        if _CN_PORT.fullmatch(national):
            return Address(national, SenderKind.CN_COMMERCIAL_PORT)
        if _CN_SERVICE.fullmatch(national):
            return Address(national, SenderKind.SERVICE_NUMBER)
    if not plus and len(digits) <= 6:
        return Address(digits, SenderKind.SHORT_CODE)
    try:
        parsed = phonenumbers.parse(("+" + digits) if plus else digits, None if plus else region)
    except NumberParseException:
        kind = SenderKind.SHORT_CODE if not plus and len(digits) <= 8 else SenderKind.UNKNOWN
        return Address(("+" if plus else "") + digits, kind)
    if phonenumbers.is_valid_number(parsed):
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        return Address(e164, _TYPE_KIND.get(phonenumbers.number_type(parsed), SenderKind.LONG_CODE))
    if not plus and len(digits) <= 8:
        return Address(digits, SenderKind.SHORT_CODE)
    if phonenumbers.is_possible_number(parsed):
        return Address(
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), SenderKind.LONG_CODE
        )
    return Address(("+" if plus else "") + digits, SenderKind.UNKNOWN)


_GROUP_SPLIT = re.compile(r"[~;,]")
# A phone number as written in a group address list ("+1 555-0100"); sender IDs are never split.
_PHONE_LIKE = re.compile(r"[ ]*\+?[0-9][0-9 ()\-.]{2,}[ ]*")


def split_group_address(address: str) -> list[str]:
    """The members of a group address ``"+15550100001~+15550100002"`` (Signal/Silence, SB&R), or
    ``[address]`` when it names one party. Only lists of phone numbers are split: an alphanumeric
    sender ID may hold a comma."""
    if "~" not in address and ";" not in address and "," not in address:
        return [address]  # most addresses: no list to split
    parts = [p for p in _GROUP_SPLIT.split(address) if p.strip()]
    if len(parts) > 1 and all(_PHONE_LIKE.fullmatch(p) for p in parts):
        return [p.strip() for p in parts]
    return [address]


def address_identity(raw: str | None) -> str:
    """A region-independent canonical form of a raw address, used inside content-hash message ids."""
    text = (raw or "").strip()
    compact = _PHONE_PUNCT.sub("", text)
    return compact.casefold() if compact else ""


def infer_region(raw_addresses: Iterable[str]) -> str | None:
    """Guess the phone owner's region from the international numbers in an archive.

    Returns the region code of the most common country among ``+``-prefixed numbers and Chinese
    106 ports, or ``None``.
    """
    counts: Counter[str] = Counter()
    for raw in raw_addresses:
        compact = _PHONE_PUNCT.sub("", raw or "")
        if compact.isdigit() and len(compact) >= 8 and _CN_PORT.fullmatch(compact):
            counts["CN"] += 1  # a Chinese commercial port: only Chinese phones receive these
            continue
        if not compact.startswith("+") or not compact[1:].isdigit():
            continue
        try:
            parsed = phonenumbers.parse(compact, None)
        except NumberParseException:
            continue
        if parsed.country_code is None:
            continue
        region = phonenumbers.region_code_for_country_code(parsed.country_code)
        if region and region != "ZZ":
            counts[region] += 1
    return counts.most_common(1)[0][0] if counts else None


def valid_region(region: str) -> str:
    """Return ``region`` upper-cased if phonenumbers knows it, else raise ValueError."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown region {region!r} (use an ISO 3166 code such as CN, US, GB)")
    return code


# --- time -------------------------------------------------------------------------------------

UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
_APPLE_OFFSET_US = 978_307_200_000_000  # 2001-01-01 in Unix microseconds
_APPLE_NS_THRESHOLD = 10**15  # iOS 11+/macOS 10.13+ store nanoseconds (iLEAPP fix_cocoa_date)
#: Plausible message times: 1990-01-01 to 2100-01-01 UTC, in Unix microseconds.
EARLIEST_US = 631_152_000_000_000
LATEST_US = 4_102_444_800_000_000
# Microseconds per unit, largest unit first. Within the 1990-2100 window a Unix value fits at
# most one unit (the window spans a factor < 1000), so magnitude alone decides the unit.
_UNITS_US = (1_000_000, 1_000, 1)


def epoch_us(value: float | str | None, *, apple: bool = False) -> int | None:
    """Microseconds since 1970-01-01 UTC from an archive's epoch number, whatever its unit.

    Unix values may be seconds, milliseconds, microseconds or nanoseconds (SB&R writes ms for SMS
    and s for MMS ``date_sent``; converters from Hangouts write ms where s belongs): the one
    reading that falls between 1990 and 2100 is taken. ``apple`` values count from 2001-01-01:
    seconds up to iOS 10, nanoseconds after (> 1e15; FORMATS.md §4.4). Returns None for a missing,
    zero or "null" value and for one that no reading puts in 1990-2100; raises ValueError for
    text that is not a number. Never raises OverflowError.
    """
    n = _as_int(value)
    if not n or n < 0:
        return None
    if apple:
        us = n // 1000 if n > _APPLE_NS_THRESHOLD else n * 1_000_000
        us += _APPLE_OFFSET_US
        return us if EARLIEST_US <= us < LATEST_US else None
    for per_unit in _UNITS_US:
        us = n * per_unit
        if EARLIEST_US <= us < LATEST_US:
            return us
    us = n // 1000  # nanoseconds
    return us if EARLIEST_US <= us < LATEST_US else None


def us_to_datetime(us: int | None) -> datetime | None:
    """Unix microseconds → aware UTC datetime (None stays None)."""
    return None if us is None else UNIX_EPOCH + timedelta(microseconds=us)


def from_epoch(value: float | str | None, *, apple: bool = False) -> datetime | None:
    """:func:`epoch_us` as an aware UTC datetime."""
    return us_to_datetime(epoch_us(value, apple=apple))


def to_apple_ns(moment: datetime) -> int:
    """Apple nanoseconds since 2001 (the iOS 11+ form; used by fixture builders)."""
    delta = moment - APPLE_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def to_unix_ms(moment: datetime) -> int:
    """Aware datetime → milliseconds since 1970."""
    delta = moment - UNIX_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def to_unix_us(moment: datetime) -> int:
    """Aware datetime → microseconds since 1970."""
    delta = moment - UNIX_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _as_int(value: float | str | None) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    text = value.strip()
    if not text or text == "null":
        return None
    try:
        return int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"not a number: {value!r}") from None
        return int(number) if math.isfinite(number) else None


# --- user-given times and durations -------------------------------------------------------------

_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(sec|min|bd|s|m|h|d|w)", re.IGNORECASE)
_DURATION_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``5min``, ``24h``, ``3d``, ``2w`` or combinations (``1d12h``) → timedelta.

    Raises ValueError with a readable message. (``bd``, business days, is a policy matter and is
    rejected here; the report module handles it.)
    """
    compact = text.strip().replace(" ", "")
    pos, total = 0, 0.0
    for match in _DURATION.finditer(compact):
        if match.start() != pos or match.group(2).lower() == "bd":
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]
        pos = match.end()
    if not compact or pos != len(compact):
        raise ValueError(f"not a duration: {text!r} (examples: 24h, 3d, 2w, 90min)")
    return timedelta(seconds=total)


def parse_when(text: str, *, now: datetime | None = None, zone: str | None = None) -> datetime:
    """A point in time from the command line: ISO date/time or a duration meaning "that long ago"
    (``7d``). A date or time without an offset is wall-clock time in ``zone`` (an IANA name; UTC when
    None): ``2024-05-01`` in Asia/Shanghai is 2024-04-30T16:00Z. Returns aware UTC; raises ValueError."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            return (now or datetime.now(UTC)) - parse_duration(value)
        except ValueError:
            raise ValueError(
                f"not a date, time or duration: {text!r} "
                "(examples: 2024-05-01, 2024-05-01T08:00:00+08:00, 30d)"
            ) from None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    if zone is None:
        return moment.replace(tzinfo=UTC)
    from zoneinfo import ZoneInfo

    # fold=0: in a DST overlap the earlier reading, as the archive times are read
    return moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
