"""Labels with real-world phrasing (zh and en): structural rules, the content model's classes, the
friend's T/N/STOP traps, context rules. Reasons are asserted where a rule decides; where the content
model decides, the reason names the model (``model.<class> <p>: …``)."""

from __future__ import annotations

import pandas as pd
import pytest

from sms_audit.classifier import CLASSIFY_COLUMNS, classify_frame


def classify(rows: list[tuple[str, str, str]], **kwargs: object) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["direction", "address", "body"])
    return classify_frame(frame, **kwargs)  # type: ignore[arg-type]


def one(direction: str, address: str, body: str, region: str | None = "CN") -> pd.Series:
    return classify([(direction, address, body)], region=region).iloc[0]


@pytest.mark.parametrize(
    ("address", "body"),
    [
        ("106575578803", "【淘宝网】您的验证码是585632，5分钟内有效。"),
        ("95188", "【支付宝】717354，守住校验码，打死都不要告诉别人哦！"),
        ("106590961663", "【优酷土豆】验证码174211（有效期3分钟）。如非本人操作，请忽略本短信。回复TD退订"),
    ],
)
def test_classify_zh_verification_even_with_optout_footer(address: str, body: str) -> None:
    row = one("in", address, body)
    assert row["label"] == "verification"
    assert row["reason"].startswith("model.verification ")


@pytest.mark.parametrize(
    "body",
    [
        "G-312106 is your Google verification code.",
        "Your OTP is 460134 (Ref code GYUB). This password will be expired within 5 minutes.",
        "Telegram code: 85703",
        "<#> 803 415 is your Instagram code SIYRxKrru1t",
    ],
)
def test_classify_en_verification(body: str) -> None:
    assert one("in", "Google", body, region=None)["label"] == "verification"


def test_classify_ticket_codes_are_not_verification() -> None:
    ticket = one(
        "in",
        "1065502333138",
        "【腾讯科技】星美影城超体6排9座已买，凭兑换码156233和验证码550075到星美影城终端机取票",
    )
    assert ticket["label"] == "other"


@pytest.mark.parametrize(
    ("address", "body", "keyword"),
    [
        ("10106666", "携程网上订国航指定航班，输优惠码CA0630，最高赠200元礼品卡。回T退订【携程】", "T"),
        ("106937095175", "【京东】图书4周年，抢400-200优惠券，感谢您的支持 jd.com/jSPupR 回复TD退订", "TD"),
        ("10657580371237", "【胖丁mami】亲，不止于1212！12.10-12.13全店满399减20，上不封顶！ 退订回N", "N"),
    ],
)
def test_classify_zh_marketing_and_optout_keyword(address: str, body: str, keyword: str) -> None:
    row = one("in", address, body)
    assert (row["label"], row["optout_keyword"]) == ("marketing", keyword)
    assert row["reason"].startswith("model.marketing ")
    assert row["is_promotional"]


def test_classify_zh_footer_only_is_marketing_and_explained() -> None:
    row = one("in", "106900000000", "亲爱的会员，冬日新款到店，欢迎品鉴。回T退订")
    assert row["label"] == "marketing"
    assert row["optout_keyword"] == "T"


def test_classify_en_marketing_with_stop_footer() -> None:
    row = one(
        "in",
        "42528",
        "Huge Summer Wine Sale! 62% off Marlborough Sauvignon Blanc! View Deal "
        "https://bit.ly/3xmZNuq Reply stop to opt out",
        region=None,
    )
    assert row["label"] == "marketing"
    assert row["optout_keyword"] == "STOP"


@pytest.mark.parametrize(
    ("address", "body"),
    [
        ("95338", "【顺丰速运】您的快件已签收，签收人：本人。感谢使用顺丰，祝您生活愉快。"),
        (
            "95555",
            "您尾号4118的信用卡31日18:24消费人民币1,085.00元。非常香港，你刷卡我返现 t.cn/RPGOt1Z 。[招商银行]",
        ),
    ],
)
def test_classify_transactional_with_footer_or_promo_tail_is_other(address: str, body: str) -> None:
    assert one("in", address, body)["label"] == "other"


