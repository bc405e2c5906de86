-- Notifications (issue 5). Keep in step with ../postgres/0006_notifications.sql.
--
-- The in-app inbox of each unit: what was booked for its teams. The words are rendered when
-- read, in the reader's language, from the team; a row only says what happened to which team.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    unit_id    BIGINT NOT NULL REFERENCES units(id),
    kind       TEXT NOT NULL CHECK (kind IN ('team_booked')),
    team_id    BIGINT NOT NULL REFERENCES teams(id),
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
CREATE INDEX notifications_by_unit ON notifications (unit_id, id);

-- Messages for other systems (an SMS gateway's webhook), written in the same transaction as
-- what they announce and delivered afterwards, retried with growing pauses until delivered.
-- A deliverer claims a row by moving its next_at past a lease, so two servers never send the
-- same row at once; the receiver gets the row id as an idempotency key for retries.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    topic        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_at      BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error   TEXT
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE delivered_at IS NULL;
