-- PostgreSQL's spelling of ../sqlite/0007_devices.sql: the same tables, columns, indexes and constraints
-- (tests/core/store.rs compares the two schemas), in PostgreSQL's types — BIGINT for SQLite's
-- INTEGER, identity columns, append-only triggers calling onetrip_refuse().

-- Hall mode: public devices (kiosks and displays) on the LAN identify themselves to the hall
-- server with a device token an admin registered. Only the token's SHA-256 is stored; the token
-- is shown once, at registration. A revoked device keeps its row (the audit log names it).
CREATE TABLE devices (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('kiosk', 'display')),
    name        TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE UNIQUE INDEX devices_active_name ON devices(name) WHERE revoked_at IS NULL;