@pytest.mark.parametrize(
    ("address", "body", "region"),
    [
        (
            "+447700900054",
            (
                "Congratulations, Your entry into our contest last month made you a WINNER! Goto "
                "http://www.apple.com.text.won.com to claim your prize!"
            ),
            None,
        ),
        (
            "+12025550160",
            (
                "CA SERVICE DEPT [EDD]: Your EDD Card Has Been Temporarily Suspended. Please visit: "
                "http://eddphelp.info Reply STOP To Opt-Out."
            ),
            None,
        ),
    ],
)
def test_classify_scams_are_other(address: str, body: str, region: str | None) -> None:
    assert one("in", address, body, region=region)["label"] == "other"


@pytest.mark.parametrize(
    ("address", "body", "region"),
    [
        ("1069013355", "【同程旅游】退订成功，不会再收到同程的营销短信啦。", "CN"),
        ("10086", "您已成功取消流量使用提醒短信，如需恢复请回复KTSJTX。中国移动", "CN"),
        (
            "+12025550143",
            (
                "You have successfully been unsubscribed. You will not receive any more messages "
                "from this number. Reply START to resubscribe."
            ),
            None,
        ),
        ("31507", "DietFix: You have been unsubscribed. No more msgs will be sent. Help? Reply HELP.", None),
    ],
)
def test_classify_confirmations(address: str, body: str, region: str | None) -> None:
    assert one("in", address, body, region=region)["label"] == "unsubscribe-confirmation"


def test_classify_confirmation_with_advert_is_flagged_promotional() -> None:
    row = one(
        "in",
        "+447700900794",
        "You are now unsubscribed all services. Get tons of sexy babes "
        "straight to your phone! FREE entry, go to http://gotbabes.co.uk.",
        None,
    )
    assert row["label"] == "unsubscribe-confirmation"
    assert row["is_promotional"]


@pytest.mark.parametrize(
    ("address", "body", "region"),
    [
        (
            "Etisalat",
            "Dear Customer, you have successfully opted out of 500MB Data plan. Text help to 229",
            None,
        ),
        ("10086", "您已成功退订10元100M流量包，下月生效。", "CN"),
        ("1069018800", "【美团】您的外卖订单已退款成功，退款金额将原路返回。", "CN"),
        (
            "+447700900289",
            "Sorry! U can not unsubscribe yet. THE MOB offer package has a min term of 54 weeks",
            None,
        ),
        (
            "10086",
            "尊敬的客户，您已成功订阅天气预报短信服务，每天7点为您发送，退订请回复QXTQ。【中国移动】",
            "CN",
        ),
    ],
)
def test_classify_cancelling_a_plan_refund_or_optin_is_not_a_confirmation(
    address: str, body: str, region: str | None
) -> None:
    row = one("in", address, body, region=region)
    assert row["label"] != "unsubscribe-confirmation"
    assert row["reason"].startswith("model.")  # the exclusion leaves the text to the content model


@pytest.mark.parametrize(
    ("address", "body", "region"),
    [
        ("1069012345671", "TD", "CN"),
        ("106575260011", "Td", "CN"),
        ("1065797701", "退订", "CN"),
        ("1065980099", "退订，别再发了", "CN"),
        ("10690123", "0000", "CN"),
        ("1065757036", "B", "CN"),
        ("10690118", "QXDY", "CN"),
        ("1069088855", "T", "CN"),
        ("106911112", "R", "CN"),
        ("26262", "STOP", None),
        ("72345", "STOPALL", None),
        ("22395", "OPT-OUT", None),
        ("89555", "Please stop texting me", None),
        ("84199", "ENG STOP", None),
        ("+12025550155", "STOP!", None),
        ("+12025550187", "Stop sending me these messages", None),
    ],
)
def test_classify_unsubscribe_replies(address: str, body: str, region: str | None) -> None:
    assert one("out", address, body, region=region)["label"] == "unsubscribe-reply"


