"""Build small, realistic SMS Backup & Restore XML documents in tests (FORMATS.md §1)."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

HEADER = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
    '<?xml-stylesheet type="text/xsl" href="sms.xsl"?>\n'
)


def _attr(text: str) -> str:
    """Quote like Android's serializer: control characters (and U+FFFE/U+FFFF) as references."""
    quoted = quoteattr(text, {c: f"&#{ord(c)};" for c in text if ord(c) < 0x20 or c in "\ufffe\uffff"})
    return quoted


def sms(
    address: str,
    date_ms: int,
    body: str,
    type_: int = 1,
    *,
    date_sent: int | None = None,
    raw_body: str | None = None,
    contact: str = "(Unknown)",
) -> str:
    """One ``<sms>`` line as the app writes it. ``raw_body`` is inserted unescaped (for charrefs)."""
    body_attr = f'"{raw_body}"' if raw_body is not None else _attr(body)
    sent = date_sent if date_sent is not None else (date_ms - 1000 if type_ == 1 else 0)
    return (
        f'  <sms protocol="0" address="{address}" date="{date_ms}" type="{type_}" subject="null" '
        f'body={body_attr} toa="null" sc_toa="null" service_center="{"+8613800100500" if type_ == 1 else "null"}" '
        f'read="1" status="-1" locked="0" date_sent="{sent}" sub_id="1" readable_date="n/a" '
        f"contact_name={quoteattr(contact)} />\n"
    )


def mms(
    address: str,
    date_ms: int,
    box: int,
    parts: list[tuple[str, str]],
    addrs: list[tuple[str, int]],
    *,
    date_sent_s: int | None = None,
    m_id: str = "null",
    tr_id: str = "T1",
    _id: str = "7001",
) -> str:
    """One ``<mms>`` with ``parts`` as (content type, text or base64) and ``addrs`` as (address, type)."""
    part_lines = []
    for seq, (ctype, value) in enumerate(parts):
        if ctype.startswith("text/") or ctype == "application/smil":
            part_lines.append(
                f'      <part seq="{seq - 1 if ctype == "application/smil" else seq}" ct="{ctype}" '
                f'name="null" chset="106" cd="null" fn="null" cid="null" cl="null" ctt_s="null" '
                f'ctt_t="null" text={quoteattr(value)} />'
            )
        else:
            part_lines.append(
                f'      <part seq="{seq}" ct="{ctype}" name="a.png" chset="null" cd="null" fn="null" '
                f'cid="null" cl="a.png" ctt_s="null" ctt_t="null" text="null" data="{value}" />'
            )
    addr_lines = [f'      <addr address="{a}" type="{t}" charset="106" />' for a, t in addrs]
    sent = date_sent_s if date_sent_s is not None else (date_ms // 1000 if box == 1 else 0)
    return (
        f'  <mms date="{date_ms}" rr="null" sub="null" ct_t="application/vnd.wap.multipart.related" '
        f'read_status="null" seen="1" msg_box="{box}" address="{address}" sub_cs="null" resp_st="null" '
        f'retr_st="null" d_tm="null" text_only="1" exp="null" locked="0" m_id="{m_id}" st="null" '
        f'retr_txt_cs="null" retr_txt="null" creator="com.google.android.apps.messaging" '
        f'date_sent="{sent}" read="1" m_size="0" rpt_a="null" ct_cls="null" pri="null" sub_id="1" '
        f'tr_id="{tr_id}" resp_txt="null" ct_l="null" m_cls="null" d_rpt="null" v="null" _id="{_id}" '
        f'm_type="{132 if box == 1 else 128}" readable_date="n/a" contact_name="(Unknown)">\n'
        "    <parts>\n" + "\n".join(part_lines) + "\n    </parts>\n"
        "    <addrs>\n" + "\n".join(addr_lines) + "\n    </addrs>\n  </mms>\n"
    )


def document(*records: str, count: int | None = None) -> str:
    """A whole ``<smses>`` backup around the given record strings."""
    n = len(records) if count is None else count
    return (
        HEADER + f'<smses count="{n}" backup_set="00000000-0000-4000-8000-000000000001" '
        f'backup_date="1764500000000" type="full">\n' + "".join(records) + "</smses>\n"
    )
