"""Grace-period policies: business days across weekends and US federal holidays, overrides, defaults."""

from __future__ import annotations

import pandas as pd
import pytest

from sms_audit.errors import UsageError
from sms_audit.report.policy import (
    PRESETS,
    Calendar,
    default_policy_name,
    default_timezone,
    get_policy,
    valid_timezone,
    with_grace,
)

NY = "America/New_York"


def _deadline(policy_name: str, when: str, tz: str) -> pd.Timestamp:
    return PRESETS[policy_name].deadlines(pd.Series(pd.to_datetime([when], utc=True)), tz).iloc[0]


def test_policy_us_business_days_skip_weekend_and_independence_day() -> None:
    # Fri 27 Jun 2025 11:00 EDT = day 0. Business days: Jun 30, Jul 1, 2, 3, (Fri 4 Jul holiday),
    # 7, 8, 9, 10, 11, 14 → day 10 is Mon 14 Jul; grace ends at local midnight starting 15 Jul.
    assert _deadline("us", "2025-06-27T15:00:00Z", NY) == pd.Timestamp("2025-07-15T04:00:00Z")


def test_policy_us_weekend_unsubscribe_counts_from_the_previous_business_day() -> None:
    # Sat 28 Jun and Sun 29 Jun (23:00 EDT = Mon 03:00 UTC) give the same deadline as Friday.
    assert _deadline("us", "2025-06-28T15:00:00Z", NY) == pd.Timestamp("2025-07-15T04:00:00Z")
    assert _deadline("us", "2025-06-30T03:00:00Z", NY) == pd.Timestamp("2025-07-15T04:00:00Z")


def test_policy_us_thanksgiving_and_standard_time() -> None:
    # Thu 20 Nov 2025: 21, 24, 25, 26, (27 Thanksgiving), 28, Dec 1, 2, 3, 4, 5 → Fri 5 Dec, EST (UTC-5).
    assert _deadline("us", "2025-11-20T15:00:00Z", NY) == pd.Timestamp("2025-12-06T05:00:00Z")


def test_policy_us_business_days_use_the_report_timezone() -> None:
    # 03:00 UTC Mon 30 Jun is still Sunday in New York (→ Mon 14 Jul, above) but already Monday in
    # Shanghai: day 0 = Mon 30 Jun, day 10 = Tue 15 Jul, grace until 16 Jul 00:00 CST.
    assert _deadline("us", "2025-06-30T03:00:00Z", "Asia/Shanghai") == pd.Timestamp("2025-07-15T16:00:00Z")


def test_policy_mon_fri_calendar_ignores_holidays() -> None:
    # Canada: Mon–Fri only (1 Jul Canada Day not modelled): Fri 27 Jun + 10 → Fri 11 Jul.
    assert PRESETS["ca"].calendar is Calendar.MON_FRI
    assert "not modelled" in PRESETS["ca"].notes
    assert _deadline("ca", "2025-06-27T15:00:00Z", "America/Toronto") == pd.Timestamp("2025-07-12T04:00:00Z")
    # Australia: 5 working days from Wed 2 Jul → Wed 9 Jul, end of day in Sydney (UTC+10).
    assert _deadline("au", "2025-07-02T01:00:00Z", "Australia/Sydney") == pd.Timestamp("2025-07-09T14:00:00Z")


def test_policy_elapsed_and_month_graces() -> None:
    assert _deadline("cn", "2025-03-01T03:00:00Z", "Asia/Shanghai") == pd.Timestamp("2025-03-02T03:00:00Z")
    assert _deadline("in", "2025-03-01T03:00:00Z", "Asia/Kolkata") == pd.Timestamp("2025-03-08T03:00:00Z")
    assert _deadline("strict", "2025-03-01T03:00:00Z", "UTC") == pd.Timestamp("2025-03-01T03:00:00Z")
    # one calendar month in London local time, across the March DST change
    assert _deadline("uk", "2025-03-15T12:00:00Z", "Europe/London") == pd.Timestamp("2025-04-15T11:00:00Z")


def test_policy_deadlines_vectorized_and_empty() -> None:
    times = pd.Series(pd.to_datetime(["2025-06-27T15:00:00Z", "2025-11-20T15:00:00Z"] * 1000, utc=True))
    out = PRESETS["us"].deadlines(times, NY)
    assert len(out) == 2000 and out.iloc[1] == pd.Timestamp("2025-12-06T05:00:00Z")
    assert PRESETS["us"].deadlines(pd.Series([], dtype="datetime64[us, UTC]"), NY).empty


def test_policy_presets_carry_kind_scope_and_source() -> None:
    assert set(PRESETS) == {"cn", "us", "ca", "au", "sg", "uk", "eu", "in", "strict"}
    assert PRESETS["us"].kind == "statutory" and "64.1200" in PRESETS["us"].source
    assert PRESETS["cn"].kind == "heuristic" and "Order No. 31" in PRESETS["cn"].source
    assert PRESETS["us"].confirmation_window == pd.Timedelta(minutes=5)
    for policy in PRESETS.values():
        assert policy.scope and policy.source and policy.grace_text
        assert policy.describe().startswith(f"policy {policy.name} ")


def test_policy_grace_override() -> None:
    lenient = with_grace(PRESETS["cn"], "72h")
    assert lenient.grace == pd.Timedelta(hours=72) and lenient.overridden and lenient.kind == "heuristic"
    assert "overridden" in lenient.describe()
    bd = with_grace(PRESETS["us"], "2bd")
    assert bd.business_days == 2 and bd.calendar is Calendar.US_FEDERAL
    # Thu 3 Jul 2025 + 2 US business days: (4 Jul holiday), Mon 7, Tue 8 → ends Wed 9 Jul 00:00 EDT
    start = pd.Series(pd.to_datetime(["2025-07-03T15:00:00Z"], utc=True))
    assert bd.deadlines(start, NY).iloc[0] == pd.Timestamp("2025-07-09T04:00:00Z")
    assert with_grace(PRESETS["cn"], "3bd").calendar is Calendar.MON_FRI
    assert with_grace(PRESETS["cn"], "2mo").grace_months == 2
    with pytest.raises(UsageError, match="not a duration"):
        with_grace(PRESETS["cn"], "soon")


def test_policy_defaults_by_region_and_config() -> None:
    assert default_policy_name("CN") == "cn"
    assert default_policy_name("US") == "us"
    assert default_policy_name("GB") == "uk"
    assert default_policy_name("DE") == "eu"
    assert default_policy_name(None) == "us"
    assert default_policy_name("CN", "strict") == "strict"
    assert get_policy("US").name == "us"
    with pytest.raises(UsageError, match="unknown policy"):
        get_policy("mars")


def test_policy_default_timezone() -> None:
    assert default_timezone("CN") == ("Asia/Shanghai", "main zone of region CN")
    assert default_timezone("US") == ("America/New_York", "main zone of region US")
    assert default_timezone(None) == ("UTC", "default")
    assert default_timezone("CN", "Europe/Berlin") == ("Europe/Berlin", "config")
    assert valid_timezone("Asia/Tokyo") == "Asia/Tokyo"
    with pytest.raises(UsageError, match="unknown time zone"):
        valid_timezone("Mars/Olympus")