@pytest.mark.parametrize(
    ("address", "body", "region"),
    [
        ("+8613800004821", "T", "CN"),
        ("+8613900007315", "N", "CN"),
        ("+8613800003318", "R", "CN"),
        ("+8613900005519", "停", "CN"),
        ("+8613700001187", "退了", "CN"),
        ("+447700900615", "stop it!", None),
        ("+12025550147", "omg stop", None),
        ("+447700900615", "STOP it lol", None),
        ("+12025550169", "Stop texting me at work pls", None),
        ("+8618800004410", "我已经回复TD了，还在发", "CN"),
        ("+12025550176", "I replied STOP but they keep texting", None),
        ("10086", "1", "CN"),
        ("131", "2", None),
        ("69669", "YES", None),
    ],
)
def test_classify_friends_t_n_stop_stay_other(address: str, body: str, region: str | None) -> None:
    assert one("out", address, body, region=region)["label"] == "other"


def test_classify_keyword_echo_uses_the_senders_own_prompt() -> None:
    result = classify(
        [
            ("in", "1069000012345", "【某商城】新品上市，全场5折。回复KK退订"),
            ("out", "1069000012345", "kk"),
            ("out", "1069000099999", "KK"),
        ],
        region="CN",
    )
    assert result["label"].tolist() == ["marketing", "unsubscribe-reply", "other"]
    assert result["reason"].iloc[1] == "context.keyword-echo: KK"
    assert result["brand"].iloc[1] == "某商城"


def test_classify_keyword_echo_needs_the_prompt_first_when_timestamps_exist() -> None:
    frame = pd.DataFrame(
        {
            "direction": ["out", "in"],
            "address": ["1069000012345"] * 2,
            "body": ["KK", "新品上市，全场5折。回复KK退订"],
            "timestamp": ["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"],
        }
    )
    assert classify_frame(frame, region="CN")["label"].tolist() == ["other", "marketing"]


def test_classify_t_to_a_long_code_counts_after_it_sent_marketing() -> None:
    result = classify(
        [
            ("in", "+8613812340000", "本店新品上市全场8折优惠，详询热线，回T退订"),
            ("out", "+8613812340000", "T"),
            ("out", "+8613899990000", "T"),
        ],
        region="CN",
    )
    assert result["label"].tolist() == ["marketing", "unsubscribe-reply", "other"]
    assert result["is_trap"].tolist() == [True, False, False]
    assert result["trap_reason"].iloc[0] == "sender.personal-number-optout-prompt: mobile"


def test_classify_resubscribe_flag() -> None:
    result = classify([("out", "72345", "START"), ("out", "+8613800001111", "start")], region=None)
    assert result["is_resubscribe"].tolist() == [True, False]
    assert result["label"].tolist() == ["other", "other"]


def test_classify_trap_confirming_reply() -> None:
    row = one("in", "1069000012345", "【某某】您的号码已被选中参加活动，回复1确认退订")
    assert row["is_trap"]
    assert row["trap_reason"].startswith("zh.trap-confirm-reply: ")


@pytest.mark.parametrize(
    ("address", "body", "brand", "display"),
    [
        ("95555", "【招商银行】您的账户有新的活动。", "招商银行", "招商银行"),
        ("95555", "您尾号1234的信用卡消费人民币10.00元。[招商银行]", "招商银行", "招商银行"),
        ("10690918", "【中原地产】您已取消订阅，我们将不再向您发送房源信息。", "中原地产", "中原地产"),
        ("31507", "DietFix: You have been unsubscribed. No more msgs will be sent.", "dietfix", "DietFix"),
        (
            "26262",
            "You are opted out of Adventure Works texts and will not receive further messages.",
            "adventureworks",
            "Adventure Works",
        ),
        ("AD-HDFCBK-P", "Get a pre-approved personal loan at 10.5% p.a. Apply now.", "hdfcbk", "HDFCBK"),
        ("+447700900123", "hello there", "", ""),
    ],
)
def test_classify_brand_extraction(address: str, body: str, brand: str, display: str) -> None:
    row = one("in", address, body, region="CN" if address.startswith(("9", "106")) else None)
    assert (row["brand"], row["brand_display"]) == (brand, display)


