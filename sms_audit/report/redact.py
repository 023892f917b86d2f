"""--redact: mask personal phone numbers (keep the last 4 digits), verification codes and names.

Business numbers (106 ports, service numbers, short codes, toll-free) stay readable: they belong to
the merchant, not to a person, and are what a complaint is about.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sms_audit.normalize import SenderKind, normalize_address
from sms_audit.report.analysis import (
    Finding,
    Findings,
    FindingTuple,
    LedgerEntry,
    MessageRef,
    Report,
    SubjectSummary,
    Unsubscribe,
)

MASK = "•"
# Long numbers that can only belong to a business (a 7-8 digit "short code" may be a landline).
MERCHANT_NUMBERS = frozenset(
    {
        SenderKind.CN_COMMERCIAL_PORT,
        SenderKind.SERVICE_NUMBER,
        SenderKind.TOLL_FREE,
        SenderKind.SHARED_COST,
        SenderKind.PREMIUM_RATE,
    }
)

# 7+ digits, optionally with a leading + and single spaces/dashes between digit groups; never an
# ISO date such as the local times in explanations ("2025-09-10": a year 19xx/20xx, a month and a
# day grouped 4-2-2, which no numbering plan writes), nor the tail of a longer number.
_ISO_DATE = r"(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])(?![0-9])"
_PHONE = re.compile(rf"(?<![0-9])(?!{_ISO_DATE})\+?[0-9](?:[ \-]?[0-9]){{6,}}")
# A code next to its keyword: "验证码 482913", "code: 4829", "482913是您的验证码", "G-482913".
_CODE_AFTER = re.compile(
    r"((?:验证码|校验码|动态码|注册码|确认码|授权码|短信码|取件码|(?<![A-Za-z])(?:code|otp|passcode|pin))"
    r"(?:[ \t]*(?:is|为|是|:|：)?[ \t]*))(G-)?((?=[A-Za-z]*[0-9])[A-Za-z0-9]{4,8})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_CODE_BEFORE = re.compile(
    r"(?<![A-Za-z0-9])([0-9]{4,8})([ \t]*(?:是|为|is)[ \t]*(?:您|你|your))", re.IGNORECASE
)
_CODE_ANY = re.compile(r"(?<![0-9])[0-9]{4,8}(?![0-9])")
# Names: "尊敬的张三先生", "亲爱的李四：", "王女士", "Dear John Smith", "Hi Anna".
_GENERIC = "用户|会员|客户|顾客|车主|旅客|业主|同学|朋友|家长|老师|您"
_ZH_GREETING = re.compile(
    rf"(尊敬的|亲爱的)(?!{_GENERIC})([\u4e00-\u9fff·]{{1,4}}?)(先生|女士|小姐|同学)?(?=[,，:：!！ 、您你]|$)"
)
_ZH_HONORIFIC = re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff])(先生|女士|小姐)")
_EN_GREETING = re.compile(r"((?:Dear|Hi|Hello|Hey|Attn:?)[ \t]+)([A-Z][a-z'\-]+(?:[ \t][A-Z][a-z'\-]+)?)")
_LABELLED_NAME = re.compile(
    r"((?:姓名|收件人|收货人|联系人|客户名|recipient|name)[ \t]*[:：][ \t]*)([^ \t\n,，;；]{1,20})",
    re.IGNORECASE,
)


def mask_number(text: str) -> str:
    """``+8613912345678`` → ``+86•••••••5678``-style: every digit but the last 4 masked."""
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7:
        return text
    keep_from = digits - 4
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            out.append(ch if seen >= keep_from else MASK)
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def mask_address(address: str) -> str:
    """Mask a personal address (7+ digits, or an e-mail); business numbers and sender IDs stay."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return (local[:1] + MASK * 3 + "@" + domain) if local else address
    if sum(ch.isdigit() for ch in address) < 7 or normalize_address(address).kind in MERCHANT_NUMBERS:
        return address
    return mask_number(address)


