-- PostgreSQL's spelling of ../sqlite/0006_handover.sql: the same tables, columns, indexes and constraints
-- (tests/core/store.rs compares the two schemas), in PostgreSQL's types — BIGINT for SQLite's
-- INTEGER, identity columns, append-only triggers calling onetrip_refuse().

-- OneTrip schema v6: handovers (交接) between the A and B of a post, the cases each carries,
-- on-behalf attribution of case events, takeover queue routing, and staff notifications.
-- Append-only: never edit this file once released.

-- A handover: prepared by A (planned) or started by B / a supervisor (emergency); active from
-- B's acknowledgement until B's hand-back report; closed when A acknowledges the report.
CREATE TABLE handovers (
    id              TEXT    PRIMARY KEY,
    number          TEXT    NOT NULL UNIQUE,
    post_id         TEXT    NOT NULL REFERENCES posts(id),
    absent_id       TEXT    NOT NULL REFERENCES staff(id),
    taker_id        TEXT    NOT NULL REFERENCES staff(id),
    absence_id      TEXT    REFERENCES absences(id),
    kind            TEXT    NOT NULL CHECK (kind IN ('planned', 'emergency')),
    reason          TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('prepared', 'active', 'reported', 'returned', 'cancelled')),
    queue_duties    TEXT    NOT NULL,          -- JSON snapshot: the window, its categories, held tickets
    queue_note      TEXT    NOT NULL,
    materials_note  TEXT    NOT NULL,
    absent_note     TEXT    NOT NULL DEFAULT '',
    prepared_by     TEXT    NOT NULL,
    prepared_at     BIGINT NOT NULL,
    started_by      TEXT,
    started_at      BIGINT,
    report_note     TEXT,
    reported_at     BIGINT,
    returned_at     BIGINT,
    CHECK (absent_id <> taker_id)
);
CREATE UNIQUE INDEX handovers_one_open_per_post ON handovers(post_id)
    WHERE status IN ('prepared', 'active', 'reported');
CREATE INDEX handovers_taker ON handovers(taker_id, status);
CREATE INDEX handovers_absent ON handovers(absent_id, status);

-- The cases a handover carries: A's note and where the paper is; B's note at hand-back; and,
-- when A acknowledges, whether the case went back to A or stays with B.
CREATE TABLE handover_cases (
    handover_id   TEXT    NOT NULL REFERENCES handovers(id),
    case_id       TEXT    NOT NULL REFERENCES cases(id),
    position      BIGINT NOT NULL,
    note          TEXT    NOT NULL,
    materials_at  TEXT    NOT NULL,
    back_note     TEXT    NOT NULL DEFAULT '',
    propose_keep  BIGINT NOT NULL DEFAULT 0 CHECK (propose_keep IN (0, 1)),
    disposition   TEXT    CHECK (disposition IN ('returned', 'kept')),
    PRIMARY KEY (handover_id, case_id)
);

-- "B on behalf of A": who the actor stood in for, under which handover.
ALTER TABLE case_events ADD COLUMN on_behalf_id TEXT REFERENCES staff(id);
ALTER TABLE case_events ADD COLUMN handover_id TEXT REFERENCES handovers(id);
CREATE INDEX case_events_on_behalf ON case_events(handover_id) WHERE handover_id IS NOT NULL;

-- During a takeover, A's window's categories go to B's window, or B works at A's window.
ALTER TABLE post_settings ADD COLUMN routing TEXT NOT NULL DEFAULT 'to_backup_window'
    CHECK (routing IN ('to_backup_window', 'backup_at_a_window'));

-- Which windows' queues a window calls from: its own, plus (routing 'to_backup_window') the
-- window of every post whose active takeover is held by the clerk signed in here.
CREATE VIEW window_routes AS
    SELECT id AS window_id, id AS from_window_id, 0 AS routed FROM windows
    UNION ALL
    SELECT s.window_id, p.window_id, 1
    FROM handovers h
    JOIN posts p ON p.id = h.post_id AND p.window_id IS NOT NULL
    JOIN sessions s ON s.staff_id = h.taker_id AND s.ended_at IS NULL
                   AND s.window_id IS NOT NULL AND s.window_id <> p.window_id
    WHERE h.status = 'active'
      AND (SELECT routing FROM post_settings WHERE singleton = 1) = 'to_backup_window';

-- The categories a window calls, routed ones ranked after its own.
CREATE VIEW window_serving AS
    SELECT r.window_id, wc.category_id, min(wc.rank + 1000 * r.routed) AS rank
    FROM window_routes r JOIN window_categories wc ON wc.window_id = r.from_window_id
    GROUP BY r.window_id, wc.category_id;

-- Notifications to one staff member (supervisor notices are fanned out to each supervisor).
CREATE TABLE staff_notices (
    id          TEXT    PRIMARY KEY,
    staff_id    TEXT    NOT NULL REFERENCES staff(id),
    kind        TEXT    NOT NULL,
    dedupe      TEXT,
    subject_id  TEXT,
    text        TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    read_at     BIGINT
);
CREATE UNIQUE INDEX staff_notices_dedupe ON staff_notices(staff_id, dedupe) WHERE dedupe IS NOT NULL;
CREATE INDEX staff_notices_unread ON staff_notices(staff_id, read_at, created_at);
