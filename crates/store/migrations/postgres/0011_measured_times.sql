-- Capacity from measured times (issue 7). Keep in step with ../sqlite/0011_measured_times.sql.
--
-- The simulator calibrates a site's service times from its journeys: the events of the site's
-- past days, read by site and time.
CREATE INDEX journey_events_by_site_time ON journey_events (site_id, at);
