-- vaxloop foundation schema (SQLite). Keep in step with ../postgres/0001_foundation.sql: the
-- store's contract tests compare the two column by column.
-- Conventions: ids are integers; instants are BIGINT milliseconds since the Unix epoch (UTC);
-- calendar days are TEXT 'YYYY-MM-DD'; times of day are minutes after midnight, local time;
-- flags are 0/1 integers with a CHECK.

CREATE TABLE work_groups (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 2 AND 32),
    name        TEXT NOT NULL CHECK (length(name) > 0),
    kind        TEXT NOT NULL CHECK (kind IN ('village_company','community','street','enterprise','construction')),
    leader_name TEXT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE units (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 2 AND 32),
    work_group_id    BIGINT NOT NULL REFERENCES work_groups(id),
    name             TEXT NOT NULL CHECK (length(name) > 0),
    kind             TEXT NOT NULL CHECK (kind IN ('village','community','enterprise','office_building','construction_site','school','shop')),
    address          TEXT NOT NULL DEFAULT '',
    lat              DOUBLE PRECISION,
    lon              DOUBLE PRECISION,
    target_headcount BIGINT NOT NULL DEFAULT 0 CHECK (target_headcount >= 0),
    contact_name     TEXT,
    contact_phone    TEXT,
    reg_token        TEXT NOT NULL UNIQUE,
    created_at       BIGINT NOT NULL
);
CREATE INDEX units_by_group ON units (work_group_id);

CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    unit_id       BIGINT NOT NULL REFERENCES units(id),
    name          TEXT NOT NULL CHECK (length(name) > 0),
    id_cipher     BLOB NOT NULL,
    id_blind      BLOB NOT NULL UNIQUE,
    id_masked     TEXT NOT NULL,
    birth_date    TEXT NOT NULL,
    sex           TEXT NOT NULL CHECK (sex IN ('M','F')),
    phone_cipher  BLOB,
    phone_masked  TEXT,
    disabled      BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0,1)),
    consent_at    BIGINT,
    consent_version TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX people_by_unit ON people (unit_id);

CREATE TABLE sites (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 2 AND 32),
    name        TEXT NOT NULL CHECK (length(name) > 0),
    kind        TEXT NOT NULL CHECK (kind IN ('fixed','temporary','mobile','workplace')),
    address     TEXT NOT NULL DEFAULT '',
    lat         DOUBLE PRECISION,
    lon         DOUBLE PRECISION,
    open_from   TEXT,
    open_until  TEXT,
    created_at  BIGINT NOT NULL,
    CHECK (kind <> 'temporary' OR (open_from IS NOT NULL AND open_until IS NOT NULL)),
    CHECK (open_from IS NULL OR open_until IS NULL OR open_from <= open_until)
);

CREATE TABLE site_hours (
    site_id    BIGINT NOT NULL REFERENCES sites(id),
    weekday    BIGINT NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    opens_min  BIGINT NOT NULL CHECK (opens_min BETWEEN 0 AND 1440),
    closes_min BIGINT NOT NULL CHECK (closes_min BETWEEN 0 AND 1440),
    PRIMARY KEY (site_id, weekday),
    CHECK (opens_min < closes_min)
);

CREATE TABLE zones (
    id        INTEGER PRIMARY KEY,
    site_id   BIGINT NOT NULL REFERENCES sites(id),
    kind      TEXT NOT NULL CHECK (kind IN ('waiting','screening','vaccination','observation')),
    space     BIGINT NOT NULL CHECK (space > 0),
    UNIQUE (site_id, kind)
);

