"""Classify 1,000,000 realistic messages (bench/make_archive.py): the whole classifier beside the rules alone.

Rows printed, each with its named baseline measured in the same run:

* ``classify``: ``classify_frame`` (structural rules + content model) against the named baseline
  "rules-only" (the same rules without the model; what the rules cost by themselves);
* ``senders``: the classifier on frames with 10,000 and 100,000 distinct senders, beside the baseline
  "setdefault-tags" (the sender tagging before issue 9, which allocated a fresh array per call and
  so grew with the square of the distinct senders);
* who decided the labels: the share of rows labelled by the model and by rules.

    .venv/bin/python bench/bench_classify.py            # 1,000,000 messages
    .venv/bin/python bench/bench_classify.py -n 200000
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_archive import generate, to_frame

from sms_audit.classifier import classify_frame
from sms_audit.classifier.brands import dlt_brand
from sms_audit.classifier.engine import _tags, classify_with_model
from sms_audit.normalize import BUSINESS_KINDS, PERSONAL_KINDS, SenderKind


def _setdefault_tags(raw_u: list[str], keys_u: list[str], kinds_u: list[str]) -> dict[str, np.ndarray]:
    """Baseline "setdefault-tags": engine._tags before issue 9 (np.zeros evaluated on every call)."""
    size = len(kinds_u)
    tags: dict[str, np.ndarray] = {}

    def mark(name: str, i: int) -> None:
        tags.setdefault(name, np.zeros(size, dtype=bool))[i] = True

    business = {k.value for k in BUSINESS_KINDS}
    personal = {k.value for k in PERSONAL_KINDS}
    for i, (raw, key, kind) in enumerate(zip(raw_u, keys_u, kinds_u, strict=True)):
        mark(kind, i)
        if kind in business:
            mark("business", i)
        if kind in personal:
            mark("personal", i)
            mark("cn-mobile" if key.startswith("+86") else "intl-personal", i)
        if kind == SenderKind.ALPHANUMERIC.value:
            _, suffix = dlt_brand(raw)
            if suffix == "p":
                mark("dlt-promotional", i)
    return tags


def _senders_frame(n: int, distinct: int) -> pd.DataFrame:
    """``n`` messages from ``distinct`` senders (half 106 ports, half +86 mobiles), importer-style."""
    rng = np.random.default_rng(distinct)
    ports = [f"1069{10**8 + i:09d}" for i in range(distinct // 2)]
    mobiles = [f"+86139{i:08d}" for i in range(distinct - distinct // 2)]
    who = rng.integers(0, distinct, n)
    addresses = np.array(ports + mobiles, dtype=object)[who]
    kinds = np.where(who < len(ports), "cn_commercial_port", "mobile")
    bodies = np.where(who < len(ports), "【某店】周末满100减20，回T退订", "晚上一起吃饭吗")
    string = pd.StringDtype("pyarrow", na_value=np.nan)
    return pd.DataFrame(
        {"direction": "in", "address": addresses, "sender_kind": kinds, "body": bodies}
    ).astype(string)


def _time(call: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()  # type: ignore[operator]
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=1_000_000, help="number of messages")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    frame = to_frame(generate(args.n, args.seed))
    folded = frame["body"].str.replace(r"[0-9]{4,}", "0", regex=True)
    print(
        f"archive: {len(frame):,} messages, {frame['address'].nunique():,} senders, "
        f"{folded.nunique() / len(frame):.0%} of bodies distinct after digit folding (runs of 4+), "
        f"cores: {os.cpu_count()}"
    )
    classify_frame(frame.head(2000))  # warm up: load the model, compile the rules
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    full_s, result = _time(lambda: classify_frame(frame))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rules_s, _ = _time(lambda: classify_with_model(frame, model=None))
    print(
        f"classify: rules+model {args.n / full_s:,.0f} msg/s ({full_s:.1f} s for {args.n:,}) | "
        f'baseline "rules-only" {args.n / rules_s:,.0f} msg/s ({rules_s:.1f} s) | {full_s / rules_s:.1f}x the time'
    )
    print(f"peak RSS {rss_after / 1024:,.0f} MiB (before classifying: {rss_before / 1024:,.0f} MiB)")
    reason = result["reason"]  # type: ignore[index]
    by_model = reason.str.startswith("model.")
    by_default = reason.str.startswith("default:")
    print(
        f"decided by: model {by_model.mean():.1%}, rules {(~by_model & ~by_default).mean():.1%}, "
        f"no rule and not incoming (other) {by_default.mean():.1%}"
    )
    print("labels: " + ", ".join(f"{k} {v:,}" for k, v in result["label"].value_counts().items()))  # type: ignore[index]

    for distinct in (10_000, 100_000):
        senders = _senders_frame(200_000, distinct)
        seconds, _ = _time(lambda senders=senders: classify_frame(senders))
        raw = senders["address"].unique().tolist()
        kinds = ["cn_commercial_port" if a.startswith("1069") else "mobile" for a in raw]
        tag_s, _ = _time(lambda raw=raw, kinds=kinds: _tags(raw, raw, kinds))
        old_s, _ = _time(lambda raw=raw, kinds=kinds: _setdefault_tags(raw, raw, kinds))
        print(
            f"senders: {distinct:>7,} distinct: classify 200,000 msgs in {seconds:.2f} s; tagging "
            f'{tag_s * 1e6 / distinct:.2f} us/sender | baseline "setdefault-tags" '
            f"{old_s * 1e6 / distinct:.2f} us/sender | {old_s / tag_s:.0f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
