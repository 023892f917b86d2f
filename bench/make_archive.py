"""Generate a realistic synthetic SMS archive of any size, deterministically (fictional numbers only).

Two separate parts, so other writers (an iOS ``sms.db``, MMS with images) can reuse the records:

* :func:`generate` yields :class:`Record` s: personal chats (zh/en), verification codes, zh/en
  marketing from thousands of 106/1069 ports and short codes with 【brand】 signatures and opt-out
  footers, the owner's replies (TD, T, N, STOP, 退订 …), confirmations, notices and some scams;
  most bodies are distinct even after digit folding (filled from word lists, not one template);
* :func:`write_sbr_xml` writes them as an SMS Backup & Restore file (FORMATS.md §1).

    python bench/make_archive.py -n 1000000 -o /tmp/sms-1m.xml      # CLI
    from make_archive import generate, to_frame                       # library (bench/ on sys.path)

Numbers: +86 138/139 0000 xxxx mobiles, US 202-555-01xx, UK 07700 900xxx, 1069/106 ports built from
a seed, 5-digit short codes; brands are made up.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING
from xml.sax.saxutils import quoteattr

if TYPE_CHECKING:
    import pandas as pd

START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_MS = 365 * 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class Record:
    """One SMS as an archive stores it, from the phone owner's side."""

    address: str  # the other party as the phone shows it
    date_ms: int  # ms since 1970, UTC
    direction: str  # "in" or "out"
    body: str


# --- word lists ---------------------------------------------------------------------------------

