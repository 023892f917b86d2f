"""Builders for realistic iOS test data under tmp_path: sms.db (several eras), backup folders."""

from __future__ import annotations

import hashlib
import plistlib
import sqlite3
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sms_audit.importers.typedstream import encode_attributed_body
from sms_audit.normalize import APPLE_EPOCH, to_apple_ns

# --- schemas ---------------------------------------------------------------------------------
# Column names and order as in real databases: the first 38 `message` columns are the iOS 7
# set (OTAPKI/iphone), 74 the iOS 14 set (iosbackup-mvt-ios14), the rest iOS 15/16 additions
# (imessage-exporter docs/tables/messages.md).

_MESSAGE_IOS7 = """ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT,
 replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT,
 attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT,
 account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER,
 is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0,
 is_from_me INTEGER DEFAULT 0, is_empty INTEGER DEFAULT 0, is_delayed INTEGER DEFAULT 0,
 is_auto_reply INTEGER DEFAULT 0, is_prepared INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
 is_system_message INTEGER DEFAULT 0, is_sent INTEGER DEFAULT 0, has_dd_results INTEGER DEFAULT 0,
 is_service_message INTEGER DEFAULT 0, is_forward INTEGER DEFAULT 0, was_downgraded INTEGER DEFAULT 0,
 is_archive INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0, cache_roomnames TEXT,
 was_data_detected INTEGER DEFAULT 0, was_deduplicated INTEGER DEFAULT 0"""

_MESSAGE_IOS14_EXTRA = """, is_audio_message INTEGER DEFAULT 0, is_played INTEGER DEFAULT 0, date_played INTEGER,
 item_type INTEGER DEFAULT 0, other_handle INTEGER DEFAULT 0, group_title TEXT,
 group_action_type INTEGER DEFAULT 0, share_status INTEGER DEFAULT 0, share_direction INTEGER DEFAULT 0,
 is_expirable INTEGER DEFAULT 0, expire_state INTEGER DEFAULT 0, message_action_type INTEGER DEFAULT 0,
 message_source INTEGER DEFAULT 0, associated_message_guid TEXT, associated_message_type INTEGER DEFAULT 0,
 balloon_bundle_id TEXT, payload_data BLOB, expressive_send_style_id TEXT,
 associated_message_range_location INTEGER DEFAULT 0, associated_message_range_length INTEGER DEFAULT 0,
 time_expressive_send_played INTEGER, message_summary_info BLOB, ck_sync_state INTEGER DEFAULT 0,
 ck_record_id TEXT, ck_record_change_tag TEXT, destination_caller_id TEXT, sr_ck_sync_state INTEGER DEFAULT 0,
 sr_ck_record_id TEXT, sr_ck_record_change_tag TEXT, is_corrupt INTEGER DEFAULT 0,
 reply_to_guid TEXT DEFAULT NULL, sort_id INTEGER DEFAULT 0, is_spam INTEGER DEFAULT 0,
 has_unseen_mention INTEGER DEFAULT 0, thread_originator_guid TEXT DEFAULT NULL,
 thread_originator_part TEXT DEFAULT NULL"""

_MESSAGE_IOS16_EXTRA = """, syndication_ranges TEXT DEFAULT NULL, synced_syndication_ranges TEXT DEFAULT NULL,
 was_delivered_quietly INTEGER DEFAULT 0, did_notify_recipient INTEGER DEFAULT 0,
 date_retracted INTEGER DEFAULT 0, date_edited INTEGER DEFAULT 0, was_detonated INTEGER DEFAULT 0,
 part_count INTEGER, is_stewie INTEGER DEFAULT 0, is_kt_verified INTEGER DEFAULT 0, is_sos INTEGER DEFAULT 0,
 is_critical INTEGER DEFAULT 0, bia_reference_id TEXT DEFAULT NULL, fallback_hash TEXT DEFAULT NULL"""

_CHAT_IOS7 = """ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER, state INTEGER,
 account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, room_name TEXT,
 account_login TEXT, is_archived INTEGER DEFAULT 0, last_addressed_handle TEXT, display_name TEXT,
 group_id TEXT, is_filtered INTEGER, successful_query INTEGER"""

_CHAT_IOS16_EXTRA = """, engram_id TEXT, server_change_token TEXT, ck_sync_state INTEGER DEFAULT 0,
 original_group_id TEXT, last_read_message_timestamp INTEGER DEFAULT 0, cloudkit_record_id TEXT,
 last_addressed_sim_id TEXT, is_blackholed INTEGER DEFAULT 0, syndication_date INTEGER DEFAULT 0,
 syndication_type INTEGER DEFAULT 0, is_recovered INTEGER DEFAULT 0"""

