"""Vectorized classification of the message frame: labels, reasons, flags, sender kinds and brands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from sms_audit.classify.brands import BRAND_GROUPS, BRAND_PATTERN, clean_brand, dlt_brand, resolve_key
from sms_audit.classify.rules import KEYWORD_GROUP, LABELS, Rule, RuleSet, load_rules
from sms_audit.normalize import BUSINESS_KINDS, PERSONAL_KINDS, SenderKind, infer_region, normalize_address

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

#: Columns classify_frame adds, in order.
CLASSIFY_COLUMNS: tuple[str, ...] = (
    "label", "reason", "sender_kind", "brand", "brand_display", "optout_keyword",
    "is_resubscribe", "is_trap", "trap_reason", "is_promotional",
)
_OTHER = LABELS.index("other")
_REPLY = LABELS.index("unsubscribe-reply")
_MARKETING = LABELS.index("marketing")
_MAX_MATCH_CHARS = 60
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


def classify_frame(frame: pd.DataFrame, *, region: str | None = None,
                   rules: RuleSet | None = None) -> pd.DataFrame:
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
    direction = pc.utf8_lower(pc.utf8_trim_whitespace(
        _arrow_text(frame.get("direction", None), n)))
    senders = _Senders.build(frame, n, region)
    order = _order(frame, n)

    label = np.full(n, _OTHER, dtype=np.int8)
    pieces = _Pieces(n)
    keyword = _Pieces(n)
    trap = _Pieces(n)
    promotional = np.zeros(n, dtype=bool)
    resubscribe = np.zeros(n, dtype=bool)

    in_idx = np.flatnonzero(pc.equal(direction, "in").to_numpy(zero_copy_only=False))
    out_idx = np.flatnonzero(pc.equal(direction, "out").to_numpy(zero_copy_only=False))

    # --- incoming -----------------------------------------------------------------------------
    all_view = _Distinct.build(body)
    in_view = _Distinct(all_view.codes[in_idx], all_view.values)
    in_body = _LazyTake(body, in_idx)
    promo_hit = _run_groups(compiled.label_groups["in"], in_view, in_idx, senders, context=None,
                            label=label, pieces=pieces)
    kw_rows, kw_values = _keywords(compiled.flag_groups["in"].get("optout-instruction", ()),
                                   in_view, in_body, in_idx, senders)
    keyword.add(kw_rows, kw_values)
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
        marketing_sender = _marketing_sender(senders.key, order, in_idx, out_idx,
                                             (label == _MARKETING) | has_kw)
        echo_kw = _keyword_echo(senders.key, order, in_idx, out_idx, out_body, keyword.dense())
        decided = echo_kw != ""
        if decided.any():
            hits = out_idx[decided]
            label[hits] = _REPLY
            pieces.add(hits, pc.binary_join_element_wise(
                "context.keyword-echo", pa.array(echo_kw[decided], pa.string()), ": "))
        out_view = _Distinct.build(out_body, zero_digits=False)  # "1" and "0" differ in replies
        _run_groups(compiled.label_groups["out"], out_view, out_idx, senders,
                    context=marketing_sender, label=label, pieces=pieces, skip=decided)
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
    pieces.values.insert(0, pa.array(["default: not an incoming or outgoing message",
                                      "default: no rule matched"], pa.string()))
    pieces.local.insert(0, in_or_out[unmatched].astype(np.int64))
    reason = pieces.dense()
    labels_pa = pa.array(LABELS)
    columns = {
        "label": pc.take(labels_pa, pa.array(label)),
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
    """A column as a non-null pyarrow string array ("" for missing)."""
    import pandas as pd
    import pyarrow as pa

    if series is None:
        return pa.array([""] * n, pa.string())
    text = series.astype(pd.StringDtype("pyarrow")).fillna("")
    arr = text.array.__arrow_array__()
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


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

    def dense(self, default: pa.Array | str = "") -> pa.Array:
        import pyarrow as pa
        import pyarrow.compute as pc

        index = np.full(self.n, -1, dtype=np.int64)
        offset = 0
        for rows, values, local in zip(self.rows, self.values, self.local, strict=True):
            index[rows] = local + offset  # later pieces win, as in a dict update
            offset += len(values)
        parts = [v.cast(pa.string()) for v in self.values]
        if isinstance(default, str):
            parts.append(pa.array([default], pa.string()))
            index[index < 0] = offset
            return pc.take(pa.concat_arrays(parts), pa.array(index))
        taken = pc.take(pa.concat_arrays(parts + [pa.array([""], pa.string())]),
                        pa.array(np.where(index < 0, offset, index)))
        return pc.if_else(pa.array(index < 0), default.cast(pa.string()), taken)


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
    multi-byte UTF-8 characters, and a run never continues across two strings.
    """
    import pyarrow as pa

    if len(values) == 0:
        return values
    if values.offset:
        values = pa.concat_arrays([values])  # own buffers, offset 0
    validity, offsets, data = values.buffers()
    if data is None:
        return values
    raw = np.frombuffer(data, dtype=np.uint8)
    pos = np.flatnonzero((raw - np.uint8(0x30)) < np.uint8(10))  # where the digits are
    if len(pos) == 0:
        return values
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    bounds = np.frombuffer(offsets, dtype=width)[: len(values) + 1]
    string_start = np.zeros(len(raw) + 1, dtype=bool)
    string_start[bounds] = True
    # a new run starts where the previous byte is no digit, or where a new string begins
    new_run = np.ones(len(pos), dtype=bool)
    new_run[1:] = (np.diff(pos) != 1) | string_start[pos[1:]]
    run_starts = np.flatnonzero(new_run)
    run_lengths = np.diff(np.append(run_starts, len(pos)))
    long_digit = np.repeat(run_lengths >= 4, run_lengths)
    mapped = raw.copy()
    mapped[pos[long_digit]] = 0x30
    return pa.Array.from_buffers(values.type, len(values), [validity, offsets, pa.py_buffer(mapped)])


