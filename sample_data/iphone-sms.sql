-- Synthetic iPhone Messages database (iOS 16+ schema) for sms-audit's README and tests.
-- Turned into sample_data/iphone-sms.db by make_iphone_sample.py, which also archives every body
-- into message.attributedBody and then clears message.text for the rows planned as ab_only
-- (iOS 16+ stores about a third of bodies only there). Fictional numbers only: the owner is
-- +1 202-555-0100, friends +1 202-555-01xx, businesses use short codes and 800-555-01xx.
--
-- Stories the report must find:
--   * ACME (short code 72345): marketing, the owner replies STOP, ACME confirms, then keeps
--     texting more than 10 US business days later, and again from a second short code (72346,
--     "ACME Outlet: ...").
--   * Blue Bottle Coffee (24273): STOP, one confirmation, silence afterwards (honoured).
--   * Pharmacy reminders from 800-555-0199 that say "Reply STOP to end texts" (never replied to).
--   * A verification code from 32665; a friend's "stop it lol" (personal, not an opt-out);
--     a group chat (style 43, 3 participants); a tapback (excluded); iMessage and SMS.
PRAGMA page_size = 1024;
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT,
 replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT,
 attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT,
 account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER,
 is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0,
 is_from_me INTEGER DEFAULT 0, is_empty INTEGER DEFAULT 0, is_delayed INTEGER DEFAULT 0,
 is_auto_reply INTEGER DEFAULT 0, is_prepared INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
 is_system_message INTEGER DEFAULT 0, is_sent INTEGER DEFAULT 0, has_dd_results INTEGER DEFAULT 0,
 is_service_message INTEGER DEFAULT 0, is_forward INTEGER DEFAULT 0, was_downgraded INTEGER DEFAULT 0,
 is_archive INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0, cache_roomnames TEXT,
 was_data_detected INTEGER DEFAULT 0, was_deduplicated INTEGER DEFAULT 0, is_audio_message INTEGER DEFAULT 0, is_played INTEGER DEFAULT 0, date_played INTEGER,
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
 thread_originator_part TEXT DEFAULT NULL, syndication_ranges TEXT DEFAULT NULL, synced_syndication_ranges TEXT DEFAULT NULL,
 was_delivered_quietly INTEGER DEFAULT 0, did_notify_recipient INTEGER DEFAULT 0,
 date_retracted INTEGER DEFAULT 0, date_edited INTEGER DEFAULT 0, was_detonated INTEGER DEFAULT 0,
 part_count INTEGER, is_stewie INTEGER DEFAULT 0, is_kt_verified INTEGER DEFAULT 0, is_sos INTEGER DEFAULT 0,
 is_critical INTEGER DEFAULT 0, bia_reference_id TEXT DEFAULT NULL, fallback_hash TEXT DEFAULT NULL);
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER, state INTEGER,
 account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, room_name TEXT,
 account_login TEXT, is_archived INTEGER DEFAULT 0, last_addressed_handle TEXT, display_name TEXT,
 group_id TEXT, is_filtered INTEGER, successful_query INTEGER, engram_id TEXT, server_change_token TEXT, ck_sync_state INTEGER DEFAULT 0,
 original_group_id TEXT, last_read_message_timestamp INTEGER DEFAULT 0, cloudkit_record_id TEXT,
 last_addressed_sim_id TEXT, is_blackholed INTEGER DEFAULT 0, syndication_date INTEGER DEFAULT 0,
 syndication_type INTEGER DEFAULT 0, is_recovered INTEGER DEFAULT 0);
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
INSERT INTO _SqliteDatabaseProperties VALUES ('_ClientVersion', '17008');
INSERT INTO _SqliteDatabaseProperties VALUES ('_UniqueIdentifier', '2B7E1516-28AE-4D2A-ABF7-158809CF4F3C');