_ZH_BRANDS = [
    "优选商城",
    "星巴客",
    "乐动健身",
    "快达物流",
    "美味外卖",
    "悦享影城",
    "华联超市",
    "易行出行",
    "云端书城",
    "小鹿旅行",
    "蓝海银行",
    "东方证券通",
    "嘉和地产",
    "新橙教育",
    "百味烘焙",
    "青柠药房",
    "极速租车",
    "安家装修",
    "潮流服饰",
    "鲜果时光",
    "海岸酒店",
    "天天商城",
    "优品生活",
    "好运彩票站",
    "智行手机",
    "金福珠宝",
    "乐享音乐",
    "清风美容",
    "宝贝母婴",
    "车友会",
    "城市花园",
    "阳光保险",
    "名品折扣",
    "快乐KTV",
    "飞鸟航空",
    "闪电快递",
    "好邻居便利",
    "京华百货",
    "绿野户外",
    "知书课堂",
]
_EN_BRANDS = [
    "ACME",
    "Blue Bottle Coffee",
    "ShopRite Deals",
    "FitLife",
    "QuickCab",
    "PizzaPal",
    "StyleHub",
    "BookNook",
    "TravelGo",
    "CinemaMax",
    "FreshMart",
    "PetPals",
    "GadgetZone",
    "HomeBase",
    "SkyMiles",
    "GreenLeaf",
    "UrbanWear",
    "SnackBox",
    "MegaBank",
    "CityGym",
    "TuneStream",
    "DailyDeals",
    "SunnyTours",
    "AutoCare",
]
_ZH_PRODUCTS = [
    "爆款T恤",
    "智能手表",
    "蓝牙耳机",
    "保温杯",
    "羽绒服",
    "运动鞋",
    "护肤套装",
    "大米",
    "咖啡豆",
    "电饭煲",
    "扫地机器人",
    "行李箱",
    "儿童绘本",
    "面膜",
    "坚果礼盒",
    "牛排",
    "月饼礼盒",
    "手机壳",
    "台灯",
    "床上四件套",
    "跑步机",
    "洗衣液",
    "牛奶",
    "巧克力",
    "茶叶",
    "瑜伽垫",
    "电动牙刷",
    "空气炸锅",
    "羊毛衫",
    "双肩包",
]
_ZH_EVENTS = [
    "双11",
    "618",
    "周年庆",
    "会员日",
    "中秋",
    "国庆",
    "春节",
    "开学季",
    "七夕",
    "年终",
    "清仓",
    "新店开业",
    "周末",
]
_ZH_DEALS = [
    "全场5折起",
    "满199减50",
    "第二件半价",
    "买一送一",
    "限时秒杀",
    "低至1折",
    "新人专享券",
    "领100元券",
    "积分翻倍",
    "满300减100",
    "前100名半价",
    "买二送一",
    "直降200元",
    "包邮到家",
    "9.9元抢购",
    "会员价8折",
]
_ZH_CTA = [
    "戳",
    "详情见APP",
    "速抢",
    "点击",
    "立即领取",
    "到店出示本短信",
    "详询门店",
    "登录查看",
    "打开APP领取",
]
_ZH_FOOTERS = [
    "回T退订",
    "回TD退订",
    "退订回N",
    "拒收请回复R",
    "回复TD退订",
    "退订回T",
    "回N退订",
    "回复0000退订",
]
_EN_DEALS = [
    "30% off everything",
    "2-for-1 lattes",
    "free delivery",
    "half price starters",
    "buy one get one free",
    "up to 70% off",
    "$10 off your next order",
    "double points",
    "a free gift with every order",
    "40% off this weekend",
]
_EN_WHEN = ["today only", "this weekend", "until Sunday", "for 48 hours", "while stocks last", "this week"]
_EN_FOOTERS = [
    "Reply STOP to opt out",
    "Reply STOP to unsubscribe",
    "Txt STOP to end",
    "Msg&data rates may apply. Reply STOP to cancel",
]
_ZH_CHAT_A = [
    "晚上一起吃饭吗",
    "到家了吗",
    "明天见",
    "在开会，晚点回你",
    "路上堵车",
    "周末有空吗",
    "发你了，看下",
    "好的",
    "收到",
    "哈哈哈",
    "你那边下雨了吗",
    "妈，我到了",
    "记得带伞",
    "快递到了帮我拿一下",
    "几点出发",
    "我快到了",
    "等我一下",
    "今天加班",
    "孩子睡了吗",
    "周六去爬山吗",
    "电影几点开始",
    "帮我买瓶水",
    "钥匙在桌上",
    "中午吃什么",
]
_ZH_CHAT_B = [
    "",
    "？",
    "！",
    "，你呢",
    "哈哈",
    "，老地方",
    "，别忘了",
    "，我请客",
    "，到了说一声",
    "，好累啊",
    "，想你了",
    "，拜托了",
]
_ZH_NAMES = [
    "小王",
    "老李",
    "张姐",
    "阿明",
    "妈",
    "爸",
    "宝贝",
    "亲爱的",
    "刘老师",
    "陈总",
    "小美",
    "大伟",
    "舅舅",
    "表姐",
    "老板",
    "室友",
    "小赵",
    "阿强",
    "芳芳",
    "老周",
    "",
    "",
    "",
    "",
]
_ZH_PLACES = [
    "公司楼下",
    "地铁站",
    "老地方",
    "商场门口",
    "学校",
    "医院",
    "火锅店",
    "咖啡馆",
    "小区门口",
    "机场",
    "高铁站",
    "公园",
    "图书馆",
    "健身房",
    "超市",
    "银行",
    "你家楼下",
    "单位",
    "酒店大堂",
    "停车场",
]
_EN_NAMES = [
    "",
    "",
    "",
    "hey ",
    "hi mum, ",
    "dad ",
    "babe ",
    "Sam ",
    "Jo ",
    "mate ",
    "Alex, ",
    "guys ",
    "Chris ",
]
_EN_CHAT_A = [
    "are we still on for",
    "running late for",
    "can you pick up",
    "don't forget",
    "just landed, call you about",
    "did you see",
    "thanks for",
    "what time is",
    "see you at",
    "happy birthday! enjoy",
    "lol that's so",
    "omg",
]
_EN_CHAT_B = [
    "dinner",
    "the game",
    "milk on the way home",
    "the meeting",
    "saturday",
    "the party",
    "lunch",
    "the movie",
    "the kids",
    "mum's place",
    "the concert",
    "that photo",
]
_NOTICES_ZH = [
    "【{b}】您尾号{n4}的卡{d}日在{p}消费人民币{amt}元，余额{amt2}元。",
    "【{b}】您的快件（单号{code}）已到达{p}驿站，请凭取件码 {s}-{s}-{n4} 领取。",
    "【{b}】您购买的{g}（订单{code}）已发货，预计{d}日送达{p}。",
    "【{b}】{m}月账单已出，本期应还{amt}元，到期还款日{m}月{d}日。",
    "【{b}】您预订的{d}日房间已确认，入住人请携带证件办理。",
    "尊敬的客户，截至{m}月{d}日您本月已使用流量{s}.{s}GB，剩余{s}GB。【中国移动】",
]
_NOTICES_EN = [
    "{b}: your order #{code} ({e}) has shipped and will arrive on {m}/{d}.",
    "{b}: your appointment is confirmed for {m}/{d} at {h}:30. Reply C to cancel.",
    "Your {b} card ending {n4} was charged ${amt} on {m}/{d}.",
    "{b}: your prescription is ready for pickup.",
]
_VERIFY = [
    "【{b}】验证码：{code6}，您正在登录，请勿泄露给他人。",
    "【{b}】您的验证码是{code4}，5分钟内有效。回TD退订",
    "【{b}】校验码{code6}，你正在进行付款，请勿告诉他人。",
    "{code6} is your {b} verification code.",
    "Your {b} code is {code6}. Don't share it with anyone.",
    "{b}: use {code3} {code3} to verify your account.",
]
_SCAMS = [
    "恭喜您被{b}栏目组抽选为场外幸运用户，荣获奖金{amt}元，请登录 www.lucky-{n4}.cn 领取",
    "您的积分已满{n4}分，可兑换{amt}元现金，请登录 jf{n4}.cn 领取，逾期清零",
    "URGENT! You have won a ${amt} prize. Call 0906{n4}{n4} now to claim.",
    "Your {b} account is suspended. Verify at secure-{b_slug}-verify.com now",
    "代、办…证、件，加 微 信 ab{n4}",
]
_CONFIRM = [
    "【{b}】退订成功，您将不再收到{b}的营销短信。",
    "{b}: You have been unsubscribed and will receive no more messages.",
]
_REPLIES_ZH = ["TD", "T", "N", "退订", "R", "ＴＤ", "退订，别再发了"]
_REPLIES_EN = ["STOP", "Stop", "STOP!", "UNSUBSCRIBE", "stop please"]


