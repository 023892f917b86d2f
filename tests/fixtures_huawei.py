"""Builders for Huawei/Honor backups (FORMATS-CN §4): the decrypted sms.db and the encrypted folder.

``sms_tb`` has the columns pa_script's AutoBackupHuaweiSMSParser lists (no ``_id``; ``group_id``),
``table_broadcastchat_tb`` those XLY's parser reads; ``info.xml`` has the shape kobackupdec parses
(root ``<info.xml>``, ``<row table=…><column name=…><value String=…/>``). Numbers are fictional.
"""

from __future__ import annotations

import os
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path

SMS_TB = """
CREATE TABLE sms_tb (group_id INTEGER, date INTEGER, address TEXT, read INTEGER, date_sent INTEGER,
 subject TEXT, sub_id INTEGER, reply_path_present INTEGER, type INTEGER, body TEXT, seen INTEGER,
 thread_id INTEGER, protocol INTEGER, time_body TEXT, addr_body TEXT, service_center TEXT,
 error_code INTEGER, locked INTEGER, network_type INTEGER, status INTEGER);
CREATE TABLE table_broadcastchat_tb (send_msg_status INTEGER, msg_content TEXT, msg_date INTEGER,
 address TEXT);
CREATE TABLE android_metadata (locale TEXT);
INSERT INTO android_metadata VALUES ('zh_CN');
"""


@dataclass
class Row:
    """One ``sms_tb`` row: AOSP type (1 in, 2 sent, 3 draft, 5 failed), dates in ms."""

    address: str
    date_ms: int
    body: str
    type: int = 1
    date_sent_ms: int = 0
    read: int = 1


def write_sms_db(
    path: Path, rows: list[Row], broadcasts: list[tuple[int, str, int, str]] = (), *, filler: int = 0
) -> Path:  # type: ignore[assignment]
    """A decrypted ``sms.db``; ``broadcasts`` are (send_msg_status, msg_content, msg_date ms, address);
    ``filler`` adds that many long received messages first (a database of several pages)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(SMS_TB)
    all_rows = [Row("10690000000", 1_700_000_000_000 + i, "填充" * 200) for i in range(filler)] + rows
    for number, row in enumerate(all_rows, start=1):
        conn.execute(
            "INSERT INTO sms_tb (group_id, date, address, read, date_sent, subject, sub_id, "
            "reply_path_present, type, body, seen, thread_id, protocol, service_center, error_code, "
            "locked, network_type, status) VALUES (?,?,?,?,?,NULL,0,0,?,?,1,?,0,?,0,0,0,-1)",
            (
                number,
                row.date_ms,
                row.address,
                row.read,
                row.date_sent_ms,
                row.type,
                row.body,
                zlib.crc32(row.address.encode()) % 97,
                "+8613800100500" if row.type == 1 else None,
            ),
        )
    conn.executemany(
        "INSERT INTO table_broadcastchat_tb (send_msg_status, msg_content, msg_date, address) VALUES (?,?,?,?)",
        list(broadcasts),
    )
    conn.commit()
    conn.close()
    return path


def _row(table: str, columns: dict[str, str | int]) -> str:
    cells = "".join(
        f'<column name="{name}"><value {"Integer" if isinstance(v, int) else "String"}="{v}"/></column>'
        for name, v in columns.items()
    )
    return f'<row table="{table}">{cells}</row>\n'


def write_encrypted_backup(folder: Path, *, with_sms: bool = True) -> Path:
    """A KoBackup folder ``HUAWEI ELS-AN00_2025-09-15 10.10.10/``: info.xml with the key material rows
    (random hex, as the real values are) and encrypted module files (random bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    modules = ["sms", "calllog", "contact"] if with_sms else ["calllog", "contact"]
    info = '<?xml version="1.0" encoding="UTF-8"?>\n<info.xml>\n'
    info += _row("HeaderInfo", {"version": "3.0", "backup_time": "2025-09-15 10:10:10"})
    info += _row("BackupFilePhoneInfo", {"productModel": "ELS-AN00", "osVersion": "HarmonyOS 3.0.0"})
    info += _row("BackupFileVersionInfo", {"backupVersion": 29, "appVersion": "13.1.0.340"})
    info += _row(
        "BackupFilesTypeInfo",
        {
            "e_perbackupkey": os.urandom(48).hex(),
            "pwkey_salt": os.urandom(32).hex(),
            "type_attch": 3,
            "checkMsg": os.urandom(64).hex(),
        },
    )
    for module in modules:
        info += _row(
            "BackupFileModuleInfo_SystemData",
            {"name": module, "encMsgV3": os.urandom(48).hex(), "checkMsgV3": os.urandom(96).hex()},
        )
        (folder / f"{module}.db").write_bytes(os.urandom(4096))
    info += "</info.xml>\n"
    (folder / "info.xml").write_text(info, encoding="utf-8")
    return folder
