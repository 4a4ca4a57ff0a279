-- Status changes of a tip-off that its reporter has still to be told about. Written in the same
-- transaction as the change; taken by the server once the notice went through the reporter's lane.
CREATE TABLE status_notices (
    id          INTEGER PRIMARY KEY,
    tipoff_id   INTEGER NOT NULL REFERENCES tipoffs(id),
    status      TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    taken_ms    INTEGER
);
CREATE INDEX status_notices_pending ON status_notices(id) WHERE taken_ms IS NULL;
