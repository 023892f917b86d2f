"""Generate sample_data/android-sms-backup.xml: a synthetic SMS Backup & Restore file of a +86 user.

Deterministic (fixed seed and dates) and fictional (numbers from made-up 1069/106 ports and
``1380000xxxx``-style mobiles). The planted stories the report must find:

* 【优选商城】: user replies "TD" to port 10690123456701; a message 6 h later (inside the 24 h
  grace), more marketing from the same port after the grace, then from two other ports of the
  same brand (channel hopping). No confirmation.
* 【星巴客】: user replies "T"; one "退订成功" confirmation; silence afterwards (honoured).
* 【乐动健身】: "拒收请回复R"; user replies "R"; no confirmation, no more messages (unconfirmed).
* 【快达物流】: user replies "退订"; later only parcel notices (non-marketing after unsubscribe).
* 【美味外卖】: user replies "TD", later "START" (re-subscribed); marketing after that is clean.
* A trap from a personal mobile asking to "回复1确认退订", which the user answered with "1".
* Verification codes (one with a 回TD退订 footer), bank notices, personal chats with a friend's
  "T"/"N" answers, a group MMS, an emoji written as UTF-16 surrogate references.

Run: ``python sample_data/make_android_sample.py`` (rewrites the XML next to this script).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import quoteattr

CST = timezone(timedelta(hours=8))
OUT = Path(__file__).with_name("android-sms-backup.xml")
OWNER = "+8613800005678"
SMSC = "+8613800100500"
EMOJI_REF = "\x00EMOJI\x00"  # replaced by a surrogate-pair reference after escaping


@dataclass
class Sms:
    when: datetime
    address: str
    body: str
    kind: int  # 1 received, 2 sent
    contact: str = "(Unknown)"


@dataclass
class Mms:
    when: datetime
    sender: str  # "insert-address-token" when the owner sent it
    members: list[str]
    text: str
    box: int
    contact: str
    with_image: bool = False


def t(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=CST)


def build() -> list[Sms | Mms]:
    rng = random.Random(20251130)
    msgs: list[Sms | Mms] = []

    def recv(when: datetime, address: str, body: str, contact: str = "(Unknown)") -> None:
        msgs.append(Sms(when, address, body, 1, contact))

    def sent(when: datetime, address: str, body: str, contact: str = "(Unknown)") -> None:
        msgs.append(Sms(when, address, body, 2, contact))

    # --- 【优选商城】: TD ignored, same port and channel hopping -----------------------------------
    shop_a, shop_b, shop_c = "10690123456701", "10690123456702", "106575550001"
    shop_offers = [
        "双11预售开启，爆款直降200元",
        "会员日全场满199减50",
        "新人专享券包已到账，最高省88元",
        "秋冬新品上市，第二件半价",
        "限时秒杀：智能手表仅需99元",
    ]
    for week in range(8):  # weekly marketing before the unsubscribe (June-July)
        recv(
            t(6, 2, 10) + timedelta(days=7 * week, minutes=rng.randint(0, 300)),
            shop_a,
            f"【优选商城】{shop_offers[week % 5]}，戳 yx.example.cn/s/{1000 + week} 回T退订",
        )
    recv(t(9, 10, 19, 30), shop_a, "【优选商城】周年庆倒计时，全场5折起，戳 yx.example.cn/a 回T退订")
    sent(t(9, 10, 20, 15), shop_a, "TD")
    recv(
        t(9, 11, 2, 15), shop_a, "【优选商城】周年庆最后一天，满300减100，戳 yx.example.cn/b 回T退订"
    )  # in grace
    recv(t(9, 13, 11, 0), shop_a, "【优选商城】您有一张50元无门槛券即将过期，戳 yx.example.cn/c 回T退订")
    recv(t(9, 20, 12, 5), shop_a, "【优选商城】中秋礼盒热卖，买二送一，戳 yx.example.cn/d 回T退订")
    recv(t(9, 25, 10, 40), shop_b, "【优选商城】国庆大促提前购，爆款低至1折，戳 yx.example.cn/e 拒收请回复R")
    recv(t(10, 18, 9, 20), shop_c, "【优选商城】双11预售开启，定金翻倍，戳 yx.example.cn/f 退订回T")
    recv(t(11, 11, 0, 5), shop_b, "【优选商城】双11狂欢开始！前1小时半价，戳 yx.example.cn/g 拒收请回复R")

    # --- 【星巴客】: T, confirmed, honoured ---------------------------------------------------------
    cafe = "1069055500123"
    for week in range(6):
        recv(
            t(6, 6, 15) + timedelta(days=7 * week),
            cafe,
            f"【星巴客】第{week + 1}周咖啡日：大杯拿铁第二杯半价，到店出示本短信即可。回T退订",
        )
    sent(t(7, 20, 9, 2), cafe, "T")
    recv(t(7, 20, 9, 3), cafe, "【星巴客】退订成功，您将不再收到星巴客营销短信。")

    # --- 【乐动健身】: R, never confirmed, no more messages ---------------------------------------------
    gym = "10655012345"
    for week in range(5):
        recv(
            t(8, 1, 18) + timedelta(days=9 * week),
            gym,
            f"【乐动健身】私教体验课{59 + week * 10}元，本周报名再送运动水杯，详询400-000-1234。拒收请回复R",
        )
    sent(t(9, 18, 21, 40), gym, "R")

    # --- 【快达物流】: 退订, later only parcel notices ---------------------------------------------------
    parcel = "106900008888"
    recv(t(7, 2, 11), parcel, "【快达物流】寄件5折特惠，首单立减10元，下载快达APP领券。退订回复TD")
    sent(t(7, 2, 11, 30), parcel, "退订")
    for i, day in enumerate((8, 19, 27)):
        recv(
            t(8, day, 14, 10 * i),
            parcel,
            f"【快达物流】您的快件（单号KD8000{i}421）已到达小区驿站，请凭取件码 {31 + i}-2-{1005 + i} 领取。",
        )

    # --- 【美味外卖】: TD, then START: re-subscribed, later marketing is clean -------------------------
    food = "1069077770001"
    recv(t(6, 20, 11), food, "【美味外卖】午餐满30减15，今日限量，打开APP领取。回TD退订")
    sent(t(6, 20, 11, 20), food, "TD")
    sent(t(8, 30, 12, 0), food, "START")
    recv(t(9, 5, 11, 30), food, "【美味外卖】欢迎回来！周末下单满40减20，打开APP领取。回TD退订")
    recv(t(10, 10, 11, 30), food, "【美味外卖】秋季新品上线，首单立减12元。回TD退订")

    # --- carrier and bank marketing / notices (nobody unsubscribed) -----------------------------------
    for month in range(6, 12):
        recv(
            t(month, 3, 10),
            "10086",
            f"【中国移动】尊敬的客户，{month}月5G畅享套餐限时优惠，月费低至59元，回复KT办理，回复0000退订。",
        )
        recv(
            t(month, 15, 8, 30),
            "95588",
            f"【工商银行】您尾号6621卡{month}月15日支出(消费)286.00元，余额12,408.53元。",
        )
        recv(
            t(month, 25, 9),
            "95555",
            f"【招商银行】{month}月账单已出，本期应还2,315.00元，到期还款日{month}月30日。",
        )

    # --- verification codes ------------------------------------------------------------------------
    for i in range(10):
        when = t(6, 4, 9) + timedelta(days=17 * i, hours=rng.randint(0, 10))
        code = rng.randint(100000, 999999)
        recv(when, "95555", f"【招商银行】验证码：{code}，您正在登录手机银行，请勿泄露给他人。")
    for i in range(6):
        when = t(6, 9, 20) + timedelta(days=29 * i, minutes=rng.randint(0, 50))
        recv(
            when, "106980009999", f"【优选商城】您的验证码是{rng.randint(1000, 9999)}，5分钟内有效。回TD退订"
        )
    recv(
        t(10, 2, 14, 1),
        "95188",
        f"【支付宝】校验码{rng.randint(100000, 999999)}，你正在进行支付宝付款，请勿告诉他人。",
    )

    # --- the trap: a personal mobile asks for a confirming reply ------------------------------------
    trap = "+8613900004321"
    recv(
        t(10, 21, 22, 48),
        trap,
        "您的手机号已被登记为营销推广用户，每月将扣除服务费。如需退订请回复1确认，逾期视为同意。",
    )
    sent(t(10, 21, 22, 55), trap, "1")

    # --- personal chats ------------------------------------------------------------------------------
    friend, mum = "+8613900001111", "+8613700002222"
    chat = [
        (t(6, 7, 19), friend, 1, "周六去爬山吗？去回T，不去回N 哈哈"),
        (t(6, 7, 19, 5), friend, 2, "T"),
        (t(6, 14, 20), friend, 1, "明天还去吗？下雨了"),
        (t(6, 14, 20, 2), friend, 2, "N"),
        (t(7, 4, 12), mum, 1, "周末回家吃饭吗？"),
        (t(7, 4, 12, 30), mum, 2, "回的，周六中午到" + EMOJI_REF),
        (t(9, 1, 18), friend, 1, "你那个双11的广告还在收吗"),
        (t(9, 1, 18, 3), friend, 2, "天天收，回了TD也没用 😤"),
        (t(11, 2, 9), mum, 1, "降温了多穿点"),
        (t(11, 2, 9, 10), mum, 2, "好的，知道了"),
    ]
    for when, who, kind, body in chat:
        msgs.append(Sms(when, who, body, kind, "小王" if who == friend else "妈妈"))
    for i in range(60):  # ordinary back-and-forth
        when = t(6, 1, 8) + timedelta(hours=rng.randint(0, 24 * 180))
        who = friend if i % 3 else mum
        body = rng.choice(
            [
                "好的",
                "收到",
                "晚上吃什么？",
                "到家了吗",
                "明天见",
                "哈哈哈",
                "在开会，晚点回你",
                "路上堵车",
                "周末有空吗",
                "发你了，看下",
            ]
        )
        msgs.append(Sms(when, who, body, 1 if i % 2 else 2, "小王" if who == friend else "妈妈"))

    # --- filler marketing from brands the user never unsubscribed from --------------------------------
    for i in range(40):
        when = t(6, 1, 9) + timedelta(hours=rng.randint(0, 24 * 180))
        port = rng.choice(["106927770001", "1069033330012", "10659876543"])
        brand = {"106927770001": "悦享影城", "1069033330012": "华联超市", "10659876543": "易行出行"}[port]
        recv(
            when,
            port,
            f"【{brand}】会员专享：本周末{rng.choice(['观影', '购物', '打车'])}满50减"
            f"{rng.choice([5, 10, 15])}元，详情见APP。回T退订",
        )

    # --- a group MMS (three friends) ---------------------------------------------------------------------
    group = [friend, "+8613600003333", "+8613500004444"]
    msgs.append(Mms(t(8, 8, 20), friend, group, "周末聚餐定在老地方，七点", 1, "小王, 小李, 小张", True))
    msgs.append(Mms(t(8, 8, 20, 6), "insert-address-token", group, "收到，准时到", 2, "小王, 小李, 小张"))
    return msgs


def _sms_xml(m: Sms) -> str:
    received = m.kind == 1
    date = int(m.when.timestamp() * 1000) + (m.when.second * 7 % 1000)
    body = quoteattr(m.body, {"\n": "&#10;"}).replace(EMOJI_REF, "&#55357;&#56832;")
    return (
        f'  <sms protocol="0" address="{m.address}" date="{date}" type="{m.kind}" subject="null" '
        f'body={body} toa="null" sc_toa="null" service_center="{SMSC if received else "null"}" '
        f'read="1" status="-1" locked="0" date_sent="{date - 2000 if received else 0}" sub_id="1" '
        f'readable_date="{m.when.strftime("%b %-d, %Y %H:%M:%S")}" contact_name={quoteattr(m.contact)} />'
    )


def _mms_xml(m: Mms) -> str:
    date_s = int(m.when.timestamp())
    received = m.box == 1
    address = "~".join(m.members)
    parts = [
        (
            '      <part seq="-1" ct="application/smil" name="null" chset="null" cd="null" fn="null" '
            'cid="&lt;smil&gt;" cl="smil.xml" ctt_s="null" ctt_t="null" text="&lt;smil&gt;&lt;body&gt;&lt;par '
            "dur=&quot;5000ms&quot;&gt;&lt;text src=&quot;text.000000.txt&quot;/&gt;&lt;/par&gt;&lt;/body&gt;"
            '&lt;/smil&gt;" />'
        )
    ]
    if m.with_image:
        parts.append(
            '      <part seq="0" ct="image/png" name="IMG_0001.png" chset="null" cd="null" fn="null" '
            'cid="&lt;IMG_0001&gt;" cl="IMG_0001.png" ctt_s="null" ctt_t="null" text="null" '
            'data="iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==" />'
        )
    parts.append(
        f'      <part seq="{len(parts) - 1}" ct="text/plain" name="null" chset="106" cd="null" '
        f'fn="null" cid="&lt;text.000000&gt;" cl="text.000000.txt" ctt_s="null" ctt_t="null" '
        f"text={quoteattr(m.text)} />"
    )
    addrs = []
    if received:
        addrs.append(f'      <addr address="{m.sender}" type="137" charset="106" />')
        for member in [*m.members[1:], OWNER]:
            addrs.append(f'      <addr address="{member}" type="151" charset="106" />')
    else:
        addrs.append('      <addr address="insert-address-token" type="137" charset="106" />')
        for member in m.members:
            addrs.append(f'      <addr address="{member}" type="151" charset="106" />')
    m_type = 132 if received else 128
    return (
        f'  <mms date="{date_s * 1000}" rr="null" sub="null" ct_t="application/vnd.wap.multipart.related" '
        f'read_status="null" seen="1" msg_box="{m.box}" address="{address}" sub_cs="null" resp_st="null" '
        f'retr_st="null" d_tm="null" text_only="{0 if m.with_image else 1}" exp="604800" locked="0" '
        f'm_id="mid{date_s}" st="null" retr_txt_cs="null" retr_txt="null" creator="com.android.mms" '
        f'date_sent="{date_s if received else 0}" read="1" m_size="{2048 if m.with_image else 120}" '
        f'rpt_a="null" ct_cls="null" pri="129" sub_id="1" tr_id="T{date_s:x}" resp_txt="null" ct_l="null" '
        f'm_cls="personal" d_rpt="129" v="18" _id="{date_s % 10000}" m_type="{m_type}" '
        f'readable_date="{m.when.strftime("%b %-d, %Y %H:%M:%S")}" contact_name={quoteattr(m.contact)}>\n'
        "    <parts>\n"
        + "\n".join(parts)
        + "\n    </parts>\n    <addrs>\n"
        + "\n".join(addrs)
        + "\n    </addrs>\n  </mms>"
    )


def main() -> None:
    msgs = sorted(build(), key=lambda m: m.when)
    backup_date = int(datetime(2025, 11, 30, 21, 14, 5, tzinfo=CST).timestamp() * 1000)
    lines = [
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>",
        "<!--File Created By SMS Backup & Restore v10.20.002 on 30/11/2025 21:14:05-->",
        '<?xml-stylesheet type="text/xsl" href="sms.xsl"?>',
        (
            f'<smses count="{len(msgs)}" backup_set="5f0c2a6e-8d1b-4c7e-9a3f-2b6d1e9c4a70" '
            f'backup_date="{backup_date}" type="full">'
        ),
    ]
    lines += [_sms_xml(m) if isinstance(m, Sms) else _mms_xml(m) for m in msgs]
    lines.append("</smses>")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(msgs)} records)")


if __name__ == "__main__":
    main()
