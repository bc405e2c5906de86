-- The desk's planning (issue 5). Keep in step with ../postgres/0007_plan_drafts.sql.
--
-- A proposal of the team planner, shared by the whole desk while it is adjusted: the instance
-- built from live data with the way back to the database (live), the plan, the plan it was
-- re-planned from (previous, for the difference shown before publishing) and the teams locked by
-- hand. Every change is a conditional update on version, so two desk members never overwrite
-- each other's work unseen; a new proposal supersedes the open one, and publishing marks it
-- published in the transaction that books its teams, so a proposal is published at most once.
CREATE TABLE plan_drafts (
    id           INTEGER PRIMARY KEY,
    created_by   BIGINT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    status       TEXT NOT NULL CHECK (status IN ('open','published','superseded')),
    live         TEXT NOT NULL,
    plan         TEXT NOT NULL,
    previous     TEXT,
    locked       TEXT NOT NULL DEFAULT '[]',
    seconds      DOUBLE PRECISION NOT NULL DEFAULT 0,
    published_at BIGINT,
    published_by BIGINT REFERENCES users(id)
);
-- At most one open proposal at a time.
CREATE UNIQUE INDEX plan_drafts_one_open ON plan_drafts (status) WHERE status = 'open';

-- A team's shuttle trips, as published: JSON [{"bus": n, "departs_min": m, "people": p}], buses
-- numbered from 1, departs_min the minute of the day the bus leaves the unit; NULL when the team
-- makes its own way.
ALTER TABLE teams ADD COLUMN trips TEXT;

-- A unit also hears when a published team of its is moved or cancelled by a re-plan (a site
-- closed, a delivery fell short). SQLite cannot change a CHECK: the table is rebuilt.
CREATE TABLE notifications_new (
    id         INTEGER PRIMARY KEY,
    unit_id    BIGINT NOT NULL REFERENCES units(id),
    kind       TEXT NOT NULL CHECK (kind IN ('team_booked','team_moved','team_cancelled')),
    team_id    BIGINT NOT NULL REFERENCES teams(id),
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
INSERT INTO notifications_new (id, unit_id, kind, team_id, created_at, read_at)
    SELECT id, unit_id, kind, team_id, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_by_unit ON notifications (unit_id, id);

-- When a unit's people can come, for the planner: the weekdays (digits 1 = Monday … 7 = Sunday;
-- empty = any day, a hard rule) and the part of the day (am, pm or any; a preference unless
-- hard_window). Set by the unit's contact or the desk; no row = any day, any time.
CREATE TABLE unit_plan_prefs (
    unit_id     BIGINT PRIMARY KEY REFERENCES units(id),
    weekdays    TEXT NOT NULL DEFAULT '' CHECK (length(weekdays) <= 7),
    time_window TEXT NOT NULL DEFAULT 'any' CHECK (time_window IN ('any','am','pm')),
    hard_window BIGINT NOT NULL DEFAULT 0 CHECK (hard_window IN (0,1)),
    updated_at  BIGINT NOT NULL,
    updated_by  BIGINT REFERENCES users(id)
);
