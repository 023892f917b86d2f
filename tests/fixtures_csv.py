"""Build CSV exports as iMazing and QQ同步助手 write them (FORMATS-CN.md §7.2, §7.4).

iMazing: one of its four known column sets (14, 15 with ``Edited Date``, 17 with ``Deleted Date``
and ``Reactions``, 18 with ``Message ID``), UTF-8 with a BOM, CRLF, dates ``YYYY-MM-DD HH:MM:SS`` in
the computer's local time, ``Type`` Incoming/Outgoing/Notification, ``Sender ID`` empty on outgoing
rows. The 14/15/18 sets are quoted in public parsers; the position of the two extra columns of the
17-column set is inferred from the 18-column one (minus ``Message ID``).

QQ同步助手 (ic.qq.com): GBK, columns body, name, address, time, type with type 收件箱/发件箱/草稿箱
and time ``YYYY/MM/DD HH:MM:SS`` (lqzhgood/Shmily-Get-Call_SMS-ic_qq_com ``sms.js``). The header
text is not documented anywhere; :data:`QQ_HEADER` is a plausible guess, which is why the importer
matches on content.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

_BASE = ["Chat Session", "Message Date", "Delivered Date", "Read Date"]
_MIDDLE = ["Service", "Type", "Sender ID", "Sender Name", "Status", "Replying to", "Subject", "Text"]
_TAIL = ["Attachment", "Attachment type"]
IMAZING_HEADERS = {
    14: _BASE + _MIDDLE + _TAIL,
    15: _BASE + ["Edited Date"] + _MIDDLE + _TAIL,
    17: _BASE + ["Edited Date", "Deleted Date"] + _MIDDLE + ["Reactions"] + _TAIL,
    18: [
        "Chat Session",
        "Message ID",
        *_BASE[1:],
        "Edited Date",
        "Deleted Date",
        *_MIDDLE,
        "Reactions",
        *_TAIL,
    ],
}
QQ_HEADER = ("内容", "姓名", "号码", "时间", "类型")


@dataclass(frozen=True, slots=True)
class ImazingRow:
    chat: str
    date: str
    type: str  # Incoming | Outgoing | Notification
    text: str
    sender_id: str = ""
    sender_name: str = ""
    service: str = "SMS"
    attachment: str = ""
    message_id: str = ""


def imazing_csv(rows: list[ImazingRow], columns: int = 18, *, bom: bool = True) -> bytes:
    header = IMAZING_HEADERS[columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        values = {
            "Chat Session": row.chat,
            "Message ID": row.message_id,
            "Message Date": row.date,
            "Service": row.service,
            "Type": row.type,
            "Sender ID": row.sender_id,
            "Sender Name": row.sender_name,
            "Status": "Read" if row.type == "Incoming" else "Delivered",
            "Text": row.text,
            "Attachment": row.attachment,
            "Attachment type": "Image" if row.attachment else "",
        }
        writer.writerow([values.get(name, "") for name in header])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def qq_csv(
    rows: list[tuple[str, str, str, str, str]],
    *,
    header: tuple[str, ...] | None = QQ_HEADER,
    order: tuple[int, ...] = (0, 1, 2, 3, 4),
    encoding: str = "gbk",
) -> bytes:
    """Rows as (body, name, address, time, type); ``order`` permutes the columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow([header[i] for i in order])
    for row in rows:
        writer.writerow([row[i] for i in order])
    return out.getvalue().encode(encoding)


def plain_csv(
    header: list[str], rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue()
    return ("\ufeff" + data).encode(encoding) if encoding.startswith("utf-16") else data.encode(encoding)