def redact_text(text: str, *, verification: bool = False) -> str:
    """Mask numbers, codes and names in free text. ``verification``: mask every 4–8 digit run too."""
    if not text:
        return text
    text = _PHONE.sub(lambda m: mask_address(m.group(0)), text)
    text = _CODE_AFTER.sub(lambda m: m.group(1) + (m.group(2) or "") + MASK * len(m.group(3)), text)
    text = _CODE_BEFORE.sub(lambda m: MASK * len(m.group(1)) + m.group(2), text)
    if verification:
        text = _CODE_ANY.sub(lambda m: MASK * len(m.group(0)), text)
    text = _ZH_GREETING.sub(lambda m: m.group(1) + MASK * len(m.group(2)) + (m.group(3) or ""), text)
    text = _ZH_HONORIFIC.sub(lambda m: MASK + m.group(2), text)
    text = _EN_GREETING.sub(lambda m: m.group(1) + MASK * 3, text)
    return _LABELLED_NAME.sub(lambda m: m.group(1) + MASK * 3, text)


def redact_body(body: str, label: str) -> str:
    """A message's text redacted: numbers, codes next to their keyword and names, and every 4–8
    digit run when the message is labelled a verification."""
    return redact_text(body, verification=label == "verification")


def redact_message(ref: MessageRef) -> MessageRef:
    """``ref`` with its numbers masked and its text redacted (:func:`redact_body`)."""
    return replace(
        ref,
        address=mask_address(ref.address),
        address_raw=mask_address(ref.address_raw),
        body=redact_body(ref.body, ref.label),
    )


def _unsubscribe(unsub: Unsubscribe) -> Unsubscribe:
    return replace(
        unsub,
        subject=unsub.subject if unsub.brand else mask_address(unsub.subject),
        address=mask_address(unsub.address),
        message=redact_message(unsub.message),
        keyword=redact_text(unsub.keyword),
        resubscribe=None if unsub.resubscribe is None else redact_message(unsub.resubscribe),
    )


def _finding(item: Finding, unsubs: dict[str, Unsubscribe]) -> Finding:
    """A finding given as an object (:class:`~sms_audit.report.analysis.FindingTuple`), masked as
    :meth:`Findings.redacted` masks analysed ones: a trap's subject (its number) too."""
    unsub = None if item.unsubscribe is None else unsubs[item.unsubscribe.unsubscribe_id]
    mask = item.kind == "trap" or not item.brand
    return replace(
        item,
        subject=mask_address(item.subject) if mask else item.subject,
        message=redact_message(item.message),
        unsubscribe=unsub,
        explanation=redact_text(item.explanation),
        trap_reason=redact_text(item.trap_reason),
        reply=None if item.reply is None else redact_message(item.reply),
    )


def redact_report(report: Report) -> Report:
    """A copy of ``report`` with every number, code and detectable name masked (all formats use it)."""
    unsubs = {u.unsubscribe_id: _unsubscribe(u) for u in report.unsubscribes}
    ledger = tuple(replace(e, unsubscribe=unsubs[e.unsubscribe.unsubscribe_id]) for e in report.ledger)
    summary = tuple(_summary(s) for s in report.summary)
    return replace(
        report,
        unsubscribes=tuple(unsubs.values()),
        # analysed findings are masked as they are read (Finding objects and output records alike)
        findings=(
            report.findings.redacted(lambda u: unsubs[u.unsubscribe_id])
            if isinstance(report.findings, Findings)
            else FindingTuple(_finding(f, unsubs) for f in report.findings)
        ),
        ledger=ledger,
        summary=summary,
        meta={**report.meta, "redacted": True},
    )


def _summary(row: SubjectSummary) -> SubjectSummary:
    return replace(
        row,
        subject=row.subject if row.brand else mask_address(row.subject),
        numbers=tuple(mask_address(n) for n in row.numbers),
        keyword=redact_text(row.keyword),
    )


__all__ = [
    "LedgerEntry",
    "mask_address",
    "mask_number",
    "redact_body",
    "redact_message",
    "redact_report",
    "redact_text",
]
