"""Builder for Google Messages ``bugle_db`` (FORMATS-CN §6): the AOSP Messaging DDL (bugle_db v4) plus
the columns newer app versions add (``rcs_message_id``, ``rcs_group_id``, ``file_size_bytes`` …).

Participants: ``sub_id`` −1 (and 1) is the owner, −2 everyone else; the owner is never in
``conversation_participants``; ``parts.timestamp`` is set from ``messages.received_timestamp`` by the
app's trigger. Numbers are fictional (NANP 555-01xx, UK 07700 900xxx).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

BUGLE_DDL = """
CREATE TABLE conversations(_id INTEGER PRIMARY KEY AUTOINCREMENT, sms_thread_id INT DEFAULT(0), name TEXT,
 latest_message_id INT, snippet_text TEXT, subject_text TEXT, preview_uri TEXT, preview_content_type TEXT,
 show_draft INT DEFAULT(0), draft_snippet_text TEXT, draft_subject_text TEXT, draft_preview_uri TEXT,
 draft_preview_content_type TEXT, archive_status INT DEFAULT(0), sort_timestamp INT DEFAULT(0),
 last_read_timestamp INT DEFAULT(0), icon TEXT, participant_contact_id INT DEFAULT ( -1),
 participant_lookup_key TEXT, participant_normalized_destination TEXT, current_self_id TEXT,
 participant_count INT DEFAULT(0), notification_enabled INT DEFAULT(1), notification_sound_uri TEXT,
 notification_vibration INT DEFAULT(1), include_email_addr INT DEFAULT(0), sms_service_center TEXT,
 conv_type INT DEFAULT(0), rcs_group_id TEXT);
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id INT, sender_id INT,
 sent_timestamp INT DEFAULT(0), received_timestamp INT DEFAULT(0), message_protocol INT DEFAULT(0),
 message_filter_type INT DEFAULT(0), message_status INT DEFAULT(0), seen INT DEFAULT(0), read INT DEFAULT(0),
 sms_message_uri TEXT, sms_priority INT DEFAULT(0), sms_message_size INT DEFAULT(0), mms_subject TEXT,
 mms_transaction_id TEXT, mms_content_location TEXT, mms_expiry INT DEFAULT(0), raw_status INT DEFAULT(0),
 self_id INT, retry_start_timestamp INT DEFAULT(0), rcs_message_id TEXT,
 FOREIGN KEY (conversation_id) REFERENCES conversations(_id) ON DELETE CASCADE
 FOREIGN KEY (sender_id) REFERENCES participants(_id) ON DELETE SET NULL
 FOREIGN KEY (self_id) REFERENCES participants(_id) ON DELETE SET NULL);
CREATE TABLE parts(_id INTEGER PRIMARY KEY AUTOINCREMENT, message_id INT, text TEXT, uri TEXT,
 content_type TEXT, width INT DEFAULT(-1), height INT DEFAULT(-1), timestamp INT,
 conversation_id INT NOT NULL, raw_text TEXT, file_size_bytes INT DEFAULT(-1), local_cache_path TEXT,
 FOREIGN KEY (message_id) REFERENCES messages(_id) ON DELETE CASCADE
 FOREIGN KEY (conversation_id) REFERENCES conversations(_id) ON DELETE CASCADE);
CREATE TABLE participants(_id INTEGER PRIMARY KEY AUTOINCREMENT, sub_id INT DEFAULT(-2),
 sim_slot_id INT DEFAULT(-1), normalized_destination TEXT, send_destination TEXT, display_destination TEXT,
 full_name TEXT, first_name TEXT, profile_photo_uri TEXT, contact_id INT DEFAULT( -1), lookup_key STRING,
 blocked INT DEFAULT(0), subscription_name TEXT, subscription_color INT DEFAULT(0), contact_destination TEXT,
 UNIQUE (normalized_destination, sub_id) ON CONFLICT FAIL);
CREATE TABLE conversation_participants(_id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id INT,
 participant_id INT, UNIQUE (conversation_id,participant_id) ON CONFLICT FAIL,
 FOREIGN KEY (conversation_id) REFERENCES conversations(_id) ON DELETE CASCADE
 FOREIGN KEY (participant_id) REFERENCES participants(_id));
