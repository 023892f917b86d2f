"""A deterministic synthetic SMS Backup & Restore archive for benchmarks (fictional numbers only).

``write_sbr(path, n, seed)`` writes ``n`` messages over two years, as the SB&R app lays them out
(FORMATS.md §1: ``<smses count=…>`` of ``<sms …/>`` lines, dates in epoch ms, type 1 received / 2
sent): marketing from a few hundred brands (``【品牌】…回T退订``, one to six 106 ports each), codes
and notices, chats with personal mobiles, and unsubscribe replies (``TD``/``退订``/``T``) to about 1
brand in 8. About half of those brands keep sending afterwards, a third of them from other ports
(channel hopping); a few confirm. Same ``n`` and ``seed``, same bytes.

    python bench/synthetic_sbr.py 200000 /tmp/sms-200k.xml
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
SPAN_MS = 730 * 86_400_000

_FIRST = "优乐星美快达华信安康宏泰鑫盛瑞丰佳和聚惠"
_SECOND = "选动巴味购通银保游旅学车房医家衣"
_KINDS = ("商城", "健身", "咖啡", "外卖", "物流", "银行", "保险", "旅行", "教育", "汽车", "地产", "药房")
_PROMOS = (
    "会员日全场满199减50，戳 t.cn/A{n}",
    "您有一张{n}元无门槛券即将过期，速领 t.cn/B{n}",
    "双11预售开启，定金翻倍，详情 t.cn/C{n}",
    "新品上市限时{n}折，点击 t.cn/D{n}",
    "周年庆最后一天，爆款低至1折 t.cn/E{n}",
)
_FOOTERS = ("回T退订", "拒收请回复R", "退订回TD", "回复TD退订")
_CHATS = ("晚上一起吃饭吗？", "收到，谢谢", "我到了，在门口", "明天见", "好的👌", "开会中，稍后回电")


def _sms(address: str, date_ms: int, body: str, type_: int) -> str:
    sent = date_ms - 1000 if type_ == 1 else 0
    return (
        f'  <sms protocol="0" address="{address}" date="{date_ms}" type="{type_}" subject="null" '
        f'body={quoteattr(body)} toa="null" sc_toa="null" service_center="null" read="1" '
        f'status="-1" locked="0" date_sent="{sent}" sub_id="1" readable_date="n/a" '
        'contact_name="(Unknown)" />\n'
    )


def _brands(rng: random.Random, count: int) -> list[tuple[str, list[str]]]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = rng.choice(_FIRST) + rng.choice(_SECOND) + rng.choice(_KINDS)
        if name not in seen:
            seen.add(name)
            names.append(name)
    out = []
    for i, name in enumerate(names):
        ports = [f"1069{(i * 7 + j) % 10}{i:05d}{j:02d}" for j in range(rng.randint(1, 6))]
        out.append((name, ports))
    return out


def messages(n: int, seed: int = 14) -> list[tuple[int, str]]:
    """``(date_ms, <sms/> line)`` pairs, unsorted."""
    rng = random.Random(seed)
    brands = _brands(rng, max(20, n // 700))
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(brands))]  # a few brands send most
    mobiles = [f"+86139{rng.randint(0, 99_999_999):08d}" for _ in range(max(10, n // 2000))]
    lines: list[tuple[int, str]] = []
    # Unsubscribes first: about 1 brand in 8, at a random time; half of them ignore it.
    unsubscribed: dict[int, tuple[int, bool]] = {}
    for i in range(len(brands)):
        if rng.random() < 0.125:
            at = START_MS + rng.randint(SPAN_MS // 6, SPAN_MS * 5 // 6)
            unsubscribed[i] = (at, rng.random() < 0.5)
            name, ports = brands[i]
            keyword = rng.choice(("TD", "退订", "T", "R"))
            lines.append((at, _sms(ports[0], at, keyword, 2)))
            if rng.random() < 0.2:
                lines.append(
                    (
                        at + 60_000,
                        _sms(ports[0], at + 60_000, f"【{name}】退订成功，您将不再收到营销短信。", 1),
                    )
                )
    chat_share, code_share = 0.12, 0.12
    while len(lines) < n:
        roll = rng.random()
        date = START_MS + rng.randrange(SPAN_MS)
        if roll < chat_share:
            mobile = rng.choice(mobiles)
            lines.append((date, _sms(mobile, date, rng.choice(_CHATS), rng.choice((1, 2)))))
            continue
        i = rng.choices(range(len(brands)), weights)[0]
        name, ports = brands[i]
        episode = unsubscribed.get(i)
        if episode is not None and date > episode[0] + 86_400_000 and not episode[1]:
            date = START_MS + rng.randrange(episode[0] - START_MS)  # an honoured unsubscribe: before only
        port = rng.choice(ports)
        if roll < chat_share + code_share:
            body = f"【{name}】您的验证码是{rng.randint(1000, 999999)}，5分钟内有效，请勿泄露。"
        elif roll < chat_share + code_share + 0.06:
            body = f"【{name}】您的订单{rng.randint(10**7, 10**8)}已发货，请留意查收。"
        else:
            promo = rng.choice(_PROMOS).format(n=rng.randint(1, 99))
            body = f"【{name}】{promo} {rng.choice(_FOOTERS)}"
        lines.append((date, _sms(port, date, body, 1)))
    return lines[:n]


def write_sbr(path: Path, n: int, seed: int = 14) -> Path:
    """Write the archive (``n`` messages, sorted by date as the app writes them) to ``path``."""
    rows = sorted(messages(n, seed))
    with path.open("w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
        out.write(
            f'<smses count="{len(rows)}" backup_set="bench-{seed}" backup_date="{START_MS + SPAN_MS}" type="full">\n'
        )
        out.writelines(line for _, line in rows)
        out.write("</smses>\n")
    return path


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"sms-synthetic-{count}.xml")
    print(write_sbr(target, count))