-- Desks (stations) of a zone for one shift; observation "desks" are nurses watching the seats.
CREATE TABLE zone_desks (
    zone_id BIGINT NOT NULL REFERENCES zones(id),
    shift   TEXT NOT NULL CHECK (shift IN ('am','pm')),
    desks   BIGINT NOT NULL CHECK (desks >= 0),
    mean_service_seconds BIGINT NOT NULL CHECK (mean_service_seconds > 0),
    PRIMARY KEY (zone_id, shift)
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT UNIQUE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin','group_leader','unit_contact','desk','site_staff','staff','resident')),
    work_group_id  BIGINT REFERENCES work_groups(id),
    unit_id        BIGINT REFERENCES units(id),
    site_id        BIGINT REFERENCES sites(id),
    site_post      TEXT CHECK (site_post IN ('manager','check_in','screening','vaccinator','observation')),
    person_id      BIGINT UNIQUE REFERENCES people(id),
    active         BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0,1)),
    failed_logins  BIGINT NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until   BIGINT,
    created_at     BIGINT NOT NULL,
    -- A login's scope is part of its role: nobody holds a scoped role without its scope.
    CHECK (role <> 'group_leader' OR work_group_id IS NOT NULL),
    CHECK (role <> 'unit_contact' OR unit_id IS NOT NULL),
    CHECK (role <> 'site_staff' OR (site_id IS NOT NULL AND site_post IS NOT NULL)),
    CHECK (role <> 'resident' OR person_id IS NOT NULL),
    CHECK (role = 'resident' OR username IS NOT NULL)
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE vaccines (
    id                  INTEGER PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 2 AND 32),
    name                TEXT NOT NULL,
    manufacturer        TEXT NOT NULL,
    doses_in_series     BIGINT NOT NULL CHECK (doses_in_series BETWEEN 1 AND 5),
    min_interval_days   BIGINT NOT NULL CHECK (min_interval_days >= 0),
    min_age             BIGINT NOT NULL CHECK (min_age >= 0),
    max_age             BIGINT CHECK (max_age IS NULL OR max_age >= min_age),
    doses_per_vial      BIGINT NOT NULL CHECK (doses_per_vial >= 1),
    open_vial_minutes   BIGINT NOT NULL CHECK (open_vial_minutes >= 0),
    observation_minutes BIGINT NOT NULL DEFAULT 30 CHECK (observation_minutes >= 0)
);

CREATE TABLE lots (
    id          INTEGER PRIMARY KEY,
    vaccine_id  BIGINT NOT NULL REFERENCES vaccines(id),
    lot_number  TEXT NOT NULL CHECK (length(lot_number) > 0),
    expires_on  TEXT NOT NULL,
    UNIQUE (vaccine_id, lot_number)
);

CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY,
    lot_id        BIGINT NOT NULL REFERENCES lots(id),
    site_id       BIGINT NOT NULL REFERENCES sites(id),
    delivery_date TEXT NOT NULL,
    doses         BIGINT NOT NULL CHECK (doses > 0),
    status        TEXT NOT NULL CHECK (status IN ('planned','received','cancelled')),
    received_at   BIGINT,
    CHECK (status <> 'received' OR received_at IS NOT NULL)
);
CREATE INDEX deliveries_by_site_day ON deliveries (site_id, delivery_date);

-- Remaining doses per lot and site; changed only together with a ledger row, in one transaction,
-- by a conditional update. The CHECK is the backstop for "remaining is never negative".
CREATE TABLE stock_balances (
    lot_id    BIGINT NOT NULL REFERENCES lots(id),
    site_id   BIGINT NOT NULL REFERENCES sites(id),
    remaining BIGINT NOT NULL CHECK (remaining >= 0),
    PRIMARY KEY (lot_id, site_id)
);

-- Append-only: corrections are new rows. Triggers below refuse UPDATE and DELETE.
CREATE TABLE stock_ledger (
    id            INTEGER PRIMARY KEY,
    lot_id        BIGINT NOT NULL REFERENCES lots(id),
    site_id       BIGINT NOT NULL REFERENCES sites(id),
    at            BIGINT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('delivered','administered','wasted','transfer_in','transfer_out','correction')),
    delta         BIGINT NOT NULL CHECK (delta <> 0),
    delivery_id   BIGINT REFERENCES deliveries(id),
    reason        TEXT,
    actor_user_id BIGINT REFERENCES users(id),
    CHECK (kind NOT IN ('delivered','transfer_in') OR delta > 0),
    CHECK (kind NOT IN ('administered','wasted','transfer_out') OR delta < 0),
    CHECK (kind NOT IN ('wasted','correction') OR reason IS NOT NULL)
);
CREATE INDEX stock_ledger_by_lot_site ON stock_ledger (lot_id, site_id);
CREATE TRIGGER stock_ledger_no_update BEFORE UPDATE ON stock_ledger
BEGIN SELECT RAISE(ABORT, 'stock_ledger is append-only'); END;
CREATE TRIGGER stock_ledger_no_delete BEFORE DELETE ON stock_ledger
BEGIN SELECT RAISE(ABORT, 'stock_ledger is append-only'); END;

-- Doses allocated to a site for a day, and how many of them bookings have promised.
CREATE TABLE site_days (
    site_id         BIGINT NOT NULL REFERENCES sites(id),
    day             TEXT NOT NULL,
    doses_allocated BIGINT NOT NULL DEFAULT 0 CHECK (doses_allocated >= 0),
    doses_booked    BIGINT NOT NULL DEFAULT 0 CHECK (doses_booked >= 0),
    PRIMARY KEY (site_id, day),
    CHECK (doses_booked <= doses_allocated)
);

