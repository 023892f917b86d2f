"""The learned content model: hashed character n-grams and a few structural facts, scored by a linear model.

Training lives in :mod:`sms_audit.classifier.train`; this module only reads the packaged weights and
scores texts, with numpy alone (no scikit-learn at run time). Featurisation, in order:

* every character is case-folded and NFKC-mapped one to one (full-width ``ＴＤ`` reads as ``td``),
  every digit reads as ``0`` and every space character as `` ``;
* the text inside a ``【…】``/``[…]`` signature is dropped (brackets kept): a signature names the
  sender, it is not content, so ``招商`` in ``【招商银行】`` never reads as "merchant recruiting";
* separators between two Han characters are dropped, so ``代、办…证、件`` and ``加 微 信`` read as
  ``代办证件`` and ``加微信`` (and the text is marked ``obfuscated`` when single characters are
  split up that way);
* character 1–4-grams of what is left are hashed into ``2**bits`` slots; their weights are the
  counts divided by the square root of the number of n-grams;
* structural facts computed outside (link, one-time code, opt-out footer) and the
  featuriser's own (split-up characters, Chinese script) are extra features with a learned weight,
  never a verdict: a footer is what commercial senders must add (FCC 24-24, MIIT Order 31), but
  notices and phishing carry one too.

Every n-gram keeps the span it covers in the text as given, so explanations quote the message
itself, never the folded form.
"""

from __future__ import annotations

import json
import os
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from sms_audit.classifier.fingerprint import packaged_model_bytes

if TYPE_CHECKING:
    from numpy.typing import NDArray

_MAGIC = b"sms-audit content model 1\n"
_NGRAM_MAX = 4
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing (Knuth): odd, spreads the high bits
_HASH_STEP = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime, the per-character step
_CHUNK_CHARS = 1 << 20  # characters featurised at a time: keeps the temporaries in cache
_SIGNATURE_MAX = 24  # longest bracketed text treated as a signature (as brands.BRAND_PATTERN)
_OPEN = {ord(c) for c in "【[〔〖"}
_CLOSE = {ord(c) for c in "】]〕〗"}
# Separators dropped between two Han characters (after the NFKC fold: "．" is ".", "　" is " ").
_SEPARATORS = {ord(c) for c in " 、.·•‧∙…*_-|/\\~^`'\"丶﹑,+=#"}
_SPACE = ord(" ")
#: A character the featuriser drops like a signature's text: callers mask boilerplate with it.
MASK = "\uffff"
_THREADS = 2  # chunks scored at once (the machines have two cores)
_EXPLAIN_FLOOR = 0.2  # explanation candidates: pieces with at least this share of the text's strongest

#: Structural facts the model sees as features, in weight-matrix order after the hashed n-grams.
#: No sender kind: the only corpora that record senders (ExAIS chat, SmishTank scams) taught that a
#: personal-looking number means chat or a scam, never an advert, which is false wherever businesses
#: text from long codes (US 10DLC) — the kind stays a structural fact of the rules (opt-out replies,
#: traps), not content. A model file that lists a ``sender:`` feature still loads and is fed it.
PSEUDO_FEATURES: tuple[str, ...] = (
    "link",
    "code",
    "optout",
    "obfuscated",
    "script:han",
)
#: The value of a structural feature that is present. Below 1 so that, under the one L2 penalty, a
#: fact must earn a larger weight than an n-gram to count as much (n-gram values are ~0.05-0.2).
PSEUDO_VALUE = 0.3
#: How an explanation names a structural feature.
PSEUDO_NAMES: dict[str, str] = {
    "sender:personal": "[personal number]",
    "link": "[link]",
    "code": "[one-time code]",
    "optout": "[opt-out footer]",
    "obfuscated": "[split-up characters]",
    "script:han": "[Chinese text]",
}


# --- character folding ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _fold_table() -> NDArray[np.uint32]:
    """Code point → folded code point for the Basic Multilingual Plane (one character in, one out)."""
    table = np.arange(0x10000, dtype=np.uint32)
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        if char.isspace() or unicodedata.category(char) == "Cc":
            table[code] = _SPACE
            continue
        if char.isdecimal():
            table[code] = ord("0")
            continue
        folded = unicodedata.normalize("NFKC", char).lower()
        if len(folded) == 1:
            table[code] = ord("0") if folded.isdecimal() else ord(folded)
    return table


