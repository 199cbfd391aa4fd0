-- Retention of personal data (个人信息保护法 art. 19, 47): how long the applicant's name, ID
-- number and phone of a completed case are kept; after that a purge anonymises them (masked
-- the way screens show them) and keeps everything the figures need. Issued notices are archive
-- records (档案法) and are not purged.
CREATE TABLE privacy_settings (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    retention_days  INTEGER NOT NULL CHECK (retention_days BETWEEN 30 AND 36500),
    updated_at      INTEGER NOT NULL
) STRICT;
INSERT INTO privacy_settings VALUES (1, 1095, 0);

ALTER TABLE cases ADD COLUMN anonymised_at INTEGER;
ALTER TABLE applications ADD COLUMN anonymised_at INTEGER;
CREATE INDEX cases_to_anonymise ON cases(status) WHERE anonymised_at IS NULL;