INSERT INTO handle (ROWID, id, country, service, uncanonicalized_id) VALUES
 (1, '72345', 'us', 'SMS', '72345'),
 (2, '72346', 'us', 'SMS', '72346'),
 (3, '24273', 'us', 'SMS', '24273'),
 (4, '+18005550199', 'us', 'SMS', '8005550199'),
 (5, '32665', 'us', 'SMS', '32665'),
 (6, '+12025550142', 'us', 'iMessage', '+12025550142'),
 (7, '+12025550167', 'us', 'iMessage', '+12025550167'),
 (8, '+12025550175', 'us', 'iMessage', '+12025550175'),
 (9, '+12025550142', 'us', 'SMS', '(202) 555-0142');

-- style 45 = one-to-one, 43 = group
INSERT INTO chat (ROWID, guid, style, state, account_id, chat_identifier, service_name, room_name,
                  account_login, display_name) VALUES
 (1, 'SMS;-;72345', 45, 3, '8A1B0C2D-0000-4000-8000-000000000001', '72345', 'SMS', NULL, 'P:+12025550100', NULL),
 (2, 'SMS;-;72346', 45, 3, '8A1B0C2D-0000-4000-8000-000000000001', '72346', 'SMS', NULL, 'P:+12025550100', NULL),
 (3, 'SMS;-;24273', 45, 3, '8A1B0C2D-0000-4000-8000-000000000001', '24273', 'SMS', NULL, 'P:+12025550100', NULL),
 (4, 'SMS;-;+18005550199', 45, 3, '8A1B0C2D-0000-4000-8000-000000000001', '+18005550199', 'SMS', NULL, 'P:+12025550100', NULL),
 (5, 'SMS;-;32665', 45, 3, '8A1B0C2D-0000-4000-8000-000000000001', '32665', 'SMS', NULL, 'P:+12025550100', NULL),
 (6, 'iMessage;-;+12025550142', 45, 3, '8A1B0C2D-0000-4000-8000-000000000002', '+12025550142', 'iMessage', NULL, 'E:owner@example.com', NULL),
 (7, 'iMessage;+;chat493875620745871235', 43, 3, '8A1B0C2D-0000-4000-8000-000000000002', 'chat493875620745871235', 'iMessage', 'chat493875620745871235', 'E:owner@example.com', 'Saturday crew'),
 (8, 'SMS;-;+12025550142', 45, 3, '8A1B0C2D-0000-4000-8000-000000000001', '+12025550142', 'SMS', NULL, 'P:+12025550100', NULL);
INSERT INTO chat_handle_join VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 6), (7, 7), (7, 8), (8, 9);

-- The message plan: times are UTC; ab_only = 1 means the body is kept only in attributedBody.
CREATE TEMP TABLE plan (guid TEXT, chat INTEGER, handle INTEGER, me INTEGER, service TEXT, at TEXT,
                        body TEXT, ab_only INTEGER, reaction INTEGER DEFAULT 0, reacts_to TEXT);
