"""Words CSV exports use for a message's direction, as data: (word, direction, source).

Matched after trimming and case-folding, whole cell only. Add a word with the export it comes from;
words marked "common wording" were not seen in a public export and are listed because a user's
own spreadsheet is likely to use them (UNVERIFIED). Unknown words are read as direction ``other``
(never an unsubscribe) and reported in a warning.
"""

from __future__ import annotations

from sms_audit.schema import Direction

_QQ = "QQ同步助手 web CSV type column (lqzhgood/Shmily-Get-Call_SMS-ic_qq_com @ af8b9715 : lib/conversion.js)"
_IMAZING = "iMazing CSV Type column (FORMATS-CN.md §7.4; public iMazing CSV parsers)"
_NOKIA = "Nokia Suite / Nokia CSV exports (libetl/athg2sms tests @ c70f0b33: 'sms,deliver', 'sms;submit', 'READ,RECEIVED', 'SENT')"
_AOSP = "Android Telephony.TextBasedSmsColumns type numbers, as raw provider dumps write them"
_OWN = "sms-audit's own `messages --format csv` output"
_COMMON = "common wording (UNVERIFIED: no public export seen)"

#: Not messages: rows with these words are excluded, not skipped.
NOT_MESSAGES: tuple[tuple[str, str], ...] = (("notification", _IMAZING),)

DIRECTION_WORDS: tuple[tuple[str, Direction, str], ...] = (
    ("收件箱", Direction.IN, _QQ),
    ("发件箱", Direction.OUT, _QQ),  # QQ同步助手's "outbox" holds sent messages
    ("草稿箱", Direction.DRAFT, _QQ),
    ("incoming", Direction.IN, _IMAZING),
    ("outgoing", Direction.OUT, _IMAZING),
    ("deliver", Direction.IN, _NOKIA),
    ("submit", Direction.OUT, _NOKIA),
    ("received", Direction.IN, _NOKIA),
    ("read,received", Direction.IN, _NOKIA),
    ("unread,received", Direction.IN, _NOKIA),
    ("sent", Direction.OUT, _NOKIA),
    ("1", Direction.IN, _AOSP),
    ("2", Direction.OUT, _AOSP),
    ("3", Direction.DRAFT, _AOSP),
    ("4", Direction.FAILED, _AOSP),
    ("5", Direction.FAILED, _AOSP),
    ("6", Direction.FAILED, _AOSP),
    ("in", Direction.IN, _OWN),
    ("out", Direction.OUT, _OWN),
    ("draft", Direction.DRAFT, _OWN),
    ("failed", Direction.FAILED, _OWN),
    ("已发送", Direction.OUT, _COMMON),
    ("发送", Direction.OUT, _COMMON),
    ("已发", Direction.OUT, _COMMON),
    ("发出", Direction.OUT, _COMMON),
    ("接收", Direction.IN, _COMMON),
    ("已接收", Direction.IN, _COMMON),
    ("收到", Direction.IN, _COMMON),
    ("收信", Direction.IN, _COMMON),
    ("草稿", Direction.DRAFT, _COMMON),
    ("发送失败", Direction.FAILED, _COMMON),
    ("收件匣", Direction.IN, _COMMON),
    ("已傳送", Direction.OUT, _COMMON),
    ("傳送", Direction.OUT, _COMMON),
    ("inbox", Direction.IN, _COMMON),
    ("inbound", Direction.IN, _COMMON),
    ("outbound", Direction.OUT, _COMMON),
    ("drafts", Direction.DRAFT, _COMMON),
)

_BY_WORD = {word.casefold(): direction for word, direction, _source in DIRECTION_WORDS}
_EXCLUDED = {word.casefold() for word, _source in NOT_MESSAGES}
#: The QQ同步助手 box words: a column made of these identifies its export.
QQ_BOX_WORDS = frozenset({"收件箱", "发件箱", "草稿箱"})


def direction_of(word: str) -> Direction | None:
    """The direction a cell names, or None when the word is unknown."""
    return _BY_WORD.get(" ".join(word.split()).casefold().replace(", ", ","))


def is_not_message(word: str) -> bool:
    """True for a row type that is no message (an iMazing "Notification")."""
    return word.strip().casefold() in _EXCLUDED