def _run_groups(groups: Sequence[_Group], view: _Distinct, idx: np.ndarray, senders: _Senders, *,
                context: np.ndarray | None, label: np.ndarray, pieces: _Pieces,
                skip: np.ndarray | None = None) -> np.ndarray:
    """Give each row the label of the highest-priority group that matches it and its sender.

    Returns which rows got a promotional label. A distinct text decided by a group without sender
    conditions is not searched again by lower groups.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    undecided = np.ones(len(idx), dtype=bool) if skip is None else ~skip
    alive_u = np.zeros(view.size, dtype=bool)
    alive_u[view.codes[undecided]] = True
    promotional_hit = np.zeros(len(idx), dtype=bool)
    for group in groups:
        if not alive_u.any():
            break
        hit_u = view.match(group.pattern, alive_u)
        if not hit_u.any():
            continue
        rows = undecided & hit_u[view.codes]
        if group.senders or group.not_senders or group.context:
            rows &= senders.eligible(group, idx, context)
        else:
            alive_u &= ~hit_u
        if not rows.any():
            continue
        undecided &= ~rows
        label[idx[rows]] = group.label
        if group.promotional:
            promotional_hit |= rows
        won_u = np.unique(view.codes[rows])
        which, text = _first_named(view.values.take(pa.array(won_u)), group.named,
                                   [f"r{i}" for i in range(len(group.rules))])
        ids = pc.take(pa.array([r.id for r in group.rules] + [group.rules[0].id]),
                      pc.if_else(pc.less(which, 0), len(group.rules), which))
        reason_u = pc.binary_join_element_wise(ids, pc.utf8_slice_codeunits(text, 0, _MAX_MATCH_CHARS), ": ")
        pieces.add(idx[rows], reason_u, np.searchsorted(won_u, view.codes[rows]))
    return promotional_hit


def _keywords(groups: Sequence[_Group], view: _Distinct, body: _LazyTake, idx: np.ndarray,
              senders: _Senders) -> tuple[np.ndarray, pa.Array]:
    """Rows (frame positions) that ask for an opt-out reply, and the keyword each asks for.

    Found on the distinct texts, extracted from the original text (the keyword may be digits).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    rows_out: list[np.ndarray] = []
    values: list[pa.Array] = []
    todo = np.ones(len(idx), dtype=bool)
    used = view.used()
    for group in groups:
        hit_u = view.match(group.pattern, used)
        rows = todo & hit_u[view.codes] & senders.eligible(group, idx, None)
        pos = np.flatnonzero(rows)
        if not len(pos):
            continue
        _, text = _first_named(body.take(pa.array(pos)), group.keywords,
                               [f"k{i}" for i in range(len(group.rules))])
        found = pc.not_equal(text, "").to_numpy(zero_copy_only=False)
        if found.any():
            rows_out.append(idx[pos[found]])
            values.append(pc.utf8_upper(pc.utf8_trim_whitespace(text.filter(pa.array(found)))))
            todo[pos[found]] = False
    if not rows_out:
        return np.zeros(0, dtype=np.int64), pa.array([], pa.string())
    return np.concatenate(rows_out), pa.concat_arrays(values)


