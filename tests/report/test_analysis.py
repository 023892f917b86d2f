"""The unsubscribe analysis on hand-built classified frames: every finding type, exact counts and times."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from sms_audit.report.analysis import (
    CONFIRMATION,
    CONFIRMATION_WITH_MARKETING,
    EXTRA_CONFIRMATION,
    LATE_CONFIRMATION,
    NON_MARKETING,
    TRAP,
    VIOLATION,
    WITHIN_GRACE,
    Report,
    analyze,
)
from sms_audit.report.policy import PRESETS
from tests.report.conftest import PORT_A, PORT_B, SHOP, complete_frame, make_frame, scenario_rows

CN = PRESETS["cn"]
SH = "Asia/Shanghai"


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def kinds(report: Report) -> list[tuple[str, str, str]]:
    return [(f.kind, f.via, f.message.message_id) for f in report.findings]


def test_analysis_scenario_findings_exact(scenario: pd.DataFrame) -> None:
    report = analyze(scenario, CN, tz=SH)
    assert kinds(report) == [
        (WITHIN_GRACE, "same-number", "shop-grace"),
        (VIOLATION, "same-number", "shop-late-a"),
        (VIOLATION, "other-number", "shop-late-b"),
        (NON_MARKETING, "other-number", "shop-otp"),
        (CONFIRMATION, "same-number", "star-ok"),
        (TRAP, "", "trap-1"),
    ]
    late_a = report.findings[1]
    assert late_a.message.timestamp == t("2025-03-05T02:00:00Z")
    assert late_a.message.local_time == "2025-03-05T10:00:00+08:00"
    assert late_a.unsubscribe is not None and late_a.unsubscribe.unsubscribe_id == "shop-td"
    assert late_a.unsubscribe.deadline == t("2025-03-02T03:00:00Z")
    assert late_a.subject == "优选商城" and late_a.severity == "violation"
    assert "24 hours" in late_a.explanation and "same number" in late_a.explanation
    assert report.messages_checked == 18
    assert report.first_message == t("2025-03-01T02:00:00Z") and report.last_message == t(
        "2025-07-02T02:00:00Z"
    )


def test_analysis_summary_sorted_by_severity(scenario: pd.DataFrame) -> None:
    report = analyze(scenario, CN, tz=SH)
    rows = [
        (s.subject, s.status, s.violations, s.via_other_numbers, s.within_grace, s.confirmed)
        for s in report.summary
    ]
    assert rows == [
        ("优选商城", "violated", 2, 1, 1, "no"),
        ("星巴客", "honoured", 0, 0, 0, "yes"),
        ("甜心蛋糕", "honoured", 0, 0, 0, "no"),
        ("好运来", "re-subscribed", 0, 0, 0, "no"),
    ]
    shop = report.summary[0]
    assert shop.numbers == (PORT_A, PORT_B)
    assert shop.first_unsubscribe == t("2025-03-01T03:00:00Z")
    assert shop.keyword == "TD" and shop.last_violation == t("2025-03-10T02:00:00Z")
    assert shop.non_marketing == 1


def test_analysis_ledger_confirmed_unconfirmed_and_days(scenario: pd.DataFrame) -> None:
    report = analyze(scenario, CN, tz=SH)
    ledger = [
        (
            e.unsubscribe.unsubscribe_id,
            e.unsubscribe.keyword,
            e.unsubscribe.asked_keyword,
            e.confirmed,
            e.status,
            e.days_since,
        )
        for e in report.ledger
    ]
    assert ledger == [
        ("shop-td", "TD", "TD", False, "violated", 122),
        ("star-t", "T", "T", True, "honoured", 91),
        ("cake-r", "R", "R", False, "honoured", 61),
        ("luck-td", "TD", "TD", False, "re-subscribed", 30),
    ]
    star = report.ledger[1]
    assert star.confirmation_at == t("2025-04-01T02:11:00Z")
    shop = report.ledger[0]
    assert (shop.violations, shop.via_other_numbers, shop.within_grace, shop.non_marketing) == (2, 1, 1, 1)
    assert shop.first_violation == t("2025-03-05T02:00:00Z") and shop.last_violation == t(
        "2025-03-10T02:00:00Z"
    )


def test_analysis_resubscribe_ends_unsubscribe(scenario: pd.DataFrame) -> None:
    report = analyze(scenario, CN, tz=SH)
    luck = next(u for u in report.unsubscribes if u.subject == "好运来")
    assert luck.resubscribe is not None and luck.resubscribe.message_id == "luck-start"
    assert not [f for f in report.findings if f.subject == "好运来"]


def test_analysis_unsubscribe_again_after_resubscribe_starts_a_new_episode() -> None:
    frame = make_frame(
        [
            {
                "message_id": "ad",
                "timestamp": "2025-01-01T00:00:00Z",
                "direction": "in",
                "address": PORT_A,
                "label": "marketing",
                **SHOP,
            },
            {
                "message_id": "td1",
                "timestamp": "2025-01-01T01:00:00Z",
                "direction": "out",
                "address": PORT_A,
                "label": "unsubscribe-reply",
                "body": "TD",
            },
            {
                "message_id": "td1b",
                "timestamp": "2025-01-01T02:00:00Z",
                "direction": "out",
                "address": PORT_A,
                "label": "unsubscribe-reply",
                "body": "退订",
            },
            {
                "message_id": "start",
                "timestamp": "2025-01-05T00:00:00Z",
                "direction": "out",
                "address": PORT_A,
                "body": "START",
                "is_resubscribe": True,
            },
            {
                "message_id": "ok-ad",
                "timestamp": "2025-01-06T00:00:00Z",
                "direction": "in",
                "address": PORT_A,
                "label": "marketing",
                **SHOP,
            },
            {
                "message_id": "td2",
                "timestamp": "2025-01-07T00:00:00Z",
                "direction": "out",
                "address": PORT_A,
                "label": "unsubscribe-reply",
                "body": "TD",
            },
            {
                "message_id": "bad-ad",
                "timestamp": "2025-01-09T00:00:00Z",
                "direction": "in",
                "address": PORT_A,
                "label": "marketing",
                **SHOP,
            },
        ]
    )
    report = analyze(frame, CN, tz=SH)
    assert [(u.unsubscribe_id, u.reply_ids) for u in report.unsubscribes] == [
        ("td1", ("td1", "td1b")),
        ("td2", ("td2",)),
    ]
    assert kinds(report) == [(VIOLATION, "same-number", "bad-ad")]
    assert report.findings[0].unsubscribe.unsubscribe_id == "td2"  # type: ignore[union-attr]
    assert report.summary[0].unsubscribes == 3


def _confirmation_frame(*extra: dict) -> pd.DataFrame:
    return make_frame(
        [
            {
                "message_id": "ad",
                "timestamp": "2025-06-02T14:00:00Z",
                "direction": "in",
                "address": "72345",
                "sender_kind": "short_code",
                "label": "marketing",
                "body": "ACME: 20% off. Reply STOP to opt out",
                "brand": "acme",
                "brand_display": "ACME",
                "optout_keyword": "STOP",
            },
            {
                "message_id": "stop",
                "timestamp": "2025-06-02T15:00:00Z",
                "direction": "out",
                "address": "72345",
                "sender_kind": "short_code",
                "label": "unsubscribe-reply",
                "body": "STOP",
            },
            *extra,
        ]
    )


def _conf(mid: str, when: str, *, promo: bool = False, body: str = "ACME: You are unsubscribed.") -> dict:
    return {
        "message_id": mid,
        "timestamp": when,
        "direction": "in",
        "address": "72345",
        "sender_kind": "short_code",
        "label": "unsubscribe-confirmation",
        "body": body,
        "brand": "acme",
        "brand_display": "ACME",
        "is_promotional": promo,
    }


def test_analysis_confirmation_allowed_once() -> None:
    frame = _confirmation_frame(_conf("c1", "2025-06-02T15:01:00Z"), _conf("c2", "2025-06-02T15:02:00Z"))
    report = analyze(frame, PRESETS["us"], tz="America/New_York")
    assert kinds(report) == [(CONFIRMATION, "same-number", "c1"), (EXTRA_CONFIRMATION, "same-number", "c2")]
    assert report.findings[1].severity == "flagged"
    entry = report.ledger[0]
    assert entry.confirmed and entry.confirmation_at == t("2025-06-02T15:01:00Z")
    # the archive ends inside the 10-business-day grace period: too early to call it honoured
    assert entry.status == "within grace" and entry.flagged == 1 and entry.violations == 0


def test_analysis_confirmation_with_marketing_is_flagged_as_violation() -> None:
    frame = _confirmation_frame(
        _conf("c1", "2025-06-02T15:01:00Z", promo=True, body="ACME: unsubscribed. Come back for 30% off!")
    )
    report = analyze(frame, PRESETS["us"], tz="America/New_York")
    assert kinds(report) == [(CONFIRMATION_WITH_MARKETING, "same-number", "c1")]
    assert report.findings[0].severity == "violation"
    assert "64.1200(a)(12)" in report.findings[0].explanation
    assert report.ledger[0].status == "violated" and report.ledger[0].confirmed
    assert report.summary[0].violations == 1


def test_analysis_confirmation_after_us_five_minutes_is_late() -> None:
    frame = _confirmation_frame(_conf("c1", "2025-06-02T15:06:00Z"))
    report = analyze(frame, PRESETS["us"], tz="America/New_York")
    assert kinds(report) == [(LATE_CONFIRMATION, "same-number", "c1")]
    assert report.ledger[0].confirmed and report.ledger[0].status == "within grace"
    # under cn (24 h window) the same message is an ordinary confirmation
    assert kinds(analyze(frame, CN, tz=SH)) == [(CONFIRMATION, "same-number", "c1")]


def test_analysis_us_business_day_grace_across_weekend_and_holiday() -> None:
    # STOP on Fri 27 Jun 2025 11:00 EDT; grace runs to the end of Mon 14 Jul (4 July skipped).
    def ad(mid: str, when: str) -> dict:
        return {
            "message_id": mid,
            "timestamp": when,
            "direction": "in",
            "address": "72345",
            "sender_kind": "short_code",
            "label": "marketing",
            "body": "ACME deal",
            "brand": "acme",
            "brand_display": "ACME",
        }

    frame = make_frame(
        [
            ad("before", "2025-06-26T15:00:00Z"),
            {
                "message_id": "stop",
                "timestamp": "2025-06-27T15:00:00Z",
                "direction": "out",
                "address": "72345",
                "sender_kind": "short_code",
                "label": "unsubscribe-reply",
                "body": "STOP",
            },
            ad("day10-late-evening", "2025-07-15T03:59:00Z"),  # Mon 14 Jul 23:59 EDT
            ad("day11-midnight", "2025-07-15T04:00:00Z"),  # Tue 15 Jul 00:00 EDT
        ]
    )
    report = analyze(frame, PRESETS["us"], tz="America/New_York")
    assert kinds(report) == [
        (WITHIN_GRACE, "same-number", "day10-late-evening"),
        (VIOLATION, "same-number", "day11-midnight"),
    ]
    assert report.unsubscribes[0].deadline == t("2025-07-15T04:00:00Z")
    assert report.findings[1].message.local_time == "2025-07-15T00:00:00-04:00"
    # a plain 24 h policy makes both violations
    assert [k for k, _, _ in kinds(analyze(frame, PRESETS["strict"], tz="UTC"))] == [VIOLATION, VIOLATION]


def test_analysis_channel_hopping_by_brand() -> None:
    frame = make_frame(
        [
            {
                "message_id": "ad",
                "timestamp": "2025-01-01T00:00:00Z",
                "direction": "in",
                "address": PORT_A,
                "label": "marketing",
                **SHOP,
            },
            {
                "message_id": "td",
                "timestamp": "2025-01-01T01:00:00Z",
                "direction": "out",
                "address": PORT_A,
                "label": "unsubscribe-reply",
                "body": "TD",
            },
            *(
                {
                    "message_id": f"hop{i}",
                    "timestamp": f"2025-01-{10 + i:02d}T00:00:00Z",
                    "direction": "in",
                    "address": f"1069000000{i:03d}",
                    "label": "marketing",
                    **SHOP,
                }
                for i in range(5)
            ),
            {
                "message_id": "other-brand",
                "timestamp": "2025-01-20T00:00:00Z",
                "direction": "in",
                "address": "10690000999",
                "label": "marketing",
                "brand": "别家",
                "brand_display": "别家",
            },
        ]
    )
    report = analyze(frame, CN, tz=SH)
    assert [(k, v) for k, v, _ in kinds(report)] == [(VIOLATION, "other-number")] * 5
    row = report.summary[0]
    assert (row.violations, row.via_other_numbers, len(row.numbers)) == (5, 5, 6)
    assert row.last_violation == t("2025-01-14T00:00:00Z")


def test_analysis_shared_port_other_brand_not_counted() -> None:
    frame = make_frame(
        [
            {
                "message_id": "ad",
                "timestamp": "2025-01-01T00:00:00Z",
                "direction": "in",
                "address": PORT_A,
                "label": "marketing",
                **SHOP,
            },
            {
                "message_id": "td",
                "timestamp": "2025-01-01T01:00:00Z",
                "direction": "out",
                "address": PORT_A,
                "label": "unsubscribe-reply",
                "body": "TD",
            },
            {
                "message_id": "other",
                "timestamp": "2025-01-05T00:00:00Z",
                "direction": "in",
                "address": PORT_A,
                "label": "marketing",
                "brand": "别家",
                "brand_display": "别家",
            },
            {
                "message_id": "nobrand",
                "timestamp": "2025-01-06T00:00:00Z",
                "direction": "in",
                "address": PORT_A,
                "label": "marketing",
            },
        ]
    )
    assert kinds(analyze(frame, CN, tz=SH)) == [(VIOLATION, "same-number", "nobrand")]


def test_analysis_unbranded_number_is_its_own_subject() -> None:
    frame = make_frame(
        [
            {
                "message_id": "ad",
                "timestamp": "2025-01-01T00:00:00Z",
                "direction": "in",
                "address": "+14155550123",
                "sender_kind": "mobile",
                "label": "marketing",
                "body": "Deals! Reply STOP",
            },
            {
                "message_id": "stop",
                "timestamp": "2025-01-01T01:00:00Z",
                "direction": "out",
                "address": "+14155550123",
                "sender_kind": "mobile",
                "label": "unsubscribe-reply",
                "body": " STOP ",
            },
            {
                "message_id": "again",
                "timestamp": "2025-03-01T00:00:00Z",
                "direction": "in",
                "address": "+14155550123",
                "sender_kind": "mobile",
                "label": "marketing",
                "body": "More deals",
            },
        ]
    )
    report = analyze(frame, PRESETS["us"], tz="America/New_York")
    assert kinds(report) == [(VIOLATION, "same-number", "again")]
    assert report.summary[0].subject == "+14155550123" and report.summary[0].keyword == "STOP"


def test_analysis_non_marketing_after_unsubscribe_never_counted(scenario: pd.DataFrame) -> None:
    report = analyze(scenario, CN, tz=SH)
    otp = [f for f in report.findings if f.kind == NON_MARKETING]
    assert [(f.message.message_id, f.message.label, f.severity) for f in otp] == [
        ("shop-otp", "verification", "info")
    ]
    assert otp[0].message.timestamp == t("2025-03-11T02:00:00Z")
    assert "not counted" in otp[0].explanation
    assert all(f.message.label == "marketing" for f in report.violations)


def test_analysis_within_grace_shown_not_counted(scenario: pd.DataFrame) -> None:
    report = analyze(scenario, CN, tz=SH)
    grace = [f for f in report.findings if f.kind == WITHIN_GRACE]
    assert [(f.message.message_id, f.message.timestamp) for f in grace] == [
        ("shop-grace", t("2025-03-01T20:00:00Z"))
    ]
    assert "not a violation" in grace[0].explanation
    assert len(report.violations) == 2
    # with a 72 h grace the 4-day-later message is still a violation, with 1 week it is not
    from sms_audit.report.policy import with_grace

    assert len(analyze(scenario, with_grace(CN, "72h"), tz=SH).violations) == 2
    week = analyze(scenario, with_grace(CN, "7d"), tz=SH)
    assert [f.message.message_id for f in week.violations] == ["shop-late-b"]
    assert [f.message.message_id for f in week.findings if f.kind == WITHIN_GRACE] == [
        "shop-grace",
        "shop-late-a",
    ]


def test_analysis_unsubscribe_still_within_grace_at_archive_end() -> None:
    frame = make_frame(
        [
            {
                "message_id": "ad",
                "timestamp": "2025-01-01T00:00:00Z",
                "direction": "in",
                "address": PORT_A,
                "label": "marketing",
                **SHOP,
            },
            {
                "message_id": "td",
                "timestamp": "2025-01-01T01:00:00Z",
                "direction": "out",
                "address": PORT_A,
                "label": "unsubscribe-reply",
                "body": "TD",
            },
            {
                "message_id": "chat",
                "timestamp": "2025-01-01T05:00:00Z",
                "direction": "in",
                "address": "+8613800000001",
                "sender_kind": "mobile",
                "body": "hi",
            },
        ]
    )
    report = analyze(frame, CN, tz=SH)
    assert report.ledger[0].status == "within grace" and report.ledger[0].days_since == 0


def test_analysis_traps_and_replied(scenario: pd.DataFrame) -> None:
    report = analyze(scenario, CN, tz=SH)
    (trap,) = report.traps
    assert trap.message.message_id == "trap-1" and trap.message.timestamp == t("2025-07-01T02:00:00Z")
    assert trap.reply is not None and trap.reply.message_id == "trap-reply"
    assert trap.reply.timestamp == t("2025-07-01T02:05:00Z")
    assert "do not reply" in trap.explanation and trap.trap_reason.startswith("personal mobile")
    unreplied = make_frame([r for r in _rows_without("trap-reply")])
    (trap,) = analyze(unreplied, CN, tz=SH).traps
    assert trap.reply is None and "do not reply" in trap.explanation


def _rows_without(mid: str) -> list[dict]:
    from tests.report.conftest import scenario_rows

    return [r for r in scenario_rows() if r["message_id"] != mid]


def test_analysis_unsubscribe_to_trap_sender_gets_trap_status() -> None:
    frame = make_frame(
        [
            {
                "message_id": "trap",
                "timestamp": "2025-01-01T00:00:00Z",
                "direction": "in",
                "address": "+8613912345678",
                "sender_kind": "mobile",
                "label": "marketing",
                "body": "回复1确认退订",
                "is_trap": True,
                "trap_reason": "asks to reply 1 to confirm",
            },
            {
                "message_id": "one",
                "timestamp": "2025-01-01T00:01:00Z",
                "direction": "out",
                "address": "+8613912345678",
                "sender_kind": "mobile",
                "label": "unsubscribe-reply",
                "body": "1",
            },
        ]
    )
    report = analyze(frame, CN, tz=SH)
    assert report.ledger[0].status == "replied to trap" and report.summary[0].status == "replied to trap"
    assert report.traps[0].reply is not None and report.traps[0].reply.message_id == "one"


def test_analysis_empty_and_no_unsubscribe() -> None:
    empty = make_frame([])
    report = analyze(empty, CN, tz=SH)
    assert report.findings == () and report.summary == () and report.messages_checked == 0
    chat = make_frame(
        [
            {
                "timestamp": "2025-01-01T00:00:00Z",
                "direction": "in",
                "address": PORT_A,
                "label": "marketing",
                **SHOP,
            }
        ]
    )
    report = analyze(chat, CN, tz=SH)
    assert report.unsubscribes == () and report.findings == () and report.messages_checked == 1


def test_analysis_ignores_drafts_failed_and_groups() -> None:
    frame = make_frame(
        [
            {
                "message_id": "ad",
                "timestamp": "2025-01-01T00:00:00Z",
                "direction": "in",
                "address": PORT_A,
                "label": "marketing",
                **SHOP,
            },
            {
                "message_id": "draft",
                "timestamp": "2025-01-01T01:00:00Z",
                "direction": "draft",
                "address": PORT_A,
                "label": "unsubscribe-reply",
                "body": "TD",
            },
            {
                "message_id": "failed",
                "timestamp": "2025-01-01T01:00:00Z",
                "direction": "failed",
                "address": PORT_A,
                "label": "unsubscribe-reply",
                "body": "TD",
            },
            {
                "message_id": "later",
                "timestamp": "2025-01-05T00:00:00Z",
                "direction": "in",
                "address": PORT_A,
                "label": "marketing",
                **SHOP,
            },
            {
                "message_id": "group",
                "timestamp": "2025-01-01T02:00:00Z",
                "direction": "out",
                "address": PORT_A,
                "label": "unsubscribe-reply",
                "body": "TD",
                "is_group": True,
            },
        ]
    )
    report = analyze(frame, CN, tz=SH)
    assert report.unsubscribes == ()
    assert (report.messages_checked, report.group_messages) == (2, 1)


def test_analysis_finding_keys_stable(scenario: pd.DataFrame) -> None:
    first = analyze(scenario, CN, tz=SH)
    again = analyze(scenario.sample(frac=1, random_state=1), CN, tz=SH)
    assert [f.key for f in first.findings] == [f.key for f in again.findings]
    assert first.findings[1].key == "violation|优选商城|shop-td|shop-late-a"
    assert len({f.finding_id for f in first.findings}) == len(first.findings)


def test_analysis_scales_vectorized() -> None:
    """100k messages with many brands and unsubscribes run in the vectorized path (no per-message loops)."""
    import numpy as np

    n = 100_000
    rng = np.random.default_rng(7)
    brands = rng.integers(0, 500, n)
    frame = make_frame([])
    base = pd.Timestamp("2025-01-01T00:00:00Z")
    frame = pd.DataFrame(
        {
            "message_id": [f"x{i}" for i in range(n)],
            "timestamp": base + pd.to_timedelta(rng.integers(0, 300 * 86400, n), unit="s"),
            "direction": np.where(rng.random(n) < 0.01, "out", "in"),
            "address": [f"10690{b:05d}{i % 3}" for i, b in enumerate(brands)],
            "body": "x",
            "label": "marketing",
            "reason": "",
            "brand": [f"b{b}" for b in brands],
            "brand_display": "",
            "optout_keyword": "",
            "is_resubscribe": False,
            "is_trap": False,
            "trap_reason": "",
            "is_promotional": True,
            "sender_kind": "cn_commercial_port",
            "source_file": "s",
        }
    )
    frame.loc[frame["direction"] == "out", "label"] = "unsubscribe-reply"
    report = analyze(complete_frame(frame), CN, tz=SH)
    assert len(report.unsubscribes) > 400
    assert len(report.violations) > 10_000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.rename(columns={"label": "labels"}), "report: the frame has no column 'label'"),
        (lambda f: f.drop(columns="is_group"), "report: the frame has no column 'is_group'"),
        (
            lambda f: f.assign(timestamp=f["timestamp"].astype(str)),
            "report: column 'timestamp' has dtype",
        ),
        (lambda f: f.assign(is_trap=f["is_trap"].astype(str)), "report: column 'is_trap' has dtype"),
    ],
)
def test_analysis_renamed_or_mistyped_column_is_an_error_not_an_empty_report(
    change: Any, message: str
) -> None:
    from sms_audit.schema import SchemaError

    frame = make_frame(scenario_rows())
    assert len(analyze(frame, CN, tz=SH).violations) > 0
    with pytest.raises(SchemaError) as info:
        analyze(change(frame), CN, tz=SH)
    assert str(info.value).startswith(message)


from hypothesis import given
from hypothesis import strategies as st


@given(
    st.lists(st.integers(min_value=-(10**15), max_value=4 * 10**15), min_size=1, max_size=20),
    st.sampled_from(
        ["UTC", "Asia/Shanghai", "America/New_York", "Asia/Kolkata", "America/St_Johns", "Europe/Dublin"]
    ),
)
def test_local_isoformat_is_timestamp_isoformat(micros: list[int], tz: str) -> None:
    import numpy as np
    import pandas as pd

    from sms_audit.report.analysis import local_isoformat

    times = pd.Series(np.array(micros, dtype="int64").view("datetime64[us]")).dt.tz_localize("UTC")
    assert local_isoformat(times, tz) == [t.isoformat() for t in times.dt.tz_convert(tz).tolist()]


# --- findings held as columns ------------------------------------------------------------------


@pytest.mark.parametrize("redacted", [False, True])
@pytest.mark.parametrize("time_text", [False, True])
def test_findings_records_are_the_records_of_the_finding_objects(
    scenario: pd.DataFrame, redacted: bool, time_text: bool
) -> None:
    """The output records made from the columns equal those of the Finding objects, field for field
    and in FINDING_COLUMNS order: every kind, a trap answered, redacted or not."""
    from sms_audit.report.records import finding_record
    from sms_audit.report.redact import redact_report
    from sms_audit.schema import FINDING_COLUMNS

    report = analyze(scenario, CN, tz=SH)
    if redacted:
        report = redact_report(report)
    records = list(report.findings.records(time_text=time_text))
    assert records == [finding_record(f, report, time_text=time_text) for f in report.findings]
    assert [list(r) for r in records] == [list(FINDING_COLUMNS)] * len(records)
    trap = records[-1]
    assert (trap["kind"], trap["replied"], trap["reply_message_id"]) == (TRAP, True, "trap-reply")
    assert records[0]["unsubscribe_message_id"] == "shop-td" and records[0]["trap_reason"] is None
    if redacted:
        assert report.findings[-1].message.address == trap["address"] != scenario_address(scenario, "trap-1")


def scenario_address(frame: pd.DataFrame, mid: str) -> str:
    return str(frame.loc[frame["message_id"] == mid, "address"].iloc[0])


def test_findings_behave_as_a_sequence_of_findings(scenario: pd.DataFrame) -> None:
    report = analyze(scenario, CN, tz=SH)
    items = report.findings
    objects = list(items)
    assert len(items) == len(objects) == 6
    assert (
        items == tuple(objects) and items != tuple(objects[:-1]) and items != objects
    )  # as a tuple: a list is not equal
    assert items[-1] == objects[-1] and items[1] == objects[1] and items[1:3] == tuple(objects[1:3])
    with pytest.raises(IndexError):
        items[6]
    assert items.stable_keys() == [f.key for f in objects]
    assert list(items.kinds) == [f.kind for f in objects]
    late = items.where(items.kinds == VIOLATION)
    assert [f.message.message_id for f in late] == ["shop-late-a", "shop-late-b"]
    assert list(late.addresses()) == [f.message.address for f in objects if f.kind == VIOLATION]
    assert report.traps == (objects[-1],) and len(report.unsubscribe_findings) == 5
    assert len(report.violations) == 2


def test_findings_are_made_a_batch_at_a_time(scenario: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """Iterating never makes more Finding objects at once than one batch (here 2)."""
    from sms_audit.report import analysis

    report = analyze(scenario, CN, tz=SH)
    sizes: list[int] = []
    make = analysis.Findings._make

    def counted(self: analysis.Findings, index: Any) -> list:
        sizes.append(len(index))
        return make(self, index)

    monkeypatch.setattr(analysis.Findings, "_BATCH", 2)
    monkeypatch.setattr(analysis.Findings, "_make", counted)
    assert [f.message.message_id for f in report.findings][:2] == ["shop-grace", "shop-late-a"]
    assert sizes == [2, 2, 2]


def test_prepare_keeps_an_ordered_frame_and_sorts_any_other() -> None:
    """Rows in time then message-id order are analysed as given (a store's selection); rows out of
    that order, ties included, are sorted first; the caller's frame is never changed."""
    from sms_audit.report.analysis import prepare

    rows = [
        {"message_id": mid, "timestamp": t(when), "direction": "in", "address": "+8610690000001", "body": "x"}
        for mid, when in [
            ("b", "2025-03-01T00:00:00Z"),
            ("a", "2025-03-01T00:00:00Z"),
            ("c", "2025-02-01T00:00:00Z"),
        ]
    ]
    shuffled = make_frame(rows)
    before = shuffled.copy()
    assert list(prepare(shuffled)["message_id"]) == ["c", "a", "b"]
    pd.testing.assert_frame_equal(shuffled, before)
    ordered = shuffled.iloc[[2, 1, 0]].reset_index(drop=True)
    f = prepare(ordered)
    assert list(f["message_id"]) == ["c", "a", "b"] and list(f["row"]) == [0, 1, 2]
    assert "row" not in ordered.columns


@given(st.lists(st.integers(-(10**13), 10**15), max_size=30))
def test_ago_texts_are_ago_of_each_difference(deltas: list[int]) -> None:
    """The column-wise "5 min / 3 h / 12 days" texts are those of the one-value function."""
    import numpy as np

    from sms_audit.report.analysis import _ago, _ago_texts

    expected = [_ago(timedelta(microseconds=d)) for d in deltas]
    assert _ago_texts(np.array(deltas, dtype=np.int64)) == expected


def test_finding_id_is_the_first_16_hex_digits_of_the_sha256() -> None:
    import hashlib

    from sms_audit.report.analysis import finding_id

    key = "violation|优选商城|shop-td|shop-late-a"
    # pinned: ids are stable across versions (report --new and donated findings rely on them)
    assert finding_id(key) == hashlib.sha256(key.encode("utf-8")).hexdigest()[:16] == "a83f6134bc60671c"


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "UTC"])
def test_violations_by_month_counts_local_months(tz: str) -> None:
    """Months are the report zone's: a violation late on 31 March UTC is April in Shanghai."""
    from zoneinfo import ZoneInfo

    from sms_audit.report.timelines import violations_by_month

    rows = scenario_rows()
    rows.append(
        {
            "message_id": "shop-month-end",
            "timestamp": "2025-03-31T20:00:00Z",
            "direction": "in",
            "address": PORT_A,
            "body": "【优选商城】月底大促 回T退订",
            "label": "marketing",
            "is_promotional": True,
            **SHOP,
        }
    )
    report = analyze(make_frame(rows), CN, tz=tz)
    expected: dict[str, int] = {}
    for item in report.violations:
        month = item.message.timestamp.astimezone(ZoneInfo(tz)).strftime("%Y-%m")
        expected[month] = expected.get(month, 0) + 1
    assert violations_by_month(report) == expected
    assert sum(expected.values()) == 3
    assert ("2025-04" in expected) == (tz == "Asia/Shanghai")


