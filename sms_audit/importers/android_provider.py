"""Android telephony-provider rows → records, once for every Android export.

SB&R XML, ``mmssms.db``, SMS Import/Export and adb TelephonyBackupAgent files all carry the
provider's columns (AOSP ``Telephony.Sms``/``Telephony.Mms``): ``type``/``msg_box`` for the
direction, ``addr`` rows typed 137 (From) / 151 (To) / 130 (Cc) / 129 (Bcc), ``part`` rows with a
content type, and the thread's participants. The rules for the other party, group detection and
the group's members live here only (FORMATS.md §1.3–§1.4, §3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sms_audit.importers.base import Exclude, Skip, main_time_us, secondary_time_us
from sms_audit.model import Record, mms_message_id, sms_message_id
from sms_audit.normalize import address_identity, split_group_address
from sms_audit.schema import Direction, Service

# SMS `type` (AOSP Telephony.TextBasedSmsColumns; LG 7 blocked, 8 scheduled, 19 broadcast; §1.3).
SMS_TYPE = {
    1: Direction.IN,
    2: Direction.OUT,
    3: Direction.DRAFT,
    4: Direction.FAILED,
    5: Direction.FAILED,
    6: Direction.FAILED,
    7: Direction.IN,
    8: Direction.DRAFT,
    19: Direction.IN,
}
SMS_BLOCKED = 7  # LG "blocked number": received, but filtered
# MMS `msg_box` (Telephony.BaseMmsColumns MESSAGE_BOX_*).
MMS_BOX = {1: Direction.IN, 2: Direction.OUT, 3: Direction.DRAFT, 4: Direction.FAILED, 5: Direction.FAILED}
ADDR_FROM, ADDR_TO, ADDR_CC, ADDR_BCC = 137, 151, 130, 129
OWN_PLACEHOLDER = "insert-address-token"
RCS_GROUP_DOMAIN = "@rcs.google.com"
# X-Mms-Message-Type (OMA-TS-MMS_ENC-V1_3 §7.3.30): only these PDUs are messages; delivery reports
# (134), read reports (135/136), send-conf (129), notifyresp (131) and acknowledgements (133) are not.
M_SEND_REQ, M_NOTIFICATION_IND, M_RETRIEVE_CONF = 128, 130, 132
_MESSAGE_PDUS = frozenset({M_SEND_REQ, M_NOTIFICATION_IND, M_RETRIEVE_CONF})
_PDU_NAMES = {
    129: "send confirmation",
    131: "notification response",
    133: "acknowledgement",
    134: "delivery report",
    135: "read report",
    136: "read report",
}
_GROUP_SPLIT = re.compile(r"[~;,]")


def sms_record(
    *,
    record: str,
    address: str | None,
    date: object,
    kind: int | None,
    body: str,
    date_sent: object = None,
    filtered: bool = False,
) -> Record | Skip:
    """One provider SMS row → a record, or why it is skipped.

    ``date`` is the provider's milliseconds (its unit is checked by magnitude). The id is the same
    in every Android export: (address as stored, direction, ms date, body as stored). An address
    that lists several numbers is a group conversation written as SMS (converters do this).
    """
    if not address or not address.strip():
        return Skip("no address")
    if kind is None:
        return Skip("no message type")
    when = main_time_us(date)
    if isinstance(when, Skip):
        return when
    direction = SMS_TYPE.get(kind, Direction.OTHER)
    members = split_group_address(address)
    is_group = len(members) > 1
    return Record(
        message_id=sms_message_id(address, direction, when // 1000, body),
        source_record=record,
        direction=direction,
        timestamp_us=when,
        address_raw=address,
        body=body,
        service=Service.SMS,
        sent_timestamp_us=secondary_time_us(date_sent),
        recipients=tuple(members) if is_group else (),
        is_group=is_group,
        members=tuple(members) if is_group else (),
        is_filtered=filtered or kind == SMS_BLOCKED,
    )


def mms_record(
    *,
    record: str,
    date: object,
    date_sent: object,
    box: int | None,
    m_id: str | None,
    tr_id: str | None,
    addrs: Sequence[tuple[str, int | None]],
    parts: Sequence[tuple[str, str | None]],
    address: str | None = None,
    listed: Sequence[str] | None = None,
    m_type: int | None = None,
) -> Record | Skip | Exclude:
    """One provider MMS → a record, or why it is skipped or excluded.

    ``addrs`` are (address, type) rows, ``parts`` (content type, text) in ``seq`` order. The
    thread's participants come as ``address`` (SB&R's ``~``-joined attribute) or as ``listed``
    (``mmssms.db`` threads). The other party is the From address of a received MMS and the thread
    of a sent one; a group's thread key is its RCS address or its participants.
    """
    if m_type is not None and m_type not in _MESSAGE_PDUS:
        return Exclude(f"MMS {_PDU_NAMES.get(m_type, f'PDU type {m_type}')}")
    if box is None:
        return Skip("no MMS box")
    when = main_time_us(date)
    if isinstance(when, Skip):
        return when
    direction = MMS_BOX.get(box, Direction.OTHER)
    body = "".join(  # text parts carry their own spacing
        text for ct, text in parts if ct.lower().startswith("text/plain") and text and text != "null"
    )
    has_attachments = any(
        not ct.lower().startswith("text/plain") and ct.lower() != "application/smil" for ct, _text in parts
    )
    sender: str | None = None
    others: list[str] = []
    for value, kind in addrs:
        if not value or value in (OWN_PLACEHOLDER, "null"):
            continue
        if kind == ADDR_FROM:
            sender = sender or value
        elif kind in (ADDR_TO, ADDR_CC, ADDR_BCC):
            others.append(value)
    if listed is None:
        address_attr = address or ""
        listed = [a for a in _GROUP_SPLIT.split(address_attr) if a.strip()]
    else:
        address_attr = address if address is not None else "~".join(listed)
    rcs_group = RCS_GROUP_DOMAIN in address_attr.lower()
    people = [a for a in listed if RCS_GROUP_DOMAIN not in a.lower()]  # the group pseudo-address is no person
    participants = _distinct([*people, *others, *([sender] if sender else [])])
    # A received MMS counts the user among its participants (its To rows hold the own number): a
    # group has three. The user's own MMS is a group when it went to two people or more, even when
    # the thread attribute names one number; its From (the placeholder, or the own number, which
    # some phones also list among the To rows) is not one of them.
    authored = direction in (Direction.OUT, Direction.DRAFT, Direction.FAILED)
    addressees = _distinct([*people, *others], leave_out=sender if authored else None)
    many = len(addressees) > 1 if authored else len(participants) > 2
    is_group = len(_distinct(listed)) > 1 or rcs_group or many
    if direction is Direction.IN:
        other_party = sender or (listed[0] if listed else address_attr)
    else:
        # one person however many spellings the thread lists: the first (a thread of one entry keeps
        # the whole attribute, as its message id always had)
        one = listed[0] if len(listed) > 1 and not is_group and not rcs_group else address_attr
        other_party = one or (others[0] if others else "")
    if not other_party:
        return Skip("MMS without any address")
    return Record(
        message_id=mms_message_id(other_party, direction, when // 1_000_000, body, m_id),
        source_record=record,
        direction=direction,
        timestamp_us=when,
        address_raw=other_party,
        body=body,
        service=Service.RCS if rcs_group or (tr_id or "").startswith("proto:") else Service.MMS,
        sent_timestamp_us=secondary_time_us(date_sent),
        recipients=(tuple(addressees) if authored else tuple(p for p in participants if p != other_party))
        if is_group
        else (),
        is_group=is_group,
        group_id=address_attr if rcs_group else "",
        # the user's own MMS: its members are whom it went to (the From is the user, maybe as a number)
        members=tuple(people if len(people) > 1 else (addressees if authored else participants))
        if is_group
        else (),
        has_attachments=has_attachments,
    )


def _distinct(numbers: Sequence[str], leave_out: str | None = None) -> list[str]:
    """``numbers`` with one spelling per number (the first), without ``leave_out``'s number.

    Spellings are compared without the region (records are raw): the same characters once spaces
    and punctuation are gone, or the same national number with and without its country code (1–3
    digits after ``+`` or ``00``) or trunk ``0``: ``+1 202-555-0101`` and ``(202) 555-0101``,
    ``+44 7700 900123`` and ``07700 900123``. A local number that only ends another one
    (``62345678`` and ``+86 139 6234 5678``) is another person.
    """
    kept: list[str] = []
    keys: list[str] = [_number_key(leave_out)] if leave_out else []
    for value in numbers:
        key = _number_key(value)
        if not any(_same_number(key, other) for other in keys):
            keys.append(key)
            kept.append(value)
    return kept


def _number_key(value: str) -> str:
    """Digits, with an international prefix (``+``, ``00``) dropped, or the identity for a non-number."""
    identity = address_identity(value)
    digits = identity.removeprefix("+")
    if not digits.isdigit():
        return identity
    return digits[2:] if digits.startswith("00") and len(digits) > 9 else digits


def _same_number(a: str, b: str) -> bool:
    if a == b:
        return True
    if not (a.isdigit() and b.isdigit()):
        return False
    short, long = sorted((a, b), key=len)
    national = short.removeprefix("0")  # the trunk prefix of a national form
    return len(national) >= 7 and long.endswith(national) and 1 <= len(long) - len(national) <= 3
