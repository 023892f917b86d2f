"""Make N synthetic donated archives with planted merchant behaviour, deterministic by seed.

A shared population of merchants (a few hundred by default; about 70 % Chinese, 30 % US) each has a
planted probability of ignoring an unsubscribe, a planted port-hopping habit (the chance that a
message after an ignored unsubscribe comes from another of its numbers), a confirmation habit and a
popularity. Each archive is one donor's phone: chats with a few friends (with contact names),
verification codes, notices and marketing from the merchants they are subscribed to; for some of
those the donor replied TD / 退订 / STOP, and the merchant then stopped — or, with its planted
probability, went on after the grace period (24 h for cn, 10 business days for us), hopping ports
with its planted habit.

Sizes vary (log-normal, median 5,000 messages). Chinese donors get SMS Backup & Restore XML with
+86 numbers, US donors SB&R XML with +1 numbers. Everything is fictional (555-01xx US numbers,
made-up brands and 106 ports).

Writes ``OUT/archives/donation-NNNNN.xml`` and, beside them, ``OUT/ground-truth.json``: every
merchant's planted values and numbers, every archive's region, size and planted unsubscribes.

Usage: ``python bench/make_donations.py N [--out DIR] [--seed S] [--merchants M]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

MEDIAN_MESSAGES = 5000
START_MS = 1_672_531_200_000  # 2023-01-01T00:00:00Z
DAY_MS = 86_400_000
CN_SHARE = 0.7
UNSUBSCRIBE_SHARE = 0.75  # of a donor's merchants, the share they replied TD / STOP to

_ZH_CHARS = "优乐美鲜味星达快安华联嘉禾盛源泰和丰云逸极橙果酷趣享悦明光新宝瑞福康龙凤金银"
_ZH_KINDS = ("商城", "超市", "健身", "外卖", "影城", "咖啡", "烘焙", "旅行", "书店", "家居", "美妆", "生鲜")
_EN_SYLLABLES = (
    "zor",
    "bix",
    "lum",
    "tav",
    "quen",
    "dro",
    "mir",
    "fal",
    "kesh",
    "vol",
    "nim",
    "pra",
    "sol",
    "wex",
)
_ZH_PROMOS = (
    "会员日全场满199减50",
    "新品上市，首单立减20元",
    "周末特惠低至5折",
    "您有一张30元优惠券即将过期",
    "年中大促，爆款买一送一",
    "积分翻倍活动开始啦",
)
_EN_PROMOS = (
    "Weekend sale, 30% off everything",
    "New arrivals are here, free shipping today",
    "Your $10 reward expires soon",
    "Members save 25% this week only",
    "Flash deal: buy one get one free",
)
_ZH_CHATS = (
    "晚上吃什么？",
    "到家了吗",
    "周末有空吗",
    "在开会，晚点回你",
    "明天见",
    "路上堵车",
    "好的，知道了",
    "发你了，看下",
)
_EN_CHATS = (
    "are we still on for saturday?",
    "running 10 min late",
    "landed, call you later",
    "can you grab milk on the way home",
    "see you at 7",
    "happy birthday!!",
    "did you see the game",
)
_ZH_NAMES = ("妈妈", "爸爸", "小王", "小李", "老张", "王姐", "刘老师", "陈总")
_EN_NAMES = ("Mom", "Dad", "Anna Lee", "Chris P.", "Sam", "Jordan", "Coach Mike", "Priya")
_ZH_OPTOUT = ("TD", "T", "退订", "R", "TD")
_ZH_FOOTER = {"TD": "回TD退订", "T": "回T退订", "退订": "回复退订", "R": "拒收请回复R"}


@dataclass(slots=True)
class Merchant:
    brand: str  # the display name as signed
    region: str
    numbers: list[str]
    ignore_probability: float
    hop_probability: float
    confirm_probability: float
    popularity: float
    keyword: str = ""  # what its footer asks for (cn)


@dataclass(slots=True)
class Planted:
    brand: str
    number: str
    keyword: str
    sent_ms: int
    ignored: bool
    confirmed: bool
    messages_after: int = 0
    numbers_after: list[str] = field(default_factory=list)


def make_merchants(rng: np.random.Generator, count: int) -> list[Merchant]:
    """The shared merchant population: unique brand names and numbers, planted habits."""
    merchants: list[Merchant] = []
    zh_stems = [a + b for a in _ZH_CHARS for b in _ZH_CHARS if a != b]
    rng.shuffle(zh_stems)
    en_names = sorted({(a + b).capitalize() for a in _EN_SYLLABLES for b in _EN_SYLLABLES if a != b})
    rng.shuffle(en_names)
    used: set[str] = set()
    for _ in range(count):
        cn = rng.random() < CN_SHARE
        ports = int(rng.integers(1, 7)) if cn else int(rng.integers(1, 4))
        numbers = []
        while len(numbers) < ports:
            if cn:
                number = str(rng.choice(["1069", "10655", "10690", "10657"])) + "".join(
                    str(d) for d in rng.integers(0, 10, size=int(rng.integers(7, 10)))
                )
            elif rng.random() < 0.75:
                number = str(int(rng.integers(20000, 999999)))
            else:
                number = "+1833555" + f"{int(rng.integers(0, 10000)):04d}"
            if number not in used:
                used.add(number)
                numbers.append(number)
        brand = (zh_stems.pop() + str(rng.choice(_ZH_KINDS))) if cn else en_names.pop()
        merchants.append(
            Merchant(
                brand=brand,
                region="cn" if cn else "us",
                numbers=numbers,
                ignore_probability=round(float(rng.beta(0.5, 0.5)), 3),
                hop_probability=round(float(rng.uniform(0.0, 0.9)), 3) if ports > 1 else 0.0,
                confirm_probability=round(float(rng.uniform(0.0, 1.0)), 3),
                popularity=round(float(rng.uniform(0.5, 2.0)), 3),
                keyword=str(rng.choice(_ZH_OPTOUT)) if cn else "STOP",
            )
        )
    return merchants


def _mobile(rng: np.random.Generator, region: str) -> str:
    if region == "cn":
        return (
            "+86"
            + str(rng.choice(["138", "139", "137", "150", "186", "135"]))
            + f"{int(rng.integers(0, 10**8)):08d}"
        )
    return (
        "+1"
        + str(rng.choice(["202", "415", "312", "617", "206"]))
        + "555"
        + f"01{int(rng.integers(0, 100)):02d}"
    )


def _sms(address: str, date_ms: int, body: str, type_: int, contact: str) -> str:
    sent = date_ms - 2000 if type_ == 1 else 0
    return (
        f'  <sms protocol="0" address="{address}" date="{date_ms}" type="{type_}" subject="null" '
        f'body={quoteattr(body)} toa="null" sc_toa="null" service_center="null" read="1" '
        f'status="-1" locked="0" date_sent="{sent}" sub_id="1" readable_date="n/a" '
        f"contact_name={quoteattr(contact)} />\n"
    )


def _marketing(m: Merchant, rng: np.random.Generator) -> str:
    if m.region == "cn":
        promo = str(rng.choice(_ZH_PROMOS))
        return (
            f"【{m.brand}】{promo}，戳 m.example.cn/{int(rng.integers(0, 99999)):05d} {_ZH_FOOTER[m.keyword]}"
        )
    return f"{m.brand}: {rng.choice(_EN_PROMOS)} at {m.brand.lower()}.example. Reply STOP to opt out"


def _confirmation(m: Merchant) -> str:
    if m.region == "cn":
        return f"【{m.brand}】退订成功，您将不再收到{m.brand}的营销短信。"
    return f"{m.brand}: You have been unsubscribed and will receive no more messages."


def _code(m: Merchant, rng: np.random.Generator) -> str:
    code = f"{int(rng.integers(0, 10**6)):06d}"
    if m.region == "cn":
        return f"【{m.brand}】您的验证码是{code}，5分钟内有效，请勿泄露。"
    return f"Your {m.brand} verification code is {code}. Don't share it with anyone."


def _grace_ms(region: str) -> int:
    return DAY_MS if region == "cn" else 16 * DAY_MS  # 10 business days, with weekends and a holiday


def make_archive(
    path: Path, index: int, seed: int, merchants: list[Merchant], by_region: dict[str, list[int]]
) -> dict[str, object]:
    """Write one donor's SB&R backup; return its ground truth."""
    rng = np.random.default_rng([seed, index])
    region = "cn" if rng.random() < CN_SHARE else "us"
    target = int(np.clip(rng.lognormal(np.log(MEDIAN_MESSAGES), 0.7), 300, 60_000))
    span = int(rng.integers(365, 3 * 365)) * DAY_MS
    start = START_MS + int(rng.integers(0, 365)) * DAY_MS
    end = start + span
    pool = by_region[region]
    weights = np.array([merchants[i].popularity for i in pool])
    subscribed = rng.choice(
        pool, size=min(len(pool), int(rng.integers(8, 25))), replace=False, p=weights / weights.sum()
    )
    lines: list[tuple[int, str]] = []
    planted: list[Planted] = []
    marketing_share = 0.45
    per_merchant = max(4, int(target * marketing_share / len(subscribed)))
    for mi in subscribed:
        m = merchants[int(mi)]
        times = np.sort(rng.integers(start, end, size=per_merchant)).tolist()
        ports = [str(rng.choice(m.numbers)) for _ in times]
        if rng.random() >= UNSUBSCRIBE_SHARE:  # no unsubscribe: the merchant's marketing all period
            lines.extend((t, _sms(p, t, _marketing(m, rng), 1, "(Unknown)")) for t, p in zip(times, ports))
        else:
            # the donor replies between 10 % and 60 % into the period, to the number that last wrote
            sent = int(start + span * rng.uniform(0.1, 0.6))
            before = [(t, p) for t, p in zip(times, ports) if t < sent]
            last_port = before[-1][1] if before else m.numbers[0]
            lines.extend((t, _sms(p, t, _marketing(m, rng), 1, "(Unknown)")) for t, p in before)
            keyword = (
                m.keyword if m.region == "cn" else str(rng.choice(["STOP", "STOP", "Stop", "UNSUBSCRIBE"]))
            )
            record = Planted(
                m.brand,
                last_port,
                keyword,
                sent,
                bool(rng.random() < m.ignore_probability),
                bool(rng.random() < m.confirm_probability),
            )
            lines.append((sent, _sms(last_port, sent, keyword, 2, "(Unknown)")))
            if record.confirmed:
                lines.append(
                    (sent + 20_000, _sms(last_port, sent + 20_000, _confirmation(m), 1, "(Unknown)"))
                )
            if record.ignored:
                # marketing goes on after the grace period (a planted ignore always shows at least once)
                cut = sent + _grace_ms(m.region) + DAY_MS
                after = [t for t in times if t >= cut] or [cut + int(rng.integers(0, 20 * DAY_MS))]
                others = [n for n in m.numbers if n != last_port]
                for t in after:
                    port = (
                        str(rng.choice(others)) if others and rng.random() < m.hop_probability else last_port
                    )
                    lines.append((t, _sms(port, t, _marketing(m, rng), 1, "(Unknown)")))
                    record.messages_after += 1
                    if port not in record.numbers_after:
                        record.numbers_after.append(port)
            planted.append(record)
        codes = max(1, per_merchant // 10)
        for t in rng.integers(start, end, size=codes).tolist():
            lines.append((t, _sms(str(rng.choice(m.numbers)), t, _code(m, rng), 1, "(Unknown)")))
    friends = [
        (_mobile(rng, region), str(rng.choice(_ZH_NAMES if region == "cn" else _EN_NAMES)))
        for _ in range(int(rng.integers(2, 9)))
    ]
    chats = _ZH_CHATS if region == "cn" else _EN_CHATS
    remaining = max(0, target - len(lines))
    for t in rng.integers(start, end, size=remaining).tolist():
        number, name = friends[int(rng.integers(0, len(friends)))]
        lines.append((t, _sms(number, t, str(rng.choice(chats)), int(rng.choice([1, 2])), name)))
    lines.sort(key=lambda item: item[0])
    with open(path, "w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
        out.write(
            f'<smses count="{len(lines)}" backup_set="donation-{index}" backup_date="{end}" type="full">\n'
        )
        out.writelines(line for _, line in lines)
        out.write("</smses>\n")
    return {
        "file": path.name,
        "region": region,
        "messages": len(lines),
        "unsubscribes": [asdict(p) for p in planted],
    }


def make_donations(count: int, out: Path, *, seed: int = 15, merchants: int = 300) -> dict[str, object]:
    """Write ``count`` archives into ``out/archives`` and ``out/ground-truth.json``; return the truth."""
    rng = np.random.default_rng(seed)
    population = make_merchants(rng, merchants)
    by_region: dict[str, list[int]] = {"cn": [], "us": []}
    for i, m in enumerate(population):
        by_region[m.region].append(i)
    folder = out / "archives"
    folder.mkdir(parents=True, exist_ok=True)
    archives = [
        make_archive(folder / f"donation-{i:05d}.xml", i, seed, population, by_region) for i in range(count)
    ]
    truth = {
        "seed": seed,
        "median_messages_planned": MEDIAN_MESSAGES,
        "merchants": [asdict(m) for m in population],
        "archives": archives,
    }
    (out / "ground-truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int, metavar="N", help="how many archives")
    parser.add_argument(
        "--out", type=Path, default=Path("donations"), help="folder to write (default: donations)"
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--merchants", type=int, default=300, help="size of the merchant population")
    args = parser.parse_args(argv)
    truth = make_donations(args.count, args.out, seed=args.seed, merchants=args.merchants)
    sizes = sorted(a["messages"] for a in truth["archives"])  # type: ignore[index, union-attr]
    print(
        f"{args.count} archives in {args.out / 'archives'} (median {sizes[len(sizes) // 2]} messages, "
        f"{sum(sizes)} in all); ground truth in {args.out / 'ground-truth.json'}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
