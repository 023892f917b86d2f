"""Leave-one-corpus-out: the classifier's estimate of unseen performance, beside the rules-only baseline.

For every public corpus in ../shared/corpora: fit the content model on all the other corpora (rows
whose normalised body also occurs in the held-out corpus are left out of the fit too), classify the
held-out corpus with the whole classifier (structural rules + that model), and score it against the
corpus's own labels mapped by LABEL_MAP (docs/classifier.md). The named baseline "rules-only" is the
classifier as it was before issue 9 (git ref BASELINE_REF, run in a subprocess from ``git archive``),
classifying the same rows. Prints per-corpus and overall macro-F1 and per-label P/R/F1 side by side,
then the outgoing corpus messages read as opt-outs, then dev.tsv last (the packaged model): a check
that agrees with the estimate, never the thing to tune on.

    .venv/bin/python bench/loco_classifier.py                 # all corpora (~15 min on one core)
    .venv/bin/python bench/loco_classifier.py --workers 2     # two corpora fitted at once
    .venv/bin/python bench/loco_classifier.py --only uci-sms-spam,exais-sms
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import cast

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # one core

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sms_audit.classifier import LABELS, content
from sms_audit.classifier.corpora import CLASSES
from sms_audit.classifier.engine import classify_with_model
from sms_audit.classifier.train import (
    DEFAULT_CORPORA,
    DEFAULT_DEV,
    REGIONS,
    Params,
    TrainingSet,
    fit,
    load_training_set,
)

#: The rules-only classifier before issue 9 (the merge base of branch issue-9).
BASELINE_REF = "3c50d50"
_LABEL_OF_CLASS = {
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

_BASELINE_SCRIPT = """
import sys, pandas as pd, csv
from sms_audit.classifier import classify_frame
frame = pd.read_csv(sys.argv[1], sep="\\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
out = []
for (group, region), part in frame.groupby(["group", "region"], sort=False):
    out.append(classify_frame(part.drop(columns=["group", "region"]), region=region or None)["label"])
pd.concat(out).loc[frame.index].to_csv(sys.argv[2], index=False, header=False)
"""


def baseline_labels(frame: pd.DataFrame, ref: str) -> pd.Series:
    """Labels of the rules-only classifier at git ``ref`` for ``frame`` (direction, address, body, group, region)."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", ref, "sms_audit"], check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        source, target = Path(tmp) / "rows.tsv", Path(tmp) / "labels.csv"
        clean = frame.assign(body=frame["body"].str.replace("\t", " ").str.replace("\n", " "))
        clean.to_csv(source, sep="\t", index=False, quoting=csv.QUOTE_NONE, escapechar=None)
        env = dict(os.environ, PYTHONPATH=tmp)
        subprocess.run(
            [sys.executable, "-c", _BASELINE_SCRIPT, str(source), str(target)], check=True, env=env, cwd=tmp
        )
        return pd.read_csv(target, header=None, dtype=str, keep_default_na=False)[0].set_axis(frame.index)


def scores(gold: pd.Series, pred: pd.Series, labels: list[str]) -> dict[str, tuple[float, float, float, int]]:
    out = {}
    for label in labels:
        tp = int(((pred == label) & (gold == label)).sum())
        fp = int(((pred == label) & (gold != label)).sum())
        fn = int(((pred != label) & (gold == label)).sum())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        out[label] = (p, r, 2 * p * r / (p + r) if p + r else 0.0, tp + fn)
    return out


def macro(table: dict[str, tuple[float, float, float, int]]) -> float:
    present = [row[2] for row in table.values() if row[3] > 0]
    return sum(present) / len(present) if present else float("nan")


def print_table(
    title: str, gold: pd.Series, new: pd.Series, old: pd.Series, labels: list[str]
) -> dict[str, object]:
    a, b = scores(gold, new, labels), scores(gold, old, labels)
    print(f"\n{title}: {len(gold):,} messages")
    print(f"{'label':<26}{'n':>7}   {'P':>6}{'R':>6}{'F1':>6}   rules-only {'P':>6}{'R':>6}{'F1':>6}")
    for label in labels:
        if a[label][3] == 0 and not ((new == label).any() or (old == label).any()):
            continue
        print(
            f"{label:<26}{a[label][3]:>7}   {a[label][0]:>6.3f}{a[label][1]:>6.3f}{a[label][2]:>6.3f}"
            f"   {'':>10} {b[label][0]:>6.3f}{b[label][1]:>6.3f}{b[label][2]:>6.3f}"
        )
    print(f"{'macro-F1':<26}{'':>7}   {macro(a):>18.3f}   {'':>10} {macro(b):>18.3f}")
    return {"macro_f1": macro(a), "baseline_macro_f1": macro(b), "labels": a, "baseline_labels": b}


_STATE: dict[str, object] = {}


def _held_out(name: str) -> tuple[str, pd.DataFrame, float]:
    """Fit on every corpus but ``name`` and label ``name``'s distinct bodies with that model."""
    data = cast(TrainingSet, _STATE["data"])
    corpus, keys = cast(np.ndarray, _STATE["corpus"]), cast(np.ndarray, _STATE["keys"])
    params = cast(Params, _STATE["params"])
    rows = np.flatnonzero(corpus == name)
    held = set(keys[rows].tolist())
    train_rows = np.flatnonzero((corpus != name) & ~np.isin(keys, list(held)))
    tick = time.perf_counter()
    model = fit(data, train_rows, params)
    fit_s = time.perf_counter() - tick
    _, first = np.unique(keys[rows], return_index=True)  # each distinct body once
    rows = rows[np.sort(first)]
    frame = pd.DataFrame(
        {
            "direction": "in",
            "address": [data.address[i] for i in rows],
            "body": [data.body[i] for i in rows],
        }
    )
    gold = pd.Series([_LABEL_OF_CLASS[CLASSES[data.target[i]]] for i in rows])
    new = classify_with_model(frame, region=REGIONS.get(name), rules=None, model=model)["label"]
    frame["group"], frame["region"], frame["gold"], frame["new"] = name, REGIONS.get(name) or "", gold, new
    return name, frame, fit_s


