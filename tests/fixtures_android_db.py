"""Builders for Android test data under tmp_path: mmssms.db (AOSP, Samsung), sms-ie ZIP/JSON, adb zlib JSON."""

from __future__ import annotations

import json
import sqlite3
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The AOSP schema exactly as in mmssms-aosp-empty-teleshoes/mmssms.db (user_version 66).
AOSP_SCHEMA = """
CREATE TABLE android_metadata (locale TEXT);
CREATE TABLE sms (_id INTEGER PRIMARY KEY,thread_id INTEGER,address TEXT,person INTEGER,date INTEGER,
 date_sent INTEGER DEFAULT 0,protocol INTEGER,read INTEGER DEFAULT 0,status INTEGER DEFAULT -1,type INTEGER,
 reply_path_present INTEGER,subject TEXT,body TEXT,service_center TEXT,locked INTEGER DEFAULT 0,
 sub_id INTEGER DEFAULT -1, phone_id INTEGER DEFAULT -1, error_code INTEGER DEFAULT 0,creator TEXT,
 seen INTEGER DEFAULT 0,priority INTEGER DEFAULT -1);
CREATE TABLE pdu (_id INTEGER PRIMARY KEY AUTOINCREMENT,thread_id INTEGER,date INTEGER,date_sent INTEGER DEFAULT 0,
 msg_box INTEGER,read INTEGER DEFAULT 0,m_id TEXT,sub TEXT,sub_cs INTEGER,ct_t TEXT,ct_l TEXT,exp INTEGER,
 m_cls TEXT,m_type INTEGER,v INTEGER,m_size INTEGER,pri INTEGER,rr INTEGER,rpt_a INTEGER,resp_st INTEGER,
 st INTEGER,tr_id TEXT,retr_st INTEGER,retr_txt TEXT,retr_txt_cs INTEGER,read_status INTEGER,ct_cls INTEGER,
 resp_txt TEXT,d_tm INTEGER,d_rpt INTEGER,locked INTEGER DEFAULT 0,sub_id INTEGER DEFAULT -1,
 phone_id INTEGER DEFAULT -1, seen INTEGER DEFAULT 0,creator TEXT,text_only INTEGER DEFAULT 0);
CREATE TABLE addr (_id INTEGER PRIMARY KEY,msg_id INTEGER,contact_id INTEGER,address TEXT,type INTEGER,
 charset INTEGER);
CREATE TABLE part (_id INTEGER PRIMARY KEY AUTOINCREMENT,mid INTEGER,seq INTEGER DEFAULT 0,ct TEXT,name TEXT,
 chset INTEGER,cd TEXT,fn TEXT,cid TEXT,cl TEXT,ctt_s INTEGER,ctt_t TEXT,_data TEXT,text TEXT);
CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT,address TEXT);
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT,date INTEGER DEFAULT 0,
 message_count INTEGER DEFAULT 0,recipient_ids TEXT,snippet TEXT,snippet_cs INTEGER DEFAULT 0,
 read INTEGER DEFAULT 1,archived INTEGER DEFAULT 0,type INTEGER DEFAULT 0,error INTEGER DEFAULT 0,
 has_attachment INTEGER DEFAULT 0);
CREATE TABLE raw (_id INTEGER PRIMARY KEY,date INTEGER,reference_number INTEGER,count INTEGER,sequence INTEGER,
 destination_port INTEGER,address TEXT,sub_id INTEGER DEFAULT -1,pdu TEXT);
PRAGMA user_version = 66;
"""

# Samsung builds add columns and the spam folders (DFRWS 2021 Samsung database, user_version 358).
SAMSUNG_EXTRA = """
ALTER TABLE sms ADD COLUMN sim_slot INTEGER DEFAULT 0;
ALTER TABLE sms ADD COLUMN sim_imsi TEXT;
ALTER TABLE sms ADD COLUMN group_id INTEGER;
ALTER TABLE sms ADD COLUMN delivery_date INTEGER;
ALTER TABLE sms ADD COLUMN secret_mode INTEGER DEFAULT 0;
ALTER TABLE sms ADD COLUMN favorite INTEGER DEFAULT 0;
ALTER TABLE sms ADD COLUMN from_address TEXT;
ALTER TABLE sms ADD COLUMN correlation_tag TEXT;
ALTER TABLE sms ADD COLUMN object_id TEXT;
ALTER TABLE sms ADD COLUMN cmc_prop TEXT;
CREATE TABLE spam_sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER, date INTEGER,
 date_sent INTEGER DEFAULT 0, protocol INTEGER, read INTEGER DEFAULT 0, status INTEGER DEFAULT -1,
 type INTEGER, body TEXT, service_center TEXT, sim_slot INTEGER DEFAULT 0, filter_type INTEGER DEFAULT 0);
CREATE TABLE spam_pdu (_id INTEGER PRIMARY KEY, thread_id INTEGER, date INTEGER, msg_box INTEGER, m_id TEXT);
PRAGMA user_version = 358;
"""