def _traps(groups: Sequence[_Group], view: _Distinct, idx: np.ndarray, senders: _Senders,
           has_kw: np.ndarray, trap: _Pieces) -> None:
    """Trap-shaped prompts: trap rules, and any opt-out prompt from a personal-looking number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    personal = senders.tag("personal")[senders.codes[idx]] & has_kw[idx]
    if personal.any():
        rows = idx[personal]
        kinds = pc.take(pa.array(senders.kinds_u, pa.string()), pa.array(senders.codes[rows]))
        trap.add(rows, pc.binary_join_element_wise(
            "sender.personal-number-optout-prompt", kinds, ": "))
    used = view.used() if groups else None
    for group in groups:
        hit_u = view.match(group.pattern, used)
        rows = hit_u[view.codes] & senders.eligible(group, idx, None)
        if not rows.any():
            continue
        won_u = np.unique(view.codes[rows])
        which, text = _first_named(view.values.take(pa.array(won_u)), group.named,
                                   [f"r{i}" for i in range(len(group.rules))])
        ids = pc.take(pa.array([r.id for r in group.rules] + [group.rules[0].id]),
                      pc.if_else(pc.less(which, 0), len(group.rules), which))
        reason_u = pc.binary_join_element_wise(ids, pc.utf8_slice_codeunits(text, 0, _MAX_MATCH_CHARS), ": ")
        trap.add(idx[rows], reason_u, np.searchsorted(won_u, view.codes[rows]))


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
        import pandas as pd

        raw = frame["address"] if "address" in frame else pd.Series([""] * n, index=frame.index)
        raw = raw.astype(pd.StringDtype("pyarrow")).fillna("")
        codes, uniques = pd.factorize(raw, sort=False)
        raw_u = [str(u) for u in uniques]
        if len(raw_u) == 0:
            raw_u = [""]
            codes = np.zeros(n, dtype=np.int64)
        given_u = [""] * len(raw_u)
        if "sender_kind" in frame:
            given = frame["sender_kind"].astype(pd.StringDtype("pyarrow")).fillna("")
            nonempty = (given != "").to_numpy(dtype=bool, na_value=False)
            if nonempty.any():
                first = pd.Series(np.flatnonzero(nonempty)).groupby(codes[nonempty]).first()
                given_values = given.to_numpy(dtype=object)
                for code, row in first.items():
                    given_u[int(code)] = str(given_values[row])
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
        return cls(np.asarray(codes, dtype=np.int64), keys_u, kinds_u, key, tags, None, raw_u)

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
        import pyarrow.compute as pc

        return pc.take(pa.array(self.kinds_u, pa.string()), pa.array(self.codes))


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


def _marketing_sender(key: np.ndarray, order: np.ndarray, in_idx: np.ndarray, out_idx: np.ndarray,
                      marketing: np.ndarray) -> np.ndarray:
    """Rows whose address has sent marketing (or an opt-out prompt) before them."""
    import pandas as pd

    result = np.zeros(len(order), dtype=bool)
    src = in_idx[marketing[in_idx]]
    if not len(src) or not len(out_idx):
        return result
    first = pd.Series(order[src]).groupby(key[src]).min()
    firsts = first.reindex(key[out_idx]).to_numpy()
    result[out_idx] = ~np.isnan(firsts) & (firsts < order[out_idx])
    return result


def _keyword_echo(key: np.ndarray, order: np.ndarray, in_idx: np.ndarray, out_idx: np.ndarray,
                  out_body: pa.Array, keyword: pa.Array) -> np.ndarray:
    """For each outgoing row, the keyword it repeats from an earlier prompt of the same address."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    echo = np.full(len(out_idx), "", dtype=object)
    kw_in = keyword.take(pa.array(in_idx)).to_numpy(zero_copy_only=False)
    has = kw_in != ""
    if not has.any():
        return echo
    prompts = pd.DataFrame({"key": key[in_idx][has], "kw": kw_in[has], "at": order[in_idx][has]})
    prompts = prompts.groupby(["key", "kw"], as_index=False)["at"].min()
    text = pc.utf8_upper(pc.utf8_trim(out_body, _ECHO_TRIM))
    short = pc.less_equal(pc.utf8_length(text), 12).to_numpy(zero_copy_only=False)
    if not short.any():
        return echo
    replies = pd.DataFrame({"pos": np.flatnonzero(short), "key": key[out_idx][short],
                            "kw": text.filter(pa.array(short)).to_numpy(zero_copy_only=False),
                            "when": order[out_idx][short]})
    joined = replies.merge(prompts, on=["key", "kw"], how="inner")
    joined = joined[joined["at"] < joined["when"]]
    echo[joined["pos"].to_numpy()] = joined["kw"].to_numpy()
    return echo


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


