"""Rebuild the packaged content model from the public corpora: ``python -m sms_audit.classifier.train``.

Reads every corpus of ``../shared/corpora`` (:mod:`sms_audit.classifier.corpora`), maps its labels
with the one table :data:`~sms_audit.classifier.corpora.LABEL_MAP`, drops every text whose normalised
body is in ``../shared/eval/dev.tsv``, builds the content model's inputs exactly as the classifier
does (:func:`sms_audit.classifier.engine.content_inputs`), de-duplicates, and fits a multinomial
logistic regression (scikit-learn, one thread, fixed seed, inputs in sorted order). The model file
and its manifest (corpus, rows, sha256 of every file read) are written next to this module;
``--check`` rebuilds in memory and fails unless the bytes equal the packaged file.

Needs scikit-learn (``pip install 'sms-audit[train]'``); classifying does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sms_audit.classifier import content, fingerprint
from sms_audit.classifier.corpora import (
    ANNOTATED_LABELS,
    ANNOTATIONS_FILE,
    CLASSES,
    CODE_RELABEL,
    EXCLUDED,
    FOOTER_AMBIGUOUS,
    FOOTER_AMBIGUOUS_OTHER,
    READERS,
    annotation_key,
    body_key,
    corpus_files,
    map_label,
    read_annotations,
    read_corpus,
    read_dev_bodies,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from scipy.sparse import csr_matrix

    from sms_audit.classifier.rules import RuleSet

_REPO = Path(__file__).resolve().parents[2]
SHARED = _REPO.parent / "shared"
DEFAULT_CORPORA = SHARED / "corpora"
DEFAULT_DEV = SHARED / "eval" / "dev.tsv"
DATA_DIR = Path(__file__).resolve().parent / "data"

#: The region each corpus's national numbers belong to (how its senders are normalised).
REGIONS: dict[str, str | None] = {
    "exais-sms": "NG",
    "mendeley-smishing-5971": "IN",
    "nus-sms-corpus": None,
    "otp-synthetic": "CN",
    "smishtank": "US",
    "spamhunter": None,
    "thai-sms-receive-sites": "TH",
    "uci-sms-spam": "GB",
    "zh-80w-head": "CN",
    "zh-fbs-spam": "CN",
    "zh-mudou-spam": "CN",
}


@dataclass(frozen=True, slots=True)
class Params:
    """Everything besides the data that decides the weights (written into the model file)."""

    bits: int = 18
    c: float = 4.0  # inverse L2 strength of LogisticRegression
    max_iter: int = 300
    balanced: bool = True  # weights inversely proportional to the size of each (script, class) cell
    tol: float = 1e-4
    chat_cap: int = 20_000  # NUS messages kept (by SHA-1 order): chat is 3/4 of the rows otherwise
    scale: str = "sqrt"  # n-gram values: 1/sqrt(n-grams in the text), or a constant ("0.1")
    #: Added to the marketing logit after fitting: the marketing-vs-rest decision threshold, chosen
    #: by leave-one-corpus-out (bench/loco_classifier.py; figures in docs/classifier.md), never dev.tsv.
    marketing_offset: float = 0.0
    #: Corpora whose rows count for less in the fit (sample weight × factor). SmishTank is a
    #: crowd-reported set of US smishing only, with real senders and links: at full weight it is
    #: the only modern US text in training, so US style itself (a short link, "Reply STOP to opt
    #: out") reads as a scam and a real store's sale becomes "other". Chosen by leave-one-corpus-out
    #: and the fault tests (docs/classifier.md), not dev.tsv.
    corpus_weights: tuple[tuple[str, float], ...] = (("smishtank", 0.2),)


@dataclass
class TrainingSet:
    """One row per corpus text kept for training, with its model inputs and training class."""

    corpus: list[str] = field(default_factory=list)
    source_label: list[str] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # digit-folded, as the model reads it
    key: list[str] = field(default_factory=list)  # body_key, for dev.tsv and cross-corpus exclusion
    target: list[int] = field(default_factory=list)  # index into CLASSES
    facts: dict[str, list[bool]] = field(default_factory=dict)
    dropped_dev: Counter[str] = field(default_factory=Counter)
    dropped_ambiguous: Counter[str] = field(default_factory=Counter)
    annotated: Counter[str] = field(default_factory=Counter)  # rows whose class is their annotation
    files: dict[str, list[tuple[str, int, str]]] = field(
        default_factory=dict
    )  # corpus -> (file, bytes, sha256)

    def __len__(self) -> int:
        return len(self.text)

    def fact_arrays(self, rows: NDArray[np.int64]) -> dict[str, NDArray[np.bool_]]:
        return {name: np.asarray(values, dtype=bool)[rows] for name, values in self.facts.items()}


def load_training_set(
    corpora: Path = DEFAULT_CORPORA,
    dev: Path = DEFAULT_DEV,
    rules: RuleSet | None = None,
    names: Sequence[str] | None = None,
    annotations: Path | None = ANNOTATIONS_FILE,
) -> TrainingSet:
    """Read, map, exclude dev.tsv bodies and build the model inputs (corpora in sorted order).

    ``annotations`` (:func:`~sms_audit.classifier.corpora.read_annotations`; None for the label
    map alone) gives the class of each annotated row of :data:`ANNOTATED_LABELS`.
    """
    import pandas as pd

    from sms_audit.classifier.engine import content_inputs

    dev_keys = read_dev_bodies(dev)
    annotated = read_annotations(annotations) if annotations is not None else {}
    data = TrainingSet()
    for name in sorted(names or READERS):
        folder = corpora / name
        if not folder.is_dir():
            continue
        data.files[name] = [(p.name, p.stat().st_size, _sha256(p)) for p in corpus_files(corpora, name)]
        rows = []
        notes: list[str | None] = []
        for row in read_corpus(corpora, name):
            entry = map_label(name, row.source_label)
            note = (
                annotated.get((name, annotation_key(row.body)))
                if (name, row.source_label) in ANNOTATED_LABELS
                else None
            )
            if entry.target == EXCLUDED:
                continue
            key = body_key(row.body)
            if key in dev_keys:
                data.dropped_dev[name] += 1
                continue
            rows.append((row, entry, key))
            notes.append(note)
        if not rows:
            continue
        frame = pd.DataFrame(
            {
                "direction": "in",
                "address": [r.address for r, _, _ in rows],
                "body": [r.body for r, _, _ in rows],
            }
        )
        texts, facts = content_inputs(frame, region=REGIONS.get(name), rules=rules)
        # the sender only where the corpus records it (the label map's "real")
        real = np.array([entry.sender == "real" for _, entry, _ in rows], dtype=bool)
        facts["sender:personal"] = facts["sender:personal"] & real
        facts["sender:business"] = facts["sender:business"] & real
        for i, (row, entry, key) in enumerate(rows):
            target = entry.target
            note = notes[i]
            if note is not None:
                target = note
                data.annotated[name] += 1
            elif (name, row.source_label) in CODE_RELABEL and facts["code"][i]:
                target = "verification"
            elif (name, row.source_label) in FOOTER_AMBIGUOUS and facts["optout"][i]:
                data.dropped_ambiguous[name] += 1
                continue
            if target in ("other", "chat") and name in FOOTER_AMBIGUOUS_OTHER and facts["optout"][i]:
                data.dropped_ambiguous[name] += 1
                continue
            data.corpus.append(name)
            data.source_label.append(row.source_label)
            data.address.append(row.address)
            data.body.append(row.body)
            data.text.append(texts[i])
            data.key.append(key)
            data.target.append(CLASSES.index(target))
            for fact, values in facts.items():
                data.facts.setdefault(fact, []).append(bool(values[i]))
    return data


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def deduplicate(data: TrainingSet, rows: NDArray[np.int64]) -> NDArray[np.int64]:
    """One row per model input (text, plus the sender group when a ``sender:`` feature is in
    :data:`content.PSEUDO_FEATURES`); its class is the most common one (ties: CLASSES order).

    Returns the kept row numbers in a fixed order (sorted by text, then sender group).
    """
    groups: dict[tuple[str, int], list[int]] = {}
    by_sender = any(name.startswith("sender:") for name in content.PSEUDO_FEATURES)
    personal = data.facts["sender:personal"]
    business = data.facts["sender:business"]
    for i in rows.tolist():
        group = (1 if personal[i] else 2 if business[i] else 0) if by_sender else 0
        groups.setdefault((data.text[i], group), []).append(i)
    kept: list[int] = []
    for key in sorted(groups):
        members = groups[key]
        votes = Counter(data.target[i] for i in members)
        best = min(votes, key=lambda c: (-votes[c], c))
        kept.append(next(i for i in members if data.target[i] == best))
    return np.asarray(kept, dtype=np.int64)


def _cap(data: TrainingSet, rows: NDArray[np.int64], corpus: str, limit: int) -> NDArray[np.int64]:
    """Keep at most ``limit`` rows of ``corpus``: those whose text's SHA-1 sorts first (a fixed sample)."""
    mine = [i for i in rows.tolist() if data.corpus[i] == corpus]
    if len(mine) <= limit:
        return rows
    ranked = sorted(mine, key=lambda i: hashlib.sha1(data.text[i].encode("utf-8")).hexdigest())
    drop = set(ranked[limit:])
    return np.asarray([i for i in rows.tolist() if i not in drop], dtype=np.int64)