_COMMON = """
CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT,
 service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT, UNIQUE (id, service));
CREATE TABLE chat_handle_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
 handle_id INTEGER REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id));
CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
 message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, message_date INTEGER DEFAULT 0,
 PRIMARY KEY (chat_id, message_id));
CREATE INDEX chat_message_join_idx_message_id_only ON chat_message_join(message_id);
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
 created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT,
 transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT,
 total_bytes INTEGER DEFAULT 0);
CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
 attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id));
"""

#: iOS 7-era database: Apple-epoch *seconds*, no reactions/group-event columns (_ClientVersion 7006).
IOS7_SCHEMA = f"CREATE TABLE message ({_MESSAGE_IOS7});\nCREATE TABLE chat ({_CHAT_IOS7});\n{_COMMON}"
#: iOS 14 (_ClientVersion 14006): nanoseconds, `text` always filled.
IOS14_SCHEMA = (
    f"CREATE TABLE message ({_MESSAGE_IOS7}{_MESSAGE_IOS14_EXTRA});\n"
    f"CREATE TABLE chat ({_CHAT_IOS7}{_CHAT_IOS16_EXTRA});\n{_COMMON}"
)
#: iOS 16+ (_ClientVersion 17xxx): nanoseconds, `text` often NULL with the body in attributedBody.
IOS16_SCHEMA = (
    f"CREATE TABLE message ({_MESSAGE_IOS7}{_MESSAGE_IOS14_EXTRA}{_MESSAGE_IOS16_EXTRA});\n"
    f"CREATE TABLE chat ({_CHAT_IOS7}{_CHAT_IOS16_EXTRA});\n{_COMMON}"
)

#: The iOS 5 layout (smsdb-ios5-legacy-eichbaum): no handle/chat, Unix dates, direction in flags.
IOS5_LEGACY_SCHEMA = """
CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT, date INTEGER, text TEXT,
 flags INTEGER, replace INTEGER, svc_center TEXT, group_id INTEGER, association_id INTEGER, height INTEGER,
 UIFlags INTEGER, version INTEGER, subject TEXT, country TEXT, headers BLOB, recipients BLOB, read INTEGER,
 madrid_attributedBody BLOB, madrid_handle TEXT, madrid_version INTEGER, madrid_guid TEXT,
 madrid_type INTEGER, madrid_roomname TEXT, madrid_service TEXT, madrid_account TEXT,
 madrid_account_guid TEXT, madrid_flags INTEGER, madrid_attachmentInfo BLOB, madrid_url TEXT,
 madrid_error INTEGER, is_madrid INTEGER, madrid_date_read INTEGER, madrid_date_delivered INTEGER);
CREATE TABLE msg_group (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER, newest_message INTEGER,
 unread_count INTEGER, hash INTEGER);
CREATE TABLE group_member (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER, address TEXT,
 country TEXT);
CREATE TABLE madrid_chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, style INTEGER, state INTEGER,
 account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, guid TEXT, room_name TEXT);
INSERT INTO _SqliteDatabaseProperties VALUES ('_ClientVersion', '21');
INSERT INTO msg_group VALUES (2, 0, 8, 0, 0);
INSERT INTO message (ROWID, address, date, text, flags, country) VALUES
 (8, '+12025550143', 1331431734, 'Sweet', 2, 'us');
"""


# --- attributedBody --------------------------------------------------------------------------

# --- sms.db builder --------------------------------------------------------------------------


def apple_seconds(moment: datetime) -> int:
    """Apple-epoch seconds (iOS <= 10)."""
    return int((moment - APPLE_EPOCH).total_seconds())


