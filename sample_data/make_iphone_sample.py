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
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from sms_audit.importers.typedstream import encode_attributed_body

SQL = HERE / "iphone-sms.sql"
OUT = HERE / "iphone-sms.db"


def build(out: Path = OUT, sql: Path = SQL) -> Path:
    """Write the database at ``out`` from ``sql``; returns ``out``."""
    out.unlink(missing_ok=True)
    conn = sqlite3.connect(out)
    try:
        conn.executescript(sql.read_text(encoding="utf-8"))
        rows = conn.execute("SELECT ROWID, text FROM message ORDER BY ROWID").fetchall()
        conn.executemany(
            "UPDATE message SET attributedBody = ? WHERE ROWID = ?",
            [(encode_attributed_body(text), rowid) for rowid, text in rows if text is not None],
        )
        conn.execute(
            "UPDATE message SET text = NULL WHERE guid IN (SELECT guid FROM temp.plan WHERE ab_only = 1)"
        )
        conn.commit()
        conn.execute("DROP TABLE temp.plan")
        conn.execute("VACUUM")
    finally:
        conn.close()
    return out


if __name__ == "__main__":
    path = build()
    print(f"wrote {path.name} ({path.stat().st_size} bytes)")
