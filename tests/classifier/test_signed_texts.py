"""A 【…】 signature is a name, not the text's language or content: an English one-time code signed
【微信】 is read by the English code rules, and a one-time code beside its keyword, with no opt-out
footer and no link, is never marketing. Texts written for these tests (fictional brands)."""

from __future__ import annotations

import pandas as pd
import pytest

from sms_audit.classifier import classify_frame


def _labels(rows: list[tuple[str, str]]) -> list[str]:
    frame = pd.DataFrame(
        [("in", address, body) for address, body in rows], columns=["direction", "address", "body"]
    )
    return classify_frame(frame, region="CN")["label"].tolist()


@pytest.mark.parametrize(
    "body",
    [
        "【微信】WeChat verification code: 562193. Do not share it.",
        "【腾讯科技】Your verification code is 123456, valid for 5 minutes.",
        "【某某云】Your login code is 804512. It expires in 10 minutes.",
        "【星链支付】OTP for your payment of 88.00 is 551903. Never share it with anyone.",
        "【Acme】 Use 7731 as your one-time password. Valid for 3 minutes.",
    ],
)
def test_english_codes_signed_in_chinese_brackets_are_verification(body: str) -> None:
    assert _labels([("1069012345670", body)]) == ["verification"]


@pytest.mark.parametrize(
    "body",
    [
        "【某某商城】Use code SAVE20 for 20% off today only. Reply STOP to opt out",
        "【某某商城】Your coupon code 8841 gives 30% off: shop.example.com/s Reply STOP to unsubscribe",
        "【某某快递】Your parcel locker pickup code is 551903. Collect by Friday.",
    ],
)
def test_coupon_and_pickup_codes_signed_in_brackets_are_not_verification(body: str) -> None:
    assert _labels([("1069012345670", body)]) != ["verification"]
