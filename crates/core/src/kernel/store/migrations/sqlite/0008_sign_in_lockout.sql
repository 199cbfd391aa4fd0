-- Sign-in throttling: consecutive failures per login name (known or not, so a lock reveals
-- nothing about which logins exist) and the lock they lead to. The limits are hall settings.
CREATE TABLE security_settings (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    max_failures  INTEGER NOT NULL DEFAULT 5 CHECK (max_failures BETWEEN 3 AND 20),
    lock_minutes  INTEGER NOT NULL DEFAULT 15 CHECK (lock_minutes BETWEEN 1 AND 1440),
    updated_at    INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO security_settings (id) VALUES (1);

CREATE TABLE sign_in_failures (
    login         TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_at       INTEGER NOT NULL,
    locked_until  INTEGER
) STRICT;
