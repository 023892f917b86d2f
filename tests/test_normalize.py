"""Address keys and kinds, time conversions, user-given times and durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms_audit.normalize import (
    SenderKind,
    address_identity,
    epoch_us,
    from_epoch,
    infer_region,
    normalize_address,
    parse_duration,
    parse_when,
    to_apple_ns,
    to_unix_ms,
)


@pytest.mark.parametrize(
    ("raw", "region", "key", "kind"),
    [
        ("+8613800138000", None, "+8613800138000", SenderKind.MOBILE),
        ("138 0013 8000", "CN", "+8613800138000", SenderKind.MOBILE),
        ("8613800138000", None, "+8613800138000", SenderKind.MOBILE),
        ("10690123456701", "CN", "10690123456701", SenderKind.CN_COMMERCIAL_PORT),
        ("+8610690123456701", None, "10690123456701", SenderKind.CN_COMMERCIAL_PORT),
        ("106575550001", "CN", "106575550001", SenderKind.CN_COMMERCIAL_PORT),
        ("1069012345671", None, "1069012345671", SenderKind.CN_COMMERCIAL_PORT),
        ("95555", "CN", "95555", SenderKind.SERVICE_NUMBER),
        ("10086", "CN", "10086", SenderKind.SERVICE_NUMBER),
        ("12306", "CN", "12306", SenderKind.SERVICE_NUMBER),
        ("10106666", "CN", "10106666", SenderKind.SERVICE_NUMBER),
        ("95555", "US", "95555", SenderKind.SHORT_CODE),
        ("22000", None, "22000", SenderKind.SHORT_CODE),
        ("(202) 555-0123", "US", "+12025550123", SenderKind.MOBILE),
        ("+1 800 555 0100", None, "+18005550100", SenderKind.TOLL_FREE),
        ("4008205555", "CN", "+864008205555", SenderKind.SHARED_COST),
        ("+447700900123", None, "+447700900123", SenderKind.LONG_CODE),  # Ofcom drama range
        ("Google", None, "google", SenderKind.ALPHANUMERIC),
        ("AD-HDFCBK-P", "IN", "ad-hdfcbk-p", SenderKind.ALPHANUMERIC),
        ("MTN  N", None, "mtn n", SenderKind.ALPHANUMERIC),
        ("Someone@Example.COM", None, "someone@example.com", SenderKind.EMAIL),
        ("group_8@rcs.google.com", None, "group_8@rcs.google.com", SenderKind.GROUP),
        ("", None, "", SenderKind.UNKNOWN),
    ],
)
def test_normalize_address_keys_and_kinds(raw: str, region: str | None, key: str, kind: SenderKind) -> None:
    assert normalize_address(raw, region) == (key, kind)


@given(raw=st.text(max_size=30), region=st.sampled_from([None, "CN", "US", "GB", "IN", "ZZ"]))
def test_normalize_address_never_raises_and_is_idempotent(raw: str, region: str | None) -> None:
    key, kind = normalize_address(raw, region)
    assert isinstance(kind, SenderKind)
    assert normalize_address(key, region).key == key


@given(st.from_regex(r"\+?[0-9 ()\-]{3,16}", fullmatch=True))
def test_address_identity_ignores_punctuation(raw: str) -> None:
    assert address_identity(raw) == address_identity(raw.replace(" ", "").replace("-", ""))


def test_infer_region_from_international_numbers() -> None:
    assert infer_region(["+8613800138000", "+8613900001111", "+12025550123", "10086", "Google"]) == "CN"
    assert infer_region(["10086", "Google"]) is None
    assert infer_region(["1069012345671", "106575550001", "+12025550123"]) == "CN"


def test_time_conversions_per_era() -> None:
    assert from_epoch("1512226167463") == datetime(2017, 12, 2, 14, 49, 27, 463000, tzinfo=UTC)
    assert from_epoch("1720997593") == datetime(2024, 7, 14, 22, 53, 13, tzinfo=UTC)
    assert from_epoch(468107954, apple=True) == datetime(2015, 11, 1, 21, 59, 14, tzinfo=UTC)  # iOS <= 10: s
    assert from_epoch(588813210539788032, apple=True) == datetime(2019, 8, 29, 23, 13, 30, 539788, tzinfo=UTC)
    assert from_epoch("0") is None and from_epoch("null") is None and from_epoch(0, apple=True) is None
    with pytest.raises(ValueError):
        from_epoch("today")


@pytest.mark.parametrize(
    "value",
    ["1546300800", "1546300800000", "1546300800000000", "1546300800000000000", 1546300800000, 1546300800.0],
)
def test_epoch_unit_decided_by_magnitude(value: object) -> None:
    # 2019-01-01T00:00:00Z written in s, ms, µs and ns (converters mix them up)
    assert epoch_us(value) == 1546300800 * 1_000_000  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value", ["99999999999999999", str(2**63 - 1), "-1", str(10**40), "1e400", "nan", "123", 2**64]
)
def test_epoch_outside_every_reading_is_none_never_overflow(value: object) -> None:
    assert epoch_us(value) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [str(2**63 - 1), -5, 10**40, float("inf"), 4_000_000_000, 10**19])
def test_apple_epoch_outside_every_reading_is_none(value: object) -> None:
    assert epoch_us(value, apple=True) is None  # type: ignore[arg-type]


@given(st.integers(min_value=-(2**80), max_value=2**80) | st.text(max_size=30))
def test_epoch_never_raises_anything_but_value_error(value: int | str) -> None:
    try:
        us = epoch_us(value)
    except ValueError:
        return
    assert us is None or 631_152_000_000_000 <= us < 4_102_444_800_000_000


@given(st.datetimes(min_value=datetime(2001, 2, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)))
def test_time_conversions_round_trip(moment: datetime) -> None:
    # (nanosecond values below 1e15, i.e. the first 11.5 days of 2001, read as seconds by design)
    ms = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert from_epoch(to_unix_ms(ms)) == ms
    assert abs(from_epoch(to_apple_ns(moment), apple=True) - moment) <= timedelta(microseconds=1)


def test_parse_duration_and_when() -> None:
    assert parse_duration("24h") == timedelta(hours=24)
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("90min") == timedelta(minutes=90)
    assert parse_when("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_when("2024-05-01T08:00:00+08:00") == datetime(2024, 5, 1, tzinfo=UTC)
    now = datetime(2025, 1, 10, tzinfo=UTC)
    assert parse_when("7d", now=now) == datetime(2025, 1, 3, tzinfo=UTC)
    for bad in ("", "soon", "5 days", "3bd"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    with pytest.raises(ValueError, match="not a date, time or duration: 'yesterday'"):
        parse_when("yesterday")


# Message ids are content hashes stored in every user's store: a change of scheme would make the next
# import of the same backup add every message again. These values were made by the first scheme.
@pytest.mark.parametrize(
    ("kind", "parts", "expected"),
    [
        ("sms", ("10690000", "in", 1700000000000, "【京东】回T退订"), "1d20e6b4fbedb7aea126dfc612f9ea52"),
        ("mms", (None, 7, "", "a\ud800b"), "eeab3e1cf12e0ac32f1c956ffa420833"),
        ("ios", (), "48ee046028069a9c6ded9844911eab90"),
    ],
)
def test_message_ids_never_change(kind: str, parts: tuple[object, ...], expected: str) -> None:
    from sms_audit.model import make_message_id

    assert make_message_id(kind, *parts) == expected


def test_sms_message_id_is_stable_across_address_punctuation() -> None:
    from sms_audit.model import Direction, sms_message_id

    expected = "e94e48f289b06b389cd49dc9ba2a639d"
    assert sms_message_id("+86 106-9000", Direction.OUT, 1512226167463, "TD") == expected
    assert sms_message_id("+861069000", Direction.OUT, 1512226167463, "TD") == expected
    assert sms_message_id("+861069000", Direction.IN, 1512226167463, "TD") != expected


@given(
    st.text(max_size=12),
    st.sampled_from(["in", "out", "draft"]),
    st.integers(0, 10**14),
    st.text(max_size=40),
)
def test_sms_message_id_is_the_generic_id_of_its_parts(
    address: str, way: str, date_ms: int, body: str
) -> None:
    from sms_audit.model import Direction, make_message_id, sms_message_id
    from sms_audit.normalize import address_identity

    direction = Direction(way)
    expected = make_message_id("sms", address_identity(address), way, date_ms, body)
    assert sms_message_id(address, direction, date_ms, body) == expected


@pytest.mark.parametrize(
    ("text", "zone", "utc"),
    [
        ("2024-05-01", "Asia/Shanghai", "2024-04-30T16:00:00+00:00"),
        ("2024-05-01", None, "2024-05-01T00:00:00+00:00"),
        ("2024-05-01T08:00", "Europe/Berlin", "2024-05-01T06:00:00+00:00"),
        ("2024-05-01T08:00+08:00", "Europe/Berlin", "2024-05-01T00:00:00+00:00"),  # an offset wins
        ("2024-11-03T01:30", "America/New_York", "2024-11-03T05:30:00+00:00"),  # twice that night: the first
        ("2024-03-10T02:30", "America/New_York", "2024-03-10T07:30:00+00:00"),  # skipped that night: moved on
    ],
)
def test_parse_when_reads_wall_clock_times_in_the_zone(text: str, zone: str | None, utc: str) -> None:
    assert parse_when(text, zone=zone).isoformat() == utc
