-- OneTrip schema v2: the queue (排队叫号): tickets, their event log, window pauses, ratings and
-- the follow-ups bad ratings create. Append-only: never edit once released.

-- The hall's queue rules. One row, created here with the defaults.
CREATE TABLE queue_settings (
    singleton               INTEGER PRIMARY KEY CHECK (singleton = 1),
    one_waiting_per_person  INTEGER NOT NULL CHECK (one_waiting_per_person IN (0, 1)),
    priority_max_in_row     INTEGER NOT NULL CHECK (priority_max_in_row BETWEEN 1 AND 20),
    aging_minutes           INTEGER NOT NULL CHECK (aging_minutes BETWEEN 1 AND 600),
    recall_cap              INTEGER NOT NULL CHECK (recall_cap BETWEEN 0 AND 10),
    no_show_policy          TEXT    NOT NULL CHECK (no_show_policy IN ('void', 'requeue')),
    no_show_requeue_places  INTEGER NOT NULL CHECK (no_show_requeue_places BETWEEN 1 AND 50),
    allow_call_specific     INTEGER NOT NULL CHECK (allow_call_specific IN (0, 1)),
    announce_times          INTEGER NOT NULL CHECK (announce_times BETWEEN 1 AND 5),
    ticket_note             TEXT    NOT NULL,
    updated_at              INTEGER NOT NULL
) STRICT;
INSERT INTO queue_settings VALUES (1, 1, 2, 15, 3, 'void', 3, 0, 2, '过号请重新取号', 0);

-- The last sequence number handed out per category and business day (Beijing date). Only ever
-- incremented, inside the transaction that inserts the ticket: a number is never reused.
CREATE TABLE ticket_counters (
    category_id  TEXT    NOT NULL REFERENCES categories(id),
    day          TEXT    NOT NULL,
    last_seq     INTEGER NOT NULL CHECK (last_seq BETWEEN 1 AND 999),
    PRIMARY KEY (category_id, day)
) STRICT;

CREATE TABLE tickets (
    id                TEXT    PRIMARY KEY,
    day               TEXT    NOT NULL,                 -- business day, YYYY-MM-DD Beijing
    issued_category   TEXT    NOT NULL REFERENCES categories(id),
    seq               INTEGER NOT NULL,
    number            TEXT    NOT NULL,                 -- A001: issued prefix + seq, kept on transfer
    category_id       TEXT    NOT NULL REFERENCES categories(id),   -- the queue it waits in now
    target_window_id  TEXT    REFERENCES windows(id),  -- transferred to one window
    priority          TEXT    CHECK (priority IN ('elderly', 'disabled', 'military', 'pregnant', 'other')),
    priority_note     TEXT,
    applicant_name    TEXT,
    id_hash           TEXT,                             -- SHA-256 of hall id + ID number
    id_masked         TEXT,
    status            TEXT    NOT NULL CHECK (status IN ('waiting', 'called', 'serving', 'held', 'done', 'no_show')),
    queue_key         INTEGER NOT NULL,                 -- arrival order (ms); moved back by a requeue
    issued_at         INTEGER NOT NULL,
    called_at         INTEGER,                          -- first call
    last_called_at    INTEGER,
    recalls           INTEGER NOT NULL DEFAULT 0,
    started_at        INTEGER,
    finished_at       INTEGER,
    window_id         TEXT    REFERENCES windows(id),  -- the window that called it last
    staff_id          TEXT    REFERENCES staff(id),
    issued_by         TEXT    NOT NULL,                 -- kiosk | counter | system
    UNIQUE (issued_category, day, seq)
) STRICT;
CREATE INDEX tickets_waiting ON tickets(day, category_id, (priority IS NOT NULL), queue_key, seq)
    WHERE status = 'waiting' AND target_window_id IS NULL;
CREATE INDEX tickets_targeted ON tickets(target_window_id, queue_key) WHERE status = 'waiting';
CREATE INDEX tickets_window ON tickets(window_id, status);
CREATE INDEX tickets_day ON tickets(day, category_id, status);
CREATE INDEX tickets_done ON tickets(category_id, finished_at) WHERE status = 'done';
CREATE INDEX tickets_person ON tickets(id_hash, category_id) WHERE status = 'waiting';
-- At most one ticket is being called or served at a window at a time.
CREATE UNIQUE INDEX tickets_one_active_per_window ON tickets(window_id)
    WHERE status IN ('called', 'serving');

-- Every step of every ticket, append-only. Calls (call, recall, call_back, call_specific) feed
-- the public display and the voice.
CREATE TABLE ticket_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   TEXT    NOT NULL REFERENCES tickets(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('issue', 'call', 'recall', 'start', 'no_show', 'requeue',
                                                 'hold', 'call_back', 'transfer', 'finish', 'call_specific', 'rate')),
    window_id   TEXT    REFERENCES windows(id),
    staff_id    TEXT    REFERENCES staff(id),
    at          INTEGER NOT NULL,
    detail      TEXT                                    -- JSON
) STRICT;
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, seq);
CREATE INDEX ticket_events_calls ON ticket_events(at) WHERE kind IN ('call', 'recall', 'call_back', 'call_specific');
CREATE INDEX ticket_events_window_calls ON ticket_events(window_id, seq) WHERE kind IN ('call', 'call_specific');
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;
CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;

-- A window's pause (暂停服务): it calls nothing while paused.
CREATE TABLE window_pauses (
    id          TEXT    PRIMARY KEY,
    window_id   TEXT    NOT NULL REFERENCES windows(id),
    staff_id    TEXT    NOT NULL REFERENCES staff(id),
    reason      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER
) STRICT;
CREATE UNIQUE INDEX window_pauses_open ON window_pauses(window_id) WHERE ended_at IS NULL;

-- 好差评: one rating per ticket, five levels (5 = 非常满意 … 1 = 非常不满意).
CREATE TABLE ratings (
    ticket_id   TEXT    PRIMARY KEY REFERENCES tickets(id),
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    comment     TEXT    NOT NULL DEFAULT '',
    window_id   TEXT    REFERENCES windows(id),
    staff_id    TEXT    REFERENCES staff(id),
    rated_at    INTEGER NOT NULL,
    source      TEXT
) STRICT;

-- A bad rating (不满意, 非常不满意) must be followed up by a supervisor.
CREATE TABLE followups (
    id          TEXT    PRIMARY KEY,
    ticket_id   TEXT    NOT NULL UNIQUE REFERENCES ratings(ticket_id),
    status      TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
    created_at  INTEGER NOT NULL,
    closed_at   INTEGER,
    closed_by   TEXT    REFERENCES staff(id),
    outcome     TEXT
) STRICT;
CREATE INDEX followups_status ON followups(status, created_at);