_HAN, _OPENS, _CLOSES, _SEP = 1, 2, 4, 8


@lru_cache(maxsize=1)
def _class_table() -> NDArray[np.uint8]:
    """Folded BMP code point → bit set of _HAN, _OPENS, _CLOSES, _SEP."""
    table = np.zeros(0x10000, dtype=np.uint8)
    for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)):
        table[lo : hi + 1] = _HAN
    for members, bit in ((_OPEN, _OPENS), (_CLOSE, _CLOSES), (_SEPARATORS, _SEP)):
        table[list(members)] |= bit
    return table


def _classes(codes: NDArray[np.uint32]) -> NDArray[np.uint8]:
    out = _class_table()[codes & 0xFFFF]
    astral = codes > 0xFFFF
    if astral.any():  # CJK extensions B-F are Han; everything else up there is no class
        out[astral] = np.where((codes[astral] >= 0x20000) & (codes[astral] <= 0x2FA1F), _HAN, 0)
    return out


# --- featurisation --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NGrams:
    """The hashed n-grams of a batch of texts: one block per n, positions ascending in each.

    N-gram ``i`` covers the kept characters ``at[i] .. at[i] + length[i]`` (``length`` is n - 1);
    ``pos`` maps a kept character to its offset in its text as given, so spans quote the text
    itself. ``digits`` and ``gaps`` are inclusive prefix counts over the kept characters of those
    in a run of 4+ digits and of those that follow a dropped signature.
    """

    n_docs: int
    doc: NDArray[np.int32]
    index: NDArray[np.int32]
    at: NDArray[np.int32]
    length: NDArray[np.int8]
    norm: NDArray[np.float32]  # per document: 1 / sqrt(number of n-grams)
    pos: NDArray[np.int32]  # per kept character
    digits: NDArray[np.int32]  # per kept character
    gaps: NDArray[np.int32]  # per kept character
    letters: NDArray[np.int32]  # per kept character: inclusive prefix count of letters and Han characters
    word_first: NDArray[np.int32]  # per kept character: first kept character of its Latin word (else itself)
    word_last: NDArray[np.int32]  # per kept character: last kept character of its Latin word (else itself)
    obfuscated: NDArray[np.bool_]  # per document
    han: NDArray[np.bool_]  # per document

    def values(self) -> NDArray[np.float32]:
        """The feature value of each n-gram occurrence (its document's norm)."""
        return self.norm[self.doc]

    def quotable(self, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether n-grams ``rows`` may be quoted: no digit of a 4+ run, no signature inside."""
        first = self.at[rows].astype(np.int64)
        last = first + self.length[rows]
        before = np.where(first > 0, self.digits[np.maximum(first - 1, 0)], 0)
        return (self.digits[last] == before) & (self.gaps[last] == self.gaps[first])

    def wordy(self, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether n-grams ``rows`` hold a letter or a Han character (punctuation explains nothing)."""
        first = self.at[rows].astype(np.int64)
        last = first + self.length[rows]
        before = np.where(first > 0, self.letters[np.maximum(first - 1, 0)], 0)
        return self.letters[last] > before


def ngrams(texts: Sequence[str], bits: int) -> NGrams:
    """Featurise ``texts`` (see the module docstring); deterministic on every platform."""
    return _ngrams(list(texts), bits)


def _ngrams(texts: list[str], bits: int) -> NGrams:
    n_docs = len(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n_docs)
    bounds = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    raw = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    size = len(raw)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int32), lengths)
    codes = raw.copy()
    bmp = raw < 0x10000
    codes[bmp] = _fold_table()[raw[bmp]]

    # signatures: drop what is inside 【…】 / […] when it closes within _SIGNATURE_MAX characters
    classes = _classes(codes)
    opens = np.flatnonzero(classes & _OPENS)
    closes = np.flatnonzero(classes & _CLOSES)
    in_signature = np.zeros(size, dtype=bool)
    if len(opens) and len(closes):
        nxt = np.searchsorted(closes, opens)
        ok = nxt < len(closes)
        opens, close_at = opens[ok], closes[nxt[ok]]
        span = close_at - opens - 1
        good = (doc_of[opens] == doc_of[close_at]) & (span >= 1) & (span <= _SIGNATURE_MAX)
        mark = np.zeros(size + 1, dtype=np.int32)
        np.add.at(mark, opens[good] + 1, 1)
        np.add.at(mark, close_at[good], -1)
        in_signature = np.cumsum(mark[:size]) > 0
    in_signature |= raw == ord(MASK)  # masked boilerplate: dropped, never quoted across

    # separators between two Han characters (looking past runs of separators, never across texts)
    han = (classes & _HAN) > 0
    sep = ((classes & _SEP) > 0) & ~in_signature
    drop_sep = np.zeros(size, dtype=bool)
    if sep.any():
        positions = np.arange(size, dtype=np.int64)
        prev_solid = np.maximum.accumulate(np.where(~sep, positions, -1))
        next_solid = np.minimum.accumulate(np.where(~sep, positions, size)[::-1])[::-1]
        cand = np.flatnonzero(sep & (prev_solid >= 0) & (next_solid < size))
        p, q = prev_solid[cand], next_solid[cand]
        ok = han[p] & han[q] & (doc_of[p] == doc_of[cand]) & (doc_of[q] == doc_of[cand])
        drop_sep[cand[ok]] = True
    # a Han character with a dropped separator on both sides was split off on purpose (代、办…证)
    split = np.zeros(size, dtype=bool)
    if size > 2:
        split[1:-1] = han[1:-1] & drop_sep[:-2] & drop_sep[2:]
    obfuscated = np.bincount(doc_of[split], minlength=n_docs) > 0
    han_doc = np.bincount(doc_of[han], minlength=n_docs) > 0

    kept = np.flatnonzero(~(in_signature | drop_sep))
    n_kept = len(kept)
    stream = codes[kept].astype(np.uint64)
    docs = doc_of[kept]
    pos = (kept - bounds[docs]).astype(np.int32)
    # characters that must not be quoted: digits of a run of 4+, and the first one after a signature
    digit = (raw >= 0x30) & (raw <= 0x39)
    run4 = np.zeros(size, dtype=bool)
    if size >= 4:
        window = digit[:-3] & digit[1:-2] & digit[2:-1] & digit[3:] & (doc_of[:-3] == doc_of[3:])
        for k in range(4):
            run4[k : size - 3 + k] |= window
    after_signature = np.zeros(n_kept, dtype=bool)
    if n_kept > 1:
        after_signature[1:] = (kept[1:] - kept[:-1] > 1) & in_signature[np.maximum(kept[1:] - 1, 0)]

    # n-gram (i, n) covers kept[i .. i+n-1]; one block per n, positions ascending in each
    index_parts, at_parts, length_parts = [], [], []
    shift = np.uint64(64 - bits)
    state = np.zeros(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for n in range(1, _NGRAM_MAX + 1):
            width = n_kept - n + 1
            if width <= 0:
                break
            if n == 1:
                state = (stream + np.uint64(1)) * _HASH_STEP
                at = np.arange(n_kept, dtype=np.int32)
            else:
                state = state[:width] * _HASH_STEP + stream[n - 1 :] + np.uint64(1)
                at = np.flatnonzero(docs[:width] == docs[n - 1 :]).astype(np.int32)
            hashed = ((state if n == 1 else state[at]) + np.uint64(n)) * _HASH_MUL
            index_parts.append((hashed >> shift).astype(np.int32))
            at_parts.append(at)
            length_parts.append(np.full(len(at), n - 1, dtype=np.int8))
        _words(stream, docs, shift, index_parts, at_parts, length_parts)
    at = np.concatenate(at_parts) if at_parts else np.zeros(0, dtype=np.int32)
    grams_doc = docs[at]
    counts = np.bincount(grams_doc, minlength=n_docs)
    norm = (1.0 / np.sqrt(np.maximum(counts, 1))).astype(np.float32)
    return NGrams(
        n_docs,
        grams_doc,
        np.concatenate(index_parts) if index_parts else np.zeros(0, dtype=np.int32),
        at,
        np.concatenate(length_parts) if length_parts else np.zeros(0, dtype=np.int8),
        norm,
        pos,
        np.cumsum(run4[kept], dtype=np.int32),
        np.cumsum(after_signature, dtype=np.int32),
        np.cumsum(han[kept] | ((stream >= ord("a")) & (stream <= ord("z"))), dtype=np.int32),
        *_word_bounds(stream, docs),
        obfuscated,
        han_doc,
    )


def _word_bounds(
    stream: NDArray[np.uint64], docs: NDArray[np.int32]
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Per kept character, the first and last kept character of the Latin word it is in (else itself)."""
    size = len(stream)
    here = np.arange(size, dtype=np.int32)
    if size == 0:
        return here, here.copy()
    letter = (stream >= ord("a")) & (stream <= ord("z"))
    same = docs[1:] == docs[:-1]
    joined_left = np.r_[False, letter[:-1] & letter[1:] & same]  # continues the letter before it
    joined_right = np.r_[joined_left[1:], False]
    first = np.maximum.accumulate(np.where(joined_left, 0, here)).astype(np.int32)
    last = np.minimum.accumulate(np.where(joined_right, size, here)[::-1])[::-1].astype(np.int32)
    return first, last


_WORD_MAX = 20  # longer letter runs (links, codes) are not words
_WORD_GAP = 3  # a word pair is two words at most this many characters apart
_POWERS = np.cumprod(np.full(_WORD_MAX, _HASH_STEP, dtype=np.uint64))  # wraps mod 2**64 by design


def _words(
    stream: NDArray[np.uint64],
    docs: NDArray[np.int32],
    shift: np.uint64,
    index_parts: list[NDArray[np.int32]],
    at_parts: list[NDArray[np.int32]],
    length_parts: list[NDArray[np.int8]],
) -> None:
    """Add Latin words (folded a-z runs of 2-20 letters) and adjacent word pairs as features.

    Character 1-4-grams see "prescription" or "balance" only in pieces; whole words carry English.
    """
    size = len(stream)
    if size == 0:
        return
    letter = (stream >= ord("a")) & (stream <= ord("z"))
    same = docs[1:] == docs[:-1]
    begins = np.flatnonzero(letter & ~np.r_[False, letter[:-1] & same])
    ends = np.flatnonzero(letter & ~np.r_[letter[1:] & same, False])
    if not len(begins):
        return
    width = ends - begins + 1
    mark = np.zeros(size, dtype=np.int32)
    mark[begins] = 1
    word_of = np.cumsum(mark) - 1  # the word a position belongs to (or follows)
    offset = np.arange(size) - begins[np.maximum(word_of, 0)]
    use = letter & (word_of >= 0) & (offset < _WORD_MAX)
    with np.errstate(over="ignore"):
        term = np.where(
            use, (stream + np.uint64(1)) * _POWERS[np.clip(offset, 0, _WORD_MAX - 1)], np.uint64(0)
        )
        hashed = np.add.reduceat(term, begins)
        good = (width >= 2) & (width <= _WORD_MAX)
        words = np.flatnonzero(good)
        index_parts.append((((hashed[words] + np.uint64(11)) * _HASH_MUL) >> shift).astype(np.int32))
        at_parts.append(begins[words].astype(np.int32))
        length_parts.append((width[words] - 1).astype(np.int8))
        nxt = words[1:]
        first = words[:-1]
        pair = (docs[begins[nxt]] == docs[begins[first]]) & (begins[nxt] - ends[first] - 1 <= _WORD_GAP)
        a, b = first[pair], nxt[pair]
        combined = hashed[a] * _HASH_STEP + hashed[b] + np.uint64(12)
        index_parts.append(((combined * _HASH_MUL) >> shift).astype(np.int32))
        at_parts.append(begins[a].astype(np.int32))
        length_parts.append((ends[b] - begins[a]).astype(np.int8))


def quote(grams: NGrams, texts: Sequence[str], row: int) -> str:
    """The text of n-gram ``row`` as written in its message."""
    first = int(grams.at[row])
    last = first + int(grams.length[row])
    return texts[int(grams.doc[row])][int(grams.pos[first]) : int(grams.pos[last]) + 1]


# --- the model ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContentModel:
    """A multinomial linear model over hashed n-grams plus :data:`PSEUDO_FEATURES`."""

    bits: int
    classes: tuple[str, ...]  # internal classes ("scam" reads as the label "other")
    weights: NDArray[np.float32]  # (2**bits + len(pseudo), len(classes))
    bias: NDArray[np.float32]  # (len(classes),)
    pseudo: tuple[str, ...] = PSEUDO_FEATURES
    meta: dict[str, object] | None = None
    pseudo_value: float = PSEUDO_VALUE
    scale: str = "sqrt"  # n-gram value: "sqrt" = 1/sqrt(n-grams in the text), or a constant

    def norms(self, grams: NGrams) -> NDArray[np.float32]:
        """Per document, the value each of its n-grams has."""
        if self.scale == "sqrt":
            return grams.norm
        return np.full(grams.n_docs, float(self.scale), dtype=np.float32)

    @property
    def n_hashed(self) -> int:
        return 1 << self.bits

    def to_bytes(self) -> bytes:
        """The packaged file: a magic line, one JSON header line, then zlib(float16 weights + float32 bias)."""
        header = {
            "bits": self.bits,
            "classes": list(self.classes),
            "pseudo": list(self.pseudo),
            "ngram": [1, _NGRAM_MAX],
            "weights": "float16",
            "pseudo_value": self.pseudo_value,
            "scale": self.scale,
            "meta": self.meta or {},
        }
        payload = self.weights.astype("<f2").tobytes() + self.bias.astype("<f4").tobytes()
        line = json.dumps(header, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        return _MAGIC + line + b"\n" + zlib.compress(payload, 9)

    @classmethod
    def from_bytes(cls, data: bytes) -> ContentModel:
        if not data.startswith(_MAGIC):
            raise ValueError("not an sms-audit content model file")
        line, _, body = data[len(_MAGIC) :].partition(b"\n")
        header = json.loads(line)
        payload = zlib.decompress(body)
        classes = tuple(header["classes"])
        pseudo = tuple(header["pseudo"])
        rows = (1 << int(header["bits"])) + len(pseudo)
        n_weights = rows * len(classes)
        weights = np.frombuffer(payload[: 2 * n_weights], dtype="<f2").astype(np.float32)
        bias = np.frombuffer(payload[2 * n_weights :], dtype="<f4").astype(np.float32)
        return cls(
            int(header["bits"]),
            classes,
            weights.reshape(rows, len(classes)),
            bias,
            pseudo,
            dict(header.get("meta", {})),
            float(header.get("pseudo_value", 1.0)),
            str(header.get("scale", "sqrt")),
        )

    def quantized(self) -> ContentModel:
        """The model as it is after a save and load (float16 weights)."""
        return ContentModel.from_bytes(self.to_bytes())

    def scores(self, grams: NGrams, extras: NDArray[np.bool_]) -> NDArray[np.float64]:
        """Linear scores (logits) per document and class; ``extras`` is (docs, len(pseudo)) booleans."""
        out = np.zeros((grams.n_docs, len(self.classes)), dtype=np.float64)
        if len(grams.index):
            for c in range(len(self.classes)):
                column = np.ascontiguousarray(self.weights[: self.n_hashed, c])
                out[:, c] = np.bincount(grams.doc, weights=column[grams.index], minlength=grams.n_docs)
            out *= self.norms(grams)[:, None]
        out += self.bias
        if extras.size:
            out += (extras.astype(np.float32) * self.pseudo_value) @ self.weights[self.n_hashed :]
        return out


def pseudo_matrix(
    grams: NGrams, facts: dict[str, NDArray[np.bool_]], names: Sequence[str] = PSEUDO_FEATURES
) -> NDArray[np.bool_]:
    """The (docs, ``names``) matrix from facts computed outside plus the featuriser's own.

    Sender facts count for Latin-script texts only: the only corpora that record real senders are
    English (ExAIS, SmishTank), so what a sender kind says about Chinese text was never learned.
    """
    own = {"obfuscated": grams.obfuscated, "script:han": grams.han}
    columns = []
    for name in names:
        column = own.get(name, facts.get(name))
        values = np.zeros(grams.n_docs, dtype=bool) if column is None else np.asarray(column, bool)
        if name.startswith("sender:"):
            values = values & ~grams.han
        columns.append(values)
    return np.stack(columns, axis=1) if columns else np.zeros((grams.n_docs, 0), dtype=bool)


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Per document: the internal class index, its probability and up to three explaining pieces."""

    best: NDArray[np.int64]
    probability: NDArray[np.float32]
    pieces: list[list[str]]


def predict(
    model: ContentModel,
    texts: Sequence[str],
    facts: dict[str, NDArray[np.bool_]],
    *,
    explain: int = 3,
    chunk: int = 2_000,
    forbid: dict[str, NDArray[np.bool_]] | None = None,
) -> Verdicts:
    """Score ``texts``; explain each verdict by the ``explain`` strongest pieces of evidence.

    ``facts`` holds one boolean per text for each structural feature computed outside (sender
    group, link, code, opt-out footer). ``forbid`` maps a class to the texts that must not get it
    (the winner is then the best other class). A piece is an n-gram quoted from the text as given
    (non-overlapping, none inside a signature or a run of 4+ digits) or a structural feature's
    name, ranked by how much it raised the winning class over the runner-up.

    ``chunk`` texts are hashed at a time (one chunk per thread): their n-grams take ~40 bytes
    each, so 2,000 texts keep a thread under ~50 MB, where 20,000 took ~300 MB and ran slower
    (measured on bench/make_archive.py bodies: 40,000 texts 4.0 s / +103 MB against 7.4 s / +616 MB).
    """

    def run(begin: int) -> tuple[NDArray[np.int64], NDArray[np.float32], list[list[str]]]:
        part = list(texts[begin : begin + chunk])
        grams = ngrams(part, model.bits)
        local = {name: np.asarray(v)[begin : begin + chunk] for name, v in facts.items()}
        extras = pseudo_matrix(grams, local, model.pseudo)
        scores = model.scores(grams, extras)
        for name, mask in (forbid or {}).items():
            scores[np.asarray(mask)[begin : begin + chunk], model.classes.index(name)] = -np.inf
        order = np.argsort(-scores, axis=1, kind="stable")
        best = order[:, 0].astype(np.int64)
        runner = order[:, 1] if scores.shape[1] > 1 else order[:, 0]
        with np.errstate(invalid="ignore"):
            shifted = np.nan_to_num(np.exp(scores - scores[np.arange(len(best)), best][:, None]))
        probability = (1.0 / shifted.sum(axis=1)).astype(np.float32)
        return best, probability, _explain(model, grams, extras, part, best, runner, explain)

    starts = list(range(0, max(len(texts), 1), chunk))
    workers = min(len(starts), os.cpu_count() or 1, _THREADS)
    if workers > 1:  # numpy releases the GIL: chunks run on both cores, in order
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(run, starts))
    else:
        results = [run(begin) for begin in starts]
    pieces = [words for _, _, part in results for words in part]
    return Verdicts(
        np.concatenate([r[0] for r in results]), np.concatenate([r[1] for r in results]), pieces[: len(texts)]
    )


def _explain(
    model: ContentModel,
    grams: NGrams,
    extras: NDArray[np.bool_],
    texts: Sequence[str],
    best: NDArray[np.int64],
    runner: NDArray[np.int64],
    k: int,
) -> list[list[str]]:
    """Up to ``k`` pieces per document, strongest first (see :func:`predict`)."""
    n_docs = grams.n_docs
    if k <= 0 or n_docs == 0:
        return [[] for _ in range(n_docs)]
    picked_doc: list[NDArray[np.int64]] = []
    picked_gain: list[NDArray[np.float64]] = []
    picked_from: list[NDArray[np.int64]] = []  # character offsets, or -1 - feature for a pseudo feature
    picked_to: list[NDArray[np.int64]] = []
    if len(grams.index):
        # candidates: 2- to 4-grams that raised the winner over the runner-up and may be quoted
        rows = np.flatnonzero(grams.length > 0)
        d = grams.doc[rows].astype(np.int64)
        flat = model.weights[: model.n_hashed].ravel()
        width = len(model.classes)
        base = grams.index[rows].astype(np.int64) * width
        gain = flat[base + best[d]] - flat[base + runner[d]]
        # only pieces within a factor of the text's strongest can be among its top k
        strongest = np.zeros(n_docs, dtype=np.float32)
        np.maximum.at(strongest, d, gain)
        keep = (gain > 0) & (gain >= _EXPLAIN_FLOOR * strongest[d])
        rows, d, gain = rows[keep], d[keep], gain[keep]
        keep = grams.quotable(rows) & grams.wordy(rows)
        rows, d, gain = rows[keep], d[keep], gain[keep] * model.norms(grams)[d[keep]]
        first = grams.at[rows].astype(np.int64)
        last = first + grams.length[rows]
        index = grams.index[rows]
        live = np.arange(len(rows))
        for _ in range(k):
            if not len(live):
                break
            dl = d[live]
            top = np.full(n_docs, -np.inf, dtype=np.float32)
            np.maximum.at(top, dl, gain[live])
            hit = live[gain[live] == top[dl]]
            docs_hit, at_first = np.unique(d[hit], return_index=True)
            pick = hit[at_first]
            picked_doc.append(docs_hit)
            picked_gain.append(gain[pick].astype(np.float64))
            # a piece inside a Latin word is quoted as the whole word ("ub" → "subscription")
            picked_from.append(grams.pos[grams.word_first[first[pick]]].astype(np.int64))
            picked_to.append(grams.pos[grams.word_last[last[pick]]].astype(np.int64) + 1)
            sel_first = np.full(n_docs, -1, dtype=np.int64)
            sel_last = np.full(n_docs, -2, dtype=np.int64)
            sel_index = np.full(n_docs, -1, dtype=np.int64)
            sel_first[docs_hit], sel_last[docs_hit], sel_index[docs_hit] = (
                first[pick],
                last[pick],
                index[pick],
            )
            clash = (first[live] <= sel_last[dl]) & (last[live] >= sel_first[dl])
            clash |= index[live] == sel_index[dl]
            live = live[~clash]
    if extras.size:
        pw = model.weights[model.n_hashed :]
        # the script is a prior, not a reason: "[Chinese text]" would explain every Chinese message
        shown = np.array([not name.startswith("script:") for name in model.pseudo], dtype=bool)
        pgain = (extras & shown) * model.pseudo_value * (pw[:, best].T - pw[:, runner].T)
        docs_p, feature = np.nonzero(pgain > 0)
        picked_doc.append(docs_p.astype(np.int64))
        picked_gain.append(pgain[docs_p, feature].astype(np.float64))
        picked_from.append(-1 - feature.astype(np.int64))
        picked_to.append(np.zeros(len(feature), dtype=np.int64))
    out: list[list[str]] = [[] for _ in range(n_docs)]
    if not picked_doc:
        return out
    doc = np.concatenate(picked_doc)
    order = np.lexsort((-np.concatenate(picked_gain), doc))
    names = [PSEUDO_NAMES.get(name, f"[{name}]") for name in model.pseudo]
    frm = np.concatenate(picked_from)[order].tolist()
    to = np.concatenate(picked_to)[order].tolist()
    for j, a, b in zip(doc[order].tolist(), frm, to, strict=True):
        words = out[j]
        if len(words) < k:
            word = names[-1 - a] if a < 0 else (texts[j][a:b].strip() or texts[j][a:b])
            if word not in words:
                words.append(word)
    return out


# --- the packaged model ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def packaged_model() -> ContentModel | None:
    data = packaged_model_bytes()
    return ContentModel.from_bytes(data) if data is not None else None
