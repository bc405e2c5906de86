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
