-- OneTrip schema v1: the hall, its windows and business categories, staff, sessions, audit log.
-- Append-only: never edit this file once released; add 0002_*.sql instead.
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC). Ids are UUID v7 text.

CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    checksum    TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE hall (
    id              TEXT    PRIMARY KEY,
    singleton       INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1),
    name            TEXT    NOT NULL,
    code            TEXT    NOT NULL,
    address         TEXT    NOT NULL DEFAULT '',
    phone           TEXT    NOT NULL DEFAULT '',
    business_hours  TEXT    NOT NULL,            -- JSON: [{"start":"09:00","end":"12:00"}, …]
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE categories (
    id           TEXT    PRIMARY KEY,
    prefix       TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    daily_cap    INTEGER NOT NULL CHECK (daily_cap BETWEEN 1 AND 999),
    issue_from   INTEGER NOT NULL CHECK (issue_from BETWEEN 0 AND 1439),   -- minutes after midnight
    issue_until  INTEGER NOT NULL CHECK (issue_until BETWEEN 1 AND 1440),
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    CHECK (issue_from < issue_until)
) STRICT;

CREATE TABLE windows (
    id          TEXT    PRIMARY KEY,
    number      INTEGER NOT NULL UNIQUE CHECK (number BETWEEN 1 AND 999),
    name        TEXT    NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- The categories a window serves, in its order of preference (rank 0 first).
CREATE TABLE window_categories (
    window_id    TEXT    NOT NULL REFERENCES windows(id) ON DELETE CASCADE,
    category_id  TEXT    NOT NULL REFERENCES categories(id),
    rank         INTEGER NOT NULL,
    PRIMARY KEY (window_id, category_id),
    UNIQUE (window_id, rank)
) STRICT;

CREATE TABLE staff (
    id                    TEXT    PRIMARY KEY,
    login                 TEXT    NOT NULL UNIQUE,
    name                  TEXT    NOT NULL,
    role                  TEXT    NOT NULL CHECK (role IN ('clerk', 'supervisor', 'admin')),
    active                INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    password_hash         TEXT    NOT NULL,      -- Argon2id PHC string
    must_change_password  INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) STRICT;

-- A signed-in staff member. Only the SHA-256 of the bearer token is stored.
CREATE TABLE sessions (
    id            TEXT    PRIMARY KEY,
    token_hash    TEXT    NOT NULL UNIQUE,
    staff_id      TEXT    NOT NULL REFERENCES staff(id),
    window_id     TEXT    REFERENCES windows(id),
    started_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    ended_reason  TEXT
) STRICT;

-- One clerk per window, and one window per clerk, at a time: enforced by the database itself.
CREATE UNIQUE INDEX sessions_one_per_window ON sessions(window_id)
    WHERE ended_at IS NULL AND window_id IS NOT NULL;
CREATE UNIQUE INDEX sessions_one_window_per_staff ON sessions(staff_id)
    WHERE ended_at IS NULL AND window_id IS NOT NULL;
CREATE INDEX sessions_staff ON sessions(staff_id, ended_at);

-- The audit log: one row per committed write, hash-chained (hash = SHA-256 over prev_hash and
-- the row's fields). Rows are never updated or deleted; the triggers make the database refuse.
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT    NOT NULL UNIQUE,
    at            INTEGER NOT NULL,
    actor_kind    TEXT    NOT NULL,     -- staff | device | system | anonymous
    actor_id      TEXT,
    actor_name    TEXT    NOT NULL,
    source        TEXT,                 -- the window label / host the request came from
    op            TEXT    NOT NULL,
    subject_kind  TEXT    NOT NULL,
    subject_id    TEXT,
    summary       TEXT    NOT NULL,
    before_json   TEXT,
    after_json    TEXT,
    prev_hash     TEXT    NOT NULL,
    hash          TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_at ON audit_log(at);
CREATE INDEX audit_actor ON audit_log(actor_id, at);
CREATE INDEX audit_subject ON audit_log(subject_kind, subject_id, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