def _pools(rng: random.Random) -> dict[str, list[str]]:
    return {
        "port": sorted({f"1069{rng.randrange(10**7, 10**9)}" for _ in range(3000)}),
        "port106": sorted({f"106{rng.randrange(10**8, 10**10)}" for _ in range(1500)}),
        "short": sorted({str(rng.randrange(20000, 99999)) for _ in range(600)}),
        "cn_mobile": sorted(
            {f"+86138{rng.randrange(0, 10):01d}000{rng.randrange(0, 10000):04d}"[:14] for _ in range(1500)}
        ),
        "us_mobile": [f"+1202555{i:04d}"[:12] for i in range(100, 200)],
        "uk_mobile": [f"+447700900{i:03d}" for i in range(0, 1000, 3)],
        "service": ["95555", "95588", "95533", "10086", "10010", "95188", "95338", "12306"],
        "alpha": ["GTBank", "Google", "MegaBank", "LINE", "AcmeAlerts", "AX-SHOPPR-P", "QuickCab"],
    }


def generate(n: int, seed: int = 7) -> Iterator[Record]:
    """``n`` records in time order over 2024, the same for the same ``n`` and ``seed``."""
    rng = random.Random(seed)
    pools = _pools(rng)
    brand_port: dict[str, str] = {}
    step = SPAN_MS / max(n, 1)
    base = int(START.timestamp() * 1000)
    for i in range(n):
        when = base + int(i * step) + rng.randrange(0, max(1, int(step)))
        yield _record(rng, pools, brand_port, when)


