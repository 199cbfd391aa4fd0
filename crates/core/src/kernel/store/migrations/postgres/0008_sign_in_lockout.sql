-- PostgreSQL's spelling of ../sqlite/0008_sign_in_lockout.sql: the same tables, columns, indexes and constraints
-- (tests/core/store.rs compares the two schemas), in PostgreSQL's types — BIGINT for SQLite's
-- INTEGER, identity columns, append-only triggers calling onetrip_refuse().

-- Sign-in throttling: consecutive failures per login name (known or not, so a lock reveals
-- nothing about which logins exist) and the lock they lead to. The limits are hall settings.
CREATE TABLE security_settings (
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    max_failures  BIGINT NOT NULL DEFAULT 5 CHECK (max_failures BETWEEN 3 AND 20),
    lock_minutes  BIGINT NOT NULL DEFAULT 15 CHECK (lock_minutes BETWEEN 1 AND 1440),
    updated_at    BIGINT NOT NULL DEFAULT 0
);
INSERT INTO security_settings (id) VALUES (1);

CREATE TABLE sign_in_failures (
    login         TEXT    PRIMARY KEY,
    failures      BIGINT NOT NULL,
    last_at       BIGINT NOT NULL,
    locked_until  BIGINT
);
