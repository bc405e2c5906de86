-- Vaccination and observation (issue 6). Keep in step with ../postgres/0009_doses.sql.
--
-- A vial opened at a site: its doses, how many were given from it and how many were thrown
-- away, and until when it may be used (opened + the vaccine's open-vial life). Doses in a vial
-- stay in the lot's stock balance until given or wasted; what is left in a vial past its life,
-- or at the day's close, is written off as waste by a ledger row.
CREATE TABLE vials (
    id           INTEGER PRIMARY KEY,
    lot_id       BIGINT NOT NULL REFERENCES lots(id),
    site_id      BIGINT NOT NULL REFERENCES sites(id),
    doses        BIGINT NOT NULL CHECK (doses >= 1),
    used         BIGINT NOT NULL DEFAULT 0 CHECK (used >= 0),
    wasted       BIGINT NOT NULL DEFAULT 0 CHECK (wasted >= 0),
    opened_at    BIGINT NOT NULL,
    opened_by    BIGINT REFERENCES users(id),
    usable_until BIGINT NOT NULL,
    closed_at    BIGINT,
    CHECK (used + wasted <= doses),
    CHECK (closed_at IS NULL OR used + wasted = doses)
);
CREATE INDEX vials_open ON vials (site_id, lot_id, closed_at);

-- A dose given (接种): one per visit, and one per person and dose number, whatever races. It
-- names its lot, its vial and the ledger row that took it from stock (written in the same
-- transaction), and the proof that the person was there: the 4-digit presence code they
-- stated, or their identity card checked by the vaccinator.
CREATE TABLE dose_records (
    id          INTEGER PRIMARY KEY,
    visit_id    BIGINT NOT NULL UNIQUE REFERENCES visits(id),
    person_id   BIGINT NOT NULL REFERENCES people(id),
    vaccine_id  BIGINT NOT NULL REFERENCES vaccines(id),
    lot_id      BIGINT NOT NULL REFERENCES lots(id),
    vial_id     BIGINT NOT NULL REFERENCES vials(id),
    dose_number BIGINT NOT NULL CHECK (dose_number BETWEEN 1 AND 5),
    site_id     BIGINT NOT NULL REFERENCES sites(id),
    given_at    BIGINT NOT NULL,
    given_by    BIGINT REFERENCES users(id),
    proof       TEXT NOT NULL CHECK (proof IN ('code','id_card')),
    ledger_id   BIGINT NOT NULL UNIQUE REFERENCES stock_ledger(id),
    UNIQUE (person_id, dose_number)
);
CREATE INDEX dose_records_by_site ON dose_records (site_id, given_at);

-- Observation (留观) after the dose: from when, for how long (the vaccine's minutes, or more
-- for this person), and when and by whom the person was released.
CREATE TABLE observations (
    visit_id    BIGINT PRIMARY KEY REFERENCES visits(id),
    started_at  BIGINT NOT NULL,
    minutes     BIGINT NOT NULL CHECK (minutes BETWEEN 0 AND 240),
    due_at      BIGINT NOT NULL,
    released_at BIGINT,
    released_by BIGINT REFERENCES users(id),
    CHECK (due_at >= started_at),
    CHECK (released_at IS NULL OR released_at >= started_at)
);

-- Adverse events following immunisation (疑似预防接种异常反应, AEFI): onset, symptoms (codes,
-- comma-separated, and a note), severity and the action taken.
CREATE TABLE aefi_reports (
    id          INTEGER PRIMARY KEY,
    visit_id    BIGINT NOT NULL REFERENCES visits(id),
    onset_at    BIGINT NOT NULL,
    symptoms    TEXT NOT NULL CHECK (length(symptoms) > 0),
    note        TEXT NOT NULL DEFAULT '',
    severity    TEXT NOT NULL CHECK (severity IN ('mild','moderate','severe','serious')),
    action      TEXT NOT NULL CHECK (action IN ('observed','treated','hospital')),
    action_note TEXT NOT NULL DEFAULT '',
    reported_at BIGINT NOT NULL,
    reported_by BIGINT REFERENCES users(id)
);
CREATE INDEX aefi_reports_by_visit ON aefi_reports (visit_id);