def test_classify_one_merchant_many_numbers_share_a_brand() -> None:
    result = classify(
        [
            ("in", "1069000011111", "【京东】图书4周年，抢优惠券"),
            ("in", "1065700022222", "京东618大促，全场5折【京东】"),
        ],
        region="CN",
    )
    assert result["brand"].tolist() == ["京东", "京东"]


def test_classify_dlt_promotional_suffix_marks_marketing() -> None:
    row = one("in", "AX-SHOPPR-P", "Hello from our store", region=None)
    assert (row["label"], row["brand"]) == ("marketing", "shoppr")


def test_classify_columns_order_dtypes_and_index() -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "direction": ["in", "out", "draft"],
            "address": ["95555", "106900", ""],
            "body": ["x", None, "TD"],
        },
        index=[10, 5, 7],
    )
    result = classify_frame(frame, region="CN")
    assert list(result.columns) == ["id", "direction", "address", "body", *CLASSIFY_COLUMNS]
    assert list(result.index) == [10, 5, 7]
    assert result["id"].tolist() == ["a", "b", "c"]
    for name in ("label", "reason", "sender_kind", "brand", "brand_display", "optout_keyword", "trap_reason"):
        assert result[name].dtype == "str"
        assert not result[name].isna().any()
    assert result["label"].tolist()[1:] == ["other", "other"]  # row 0 is the content model's call
    assert result["reason"].iloc[2] == "default: not an incoming or outgoing message"
    assert result["sender_kind"].tolist() == ["service_number", "cn_commercial_port", "unknown"]


def test_classify_keeps_a_given_sender_kind() -> None:
    frame = pd.DataFrame(
        {"direction": ["out"], "address": ["+15550100"], "sender_kind": ["short_code"], "body": ["R"]}
    )
    result = classify_frame(frame)
    assert result["sender_kind"].iloc[0] == "short_code"
    assert result["label"].iloc[0] == "unsubscribe-reply"


def test_classify_brand_key_groups_channel_words() -> None:
    """One merchant's sub-brands share a key; different merchants do not."""
    from sms_audit.classifier.brands import brand_key

    assert brand_key("ACME Outlet") == brand_key("ACME") == brand_key("Acme Inc.") == "acme"
    assert brand_key("Blue Bottle Coffee") == "bluebottlecoffee"
    assert brand_key("Outlet") == "outlet"  # never stripped to nothing
    assert brand_key("优选商城") == brand_key("优选") == "优选"


def test_classify_weak_zh_vocabulary_in_a_chat_is_not_marketing() -> None:
    """活动/会员/积分 in a friend's chat are not marketing; in a signed shop advert they are."""
    chat = one("in", "+8613900001111", "周末一起去参加读书会活动吗？我有会员卡")
    assert chat["label"] == "other" and chat["reason"].startswith("model.")
    port = one("in", "1069012345678", "【悦读书店】周末读书会活动，会员积分翻倍，全场图书8折，回T退订")
    assert port["label"] == "marketing" and port["reason"].startswith("model.marketing ")


@pytest.mark.parametrize(
    "body",
    [
        "r u free tonight? the new thai place has a deal on, cheap and good",
        "haha i never win anything. see u at 7, 20 mins late sorry",
        "pls txt me when ur done, price of the tickets went up again",
    ],
)
def test_classify_en_sales_words_in_a_friends_chat_stay_other(body: str) -> None:
    """free/win/deal/cheap/mins/txt from a personal number are chat unless a commercial marker is beside them."""
    assert one("in", "+447700900123", body, region="GB")["label"] == "other"


