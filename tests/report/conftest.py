"""Shared helpers for report tests: classified frames built by hand from dict rows."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd
import pytest

from sms_audit.model import MESSAGE_COLUMNS, normalize_frame_dtypes

CLASSIFIED_DEFAULTS: dict[str, Any] = {
    "label": "other",
    "reason": "",
    "brand": "",
    "brand_display": "",
    "optout_keyword": "",
    "is_resubscribe": False,
    "is_trap": False,
    "trap_reason": "",
    "is_promotional": False,
}

_ids = itertools.count(1)


def make_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A classified message frame: MESSAGE_COLUMNS + classifier columns, defaults for the rest.

    Each row needs at least ``timestamp`` (ISO string or datetime), ``direction`` and ``address``.
    ``message_id`` defaults to ``m<N>``; ``sender_kind`` to ``cn_commercial_port``.
    """
    records = []
    for row in rows:
        rec: dict[str, Any] = {name: None for name in MESSAGE_COLUMNS}
        rec.update(
            {
                "message_id": f"m{next(_ids)}",
                "sender_kind": "cn_commercial_port",
                "body": "",
                "service": "sms",
                "source_format": "test",
                "source_file": "test.xml",
                "source_record": "",
                "recipients": (),
                "is_group": False,
                "has_attachments": False,
                "is_filtered": False,
            }
        )
        rec.update(CLASSIFIED_DEFAULTS)
        rec.update(row)
        rec["address_raw"] = rec.get("address_raw") or rec["address"]
        rec["thread_key"] = rec.get("thread_key") or rec["address"]
        if isinstance(rec["timestamp"], str):
            rec["timestamp"] = datetime.fromisoformat(rec["timestamp"])
        if row.get("label") == "marketing" and "is_promotional" not in row:
            rec["is_promotional"] = True
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=[*MESSAGE_COLUMNS, *CLASSIFIED_DEFAULTS])
    frame = normalize_frame_dtypes(frame)
    string = pd.StringDtype(storage="pyarrow")
    for name in ("label", "reason", "brand", "brand_display", "optout_keyword", "trap_reason"):
        frame[name] = frame[name].astype(string)
    for name in ("is_resubscribe", "is_trap", "is_promotional"):
        frame[name] = frame[name].astype(bool)
    return frame