INSERT INTO plan (guid, chat, handle, me, service, at, body, ab_only) VALUES
 ('A0000001-0000-4000-8000-000000000001', 1, 1, 0, 'SMS', '2024-03-01 15:00:00', 'ACME: Spring sale! 30% off everything this weekend at acme.example. Reply STOP to opt out', 1),
 ('A0000001-0000-4000-8000-000000000002', 5, 5, 0, 'SMS', '2024-03-02 17:12:05', 'Your Example verification code is 482913. Don''t share it with anyone.', 0),
 ('A0000001-0000-4000-8000-000000000003', 3, 3, 0, 'SMS', '2024-03-04 13:30:00', 'Blue Bottle Coffee: 2-for-1 lattes today only! Reply STOP to opt out', 0),
 ('A0000001-0000-4000-8000-000000000004', 3, 3, 1, 'SMS', '2024-03-04 13:41:10', 'STOP', 0),
 ('A0000001-0000-4000-8000-000000000005', 3, 3, 0, 'SMS', '2024-03-04 13:41:12', 'Blue Bottle Coffee: You are unsubscribed and will receive no further messages.', 1),
 ('A0000001-0000-4000-8000-000000000006', 6, 6, 0, 'iMessage', '2024-03-06 23:02:00', 'are we still on for saturday?', 1),
 ('A0000001-0000-4000-8000-000000000007', 6, 6, 1, 'iMessage', '2024-03-06 23:04:30', 'yes! 7pm, I''ll bring 12 pizzas', 0),
 ('A0000001-0000-4000-8000-000000000008', 6, 6, 0, 'iMessage', '2024-03-06 23:05:02', 'stop it lol 😂', 0),
 ('A0000001-0000-4000-8000-000000000010', 1, 1, 0, 'SMS', '2024-03-08 15:00:00', 'ACME: Last day! 30% off everything. Reply STOP to opt out', 0),
 ('A0000001-0000-4000-8000-000000000011', 1, 1, 1, 'SMS', '2024-03-08 15:20:41', 'STOP', 1),
 ('A0000001-0000-4000-8000-000000000012', 1, 1, 0, 'SMS', '2024-03-08 15:20:44', 'ACME: You have been unsubscribed and will receive no more messages. Reply HELP for help.', 0),
 ('A0000001-0000-4000-8000-000000000013', 7, 7, 0, 'iMessage', '2024-03-09 16:00:00', 'who is bringing drinks tonight?', 0),
 ('A0000001-0000-4000-8000-000000000014', 7, 0, 1, 'iMessage', '2024-03-09 16:03:00', 'I can grab some', 0),
 ('A0000001-0000-4000-8000-000000000015', 7, 8, 0, 'iMessage', '2024-03-09 16:04:10', 'perfect, see you at 7', 0),
 ('A0000001-0000-4000-8000-000000000016', 4, 4, 0, 'SMS', '2024-03-12 14:10:00', 'Rx Reminder: your prescription is ready for pickup. Reply STOP to end texts', 0),
 ('A0000001-0000-4000-8000-000000000017', 8, 9, 0, 'SMS', '2024-03-14 19:45:00', 'landed, call you later', 1),
 ('A0000001-0000-4000-8000-000000000018', 1, 1, 0, 'SMS', '2024-03-25 15:00:00', 'ACME: We miss you! 40% off this weekend only at acme.example. Reply STOP to opt out', 1),
 ('A0000001-0000-4000-8000-000000000019', 2, 2, 0, 'SMS', '2024-03-27 16:30:00', 'ACME Outlet: Final clearance, up to 70% off! Shop acme.example/outlet. Reply STOP to opt out', 0),
 ('A0000001-0000-4000-8000-000000000020', 4, 4, 0, 'SMS', '2024-04-02 14:10:00', 'Rx Reminder: your prescription is ready for pickup. Reply STOP to end texts', 1),
 ('A0000001-0000-4000-8000-000000000021', 2, 2, 0, 'SMS', '2024-04-05 16:30:00', 'ACME Outlet: Weekend doorbusters start now. Reply STOP to opt out', 0);
-- A tapback ("Loved" on the pizza message): a row of its own, excluded by the importer.
INSERT INTO plan (guid, chat, handle, me, service, at, body, ab_only, reaction, reacts_to) VALUES
 ('A0000001-0000-4000-8000-000000000009', 6, 6, 0, 'iMessage', '2024-03-06 23:05:40',
  'Loved “yes! 7pm, I''ll bring 12 pizzas”', 0, 2000, 'p:0/A0000001-0000-4000-8000-000000000007');

INSERT INTO message (guid, text, handle_id, service, account, account_guid, date, date_read, date_delivered,
                     is_delivered, is_finished, is_from_me, is_read, is_sent, cache_roomnames,
                     associated_message_type, associated_message_guid, destination_caller_id, country)
SELECT p.guid, p.body, p.handle, p.service,
       CASE p.service WHEN 'SMS' THEN 'p:+12025550100' ELSE 'e:owner@example.com' END,
       c.account_id, (CAST(strftime('%s', p.at) AS INTEGER) - 978307200) * 1000000000, 0, 0,
       1, 1, p.me, 1 - p.me, p.me, c.room_name, p.reaction, p.reacts_to, '+12025550100', 'us'
FROM plan p JOIN chat c ON c.ROWID = p.chat ORDER BY p.at;
INSERT INTO chat_message_join (chat_id, message_id, message_date)
SELECT p.chat, m.ROWID, m.date FROM plan p JOIN message m ON m.guid = p.guid;
