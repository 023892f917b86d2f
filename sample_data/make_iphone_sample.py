"""Generate sample_data/iphone-sms.db: a synthetic iPhone Messages database (iOS 16+ schema).

The content is in ``iphone-sms.sql`` next to this script (schema, handles, chats and a message
plan with the stories; read its header). This script runs it and then does what SQL cannot:
it archives every body into ``message.attributedBody`` as an NSAttributedString typedstream, the
way iOS 16+ does, and clears ``message.text`` for the third of the rows planned as ``ab_only``.
The output is deterministic (fixed dates and GUIDs, no randomness) and small (1 KiB pages, VACUUM).

Run: ``python sample_data/make_iphone_sample.py`` (rewrites the database next to this script).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

HERE = Path(__file__).resolve().parent
SQL = HERE / "iphone-sms.sql"
OUT = HERE / "iphone-sms.db"


def _ts_int(n: int) -> bytes:
    """typedstream integer: 1 byte below 0x80, else 0x81 + int16 LE or 0x82 + int32 LE."""
    if 0 <= n < 0x80:
        return bytes([n])
    if n < 0x8000:
        return b"\x81" + n.to_bytes(2, "little", signed=True)
    return b"\x82" + n.to_bytes(4, "little", signed=True)


def _cls(name: bytes, version: int) -> bytes:
    return b"\x84\x84" + _ts_int(len(name)) + name + _ts_int(version)


def encode_attributed_body(text: str) -> bytes:
    """``text`` as an archived NSMutableAttributedString (layout of FORMATS.md §4.5).

    Kept in this script (a copy of tests/fixtures_ios.py's encoder) so it runs on its own.
    """
    data = text.encode("utf-8")
    utf16_len = len(text.encode("utf-16-le")) // 2
    nsobject = bytes([0x92 + 3])  # object 3 = the NSObject class
    return b"".join([
        b"\x04\x0bstreamtyped\x81\xe8\x03", b"\x84\x01@", b"\x84",
        _cls(b"NSMutableAttributedString", 0), _cls(b"NSAttributedString", 0), _cls(b"NSObject", 0), b"\x85",
        b"\x92\x84", _cls(b"NSMutableString", 1), _cls(b"NSString", 1), nsobject,
        b"\x84\x01+", _ts_int(len(data)), data, b"\x86",
        b"\x84\x02iI\x01", _ts_int(utf16_len), b"\x92\x84", _cls(b"NSDictionary", 0), nsobject,
        b"\x84\x01i\x00\x86\x86",
    ])


def build(out: Path = OUT, sql: Path = SQL) -> Path:
    """Write the database at ``out`` from ``sql``; returns ``out``."""
    out.unlink(missing_ok=True)
    conn = sqlite3.connect(out)
    try:
        conn.executescript(sql.read_text(encoding="utf-8"))
        rows = conn.execute("SELECT ROWID, text FROM message ORDER BY ROWID").fetchall()
        conn.executemany("UPDATE message SET attributedBody = ? WHERE ROWID = ?",
                         [(encode_attributed_body(text), rowid) for rowid, text in rows if text is not None])
        conn.execute("UPDATE message SET text = NULL WHERE guid IN (SELECT guid FROM temp.plan WHERE ab_only = 1)")
        conn.commit()
        conn.execute("DROP TABLE temp.plan")
        conn.execute("VACUUM")
    finally:
        conn.close()
    return out


if __name__ == "__main__":
    path = build()
    print(f"wrote {path.name} ({path.stat().st_size} bytes)")