CREATE TABLE slots (
    id              INTEGER PRIMARY KEY,
    site_id         BIGINT NOT NULL REFERENCES sites(id),
    day             TEXT NOT NULL,
    starts_min      BIGINT NOT NULL CHECK (starts_min BETWEEN 0 AND 1440),
    ends_min        BIGINT NOT NULL CHECK (ends_min BETWEEN 0 AND 1440),
    capacity        BIGINT NOT NULL CHECK (capacity >= 0),
    booked          BIGINT NOT NULL DEFAULT 0 CHECK (booked >= 0),
    capacity_reason TEXT NOT NULL DEFAULT '',
    UNIQUE (site_id, day, starts_min),
    CHECK (starts_min < ends_min),
    CHECK (booked <= capacity)
);

CREATE TABLE vehicles (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 2 AND 32),
    plate        TEXT NOT NULL UNIQUE,
    seats        BIGINT NOT NULL CHECK (seats > 0),
    driver_name  TEXT NOT NULL,
    driver_phone TEXT NOT NULL,
    depot        TEXT NOT NULL,
    depot_lat    DOUBLE PRECISION,
    depot_lon    DOUBLE PRECISION,
    available    BIGINT NOT NULL DEFAULT 1 CHECK (available IN (0,1))
);

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 2 AND 32),
    unit_id     BIGINT NOT NULL REFERENCES units(id),
    site_id     BIGINT NOT NULL REFERENCES sites(id),
    day         TEXT NOT NULL,
    colour      BIGINT NOT NULL CHECK (colour BETWEEN 0 AND 19),
    number      BIGINT NOT NULL CHECK (number >= 1),
    size        BIGINT NOT NULL CHECK (size >= 1),
    UNIQUE (site_id, day, colour, number)
);

CREATE TABLE appointments (
    id           INTEGER PRIMARY KEY,
    person_id    BIGINT NOT NULL REFERENCES people(id),
    slot_id      BIGINT NOT NULL REFERENCES slots(id),
    vaccine_id   BIGINT NOT NULL REFERENCES vaccines(id),
    dose_number  BIGINT NOT NULL CHECK (dose_number BETWEEN 1 AND 5),
    team_id      BIGINT REFERENCES teams(id),
    status       TEXT NOT NULL CHECK (status IN ('active','cancelled','completed','no_show')),
    walk_in      BIGINT NOT NULL DEFAULT 0 CHECK (walk_in IN (0,1)),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
-- A person holds at most one active appointment per dose.
CREATE UNIQUE INDEX appointments_one_active ON appointments (person_id, dose_number) WHERE status = 'active';
CREATE INDEX appointments_by_slot ON appointments (slot_id);

-- The materialised current state of each person's journey for one dose.
CREATE TABLE journeys (
    person_id   BIGINT NOT NULL REFERENCES people(id),
    dose_number BIGINT NOT NULL CHECK (dose_number BETWEEN 1 AND 5),
    state       TEXT NOT NULL CHECK (state IN ('registered','booked','checked_in','screened','deferred','vaccinated','observing','released','no_show','cancelled','declined','aefi')),
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (person_id, dose_number)
);
CREATE INDEX journeys_by_state ON journeys (state);

-- Append-only history behind every journey state.
CREATE TABLE journey_events (
    id            INTEGER PRIMARY KEY,
    person_id     BIGINT NOT NULL REFERENCES people(id),
    dose_number   BIGINT NOT NULL CHECK (dose_number BETWEEN 1 AND 5),
    state         TEXT NOT NULL CHECK (state IN ('registered','booked','checked_in','screened','deferred','vaccinated','observing','released','no_show','cancelled','declined','aefi')),
    at            BIGINT NOT NULL,
    site_id       BIGINT REFERENCES sites(id),
    actor_user_id BIGINT REFERENCES users(id),
    detail        TEXT
);
CREATE INDEX journey_events_by_person ON journey_events (person_id, dose_number);
CREATE TRIGGER journey_events_no_update BEFORE UPDATE ON journey_events
BEGIN SELECT RAISE(ABORT, 'journey_events is append-only'); END;
CREATE TRIGGER journey_events_no_delete BEFORE DELETE ON journey_events
BEGIN SELECT RAISE(ABORT, 'journey_events is append-only'); END;

-- Who did what to whom, and why. Never holds plaintext personal data. Append-only.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            BIGINT NOT NULL,
    -- No foreign key: the log outlives the logins it names (a rejected registration's login is
    -- deleted; its entries stay).
    actor_user_id BIGINT,
    action        TEXT NOT NULL,
    target        TEXT NOT NULL DEFAULT '',
    reason        TEXT,
    outcome       TEXT NOT NULL DEFAULT 'ok' CHECK (outcome IN ('ok','denied','failed'))
);
CREATE INDEX audit_log_by_at ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
