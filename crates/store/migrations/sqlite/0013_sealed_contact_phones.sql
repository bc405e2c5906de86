-- Units' contact phones sealed like residents' (issue 17). Keep in step with
-- ../postgres/0013_sealed_contact_phones.sql.
--
-- The phone is kept encrypted with the personal-data key, beside its masked form for the pages.
-- Phones stored in plain text before this migration are sealed by the server at start-up (it
-- holds the key; SQL does not) and the plain column is emptied; nothing writes it any more.
ALTER TABLE units ADD COLUMN contact_phone_cipher BLOB;
ALTER TABLE units ADD COLUMN contact_phone_masked TEXT;
