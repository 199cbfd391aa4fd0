-- Hall mode: public devices (kiosks and displays) on the LAN identify themselves to the hall
-- server with a device token an admin registered. Only the token's SHA-256 is stored; the token
-- is shown once, at registration. A revoked device keeps its row (the audit log names it).
CREATE TABLE devices (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('kiosk', 'display')),
    name        TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
CREATE UNIQUE INDEX devices_active_name ON devices(name) WHERE revoked_at IS NULL;
