-- Claims of a roster record (issue 17). Keep in step with ../postgres/0012_claims.sql.
--
-- Someone registering on a unit's public link as a person already on its roster claims that
-- record. Nothing of the record changes until the claim is proven: by a one-time code sent to the
-- phone the roster already holds (code_hash set, a few minutes to enter it, a few tries), or —
-- when the roster has no phone — by the unit contact's confirmation (code_hash NULL). What the
-- claimant gave (their phone, encrypted; consent; the PIN's hash) waits here.
CREATE TABLE claims (
    id              INTEGER PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    unit_id         BIGINT NOT NULL REFERENCES units(id),
    phone_cipher    BLOB NOT NULL,
    phone_masked    TEXT NOT NULL,
    disabled        BIGINT NOT NULL DEFAULT 0,
    consent_at      BIGINT NOT NULL,
    consent_version TEXT NOT NULL,
    pin_hash        TEXT NOT NULL,
    -- A keyed hash of the one-time code; NULL when the unit contact decides.
    code_hash       BLOB,
    attempts        BIGINT NOT NULL DEFAULT 0,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX claims_by_unit ON claims (unit_id, expires_at);
CREATE INDEX claims_by_person ON claims (person_id);
