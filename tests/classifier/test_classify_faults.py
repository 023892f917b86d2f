"""The nine fault kinds of issue 9, each as a kind: several phrasings written for these tests.

None of these texts comes from ../shared/eval/dev.tsv; they are paraphrases of each kind, with
fictional brands, numbers and links.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sms_audit.classifier import classify_frame, load_rules, rules_from_toml
from sms_audit.classifier.engine import LINK_PATTERN


def one(direction: str, address: str, body: str, region: str | None = "CN") -> pd.Series:
    frame = pd.DataFrame([(direction, address, body)], columns=["direction", "address", "body"])
    return classify_frame(frame, region=region).iloc[0]


def thread(rows: list[tuple[str, str, str]], region: str | None = "CN") -> pd.DataFrame:
    return classify_frame(pd.DataFrame(rows, columns=["direction", "address", "body"]), region=region)


# --- 1. words inside a brand or bank name are not content ----------------------------------------


@pytest.mark.parametrize(
    ("address", "body"),
    [
        ("95555", "【招商银行】您尾号3321的信用卡于08月12日还款3,200.00元已入账，当前可用额度45,000.00元。"),
        ("95555", "【招商银行】您账户8876于09月02日19:40快捷支付扣款人民币58.00元，余额2,413.20元。"),
        ("95565", "【招商证券】您委托的买入申报已成交：300股，成交均价12.35元。"),
        ("1069012345678", "【特惠旅行社】您的出行确认单已生成，请于周六07:30在南门集合，导游电话见附件。"),
        ("1069012345679", "【抢鲜生鲜】您的订单已由骑手接单，预计18:40送达，请保持电话畅通。"),
    ],
)
def test_fault1_brand_words_in_a_signature_do_not_make_a_notice_marketing(address: str, body: str) -> None:
    assert one("in", address, body)["label"] == "other"


def test_fault1_a_banks_own_notices_are_never_marketing_for_the_report() -> None:
    rows = [
        ("in", "95555", f"【招商银行】您尾号{n}的借记卡{d}日支出人民币{a}元。")
        for n, d, a in ((1234, 3, "88.00"), (5678, 9, "1,200.00"))
    ]
    assert thread(rows)["label"].tolist() == ["other", "other"]


# --- 2. Chinese notices with a weak word stay notices; adverts with a notice word stay adverts -----


@pytest.mark.parametrize(
    "body",
    [
        "【某某银行】您的房贷本月已按时扣款4,820.00元，如有疑问请致电客服。",
        "【城市燃气】温馨提示：您家本月燃气费126.50元已自动扣缴，详询客服热线。",
        "【某某快递】您的包裹已到达小区驿站，请凭取件码 8-3-2210 取件，详询驿站。",
        "【某某酒店】您预订的大床房已确认，入住日期10月3日，如需变更请致电前台。",
    ],
)
def test_fault2_zh_notices_with_a_weak_promotion_word_are_other(body: str) -> None:
    assert one("in", "1069098765432", body)["label"] == "other"


@pytest.mark.parametrize(
    "body",
    [
        "【优享酒店】温馨提示：周末入住特惠，豪华大床房198元起，会员再享9折，回T退订",
        "【悦购商城】您的专属红包已到账，满199减60，全场包邮，速抢！回TD退订",
        "【好家装修】新春装修季，免费上门量房设计，签约即送全屋灯具，欢迎来电咨询。退订回N",
        "【星河影城】观影季来袭，周二会员日电影票19.9元起，爆米花买一送一，拒收请回复R",
    ],
)
def test_fault2_zh_adverts_with_a_notice_word_are_marketing(body: str) -> None:
    assert one("in", "1069098765432", body)["label"] == "marketing"


# --- 3. English carrier and subscription notices ---------------------------------------------------


@pytest.mark.parametrize(
    ("address", "body"),
    [
        (
            "CarrierNet",
            "Dear Customer, your monthly bundle was renewed and 120 was deducted from your main balance.",
        ),
        ("448", "Your data balance is 350MB, valid till 12/09. Text HELP to 448 for help."),
        (
            "448",
            "Your bundle renewal failed: insufficient balance. Recharge to keep browsing. Text HELP to 448.",
        ),
        ("CarrierNet", "Your recharge of 500 was successful. New balance: 742.50. Thank you."),
        ("555", "Dear subscriber, your daily plan has expired. Your current airtime balance is 12.00."),
        ("CarrierNet", "You have used 80% of your 2GB weekly plan. Remaining: 410MB, valid until 14/03."),
        ("555", "Last call cost 12.40. Main balance: 230.10. Bonus balance: 0.00."),
        ("72345", "Rx Reminder: your prescription is ready for pickup. Reply STOP to end texts"),
        (
            "72345",
            "Your appointment with Dr. Patel is confirmed for Mon 3/4 at 10:30 AM. Reply C to confirm or R to reschedule.",
        ),
    ],
)
def test_fault3_en_carrier_notices_with_a_price_or_short_code_are_other(address: str, body: str) -> None:
    assert one("in", address, body, region="NG")["label"] == "other"


# --- 4. phishing with a STOP footer, links without a scheme ------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Your bank account has been locked due to unusual activity. Verify now at secure-acct-verify.com Reply STOP to opt out",
        "USPS: your parcel is on hold for an unpaid fee of $1.99. Pay at usps-redelivery-help.top Reply STOP to end",
        "Final notice: your toll balance is overdue. Avoid a penalty at ezpay-tolls.icu/pay Txt STOP to quit",
        "Apple ID alert: your account was suspended. Restore access: appleid-unlock.support Reply STOP to unsubscribe",
    ],
)
def test_fault4_phishing_with_a_stop_footer_is_other(body: str) -> None:
    row = one("in", "+12025550166", body, region="US")
    assert row["label"] == "other"
    assert row["optout_keyword"] == "STOP"  # the footer is still read: the report may list the prompt


_US_ADVERTS = [
    "Spring sale at Maple & Co: 30% off all jackets this weekend only. Shop maplecoshop.com Reply STOP to opt out",
    "GreenLeaf Dental: new patient special, cleaning and x-rays for $59. Book at greenleafdental.com/book Reply STOP to unsubscribe",
    "Acme: Flash sale ends tonight, 40% off! acme.example/f Reply STOP to opt out",
    "Big weekend sale at Acme: 40% off all shoes, today only. Reply STOP to opt out",
    "Target Circle: Your weekly deals are here. Save 25% on home essentials. target.com/deals Msg&data rates may apply. Reply STOP to opt out",
    "Sephora: Beauty Insider event starts now - up to 20% off. Shop: sephora.com Reply STOP to end",
    "Domino's: Get a large 2-topping pizza for $7.99 carryout this week. Order: dominos.com Txt STOP to stop",
    "Bath & Body Works: Buy 3 get 3 FREE on all body care today! bbw.com Reply STOP to unsubscribe",
    "Chipotle: Free guac with any entree this Friday in the app. Reply STOP to opt out.",
    "Your favorite sneakers are back in stock! Get them before they're gone: kicksco.com/restock Reply STOP to opt out",
    "Lowe's: Spring Black Friday deals are live! Save on mowers and grills at lowes.com. Reply STOP to quit",
    "New arrivals just dropped at Zara. Shop the collection now at zara.com. Text STOP to unsubscribe",
]


@pytest.mark.parametrize(
    "body",
    [
        *_US_ADVERTS,
        "Your bank account has been locked due to unusual activity. Verify now at secure-acct-verify.com Reply STOP to opt out",
        "Your Acme verification code is 482913. Do not share it.",
    ],
)
def test_fault4_the_model_reads_no_sender_kind(body: str) -> None:
    # US businesses text from 10-digit long codes (10DLC) that look like anyone's mobile: the model
    # reads no sender kind, so a text gets the same verdict and reason from a long or a short code
    long_code = one("in", "+12025550171", body, region="US")
    short_code = one("in", "72345", body, region="US")
    assert (long_code["label"], long_code["reason"]) == (short_code["label"], short_code["reason"])


@pytest.mark.parametrize(
    "body",
    [
        *_US_ADVERTS,
        pytest.param(
            "Old Navy: Extra 20% off everything through Sunday! Reply STOP to cancel",
            marks=pytest.mark.xfail(
                reason="known limit (docs/classifier.md): no corpus holds modern US retail adverts; "
                "'everything' and 'to cancel' still lean to a notice",
                strict=False,
            ),
        ),
        pytest.param(
            "Joe's Pizza: 2 large pizzas for $19.99 tonight with code PIE2. Order at joespizza.com. Txt STOP to end",
            marks=pytest.mark.xfail(
                reason="known limit (docs/classifier.md): no corpus holds modern US adverts, so a "
                "promo code beside a link still reads as a lure",
                strict=False,
            ),
        ),
    ],
)
def test_fault4_us_adverts_with_a_stop_footer_are_marketing(body: str) -> None:
    assert one("in", "+12025550171", body, region="US")["label"] == "marketing"


def _is_link(texts: list[str]) -> list[bool]:
    # the engine's own matcher: RE2 through Arrow, case-insensitive (engine._match)
    return pc.match_substring_regex(pa.array(texts), LINK_PATTERN, ignore_case=True).to_pylist()


def test_fault4_links_without_a_scheme_or_slash_are_links() -> None:
    texts = [
        "Verify now at secure-acct-verify.com",
        "pay the fee at ezpay-tolls.icu/pay today",
        "Restore access: appleid-unlock.support",
        "claim at giftz-claim.top!",
        "GO TO HTTPS://X.CO",
        "details: wap.example.cn/x",
        "详情点击 t.cn/RvkleVx 查看",
    ]
    assert _is_link(texts) == [True] * len(texts)


def test_fault4_numbers_abbreviations_and_addresses_are_not_links() -> None:
    texts = [
        "see you at 3.30 ok",
        "Mr.Smith said hi",
        "New balance: 742.50.",
        "e.g. tomorrow",
        "email me at bob@example.com",
        "version 2.1.3 released",
    ]
    assert _is_link(texts) == [False] * len(texts)


# --- 5. one-time codes of other shapes; pickup codes are not codes ---------------------------------


@pytest.mark.parametrize(
    ("address", "body", "region"),
    [
        ("1065012345678", "【云账户】校验码：k9q，用于登录验证，请勿泄露。", "CN"),
        ("1065012345678", "【某某网】482913是您的登录验证码，10分钟内有效。", "CN"),
        ("1065012345678", "【某某銀行】您的驗證碼為 573104，請於5分鐘內輸入。", "CN"),
        ("1065012345678", "【某某支付】認證碼：6618，切勿告知他人。", "CN"),
        ("1065012345678", "【某某商城】確認碼 830271，請勿轉發。", "CN"),
        ("Acme", "Your Acme verification code is QZXWV.", None),
        ("Acme", "Use 482 913 to sign in to Acme. Never share this code.", None),
        ("Acme", "Acme code: 482-913. It expires in 10 minutes.", None),
        # a code before its keyword
        ("Photon", "740213 (Photon verification code; it expires in 10 minutes). Do not share it.", None),
        ("Zeta", "[Zeta] 3310 is the login code you asked for. Valid 5 min.", None),
        ("Kiwi", "Kiwi: 915502 - enter this code to confirm your new device.", None),
        ("Kiwi", "815502 -- please use this code to finish signing up to Kiwi.", None),
        # run into the word before it (gateway templates that drop the space)
        ("51234", "Your OTP is583021 for the payment of 20.00 at Acme Store.", None),
        ("Acme", "Acme login code is4471, valid for 5 minutes.", None),
        # OTP inside Chinese text
        ("1065012345678", "【某某银行】您正在进行网银转账，OTP密码718204，5分钟内有效，请勿泄露。", "CN"),
        ("1065012345678", "【某某證券】請輸入OTP 660193 完成登入，勿提供給他人。", "CN"),
    ],
)
def test_fault5_codes_of_other_shapes_are_verification(address: str, body: str, region: str | None) -> None:
    assert one("in", address, body, region=region)["label"] == "verification"


@pytest.mark.parametrize(
    ("address", "body", "region"),
    [
        ("1069012345678", "【丰速驿站】您的包裹已放入3号柜，取件码 62018，请于24小时内取走。", "CN"),
        ("1069012345678", "【某某影城】取票码 8816 2034，请凭码到自助机取票。", "CN"),
        ("LockerBox", "Your parcel is in locker 14. Pickup code 552019, valid for 3 days.", None),
    ],
)
def test_fault5_pickup_and_ticket_codes_stay_other(address: str, body: str, region: str | None) -> None:
    assert one("in", address, body, region=region)["label"] == "other"


# --- 6. opt-out replies in real forms; a bare Y or 1 is an answer ----------------------------------


@pytest.mark.parametrize(
    ("body", "region"),
    [("ＴＤ", "CN"), ("退订TD", "CN"), ("N不要再发", "CN"), ("#8TD", "CN"), ("ｔｄ！", "CN")],
)
def test_fault6_zh_opt_out_replies_in_real_forms(body: str, region: str) -> None:
    assert one("out", "1069012345678", body, region=region)["label"] == "unsubscribe-reply"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("ＳＴＯＰ", "en.reply-keyword: STOP"),
        ("Ｕｎｓｕｂｓｃｒｉｂｅ", "en.reply-keyword: Unsubscribe"),
        ("stop all", "en.reply-keyword: stop all"),
        ("Stop.", "en.reply-keyword: Stop."),
        ("CANCEL", "en.reply-keyword: CANCEL"),
    ],
)
def test_fault6_en_opt_out_replies_in_real_forms(body: str, reason: str) -> None:
    row = one("out", "72345", body, region="US")
    assert (row["label"], row["reason"]) == ("unsubscribe-reply", reason)


@pytest.mark.parametrize(("address", "body"), [("72345", "Y"), ("72345", "1"), ("+12025550100", "Y")])
def test_fault6_a_bare_y_or_1_without_a_question_is_not_an_opt_out(address: str, body: str) -> None:
    assert one("out", address, body, region="US")["label"] == "other"


@pytest.mark.parametrize(
    ("prompt", "reply"),
    [
        ("Acme News: new arrivals this week. Text NEWS UNSUB to 72001 to stop", "NEWS UNSUB"),
        ("DealsDaily: 50% off pizza tonight! Reply GET DEALS STOP to opt out", "get deals stop"),
        ("【某某商城】秋装上新，全场8折。回复#8TD退订", "#8TD"),
    ],
)
def test_fault6_replies_that_echo_the_senders_own_footer(prompt: str, reply: str) -> None:
    result = thread([("in", "72001", prompt), ("out", "72001", reply)], region=None)
    assert result["label"].iloc[1] == "unsubscribe-reply"


@pytest.mark.parametrize(
    ("address", "question", "answer"),
    [
        ("10086", "【中国移动】您是否需要办理5G加速包？回复Y确认办理，回复N取消。", "Y"),
        ("10086", "尊敬的客户，请对本次服务评价：满意请回复1，不满意请回复2。", "1"),
        ("95588", "【某某银行】您是否本人操作？是请回复1，否请回复2。", "1"),
    ],
)
def test_fault6_a_bare_y_or_1_answering_a_question_is_not_an_opt_out(
    address: str, question: str, answer: str
) -> None:
    result = thread([("in", address, question), ("out", address, answer)])
    assert result["label"].iloc[1] == "other"


# --- 7. confirmation wording ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Acme: You won't receive any more messages from us. Reply START to rejoin.",
        "You have been unsubscribed from Acme alerts and you will not get further texts.",
        "PizzaPal: you will no longer receive marketing texts from this number.",
    ],
)
def test_fault7_unsubscribe_confirmations(body: str) -> None:
    assert one("in", "72345", body, region="US")["label"] == "unsubscribe-confirmation"


@pytest.mark.parametrize(
    "body",
    [
        "This number will no longer receive your responses. For help visit acme.example/help",
        "Please note this line does not accept replies. Your order #A1234 has shipped.",
        "You won a $500 gift card! Claim it now at giftz-claim.top",
    ],
)
def test_fault7_near_misses_are_not_confirmations(body: str) -> None:
    assert one("in", "72345", body, region="US")["label"] != "unsubscribe-confirmation"


# --- 8. obfuscated Chinese scams ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "代、办…证、件，各类证书包过，加 微 信 zb8866 详谈",
        "专 业 代 开 发 票，增 值 税 普 票 均 可，联 系 张 先 生",
        "窃.听.器 手.机.定.位，查 通 话 记 录，加 微 信 jt5201",
        "真.人.百.家.乐，首.存.送.彩.金，网 址 见 主 页",
    ],
)
def test_fault8_obfuscated_zh_scams_are_other(body: str) -> None:
    assert one("in", "1069087654321", body)["label"] == "other"


# --- 9. each rule reads the script it was written for ------------------------------------------------


def test_fault9_english_rules_do_not_fire_on_chinese_text() -> None:
    rules = rules_from_toml(
        '[[rule]]\nid = "me.app"\nlabel = "marketing"\nlang = "en"\ndirection = "in"\npriority = 99\n'
        "pattern = '''(?:^|[^a-z])app(?:[^a-z]|$)'''\n",
        base=load_rules(None),
    )
    frame = pd.DataFrame(
        [("in", "95555", "【某某银行】请在App内完成身份认证。"), ("in", "Acme", "Get our new app today!")],
        columns=["direction", "address", "body"],
    )
    result = classify_frame(frame, region="CN", rules=rules)
    assert not result["reason"].iloc[0].startswith("me.app")
    assert result["reason"].iloc[1] == "me.app:  app "


@pytest.mark.parametrize(
    "body",
    [
        "【某某银行】请在App内完成认证，code区分大小写。",
        "【某某商城】您的订单已发货，可在App内查看物流。",
        "【某某出行】行程结束，STOP计费，费用已从余额扣除。",
    ],
)
def test_fault9_packaged_english_rules_leave_chinese_texts_alone(body: str) -> None:
    reason = one("in", "1069012345678", body)["reason"]
    assert not reason.startswith("en.")
