-- Tokens for machine clients (issue 17). Keep in step with ../postgres/0015_api_tokens.sql.
--
-- A machine client (an SMS gateway's delivery reports, a hospital system reading the day's doses,
-- a district dashboard) sends `Authorization: Bearer <token>`. Each token acts as a login of its
-- own — a users row with a role and scope like anyone's, whose password hash no password matches
-- — so every use case checks and audits it as it would a person. The token itself is shown once
-- and stored only as a keyed hash; the first characters stay readable for the admin's list.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL UNIQUE REFERENCES users(id),
    token_hash   BLOB NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_by   BIGINT REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT,
    CHECK (expires_at > created_at)
);
