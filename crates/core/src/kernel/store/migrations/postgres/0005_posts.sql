-- PostgreSQL's spelling of ../sqlite/0005_posts.sql: the same tables, columns, indexes and constraints
-- (tests/core/store.rs compares the two schemas), in PostgreSQL's types — BIGINT for SQLite's
-- INTEGER, identity columns, append-only triggers calling onetrip_refuse().

-- OneTrip schema v5: posts (岗位), their A/B assignments (AB岗), absences and named third
-- persons. Append-only: never edit this file once released.

-- A post: a window's duties and the cases it owns.
CREATE TABLE posts (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    window_id   TEXT    REFERENCES windows(id),
    active      BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX posts_one_per_window ON posts(window_id) WHERE window_id IS NOT NULL;

-- Who holds a post (A, 主办) and who backs it up (B, 协办). A change closes the current row and
-- opens a new one: the history is the record the rules ask for.
CREATE TABLE post_assignments (
    id           TEXT    PRIMARY KEY,
    post_id      TEXT    NOT NULL REFERENCES posts(id),
    primary_id   TEXT    NOT NULL REFERENCES staff(id),
    backup_id    TEXT    NOT NULL REFERENCES staff(id),
    valid_from   BIGINT NOT NULL,
    valid_until  BIGINT,
    reason       TEXT    NOT NULL,
    approved_by  TEXT    NOT NULL,
    CHECK (primary_id <> backup_id)
);
CREATE UNIQUE INDEX post_assignments_current ON post_assignments(post_id) WHERE valid_until IS NULL;

-- An absence of a clerk: planned (requested, then approved) or an emergency.
CREATE TABLE absences (
    id               TEXT    PRIMARY KEY,
    staff_id         TEXT    NOT NULL REFERENCES staff(id),
    kind             TEXT    NOT NULL CHECK (kind IN ('leave', 'meeting', 'training', 'business_trip', 'emergency')),
    starts_at        BIGINT NOT NULL,
    ends_at          BIGINT NOT NULL,
    reason           TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'cancelled')),
    notice_override  BIGINT NOT NULL DEFAULT 0 CHECK (notice_override IN (0, 1)),
    requested_by     TEXT    NOT NULL,
    decided_by       TEXT,
    decided_at       BIGINT,
    created_at       BIGINT NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX absences_staff ON absences(staff_id, starts_at);

-- A third person named by the supervisor for a post while both A and B are away.
CREATE TABLE post_covers (
    id          TEXT    PRIMARY KEY,
    post_id     TEXT    NOT NULL REFERENCES posts(id),
    staff_id    TEXT    NOT NULL REFERENCES staff(id),
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    reason      TEXT    NOT NULL,
    named_by    TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    CHECK (starts_at < ends_at)
);

CREATE TABLE post_settings (
    singleton    BIGINT PRIMARY KEY CHECK (singleton = 1),
    notice_days  BIGINT NOT NULL CHECK (notice_days BETWEEN 0 AND 30),
    updated_at   BIGINT NOT NULL
);
INSERT INTO post_settings VALUES (1, 1, 0);
