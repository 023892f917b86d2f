"""Brand signatures: extract 【…】, `Brand:` and "opt out of Brand" names, DLT headers; normalise to a key."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# One extract pass; at a given start position RE2 prefers the first alternative, so a leading
# signature wins over a trailing one. Case-sensitive: English brand names are capitalised words.
#   【招商银行】您尾号…   /  …感谢使用。[招商银行]  /  DietFix: You have been…  /  …opted out of Adventure Works texts
BRAND_PATTERN = (
    r"^[ ]*(?:[【\[〔<]|&lt;)[ ]*(?P<lead>[^】\]〕>【\[&]{1,24}?)[ ]*(?:[】\]〕>]|&gt;)"
    r"|^(?P<prefix>[A-Z][A-Za-z0-9&'.]*(?: [A-Z][A-Za-z0-9&'.]*){0,2})[ ]?[:：][ ]"
    r"|(?:[Oo]pt(?:ed)?[- ]?out of|[Uu]nsubscribed from|(?:texts|messages|msgs|SMS offers) from)"
    r" (?:all |the )?(?P<phrase>[A-Z][A-Za-z0-9&'.-]*(?: [A-Z][A-Za-z0-9&'.-]*){0,3})"
    r"|[【\[](?P<trail>[^】\]【\[]{1,16})[】\]][ 。.!！]*$"
)
BRAND_GROUPS = ("lead", "prefix", "phrase", "trail")
# Indian DLT headers: AD-HDFCBK, AX-HDFCBK-P (TRAI TCCCPR; -P/-S/-T/-G suffix since May 2025).
DLT_HEADER = re.compile(r"^[a-z]{2}-([a-z0-9]{3,9})(?:-([pstg]))?$")

# Bracketed text that is an instruction or a notice, not a signature.
_NOT_A_BRAND = re.compile(
    r"回复|退订|屏蔽|拒收|请|勿|验证码|校验码|提醒|通知|温馨|注意|尾号|[0-9]{3,}|^[0-9/ ]+$|"
    r"^(?:ad|ads|advert|promo|sms|fwd|forwarded|re|[0-9]/[0-9])$",
    re.IGNORECASE,
)
# `Word:` prefixes that are salutations, headings or field names rather than senders.
_NOT_A_PREFIX = frozenset(
    [
        "dear",
        "hi",
        "hello",
        "hey",
        "urgent",
        "important",
        "reminder",
        "alert",
        "alerts",
        "notice",
        "note",
        "news",
        "update",
        "info",
        "ref",
        "acct",
        "amt",
        "code",
        "otp",
        "pin",
        "msg",
        "sms",
        "free",
        "freemsg",
        "private",
        "warning",
        "fwd",
        "re",
        "subject",
        "attn",
        "congratulations",
        "congrats",
        "customer",
        "account",
        "balance",
        "bal",
        "date",
        "time",
        "txn",
        "desc",
        "from",
        "to",
        "tel",
        "call",
        "web",
        "url",
        "link",
        "price",
        "offer",
        "sale",
        "promotion",
        "winner",
        "attention",
        "yes",
        "no",
        "ok",
        "the",
        "your",
        "our",
        "reply",
        "text",
        "txt",
        "send",
        "stop",
        "help",
        "tip",
        "quiz",
        "question",
    ]
)
_GENERIC_SUFFIXES = (
    "股份有限公司",
    "有限公司",
    "官方旗舰店",
    "旗舰店",
    "俱乐部",
    "官方",
    "官网",
    "商城",
    "公司",
    "网",
)


# Trailing English words that name a channel or legal form of the same merchant ("ACME Outlet",
# "ACME Deals", "Acme Inc."): one merchant, several short codes.
_GENERIC_WORDS = frozenset(
    [
        "inc",
        "llc",
        "ltd",
        "plc",
        "co",
        "corp",
        "corporation",
        "company",
        "group",
        "store",
        "stores",
        "shop",
        "outlet",
        "outlets",
        "online",
        "official",
        "deals",
        "offers",
        "rewards",
        "alerts",
        "club",
        "team",
        "us",
        "usa",
        "uk",
        "app",
        "sms",
        "texts",
    ]
)
_WORD = re.compile(r"[^\W_]+")


def brand_key(display: str) -> str:
    """Normalise a brand as written to the key one merchant's numbers share ("招商银行", "CMB").

    "ACME Outlet" and "ACME" share the key "acme": grouping is an inference, and the report says so.
    """
    words = _WORD.findall(unicodedata.normalize("NFKC", display).casefold())
    while len(words) > 1 and words[-1] in _GENERIC_WORDS:
        words.pop()
    text = "".join(words)
    for suffix in _GENERIC_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
            break
    return text


def clean_brand(display: str, group: str) -> str:
    """The brand as written, or "" when the captured text is not a plausible brand."""
    text = " ".join(display.split()).strip(" .:-'&")
    if not text or len(text) > 24:
        return ""
    if group in ("lead", "trail") and _NOT_A_BRAND.search(text):
        return ""
    if group in ("prefix", "phrase") and text.split()[0].casefold() in _NOT_A_PREFIX:
        return ""
    return text


def dlt_brand(address: str) -> tuple[str, str]:
    """(brand, suffix) of an Indian DLT header address ("ad-hdfcbk-p" -> ("HDFCBK", "p")), else ("", "")."""
    match = DLT_HEADER.match(address.casefold())
    if not match:
        return "", ""
    return match.group(1).upper(), match.group(2) or ""


def resolve_key(display: str, aliases: Mapping[str, str]) -> str:
    key = brand_key(display)
    return aliases.get(key, key)
