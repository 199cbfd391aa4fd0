-- OneTrip schema v13: live reads cost today's work, never the table's history. A hall that has
-- run for years keeps millions of tickets; the screens that stay open all day (counters,
-- displays, kiosks) read only today's rows and the waiting queue.
-- Append-only: never edit once released.

-- Waiting tickets per business day and category, kept by the triggers below in the same
-- transaction as every change of a ticket: a board or a counter reads its counts in O(categories)
-- instead of counting the queue (100,000 waiting took 114 ms per board read).
--   waiting           every waiting ticket of the category (transfers to one window included)
--   priority_waiting  of those, green-channel tickets
--   open_waiting      of those, the ones any window serving the category may call (not
--                     transferred to one window)
CREATE TABLE queue_counts (
    day               TEXT    NOT NULL,
    category_id       TEXT    NOT NULL REFERENCES categories(id),
    waiting           INTEGER NOT NULL CHECK (waiting >= 0),
    priority_waiting  INTEGER NOT NULL CHECK (priority_waiting >= 0),
    open_waiting      INTEGER NOT NULL CHECK (open_waiting >= 0),
    PRIMARY KEY (day, category_id)
) STRICT;
INSERT INTO queue_counts (day, category_id, waiting, priority_waiting, open_waiting)
    SELECT day, category_id, count(*), count(priority), count(*) FILTER (WHERE target_window_id IS NULL)
    FROM tickets WHERE status = 'waiting' GROUP BY day, category_id;

CREATE TRIGGER queue_counts_insert AFTER INSERT ON tickets WHEN NEW.status = 'waiting'
BEGIN
    INSERT OR IGNORE INTO queue_counts VALUES (NEW.day, NEW.category_id, 0, 0, 0);
    UPDATE queue_counts SET waiting = waiting + 1,
        priority_waiting = priority_waiting + (NEW.priority IS NOT NULL),
        open_waiting = open_waiting + (NEW.target_window_id IS NULL)
    WHERE day = NEW.day AND category_id = NEW.category_id;
END;
CREATE TRIGGER queue_counts_update
AFTER UPDATE OF status, day, category_id, priority, target_window_id ON tickets
WHEN OLD.status = 'waiting' OR NEW.status = 'waiting'
BEGIN
    UPDATE queue_counts SET waiting = waiting - 1,
        priority_waiting = priority_waiting - (OLD.priority IS NOT NULL),
        open_waiting = open_waiting - (OLD.target_window_id IS NULL)
    WHERE OLD.status = 'waiting' AND day = OLD.day AND category_id = OLD.category_id;
    INSERT OR IGNORE INTO queue_counts
        SELECT NEW.day, NEW.category_id, 0, 0, 0 WHERE NEW.status = 'waiting';
    UPDATE queue_counts SET waiting = waiting + 1,
        priority_waiting = priority_waiting + (NEW.priority IS NOT NULL),
        open_waiting = open_waiting + (NEW.target_window_id IS NULL)
    WHERE NEW.status = 'waiting' AND day = NEW.day AND category_id = NEW.category_id;
END;
CREATE TRIGGER queue_counts_delete AFTER DELETE ON tickets WHEN OLD.status = 'waiting'
BEGIN
    UPDATE queue_counts SET waiting = waiting - 1,
        priority_waiting = priority_waiting - (OLD.priority IS NOT NULL),
        open_waiting = open_waiting - (OLD.target_window_id IS NULL)
    WHERE day = OLD.day AND category_id = OLD.category_id;
END;

-- A window's tickets of one day (the console's counts, the ticket to rate): bounded by today,
-- where (window_id, status) walked every ticket the window ever finished.
CREATE INDEX tickets_window_day ON tickets(window_id, day, status);
-- A window's calls of one day (the console's "called" count).
CREATE INDEX ticket_events_window_calls_at ON ticket_events(window_id, at)
    WHERE kind IN ('call', 'call_specific');
-- The rows that point at a ticket, found by it: the foreign-key check of a ticket's insert or
-- removal (retention) looks children up by these, where it scanned both tables.
CREATE INDEX applications_ticket ON applications(ticket_id);
CREATE INDEX cases_ticket ON cases(ticket_id);
