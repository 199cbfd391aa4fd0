-- PostgreSQL's spelling of ../sqlite/0011_idle_sign_out.sql: the same tables, columns, indexes and constraints
-- (tests/core/store.rs compares the two schemas), in PostgreSQL's types — BIGINT for SQLite's
-- INTEGER, identity columns, append-only triggers calling onetrip_refuse().

-- OneTrip schema v11: signing a clerk out when they leave the window (离岗自动退出). A counter
-- left without input for this many minutes signs its clerk out, so nobody else acts under their
-- name; 0 turns it off. Append-only: never edit once released.
ALTER TABLE security_settings ADD COLUMN idle_minutes BIGINT NOT NULL DEFAULT 10
    CHECK (idle_minutes BETWEEN 0 AND 240);
