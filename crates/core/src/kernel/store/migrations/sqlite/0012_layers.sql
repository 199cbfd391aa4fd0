-- OneTrip schema v12: the core in layers. Each capability answers from its own tables what it
-- used to read from a capability above it (handover), and the outbox for what leaves the hall.
-- The handover capability now tells the lower ones, through their functions, what a takeover
-- grants; the rows below carry over the takeovers in progress and past.
-- Append-only: never edit once released.

-- Cases: who may act on whose cases (代办). Offered when a handover sheet is made (the backup
-- may read the cases it carries), acting from the takeover, ended by the hand-back report (the
-- carried cases stay readable), withdrawn when the sheet is cancelled.
CREATE TABLE case_delegations (
    id           TEXT    PRIMARY KEY,          -- the grant: the handover's id
    owner_id     TEXT    NOT NULL REFERENCES staff(id),
    delegate_id  TEXT    NOT NULL REFERENCES staff(id),
    status       TEXT    NOT NULL CHECK (status IN ('offered', 'acting', 'ended', 'withdrawn')),
    changed_at   INTEGER NOT NULL,
    CHECK (owner_id <> delegate_id)
) STRICT;
CREATE INDEX case_delegations_delegate ON case_delegations(delegate_id, status);
CREATE INDEX case_delegations_owner ON case_delegations(owner_id, status);
CREATE TABLE case_delegation_cases (
    delegation_id  TEXT  NOT NULL REFERENCES case_delegations(id),
    case_id        TEXT  NOT NULL REFERENCES cases(id),
    PRIMARY KEY (delegation_id, case_id)
) STRICT;
INSERT INTO case_delegations (id, owner_id, delegate_id, status, changed_at)
    SELECT id, absent_id, taker_id,
           CASE status WHEN 'prepared' THEN 'offered' WHEN 'active' THEN 'acting'
                       WHEN 'cancelled' THEN 'withdrawn' ELSE 'ended' END,
           coalesce(returned_at, reported_at, started_at, prepared_at)
    FROM handovers;
INSERT INTO case_delegation_cases (delegation_id, case_id)
    SELECT handover_id, case_id FROM handover_cases;

-- Queue: a window's queue called wherever a clerk is signed in (a takeover routed to B's
-- window). The views keep their names and columns; only the source of the routes changed.
CREATE TABLE queue_routes (
    id              TEXT    PRIMARY KEY,       -- the grant: the handover's id
    from_window_id  TEXT    NOT NULL REFERENCES windows(id),
    to_staff_id     TEXT    NOT NULL REFERENCES staff(id),
    created_at      INTEGER NOT NULL
) STRICT;
INSERT INTO queue_routes (id, from_window_id, to_staff_id, created_at)
    SELECT h.id, p.window_id, h.taker_id, coalesce(h.started_at, h.prepared_at)
    FROM handovers h JOIN posts p ON p.id = h.post_id AND p.window_id IS NOT NULL
    WHERE h.status = 'active'
      AND (SELECT routing FROM post_settings WHERE singleton = 1) = 'to_backup_window';
DROP VIEW window_serving;
DROP VIEW window_routes;
CREATE VIEW window_routes AS
    SELECT id AS window_id, id AS from_window_id, 0 AS routed FROM windows
    UNION ALL
    SELECT s.window_id, r.from_window_id, 1
    FROM queue_routes r
    JOIN sessions s ON s.staff_id = r.to_staff_id AND s.ended_at IS NULL
                   AND s.window_id IS NOT NULL AND s.window_id <> r.from_window_id;
CREATE VIEW window_serving AS
    SELECT r.window_id, wc.category_id, min(wc.rank + 1000 * r.routed) AS rank
    FROM window_routes r JOIN window_categories wc ON wc.window_id = r.from_window_id
    GROUP BY r.window_id, wc.category_id;

-- Posts: a taken-over A counts as away from the takeover until B's report (or the end of the
-- absence it was for), for the AB guard.
CREATE TABLE post_takeovers (
    id           TEXT    PRIMARY KEY,          -- the handover's id
    post_id      TEXT    NOT NULL REFERENCES posts(id),
    absent_id    TEXT    NOT NULL REFERENCES staff(id),
    absence_id   TEXT    REFERENCES absences(id),
    starts_at    INTEGER NOT NULL,
    reported_at  INTEGER
) STRICT;
INSERT INTO post_takeovers (id, post_id, absent_id, absence_id, starts_at, reported_at)
    SELECT id, post_id, absent_id, absence_id, started_at, reported_at
    FROM handovers
    WHERE status IN ('active', 'reported', 'returned') AND started_at IS NOT NULL;

-- The outbox (kernel): messages written in the transaction of their cause, delivered by a job.
CREATE TABLE outbox (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    recipient   TEXT    NOT NULL,
    dedupe      TEXT    NOT NULL UNIQUE,
    payload     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    next_at     INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    sent_at     INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox(next_at) WHERE status = 'pending';
