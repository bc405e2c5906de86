-- End-of-day reconciliation (issue 6). Keep in step with ../sqlite/0010_day_closes.sql.
--
-- A site's day, closed by its manager: from then on nobody is checked in or vaccinated there
-- that day; everyone booked ends the day in one state (vaccinated, deferred, left before the
-- dose, or no-show), opened vials are written off and the reconciliation is final. Closed once.
CREATE TABLE day_closes (
    site_id   BIGINT NOT NULL REFERENCES sites(id),
    day       TEXT NOT NULL,
    closed_at BIGINT NOT NULL,
    closed_by BIGINT REFERENCES users(id),
    -- What the close did: JSON counts (no-shows marked, people who left, released, doses wasted).
    summary   TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (site_id, day)
);
CREATE INDEX appointments_by_team ON appointments (team_id);
CREATE INDEX visits_by_site_time ON visits (site_id, checked_in_at);
