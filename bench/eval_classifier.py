"""Score the classifier on ../shared/eval/dev.tsv and count labels over the raw corpora."""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sms_audit.classifier import LABELS, classify_frame
from sms_audit.classifier.corpora import READERS, read_corpus

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEFAULT_DEV = SHARED / "eval/dev.tsv"
CORPORA = SHARED / "corpora"
PER_CORPUS = 3000  # bounded: enough for a sanity check, quick to run


def read_dev(path: Path) -> pd.DataFrame:
    """dev.tsv: lang, direction, sender, body, label; unquoted TSV, everything text."""
    frame = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
    return frame.rename(columns={"sender": "address"})


def classify_dev(dev: pd.DataFrame) -> pd.DataFrame:
    """Classify each language's rows as one archive (the region is inferred from its numbers)."""
    parts = [classify_frame(part) for _, part in dev.groupby("lang", sort=False)]
    return pd.concat(parts).loc[dev.index]


def scores(gold: pd.Series, pred: pd.Series) -> dict[str, dict[str, float]]:
    """Per-label precision, recall, F1 and support."""
    table: dict[str, dict[str, float]] = {}
    for label in LABELS:
        tp = int(((pred == label) & (gold == label)).sum())
        fp = int(((pred == label) & (gold != label)).sum())
        fn = int(((pred != label) & (gold == label)).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return table


def macro_f1(table: dict[str, dict[str, float]]) -> float:
    return sum(row["f1"] for row in table.values()) / len(table)


def print_scores(dev: pd.DataFrame, result: pd.DataFrame, *, show_errors: bool) -> dict[str, object]:
    gold, pred = dev["label"], result["label"]
    table = scores(gold, pred)
    short = {
        "verification": "verif",
        "marketing": "mkt",
        "unsubscribe-reply": "unsub-reply",
        "unsubscribe-confirmation": "unsub-conf",
        "other": "other",
    }
    print(f"dev set: {len(dev)} rows")
    print(f"{'label':<26}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}")
    for label, row in table.items():
        print(
            f"{label:<26}{row['precision']:>7.3f}{row['recall']:>7.3f}{row['f1']:>7.3f}{int(row['support']):>6}"
        )
    accuracy = float((gold == pred).mean())
    print(f"macro-F1 {macro_f1(table):.3f}   accuracy {accuracy:.3f}")
    for lang, part in dev.groupby("lang"):
        sub = scores(part["label"], pred.loc[part.index])
        print(
            f"  {lang}: macro-F1 {macro_f1(sub):.3f}, accuracy {float((part['label'] == pred.loc[part.index]).mean()):.3f}"
        )
    print("\nconfusion matrix (rows = gold, columns = predicted)")
    print(" " * 12 + "".join(f"{short[c]:>12}" for c in LABELS))
    for g in LABELS:
        counts = [int(((gold == g) & (pred == p)).sum()) for p in LABELS]
        print(f"{short[g]:<12}" + "".join(f"{c:>12}" for c in counts))
    wrong = dev[gold != pred]
    print(f"\nmisclassified rows: {len(wrong)}")
    if show_errors:
        for i, row in wrong.iterrows():
            got = result.loc[i]
            print(
                f"  [{row['lang']} {row['direction']} {row['address']} {got['sender_kind']}] "
                f"gold={row['label']} got={got['label']} ({got['reason']})\n      {row['body'][:150]}"
            )
    return {"macro_f1": macro_f1(table), "accuracy": accuracy, "labels": table}


# --- raw corpora --------------------------------------------------------------------------------


def corpus_messages(name: str, folder: Path) -> pd.DataFrame:
    """A fixed sample of up to PER_CORPUS messages of one corpus (direction, address, body).

    The corpus formats are read once, by the training readers (sms_audit/classifier/corpora.py).
    """
    rows = (
        [(r.direction, r.address, r.body) for r in read_corpus(folder.parent, name)]
        if name in READERS
        else []
    )
    if len(rows) > PER_CORPUS:
        rows = random.Random(7).sample(rows, PER_CORPUS)
    return pd.DataFrame(rows, columns=["direction", "address", "body"], dtype=str)


def print_corpora(root: Path) -> dict[str, dict[str, int]]:
    print(
        f"\nlabels over raw corpora (a fixed sample of {PER_CORPUS} messages each; nobody labelled these for us)"
    )
    print(f"{'corpus':<26}{'n':>6}" + "".join(f"{lab[:11]:>13}" for lab in LABELS))
    counts: dict[str, dict[str, int]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            frame = corpus_messages(folder.name, folder)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            print(f"{folder.name:<26} skipped: {exc}")
            continue
        if frame.empty:
            print(f"{folder.name:<26} skipped: no reader (not message text; see its PROVENANCE.txt)")
            continue
        labels = classify_frame(frame)["label"].value_counts()
        counts[folder.name] = {lab: int(labels.get(lab, 0)) for lab in LABELS}
        print(
            f"{folder.name:<26}{len(frame):>6}" + "".join(f"{counts[folder.name][lab]:>13}" for lab in LABELS)
        )
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dev", nargs="?", type=Path, default=DEFAULT_DEV, help="path to dev.tsv")
    parser.add_argument("--corpora", type=Path, default=CORPORA, help="folder of raw corpora")
    parser.add_argument("--no-corpora", action="store_true", help="skip the raw-corpus label counts")
    parser.add_argument("--quiet", action="store_true", help="do not list misclassified rows")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    dev = read_dev(args.dev)
    started = time.perf_counter()
    result = classify_dev(dev)
    elapsed = time.perf_counter() - started
    figures = print_scores(dev, result, show_errors=not args.quiet)
    print(f"(classified in {elapsed * 1000:.0f} ms)")
    if not args.no_corpora and args.corpora.is_dir():
        figures["corpora"] = print_corpora(args.corpora)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=True)
    raise SystemExit(main())
