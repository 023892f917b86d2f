"""Vectorized classification of the message frame: labels, reasons, flags, sender kinds and brands.

Structural rules (sms_audit/rules/*.toml) decide replies, confirmations, footer keywords, code
shapes and traps; the content model (:mod:`sms_audit.classifier.content`) decides what every other
incoming text is. The design and its figures are in docs/classifier.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from sms_audit.classifier import content, fingerprint
from sms_audit.classifier.brands import BRAND_GROUPS, BRAND_PATTERN, clean_brand, dlt_brand, resolve_key
from sms_audit.classifier.fingerprint import CLASSIFIER_VERSION
from sms_audit.classifier.rules import CONTENT_LABEL, KEYWORD_GROUP, Rule, RuleSet, load_rules
from sms_audit.normalize import BUSINESS_KINDS, PERSONAL_KINDS, SenderKind, infer_region, normalize_address
from sms_audit.schema import CLASSIFY_COLUMNS, LABELS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

_OTHER = LABELS.index("other")
_REPLY = LABELS.index("unsubscribe-reply")
_MARKETING = LABELS.index("marketing")
_CONFIRMATION = LABELS.index("unsubscribe-confirmation")
_CONTENT = -2  # group label: stop lower rules, leave the label to the content model
_MAX_MATCH_CHARS = 60
_ZERO_BLOCK = 1 << 17  # bytes per block in _zero_digits
# Outgoing text is compared with a requested keyword after trimming this punctuation ("Q!" == "Q").
_ECHO_TRIM = " \t!！.。,，~～?？"
#: Rules above this priority decide before the content model; the model decides every other incoming
#: text. User rules always rank above it (their priority is raised to MODEL_PRIORITY + 1 at least).
MODEL_PRIORITY = 50
#: Bump when a code change alters labels for the same rules and model (part of the fingerprint).
# A link, with or without a scheme: "http…", "www.", or host.tld with a TLD that SMS links use.
# TLDs: the generic ones, the country codes of the corpora's and users' regions, and the TLDs
# Spamhaus lists among the most abused (spamhaus.org/reputation-statistics/cctlds, /gtlds).
LINK_PATTERN = (
    r"https?:|www\.|(?:^|[^a-z0-9@.-])[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63})*\."
    r"(?:com|net|org|info|biz|io|co|me|ly|gl|gd|ws|cc|tv|cn|hk|tw|sg|my|in|ng|uk|us|au|ca|th|ph|id|vn"
    r"|xyz|top|club|online|site|shop|store|live|vip|win|bid|icu|cyou|buzz|link|click|app|page|fun"
    r"|space|website|support|help|services|finance|financial|capital|loan|work|life|today|rest|bar"
    r"|monster|quest|sbs|cfd|lat|one|pro|mobi|asia|tk|ml|ga|cf|gq|ru|su|pw|to|is|ke|za|gh)"
    r"(?:[^a-z0-9-]|$)"
)


@dataclass(frozen=True, slots=True)
class _Group:
    """Rules sharing label, priority and sender conditions, matched as one combined regex."""

    label: int  # index into LABELS, _CONTENT, or -1 for flag-only groups
    flag: str | None
    priority: int
    senders: tuple[str, ...]
    not_senders: tuple[str, ...]
    context: str | None
    promotional: bool
    script: str  # "en" (no Han characters), "zh" (Han characters) or "" (any text)
    rules: tuple[Rule, ...]
    pattern: str  # any-rule pattern, for contains
    named: str  # one named group per rule, for extract (which rule, what text)
    keywords: str  # for optout-instruction groups: one keyword group per rule
    digit_blind: bool  # flag groups: keywords read on digit-zeroed text are exact unless they hold "0"


@dataclass(frozen=True, slots=True)
class _Compiled:
    label_groups: dict[str, tuple[_Group, ...]]  # direction -> groups, highest priority first
    flag_groups: dict[str, dict[str, tuple[_Group, ...]]]  # direction -> flag -> groups


def default_rules() -> RuleSet:
    """The packaged rules only (no user directory)."""
    return _packaged_rules()


@lru_cache(maxsize=1)
def _packaged_rules() -> RuleSet:
    return load_rules(None)


def classifier_fingerprint(rules: RuleSet | None = None) -> str:
    """A stable hash of everything that decides labels: the packaged model file, the rule set's
    contents (packaged + user rules, brand aliases; not the files' paths) and the classifier version.

    Labels stored with one fingerprint are still valid while it is unchanged (64 hex digits).
    """
    from sms_audit import __version__

    rules = rules or default_rules()
    digest = hashlib.sha256()
    digest.update(f"sms-audit {__version__} classifier {CLASSIFIER_VERSION}\n".encode())
    digest.update(hashlib.sha256(fingerprint.packaged_model_bytes() or b"").digest())
    for rule in rules.rules:
        fields = asdict(rule)
        fields.pop("origin")
        digest.update(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode() + b"\n")
    digest.update(json.dumps(dict(sorted(rules.brand_aliases.items())), ensure_ascii=False).encode())
    return digest.hexdigest()


def classify_frame(
    frame: pd.DataFrame, *, region: str | None = None, rules: RuleSet | None = None
) -> pd.DataFrame:
    """Return a copy of ``frame`` with :data:`CLASSIFY_COLUMNS` added (order and index kept).

    Needs ``direction`` ("in"/"out"; anything else is never an unsubscribe), ``body`` and
    ``address`` (normalised key or raw sender text); uses ``sender_kind`` when filled (the address is
    then taken as already normalised), else derives it per unique address with ``region`` (inferred
    from the frame's international numbers when None). ``timestamp``, when present and parseable,
    orders the context rules (a reply echoing the keyword an earlier message asked for; a keyword
    sent to a long code that has sent marketing). Incoming texts no rule decides are labelled by
    the packaged content model, once per distinct digit-folded body. A frame of
    more than :data:`CHUNK_ROWS` rows is labelled in chunks of whole senders (the same labels, the
    memory of a chunk).
    """
    return classify_with_model(frame, region=region, rules=rules, model=content.packaged_model())


def classify_with_model(
    frame: pd.DataFrame,
    *,
    region: str | None = None,
    rules: RuleSet | None = None,
    model: content.ContentModel | None,
) -> pd.DataFrame:
    """:func:`classify_frame` with a given content model; ``None`` runs the rules alone (no rule: other)."""
    rules = rules or default_rules()
    if len(frame) > CHUNK_ROWS:
        return _by_sender_chunks(frame, region, rules, model)
    return _classify_one(frame, region, rules, model, None)


def _classify_one(
    frame: pd.DataFrame,
    region: str | None,
    rules: RuleSet,
    model: content.ContentModel | None,
    order: np.ndarray | None,
) -> pd.DataFrame:
    """One pass over ``frame``; ``order`` (rank of each row in time) is given when the frame is a
    chunk of a larger one, whose ranks decide (see :func:`_order`)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    compiled = _compile(rules)
    n = len(frame)
    result = frame.copy()
    body = _arrow_text(frame.get("body", None), n)
    senders = _Senders.build(frame, n, region)
    order = _order(frame, n, senders.key) if order is None else order

    label = np.full(n, _OTHER, dtype=np.int8)
    pieces = _Pieces(n)
    keyword = _Pieces(n)
    trap = _Pieces(n)
    promotional = np.zeros(n, dtype=bool)
    resubscribe = np.zeros(n, dtype=bool)

    in_idx, out_idx = _directions(_arrow_text(frame.get("direction", None), n))

    # --- incoming -----------------------------------------------------------------------------
    all_view = _Distinct.build(body)
    in_view = all_view.subset(in_idx)
    in_body = _LazyTake(body, in_idx)
    groups_in = compiled.label_groups["in"]
    if model is not None:
        groups_in = tuple(g for g in groups_in if g.priority > MODEL_PRIORITY)
    winner = _run_groups(
        groups_in, in_view, in_idx, senders, context=None, label=label, pieces=pieces, body=in_body
    )
    kw_rows, kw_values, kw_local = _keywords(
        compiled.flag_groups["in"].get("optout-instruction", ()), in_view, in_body, in_idx, senders
    )
    keyword.add(kw_rows, kw_values, kw_local)
    has_kw = np.zeros(n, dtype=bool)
    has_kw[kw_rows] = True
    _traps(compiled.flag_groups["in"].get("trap", ()), in_view, in_idx, senders, has_kw, trap)
    by_rule = (winner >= 0) & (winner < len(groups_in))
    by_rule &= np.array([g.label != _CONTENT for g in groups_in] + [False], dtype=bool)[
        np.where(winner < 0, len(groups_in), winner)
    ]
    rule_promo = np.array([g.promotional for g in groups_in] + [False], dtype=bool)
    promotional[in_idx[by_rule]] = rule_promo[winner[by_rule]]
    if model is not None and len(in_idx):
        todo = np.flatnonzero(~by_rule)
        _run_model(model, compiled, in_view, in_idx, todo, senders, label, pieces, promotional)
        confirmed = in_idx[by_rule][label[in_idx[by_rule]] == _CONFIRMATION]
        if len(confirmed):
            promotional[confirmed] |= _advertises_beside(model, groups_in, winner, in_idx, confirmed, body)

    # --- outgoing -----------------------------------------------------------------------------
    if len(out_idx):
        # full-width letters read as ASCII (ＴＤ is TD); digits stay as written ("1" and "0" differ)
        out_body = pc.utf8_normalize(body.take(pa.array(out_idx)), "NFKC")
        out_view = _Distinct.build(out_body, zero_digits=False)
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
            body=_LazyTake(out_body, np.arange(len(out_idx))),
        )
        for group in compiled.flag_groups["out"].get("resubscribe", ()):
            hit_u = out_view.match(group.pattern, script=group.script)
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


#: Rows classified at once: a larger frame is cut into chunks that never split one sender's history.
#: A sender's labels depend only on its own messages, so the labels are those of one pass; the
#: classifier's transient Arrow/numpy memory stays that of a chunk (1,000,000 messages in one pass
#: peaked at ~1.2 GB in ``sms-audit classify``).
CHUNK_ROWS = 200_000


def _by_sender_chunks(
    frame: pd.DataFrame, region: str | None, rules: RuleSet, model: content.ContentModel | None
) -> pd.DataFrame:
    """:func:`classify_with_model` over chunks of about :data:`CHUNK_ROWS` rows, each holding whole
    senders (grouped by normalised address, as the context rules group them) in input order; the
    region the whole frame implies is worked out once, so every chunk reads numbers alike."""
    import pandas as pd

    n = len(frame)
    senders = _Senders.build(frame, n, region)
    order = _order(frame, n, senders.key)  # of the whole frame (the same ranks as one pass)
    by_sender = np.argsort(senders.key, kind="stable")
    ends = np.flatnonzero(np.diff(senders.key[by_sender])) + 1  # where a new sender starts
    labels: list[pd.DataFrame] = []
    taken: list[np.ndarray] = []
    start = 0
    while start < n:
        # the first sender boundary at or after start + CHUNK_ROWS (or the end)
        at = int(np.searchsorted(ends, start + CHUNK_ROWS))
        stop = int(ends[at]) if at < len(ends) else n
        rows = np.sort(by_sender[start:stop])  # input order within the chunk (ties in time)
        ranks = np.empty(len(rows), dtype=np.int64)  # the whole frame's order, as ranks 0..len-1
        ranks[np.argsort(order[rows], kind="stable")] = np.arange(len(rows))
        chunk = _classify_one(frame.iloc[rows].reset_index(drop=True), senders.region, rules, model, ranks)
        labels.append(chunk[list(CLASSIFY_COLUMNS)])
        taken.append(rows)
        start = stop
    back = np.empty(n, dtype=np.int64)  # input row -> its place among the chunks' rows
    back[np.concatenate(taken)] = np.arange(n)
    joined = pd.concat(labels, ignore_index=True).take(back).set_axis(frame.index)
    result = frame.copy()
    for name in CLASSIFY_COLUMNS:
        result[name] = joined[name]
    return result


# --- the content model ------------------------------------------------------------------------------

#: Content-model class → label (a scam is `other`: not a merchant one can hold to an opt-out; chat is
#: `other`: between people).
_CLASS_LABEL = {
    "verification": LABELS.index("verification"),
    "marketing": _MARKETING,
    "scam": _OTHER,
    "other": _OTHER,
    "chat": _OTHER,
}


def _content_facts(compiled: _Compiled, view: _Distinct, used: np.ndarray) -> dict[str, np.ndarray]:
    """Per distinct text: the structural facts the content model reads (code, link, opt-out footer)."""
    flags = compiled.flag_groups["in"]
    facts: dict[str, np.ndarray] = {}
    code = np.zeros(view.size, dtype=bool)
    for group in flags.get("code", ()):
        code |= view.match(group.pattern, used, script=group.script)
    not_code = np.zeros(view.size, dtype=bool)
    for group in flags.get("not-code", ()):
        not_code |= view.match(group.pattern, used & ~not_code, script=group.script)
    facts["code"] = code & ~not_code
    facts["not-code"] = not_code
    optout = np.zeros(view.size, dtype=bool)
    for group in flags.get("optout-instruction", ()):
        optout |= view.match(group.pattern, used & ~optout, script=group.script)
    facts["optout"] = optout
    facts["link"] = view.match(LINK_PATTERN, used)
    return facts


def content_inputs(
    frame: pd.DataFrame, *, region: str | None = None, rules: RuleSet | None = None
) -> tuple[list[str], dict[str, np.ndarray]]:
    """What the content model reads for each row, as :func:`classify_frame` builds it: the
    digit-folded text and the structural facts (sender group, code, opt-out footer, link).

    Used by training (:mod:`sms_audit.classifier.train`) so that it learns from exactly these inputs.
    Every row is read as incoming.
    """
    import pyarrow as pa

    compiled = _compile(rules or default_rules())
    n = len(frame)
    view = _Distinct.build(_arrow_text(frame.get("body", None), n))
    facts_u = _content_facts(compiled, view, view.used())
    senders = _Senders.build(frame, n, region)
    group = _sender_groups(senders, np.arange(n))
    facts = {name: values[view.codes] for name, values in facts_u.items()}
    facts["sender:personal"] = group == 1
    facts["sender:business"] = group == 2
    texts = _without_boilerplate(view.values.take(pa.array(view.codes)).to_pylist())
    return texts, facts


# HELP boilerplate is format, not content: every CTIA short-code program must answer HELP and say
# so in its messages (CTIA Messaging Principles §5.2), notices as much as adverts. The model reads
# the text without it, so "Text HELP to 448 for help" never reads as an advert. (An opt-out footer
# is kept: a commercial sender must add one, FCC 24-24, MIIT Order 31 Art. 18.)
_BOILERPLATE = re.compile(
    r"(?:reply|text|txt|send|sms|msg)\s+[\"']?(?:help|info)[\"']?(?:\s+(?:to|on)\s+[0-9]{3,6})?"
    r"(?:\s+(?:for|4)\s+(?:help|info|more info|assistance|support))?"
    r"|(?:msg|message)s?\s*(?:&|and)\s*data\s+rates\s+may\s+apply",
    re.IGNORECASE,
)


def _without_boilerplate(texts: list[str]) -> list[str]:
    """``texts`` with HELP instructions masked (:data:`content.MASK`, same length, so the model's
    pieces still quote the message where they were)."""
    out = list(texts)
    for i, text in enumerate(texts):
        lowered = text.lower()
        if "help" in lowered or "info" in lowered or "rates" in lowered:
            out[i] = _BOILERPLATE.sub(lambda m: content.MASK * len(m.group()), text)
    return out


def _sender_groups(senders: _Senders, rows: np.ndarray) -> np.ndarray:
    """0 = unknown, 1 = personal number, 2 = business sender, per row."""
    codes = senders.codes[rows]
    return np.where(senders.tag("personal")[codes], 1, np.where(senders.tag("business")[codes], 2, 0))


def _run_model(
    model: content.ContentModel,
    compiled: _Compiled,
    view: _Distinct,
    idx: np.ndarray,
    todo: np.ndarray,
    senders: _Senders,
    label: np.ndarray,
    pieces: _Pieces,
    promotional: np.ndarray,
) -> None:
    """Label rows ``idx[todo]`` with the content model, once per distinct text (and sender group,
    for a model with sender features)."""
    import pyarrow as pa

    if not len(todo):
        return
    rows = idx[todo]
    # the sender group splits a text only for a model that reads it (the packaged one does not)
    if any(name.startswith("sender:") for name in model.pseudo):
        group = _sender_groups(senders, rows)
    else:
        group = np.zeros(len(rows), dtype=np.int64)
    pair = view.codes[todo] * 3 + group
    pairs, local = np.unique(pair, return_inverse=True)
    texts_u = pairs // 3
    used = np.zeros(view.size, dtype=bool)
    used[texts_u] = True
    facts_u = _content_facts(compiled, view, used)
    facts = {name: values[texts_u] for name, values in facts_u.items()}
    facts["sender:personal"] = pairs % 3 == 1
    facts["sender:business"] = pairs % 3 == 2
    texts = _without_boilerplate(view.values.take(pa.array(texts_u)).to_pylist())
    # a pickup, ticket or coupon code is never a one-time password (eval/README.md label rules);
    # a one-time code beside its keyword, with no opt-out footer and no link, is never an advert:
    # the code-and-keyword layout is the OTP format itself (Apple AutoFill, Google SMS Retriever),
    # and a commercial text must carry an opt-out (MIIT Order 31 Art. 18, FCC 24-24)
    otp_only = facts["code"] & ~facts["optout"] & ~facts["link"]
    forbid = {"verification": facts.pop("not-code"), "marketing": otp_only}
    if "scam" in model.classes:
        forbid["scam"] = otp_only
    verdicts = content.predict(model, texts, facts, forbid=forbid)
    classes = np.array([_CLASS_LABEL[c] for c in model.classes], dtype=np.int8)
    label[rows] = classes[verdicts.best][local]
    promotional[rows] = (verdicts.best == model.classes.index("marketing"))[local]
    reasons = [
        f"model.{model.classes[b]} {p:.2f}" + (": " + ", ".join(words) if words else "")
        for b, p, words in zip(
            verdicts.best.tolist(), verdicts.probability.tolist(), verdicts.pieces, strict=True
        )
    ]
    pieces.add(rows, pa.array(reasons, pa.string()), local)


def _advertises_beside(
    model: content.ContentModel,
    groups: Sequence[_Group],
    winner: np.ndarray,
    idx: np.ndarray,
    rows: np.ndarray,
    body: pa.Array,
) -> np.ndarray:
    """Whether the text beside a rule's match (the other sentences) reads as marketing.

    A confirmation that also advertises is flagged (FCC 24-24 §64.1200(a)(12)); the sentence that
    confirms is not the advert, so it is left out before the model reads the rest.
    """
    import re

    position = np.full(int(idx.max()) + 1, -1, dtype=np.int64)
    position[idx] = np.arange(len(idx))
    texts = body.take(__import__("pyarrow").array(rows)).to_pylist()
    rests = []
    for row, text in zip(rows.tolist(), texts, strict=True):
        group = groups[int(winner[position[row]])]
        pattern = re.compile(group.pattern, re.IGNORECASE)
        sentences = re.split(r"(?<=[。！!？?；;.])\s*", text)
        rests.append(" ".join(s for s in sentences if s and not pattern.search(s)))
    out = np.zeros(len(rows), dtype=bool)
    keep = np.array([len(r.strip()) >= 8 for r in rests], dtype=bool)
    if keep.any():
        chosen = [r for r, k in zip(rests, keep.tolist(), strict=True) if k]
        verdicts = content.predict(model, chosen, {}, explain=0)
        out[keep] = verdicts.best == model.classes.index("marketing")
    return out


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
    and digit counts behave as on the original (runs of 4+ digits read as 0000...). Reasons are
    read from the original rows, never from this text. Deduplication is skipped when a sample
    shows mostly unique texts, where hashing would cost more than it saves.
    """

    def __init__(self, codes: np.ndarray, values: pa.Array, han: list[np.ndarray] | None = None) -> None:
        self.codes = codes  # row -> distinct text
        self.values = values
        self.size = len(values)
        self._han = han if han is not None else []  # shared by subsets: one pass per value set

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

    def subset(self, idx: np.ndarray) -> _Distinct:
        """The same distinct texts, seen from rows ``idx`` only."""
        return _Distinct(self.codes[idx], self.values, self._han)

    def used(self) -> np.ndarray:
        """Distinct texts that some row of this view refers to."""
        mask = np.zeros(self.size, dtype=bool)
        mask[self.codes] = True
        return mask

    def han(self) -> np.ndarray:
        """Bool per distinct text: does it contain a Han character outside a 【…】 signature (what
        "zh" rules read). An English text signed 【微信】 is English: the signature is a name."""
        if not self._han:
            import pyarrow.compute as pc

            unsigned = pc.replace_substring_regex(self.values, r"【[^】]{0,40}】", "")
            self._han.append(_match(unsigned, r"\p{Han}"))
        return self._han[0]

    def match(self, pattern: str, subset: np.ndarray | None = None, *, script: str = "") -> np.ndarray:
        """Bool per distinct text: does ``pattern`` match (only ``subset`` and ``script`` are searched)."""
        import pyarrow as pa

        if script:
            han = self.han()
            subset = (han if script == "zh" else ~han) & (True if subset is None else subset)
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

    def take(self, positions: pa.Array | np.ndarray) -> pa.Array:
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
            w[hit[(hit >= 0) & (hit < len(w))]] = False  # type: ignore[operator]
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
    body: _LazyTake,
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """Give each row the label of the highest-priority group that matches it and its sender.

    Returns the winning group per row of ``idx`` (``len(groups)``: none, -1: skipped). Decided per
    distinct text where possible: a text matched by a group without sender conditions is decided
    there and not searched by lower groups; only rows whose text a sender- or context-conditional
    group matched first are checked one by one. Reasons quote each row's own text (``body``).
    A ``content`` group sets no label: it only keeps lower groups off the row.
    """
    undecided = np.ones(len(idx), dtype=bool) if skip is None else ~skip
    alive_u = np.zeros(view.size, dtype=bool)
    alive_u[view.codes[undecided]] = True
    unset = len(groups)
    small = np.int16 if unset < 32_000 else np.int64  # group numbers: cheap row-wide gathers
    winner_u: np.ndarray = np.full(view.size, unset, dtype=small)  # first unconditional group per text
    conditional: list[tuple[int, np.ndarray]] = []
    for gi, group in enumerate(groups):
        if not alive_u.any():
            break
        hit_u = view.match(group.pattern, alive_u, script=group.script)
        if not hit_u.any():
            continue
        if group.senders or group.not_senders or group.context:
            conditional.append((gi, hit_u))
        else:
            winner_u[hit_u] = gi
            alive_u &= ~hit_u
    # row -> group number; -1 for skipped rows, `unset` for no match
    row_group = winner_u[view.codes].astype(np.int64)
    if skip is not None:
        row_group[skip] = -1
    # a conditional group can only take rows whose text it matched above the text's winner
    ahead = [(gi, hit_u & (winner_u > gi)) for gi, hit_u in conditional]
    ahead = [(gi, ahead_u) for gi, ahead_u in ahead if ahead_u.any()]
    if ahead:
        maybe = np.flatnonzero(np.logical_or.reduce([a for _, a in ahead])[view.codes])
        for gi, ahead_u in ahead:
            cand = maybe[ahead_u[view.codes[maybe]] & (row_group[maybe] > gi)]
            rows = cand[senders.eligible(groups[gi], idx[cand], context)]
            row_group[rows] = gi
    for gi in np.unique(row_group[(row_group >= 0) & (row_group < unset)]).tolist():
        rows = np.flatnonzero(row_group == gi)
        pieces.add(idx[rows], _reasons(groups[gi], body.take(rows)))
        if groups[gi].label >= 0:
            label[idx[rows]] = groups[gi].label
    return row_group


def _reasons(group: _Group, texts: pa.Array) -> pa.Array:
    """ "rule-id: matched text" per text (as written): the first of the group's rules that matches."""
    import pyarrow as pa
    import pyarrow.compute as pc

    which, text = _first_named(texts, group.named, [f"r{i}" for i in range(len(group.rules))])
    ids = pc.take(
        pa.array([r.id for r in group.rules] + [group.rules[0].id]),
        pc.if_else(pc.less(which, 0), len(group.rules), which),
    )
    quoted = pc.utf8_slice_codeunits(text, 0, _MAX_MATCH_CHARS)
    return pc.if_else(pc.equal(quoted, ""), ids, pc.binary_join_element_wise(ids, quoted, ": "))


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
        hit_u = view.match(group.pattern, used, script=group.script)
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
    """Trap-shaped prompts: trap rules, and any opt-out prompt from a personal-looking number.

    Not from a North American number: there businesses text from ordinary ten-digit numbers (10DLC
    and toll-free; the CTIA rules make them honour STOP), so a "+1" sender that asks for STOP looks
    personal only because a long code does (OPT-OUT-RULES.md §9's heuristic is the Chinese one:
    commercial SMS there must come from 106 ports).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    nanp = pc.starts_with(pa.array(senders.keys_u, pa.string()), "+1").to_numpy(zero_copy_only=False)
    personal = senders.tag("personal")[senders.codes[idx]] & ~nanp[senders.codes[idx]] & has_kw[idx]
    if personal.any():
        rows = idx[personal]
        kinds = pc.take(pa.array(senders.kinds_u, pa.string()), pa.array(senders.codes[rows]))
        trap.add(rows, pc.binary_join_element_wise("sender.personal-number-optout-prompt", kinds, ": "))
    used = view.used() if groups else None
    for group in groups:
        hit_u = view.match(group.pattern, used, script=group.script)
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
    raw_u: list[str]
    region: str | None = None  # the region national numbers were read in (given or inferred)

    @classmethod
    def build(cls, frame: pd.DataFrame, n: int, region: str | None) -> _Senders:
        """One entry per distinct address; row facts are integer codes into them.

        An address whose rows carry a ``sender_kind`` is taken as the importers wrote it (already
        normalised): only addresses without one go through :func:`normalize_address`.
        """
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
        missing = [raw for raw, kind in zip(raw_u, given_u, strict=True) if not kind]
        if missing and region is None:
            region = infer_region(missing)
        keys_u: list[str] = []
        kinds_u: list[str] = []
        for value, given_kind in zip(raw_u, given_u, strict=True):
            if given_kind:
                keys_u.append(value)
                kinds_u.append(given_kind)
            else:
                address = normalize_address(value, region)
                keys_u.append(address.key)
                kinds_u.append(address.kind.value)
        tags = _tags(raw_u, keys_u, kinds_u)
        key_codes_u, _ = pd.factorize(pd.Series(keys_u, dtype=object))
        key = np.asarray(key_codes_u, dtype=np.int64)[codes]
        return cls(codes, keys_u, kinds_u, key, tags, raw_u, region)

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
    """Tag -> bool per unique address; one pass, each tag's array built once (linear in addresses)."""
    members: dict[str, list[int]] = {}
    business = {k.value for k in BUSINESS_KINDS}
    personal = {k.value for k in PERSONAL_KINDS}
    alphanumeric = SenderKind.ALPHANUMERIC.value
    for i, (raw, key, kind) in enumerate(zip(raw_u, keys_u, kinds_u, strict=True)):
        members.setdefault(kind, []).append(i)
        if kind in business:
            members.setdefault("business", []).append(i)
        if kind in personal:
            members.setdefault("personal", []).append(i)
            members.setdefault("cn-mobile" if key.startswith("+86") else "intl-personal", []).append(i)
        if kind == alphanumeric:
            _, suffix = dlt_brand(raw)
            if suffix == "p":
                members.setdefault("dlt-promotional", []).append(i)
            elif suffix in ("s", "t", "g"):
                members.setdefault("dlt-service", []).append(i)
    tags: dict[str, np.ndarray] = {}
    for name, rows in members.items():
        mask = np.zeros(len(kinds_u), dtype=bool)
        mask[rows] = True
        tags[name] = mask
    return tags


# --- context --------------------------------------------------------------------------------------


#: :func:`message_times`'s value for a row without a readable time (numpy's NaT as int64).
NO_TIME = np.iinfo(np.int64).min
# Unix time by magnitude, as the importers read it (importers/base.py main_time_us): seconds,
# milliseconds (Android, SB&R), microseconds, nanoseconds.
_EPOCH_SCALE = ((10**11, 10**9), (10**14, 10**6), (10**17, 10**3))


def message_times(values: pd.Series | None, n: int) -> np.ndarray:
    """Each row's time as int64 ns since 1970 UTC (:data:`NO_TIME` where absent or unreadable).

    Datetimes are taken as they are; text may be ISO 8601 (any offset, or UTC without one) or Unix
    time in s, ms, µs or ns as digits (told apart by magnitude, as the importers do)."""
    import pandas as pd

    if values is None or n == 0:
        return np.full(n, NO_TIME, dtype=np.int64)
    if isinstance(values.dtype, pd.DatetimeTZDtype) or values.dtype.kind == "M":
        return values.to_numpy(dtype="datetime64[ns]").astype(np.int64)  # NaT is NO_TIME
    text = values.astype(pd.StringDtype("pyarrow")).fillna("").str.strip()
    epoch = text.str.fullmatch(r"-?[0-9]{9,19}").fillna(False).to_numpy(dtype=bool)
    parsed = pd.to_datetime(text.where(~epoch, ""), utc=True, errors="coerce", format="mixed")
    ns = pd.Series(parsed).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if epoch.any():
        numbers = text[epoch].astype(np.int64).to_numpy()
        scale = np.full(len(numbers), 1, dtype=np.int64)  # nanoseconds
        for bound, factor in reversed(_EPOCH_SCALE):
            scale = np.where(np.abs(numbers) < bound, factor, scale)
        ns[epoch] = numbers * scale
    return ns


def with_times(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """``frame`` with its ``timestamp`` read once as UTC datetimes (NaT where unreadable; see
    :func:`message_times`), and how many could not be read. A frame without the column is given back."""
    import pandas as pd

    if "timestamp" not in frame:
        return frame, 0
    times = message_times(frame["timestamp"], len(frame))
    parsed = pd.Series(times.view("datetime64[ns]"), index=frame.index).dt.tz_localize("UTC")
    return frame.assign(timestamp=parsed), int((times == NO_TIME).sum())


def _order(frame: pd.DataFrame, n: int, key: np.ndarray) -> np.ndarray:
    """Rank of each row among its sender's (``key``: sender code per row) rows: in time, ties and
    rows in input order, when every row of that sender has a readable time; else in input order.

    Ranks are only ever compared within one sender, so each sender decides for itself: one row
    without a time no longer puts every other sender in input order."""
    position = np.arange(n)
    if "timestamp" not in frame or n == 0:
        return position
    values = message_times(frame["timestamp"], n)
    missing = values == NO_TIME
    if missing.any():
        unordered = np.bincount(key, weights=missing, minlength=int(key.max()) + 1) > 0
        values = np.where(unordered[key], position, values)
    ranks = np.empty(n, dtype=np.int64)
    ranks[np.lexsort((position, values, key))] = position
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
    for direction in ("in", "out"):
        applicable = [r for r in rules if r.applies_to(direction)]
        labelled = [r for r in applicable if r.label is not None]
        label_groups[direction] = _groups(labelled, by_label=True)
        flags: dict[str, tuple[_Group, ...]] = {}
        for flag in sorted({r.flag for r in applicable if r.flag}):
            flags[flag] = _groups([r for r in applicable if r.flag == flag], by_label=False)
        flag_groups[direction] = flags
    return _Compiled(label_groups, flag_groups)


def _priority(rule: Rule) -> int:
    """A user rule always ranks above the content model; packaged rules keep their priority."""
    return max(rule.priority, MODEL_PRIORITY + 1) if rule.is_user_rule else rule.priority


def _groups(rules: list[Rule], *, by_label: bool) -> tuple[_Group, ...]:
    buckets: dict[tuple[object, ...], list[Rule]] = {}
    for rule in rules:
        key = (
            rule.label if by_label else None,
            rule.flag if not by_label else None,
            _priority(rule) if by_label else rule.priority,
            rule.senders,
            rule.not_senders,
            rule.context,
            rule.promotional and by_label,
            rule.script,
        )
        buckets.setdefault(key, []).append(rule)
    groups = []
    for (label, flag, priority, senders, not_senders, context, promo, script), members in buckets.items():
        groups.append(
            _Group(
                label=(_CONTENT if label == CONTENT_LABEL else LABELS.index(str(label))) if label else -1,
                flag=flag,  # type: ignore[arg-type]
                priority=int(priority),  # type: ignore[call-overload]
                senders=senders,  # type: ignore[arg-type]
                not_senders=not_senders,  # type: ignore[arg-type]
                context=context,  # type: ignore[arg-type]
                promotional=bool(promo),
                script=str(script),
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
        # CPython's own regex parser (private, hence imported by name; any change only costs speed).
        import importlib

        sre: Any = importlib.import_module("re._constants")
        tree = importlib.import_module("re._parser").parse(pattern)
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
