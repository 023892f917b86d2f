"""Benchmark the report analysis on a large classified archive against a plain Python loop.

Builds N synthetic, already-classified messages (fictional 106 ports and mobiles; 2,000 brands with
5 ports each; about 1 in 40 senders gets an unsubscribe, some later re-subscribe), then times

* ``sms-audit``: ``sms_audit.report.analysis.analyze`` (episodes, confirmations, violations by number
  and by brand, ledger, traps, evidence records), vectorized on pandas;
* baseline ``python-loop``: the obvious per-unsubscribe loop over a per-brand message index that
  finds the same violations (no ledger, traps or evidence records: it does less work).

Usage: ``python bench/bench_report.py [N]`` (default 1,000,000). Prints figures; asserts nothing.
"""

from __future__ import annotations

import resource
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sms_audit.report.analysis import VIOLATION, analyze
from sms_audit.report.policy import get_policy

BRANDS = 2000
PORTS_PER_BRAND = 5


def synthetic(n: int, seed: int = 7) -> pd.DataFrame:
    """A classified frame: mostly incoming marketing, some codes and notices, replies, chats."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01", tz="UTC")
    times = start + pd.to_timedelta(np.sort(rng.integers(0, 365 * 86400, n)), unit="s")
    brand_id = rng.integers(0, BRANDS, n)
    port = 10690000000000 + brand_id * PORTS_PER_BRAND + rng.integers(0, PORTS_PER_BRAND, n)
    kind = rng.choice(["marketing", "verification", "other", "chat"], n, p=[0.6, 0.15, 0.1, 0.15])
    address = np.where(kind == "chat", (13800000000 + rng.integers(0, 5000, n)).astype(str), port.astype(str))
    brand = np.where(kind == "chat", "", np.char.add("brand", brand_id.astype(str)))
    direction = np.where((kind == "chat") & (rng.random(n) < 0.5), "out", "in")
    label = np.where(kind == "chat", "other", kind)
    body = np.where(
        label == "marketing", "【品牌】会员日满199减50 回T退订", "【品牌】验证码0000，5分钟内有效"
    )
    frame = pd.DataFrame(
        {
            "message_id": [f"m{i:08d}" for i in range(n)],
            "timestamp": times,
            "direction": direction,
            "address": address,
            "address_raw": address,
            "sender_kind": np.where(kind == "chat", "mobile", "cn_commercial_port"),
            "body": body,
            "label": label,
            "reason": "bench",
            "brand": brand,
            "brand_display": brand,
            "optout_keyword": np.where(label == "marketing", "T", ""),
            "is_resubscribe": False,
            "is_trap": False,
            "trap_reason": "",
            "is_promotional": label == "marketing",
            "is_group": False,
            "source_file": "bench",
        }
    )
    # Unsubscribe replies: 1 in 40 ports gets a "TD" at a random time; 1 in 10 of those a later START.
    ports = np.unique(port)
    chosen = rng.choice(ports, len(ports) // 40, replace=False)
    when = start + pd.to_timedelta(rng.integers(0, 300 * 86400, len(chosen)), unit="s")
    replies = pd.DataFrame(
        {
            "message_id": [f"u{i:08d}" for i in range(len(chosen))],
            "timestamp": when,
            "direction": "out",
            "address": chosen.astype(str),
            "address_raw": chosen.astype(str),
            "sender_kind": "cn_commercial_port",
            "body": "TD",
            "label": "unsubscribe-reply",
            "reason": "bench",
            "brand": np.char.add("brand", ((chosen - 10690000000000) // PORTS_PER_BRAND).astype(str)),
            "optout_keyword": "",
            "is_resubscribe": False,
            "is_trap": False,
            "trap_reason": "",
            "is_promotional": False,
            "is_group": False,
            "source_file": "bench",
        }
    )
    replies["brand_display"] = replies["brand"]
    resub = replies.sample(frac=0.1, random_state=seed).copy()
    resub["message_id"] = "r" + resub["message_id"].str[1:]
    resub["timestamp"] = resub["timestamp"] + timedelta(days=30)
    resub["body"], resub["label"], resub["is_resubscribe"] = "START", "other", True
    return pd.concat([frame, replies, resub], ignore_index=True).sort_values("timestamp", ignore_index=True)


def python_loop(frame: pd.DataFrame, grace: timedelta) -> int:
    """Baseline: for each unsubscribe, walk the brand's later incoming messages one by one."""
    by_brand: dict[str, list[tuple[pd.Timestamp, str, str, str]]] = defaultdict(list)
    unsubs, resubs = [], defaultdict(list)
    for row in frame.itertuples(index=False):
        if row.direction == "in" and row.brand:
            by_brand[row.brand].append((row.timestamp, row.address, row.label, row.message_id))
        elif row.direction == "out" and row.label == "unsubscribe-reply":
            unsubs.append((row.timestamp, row.address, row.brand))
        elif row.direction == "out" and row.is_resubscribe:
            resubs[row.address].append(row.timestamp)
    violating: set[str] = set()  # a message counts once, whichever unsubscribe it breaks
    for when, address, brand in unsubs:
        end = min((t for t in resubs.get(address, []) if t > when), default=None)
        for t, _addr, label, message_id in by_brand.get(brand, []):
            if t > when + grace and (end is None or t < end) and label == "marketing":
                violating.add(message_id)
    return len(violating)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    frame = synthetic(n)
    policy = get_policy("cn")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    report = analyze(frame, policy, tz="Asia/Shanghai")
    ours = time.perf_counter() - start
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    found = sum(f.kind == VIOLATION for f in report.findings)
    start = time.perf_counter()
    baseline_found = python_loop(frame, timedelta(hours=24))
    base = time.perf_counter() - start
    print(
        f"report: sms-audit {len(frame) / ours:,.0f} msg/s ({ours:.2f} s for {len(frame):,}; "
        f"{len(report.unsubscribes):,} unsubscribes, {found:,} violations, {len(report.findings):,} findings; "
        f'peak +{peak:,.0f} MB) | baseline "python-loop" {len(frame) / base:,.0f} msg/s ({base:.2f} s; '
        f"{baseline_found:,} violations, no ledger/evidence) | {base / ours:.1f}x"
    )


if __name__ == "__main__":
    main()
