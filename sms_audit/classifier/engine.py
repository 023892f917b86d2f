"""Vectorized classification of the message frame: labels, reasons, flags, sender kinds and brands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from sms_audit.classifier.brands import BRAND_GROUPS, BRAND_PATTERN, clean_brand, dlt_brand, resolve_key
from sms_audit.classifier.rules import KEYWORD_GROUP, Rule, RuleSet, load_rules
from sms_audit.normalize import BUSINESS_KINDS, PERSONAL_KINDS, SenderKind, infer_region, normalize_address
from sms_audit.schema import CLASSIFY_COLUMNS, LABELS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

_OTHER = LABELS.index("other")
_REPLY = LABELS.index("unsubscribe-reply")
_MARKETING = LABELS.index("marketing")
_MAX_MATCH_CHARS = 60
_ZERO_BLOCK = 1 << 17  # bytes per block in _zero_digits
# Outgoing text is compared with a requested keyword after trimming this punctuation ("Q!" == "Q").
_ECHO_TRIM = " \t!！.。,，~～?？"


@dataclass(frozen=True, slots=True)
class _Group:
    """Rules sharing label, priority and sender conditions, matched as one combined regex."""

    label: int  # index into LABELS, or -1 for flag-only groups
    flag: str | None
    priority: int
    senders: tuple[str, ...]
    not_senders: tuple[str, ...]
    context: str | None
    promotional: bool
    rules: tuple[Rule, ...]
    pattern: str  # any-rule pattern, for contains
    named: str  # one named group per rule, for extract (which rule, what text)
    keywords: str  # for optout-instruction groups: one keyword group per rule
    digit_blind: bool  # flag groups: keywords read on digit-zeroed text are exact unless they hold "0"


@dataclass(frozen=True, slots=True)
class _Compiled:
    label_groups: dict[str, tuple[_Group, ...]]  # direction -> groups, highest priority first
    flag_groups: dict[str, dict[str, tuple[_Group, ...]]]  # direction -> flag -> groups
    promotional: dict[str, str]  # direction -> union of promotional patterns


def default_rules() -> RuleSet:
    """The packaged rules only (no user directory)."""
    return _packaged_rules()


@lru_cache(maxsize=1)
def _packaged_rules() -> RuleSet:
    return load_rules(None)


def classify_frame(
    frame: pd.DataFrame, *, region: str | None = None, rules: RuleSet | None = None
) -> pd.DataFrame:
    """Return a copy of ``frame`` with :data:`CLASSIFY_COLUMNS` added (order and index kept).

    Needs ``direction`` ("in"/"out"; anything else is never an unsubscribe), ``body`` and
    ``address`` (normalised key or raw sender text); uses ``sender_kind`` when filled, else derives
    it per unique address with ``region`` (inferred from the frame's international numbers when
    None). ``timestamp``, when present and parseable, orders the context rules (a reply echoing the
    keyword an earlier message asked for; a keyword sent to a long code that has sent marketing).
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    rules = rules or default_rules()
    compiled = _compile(rules)
    n = len(frame)
    result = frame.copy()
    body = _arrow_text(frame.get("body", None), n)
    senders = _Senders.build(frame, n, region)
    order = _order(frame, n)

    label = np.full(n, _OTHER, dtype=np.int8)
    pieces = _Pieces(n)
    keyword = _Pieces(n)
    trap = _Pieces(n)
    promotional = np.zeros(n, dtype=bool)
    resubscribe = np.zeros(n, dtype=bool)

    in_idx, out_idx = _directions(_arrow_text(frame.get("direction", None), n))

    # --- incoming -----------------------------------------------------------------------------
    all_view = _Distinct.build(body)
    in_view = _Distinct(all_view.codes[in_idx], all_view.values)
    in_body = _LazyTake(body, in_idx)
    promo_hit = _run_groups(
        compiled.label_groups["in"], in_view, in_idx, senders, context=None, label=label, pieces=pieces
    )
    kw_rows, kw_values, kw_local = _keywords(
        compiled.flag_groups["in"].get("optout-instruction", ()), in_view, in_body, in_idx, senders
    )
    keyword.add(kw_rows, kw_values, kw_local)
    has_kw = np.zeros(n, dtype=bool)
    has_kw[kw_rows] = True
    _traps(compiled.flag_groups["in"].get("trap", ()), in_view, in_idx, senders, has_kw, trap)
    promotional[in_idx[promo_hit]] = True
    if compiled.promotional["in"] and len(in_idx):
        todo_u = np.zeros(in_view.size, dtype=bool)
        todo_u[in_view.codes[~promo_hit]] = True
        promo_u = in_view.match(compiled.promotional["in"], todo_u)
        promotional[in_idx[promo_u[in_view.codes]]] = True

    # --- outgoing -----------------------------------------------------------------------------
    if len(out_idx):
        out_body = body.take(pa.array(out_idx))
        out_view = _Distinct.build(out_body, zero_digits=False)  # "1" and "0" differ in replies
        marketing_sender = _marketing_sender(
            senders.key, order, in_idx, out_idx, (label == _MARKETING) | has_kw
        )
        echo, echo_words = _keyword_echo(senders.key, order, out_idx, out_view, kw_rows, kw_values, kw_local)
        decided = echo >= 0
        if decided.any():
            hits = out_idx[decided]
            label[hits] = _REPLY
            pieces.add(
                hits, pc.binary_join_element_wise("context.keyword-echo", echo_words, ": "), echo[decided]
            )
        _run_groups(
            compiled.label_groups["out"],
            out_view,
            out_idx,
            senders,
            context=marketing_sender,
            label=label,
            pieces=pieces,
            skip=decided,
        )
        for group in compiled.flag_groups["out"].get("resubscribe", ()):
            hit_u = out_view.match(group.pattern)
            rows = hit_u[out_view.codes] & senders.eligible(group, out_idx, marketing_sender)
            resubscribe[out_idx[rows]] = True

    # --- brands ---------------------------------------------------------------------------------
    brand_key, brand_display = _brands(in_view, in_body, in_idx, out_idx, senders, order, rules)

    unmatched = np.flatnonzero(~pieces.mask())
    in_or_out = np.zeros(n, dtype=bool)
    in_or_out[in_idx] = True
    in_or_out[out_idx] = True
    pieces.rows.insert(0, unmatched)
    pieces.values.insert(
        0, pa.array(["default: not an incoming or outgoing message", "default: no rule matched"], pa.string())
    )
    pieces.local.insert(0, in_or_out[unmatched].astype(np.int64))
    reason = pieces.dense()
    columns = {
        "label": pa.array(LABELS, pa.large_string()).take(pa.array(label)),
        "reason": reason,
        "sender_kind": senders.row_kinds(),
        "brand": brand_key,
        "brand_display": brand_display,
        "optout_keyword": keyword.dense(),
        "is_resubscribe": resubscribe,
        "is_trap": trap.mask(),
        "trap_reason": trap.dense(),
        "is_promotional": promotional,
    }
    for name in CLASSIFY_COLUMNS:
        values = columns[name]
        if isinstance(values, np.ndarray):
            result[name] = pd.Series(values, index=frame.index, dtype=bool)
        else:
            result[name] = pd.Series(pd.array(values, dtype="str"), index=frame.index)
    return result


