-- On-site operations (issue 6). Keep in step with ../postgres/0008_visits.sql.
--
-- A visit: one person's passage through a site for one appointment, from check-in on. There is
-- at most one per appointment, so a person scanned twice, or at three desks at once, is checked
-- in once: the second insert finds the first. The stage is where the person is now; the
-- journey (and its events) keeps the history.
CREATE TABLE visits (
    id             INTEGER PRIMARY KEY,
    appointment_id BIGINT NOT NULL UNIQUE REFERENCES appointments(id),
    person_id      BIGINT NOT NULL REFERENCES people(id),
    dose_number    BIGINT NOT NULL CHECK (dose_number BETWEEN 1 AND 5),
    site_id        BIGINT NOT NULL REFERENCES sites(id),
    day            TEXT NOT NULL,
    green          BIGINT NOT NULL DEFAULT 0 CHECK (green IN (0,1)),
    stage          TEXT NOT NULL DEFAULT 'waiting'
                   CHECK (stage IN ('waiting','deferred','referred','ready','vaccinated','observing','released')),
    checked_in_at  BIGINT NOT NULL,
    checked_in_by  BIGINT REFERENCES users(id)
);
CREATE INDEX visits_by_site_day ON visits (site_id, day, stage);

-- Screening (预检): the questions asked before each vaccine, in order, and what a "yes" means —
-- a note for the doctor, a deferral, or a referral to a doctor.
CREATE TABLE screening_questions (
    id         INTEGER PRIMARY KEY,
    vaccine_id BIGINT NOT NULL REFERENCES vaccines(id),
    position   BIGINT NOT NULL CHECK (position >= 1),
    text_zh    TEXT NOT NULL CHECK (length(text_zh) > 0),
    text_en    TEXT NOT NULL CHECK (length(text_en) > 0),
    on_yes     TEXT NOT NULL CHECK (on_yes IN ('note','defer','refer')),
    UNIQUE (vaccine_id, position)
);

-- Each screening of a visit: the answers (JSON [{"question": id, "yes": bool}]), the outcome,
-- and for a deferral its reason and the day from which the person may come again. A referred
-- person is screened again by the doctor; the visit's stage moves only from waiting or referred,
-- so two screeners never both decide.
CREATE TABLE screenings (
    id          INTEGER PRIMARY KEY,
    visit_id    BIGINT NOT NULL REFERENCES visits(id),
    answers     TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('pass','defer','refer')),
    reason      TEXT,
    defer_until TEXT,
    screened_at BIGINT NOT NULL,
    screened_by BIGINT REFERENCES users(id),
    CHECK (outcome <> 'defer' OR (defer_until IS NOT NULL AND reason IS NOT NULL))
);
CREATE INDEX screenings_by_visit ON screenings (visit_id);