CREATE INDEX index_parts_message_id ON parts(message_id);
CREATE TRIGGER parts_TRIGGER AFTER INSERT ON parts FOR EACH ROW BEGIN UPDATE parts SET timestamp=
 (SELECT received_timestamp FROM messages WHERE messages._id=NEW.message_id) WHERE parts._id=NEW._id; END;
INSERT INTO participants (sub_id) VALUES (-1);
PRAGMA user_version = 61791;
"""

SELF = 1  # the participant AOSP inserts at creation (sub_id -1)


@dataclass
class BugleDb:
    """Writes a bugle_db; ``wal`` leaves the database in WAL mode (call :meth:`close` to finish)."""

    path: Path
    wal: bool = False
    conn: sqlite3.Connection = field(init=False)

    def __post_init__(self) -> None:
        self.conn = sqlite3.connect(self.path)
        if self.wal:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA wal_autocheckpoint=0")
        self.conn.executescript(BUGLE_DDL)
        self.conn.execute("INSERT INTO participants (sub_id, sim_slot_id) VALUES (1, 0)")  # a second SIM

    def participant(self, destination: str, *, display: str | None = None, name: str | None = None) -> int:
        """Another person (sub_id −2); ``destination`` as the app stores it (E.164 or a sender ID)."""
        row = self.conn.execute(
            "SELECT _id FROM participants WHERE send_destination = ? AND sub_id = -2", (destination,)
        ).fetchone()
        if row:
            return int(row[0])
        cursor = self.conn.execute(
            "INSERT INTO participants (sub_id, normalized_destination, send_destination, display_destination, "
            "full_name) VALUES (-2, ?, ?, ?, ?)",
            (destination, destination, display or destination, name),
        )
        return int(cursor.lastrowid or 0)

    def conversation(
        self, *destinations: str, name: str | None = None, rcs_group_id: str | None = None
    ) -> int:
        people = [self.participant(d) for d in destinations]
        cursor = self.conn.execute(
            "INSERT INTO conversations (name, participant_count, participant_normalized_destination, "
            "current_self_id, conv_type, rcs_group_id) VALUES (?, ?, ?, '1', ?, ?)",
            (
                name or ", ".join(destinations),
                len(people),
                destinations[0] if len(destinations) == 1 else None,
                1 if len(people) > 1 else 0,
                rcs_group_id,
            ),
        )
        conversation = int(cursor.lastrowid or 0)
        for person in people:
            self.conn.execute(
                "INSERT INTO conversation_participants (conversation_id, participant_id) VALUES (?, ?)",
                (conversation, person),
            )
        return conversation

    def message(
        self,
        conversation: int,
        sender: int | None,
        received_ms: int,
        text: str | None,
        *,
        protocol: int = 0,
        status: int = 100,
        sent_ms: int | None = None,
        attachments: tuple[str, ...] = (),
        rcs_message_id: str | None = None,
    ) -> int:
        """One message with its parts: a ``text/plain`` part holding ``text`` (None: no text part) and
        one part per attachment content type."""
        cursor = self.conn.execute(
            "INSERT INTO messages (conversation_id, sender_id, sent_timestamp, received_timestamp, "
            "message_protocol, message_status, seen, read, self_id, rcs_message_id, sms_message_uri) "
            "VALUES (?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?)",
            (
                conversation,
                sender,
                sent_ms if sent_ms is not None else received_ms,
                received_ms,
                protocol,
                status,
                SELF,
                rcs_message_id,
                None
                if protocol == 3
                else f"content://{'sms' if protocol == 0 else 'mms'}/{received_ms % 997}",
            ),
        )
        message = int(cursor.lastrowid or 0)
        if text is not None:
            self.conn.execute(
                "INSERT INTO parts (message_id, text, content_type, conversation_id) VALUES (?, ?, 'text/plain', ?)",
                (message, text, conversation),
            )
        for content_type in attachments:
            self.conn.execute(
                "INSERT INTO parts (message_id, uri, content_type, conversation_id, file_size_bytes) "
                "VALUES (?, ?, ?, ?, 48213)",
                (message, f"content://mms/part/{message}", content_type, conversation),
            )
        return message

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()
