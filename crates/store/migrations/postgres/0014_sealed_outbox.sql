-- Outbox payloads sealed at rest (issue 17). Keep in step with
-- ../sqlite/0014_sealed_outbox.sql.
--
-- A queued SMS names a phone number (and perhaps a one-time code): its payload is kept encrypted
-- with the personal-data key and opened only by the deliverer as it sends. Payloads queued in
-- plain text before this migration are sealed by the server at start-up (it holds the key; SQL
-- does not) and the plain column emptied; nothing writes it any more.
ALTER TABLE outbox ADD COLUMN payload_cipher BYTEA;
