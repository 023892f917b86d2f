"""Grace-period policies by jurisdiction (OPT-OUT-RULES.md §1), with vectorized deadline arithmetic."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sms_audit.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd


class Calendar(StrEnum):
    """Which days count as business days."""

    NONE = ""  # plain elapsed time
    US_FEDERAL = "us-federal"  # Mon–Fri without US federal holidays (pandas USFederalHolidayCalendar)
    MON_FRI = "mon-fri"  # Mon–Fri; public holidays are not modelled


@dataclass(frozen=True, slots=True)
class Policy:
    """One preset: how long a sender may take, whether that is law or a default, and where it comes from.

    Exactly one of ``grace`` (elapsed time), ``grace_months`` (calendar months) or ``business_days``
    is set. Business days are counted in the report's time zone: the day of the unsubscribe is day 0
    (rolled back to the previous business day when it is not one), and messages are within grace
    until the end of business day N.
    """

    name: str
    jurisdiction: str
    kind: str  # "statutory" | "heuristic"
    grace_text: str
    scope: str
    source: str
    confirmation_window: timedelta
    confirmation_text: str
    grace: timedelta | None = None
    grace_months: int = 0
    business_days: int = 0
    calendar: Calendar = Calendar.NONE
    notes: str = ""
    overridden: bool = False
    override_source: str = ""  # where the grace override came from: --grace, $SMS_AUDIT_GRACE, config.toml

    def deadlines(self, start: pd.Series, tz: str) -> pd.Series:
        """The end of the grace period for each unsubscribe time (aware UTC in, aware UTC out)."""
        import pandas as pd

        start = pd.to_datetime(start, utc=True)
        if self.business_days:
            return _business_deadlines(start, self.business_days, self.calendar, tz)
        if self.grace_months:
            local = start.dt.tz_convert(tz).dt.tz_localize(None) + pd.DateOffset(months=self.grace_months)
            return _localize(local, tz)
        return start + pd.Timedelta(self.grace or timedelta(0))

    def to_record(self) -> dict[str, object]:
        """The policy as plain values (JSON ``policy`` object)."""
        return {
            "name": self.name,
            "jurisdiction": self.jurisdiction,
            "kind": self.kind,
            "grace": self.grace_text,
            "grace_seconds": None if self.grace is None else int(self.grace.total_seconds()),
            "grace_months": self.grace_months or None,
            "business_days": self.business_days or None,
            "calendar": self.calendar.value or None,
            "confirmation_window_seconds": int(self.confirmation_window.total_seconds()),
            "confirmation": self.confirmation_text,
            "scope": self.scope,
            "source": self.source,
            "notes": self.notes,
            "overridden": self.overridden,
        }

    def describe(self) -> str:
        """One plain-language sentence about the grace period and its basis."""
        basis = "set by law" if self.kind == "statutory" else "a default chosen by sms-audit, not law"
        text = f"policy {self.name} ({self.jurisdiction}): grace {self.grace_text}, {basis}; source: {self.source}"
        if self.overridden:
            source = self.override_source or "--grace"
            text += f" (grace overridden {'in' if source == 'config.toml' else 'with'} {source})"
        return text


def _localize(local: pd.Series, tz: str) -> pd.Series:
    import numpy as np

    ambiguous = np.zeros(len(local), dtype=bool)
    return local.dt.tz_localize(tz, ambiguous=ambiguous, nonexistent="shift_forward").dt.tz_convert("UTC")


def _holidays(calendar: Calendar, first: pd.Timestamp, last: pd.Timestamp) -> list[object]:
    if calendar is not Calendar.US_FEDERAL:
        return []
    from pandas.tseries.holiday import USFederalHolidayCalendar

    days = USFederalHolidayCalendar().holidays(
        start=first - timedelta(days=7), end=last + timedelta(days=400)
    )
    return list(days.values.astype("datetime64[D]"))


def _business_deadlines(start: pd.Series, days: int, calendar: Calendar, tz: str) -> pd.Series:
    import numpy as np
    import pandas as pd

    if start.empty:
        return start.astype("datetime64[us, UTC]")
    local_day = start.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    valid = local_day.notna()
    out = pd.Series(pd.NaT, index=start.index, dtype="datetime64[us, UTC]")
    if not valid.any():
        return out
    day = local_day[valid].to_numpy().astype("datetime64[D]")
    holidays = _holidays(calendar, local_day[valid].min(), local_day[valid].max())
    # day 0 = the day of the unsubscribe, rolled back to a business day; within grace until the
    # end of business day N, i.e. until midnight starting the following calendar day.
    last_day = np.busday_offset(day, days, roll="backward", holidays=holidays)  # type: ignore[call-overload]
    end_local = pd.Series(last_day.astype("datetime64[us]"), index=local_day[valid].index) + pd.Timedelta(
        days=1
    )
    out[valid] = _localize(end_local, tz)
    return out


_US = "FCC 24-24, 47 CFR §64.1200(a)(10) and (a)(12) (in force 11 Apr 2025 / 4 Apr 2024)"
_UK = "UK GDPR Art. 21(3) and Art. 12(3) (respond within one month); PECR reg. 22; ICO guidance"

PRESETS: dict[str, Policy] = {
    "cn": Policy(
        name="cn",
        jurisdiction="China (Mainland)",
        kind="heuristic",
        grace=timedelta(hours=24),
        grace_text="24 hours",
        scope="per 【signature】 brand across all its 106 ports; commercial SMS only (codes/notices excluded)",
        source="MIIT Order No. 31 (2015) Art. 18/20: stop once the user refuses; no time limit is set "
        "(Order No. 74 of 2026 not verified)",
        confirmation_window=timedelta(hours=24),
        confirmation_text='one confirmation ("退订成功") without advertising',
        notes="No Chinese law sets a grace period: 24 h is a heuristic default; use --grace 72h for a "
        "lenient reading.",
    ),
    "us": Policy(
        name="us",
        jurisdiction="United States",
        kind="statutory",
        business_days=10,
        calendar=Calendar.US_FEDERAL,
        grace_text="10 business days (weekends and US federal holidays excluded)",
        scope="same brand/caller on any number; marketing only until the 2027 scope rule",
        source=_US,
        confirmation_window=timedelta(minutes=5),
        confirmation_text="one confirmation within 5 minutes, no marketing (§64.1200(a)(12))",
        notes="Business days are counted in the report's time zone.",
    ),
    "ca": Policy(
        name="ca",
        jurisdiction="Canada",
        kind="statutory",
        business_days=10,
        calendar=Calendar.MON_FRI,
        grace_text="10 business days (Mon–Fri)",
        scope="commercial electronic messages (CEM)",
        source="CASL (S.C. 2010, c. 23) s. 11(3)",
        confirmation_window=timedelta(hours=24),
        confirmation_text="one confirmation without marketing",
        notes="Statutory and provincial holidays are not modelled (Mon–Fri only).",
    ),
    "au": Policy(
        name="au",
        jurisdiction="Australia",
        kind="statutory",
        business_days=5,
        calendar=Calendar.MON_FRI,
        grace_text="5 working days (Mon–Fri)",
        scope="commercial electronic messages",
        source="Spam Act 2003 s. 18 and Spam Regulations 2021",
        confirmation_window=timedelta(hours=24),
        confirmation_text="one confirmation without marketing",
        notes="National and state public holidays are not modelled (Mon–Fri only).",
    ),
    "sg": Policy(
        name="sg",
        jurisdiction="Singapore",
        kind="statutory",
        business_days=10,
        calendar=Calendar.MON_FRI,
        grace_text="10 business days (Mon–Fri)",
        scope="unsolicited commercial messages",
        source="Spam Control Act 2007, Second Schedule",
        confirmation_window=timedelta(hours=24),
        confirmation_text="one confirmation without marketing",
        notes="Public holidays are not modelled (Mon–Fri only).",
    ),
    "uk": Policy(
        name="uk",
        jurisdiction="United Kingdom",
        kind="heuristic",
        grace_months=1,
        grace_text="1 month (outer bound; over 72 hours is already late)",
        scope="same sender brand; marketing only",
        source=_UK,
        confirmation_window=timedelta(hours=24),
        confirmation_text="one confirmation without marketing",
        notes="No statute sets an SMS grace period: the one-month outer bound comes from UK GDPR Art. 12(3).",
    ),
    "eu": Policy(
        name="eu",
        jurisdiction="European Union",
        kind="heuristic",
        grace_months=1,
        grace_text="1 month (outer bound)",
        scope="marketing only",
        source="GDPR Art. 21(2)-(3), Art. 12(3); ePrivacy Directive 2002/58/EC Art. 13",
        confirmation_window=timedelta(hours=24),
        confirmation_text="one confirmation without marketing",
        notes="No EU-wide SMS deadline: the one-month outer bound comes from GDPR Art. 12(3).",
    ),
    "in": Policy(
        name="in",
        jurisdiction="India",
        kind="heuristic",
        grace=timedelta(days=7),
        grace_text="7 days",
        scope="header brand (e.g. AX-BRAND-P); promotional (-P) messages only",
        source="TRAI TCCCPR 2018 (legacy NCPR 7-day registration time; 24 h under TCCCPR 2018 unverified)",
        confirmation_window=timedelta(hours=24),
        confirmation_text="one confirmation without marketing",
        notes="Based on old rules; the current revocation deadline is unverified.",
    ),
    "strict": Policy(
        name="strict",
        jurisdiction="any (carrier-immediate)",
        kind="heuristic",
        grace=timedelta(0),
        grace_text="none (immediate)",
        scope="same brand on any number; marketing only",
        source="carrier/platform practice: STOP blocks at once (CTIA; Twilio, Telnyx)",
        confirmation_window=timedelta(minutes=5),
        confirmation_text="one confirmation within 5 minutes, no marketing",
        notes="Counts every marketing message after the unsubscribe (a confirmation excepted).",
    ),
}

#: Default policy per owner region (ISO 3166); anything else falls back to :data:`FALLBACK_POLICY`.
REGION_POLICY: dict[str, str] = {
    "CN": "cn",
    "US": "us",
    "CA": "ca",
    "AU": "au",
    "SG": "sg",
    "GB": "uk",
    "IN": "in",
    **dict.fromkeys(
        (
            "AT",
            "BE",
            "BG",
            "HR",
            "CY",
            "CZ",
            "DK",
            "EE",
            "FI",
            "FR",
            "DE",
            "GR",
            "HU",
            "IE",
            "IT",
            "LV",
            "LT",
            "LU",
            "MT",
            "NL",
            "PL",
            "PT",
            "RO",
            "SK",
            "SI",
            "ES",
            "SE",
        ),
        "eu",
    ),
}
FALLBACK_POLICY = "us"

#: Main time zone per region, for "the phone's local time" when none is configured.
REGION_TIMEZONE: dict[str, str] = {
    "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong",
    "TW": "Asia/Taipei",
    "MO": "Asia/Macau",
    "US": "America/New_York",
    "CA": "America/Toronto",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "AU": "Australia/Sydney",
    "NZ": "Pacific/Auckland",
    "SG": "Asia/Singapore",
    "IN": "Asia/Kolkata",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "ES": "Europe/Madrid",
    "IT": "Europe/Rome",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "AT": "Europe/Vienna",
    "CH": "Europe/Zurich",
    "SE": "Europe/Stockholm",
    "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon",
    "MY": "Asia/Kuala_Lumpur",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
}

_BUSINESS = re.compile(r"([0-9]+)\s*bd", re.IGNORECASE)
_MONTHS = re.compile(r"([0-9]+)\s*(?:mo|month|months)", re.IGNORECASE)


def get_policy(name: str) -> Policy:
    """A preset by name; raises UsageError for an unknown one."""
    key = name.strip().lower()
    if key not in PRESETS:
        raise UsageError(f"unknown policy {name!r}", hint="choose one of: " + ", ".join(PRESETS))
    return PRESETS[key]


def default_policy_name(region: str | None, configured: str | None = None) -> str:
    """config/env ``policy`` > the owner's region > :data:`FALLBACK_POLICY`."""
    if configured:
        return configured
    return REGION_POLICY.get((region or "").upper(), FALLBACK_POLICY)


