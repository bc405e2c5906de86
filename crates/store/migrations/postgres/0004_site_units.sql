-- Units a site serves (issue 4). A site with no rows here is open to every unit; once a unit is
-- listed, only listed units' people may book there (walk-ins recorded by the site excepted).
-- Keep in step with ../sqlite/0004_site_units.sql.
CREATE TABLE site_units (
    site_id    BIGINT NOT NULL REFERENCES sites(id),
    unit_id    BIGINT NOT NULL REFERENCES units(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (site_id, unit_id)
);
CREATE INDEX site_units_by_unit ON site_units (unit_id);