@dataclass
class SmsDb:
    """Writes an sms.db with real table/column names; dates are given as aware datetimes."""

    path: Path
    schema: str = IOS16_SCHEMA
    client_version: str | None = "17008"
    seconds_dates: bool = False  # True: the pre-iOS 11 unit
    conn: sqlite3.Connection = field(init=False)

    def __post_init__(self) -> None:
        self.conn = sqlite3.connect(self.path)
        self.conn.executescript(self.schema)
        if self.client_version is not None:
            self.conn.execute(
                "INSERT INTO _SqliteDatabaseProperties VALUES ('_ClientVersion', ?)", (self.client_version,)
            )

    def date(self, moment: datetime | None) -> int:
        if moment is None:
            return 0
        return apple_seconds(moment) if self.seconds_dates else to_apple_ns(moment)

    def handle(self, ident: str, service: str = "SMS", country: str = "us") -> int:
        cur = self.conn.execute(
            "INSERT INTO handle (id, country, service, uncanonicalized_id) VALUES (?,?,?,?)",
            (ident, country, service, ident),
        )
        return int(cur.lastrowid or 0)

    def chat(
        self,
        identifier: str,
        handles: list[int],
        *,
        style: int = 45,
        service: str = "SMS",
        room_name: str | None = None,
        display_name: str | None = None,
    ) -> int:
        sep = "+" if style == 43 else "-"
        cur = self.conn.execute(
            "INSERT INTO chat (guid, style, state, account_id, chat_identifier, service_name, room_name, "
            "account_login, display_name) VALUES (?,?,3,?,?,?,?,?,?)",
            (
                f"{service};{sep};{identifier}",
                style,
                "8A1B0C2D-0000-4000-8000-000000000001",
                identifier,
                service,
                room_name,
                "P:+12025550100",
                display_name,
            ),
        )
        chat_id = int(cur.lastrowid or 0)
        self.conn.executemany("INSERT INTO chat_handle_join VALUES (?,?)", [(chat_id, h) for h in handles])
        return chat_id

    def message(
        self,
        *,
        guid: str,
        handle: int,
        chat: int | None,
        date: datetime | None,
        text: str | None = None,
        attributed: str | None = None,
        is_from_me: int = 0,
        service: str = "SMS",
        **extra: object,
    ) -> int:
        """Insert one message. ``attributed`` is archived into attributedBody; pass text=None for the
        iOS 16 "body only in attributedBody" case."""
        values: dict[str, object] = {
            "guid": guid,
            "text": text,
            "handle_id": handle,
            "service": service,
            "is_from_me": is_from_me,
            "date": self.date(date),
            "date_read": 0,
            "date_delivered": 0,
            "is_finished": 1,
            "is_sent": is_from_me,
            "is_delivered": 1,
            "is_read": 1 - is_from_me,
            "account": "p:+12025550100",
            "account_guid": "8A1B0C2D-0000-4000-8000-000000000001",
            "country": "us",
        }
        if attributed is not None:
            values["attributedBody"] = encode_attributed_body(attributed)
        if "destination_caller_id" in self._message_columns():
            values["destination_caller_id"] = "+12025550100"
        values.update(extra)
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cur = self.conn.execute(f"INSERT INTO message ({names}) VALUES ({marks})", tuple(values.values()))
        rowid = int(cur.lastrowid or 0)
        if chat is not None:
            self.conn.execute("INSERT INTO chat_message_join VALUES (?,?,?)", (chat, rowid, values["date"]))
        return rowid

    def _message_columns(self) -> set[str]:
        return {row[1] for row in self.conn.execute("PRAGMA table_info(message)")}

    def close(self) -> Path:
        self.conn.commit()
        self.conn.close()
        return self.path


