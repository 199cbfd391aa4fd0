-- OneTrip schema v13 (PostgreSQL): live reads cost today's work, never the table's history.
-- The same tables, columns, indexes and constraints as the SQLite file of this version; see it
-- for the why. Append-only: never edit once released.

CREATE TABLE queue_counts (
    day               TEXT    NOT NULL,
    category_id       TEXT    NOT NULL REFERENCES categories(id),
    waiting           BIGINT  NOT NULL CHECK (waiting >= 0),
    priority_waiting  BIGINT  NOT NULL CHECK (priority_waiting >= 0),
    open_waiting      BIGINT  NOT NULL CHECK (open_waiting >= 0),
    PRIMARY KEY (day, category_id)
);
INSERT INTO queue_counts (day, category_id, waiting, priority_waiting, open_waiting)
    SELECT day, category_id, count(*), count(priority), count(*) FILTER (WHERE target_window_id IS NULL)
    FROM tickets WHERE status = 'waiting' GROUP BY day, category_id;

-- One function keeps the counts for insert, update and delete: the old row's contribution
-- leaves, the new row's arrives (an upsert, so the first waiting ticket of a day makes the row).
CREATE FUNCTION onetrip_queue_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'waiting' THEN
        UPDATE queue_counts SET waiting = waiting - 1,
            priority_waiting = priority_waiting - (OLD.priority IS NOT NULL)::int,
            open_waiting = open_waiting - (OLD.target_window_id IS NULL)::int
        WHERE day = OLD.day AND category_id = OLD.category_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'waiting' THEN
        INSERT INTO queue_counts AS q VALUES (NEW.day, NEW.category_id, 1,
            (NEW.priority IS NOT NULL)::int, (NEW.target_window_id IS NULL)::int)
        ON CONFLICT (day, category_id) DO UPDATE SET waiting = q.waiting + 1,
            priority_waiting = q.priority_waiting + EXCLUDED.priority_waiting,
            open_waiting = q.open_waiting + EXCLUDED.open_waiting;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER queue_counts_insert AFTER INSERT ON tickets
FOR EACH ROW WHEN (NEW.status = 'waiting') EXECUTE FUNCTION onetrip_queue_counts();
CREATE TRIGGER queue_counts_update
AFTER UPDATE OF status, day, category_id, priority, target_window_id ON tickets
FOR EACH ROW WHEN (OLD.status = 'waiting' OR NEW.status = 'waiting') EXECUTE FUNCTION onetrip_queue_counts();
CREATE TRIGGER queue_counts_delete AFTER DELETE ON tickets
FOR EACH ROW WHEN (OLD.status = 'waiting') EXECUTE FUNCTION onetrip_queue_counts();

CREATE INDEX tickets_window_day ON tickets(window_id, day, status);
CREATE INDEX ticket_events_window_calls_at ON ticket_events(window_id, at)
    WHERE kind IN ('call', 'call_specific');
-- The rows that point at a ticket, found by it: the foreign-key check of a ticket's insert or
-- removal (retention) looks children up by these, where it scanned both tables.
CREATE INDEX applications_ticket ON applications(ticket_id);
CREATE INDEX cases_ticket ON cases(ticket_id);