def _fill(rng: random.Random, template: str, brand: str) -> str:
    return template.format(
        b=brand,
        p=rng.choice(_ZH_PLACES),
        g=rng.choice(_ZH_PRODUCTS),
        e=rng.choice(_EN_CHAT_B),
        b_slug=brand.lower().replace(" ", ""),
        n4=rng.randrange(1000, 9999),
        d=rng.randrange(1, 29),
        m=rng.randrange(1, 13),
        h=rng.randrange(8, 20),
        s=rng.randrange(1, 40),
        amt=f"{rng.randrange(5, 5000)}.{rng.randrange(0, 100):02d}",
        amt2=f"{rng.randrange(100, 90000)}.{rng.randrange(0, 100):02d}",
        code=f"{rng.choice('ABCDEFGHJK')}{rng.randrange(10**9, 10**10)}",
        code6=rng.randrange(100000, 999999),
        code4=rng.randrange(1000, 9999),
        code3=rng.randrange(100, 999),
    )


def _record(rng: random.Random, pools: dict[str, list[str]], brand_port: dict[str, str], when: int) -> Record:
    roll = rng.random()
    if roll < 0.30:  # personal chat, both directions
        direction = "out" if rng.random() < 0.5 else "in"
        if rng.random() < 0.6:
            address = rng.choice(pools["cn_mobile"])
            body = rng.choice(_ZH_NAMES) + rng.choice(_ZH_CHAT_A) + rng.choice(_ZH_CHAT_B)
            if rng.random() < 0.6:
                body += f"，{rng.randrange(1, 12)}点{rng.choice(_ZH_PLACES)}见"
            if rng.random() < 0.5:
                body += rng.choice(_ZH_CHAT_A) + rng.choice(_ZH_CHAT_B)
        else:
            address = rng.choice(pools["us_mobile"] + pools["uk_mobile"])
            body = (
                f"{rng.choice(_EN_NAMES)}{rng.choice(_EN_CHAT_A)} {rng.choice(_EN_CHAT_B)}"
                f"{rng.choice(['', '?', '!', ' :)', ' tonight', ' tmrw', ' at 7', ' later', ' xx'])}"
            )
            if rng.random() < 0.5:
                body += f" {rng.choice(_EN_CHAT_A)} {rng.choice(_EN_CHAT_B)}"
        if direction == "out" and rng.random() < 0.05:
            body = rng.choice(["T", "N", "好", "stop it lol", "ok"])  # a friend's "T" is not an opt-out
        return Record(address, when, direction, body)
    if roll < 0.62:  # marketing
        if rng.random() < 0.7:
            brand = rng.choice(_ZH_BRANDS)
            address = brand_port.setdefault(
                brand + str(rng.randrange(4)), rng.choice(pools["port"] + pools["port106"])
            )
            link = f" {brand_port[brand + '0'][-4:] if brand + '0' in brand_port else 'yx'}.example.cn/s/{rng.randrange(10**5, 10**6)}"
            body = (
                f"【{brand}】{rng.choice(_ZH_EVENTS)}{rng.choice(_ZH_PRODUCTS)}{rng.choice(_ZH_DEALS)}，"
                f"{rng.choice(_ZH_CTA)}{link if rng.random() < 0.6 else ''} {rng.choice(_ZH_FOOTERS)}"
            )
        else:
            brand = rng.choice(_EN_BRANDS)
            address = brand_port.setdefault(brand + str(rng.randrange(3)), rng.choice(pools["short"]))
            body = (
                f"{brand}: {rng.choice(_EN_DEALS)} {rng.choice(_EN_WHEN)}! "
                f"Shop {brand.lower().replace(' ', '')}.example/{rng.randrange(100, 999)}. {rng.choice(_EN_FOOTERS)}"
            )
        return Record(address, when, "in", body)
    if roll < 0.74:  # verification codes
        template = rng.choice(_VERIFY)
        zh = "【" in template
        brand = rng.choice(_ZH_BRANDS if zh else _EN_BRANDS)
        address = (
            rng.choice(pools["port"] + pools["service"])
            if zh
            else rng.choice(pools["short"] + pools["alpha"])
        )
        return Record(address, when, "in", _fill(rng, template, brand))
    if roll < 0.88:  # notices
        if rng.random() < 0.7:
            brand = rng.choice(_ZH_BRANDS)
            address = rng.choice(pools["service"] + pools["port"])
            body = _fill(rng, rng.choice(_NOTICES_ZH), brand)
        else:
            brand = rng.choice(_EN_BRANDS)
            address = rng.choice(pools["short"] + pools["alpha"])
            body = _fill(rng, rng.choice(_NOTICES_EN), brand)
        return Record(address, when, "in", body)
    if roll < 0.93:  # scams
        brand = rng.choice(_ZH_BRANDS + _EN_BRANDS)
        address = rng.choice(pools["cn_mobile"] + pools["port"] + pools["us_mobile"])
        return Record(address, when, "in", _fill(rng, rng.choice(_SCAMS), brand))
    if roll < 0.98:  # the owner's opt-out replies, to a brand's port
        zh = rng.random() < 0.7
        brand = rng.choice(_ZH_BRANDS if zh else _EN_BRANDS)
        key = brand + "0"
        address = brand_port.setdefault(key, rng.choice(pools["port"] if zh else pools["short"]))
        return Record(address, when, "out", rng.choice(_REPLIES_ZH if zh else _REPLIES_EN))
    zh = rng.random() < 0.7  # confirmations
    brand = rng.choice(_ZH_BRANDS if zh else _EN_BRANDS)
    address = brand_port.setdefault(brand + "0", rng.choice(pools["port"] if zh else pools["short"]))
    return Record(address, when, "in", _fill(rng, _CONFIRM[0 if zh else 1], brand))


