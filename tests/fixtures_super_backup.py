"""Build Super Backup / 超级备份 SMS XML files as the app writes them (FORMATS-CN.md §7.1).

The app writes ``<allsms count="N">`` and one ``<sms …/>`` per message with attributes in a fixed
order, a localized ``time`` display string, ``date`` in ms, and the body *without* escaping quotes
(the file is not well-formed XML). Other characters are written like Android's serializer does:
``&``/``<``/``>`` as entities, line breaks as ``&#10;``, characters outside the BMP as UTF-16
surrogate-pair references (``&#55357;&#56832;``) — the shapes the public readers undo
(lqzhgood/Shmily-Get-Call_SMS-Android ``lib/utils.js``; id 70722176258). ``raw=True`` writes a body
completely unescaped (raw ``<``, ``&``, newlines), a shape a damaged or older export can have.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
_CN = timedelta(hours=8)


def escape_body(text: str) -> str:
    """Escape like the app: entities for & < >, references for line breaks and non-BMP characters;
    double quotes are left as they are (the app's bug)."""
    out = []
    for char in text:
        cp = ord(char)
        if char == "&":
            out.append("&amp;")
        elif char == "<":
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        elif char in "\n\r\t" or cp < 0x20:
            out.append(f"&#{cp};")
        elif cp > 0xFFFF:
            high, low = 0xD800 + ((cp - 0x10000) >> 10), 0xDC00 + ((cp - 0x10000) & 0x3FF)
            out.append(f"&#{high};&#{low};")
        else:
            out.append(char)
    return "".join(out)


def display_time(date_ms: int) -> str:
    """The app's localized ``time`` attribute, as a Chinese-locale phone shows it."""
    local = datetime.fromtimestamp(date_ms / 1000, UTC) + _CN
    half = "上午" if local.hour < 12 else "下午"
    hour = local.hour % 12 or 12
    return f"{local.year}年{local.month}月{local.day}日 {half}{hour}:{local:%M:%S}"


def sms(
    address: str,
    date_ms: int,
    body: str,
    type_: int = 1,
    *,
    name: str = "",
    raw: bool = False,
    service_center: str | None = None,
) -> str:
    """One ``<sms …/>`` line in the app's attribute order."""
    center = service_center if service_center is not None else ("+8613800100500" if type_ == 1 else "")
    text = body if raw else escape_body(body)
    return (
        f'\t<sms address="{address}" time="{display_time(date_ms)}" date="{date_ms}" type="{type_}" '
        f'body="{text}" read="1" service_center="{center}" name="{name}" />\n'
    )


def document(*records: str, count: int | None = None) -> str:
    """A whole backup around the record lines."""
    n = len(records) if count is None else count
    return HEADER + f'<allsms count="{n}">\n' + "".join(records) + "</allsms>"
