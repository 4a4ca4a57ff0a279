-- pgibot schema, version 4 (SQLite dialect): inbox without the UNIQUE index on dedup_key.
-- Dedup keys are random, so with that index every new event landed on a random leaf page of it and a
-- group commit of 64 events wrote ~64 scattered pages; commits slowed as the table grew. The store
-- now deduplicates against the keys of the last days held in memory (bot/store/sqlite/recent_keys.hpp)
-- and an insert is an append. The column stays (NULL: the event has no key).
--
-- SQLite cannot drop an inline UNIQUE, so the table is rebuilt: every row keeps its id, and the
-- AUTOINCREMENT sequence carries over so that an id is never reused. outbox.inbox_id refers to this
-- table: the store runs migrations with foreign key enforcement off and checks them before commit.
CREATE TABLE inbox_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key   TEXT,                       -- NULL: the event has no key, never deduplicated
    user_key    TEXT NOT NULL,
    event_json  TEXT NOT NULL,
    trace_id    TEXT NOT NULL DEFAULT '',
    received_ms INTEGER NOT NULL,
    handled_ms  INTEGER                     -- NULL until its decision is committed
);
INSERT INTO inbox_new (id, dedup_key, user_key, event_json, trace_id, received_ms, handled_ms)
    SELECT id, dedup_key, user_key, event_json, trace_id, received_ms, handled_ms FROM inbox ORDER BY id;
-- The old sequence, which may be past the largest id left (rows deleted by hand).
DELETE FROM sqlite_sequence WHERE name = 'inbox_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'inbox_new', seq FROM sqlite_sequence WHERE name = 'inbox';
DROP TABLE inbox;                            -- its sqlite_sequence row and indexes with it
ALTER TABLE inbox_new RENAME TO inbox;       -- renames the sqlite_sequence row too
CREATE INDEX inbox_unhandled ON inbox (id) WHERE handled_ms IS NULL;
-- What the store reads back at start-up (the keys of the window, newest id first): a narrow copy of
-- three columns in id order, so that it reads a few MB instead of every event of the week (~100 MB
-- for 100k events). Ids only grow, so it is appended to like the table.
CREATE INDEX inbox_recent_keys ON inbox (id, received_ms, dedup_key);