def with_grace(policy: Policy, text: str, source: str = "--grace") -> Policy:
    """Override the grace period: ``24h``, ``3d``, ``1d12h``, ``10bd`` (business days), ``1mo``;
    ``source`` says where the value came from (``--grace``, ``$SMS_AUDIT_GRACE``, ``config.toml``)."""
    from sms_audit.normalize import parse_duration

    value = text.strip()
    policy = replace(policy, overridden=True, kind="heuristic", override_source=source)
    if match := _BUSINESS.fullmatch(value):
        days = int(match.group(1))
        calendar = policy.calendar if policy.calendar is not Calendar.NONE else Calendar.MON_FRI
        label = "US federal holidays" if calendar is Calendar.US_FEDERAL else "holidays not modelled"
        return replace(
            policy,
            grace=None,
            grace_months=0,
            business_days=days,
            calendar=calendar,
            grace_text=f"{days} business days (Mon–Fri, {label})",
        )
    if match := _MONTHS.fullmatch(value):
        months = int(match.group(1))
        return replace(
            policy,
            grace=None,
            business_days=0,
            grace_months=months,
            grace_text=f"{months} month{'s' if months != 1 else ''}",
        )
    try:
        grace = parse_duration(value)
    except ValueError:
        raise UsageError(
            f"not a duration: {value!r}",
            hint="a grace period is a duration such as 24h, 3d, 2w, 90min, 10bd (business days) or 1mo",
        ) from None
    return replace(
        policy,
        grace=grace,
        grace_months=0,
        business_days=0,
        calendar=Calendar.NONE,
        grace_text=_human(grace),
    )


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def default_timezone(region: str | None, configured: str | None = None) -> tuple[str, str]:
    """(IANA zone, how it was chosen): config ``timezone`` > the region's main zone > UTC."""
    if configured:
        return valid_timezone(configured), "config"
    zone = REGION_TIMEZONE.get((region or "").upper())
    if zone:
        return zone, f"main zone of region {region}"
    return "UTC", "default"


def valid_timezone(name: str) -> str:
    """Return ``name`` if it is a known IANA zone, else raise UsageError."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"unknown time zone {name!r}", hint="use an IANA name such as Asia/Shanghai"
        ) from None
    return name
