-- OneTrip schema v3: the working-day calendar, the service-item catalog, cases with their
-- append-only event log, deadline settings and deadline alerts.
-- Append-only: never edit this file once released.

-- The calendar's current version. `stamp` changes with every change (never reused, even after a
-- rollback), so an in-memory index keyed by it is never stale. `bundle` names the notices
-- compiled into the build that last opened the file.
CREATE TABLE calendar_state (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    version     INTEGER NOT NULL,
    stamp       TEXT    NOT NULL,
    bundle      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
INSERT INTO calendar_state (singleton, version, stamp, bundle, updated_at) VALUES (1, 0, '', '', 0);

-- Every calendar change, one row per version.
CREATE TABLE calendar_changes (
    version     INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('bundle', 'import', 'override', 'revoke')),
    summary     TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT    NOT NULL
) STRICT;

-- Notices imported by an admin (holiday-cn JSON); the newest import of a year replaces the
-- bundled file of that year.
CREATE TABLE calendar_imports (
    year         INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
    version      INTEGER NOT NULL REFERENCES calendar_changes(version),
    json         TEXT    NOT NULL,
    imported_at  INTEGER NOT NULL,
    PRIMARY KEY (year, version)
) STRICT;

-- Local overrides (a province or city notice), each with its reason. Revoked, never deleted.
CREATE TABLE calendar_overrides (
    id               TEXT    PRIMARY KEY,
    date             TEXT    NOT NULL,              -- ISO date
    is_off_day       INTEGER NOT NULL CHECK (is_off_day IN (0, 1)),
    reason           TEXT    NOT NULL,
    version          INTEGER NOT NULL REFERENCES calendar_changes(version),
    created_at       INTEGER NOT NULL,
    created_by       TEXT    NOT NULL,
    revoked_version  INTEGER REFERENCES calendar_changes(version),
    revoked_at       INTEGER
) STRICT;
CREATE UNIQUE INDEX calendar_overrides_one_per_date ON calendar_overrides(date) WHERE revoked_at IS NULL;

-- How deadlines are counted and when they warn (hall settings; an item may override the warning
-- thresholds).
CREATE TABLE deadline_settings (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    day_count       TEXT    NOT NULL CHECK (day_count IN ('next_day', 'same_day')),
    reminder_days   INTEGER NOT NULL CHECK (reminder_days BETWEEN 0 AND 30),
    yellow_days     INTEGER NOT NULL CHECK (yellow_days BETWEEN 0 AND 30),
    red_days        INTEGER NOT NULL CHECK (red_days BETWEEN 0 AND 30),
    updated_at      INTEGER NOT NULL
) STRICT;
INSERT INTO deadline_settings VALUES (1, 'next_day', 2, 0, 0, 0);

-- Service items (政务服务事项) and their materials.
CREATE TABLE service_items (
    id               TEXT    PRIMARY KEY,
    code             TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL,
    department       TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    legal_basis      TEXT    NOT NULL,
    statutory_days   INTEGER NOT NULL CHECK (statutory_days BETWEEN 0 AND 365),
    promised_days    INTEGER NOT NULL CHECK (promised_days BETWEEN 0 AND 365),
    extension_days   INTEGER NOT NULL CHECK (extension_days BETWEEN 0 AND 365),
    fees             TEXT    NOT NULL,
    visits_needed    INTEGER NOT NULL CHECK (visits_needed BETWEEN 0 AND 9),
    phone            TEXT    NOT NULL,
    location         TEXT    NOT NULL,
    category_id      TEXT    REFERENCES categories(id),
    reminder_days    INTEGER CHECK (reminder_days BETWEEN 0 AND 30),
    yellow_days      INTEGER CHECK (yellow_days BETWEEN 0 AND 30),
    red_days         INTEGER CHECK (red_days BETWEEN 0 AND 30),
    active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CHECK (promised_days <= statutory_days)
) STRICT;

CREATE TABLE materials (
    id           TEXT    PRIMARY KEY,
    item_id      TEXT    NOT NULL REFERENCES service_items(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    name         TEXT    NOT NULL,
    form         TEXT    NOT NULL CHECK (form IN ('original', 'copy', 'original_and_copy')),
    copies       INTEGER NOT NULL CHECK (copies BETWEEN 0 AND 99),
    medium       TEXT    NOT NULL CHECK (medium IN ('paper', 'electronic', 'either')),
    requirement  TEXT    NOT NULL CHECK (requirement IN ('required', 'optional', 'conditional')),
    condition    TEXT    NOT NULL,
    standard     TEXT    NOT NULL,
    notes        TEXT    NOT NULL,
    UNIQUE (item_id, position)
) STRICT;

-- Human-readable numbers (case numbers, document numbers), allocated inside the writing
-- transaction from counters that only grow.
CREATE TABLE number_counters (
    scope   TEXT    NOT NULL,
    period  TEXT    NOT NULL,
    value   INTEGER NOT NULL,
    PRIMARY KEY (scope, period)
) STRICT;

-- A case (办件): one accepted application. The deadline columns are a cache of the pure
-- function over the event log, recomputed on every event and every calendar change, with the
-- calendar version they were computed on.
CREATE TABLE cases (
    id                    TEXT    PRIMARY KEY,
    number                TEXT    NOT NULL UNIQUE,
    item_id               TEXT    NOT NULL REFERENCES service_items(id),
    applicant_name        TEXT    NOT NULL,
    applicant_id_number   TEXT    NOT NULL,
    applicant_phone       TEXT    NOT NULL,
    ticket_id             TEXT    REFERENCES tickets(id),
    window_id             TEXT    REFERENCES windows(id),
    accepted_by           TEXT    NOT NULL REFERENCES staff(id),
    owner_id              TEXT    NOT NULL REFERENCES staff(id),
    received_at           INTEGER NOT NULL,
    accepted_at           INTEGER NOT NULL,
    status                TEXT    NOT NULL CHECK (status IN ('accepted', 'in_progress', 'suspended', 'decided', 'completed')),
    promised_due_at       INTEGER,
    statutory_due_at      INTEGER,
    level                 TEXT    NOT NULL,
    provisional           INTEGER NOT NULL CHECK (provisional IN (0, 1)),
    calendar_version      INTEGER NOT NULL,
    timing                TEXT    CHECK (timing IN ('early', 'on_time', 'late')),
    workdays_used         INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) STRICT;
CREATE INDEX cases_open ON cases(status, promised_due_at);
CREATE INDEX cases_owner ON cases(owner_id, status);

-- The append-only event log of a case. The database refuses updates and deletes.
CREATE TABLE case_events (
    id          TEXT    PRIMARY KEY,
    case_id     TEXT    NOT NULL REFERENCES cases(id),
    seq         INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT    NOT NULL,
    data        TEXT    NOT NULL,      -- JSON, the event's own fields
    UNIQUE (case_id, seq)
) STRICT;
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;

-- A case whose warning level rose. Delivered (banner, desktop notification) only in business
-- hours on a working day: `deliver_at` is the first such moment.
CREATE TABLE case_alerts (
    id            TEXT    PRIMARY KEY,
    case_id       TEXT    NOT NULL REFERENCES cases(id),
    level         TEXT    NOT NULL,
    raised_at     INTEGER NOT NULL,
    deliver_at    INTEGER NOT NULL,
    delivered_at  INTEGER,
    dismissed_at  INTEGER,
    dismissed_by  TEXT
) STRICT;
CREATE INDEX case_alerts_pending ON case_alerts(delivered_at, deliver_at);
