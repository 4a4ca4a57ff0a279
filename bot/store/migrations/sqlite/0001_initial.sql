-- pgibot schema, version 1 (SQLite dialect).
-- Times are milliseconds since the Unix epoch (UTC). Booleans are 0/1 integers.
-- Platforms, outbox states and tip-off statuses are stored by name ("facebook", "pending", ...).

-- Webhook events, committed before the platform gets its 200 OK.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key   TEXT UNIQUE,                -- NULL: the event has no key, never deduplicated
    user_key    TEXT NOT NULL,
    event_json  TEXT NOT NULL,
    trace_id    TEXT NOT NULL DEFAULT '',
    received_ms INTEGER NOT NULL,
    handled_ms  INTEGER                     -- NULL until its decision is committed
);
CREATE INDEX inbox_unhandled ON inbox (id) WHERE handled_ms IS NULL;

-- One row per user lane: the handlers' conversation state.
CREATE TABLE conversations (
    user_key   TEXT PRIMARY KEY,
    state_json TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    has_dialog INTEGER NOT NULL DEFAULT 0   -- state has a non-empty "dialog" (tip-off draft)
);
CREATE INDEX conversations_idle_dialog ON conversations (updated_ms) WHERE has_dialog = 1;

-- Replies to send (transactional outbox). deliver = 0: recorded as sent, never sent.
CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    platform            TEXT NOT NULL,
    page_id             TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    body                TEXT NOT NULL,
    message_json        TEXT NOT NULL,
    state               TEXT NOT NULL
                        CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unreachable')),
    deliver             INTEGER NOT NULL DEFAULT 1,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms     INTEGER NOT NULL,
    last_error          TEXT NOT NULL DEFAULT '',
    platform_message_id TEXT NOT NULL DEFAULT '',
    trace_id            TEXT NOT NULL DEFAULT '',
    inbox_id            INTEGER REFERENCES inbox (id),   -- NULL: not caused by an inbox event
    created_ms          INTEGER NOT NULL,
    sent_ms             INTEGER
);
CREATE INDEX outbox_open ON outbox (next_attempt_ms, id) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_open_by_user ON outbox (platform, page_id, user_id, id) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_by_inbox ON outbox (inbox_id);

-- Per platform user: subscription (derived from the conversation state) and reachability.
CREATE TABLE users (
    platform           TEXT NOT NULL,
    page_id            TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    user_key           TEXT NOT NULL DEFAULT '',
    subscribed         INTEGER NOT NULL DEFAULT 0,
    unreachable_reason TEXT,                 -- NULL: reachable
    unreachable_ms     INTEGER,
    updated_ms         INTEGER NOT NULL,
    PRIMARY KEY (platform, page_id, user_id)
);
CREATE INDEX users_by_user_id ON users (platform, user_id);

-- Questions the content could not answer (no user identity kept).
CREATE TABLE unmatched_questions (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    text     TEXT NOT NULL,
    at_ms    INTEGER NOT NULL
);
CREATE INDEX unmatched_questions_at ON unmatched_questions (at_ms);

-- Platform access tokens (Zalo OA tokens rotate).
CREATE TABLE tokens (
    key           TEXT PRIMARY KEY,
    access_token  TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
);

-- Pollution tip-offs. report_json never holds the reporter's identity: that is identity_sealed.
CREATE TABLE tipoffs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE,     -- LS-YYMM-NNNN (tipoff_sequences)
    report_json     TEXT NOT NULL,
    identity_sealed BLOB NOT NULL,
    reporter_lookup TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);
CREATE INDEX tipoffs_created ON tipoffs (created_ms);
CREATE INDEX tipoffs_reporter ON tipoffs (reporter_lookup);

-- The last NNNN handed out per month (YYYYMM, Vietnam time). Codes may be reserved before the
-- report is committed, so a number is never reused even if its report never arrives.
CREATE TABLE tipoff_sequences (
    month_key INTEGER PRIMARY KEY,
    last_seq  INTEGER NOT NULL
);

CREATE TABLE tipoff_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tipoff_id  INTEGER NOT NULL REFERENCES tipoffs (id),
    status     TEXT NOT NULL,
    changed_by TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    at_ms      INTEGER NOT NULL
);
CREATE INDEX tipoff_history_by_tipoff ON tipoff_history (tipoff_id, id);

CREATE TABLE forward_attempts (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tipoff_id INTEGER NOT NULL REFERENCES tipoffs (id),
    channel   TEXT NOT NULL,
    target    TEXT NOT NULL,
    ok        INTEGER NOT NULL,
    detail    TEXT NOT NULL DEFAULT '',
    at_ms     INTEGER NOT NULL
);
CREATE INDEX forward_attempts_by_tipoff ON forward_attempts (tipoff_id, id);

-- writable(): a one-row table the health probe rewrites.
CREATE TABLE store_health (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    probed_ms INTEGER NOT NULL
);