def _cell_weights(texts: Sequence[str], target: NDArray[np.int64]) -> NDArray[np.float64]:
    """Sample weights that give every (script, class) cell the same total weight.

    The corpora mix the classes differently per language (Chinese marketing is plentiful, English
    marketing scarce beside English chat); balancing classes globally would let one language's
    mix decide the other's.
    """
    han = np.fromiter(
        (any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts), dtype=bool, count=len(texts)
    )
    cell = han.astype(np.int64) * len(CLASSES) + target
    counts = np.bincount(cell, minlength=2 * len(CLASSES)).astype(np.float64)
    present = np.count_nonzero(counts)
    return len(texts) / (present * counts[cell])


def design_matrix(
    texts: Sequence[str],
    facts: dict[str, NDArray[np.bool_]],
    bits: int,
    pseudo_value: float = content.PSEUDO_VALUE,
    scale: str = "sqrt",
) -> csr_matrix:
    """The sparse matrix the model is fitted on: the same featurisation as at classification time."""
    from scipy.sparse import csr_matrix

    grams = content.ngrams(texts, bits)
    extras = content.pseudo_matrix(grams, facts)
    hashed = 1 << bits
    doc_p, feat_p = np.nonzero(extras)
    rows = np.concatenate([grams.doc.astype(np.int64), doc_p])
    cols = np.concatenate([grams.index.astype(np.int64), hashed + feat_p])
    values = grams.values() if scale == "sqrt" else np.full(len(grams.doc), float(scale), dtype=np.float32)
    vals = np.concatenate([values, np.full(len(doc_p), pseudo_value, dtype=np.float32)])
    matrix = csr_matrix((vals, (rows, cols)), shape=(len(texts), hashed + extras.shape[1]), dtype=np.float32)
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


