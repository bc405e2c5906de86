-- Booking (issue 4): idempotency keys, so a retried request returns the original result and
-- never a second booking. Keep in step with ../sqlite/0003_booking.sql.
CREATE TABLE idempotency_keys (
    user_id      BIGINT NOT NULL,
    key          TEXT NOT NULL CHECK (char_length(key) BETWEEN 1 AND 200),
    request_hash TEXT NOT NULL,
    -- 0 while the first request is in flight; its HTTP status once answered.
    status       BIGINT NOT NULL DEFAULT 0,
    body         TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
