"""How the packaged classifier agrees with the public corpora's own labels, on messages not in dev.tsv.

Reads every corpus in ../shared/corpora with the training readers (sms_audit/classifier/corpora.py),
maps each corpus label with the one label map (LABEL_MAP, docs/classifier.md), drops rows whose
normalised body is in dev.tsv and duplicates inside a group, classifies, and prints agreement per
(corpus, corpus label) plus a sample of disagreements. The packaged model was trained on these
corpora, so this is a fit check, not an estimate of unseen performance: that is
bench/loco_classifier.py. A plain script: it prints figures and asserts nothing.

    .venv/bin/python bench/check_corpora.py                      # the table and 5 samples per group
    .venv/bin/python bench/check_corpora.py --group uci --all    # every disagreement of matching groups
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sms_audit.classifier import LABELS, classify_frame
from sms_audit.classifier.corpora import EXCLUDED, READERS, body_key, map_label, read_corpus, read_dev_bodies
from sms_audit.classifier.train import DEFAULT_CORPORA, DEFAULT_DEV, REGIONS

_AS_LABEL = {
    "verification": "verification",
    "marketing": "marketing",
    "scam": "other",
    "other": "other",
    "chat": "other",
}
_SHORT = {
    "verification": "verif",
    "marketing": "mkt",
    "unsubscribe-reply": "reply",
    "unsubscribe-confirmation": "conf",
    "other": "other",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="rows whose body is here are left out")
    parser.add_argument("--group", default="", help="only groups whose name contains this text")
    parser.add_argument("--samples", type=int, default=5, help="disagreements shown per group")
    parser.add_argument("--all", action="store_true", help="show every disagreement")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    seen = read_dev_bodies(args.dev)
    started = time.perf_counter()
    groups: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    in_dev: dict[tuple[str, str], int] = {}
    for name in READERS:
        if not (args.corpora / name).is_dir():
            print(f"{name}: not found, skipped")
            continue
        keys: set[tuple[str, str, str]] = set()
        for row in read_corpus(args.corpora, name):
            target = map_label(name, row.source_label).target
            group = (name, row.source_label)
            if target == EXCLUDED or args.group.lower() not in f"{name} {row.source_label}".lower():
                continue
            key = body_key(row.body)
            if key in seen:
                in_dev[group] = in_dev.get(group, 0) + 1
                continue
            if (row.direction, key, row.source_label) in keys:
                continue
            keys.add((row.direction, key, row.source_label))
            groups.setdefault(group, []).append((row.direction, row.address, row.body))

    print(f"unseen corpus rows (dev.tsv bodies and duplicates left out); {len(seen)} dev bodies\n")
    print(
        f"{'corpus / label':<40}{'n':>7}{'in dev':>7}{'agree':>8}  expect "
        + "".join(f"{_SHORT[label]:>7}" for label in LABELS)
    )
    figures: dict[str, dict[str, object]] = {}
    results = []
    for (name, label), rows in sorted(groups.items()):
        expect = _AS_LABEL[map_label(name, label).target]
        if all(direction == "out" for direction, _, _ in rows):
            expect = "other"  # the owner's own messages: never marketing or a code
        frame = pd.DataFrame(rows, columns=["direction", "address", "body"], dtype=str)
        result = classify_frame(frame, region=REGIONS.get(name))
        counts = result["label"].value_counts()
        agree = float((result["label"] == expect).mean())
        title = f"{name} / {label}"
        print(
            f"{title:<40}{len(frame):>7}{in_dev.get((name, label), 0):>7}{agree:>8.3f}  {_SHORT[expect]:<6}"
            + "".join(f"{int(counts.get(lab, 0)):>7}" for lab in LABELS)
        )
        figures[title] = {"n": len(frame), "agree": agree, "labels": {k: int(v) for k, v in counts.items()}}
        results.append((title, expect, result))

    rng = random.Random(args.seed)
    for title, expect, result in results:
        wrong = result[result["label"] != expect]
        if wrong.empty or not (args.all or args.samples):
            continue
        picked = (
            range(len(wrong))
            if args.all
            else sorted(rng.sample(range(len(wrong)), min(args.samples, len(wrong))))
        )
        print(f"\n== {title}: {len(wrong)} disagreements (expected {expect}); showing {len(picked)}")
        for i in picked:
            row = wrong.iloc[i]
            print(
                f"  [{row['direction']} {row['address']} {row['sender_kind']}] got={row['label']} "
                f"({row['reason'][:90]})\n      {row['body'][:200]}"
            )
    print(f"\n(read and classified in {time.perf_counter() - started:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=True)
    raise SystemExit(main())
