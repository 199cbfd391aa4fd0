-- PostgreSQL's spelling of ../sqlite/0010_retention.sql: the same tables, columns, indexes and constraints
-- (tests/core/store.rs compares the two schemas), in PostgreSQL's types — BIGINT for SQLite's
-- INTEGER, identity columns, append-only triggers calling onetrip_refuse().

-- Retention of personal data (个人信息保护法 art. 19, 47): how long the applicant's name, ID
-- number and phone of a completed case are kept; after that a purge anonymises them (masked
-- the way screens show them) and keeps everything the figures need. Issued notices are archive
-- records (档案法) and are not purged.
CREATE TABLE privacy_settings (
    singleton       BIGINT PRIMARY KEY CHECK (singleton = 1),
    retention_days  BIGINT NOT NULL CHECK (retention_days BETWEEN 30 AND 36500),
    updated_at      BIGINT NOT NULL
);
INSERT INTO privacy_settings VALUES (1, 1095, 0);

ALTER TABLE cases ADD COLUMN anonymised_at BIGINT;
ALTER TABLE applications ADD COLUMN anonymised_at BIGINT;
CREATE INDEX cases_to_anonymise ON cases(status) WHERE anonymised_at IS NULL;
