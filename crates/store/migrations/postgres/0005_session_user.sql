-- Which login a session belongs to, so that loading a session reads its user in the same
-- round trip. A hint kept beside the session data (which stays the authority); no key, since a
-- session outlives nothing it points at.
ALTER TABLE sessions ADD COLUMN user_id BIGINT;