def _report_fit(name: str, frame: pd.DataFrame, fit_s: float) -> pd.DataFrame:
    print(f"{name:<26}{len(frame):>7}{'':>10}{'':>12}{fit_s:>7.0f}", flush=True)
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    parser.add_argument("--only", default="", help="comma-separated corpora to hold out (default: all)")
    parser.add_argument("--baseline-ref", default=BASELINE_REF, help="git ref of the rules-only classifier")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--workers", type=int, default=1, help="held-out corpora fitted at once (one core each; default 1)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data = load_training_set(args.corpora, args.dev)
    corpus = np.asarray(data.corpus)
    keys = np.asarray(data.key)
    params = Params()
    print(
        f"{len(data):,} corpus messages after the label map and the dev.tsv exclusion; fitting one model per corpus"
    )
    print(f"{'held-out corpus':<26}{'n':>7}{'macro-F1':>10}{'rules-only':>12}{'fit s':>7}")
    figures: dict[str, object] = {"corpora": {}}
    names = [c for c in sorted(set(data.corpus)) if not args.only or c in args.only.split(",")]
    _STATE.update(data=data, corpus=corpus, keys=keys, params=params)
    if args.workers > 1:  # one process per held-out corpus at a time, forked: the data is shared
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(args.workers) as pool:
            results = pool.imap(_held_out, names, chunksize=1)
            held_frames = [_report_fit(name, frame, fit_s) for name, frame, fit_s in results]
    else:
        held_frames = [_report_fit(*_held_out(name)) for name in names]
    every = pd.concat(held_frames, ignore_index=True)
    every["old"] = baseline_labels(
        every[["direction", "address", "body", "group", "region"]], args.baseline_ref
    )
    labels3 = ["verification", "marketing", "other"]
    print(f"\n{'held-out corpus':<26}{'n':>7}{'macro-F1':>10}{'rules-only':>12}")
    for name, part in every.groupby("group", sort=True):
        a = macro(scores(part["gold"], part["new"], labels3))
        b = macro(scores(part["gold"], part["old"], labels3))
        figures["corpora"][name] = {"n": len(part), "macro_f1": a, "baseline_macro_f1": b}  # type: ignore[index]
        print(f"{name:<26}{len(part):>7}{a:>10.3f}{b:>12.3f}")
    figures["overall"] = print_table(
        "all held-out corpora (incoming, labels as mapped)",
        every["gold"],
        every["new"],
        every["old"],
        list(LABELS),
    )

    # outgoing corpus messages (sent to friends and services): how many read as opt-outs
    out_rows = [
        i
        for i, c in enumerate(data.corpus)
        if c in ("nus-sms-corpus", "exais-sms") and data.source_label[i].startswith(("sent", "send"))
    ]
    out = pd.DataFrame(
        {
            "direction": "out",
            "address": [data.address[i] for i in out_rows],
            "body": [data.body[i] for i in out_rows],
            "group": [data.corpus[i] for i in out_rows],
            "region": [REGIONS.get(data.corpus[i]) or "" for i in out_rows],
        }
    )
    new_out = pd.concat(
        [
            classify_with_model(p.drop(columns=["group", "region"]), region=r or None, model=None)["label"]
            for (g, r), p in out.groupby(["group", "region"], sort=False)
        ]
    ).loc[out.index]
    old_out = baseline_labels(out, args.baseline_ref)
    print(
        f"\noutgoing corpus messages read as unsubscribe-reply: {int((new_out == 'unsubscribe-reply').sum())} of {len(out):,}"
        f" | rules-only {int((old_out == 'unsubscribe-reply').sum())}"
    )
    for i in np.flatnonzero((new_out == "unsubscribe-reply").to_numpy())[:10]:
        print(f"    [{out['group'].iloc[i]} -> {out['address'].iloc[i]}] {out['body'].iloc[i][:80]}")

    if args.dev.exists():
        dev = pd.read_csv(args.dev, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
        dev = dev.rename(columns={"sender": "address"})
        packaged = content.packaged_model()
        labelled = pd.concat(
            [
                classify_with_model(p[["direction", "address", "body"]], model=packaged)
                for _, p in dev.groupby("lang", sort=False)
            ]
        ).loc[dev.index]
        new_dev = labelled["label"]
        frame = dev[["direction", "address", "body"]].assign(group=dev["lang"], region="")
        old_dev = baseline_labels(frame, args.baseline_ref)
        figures["dev"] = print_table(
            "dev.tsv (packaged model; checked last, never tuned on)",
            dev["label"],
            new_dev,
            old_dev,
            list(LABELS),
        )
        by_model = labelled["reason"].str.startswith("model.")
        by_default = labelled["reason"].str.startswith("default:")
        print(
            f"dev.tsv labels decided by the content model: {int(by_model.sum())} of {len(dev)} "
            f"({by_model.mean():.1%}); by a rule: {int((~by_model & ~by_default).sum())}; "
            f"by no rule (outgoing, other): {int(by_default.sum())}"
        )
        figures["dev_decided"] = {
            "model": int(by_model.sum()),
            "rule": int((~by_model & ~by_default).sum()),
            "default": int(by_default.sum()),
        }
    print(f"\n(ran in {time.perf_counter() - started:,.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=True)
    raise SystemExit(main())