def _brands(view: _Distinct, body: _LazyTake, in_idx: np.ndarray, out_idx: np.ndarray,
            senders: _Senders, order: np.ndarray, rules: RuleSet) -> tuple[pa.Array, pa.Array]:
    """Brand key and display per row: DLT header, 【signature】, `Brand:`, "opt out of Brand", sender ID."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(order)
    display = np.full(n, -1, dtype=np.int64)  # index into `names`
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
        mapped = np.full(len(uniques) + 1, -1, dtype=np.int64)
        for i, value in enumerate(uniques):
            group, _, text = str(value).partition("\x1f")
            clean = clean_brand(text, group) if text else ""
            if clean:
                mapped[i] = intern(clean)
        return mapped[np.where(codes < 0, len(uniques), codes)]

    if len(in_idx):
        used = np.flatnonzero(view.used())
        per_used = np.full(view.size, -1, dtype=np.int64)
        per_used[used] = extract(view.values.take(pa.array(used)))
        rows = per_used[view.codes]
        # Digits were zeroed for matching: re-read brands such as "91社区" from the original text.
        zeroed = np.array(["0" in name for name in names] + [False])
        again = np.flatnonzero(zeroed[np.where(rows < 0, len(names), rows)])
        if len(again):
            rows[again] = extract(body.take(pa.array(again)))
        display[in_idx] = rows
    # Sender-level brands: a DLT header always wins; an alphanumeric sender ID is the fallback.
    dlt_u = np.full(len(senders.raw_u), -1, dtype=np.int64)
    alpha_u = np.full(len(senders.raw_u), -1, dtype=np.int64)
    for i, (raw, kind) in enumerate(zip(senders.raw_u, senders.kinds_u, strict=True)):
        if kind != SenderKind.ALPHANUMERIC.value:
            continue
        header, _ = dlt_brand(raw)
        if header:
            dlt_u[i] = intern(header)
        elif 2 <= len(raw.strip()) <= 24:
            alpha_u[i] = intern(" ".join(raw.split()))
    rows_dlt = dlt_u[senders.codes]
    display = np.where(rows_dlt >= 0, rows_dlt, display)
    rows_alpha = alpha_u[senders.codes]
    is_in = np.zeros(n, dtype=bool)
    is_in[in_idx] = True
    display = np.where((display < 0) & is_in, rows_alpha, display)
    # Outgoing rows (a STOP reply) take the brand of the address's earlier incoming messages.
    if len(out_idx) and len(in_idx):
        branded = in_idx[display[in_idx] >= 0]
        if len(branded):
            last = pd.DataFrame({"key": senders.key[branded], "at": order[branded],
                                 "brand": display[branded]}).sort_values("at")
            per_key = last.groupby("key")["brand"].last()
            found = per_key.reindex(senders.key[out_idx]).to_numpy()
            fill = ~np.isnan(found) & (display[out_idx] < 0)
            display[out_idx[fill]] = found[fill].astype(np.int64)
    if len(out_idx):
        display[out_idx] = np.where(display[out_idx] < 0, rows_alpha[out_idx], display[out_idx])
    names_pa = pa.array(names + [""], pa.string())
    keys_pa = pa.array(keys + [""], pa.string())
    index = pa.array(np.where(display < 0, len(names), display))
    return pc.take(keys_pa, index), pc.take(names_pa, index)


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
        key = (rule.label if by_label else None, rule.flag if not by_label else None, rule.priority,
               rule.senders, rule.not_senders, rule.context, rule.promotional and by_label)
        buckets.setdefault(key, []).append(rule)
    groups = []
    for (label, flag, priority, senders, not_senders, context, promo), members in buckets.items():
        groups.append(_Group(
            label=LABELS.index(str(label)) if label else -1, flag=flag, priority=int(priority),  # type: ignore[call-overload]
            senders=senders, not_senders=not_senders, context=context,  # type: ignore[arg-type]
            promotional=bool(promo), rules=tuple(members),
            pattern=_union(_plain(r.pattern) for r in members),
            named="|".join(f"(?P<r{i}>{_plain(r.pattern)})" for i, r in enumerate(members)),
            keywords="|".join(_keyword_named(r.pattern, i) for i, r in enumerate(members)),
        ))
    groups.sort(key=lambda g: -g.priority)  # stable: file order breaks ties
    return tuple(groups)


def _plain(pattern: str) -> str:
    return pattern.replace(f"(?P<{KEYWORD_GROUP}>", "(?:")


def _keyword_named(pattern: str, i: int) -> str:
    if f"(?P<{KEYWORD_GROUP}>" in pattern:
        return "(?:" + pattern.replace(f"(?P<{KEYWORD_GROUP}>", f"(?P<k{i}>") + ")"
    return f"(?:{pattern})(?P<k{i}>)"


def _union(patterns: object) -> str:
    parts = [f"(?:{p})" for p in patterns]  # type: ignore[attr-defined]
    return "|".join(parts)
