-- PostgreSQL's spelling of ../sqlite/0009_reports.sql: the same tables, columns, indexes and constraints
-- (tests/core/store.rs compares the two schemas), in PostgreSQL's types — BIGINT for SQLite's
-- INTEGER, identity columns, append-only triggers calling onetrip_refuse().

-- Reports (统计报表): the hall's report settings and the reports filed on schedule (daily summary
-- after closing time, weekly and monthly on their days), each a PDF and an xlsx beside the
-- notice archive. Rows are never changed: a report is a record of what the figures were.
CREATE TABLE report_settings (
    singleton            BIGINT PRIMARY KEY CHECK (singleton = 1),
    wait_target_minutes  BIGINT NOT NULL CHECK (wait_target_minutes BETWEEN 1 AND 240),
    daily_enabled        BIGINT NOT NULL CHECK (daily_enabled IN (0, 1)),
    weekly_weekday       BIGINT NOT NULL CHECK (weekly_weekday BETWEEN 1 AND 7),   -- 1 = Monday
    monthly_day          BIGINT NOT NULL CHECK (monthly_day BETWEEN 1 AND 28),
    updated_at           BIGINT NOT NULL
);
INSERT INTO report_settings VALUES (1, 15, 1, 1, 1, 0);

CREATE TABLE report_files (
    id            TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('daily', 'weekly', 'monthly')),
    period_from   TEXT    NOT NULL,           -- YYYY-MM-DD, inclusive
    period_to     TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    pdf_path      TEXT    NOT NULL,           -- relative to the database's folder
    xlsx_path     TEXT    NOT NULL,
    pdf_sha256    TEXT    NOT NULL,
    xlsx_sha256   TEXT    NOT NULL,
    filed_at      BIGINT NOT NULL,
    UNIQUE (kind, period_from)
);
CREATE TRIGGER report_files_no_update BEFORE UPDATE ON report_files
FOR EACH ROW EXECUTE FUNCTION onetrip_refuse('report_files are append-only');

-- What the period queries need on a hall with years of history.
CREATE INDEX cases_accepted ON cases(accepted_at);
CREATE INDEX case_events_kind_at ON case_events(kind, at);
CREATE INDEX applications_case ON applications(case_id) WHERE case_id IS NOT NULL;
CREATE INDEX handovers_started ON handovers(started_at);
CREATE INDEX case_events_behalf_at ON case_events(at) WHERE on_behalf_id IS NOT NULL;