def dt(text: str) -> datetime:
    """``"2024-03-05 14:00:00"`` as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- backup folders --------------------------------------------------------------------------

SMS_DB_FILE_ID = hashlib.sha1(b"HomeDomain-Library/SMS/sms.db").hexdigest()  # 3d0d7e5f…


def _mbfile_plist(relative_path: str, size: int, extra: dict[str, object] | None = None) -> bytes:
    """The NSKeyedArchiver MBFile blob of Manifest.db `Files.file` (shape of the iOS 14 manifest)."""
    record: dict[str, object] = {
        "$class": plistlib.UID(3),
        "Birth": 1600000000,
        "Flags": 0,
        "GroupID": 501,
        "InodeNumber": 279_000,
        "LastModified": 1600000000,
        "LastStatusChange": 1600000000,
        "Mode": 0o100644,
        "ProtectionClass": 4,
        "RelativePath": plistlib.UID(2),
        "Size": size,
        "UserID": 501,
    }
    objects: list[object] = [
        "$null",
        record,
        relative_path,
        {"$classname": "MBFile", "$classes": ["MBFile", "NSObject"]},
    ]
    if extra:
        for key, value in extra.items():
            if isinstance(value, bytes):
                objects.append({"NS.data": value, "$class": plistlib.UID(len(objects) + 1)})
                objects.append(
                    {"$classname": "NSMutableData", "$classes": ["NSMutableData", "NSData", "NSObject"]}
                )
                record[key] = plistlib.UID(len(objects) - 2)
            else:
                record[key] = value
    archive = {
        "$version": 100000,
        "$archiver": "NSKeyedArchiver",
        "$top": {"root": plistlib.UID(1)},
        "$objects": objects,
    }
    return plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)


MANIFEST_SCHEMA = """
CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
CREATE INDEX FilesDomainIdx ON Files(domain);
CREATE INDEX FilesRelativePathIdx ON Files(relativePath);
CREATE INDEX FilesFlagsIdx ON Files(flags);
CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);
"""

INFO_PLIST = {
    "Build Version": "21E236",
    "Device Name": "Test iPhone",
    "Display Name": "Test iPhone",
    "GUID": "0123456789ABCDEF0123456789ABCDEF",
    "Last Backup Date": datetime(2024, 4, 20, 9, 0),
    "Product Type": "iPhone14,5",
    "Product Version": "17.4.1",
    "Serial Number": "F00000000000",
    "Target Identifier": "00008110-000000000000001E",
    "Target Type": "Device",
    "Unique Identifier": "00008110-000000000000001E",
    "iTunes Version": "12.13.1.3",
}


def make_backup(
    folder: Path,
    sms_db: Path | None,
    *,
    layout: str = "manifest",
    sms_file_id: str = SMS_DB_FILE_ID,
    info: dict[str, object] | None = None,
    manifest_plist: dict[str, object] | None = None,
) -> Path:
    """An unencrypted iTunes/Finder backup folder holding ``sms_db``.

    layout "manifest": iOS 10+ (Manifest.db + <2 hex>/<fileID>); "hash": the same files but no
    Manifest.db row for sms.db; "flat": iOS <= 9 (<fileID> at the top, Manifest.mbdb).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Info.plist").write_bytes(plistlib.dumps(INFO_PLIST if info is None else info))
    if manifest_plist is not None:
        (folder / "Manifest.plist").write_bytes(plistlib.dumps(manifest_plist, fmt=plistlib.FMT_BINARY))
    data = sms_db.read_bytes() if sms_db is not None else b""
    if layout == "flat":
        (folder / "Manifest.mbdb").write_bytes(b"mbdb\x05\x00")  # header only: we never parse it
        if sms_db is not None:
            (folder / sms_file_id).write_bytes(data)
        return folder
    conn = sqlite3.connect(folder / "Manifest.db")
    conn.executescript(MANIFEST_SCHEMA)
    rows = [
        (
            hashlib.sha1(b"HomeDomain-Library/SMS").hexdigest(),
            "HomeDomain",
            "Library/SMS",
            2,
            _mbfile_plist("Library/SMS", 0),
        ),
        (
            hashlib.sha1(b"HomeDomain-Library/Preferences/com.apple.MobileSMS.plist").hexdigest(),
            "HomeDomain",
            "Library/Preferences/com.apple.MobileSMS.plist",
            1,
            _mbfile_plist("Library/Preferences/com.apple.MobileSMS.plist", 42),
        ),
    ]
    if sms_db is not None and layout == "manifest":
        rows.append(
            (
                sms_file_id,
                "HomeDomain",
                "Library/SMS/sms.db",
                1,
                _mbfile_plist("Library/SMS/sms.db", len(data)),
            )
        )
    conn.executemany("INSERT INTO Files VALUES (?,?,?,?,?)", rows)
    conn.commit()
    conn.close()
    if sms_db is not None:
        (folder / sms_file_id[:2]).mkdir(exist_ok=True)
        (folder / sms_file_id[:2] / sms_file_id).write_bytes(data)
    return folder


# --- encrypted backups -----------------------------------------------------------------------
# The real scheme (iphone_backup_decrypt utils.py): the passphrase is stretched with PBKDF2-SHA256
# (DPIC rounds, DPSL salt) then PBKDF2-SHA1 (ITER rounds, SALT); that key AES-unwraps the class keys
# of the BackupKeyBag; a class key unwraps the ManifestKey and each file's EncryptionKey; files and
# Manifest.db are AES-256-CBC with a zero IV and PKCS#7 padding. Real backups use 10M/10k rounds;
# the fixture uses 1/1 so the test runs in milliseconds.


def _tlv(tag: bytes, value: bytes | int) -> bytes:
    data = struct.pack(">L", value) if isinstance(value, int) else value
    return tag + struct.pack(">L", len(data)) + data


