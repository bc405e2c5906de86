-- Registration (issue 3): where a person's registration came from, whether the unit contact has
-- confirmed it, a free-text note from the roster, and audit details. Keep in step with
-- ../postgres/0002_registration.sql.

-- 'import': on a roster the unit contact uploaded; 'qr': registered on the phone page by scanning
-- the unit's code; 'desk': registered at a site or by the appointment desk.
ALTER TABLE people ADD COLUMN source TEXT NOT NULL DEFAULT 'import' CHECK (source IN ('import','qr','desk'));
-- 'pending': registered by QR without being on the roster; the unit contact confirms or rejects.
ALTER TABLE people ADD COLUMN status TEXT NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed','pending'));
ALTER TABLE people ADD COLUMN note TEXT;
ALTER TABLE people ADD COLUMN updated_at BIGINT;
CREATE INDEX people_by_unit_status ON people (unit_id, status);

-- What an audited action touched, beyond its target (counts, fields unmasked): never plaintext
-- personal data.
ALTER TABLE audit_log ADD COLUMN detail TEXT;

-- Each import of a unit's people: the counts in the open, the full report (errors, rejected rows
-- as they were in the file) sealed like any other personal data, for the report page and the
-- spreadsheet of rejected rows.
CREATE TABLE import_reports (
    id              INTEGER PRIMARY KEY,
    unit_id         BIGINT NOT NULL REFERENCES units(id),
    actor_user_id   BIGINT REFERENCES users(id),
    at              BIGINT NOT NULL,
    file_name       TEXT NOT NULL,
    rows_read       BIGINT NOT NULL CHECK (rows_read >= 0),
    imported        BIGINT NOT NULL CHECK (imported >= 0),
    updated         BIGINT NOT NULL CHECK (updated >= 0),
    unchanged       BIGINT NOT NULL CHECK (unchanged >= 0),
    rejected        BIGINT NOT NULL CHECK (rejected >= 0),
    report_sealed   BLOB NOT NULL
);
CREATE INDEX import_reports_by_unit ON import_reports (unit_id, at);