@pytest.mark.parametrize(
    "body",
    [
        "亲，新用户首存500送500，时时返水不封顶，网址 www.example-yule.cn",
        "周末真人游戏，充值后一倍流水即可提款，加微信 ab1234 了解",
        "小王，你仔细看看我们聚会的相册吧 http://ex.example.cn/a1",
        "您的亲友给您发来照片，点击查看 http://ex.example.cn/p2",
        "尊敬的客户：您的账户已满8000积分，可兑换68元现金，请登录 http://ex.example.cn 领取，逾期清零",
        "尊敬的用户：您的电子密码器将于明日失效，请登录 http://ex.example.cn 重新激活",
        "央视节目组指定您为本期场外互动者，获得现金8万元及笔记本电脑一台，请登录领取",
        "了解真相，远离中共，平安是福 http://ex.example.cn",
    ],
)
def test_classify_zh_scams_and_bank_notices_from_a_port_are_other(body: str) -> None:
    row = one("in", "1065901234567", body)
    assert row["label"] == "other" and row["reason"].startswith("model.")


@pytest.mark.parametrize(
    "body",
    [
        "【金福珠宝】国庆特惠：黄金每克优惠20元，钻石彩金8折，详询门店。回T退订",
        "【优品商城】会员积分可兑换现金券，购物满199元立减50元，回TD退订",
        "【海湾移动】预存100元送50元话费，存送活动火热进行中，回N退订",
    ],
)
def test_classify_zh_jewellery_points_and_topup_adverts_stay_marketing(body: str) -> None:
    """彩金 (coloured gold), 积分兑换现金券 and 存送 top-ups are ordinary adverts, not gambling or phishing."""
    assert one("in", "1069012345678", body)["label"] == "marketing"


def test_classify_zh_otp_mentioning_e_banking_stays_verification() -> None:
    row = one("in", "95588", "您正在登录网上银行，验证码 482913，5分钟内有效，过期失效。【工商银行】")
    assert row["label"] == "verification"


@pytest.mark.parametrize(
    "body",
    [
        "Use 284 617 to verify your Snapgram account.",
        "Your Acme verification code is Qx7Lm2Pz9RtB",
        "Your login code is: 4kT9wz",
    ],
)
def test_classify_en_spaced_and_letter_digit_codes_are_verification(body: str) -> None:
    assert one("in", "Acme", body, region="GB")["label"] == "verification"


def test_classify_en_code_words_without_a_code_are_not_verification() -> None:
    row = one("in", "Acme", "Your security code is the 3 digits on the back of your card", region="GB")
    assert row["label"] != "verification"


@pytest.mark.parametrize(
    "body",
    [
        "您账户5521于06月03日入账工资，人民币8650.00。周末出游享满减 e95555.cn/ab。[招商银行]",
        "您的卡号6032于5月8日还款人民币2000.00元，当前可用额度充足，分期购车低至0利率。【某某银行】",
        "【快打车】您的订单已由李师傅应答，车牌京A0000，请准时到上车点，下载客户端领更多优惠",
        "【好物商城】订单状态更新：您购买的商品已出库，会员积分翻倍活动进行中",
    ],
)
def test_classify_zh_account_alerts_and_order_updates_with_promo_tails_are_other(body: str) -> None:
    assert one("in", "1069012345678", body)["label"] == "other"


@pytest.mark.parametrize(
    ("address", "trap"),
    [
        ("+12025550123", False),  # a US long code (10DLC): businesses text from these
        ("+18005550199", False),  # toll-free
        ("+14165550123", False),  # Canada, same plan
        ("+447700900123", True),  # a UK mobile asking for STOP is still trap-shaped
        ("+8613912345678", True),  # a Chinese mobile: commercial SMS must come from 106 ports
    ],
)
def test_opt_out_prompts_from_north_american_long_codes_are_not_traps(address: str, trap: bool) -> None:
    body = "Weekend deal! 25% off all home decor through Sunday. Shop now: tgt.example/deal Reply STOP to opt out"
    row = classify([("in", address, body)], region=None).iloc[0]
    assert bool(row["is_trap"]) is trap