@dataclass
class MmssmsDb:
    """Writes an mmssms.db with AOSP table/column names; dates are raw provider values."""

    path: Path
    samsung: bool = False
    conn: sqlite3.Connection = field(init=False)

    def __post_init__(self) -> None:
        self.conn = sqlite3.connect(self.path)
        self.conn.executescript(AOSP_SCHEMA + (SAMSUNG_EXTRA if self.samsung else ""))

    def thread(self, *addresses: str) -> int:
        ids = []
        for address in addresses:
            row = self.conn.execute(
                "SELECT _id FROM canonical_addresses WHERE address = ?", (address,)
            ).fetchone()
            ids.append(
                row[0]
                if row
                else self.conn.execute(
                    "INSERT INTO canonical_addresses (address) VALUES (?)", (address,)
                ).lastrowid
            )
        cur = self.conn.execute(
            "INSERT INTO threads (recipient_ids) VALUES (?)", (" ".join(str(i) for i in sorted(ids)),)
        )
        return int(cur.lastrowid or 0)

    def sms(
        self,
        thread: int,
        address: str,
        date_ms: int,
        kind: int,
        body: str,
        *,
        date_sent_ms: int = 0,
        table: str = "sms",
        **extra: object,
    ) -> int:
        values: dict[str, object] = {
            "thread_id": thread,
            "address": address,
            "date": date_ms,
            "date_sent": date_sent_ms,
            "type": kind,
            "body": body,
            "read": 1,
            "status": -1,
            "protocol": 0 if kind == 1 else None,
            "service_center": "+12025550999" if kind == 1 else None,
        }
        values.update(extra)
        names = ", ".join(values)
        cur = self.conn.execute(
            f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(values))})", tuple(values.values())
        )
        return int(cur.lastrowid or 0)

    def mms(
        self,
        thread: int,
        date_s: int,
        box: int,
        *,
        texts: list[str],
        addrs: list[tuple[str, int]],
        m_id: str | None = None,
        image: bool = False,
        tr_id: str | None = None,
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO pdu (thread_id, date, date_sent, msg_box, read, m_id, ct_t, m_type, v, tr_id, seen, "
            "text_only) VALUES (?,?,?,?,1,?,?,?,18,?,1,?)",
            (
                thread,
                date_s,
                date_s if box == 1 else 0,
                box,
                m_id,
                "application/vnd.wap.multipart.related",
                132 if box == 1 else 128,
                tr_id or "T18c2f3a9b11",
                0 if image else 1,
            ),
        )
        pdu = int(cur.lastrowid or 0)
        self.conn.execute(
            "INSERT INTO part (mid, seq, ct, name, chset, cid, cl, text) VALUES "
            "(?, -1, 'application/smil', NULL, NULL, '<smil>', 'smil.xml', ?)",
            (pdu, '<smil><head/><body><par dur="5000ms"><text src="text_0.txt"/></par></body></smil>'),
        )
        for seq, text in enumerate(texts):
            self.conn.execute(
                "INSERT INTO part (mid, seq, ct, chset, cid, cl, text) VALUES "
                "(?, ?, 'text/plain', 106, ?, ?, ?)",
                (pdu, seq, f"<text_{seq}>", f"text_{seq}.txt", text),
            )
        if image:
            self.conn.execute(
                "INSERT INTO part (mid, seq, ct, name, cid, cl, _data) VALUES "
                "(?, ?, 'image/jpeg', 'IMG_0001.jpg', '<image_0>', 'IMG_0001.jpg', ?)",
                (
                    pdu,
                    len(texts),
                    "/data/user_de/0/com.android.providers.telephony/app_parts/PART_1709650000000",
                ),
            )
        for address, kind in addrs:
            self.conn.execute(
                "INSERT INTO addr (msg_id, address, type, charset) VALUES (?,?,?,106)", (pdu, address, kind)
            )
        return pdu

    def close(self) -> Path:
        self.conn.commit()
        self.conn.close()
        return self.path


# --- sms-ie --------------------------------------------------------------------------------------


def _strings(record: dict[str, Any]) -> dict[str, Any]:
    """sms-ie writes every provider column with ``getString``: numbers become JSON strings."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out[key] = _strings(value)
        elif isinstance(value, list):
            out[key] = [_strings(v) if isinstance(v, dict) else v for v in value]
        elif value is not None:
            out[key] = str(value)
    return out


def sms_ie_sms(
    _id: int, thread_id: int, address: str, date_ms: int, kind: int, body: str, **extra: object
) -> dict[str, Any]:
    """An sms-ie SMS line: every non-null `content://sms` column, as strings."""
    return _strings(
        {
            "_id": _id,
            "thread_id": thread_id,
            "address": address,
            "date": date_ms,
            "date_sent": extra.pop("date_sent", 0),
            "protocol": 0 if kind == 1 else None,
            "read": 1,
            "status": -1,
            "type": kind,
            "body": body,
            "locked": 0,
            "sub_id": 1,
            "error_code": 0,
            "creator": "com.google.android.apps.messaging",
            "seen": 1,
            **extra,
        }
    )


def sms_ie_mms(
    _id: int,
    thread_id: int,
    date_s: int,
    box: int,
    *,
    sender: str,
    recipients: list[str],
    texts: list[str],
    m_id: str | None = None,
    v1: bool = False,
) -> dict[str, Any]:
    """An sms-ie MMS line with ``__sender_address``/``__recipient_addresses``/``__parts`` (v1: no ``__``)."""
    prefix = "" if v1 else "__"
    parts = [
        {
            "_id": 100 + i,
            "mid": _id,
            "seq": i,
            "ct": "text/plain",
            "chset": 106,
            "cl": f"text_{i}.txt",
            "text": t,
        }
        for i, t in enumerate(texts)
    ]
    parts.insert(
        0,
        {
            "_id": 99,
            "mid": _id,
            "seq": -1,
            "ct": "application/smil",
            "cl": "smil.xml",
            "text": "<smil><body/></smil>",
        },
    )
    record = {
        "_id": _id,
        "thread_id": thread_id,
        "date": date_s,
        "date_sent": date_s if box == 1 else 0,
        "msg_box": box,
        "read": 1,
        "m_id": m_id,
        "ct_t": "application/vnd.wap.multipart.related",
        "m_type": 132 if box == 1 else 128,
        "v": 18,
        "tr_id": "T18c2f3a9b11",
        "locked": 0,
        "sub_id": 1,
        "seen": 1,
        "text_only": 1,
        f"{prefix}sender_address": {"_id": 1, "msg_id": _id, "address": sender, "type": 137, "charset": 106},
        f"{prefix}recipient_addresses": [
            {"_id": 2 + i, "msg_id": _id, "address": r, "type": 151, "charset": 106}
            for i, r in enumerate(recipients)
        ],
        f"{prefix}parts": parts,
    }
    return _strings(record)


def write_sms_ie_zip(
    path: Path, records: list[dict[str, Any]], *, extra_files: dict[str, bytes] | None = None
) -> Path:
    """An sms-ie v2 export: ``messages.ndjson`` first, then ``data/`` part files."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "messages.ndjson", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        )
        for name, data in (extra_files or {}).items():
            archive.writestr(name, data)
    return path


def write_sms_ie_v1(path: Path, records: list[dict[str, Any]]) -> Path:
    """An sms-ie v1 export: one pretty-printed JSON array."""
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


# --- adb TelephonyBackupAgent ---------------------------------------------------------------------


def write_telephony_backup(path: Path, records: list[dict[str, Any]]) -> Path:
    """A ``NNNNNN_sms_backup``/``NNNNNN_mms_backup`` file: a zlib-compressed JSON array."""
    path.write_bytes(zlib.compress(json.dumps(records).encode("utf-8")))
    return path