def test_findings_combine_compare_and_hash_like_the_tuple_of_their_findings(scenario: pd.DataFrame) -> None:
    report = analyze(scenario, CN, tz=SH)
    items, objects = report.findings, tuple(report.findings)
    assert items + () == objects and () + items == objects and items * 2 == objects * 2
    assert report.violations + report.traps == tuple(report.violations) + tuple(report.traps)
    assert hash(items) == hash(objects) and not items < objects and items <= objects
    assert items < objects + objects[:1] and objects + objects[:1] > items  # a proper prefix is less
    for wrong in ("1", 1.0):
        with pytest.raises(TypeError):
            items[wrong]
    with pytest.raises(TypeError):
        items + [1]
    assert repr(items) == (
        "<Findings: 6: within_grace 1, violation 2, non_marketing_after_unsubscribe 1, confirmation 1, trap 1>"
    )


def test_findings_read_one_at_a_time_make_each_batch_once(
    scenario: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Indexing finding after finding (or backwards: reversed(), index()) makes each batch once."""
    from sms_audit.report import analysis

    report = analyze(scenario, CN, tz=SH)
    made: list[int] = []
    make = analysis.Findings._make

    def counted(self: analysis.Findings, index: Any) -> list:
        made.append(int(index[0]))
        return make(self, index)

    monkeypatch.setattr(analysis.Findings, "_BATCH", 4)
    monkeypatch.setattr(analysis.Findings, "_make", counted)
    items = report.findings
    backwards = list(reversed(items))
    assert [f.message.message_id for f in backwards][-1] == "shop-grace"
    assert made == [4, 0]
    assert items.index(backwards[0]) == 5 and made == [4, 0, 4]


def test_report_given_findings_as_objects_works_as_an_analysed_one(scenario: pd.DataFrame) -> None:
    """dataclasses.replace(report, findings=<tuple or list of Finding>) gives a report that renders,
    redacts and selects like the analysed one (the findings held as a FindingTuple)."""
    from dataclasses import replace

    from sms_audit.output import OutputFormat
    from sms_audit.report.analysis import FindingTuple
    from sms_audit.report.records import counts
    from sms_audit.report.redact import redact_report
    from sms_audit.report.render import render

    report = analyze(scenario, CN, tz=SH)
    for held in (tuple(report.findings), list(report.findings)):
        again = replace(report, findings=held)
        assert isinstance(again.findings, FindingTuple) and again.findings == tuple(report.findings)
        assert counts(again) == counts(report)
        assert again.violations == report.violations and again.traps == report.traps
        pd.testing.assert_frame_equal(again.findings_frame(), report.findings_frame())
        pd.testing.assert_frame_equal(again.traps_frame(), report.traps_frame())
        for make in (lambda r: r, redact_report):
            outputs = []
            for each in (make(report), make(again)):
                stream = io.StringIO()
                render(each, OutputFormat.JSON, stream, generated_at=datetime(2026, 1, 1, tzinfo=UTC))
                outputs.append(stream.getvalue())
            assert outputs[0] == outputs[1]