def complete_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill the message columns a hand-built frame leaves out (as an importer would) and set dtypes."""
    defaults: dict[str, Any] = {
        "address_raw": frame["address"],
        "thread_key": frame["address"],
        "service": "sms",
        "recipients": [()] * len(frame),
        "is_group": False,
        "has_attachments": False,
        "is_filtered": False,
        "sent_timestamp": pd.NaT,
        "source_format": "test",
        "source_record": "",
    }
    for name, value in defaults.items():
        if name not in frame.columns:
            frame[name] = value
    frame = normalize_frame_dtypes(frame)
    string = pd.StringDtype(storage="pyarrow")
    for name in ("label", "reason", "brand", "brand_display", "optout_keyword", "trap_reason"):
        frame[name] = frame[name].astype(string)
    return frame


@pytest.fixture
def frame_of() -> Callable[[Iterable[Mapping[str, Any]]], pd.DataFrame]:
    return make_frame


# --- a reference scenario used by several tests ----------------------------------------------------

SHOP = {"brand": "优选商城", "brand_display": "优选商城"}
PORT_A = "1069012345670"
PORT_B = "10690123456799"


def scenario_rows() -> list[dict[str, Any]]:
    """A compact archive with one of each finding type (times are UTC)."""
    return [
        # 优选商城: prompt, TD, in-grace ad, confirmation? no; later ads from A and B
        {
            "message_id": "shop-ad-1",
            "timestamp": "2025-03-01T02:00:00Z",
            "direction": "in",
            "address": PORT_A,
            "label": "marketing",
            "body": "【优选商城】春季大促，回TD退订",
            "optout_keyword": "TD",
            **SHOP,
        },
        {
            "message_id": "shop-td",
            "timestamp": "2025-03-01T03:00:00Z",
            "direction": "out",
            "address": PORT_A,
            "label": "unsubscribe-reply",
            "body": "TD",
        },
        {
            "message_id": "shop-grace",
            "timestamp": "2025-03-01T20:00:00Z",
            "direction": "in",
            "address": PORT_A,
            "label": "marketing",
            "body": "【优选商城】限时秒杀，回TD退订",
            **SHOP,
        },
        {
            "message_id": "shop-late-a",
            "timestamp": "2025-03-05T02:00:00Z",
            "direction": "in",
            "address": PORT_A,
            "label": "marketing",
            "body": "【优选商城】会员日，回TD退订",
            **SHOP,
        },
        {
            "message_id": "shop-late-b",
            "timestamp": "2025-03-10T02:00:00Z",
            "direction": "in",
            "address": PORT_B,
            "label": "marketing",
            "body": "【优选商城】新品上架 <b>|*</b>，回TD退订",
            **SHOP,
        },
        {
            "message_id": "shop-otp",
            "timestamp": "2025-03-11T02:00:00Z",
            "direction": "in",
            "address": PORT_B,
            "label": "verification",
            "body": "【优选商城】验证码 482913，5分钟内有效",
            **SHOP,
        },
        # 星巴客: T → confirmation → silence
        {
            "message_id": "star-ad",
            "timestamp": "2025-04-01T02:00:00Z",
            "direction": "in",
            "address": "10690000111",
            "label": "marketing",
            "body": "【星巴客】第二杯半价，退订回T",
            "optout_keyword": "T",
            "brand": "星巴客",
            "brand_display": "星巴客",
        },
        {
            "message_id": "star-t",
            "timestamp": "2025-04-01T02:10:00Z",
            "direction": "out",
            "address": "10690000111",
            "label": "unsubscribe-reply",
            "body": "T",
        },
        {
            "message_id": "star-ok",
            "timestamp": "2025-04-01T02:11:00Z",
            "direction": "in",
            "address": "10690000111",
            "label": "unsubscribe-confirmation",
            "body": "【星巴客】退订成功",
            "brand": "星巴客",
            "brand_display": "星巴客",
        },
        # 甜心蛋糕: R, nothing after, never confirmed
        {
            "message_id": "cake-ad",
            "timestamp": "2025-05-01T02:00:00Z",
            "direction": "in",
            "address": "10690000222",
            "label": "marketing",
            "body": "【甜心蛋糕】新品，拒收请回复R",
            "optout_keyword": "R",
            "brand": "甜心蛋糕",
            "brand_display": "甜心蛋糕",
        },
        {
            "message_id": "cake-r",
            "timestamp": "2025-05-01T03:00:00Z",
            "direction": "out",
            "address": "10690000222",
            "label": "unsubscribe-reply",
            "body": "R",
        },
        # 好运来: TD, then START, then marketing → clean
        {
            "message_id": "luck-ad",
            "timestamp": "2025-06-01T02:00:00Z",
            "direction": "in",
            "address": "10690000333",
            "label": "marketing",
            "body": "【好运来】抽奖，回TD退订",
            "optout_keyword": "TD",
            "brand": "好运来",
            "brand_display": "好运来",
        },
        {
            "message_id": "luck-td",
            "timestamp": "2025-06-01T03:00:00Z",
            "direction": "out",
            "address": "10690000333",
            "label": "unsubscribe-reply",
            "body": "TD",
        },
        {
            "message_id": "luck-start",
            "timestamp": "2025-06-05T03:00:00Z",
            "direction": "out",
            "address": "10690000333",
            "label": "other",
            "body": "START",
            "is_resubscribe": True,
        },
        {
            "message_id": "luck-ad2",
            "timestamp": "2025-06-10T02:00:00Z",
            "direction": "in",
            "address": "10690000333",
            "label": "marketing",
            "body": "【好运来】欢迎回来",
            "brand": "好运来",
            "brand_display": "好运来",
        },
        # a trap from a personal mobile, and the user replied to it
        {
            "message_id": "trap-1",
            "timestamp": "2025-07-01T02:00:00Z",
            "direction": "in",
            "address": "+8613912345678",
            "sender_kind": "mobile",
            "label": "marketing",
            "body": "您的积分即将清零，回复1确认退订，联系13912345678",
            "is_trap": True,
            "trap_reason": "personal mobile; no signature; asks to reply 1 to confirm",
        },
        {
            "message_id": "trap-reply",
            "timestamp": "2025-07-01T02:05:00Z",
            "direction": "out",
            "address": "+8613912345678",
            "sender_kind": "mobile",
            "label": "other",
            "body": "1",
        },
        # a friend's chat: not involved
        {
            "message_id": "chat-1",
            "timestamp": "2025-07-02T02:00:00Z",
            "direction": "in",
            "address": "+8613800000001",
            "sender_kind": "mobile",
            "label": "other",
            "body": "晚上吃饭吗 张伟",
        },
    ]


@pytest.fixture
def scenario() -> pd.DataFrame:
    return make_frame(scenario_rows())