# --- writers ------------------------------------------------------------------------------------


def write_sbr_xml(records: Iterable[Record], out: IO[str], *, count: int | None = None) -> int:
    """Write ``records`` as an SMS Backup & Restore ``<smses>`` document; returns how many."""
    written = 0
    out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
    out.write('<?xml-stylesheet type="text/xsl" href="sms.xsl"?>\n')
    out.write(
        f'<smses count="{count if count is not None else -1}" backup_set="00000000-0000-4000-8000-000000000000" '
        f'backup_date="{int(START.timestamp() * 1000) + SPAN_MS}" type="full">\n'
    )
    for record in records:
        received = record.direction == "in"
        sent = record.date_ms - 2000 if received else 0
        body = quoteattr(record.body, {"\n": "&#10;"})
        out.write(
            f'  <sms protocol="0" address={quoteattr(record.address)} date="{record.date_ms}" '
            f'type="{1 if received else 2}" subject="null" body={body} toa="null" sc_toa="null" '
            f'service_center="{"+8613800100500" if received else "null"}" read="1" status="-1" locked="0" '
            f'date_sent="{sent}" sub_id="1" readable_date="n/a" contact_name="(Unknown)" />\n'
        )
        written += 1
    out.write("</smses>\n")
    return written


def to_frame(records: Iterable[Record], region: str = "CN") -> pd.DataFrame:
    """A message frame like the importers': normalised ``address`` with its ``sender_kind``."""
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from sms_audit.normalize import normalize_address

    rows = list(records)
    raw = [r.address for r in rows]
    normal = {a: normalize_address(a, region) for a in set(raw)}
    string = pd.StringDtype("pyarrow", na_value=np.nan)
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime([r.date_ms for r in rows], unit="ms", utc=True),
            "direction": [r.direction for r in rows],
            "address": [normal[a].key for a in raw],
            "sender_kind": [normal[a].kind.value for a in raw],
            "body": [r.body for r in rows],
        }
    )
    for column in ("direction", "address", "sender_kind", "body"):
        frame[column] = frame[column].astype(string)
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="number of messages")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("-o", "--output", type=Path, help="SB&R XML file to write (default: stdout)")
    args = parser.parse_args(argv)
    records = generate(args.n, args.seed)
    if args.output is None:
        write_sbr_xml(records, sys.stdout, count=args.n)
    else:
        with args.output.open("w", encoding="utf-8") as handle:
            write_sbr_xml(records, handle, count=args.n)
        print(f"wrote {args.output} ({args.n:,} messages)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