def make_encrypted_backup(folder: Path, sms_db: Path, passphrase: str) -> Path:
    """An encrypted backup of ``sms_db`` that iphone_backup_decrypt can open (needs pycryptodome)."""
    from Crypto.Cipher import AES
    from Crypto.Hash import SHA1, SHA256
    from Crypto.Protocol.KDF import PBKDF2
    from Crypto.Util.Padding import pad

    def wrap(kek: bytes, key: bytes) -> bytes:
        return AES.new(kek, AES.MODE_KW).seal(key)

    def encrypt(key: bytes, data: bytes) -> bytes:
        return AES.new(key, AES.MODE_CBC, iv=b"\x00" * 16).encrypt(pad(data, 16))

    dpsl, salt = b"\x11" * 20, b"\x22" * 20
    round1 = PBKDF2(passphrase.encode(), dpsl, 32, 1, hmac_hash_module=SHA256)
    passphrase_key = PBKDF2(round1, salt, 32, 1, hmac_hash_module=SHA1)
    class_key, manifest_key, file_key = b"\x33" * 32, b"\x44" * 32, b"\x55" * 32
    protection_class = 3
    keybag = b"".join(
        [
            _tlv(b"VERS", 4),
            _tlv(b"TYPE", 1),
            _tlv(b"UUID", b"\x01" * 16),
            _tlv(b"HMCK", b"\x00" * 40),
            _tlv(b"WRAP", 0),
            _tlv(b"SALT", salt),
            _tlv(b"ITER", 1),
            _tlv(b"DPWT", 1),
            _tlv(b"DPIC", 1),
            _tlv(b"DPSL", dpsl),
            _tlv(b"UUID", b"\x02" * 16),
            _tlv(b"CLAS", protection_class),
            _tlv(b"WRAP", 2),
            _tlv(b"KTYP", 0),
            _tlv(b"WPKY", wrap(passphrase_key, class_key)),
        ]
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Info.plist").write_bytes(plistlib.dumps(INFO_PLIST))
    (folder / "Manifest.plist").write_bytes(
        plistlib.dumps(
            {
                "BackupKeyBag": keybag,
                "IsEncrypted": True,
                "Version": "10.0",
                "WasPasscodeSet": True,
                "Date": datetime(2024, 4, 20, 9, 0),
                "ManifestKey": struct.pack("<l", protection_class) + wrap(class_key, manifest_key),
                "Lockdown": {
                    "ProductVersion": "17.4.1",
                    "BuildVersion": "21E236",
                    "DeviceName": "Test iPhone",
                },
            },
            fmt=plistlib.FMT_BINARY,
        )
    )
    data = sms_db.read_bytes()
    wrapped_file_key = struct.pack("<l", protection_class) + wrap(class_key, file_key)
    plain_manifest = folder / "Manifest.plain.db"
    conn = sqlite3.connect(plain_manifest)
    conn.executescript(MANIFEST_SCHEMA)
    conn.execute(
        "INSERT INTO Files VALUES (?,?,?,?,?)",
        (
            SMS_DB_FILE_ID,
            "HomeDomain",
            "Library/SMS/sms.db",
            1,
            _mbfile_plist(
                "Library/SMS/sms.db",
                len(data),
                {"EncryptionKey": wrapped_file_key, "ProtectionClass": protection_class},
            ),
        ),
    )
    conn.commit()
    conn.close()
    (folder / "Manifest.db").write_bytes(encrypt(manifest_key, plain_manifest.read_bytes()))
    plain_manifest.unlink()
    (folder / SMS_DB_FILE_ID[:2]).mkdir(exist_ok=True)
    (folder / SMS_DB_FILE_ID[:2] / SMS_DB_FILE_ID).write_bytes(encrypt(file_key, data))
    return folder


# --- a realistic iOS 16 database -------------------------------------------------------------

OWNER = "+12025550100"
FRIEND = "+12025550142"
COWORKER = "+12025550167"


def make_ios16_db(path: Path) -> Path:
    """An iOS 16+ sms.db covering every row kind the importer must tell apart.

    Kept: 22000 marketing (body only in attributedBody), the owner's STOP (text), a friend's
    iMessage, a group message in and out (style 43, 3 participants), a photo-only MMS, a spam-
    filtered SMS, a failed send. Excluded: a tapback, a group rename, a system row, a retracted
    message. Skipped: a row with date 0.
    """
    db = SmsDb(path, client_version="17008")
    shop = db.handle("22000")
    friend_sms = db.handle(FRIEND)
    friend = db.handle(FRIEND, "iMessage")
    coworker = db.handle(COWORKER, "iMessage")
    spammer = db.handle("+12025550188")
    c_shop = db.chat("22000", [shop])
    c_friend = db.chat(FRIEND, [friend], service="iMessage")
    c_friend_sms = db.chat(FRIEND, [friend_sms])
    c_group = db.chat(
        "chat493875620745871235",
        [friend, coworker, db.handle("+12025550175", "iMessage")],
        style=43,
        service="iMessage",
        room_name="chat493875620745871235",
        display_name="Book club",
    )
    c_spam = db.chat("+12025550188", [spammer])
    db.message(
        guid="5C1A0E52-0001-4C6B-9E21-000000000001",
        handle=shop,
        chat=c_shop,
        date=dt("2024-03-05 14:00:00"),
        attributed="ACME: 20% off this weekend! Reply STOP to opt out",
    )
    db.message(
        guid="5C1A0E52-0002-4C6B-9E21-000000000002",
        handle=shop,
        chat=c_shop,
        is_from_me=1,
        date=dt("2024-03-05 14:03:10"),
        text="STOP",
        attributed="STOP",
    )
    db.message(
        guid="5C1A0E52-0003-4C6B-9E21-000000000003",
        handle=friend,
        chat=c_friend,
        service="iMessage",
        date=dt("2024-03-06 18:30:00"),
        attributed="dinner at 8?",
    )
    db.message(
        guid="5C1A0E52-0004-4C6B-9E21-000000000004",
        handle=friend,
        chat=c_friend,
        is_from_me=1,
        service="iMessage",
        date=dt("2024-03-06 18:31:00"),
        text="Liked “dinner at 8?”",
        associated_message_type=2001,
        associated_message_guid="p:0/5C1A0E52-0003-4C6B-9E21-000000000003",
    )
    db.message(
        guid="5C1A0E52-0005-4C6B-9E21-000000000005",
        handle=coworker,
        chat=c_group,
        service="iMessage",
        date=dt("2024-03-07 09:00:00"),
        attributed="who brings snacks?",
        cache_roomnames="chat493875620745871235",
    )
    db.message(
        guid="5C1A0E52-0006-4C6B-9E21-000000000006",
        handle=0,
        chat=c_group,
        is_from_me=1,
        service="iMessage",
        date=dt("2024-03-07 09:05:00"),
        text="me!",
        cache_roomnames="chat493875620745871235",
    )
    db.message(
        guid="5C1A0E52-0007-4C6B-9E21-000000000007",
        handle=coworker,
        chat=c_group,
        service="iMessage",
        date=dt("2024-03-07 09:06:00"),
        item_type=2,
        group_title="Book club",
        cache_roomnames="chat493875620745871235",
    )
    db.message(
        guid="5C1A0E52-0008-4C6B-9E21-000000000008",
        handle=friend_sms,
        chat=c_friend_sms,
        date=dt("2024-03-08 12:00:00"),
        text="\ufffc",
        attributed="\ufffc",
        cache_has_attachments=1,
    )
    db.message(
        guid="5C1A0E52-0009-4C6B-9E21-000000000009",
        handle=spammer,
        chat=c_spam,
        date=dt("2024-03-09 03:00:00"),
        text="You won a prize! claim at example.com",
        is_spam=1,
    )
    db.message(
        guid="5C1A0E52-0010-4C6B-9E21-000000000010",
        handle=friend_sms,
        chat=c_friend_sms,
        is_from_me=1,
        date=dt("2024-03-09 10:00:00"),
        text="running late",
        error=4,
    )
    db.message(
        guid="5C1A0E52-0011-4C6B-9E21-000000000011",
        handle=0,
        chat=None,
        date=dt("2024-03-09 11:00:00"),
        text="",
        is_system_message=1,
    )
    db.message(
        guid="5C1A0E52-0012-4C6B-9E21-000000000012",
        handle=friend,
        chat=c_friend,
        service="iMessage",
        is_from_me=1,
        date=dt("2024-03-09 12:00:00"),
        date_retracted=to_apple_ns(dt("2024-03-09 12:01:00")),
    )
    db.message(
        guid="5C1A0E52-0013-4C6B-9E21-000000000013",
        handle=shop,
        chat=c_shop,
        date=None,
        attributed="broken row",
    )
    return db.close()