# --- matching helpers -----------------------------------------------------------------------------


def _arrow_text(series: pd.Series | None, n: int) -> pa.Array:
    """A column as a non-null pyarrow string array ("" for missing).

    A pyarrow-backed column is used as it is (no copy), so 1M bodies cost nothing to hand over.
    """
    import pandas as pd
    import pyarrow as pa

    if series is None:
        return pa.array([""] * n, pa.string())
    dtype = series.dtype
    arrow_backed = (
        isinstance(dtype, pd.StringDtype)
        and dtype.storage == "pyarrow"
        or isinstance(dtype, pd.ArrowDtype)
        and (pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype))
    )
    if not arrow_backed:
        series = series.astype(pd.StringDtype("pyarrow"))
    arr = series.array.__arrow_array__()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    return arr.fill_null("") if arr.null_count else arr


def _directions(direction: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose direction reads "in" and "out" (trimmed, any case), normalised per distinct value."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(direction)
    values = pc.utf8_lower(pc.utf8_trim_whitespace(encoded.dictionary))
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    return tuple(
        np.flatnonzero(pc.equal(values, word).to_numpy(zero_copy_only=False)[codes]) for word in ("in", "out")
    )  # type: ignore[return-value]


def _match(values: pa.Array, pattern: str) -> np.ndarray:
    import pyarrow.compute as pc

    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    return pc.match_substring_regex(values, pattern, ignore_case=True).to_numpy(zero_copy_only=False)


def _first_named(values: pa.Array, pattern: str, names: Sequence[str]) -> tuple[pa.Array, pa.Array]:
    """For each value, the index of the first non-empty named group and its text (RE2 extract)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    struct = pc.extract_regex(values, "(?i)" + pattern)
    which = pa.nulls(len(values), pa.int32())
    text = pa.nulls(len(values), pa.string())
    for i, name in enumerate(names):
        field = struct.field(name)
        take = pc.and_kleene(pc.is_null(which), pc.not_equal(field, ""))
        which = pc.if_else(take, pa.scalar(i, pa.int32()), which)
        text = pc.if_else(take, field.cast(pa.string()), text)
    return which.fill_null(-1), text.fill_null("")


class _Pieces:
    """Per-row strings assembled from many sparse pieces with one final take (no per-row Python)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: list[np.ndarray] = []
        self.values: list[pa.Array] = []
        self.local: list[np.ndarray] = []

    def add(self, rows: np.ndarray, values: pa.Array, local: np.ndarray | None = None) -> None:
        """Row ``rows[i]`` gets ``values[local[i]]`` (``values[i]`` when ``local`` is None)."""
        if len(rows):
            self.rows.append(np.asarray(rows, dtype=np.int64))
            self.values.append(values)
            self.local.append(np.arange(len(rows)) if local is None else np.asarray(local, np.int64))

    def mask(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for rows in self.rows:
            out[rows] = True
        return out

    def dense(self, default: str = "") -> pa.Array:
        """One large_string per row (the storage of pandas' "str" columns, so no later copy)."""
        import pyarrow as pa

        index = np.full(self.n, -1, dtype=np.int64)
        offset = 0
        for rows, values, local in zip(self.rows, self.values, self.local, strict=True):
            index[rows] = local + offset  # later pieces win, as in a dict update
            offset += len(values)
        parts = [v.cast(pa.large_string()) for v in self.values]
        parts.append(pa.array([default], pa.large_string()))
        index[index < 0] = offset
        return pa.concat_arrays(parts).take(pa.array(index))


class _Distinct:
    """Distinct message texts with digits mapped to 0, so templated messages are matched once.

    Rules see the normalised text ("验证码123456" and "验证码654321" are one string); [0-9] classes
    and digit counts behave as on the original, and reasons never repeat a code or card number
    (runs of 4+ digits read as 0000...). Deduplication is skipped when a sample shows
    mostly unique texts, where hashing would cost more than it saves.
    """

    def __init__(self, codes: np.ndarray, values: pa.Array) -> None:
        self.codes = codes  # row -> distinct text
        self.values = values
        self.size = len(values)

    @classmethod
    def build(cls, body: pa.Array, *, zero_digits: bool = True) -> _Distinct:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = len(body)
        if n >= 20_000:
            step = max(1, n // 20_000)
            sample = body.take(pa.array(np.arange(0, n, step)))
            if zero_digits:
                sample = _zero_digits(sample)
            if len(pc.unique(sample)) > 0.8 * len(sample):
                return cls(np.arange(n), _zero_digits(body) if zero_digits else body)
        zeroed = _zero_digits(body) if zero_digits else body
        encoded = pc.dictionary_encode(zeroed)
        return cls(encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary)

    def used(self) -> np.ndarray:
        """Distinct texts that some row of this view refers to."""
        mask = np.zeros(self.size, dtype=bool)
        mask[self.codes] = True
        return mask

    def match(self, pattern: str, subset: np.ndarray | None = None) -> np.ndarray:
        """Bool per distinct text: does ``pattern`` match (only ``subset`` is searched)."""
        import pyarrow as pa

        if subset is None:
            return _match(self.values, pattern)
        out = np.zeros(self.size, dtype=bool)
        pos = np.flatnonzero(subset)
        if len(pos):
            out[pos] = _match(self.values.take(pa.array(pos)), pattern)
        return out


class _LazyTake:
    """Rows ``idx`` of ``values``, copied only for the few rows that are asked for."""

    def __init__(self, values: pa.Array, idx: np.ndarray) -> None:
        self.values = values
        self.idx = idx

    def take(self, positions: pa.Array) -> pa.Array:
        import pyarrow as pa

        return self.values.take(pa.array(self.idx[np.asarray(positions)]))


def _zero_digits(values: pa.Array) -> pa.Array:
    """Map the digits of runs of 4+ ASCII digits to "0" on the UTF-8 data buffer.

    Codes, card and phone numbers collapse so templated texts dedupe; short numbers ("回复1确认",
    "满199减50") stay as written, so reasons quote them truthfully. Digits never occur inside
    multi-byte UTF-8 characters, and a run never continues across two strings. The buffer is
    scanned in cache-sized blocks with reused scratch arrays: whole-buffer temporaries cost more
    in page faults than in arithmetic.
    """
    import pyarrow as pa

    if len(values) == 0:
        return values
    validity, offsets, data = values.buffers()
    if data is None:
        return values
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    bounds = np.frombuffer(offsets, dtype=width)[values.offset : values.offset + len(values) + 1]
    raw = np.frombuffer(data, dtype=np.uint8)
    mapped = raw.copy()
    first, last = int(bounds[0]), int(bounds[-1])
    block = _ZERO_BLOCK
    scratch = np.empty(block + 6, dtype=np.uint8)
    digit = np.empty(block + 6, dtype=bool)
    window = np.empty(block + 3, dtype=bool)
    run = np.empty(block + 6, dtype=bool)
    for start in range(first, last, block):
        # [lo, hi) adds 3 bytes either side, so runs that straddle two blocks are seen whole
        lo, hi = max(first, start - 3), min(last, start + block + 3)
        size = hi - lo
        if size < 4:
            continue
        d, w, r = digit[:size], window[: size - 3], run[:size]
        np.less(np.subtract(raw[lo:hi], 0x30, out=scratch[:size]), 10, out=d)
        # w[i]: bytes i..i+3 are all digits and no string starts at i+1..i+3
        np.logical_and(d[:-3], d[1:-2], out=w)
        w &= d[2:-1]
        w &= d[3:]
        if not w.any():
            continue
        cut = bounds[np.searchsorted(bounds, lo + 1) : np.searchsorted(bounds, hi)] - lo
        for back in (1, 2, 3):
            hit = cut - back
            w[hit[(hit >= 0) & (hit < len(w))]] = False
        r[:] = False
        r[:-3] |= w
        r[1:-2] |= w
        r[2:-1] |= w
        r[3:] |= w
        core = slice(start - lo, min(start + block, last) - lo)
        np.copyto(mapped[start : start + (core.stop - core.start)], 0x30, where=r[core])
    return pa.Array.from_buffers(
        values.type, len(values), [validity, offsets, pa.py_buffer(mapped)], offset=values.offset
    )


def _run_groups(
    groups: Sequence[_Group],
    view: _Distinct,
    idx: np.ndarray,
    senders: _Senders,
    *,
    context: np.ndarray | None,
    label: np.ndarray,
    pieces: _Pieces,
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """Give each row the label of the highest-priority group that matches it and its sender.

    Returns which rows got a promotional label. Decided per distinct text where possible: a text
    matched by a group without sender conditions is decided there and not searched by lower
    groups; only rows whose text a sender- or context-conditional group matched first are
    checked one by one. Each row costs a few integer gathers, not a pass per group.
    """
    import pyarrow as pa

    undecided = np.ones(len(idx), dtype=bool) if skip is None else ~skip
    alive_u = np.zeros(view.size, dtype=bool)
    alive_u[view.codes[undecided]] = True
    unset = len(groups)
    small = np.int16 if unset < 32_000 else np.int64  # group numbers: cheap row-wide gathers
    winner_u = np.full(view.size, unset, dtype=small)  # first unconditional group per text
    conditional: list[tuple[int, np.ndarray]] = []
    for gi, group in enumerate(groups):
        if not alive_u.any():
            break
        hit_u = view.match(group.pattern, alive_u)
        if not hit_u.any():
            continue
        if group.senders or group.not_senders or group.context:
            conditional.append((gi, hit_u))
        else:
            winner_u[hit_u] = gi
            alive_u &= ~hit_u
    # row -> group number; -1 for skipped rows, `unset` for no match
    row_group = winner_u[view.codes]
    if skip is not None:
        row_group[skip] = -1
    # a conditional group can only take rows whose text it matched above the text's winner
    ahead = [(gi, hit_u & (winner_u > gi)) for gi, hit_u in conditional]
    ahead = [(gi, ahead_u) for gi, ahead_u in ahead if ahead_u.any()]
    overridden: list[tuple[int, np.ndarray]] = []
    if ahead:
        maybe = np.flatnonzero(np.logical_or.reduce([a for _, a in ahead])[view.codes])
        for gi, ahead_u in ahead:
            cand = maybe[ahead_u[view.codes[maybe]] & (row_group[maybe] > gi)]
            rows = cand[senders.eligible(groups[gi], idx[cand], context)]
            row_group[rows] = gi
            overridden.append((gi, rows))
    hit = (row_group >= 0) & (row_group < unset)
    # reasons per distinct text for the unconditional winners, per (group, text) for the others
    by_text = hit.copy()
    for gi, rows in overridden:
        by_text[rows] = False
        won_u, local = np.unique(view.codes[rows], return_inverse=True)
        pieces.add(idx[rows], _reasons(groups[gi], view.values.take(pa.array(won_u))), local)
    decided = np.flatnonzero(by_text)
    if len(decided):
        codes = view.codes[decided]
        reason_at = np.full(view.size, -1, dtype=np.int64)
        parts: list[pa.Array] = []
        offset = 0
        won_u = np.zeros(view.size, dtype=bool)
        won_u[codes] = True
        for gi in np.unique(winner_u[won_u]):
            texts = np.flatnonzero(won_u & (winner_u == gi))
            parts.append(_reasons(groups[gi], view.values.take(pa.array(texts))))
            reason_at[texts] = offset + np.arange(len(texts))
            offset += len(texts)
        pieces.add(idx[decided], pa.concat_arrays(parts), reason_at[codes])
    labels = np.array([g.label for g in groups] + [-1], dtype=np.int8)
    promotional = np.array([g.promotional for g in groups] + [False])
    label[idx[hit]] = labels[row_group[hit]]
    return promotional[row_group]  # -1 and `unset` both read the trailing False


def _reasons(group: _Group, texts: pa.Array) -> pa.Array:
    """ "rule-id: matched text" for texts the group matched: the first rule whose part matched."""
    import pyarrow as pa
    import pyarrow.compute as pc

    which, text = _first_named(texts, group.named, [f"r{i}" for i in range(len(group.rules))])
    ids = pc.take(
        pa.array([r.id for r in group.rules] + [group.rules[0].id]),
        pc.if_else(pc.less(which, 0), len(group.rules), which),
    )
    return pc.binary_join_element_wise(ids, pc.utf8_slice_codeunits(text, 0, _MAX_MATCH_CHARS), ": ")


def _keywords(
    groups: Sequence[_Group], view: _Distinct, body: _LazyTake, idx: np.ndarray, senders: _Senders
) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """Rows (frame positions) that ask for an opt-out reply, keywords, and which keyword each asks for.

    Found and read on the distinct texts; read again from the original text only where digit
    zeroing could have changed the keyword (it contains "0", or the rule tells digits apart).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    rows_out: list[np.ndarray] = []
    values: list[pa.Array] = []
    locals_out: list[np.ndarray] = []
    offset = 0
    todo = np.ones(len(idx), dtype=bool)
    used = view.used()
    for group in groups:
        hit_u = view.match(group.pattern, used)
        rows = todo & hit_u[view.codes] & senders.eligible(group, idx, None)
        pos = np.flatnonzero(rows)
        if not len(pos):
            continue
        names = [f"k{i}" for i in range(len(group.rules))]
        won_u, local = np.unique(view.codes[pos], return_inverse=True)
        _, text_u = _first_named(view.values.take(pa.array(won_u)), group.keywords, names)
        if group.digit_blind:
            exact_u = np.logical_not(pc.match_substring(text_u, "0").to_numpy(zero_copy_only=False))
        else:
            exact_u = np.zeros(len(won_u), dtype=bool)
        redo = np.flatnonzero(~exact_u[local])
        if len(redo):
            _, text_redo = _first_named(body.take(pa.array(pos[redo])), group.keywords, names)
            local[redo] = len(won_u) + np.arange(len(redo))
            text_u = pa.concat_arrays([text_u, text_redo])
        found = pc.not_equal(text_u, "").to_numpy(zero_copy_only=False)[local]
        if found.any():
            rows_out.append(idx[pos[found]])
            values.append(pc.utf8_upper(pc.utf8_trim_whitespace(text_u)))
            locals_out.append(local[found] + offset)
            offset += len(text_u)
            todo[pos[found]] = False
    if not rows_out:
        return np.zeros(0, dtype=np.int64), pa.array([], pa.string()), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows_out), pa.concat_arrays(values), np.concatenate(locals_out)


def _traps(
    groups: Sequence[_Group],
    view: _Distinct,
    idx: np.ndarray,
    senders: _Senders,
    has_kw: np.ndarray,
    trap: _Pieces,
) -> None:
    """Trap-shaped prompts: trap rules, and any opt-out prompt from a personal-looking number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    personal = senders.tag("personal")[senders.codes[idx]] & has_kw[idx]
    if personal.any():
        rows = idx[personal]
        kinds = pc.take(pa.array(senders.kinds_u, pa.string()), pa.array(senders.codes[rows]))
        trap.add(rows, pc.binary_join_element_wise("sender.personal-number-optout-prompt", kinds, ": "))
    used = view.used() if groups else None
    for group in groups:
        hit_u = view.match(group.pattern, used)
        rows = hit_u[view.codes] & senders.eligible(group, idx, None)
        if not rows.any():
            continue
        won_u, local = np.unique(view.codes[rows], return_inverse=True)
        trap.add(idx[rows], _reasons(group, view.values.take(pa.array(won_u))), local)


# --- senders --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Senders:
    """Per-unique-address facts (key, kind, tags), expanded to rows through integer codes."""

    codes: np.ndarray  # row -> unique raw address
    keys_u: list[str]
    kinds_u: list[str]
    key: np.ndarray  # row -> code of the normalised key (groups a sender's rows)
    tags: dict[str, np.ndarray]  # tag -> bool per unique address
    row_kind_given: pa.Array | None
    raw_u: list[str]

    @classmethod
    def build(cls, frame: pd.DataFrame, n: int, region: str | None) -> _Senders:
        """Normalise each distinct address once; row facts are integer codes into them."""
        import pandas as pd
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(_arrow_text(frame.get("address", None), n))  # first-seen order
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        raw_u = encoded.dictionary.to_pylist()
        if len(raw_u) == 0:
            raw_u = [""]
            codes = np.zeros(n, dtype=np.int64)
        given_u = [""] * len(raw_u)
        if "sender_kind" in frame:
            given = _arrow_text(frame["sender_kind"], n)
            rows = np.flatnonzero(pc.not_equal(given, "").to_numpy(zero_copy_only=False))
            if len(rows):
                first = np.full(len(raw_u), n, dtype=np.int64)  # first row with a kind, per address
                np.minimum.at(first, codes[rows], rows)
                known = np.flatnonzero(first < n)
                for code, kind in zip(known, given.take(first[known]).to_pylist(), strict=True):
                    given_u[code] = kind
        if region is None:
            region = infer_region(raw_u)
        keys_u: list[str] = []
        kinds_u: list[str] = []
        for value, given_kind in zip(raw_u, given_u, strict=True):
            address = normalize_address(value, region)
            keys_u.append(address.key)
            kinds_u.append(given_kind or address.kind.value)
        tags = _tags(raw_u, keys_u, kinds_u)
        key_codes_u, _ = pd.factorize(pd.Series(keys_u, dtype=object))
        key = np.asarray(key_codes_u, dtype=np.int64)[codes]
        return cls(codes, keys_u, kinds_u, key, tags, None, raw_u)

    def tag(self, name: str) -> np.ndarray:
        return self.tags.get(name, np.zeros(len(self.kinds_u), dtype=bool))

    def eligible(self, group: _Group, idx: np.ndarray, context: np.ndarray | None) -> np.ndarray:
        """Rows of ``idx`` whose sender satisfies the group's sender/context conditions."""
        if group.senders:
            ok_u = np.zeros(len(self.kinds_u), dtype=bool)
            for name in group.senders:
                ok_u |= self.tag(name)
        else:
            ok_u = np.ones(len(self.kinds_u), dtype=bool)
        for name in group.not_senders:
            ok_u &= ~self.tag(name)
        ok = ok_u[self.codes[idx]]
        if group.context == "marketing-sender" and context is not None:
            not_excluded = np.ones(len(self.kinds_u), dtype=bool)
            for name in group.not_senders:
                not_excluded &= ~self.tag(name)
            ok |= context[idx] & not_excluded[self.codes[idx]]
        return ok

    def row_kinds(self) -> pa.Array:
        import pyarrow as pa

        return pa.array(self.kinds_u, pa.large_string()).take(pa.array(self.codes))


def _tags(raw_u: list[str], keys_u: list[str], kinds_u: list[str]) -> dict[str, np.ndarray]:
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
            elif suffix in ("s", "t", "g"):
                mark("dlt-service", i)
    return tags


# --- context --------------------------------------------------------------------------------------


def _order(frame: pd.DataFrame, n: int) -> np.ndarray:
    """Rank of each row in time (timestamp, then input position); input position without timestamps."""
    import pandas as pd

    position = np.arange(n)
    if "timestamp" not in frame or n == 0:
        return position
    stamps = frame["timestamp"]
    if not isinstance(stamps.dtype, pd.DatetimeTZDtype) and stamps.dtype.kind != "M":
        text = stamps.astype(pd.StringDtype("pyarrow")).fillna("")
        if (text == "").all():
            return position
        stamps = pd.to_datetime(text, utc=True, errors="coerce", format="mixed")
    if stamps.isna().any():
        return position
    values = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    ranks = np.empty(n, dtype=np.int64)
    ranks[np.lexsort((position, values))] = position
    return ranks


def _marketing_sender(
    key: np.ndarray, order: np.ndarray, in_idx: np.ndarray, out_idx: np.ndarray, marketing: np.ndarray
) -> np.ndarray:
    """Rows whose address has sent marketing (or an opt-out prompt) before them."""
    result = np.zeros(len(order), dtype=bool)
    src = in_idx[marketing[in_idx]]
    if not len(src) or not len(out_idx):
        return result
    first = np.full(int(key.max()) + 1, len(order), dtype=np.int64)  # earliest rank per address
    np.minimum.at(first, key[src], order[src])
    result[out_idx] = first[key[out_idx]] < order[out_idx]
    return result


def _keyword_echo(
    key: np.ndarray,
    order: np.ndarray,
    out_idx: np.ndarray,
    out_view: _Distinct,
    kw_rows: np.ndarray,
    kw_values: pa.Array,
    kw_local: np.ndarray,
) -> tuple[np.ndarray, pa.Array]:
    """For each outgoing row, the keyword it repeats from an earlier prompt of the same address.

    Returns an index into the returned keywords per outgoing row (-1: none). Keywords and reply
    texts are compared as integer codes into one keyword list, so rows are never strings.
    """
    import pandas as pd
    import pyarrow.compute as pc

    echo = np.full(len(out_idx), -1, dtype=np.int64)
    words = pc.unique(kw_values)
    if not len(kw_rows) or not len(out_idx):
        return echo, words
    real = pc.not_equal(words, "").to_numpy(zero_copy_only=False)
    prompt_code = pc.index_in(kw_values, value_set=words).to_numpy(zero_copy_only=False)[kw_local]
    has = real[prompt_code]
    prompt_rows, prompt_code = kw_rows[has], prompt_code[has]
    # distinct reply texts, trimmed and upper-cased like the keywords; short ones only
    text_u = pc.utf8_upper(pc.utf8_trim(out_view.values, _ECHO_TRIM))
    reply_u = pc.index_in(text_u, value_set=words).fill_null(-1).to_numpy(zero_copy_only=False)
    short_u = pc.less_equal(pc.utf8_length(text_u), 12).to_numpy(zero_copy_only=False)
    reply_u = np.where(short_u & real[reply_u] & (reply_u >= 0), reply_u, -1)
    reply = reply_u[out_view.codes]
    pos = np.flatnonzero(reply >= 0)
    if not len(pos) or not len(prompt_rows):
        return echo, words
    width = len(words)
    first = pd.Series(order[prompt_rows]).groupby(key[prompt_rows] * width + prompt_code).min()
    at = first.reindex(key[out_idx[pos]] * width + reply[pos]).to_numpy()
    ok = ~np.isnan(at) & (at < order[out_idx[pos]])
    echo[pos[ok]] = reply[pos[ok]]
    return echo, words


# --- brands ---------------------------------------------------------------------------------------


def _brand_tagged(values: pa.Array) -> pa.Array:
    """Per value "group\x1fcaptured text" of the first brand alternative that matched, else ""."""
    import pyarrow as pa
    import pyarrow.compute as pc

    struct = pc.extract_regex(values, BRAND_PATTERN)
    tagged = pa.nulls(len(values), pa.string())
    for name in BRAND_GROUPS:
        field = struct.field(name).cast(pa.string())
        take = pc.and_kleene(pc.is_null(tagged), pc.not_equal(field, ""))
        tagged = pc.if_else(take, pc.binary_join_element_wise(name, field, "\x1f"), tagged)
    return tagged.fill_null("")


def _brands(
    view: _Distinct,
    body: _LazyTake,
    in_idx: np.ndarray,
    out_idx: np.ndarray,
    senders: _Senders,
    order: np.ndarray,
    rules: RuleSet,
) -> tuple[pa.Array, pa.Array]:
    """Brand key and display per row: DLT header, 【signature】, `Brand:`, "opt out of Brand", sender ID."""
    import pandas as pd
    import pyarrow as pa

    names: list[str] = []
    keys: list[str] = []
    lookup: dict[str, int] = {}

    def intern(text: str) -> int:
        if text not in lookup:
            lookup[text] = len(names)
            names.append(text)
            keys.append(resolve_key(text, rules.brand_aliases))
        return lookup[text]

    def extract(values: pa.Array) -> np.ndarray:
        tagged = _brand_tagged(values)
        codes, uniques = pd.factorize(pd.Series(pd.array(tagged, dtype="str")))
        mapped = np.full(len(uniques) + 1, -1, dtype=np.int32)
        for i, value in enumerate(uniques):
            group, _, text = str(value).partition("\x1f")
            clean = clean_brand(text, group) if text else ""
            if clean:
                mapped[i] = intern(clean)
        return mapped[np.where(codes < 0, len(uniques), codes)]

    # Sender-level brands: a DLT header always wins; an alphanumeric sender ID is the fallback.
    # Per distinct address and text first, then one gather per row (int32: brands are few).
    dlt_u = np.full(len(senders.raw_u), -1, dtype=np.int32)
    alpha_u = np.full(len(senders.raw_u), -1, dtype=np.int32)
    for i, (raw, kind) in enumerate(zip(senders.raw_u, senders.kinds_u, strict=True)):
        if kind != SenderKind.ALPHANUMERIC.value:
            continue
        header, _ = dlt_brand(raw)
        if header:
            dlt_u[i] = intern(header)
        elif 2 <= len(raw.strip()) <= 24:
            alpha_u[i] = intern(" ".join(raw.split()))
    display = dlt_u[senders.codes]  # index into `names`, -1 for none
    if len(in_idx):
        used = np.flatnonzero(view.used())
        per_used = np.full(view.size, -1, dtype=np.int32)
        per_used[used] = extract(view.values.take(pa.array(used)))
        rows = per_used[view.codes]
        # Digits were zeroed for matching: re-read brands such as "91社区" from the original text.
        zeroed = np.array(["0" in name for name in names] + [False])
        again = np.flatnonzero(zeroed[rows])  # -1 reads the trailing False
        if len(again):
            rows[again] = extract(body.take(pa.array(again)))
        rows = np.where(rows >= 0, rows, alpha_u[senders.codes[in_idx]])
        display[in_idx] = np.where(display[in_idx] >= 0, display[in_idx], rows)
    # Outgoing rows (a STOP reply) take the brand of the address's latest branded incoming message.
    if len(out_idx):
        out_display = display[out_idx]
        need = np.flatnonzero(out_display < 0)
        branded = in_idx[display[in_idx] >= 0]
        if len(need) and len(branded):
            latest = np.full(int(senders.key.max()) + 1, -1, dtype=np.int64)  # order of latest, per key
            np.maximum.at(latest, senders.key[branded], order[branded])
            at_order = np.full(len(order), -1, dtype=np.int32)  # brand by rank in time
            at_order[order[branded]] = display[branded]
            found = latest[senders.key[out_idx[need]]]
            fill = found >= 0
            out_display[need[fill]] = at_order[found[fill]]
        out_display = np.where(out_display >= 0, out_display, alpha_u[senders.codes[out_idx]])
        display[out_idx] = out_display
    names_pa = pa.array(names + [""], pa.large_string())
    keys_pa = pa.array(keys + [""], pa.large_string())
    index = pa.array(np.where(display < 0, len(names), display))
    return keys_pa.take(index), names_pa.take(index)


# --- rule compilation -----------------------------------------------------------------------------


def _compile(rules: RuleSet) -> _Compiled:
    return _compile_cached(rules.enabled())


@lru_cache(maxsize=16)
def _compile_cached(rules: tuple[Rule, ...]) -> _Compiled:
    label_groups: dict[str, tuple[_Group, ...]] = {}
    flag_groups: dict[str, dict[str, tuple[_Group, ...]]] = {}
    promotional: dict[str, str] = {}
    for direction in ("in", "out"):
        applicable = [r for r in rules if r.applies_to(direction)]
        labelled = [r for r in applicable if r.label is not None]
        label_groups[direction] = _groups(labelled, by_label=True)
        flags: dict[str, tuple[_Group, ...]] = {}
        for flag in {r.flag for r in applicable if r.flag}:
            flags[flag] = _groups([r for r in applicable if r.flag == flag], by_label=False)
        flag_groups[direction] = flags
        promotional[direction] = _union(_plain(r.pattern) for r in labelled if r.promotional)
    return _Compiled(label_groups, flag_groups, promotional)


def _groups(rules: list[Rule], *, by_label: bool) -> tuple[_Group, ...]:
    buckets: dict[tuple[object, ...], list[Rule]] = {}
    for rule in rules:
        key = (
            rule.label if by_label else None,
            rule.flag if not by_label else None,
            rule.priority,
            rule.senders,
            rule.not_senders,
            rule.context,
            rule.promotional and by_label,
        )
        buckets.setdefault(key, []).append(rule)
    groups = []
    for (label, flag, priority, senders, not_senders, context, promo), members in buckets.items():
        groups.append(
            _Group(
                label=LABELS.index(str(label)) if label else -1,
                flag=flag,
                priority=int(priority),  # type: ignore[call-overload]
                senders=senders,
                not_senders=not_senders,
                context=context,  # type: ignore[arg-type]
                promotional=bool(promo),
                rules=tuple(members),
                pattern=_union(_plain(r.pattern) for r in members),
                named="|".join(f"(?P<r{i}>{_plain(r.pattern)})" for i, r in enumerate(members)),
                keywords="|".join(_keyword_named(r.pattern, i) for i, r in enumerate(members)),
                digit_blind=not by_label and all(_digit_blind(r.pattern) for r in members),
            )
        )
    groups.sort(key=lambda g: -g.priority)  # stable: file order breaks ties
    return tuple(groups)


def _digit_blind(pattern: str) -> bool:
    """Whether ``pattern`` treats all ASCII digits alike, except literal "0"s inside the keyword.

    Zeroing digits then only adds matches that use such a "0", so on the zeroed text the regex
    takes the same path as on the original whenever the keyword it reads has no "0" (and so reads
    the same). Unknown syntax answers False: the caller then reads the original text.
    """
    try:
        from re import _constants as sre
        from re import _parser

        tree = _parser.parse(pattern)
    except Exception:  # noqa: BLE001 - any parse problem only costs speed
        return False
    keyword = tree.state.groupdict.get(KEYWORD_GROUP)
    digits = frozenset(range(0x30, 0x3A))
    full_categories = {sre.CATEGORY_DIGIT, sre.CATEGORY_WORD, sre.CATEGORY_NOT_SPACE}

    def blind(items: object, in_keyword: bool) -> bool:
        for op, arg in items:  # type: ignore[attr-defined]
            if op in (sre.LITERAL, sre.NOT_LITERAL):
                if arg in digits and not (op is sre.LITERAL and arg == 0x30 and in_keyword):
                    return False
            elif op is sre.IN:
                if any(o is sre.CATEGORY and a in full_categories for o, a in arg):
                    continue
                covered = set()
                for o, a in arg:
                    if o is sre.LITERAL:
                        covered.add(a)
                    elif o is sre.RANGE:
                        covered.update(range(a[0], a[1] + 1))
                if 0 < len(covered & digits) < len(digits):
                    return False
            elif op is sre.SUBPATTERN:
                if not blind(arg[3], in_keyword or arg[0] == keyword):
                    return False
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
                if not blind(arg[2], in_keyword):
                    return False
            elif op is sre.BRANCH:
                if not all(blind(branch, in_keyword) for branch in arg[1]):
                    return False
            elif op not in (sre.ANY, sre.AT):
                return False
        return True

    return blind(tree, False)


def _plain(pattern: str) -> str:
    return pattern.replace(f"(?P<{KEYWORD_GROUP}>", "(?:")


def _keyword_named(pattern: str, i: int) -> str:
    if f"(?P<{KEYWORD_GROUP}>" in pattern:
        return "(?:" + pattern.replace(f"(?P<{KEYWORD_GROUP}>", f"(?P<k{i}>") + ")"
    return f"(?:{pattern})(?P<k{i}>)"


def _union(patterns: object) -> str:
    parts = [f"(?:{p})" for p in patterns]  # type: ignore[attr-defined]
    return "|".join(parts)
