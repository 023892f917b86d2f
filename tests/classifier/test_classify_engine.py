"""Engine internals that the fast paths rely on: digit zeroing, keyword reading, per-text decisions."""

from __future__ import annotations

import random
import re

import pandas as pd
import pyarrow as pa
import pytest

from sms_audit.classifier import CLASSIFY_COLUMNS, classify_frame, engine


def _zero_reference(text: str) -> str:
    return re.sub("[0-9]{4,}", lambda m: "0" * len(m.group()), text)


@pytest.mark.parametrize("block", [4, 7, 64, 1 << 17])
def test_zero_digits_matches_a_regex_reference_across_blocks_and_slices(
    monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(engine, "_ZERO_BLOCK", block)
    rng = random.Random(block)
    for _ in range(400):
        texts = [
            "".join(rng.choice("0123456789a退 ") for _ in range(rng.randrange(0, 14)))
            for _ in range(rng.randrange(1, 9))
        ]
        values = pa.array(texts, rng.choice([pa.string(), pa.large_string()]))
        if len(values) > 2 and rng.random() < 0.3:
            values = values.slice(1, len(values) - 2)
        assert engine._zero_digits(values).to_pylist() == [_zero_reference(t) for t in values.to_pylist()]


@pytest.mark.parametrize(
    ("pattern", "blind"),
    [
        ("[0-9]{3,6}", True),
        (r"\d+ to", True),
        ("[a-z0-9]{1,8}", True),
        ("[^a-z0-9]", True),
        ("(?P<keyword>[a-z]{1,6}|0000|0)", True),  # "0" literals inside the keyword only
        ("回复0", False),
        ("[1-5]", False),
        ("[^5]", False),
        ("(?P<keyword>[a-z])0", False),
        ("(?=x)", False),
        ("(unclosed", False),
    ],
)
def test_digit_blind_only_when_zeroing_cannot_change_the_match(pattern: str, blind: bool) -> None:
    assert engine._digit_blind(pattern) is blind


def test_classify_reads_keywords_from_the_original_digits() -> None:
    # All four bodies share one digit-zeroed text; the keyword must still follow each original.
    frame = pd.DataFrame(
        {
            "direction": ["in"] * 4,
            "address": ["1069000012345"] * 4,
            "body": [
                "新品上市，回复0000退订",
                "新品上市，回复1234退订",
                "新品上市，回复1234退订，或回复TD退订",
                "新品上市，回复0000退订，或回复TD退订",
            ],
        }
    )
    result = classify_frame(frame, region="CN")
    assert result["optout_keyword"].tolist() == ["0000", "", "TD", "0000"]


_BODIES = [
    "【京东】图书{n}周年，抢优惠券 回复TD退订",
    "【淘宝网】您的验证码是{n}，5分钟内有效。",
    "晚上一起吃饭吗？{n}",
    "{n} is your Google verification code.",
    "Sale! {d}% off! Reply STOP to opt out",
    "【顺丰速运】快件{n}派送，退订回复CC",
    "URGENT! You won a bonus prize! call 0906{n}",
    "取消提醒请回复{n}",
    "Acct: ******{n} Amt: NGN{d}.00 DrDesc: CASH",
]
_SENDERS = ["1069000012345", "95555", "+8613812340000", "72345", "+447700900123", "AD-HDFCBK-P", "GTBank"]


def test_classify_in_bulk_equals_one_row_at_a_time() -> None:
    rng = random.Random(3)
    rows = [
        (
            "in",
            rng.choice(_SENDERS),
            rng.choice(_BODIES).format(n=rng.choice(["123456", "1234", "12"]), d=rng.randrange(1, 99)),
        )
        for _ in range(60)
    ]
    frame = pd.DataFrame(rows, columns=["direction", "address", "body"])
    bulk = classify_frame(frame, region="CN")
    for i in range(len(frame)):
        alone = classify_frame(frame.iloc[[i]], region="CN")
        assert (
            bulk[list(CLASSIFY_COLUMNS)].iloc[i].tolist() == alone[list(CLASSIFY_COLUMNS)].iloc[0].tolist()
        ), rows[i]


def _conversation_frame(seed: int, n: int, *, missing_time: bool) -> pd.DataFrame:
    """Senders in several spellings (+86…, national), replies that echo a prompt, STOP after
    marketing, brands, codes; times out of input order; optionally one row without a time."""
    rng = random.Random(seed)
    spellings = {
        "10690000": ["10690000"],
        "+8613800138000": ["+8613800138000", "13800138000", "+86 138 0013 8000"],
        "95555": ["95555"],
        "10655001": ["10655001"],
        "+8613912345678": ["+8613912345678", "139 1234 5678"],
    }
    incoming = [
        "【优选商城】双十一全场五折，回T退订",
        "【招商银行】您尾号{d}的信用卡账单已出",
        "您的验证码是{n}，5分钟内有效",
        "【某店】新品上市 拒收请回复R",
        "今晚一起吃饭吗",
    ]
    outgoing = ["T", "R", "TD", "好的", "退订", "STOP"]
    rows = []
    for i in range(n):
        key = rng.choice(list(spellings))
        address = rng.choice(spellings[key])
        if rng.random() < 0.35:
            rows.append(("out", address, rng.choice(outgoing)))
        else:
            body = rng.choice(incoming).format(n=rng.randrange(100000, 999999), d=rng.randrange(1000, 9999))
            rows.append(("in", address, body))
    frame = pd.DataFrame(rows, columns=["direction", "address", "body"])
    seconds = [rng.randrange(0, 10**6) for _ in range(n)]
    frame["timestamp"] = pd.to_datetime(seconds, unit="s", utc=True)
    if missing_time:
        frame["timestamp"] = frame["timestamp"].astype(object)
        frame.loc[n // 2, "timestamp"] = None
        frame["timestamp"] = frame["timestamp"].map(lambda t: "" if t is None else t.isoformat())
    return frame


@pytest.mark.parametrize("missing_time", [False, True])
@pytest.mark.parametrize("chunk", [1, 7, 40])
def test_classify_in_sender_chunks_equals_one_pass(
    monkeypatch: pytest.MonkeyPatch, chunk: int, missing_time: bool
) -> None:
    """A frame larger than CHUNK_ROWS is classified in chunks of whole senders (grouped by the
    normalised number, whatever its spelling), with the region and time order of the whole frame:
    every label, reason, brand and flag is the one a single pass gives, in input order."""
    frame = _conversation_frame(11 + chunk, 240, missing_time=missing_time)
    frame.index = pd.RangeIndex(1000, 1240)  # a caller's own index is kept
    one_pass = classify_frame(frame)  # region inferred from the +86 numbers
    monkeypatch.setattr(engine, "CHUNK_ROWS", chunk)
    chunked = classify_frame(frame)
    assert list(chunked.index) == list(frame.index)
    assert (one_pass["label"] == "unsubscribe-reply").sum() > 5
    for name in CLASSIFY_COLUMNS:
        assert chunked[name].dtype == one_pass[name].dtype, name
        assert chunked[name].tolist() == one_pass[name].tolist(), name


_PROMPT = "【好又多】周末全场五折 回T退订"


def _reply_label(stamps: list[object], *, extra: tuple[str, str, str, object] | None = None) -> str:
    """The reply "T" comes first in the input but after the prompt in time (stamps: reply, prompt)."""
    rows = [
        ("out", "13800138000", "T", stamps[0]),
        ("in", "+8613800138000", _PROMPT, stamps[1]),
    ]
    if extra is not None:
        rows.append(extra)
    frame = pd.DataFrame(rows, columns=["direction", "address", "body", "timestamp"])
    return str(classify_frame(frame, region="CN")["label"].iloc[0])


@pytest.mark.parametrize(
    "stamps",
    [
        ["2025-03-02T10:00:00Z", "2025-03-01T10:00:00Z"],
        ["2025-03-02 18:00:00+08:00", "2025-03-01T10:00:00Z"],
        ["1740909600000", "1740823200000"],  # Unix ms, as Android and SB&R write it
        ["1740909600", "1740823200"],  # Unix s
        ["1740909600000000", "1740823200000000"],  # Unix µs
    ],
)
def test_replies_are_ordered_by_time_in_every_written_form(stamps: list[object]) -> None:
    assert _reply_label(stamps) == "unsubscribe-reply"
    # another sender's unreadable or missing time does not put this sender in input order
    for other in ("yesterday", "", None):
        assert _reply_label(stamps, extra=("in", "95555", "hello", other)) == "unsubscribe-reply"


def test_a_sender_with_a_row_without_a_time_is_read_in_input_order() -> None:
    # the sender's own prompt has no readable time: its rows keep input order (reply first: no echo)
    assert _reply_label(["2025-03-02T10:00:00Z", "soon"]) == "other"
    assert _reply_label(["", ""]) == "other"
    times = pd.Series(["2025-03-01T10:00:00Z", "1740823200000", "1740823200", "", "soon", None])
    assert engine.message_times(times, 6).tolist()[:3] == [1740823200 * 10**9] * 3
    assert (engine.message_times(times, 6) == engine.NO_TIME).sum() == 3
