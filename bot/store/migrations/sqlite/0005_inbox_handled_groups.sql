-- pgibot schema, version 5 (SQLite dialect): events that need no handling, packed by group commit.
-- Receipts (delivery, read), the page's own echoes, standby events and the like are stored "already
-- handled" and never read back one by one; on a fanpage they are most of what Facebook delivers. As
-- rows of `inbox` each cost an insert into the table and into inbox_recent_keys, and ~2.5 KB written
-- to the log and again to the database. From this version a group commit stores them in one row here:
-- their keys (read back at start-up, for the dedup window) and the events themselves, each sealed as
-- before. Events to handle keep their own `inbox` rows. Rows stored as handled in `inbox` before this
-- version stay where they are; start-up reads the keys of both tables.
--
-- Both BLOBs are sequences of netstrings ("<length>:<bytes>,"), see bot/store/detail.hpp:
--   dedup_keys: one per event that has a key;
--   events:     four per event: dedup_key ("" if none), user_key, trace_id, sealed event JSON.
-- The keys come first in the row: start-up reads them without the events' overflow pages.
CREATE TABLE inbox_handled_groups (
    id          INTEGER PRIMARY KEY,    -- grows with time, like inbox.id (rows are only ever appended)
    received_ms INTEGER NOT NULL,
    dedup_keys  BLOB NOT NULL,
    events      BLOB NOT NULL
);
