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
