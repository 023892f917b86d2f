"""How well the rules agree with the public corpora's own labels, on messages that are not in dev.tsv.

dev.tsv was used to tune the rules, so its scores say little about messages nobody labelled for us.
This script reads the labelled corpora in ../shared/corpora/ (formats per each PROVENANCE.txt), maps
each corpus label to the label our definitions (../shared/eval/README.md) roughly expect, gives every
message a realistic sender for its corpus, drops rows whose normalised body is in dev.tsv (and
duplicates inside a group), classifies, and prints agreement rates plus a sample of disagreements.

The mappings are rough on purpose: a corpus "spam" can be an advert (marketing) or a scam (other),
and Chinese inbox "ham" holds brand promotions; a disagreement is something to read, not an error.
A plain script: it prints figures and asserts nothing.

    .venv/bin/python bench/check_corpora.py                      # the table and 5 samples per group
    .venv/bin/python bench/check_corpora.py --group uci --all    # every disagreement of matching groups
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sms_audit.classifier import LABELS, classify_frame

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPORA = SHARED / "corpora"
DEV = SHARED / "eval/dev.tsv"

NOT_MKT_VERIF = frozenset({"other", "unsubscribe-confirmation"})
NOT_MARKETING = frozenset({"other", "verification", "unsubscribe-confirmation"})
NOT_VERIF = frozenset({"other", "marketing", "unsubscribe-confirmation"})
OUT_PERSONAL = frozenset({"other"})
_THAI = re.compile("[\u0e00-\u0e7f]")
_SPACE = re.compile(r"\s+")
_KEY_DROP = re.compile(r"[\s\u00a0\u3000\u200b-\u200f\ufeff\ufffd\"]+")
_KEY_DIGITS = re.compile(r"[0-9x]")


@dataclass
class Group:
    """Messages of one corpus label, classified together with one expectation."""

    name: str
    expect: frozenset[str]
    region: str
    note: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # direction, address, body


def body_key(body: str) -> str:
    """dev.tsv's dedup key, loosened: case, whitespace and quotes ignored, digits and x alike.

    dev.tsv masks mobile numbers as x, so digits and x are folded together to find copied rows.
    """
    return _KEY_DIGITS.sub("0", _KEY_DROP.sub("", body.lower()))


def _clean(body: str) -> str:
    return _SPACE.sub(" ", body).strip()


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if line.strip():
                yield line


def _cn_mobile(i: int) -> str:
    return f"+86138{i % 10000:04d}{(i * 7) % 10000:04d}"


# --- corpus readers -------------------------------------------------------------------------------


def read_mudou(folder: Path) -> list[Group]:
    spam = Group(
        "zh-mudou spam",
        frozenset({"marketing"}),
        "CN",
        "label 1 from a 106 port; scams/fraud are legitimately other, some OTPs are labelled spam",
    )
    ham = Group(
        "zh-mudou ham",
        NOT_MARKETING,
        "CN",
        "label 0 (a real inbox: notices, OTPs, and brand promotions the corpus calls ham) from a 106 port",
    )
    for file in ("mudou_spam.train", "mudou_spam.test"):
        for i, line in enumerate(_lines(folder / file)):
            parts = line.split("\t")
            if len(parts) >= 2 and parts[0] in ("0", "1"):
                (spam if parts[0] == "1" else ham).rows.append(("in", f"1069{i % 100000:08d}", parts[1]))
    return [spam, ham]


def read_80w(folder: Path) -> list[Group]:
    content = json.loads((folder / "train_content.json").read_text(encoding="utf-8"))
    labels = json.loads((folder / "train_label.json").read_text(encoding="utf-8"))
    spam = Group("zh-80w spam", frozenset({"marketing"}), "CN", "label 1 from a 106 port")
    ham = Group(
        "zh-80w ham",
        NOT_MKT_VERIF,
        "CN",
        "label 0 (mostly sentences and chat) from a Chinese mobile: neither marketing nor an OTP",
    )
    for i, (body, label) in enumerate(zip(content, labels, strict=False)):
        if str(label) == "1":
            spam.rows.append(("in", f"10657{i:08d}", body))
        else:
            ham.rows.append(("in", _cn_mobile(i), body))
    return [spam, ham]


_FBS_PLACEHOLDERS = {
    "DIGIT": "88",
    "PHONE": "4008123456",
    "URL": "http://wap.example.cn/x",
    "PLACE": "某地",
    "NAME": "某某",
    "WECHAT": "wx1234",
    "QQ": "12345678",
}


def read_fbs(folder: Path) -> list[Group]:
    """Word-segmented fake-base-station spam: spaces between Chinese words are dropped, placeholders filled."""
    ad = Group("zh-fbs AD__*", frozenset({"marketing"}), "CN", "advertising categories from a 106 port")
    fr = Group("zh-fbs FR__*", frozenset({"other"}), "CN", "fraud/phishing from a 106 port")
    il = Group(
        "zh-fbs IL__*", frozenset({"other"}), "CN", "illegal offers (escort, fake ID/invoice, gambling)"
    )
    words = re.compile(r"\b(" + "|".join(_FBS_PLACEHOLDERS) + r")\b")
    joins = re.compile(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])")
    for file in sorted(folder.glob("*__*.txt")):
        target = {"AD": ad, "FR": fr, "IL": il}[file.name[:2]]
        for i, line in enumerate(_lines(file)):
            text = joins.sub("", words.sub(lambda m: _FBS_PLACEHOLDERS[m.group(1)], line.strip()))
            target.rows.append(("in", f"1065{i:09d}", text))
    return [ad, fr, il]


def read_uci(folder: Path) -> list[Group]:
    spam = Group(
        "uci spam", frozenset({"marketing"}), "GB", "from a UK short code; prize scams are legitimately other"
    )
    ham = Group("uci ham", NOT_MKT_VERIF, "GB", "personal chat from a UK mobile")
    for i, line in enumerate(_lines(folder / "SMSSpamCollection")):
        label, _, body = line.partition("\t")
        if label == "spam":
            spam.rows.append(("in", "87121", body))
        elif label == "ham":
            ham.rows.append(("in", f"+447700900{i % 1000:03d}", body))
    return [spam, ham]


def read_exais(folder: Path) -> list[Group]:
    spam = Group("exais in SPAM", frozenset({"marketing"}), "NG", "received, real sender")
    ham = Group("exais in HAM", NOT_MARKETING, "NG", "received, real sender (banks, carriers, friends)")
    out = Group(
        "exais out",
        frozenset({"other", "unsubscribe-reply"}),
        "NG",
        "sent; listed here: every unsubscribe-reply, to read",
    )
    with (folder / "all_ExAIS_SPAM_Dataset.csv").open(encoding="utf-8", errors="replace") as handle:
        for rec in csv.reader(handle):
            if len(rec) < 8 or rec[1] not in ("send", "receive"):
                continue
            body = ",".join(x for x in rec[7:] if x)
            if rec[1] == "send":
                out.rows.append(("out", rec[2], body))
            else:
                (spam if rec[6] == "SPAM" else ham).rows.append(("in", rec[2], body))
    return [spam, ham, out]


def read_mendeley(folder: Path) -> list[Group]:
    spam = Group("mendeley spam", frozenset({"marketing"}), "IN", "from a short code")
    smish = Group("mendeley smishing", frozenset({"other"}), "IN", "from a short code")
    ham = Group("mendeley ham", NOT_MKT_VERIF, "IN", "personal chat from a mobile")
    with (folder / "Dataset_5971.csv").open(encoding="utf-8", errors="replace") as handle:
        for i, rec in enumerate(csv.DictReader(handle)):
            label = rec["LABEL"].lower()
            if label == "ham":
                ham.rows.append(("in", f"+9198{i:08d}", rec["TEXT"]))
            else:
                (spam if label == "spam" else smish).rows.append(("in", "56161", rec["TEXT"]))
    return [spam, smish, ham]


def read_smishtank(folder: Path) -> list[Group]:
    ads = Group(
        "smishtank Advertisement",
        frozenset({"marketing", "other"}),
        "US",
        "crowd-reported; ads may be scams: only verification is wrong",
    )
    rest = Group(
        "smishtank scams", frozenset({"other"}), "US", "account alerts, delivery, prize, crypto ... lures"
    )
    with (folder / "smishtank.csv").open(encoding="utf-8", errors="replace") as handle:
        for rec in csv.DictReader(handle):
            body = rec.get("MainText") or ""
            target = ads if rec.get("Message Categories") == "Advertisement" else rest
            target.rows.append(("in", rec.get("Sender") or "", body))
    return [ads, rest]


def read_thai(folder: Path) -> list[Group]:
    groups = {
        "otp": Group(
            "thai-sites OTP (Latin)",
            frozenset({"verification"}),
            "TH",
            "non-Thai lines labelled OTP, sender an alphanumeric ID",
        ),
        "ok": Group("thai-sites OK (Latin)", NOT_VERIF, "TH", "non-Thai notices"),
        "scam": Group("thai-sites scam (Latin)", frozenset({"other"}), "TH", "non-Thai scams"),
    }
    for file in sorted(folder.glob("*.txt")):
        for line in _lines(file):
            label, _, body = line.partition("|")
            target = groups.get(label.strip().lower())
            if target is not None and body and not _THAI.search(body):
                target.rows.append(("in", "Service", body))
    return list(groups.values())


def read_otp_synthetic(folder: Path) -> list[Group]:
    # The csv's valid/not valid column does not follow the text (both hold the same OTP templates), so
    # it is not used: every template is expected to read as an OTP (one prize lure among them is not).
    csv_rows = Group("otp-synth csv", frozenset({"verification"}), "US", "template texts from a +1 long code")
    otp = Group("otp-synth otp.txt", frozenset({"verification"}), "CN", "zh/en template OTPs from a 106 port")
    non = Group("otp-synth non_otp.txt", NOT_VERIF, "CN", "zh/en template non-OTPs from a 106 port")
    with (folder / "SMS_OTP_10000_samples.csv").open(encoding="utf-8") as handle:
        for rec in csv.DictReader(handle):
            csv_rows.rows.append(("in", rec["phone_id"], rec["sms_text"]))
    for body in _lines(folder / "otp_messages_1000.txt"):
        otp.rows.append(("in", "106900001234", body))
    for body in _lines(folder / "non_otp_messages_1000.txt"):
        non.rows.append(("in", "106900001234", body))
    return [csv_rows, otp, non]


def read_nus(folder: Path) -> list[Group]:
    """Personal chat, both as sent to a friend (never an opt-out) and as received from one."""
    groups = []
    for archive, lang, region, number in (
        ("smsCorpus_en_xml_2015.03.09_all.zip", "en", "SG", "+658000{:04d}"),
        ("smsCorpus_zh_xml_2015.03.09.zip", "zh", "CN", ""),
    ):
        with zipfile.ZipFile(folder / archive) as zf:
            data = zf.read(zf.namelist()[0]).decode("utf-8", errors="replace")
        texts = [_unescape(m.group(1)) for m in re.finditer(r"<text>(.*?)</text>", data, re.DOTALL)]
        out = Group(f"nus-{lang} out", OUT_PERSONAL, region, "sent to a friend's mobile")
        inc = Group(
            f"nus-{lang} in", NOT_MKT_VERIF, region, "the same chat as received from a friend's mobile"
        )
        for i, text in enumerate(texts):
            address = number.format(i % 10000) if number else _cn_mobile(i)
            out.rows.append(("out", address, text))
            inc.rows.append(("in", address, text))
        groups += [out, inc]
    return groups


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


READERS = {
    "zh-mudou-spam": read_mudou,
    "zh-80w-head": read_80w,
    "zh-fbs-spam": read_fbs,
    "uci-sms-spam": read_uci,
    "exais-sms": read_exais,
    "mendeley-smishing-5971": read_mendeley,
    "smishtank": read_smishtank,
    "thai-sms-receive-sites": read_thai,
    "otp-synthetic": read_otp_synthetic,
    "nus-sms-corpus": read_nus,
}


# --- checking -------------------------------------------------------------------------------------


def dev_keys(path: Path) -> set[str]:
    if not path.exists():
        return set()
    frame = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
    return {body_key(b) for b in frame["body"]}


def check_group(group: Group, seen: set[str]) -> tuple[pd.DataFrame, int]:
    """Unseen, deduplicated rows of ``group`` with their classification; also how many were in dev.tsv."""
    rows, keys, in_dev = [], set(), 0
    for direction, address, body in group.rows:
        body = _clean(body)
        key = body_key(body)
        if not key:
            continue
        if key in seen:
            in_dev += 1
            continue
        if (direction, key) in keys:
            continue
        keys.add((direction, key))
        rows.append({"direction": direction, "address": address, "body": body})
    frame = pd.DataFrame(rows, columns=["direction", "address", "body"], dtype=str)
    if frame.empty:
        return frame, in_dev
    return classify_frame(frame, region=group.region), in_dev


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--dev", type=Path, default=DEV, help="rows whose body is here are left out")
    parser.add_argument("--group", default="", help="only groups whose name contains this text")
    parser.add_argument("--samples", type=int, default=5, help="disagreements shown per group")
    parser.add_argument("--all", action="store_true", help="show every disagreement")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    seen = dev_keys(args.dev)
    started = time.perf_counter()
    results: list[tuple[Group, pd.DataFrame, int]] = []
    for name, reader in READERS.items():
        folder = args.corpora / name
        if not folder.is_dir():
            print(f"{name}: not found, skipped")
            continue
        for group in reader(folder):
            if args.group.lower() in group.name.lower():
                frame, in_dev = check_group(group, seen)
                results.append((group, frame, in_dev))

    short = {
        "verification": "verif",
        "marketing": "mkt",
        "unsubscribe-reply": "reply",
        "unsubscribe-confirmation": "conf",
        "other": "other",
    }
    print(f"unseen corpus rows (dev.tsv bodies and duplicates left out); {len(seen)} dev bodies\n")
    print(
        f"{'group':<28}{'n':>7}{'in dev':>7}{'agree':>8}  expected"
        + " " * 17
        + "".join(f"{short[label]:>7}" for label in LABELS)
    )
    figures: dict[str, dict[str, object]] = {}
    for group, frame, in_dev in results:
        n = len(frame)
        counts = frame["label"].value_counts() if n else pd.Series(dtype=int)
        agree = float(frame["label"].isin(group.expect).mean()) if n else float("nan")
        expect = "|".join(short[x] for x in LABELS if x in group.expect)
        print(
            f"{group.name:<28}{n:>7}{in_dev:>7}{agree:>8.3f}  {expect:<25}"
            + "".join(f"{int(counts.get(label, 0)):>7}" for label in LABELS)
        )
        figures[group.name] = {
            "n": n,
            "in_dev": in_dev,
            "agree": agree,
            "labels": {label: int(counts.get(label, 0)) for label in LABELS},
        }

    rng = random.Random(args.seed)
    for group, frame, _ in results:
        if frame.empty:
            continue
        wrong = frame[~frame["label"].isin(group.expect)]
        if wrong.empty or not (args.all or args.samples):
            continue
        picked = (
            list(range(len(wrong)))
            if args.all
            else sorted(rng.sample(range(len(wrong)), min(args.samples, len(wrong))))
        )
        print(f"\n== {group.name}: {len(wrong)} disagreements ({group.note}); showing {len(picked)}")
        for i in picked:
            row = wrong.iloc[i]
            print(
                f"  [{row['direction']} {row['address']} {row['sender_kind']}] got={row['label']} "
                f"({row['reason']})\n      {row['body'][:200]}"
            )
    print(f"\n(read and classified in {time.perf_counter() - started:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=True)
    raise SystemExit(main())
