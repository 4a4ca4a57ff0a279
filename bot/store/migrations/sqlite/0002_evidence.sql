-- pgibot schema, version 2 (SQLite dialect): evidence attached to tip-offs.
-- One row per entry of a tip-off's report.evidence, inserted in the transaction that files the
-- tip-off. Platform media links expire, so bot/tipoffs/evidence downloads each one at once:
-- pending -> downloaded (sha256, path, bytes, content_type), or -> failed (last_error) after the
-- last attempt or at the first permanent error (4xx, too big, wrong type).
-- Tip-offs filed before this version have no rows: their links have long expired.
CREATE TABLE evidence (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tipoff_code     TEXT NOT NULL REFERENCES tipoffs (code),
    position        INTEGER NOT NULL,             -- index in report.evidence (0-based)
    url             TEXT NOT NULL,                -- as the platform served it (may hold a token)
    media_type      TEXT NOT NULL,                -- image | video | audio | file (from the chat)
    state           TEXT NOT NULL CHECK (state IN ('pending', 'downloaded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,             -- due when pending and <= now
    sha256          TEXT NOT NULL DEFAULT '',     -- lower-case hex of the stored bytes
    path            TEXT NOT NULL DEFAULT '',     -- stored file
    bytes           INTEGER NOT NULL DEFAULT 0,
    content_type    TEXT NOT NULL DEFAULT '',     -- checked against the file's magic bytes
    last_error      TEXT NOT NULL DEFAULT '',
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    UNIQUE (tipoff_code, position)
);
CREATE INDEX evidence_due ON evidence (next_attempt_ms, id) WHERE state = 'pending';