def fit(
    data: TrainingSet, rows: NDArray[np.int64], params: Params, meta: dict[str, object] | None = None
) -> content.ContentModel:
    """Fit on ``rows`` (de-duplicated here) and return the model as packaged (float16 weights)."""
    from sklearn.linear_model import LogisticRegression

    kept = _cap(data, deduplicate(data, rows), "nus-sms-corpus", params.chat_cap)
    texts = [data.text[i] for i in kept.tolist()]
    matrix = design_matrix(texts, data.fact_arrays(kept), params.bits, scale=params.scale)
    target = np.asarray(data.target, dtype=np.int64)[kept]
    present = np.unique(target)
    model = LogisticRegression(C=params.c, max_iter=params.max_iter, tol=params.tol, solver="lbfgs")
    sample_weight = _cell_weights(texts, target) if params.balanced else np.ones(len(texts))
    factor = dict(params.corpus_weights)
    sample_weight *= np.array([factor.get(data.corpus[i], 1.0) for i in kept.tolist()])
    model.fit(matrix, target, sample_weight=sample_weight)
    weights = np.zeros((matrix.shape[1], len(CLASSES)), dtype=np.float32)
    bias = np.full(len(CLASSES), -30.0, dtype=np.float32)  # a class absent from training never wins
    coef = model.coef_.astype(np.float32)
    if len(present) == 2:  # binary: sklearn keeps one row, for the second class
        coef = np.stack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2], dtype=np.float32)
    else:
        intercept = model.intercept_.astype(np.float32)
    for j, cls in enumerate(present.tolist()):
        weights[:, cls] = coef[j]
        bias[cls] = intercept[j]
    bias[CLASSES.index("marketing")] += np.float32(params.marketing_offset)
    built = content.ContentModel(
        params.bits, CLASSES, weights, bias, content.PSEUDO_FEATURES, meta or {}, scale=params.scale
    )
    return built.quantized()


def build(corpora: Path, dev: Path, params: Params) -> tuple[bytes, bytes]:
    """The model file and its manifest, both deterministic for the same corpora, dev.tsv and code."""
    data = load_training_set(corpora, dev)
    rows = np.arange(len(data), dtype=np.int64)
    kept = _cap(data, deduplicate(data, rows), "nus-sms-corpus", params.chat_cap)
    counts = Counter(CLASSES[data.target[i]] for i in kept.tolist())
    meta: dict[str, object] = {
        "params": {
            "bits": params.bits,
            "C": params.c,
            "max_iter": params.max_iter,
            "balanced": params.balanced,
            "chat_cap": params.chat_cap,
            "scale": params.scale,
            "marketing_offset": params.marketing_offset,
            "corpus_weights": dict(params.corpus_weights),
        },
        "rows": len(kept),
        "classes": {c: counts.get(c, 0) for c in CLASSES},
    }
    model = fit(data, rows, params, meta)
    manifest = {
        "model": fingerprint.MODEL_FILE,
        "model_sha256": hashlib.sha256(model.to_bytes()).hexdigest(),
        "trained_rows": len(kept),
        "classes": meta["classes"],
        "params": meta["params"],
        "dev_bodies_dropped": dict(sorted(data.dropped_dev.items())),
        "ambiguous_footer_rows_dropped": dict(sorted(data.dropped_ambiguous.items())),
        "annotated_rows": dict(sorted(data.annotated.items())),
        "annotations": {
            "file": f"sms_audit/classifier/data/{ANNOTATIONS_FILE.name}",
            "sha256": _sha256(ANNOTATIONS_FILE) if ANNOTATIONS_FILE.exists() else None,
        },
        "corpora": [
            {
                "corpus": name,
                "rows": sum(1 for i in kept.tolist() if data.corpus[i] == name),
                "files": [{"file": f, "bytes": size, "sha256": sha} for f, size, sha in data.files[name]],
            }
            for name in sorted(data.files)
        ],
        "label_map": "sms_audit/classifier/corpora.py LABEL_MAP (docs/classifier.md)",
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return model.to_bytes(), text.encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sms_audit.classifier.train", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA, help="folder of the public corpora")
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="dev.tsv (its bodies are left out)")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="where to write the model and manifest")
    parser.add_argument("--check", action="store_true", help="rebuild and compare with the packaged files")
    args = parser.parse_args(argv)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")  # one core; also keeps float sums in a fixed order
    if not args.corpora.is_dir():
        print(f"error: {args.corpora}: no corpora folder", file=sys.stderr)
        return 2
    model_bytes, manifest = build(args.corpora, args.dev, Params())
    model_path, manifest_path = args.out / fingerprint.MODEL_FILE, args.out / fingerprint.MANIFEST_FILE
    if args.check:
        same = model_path.exists() and model_path.read_bytes() == model_bytes
        same_manifest = manifest_path.exists() and manifest_path.read_bytes() == manifest
        print(
            f"{model_path}: {'identical' if same else 'DIFFERS'}; {manifest_path.name}: "
            f"{'identical' if same_manifest else 'DIFFERS'}"
        )
        return 0 if same and same_manifest else 1
    args.out.mkdir(parents=True, exist_ok=True)
    model_path.write_bytes(model_bytes)
    manifest_path.write_bytes(manifest)
    print(f"wrote {model_path} ({len(model_bytes):,} bytes) and {manifest_path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
