-- OneTrip schema v11: signing a clerk out when they leave the window (离岗自动退出). A counter
-- left without input for this many minutes signs its clerk out, so nobody else acts under their
-- name; 0 turns it off. Append-only: never edit once released.
ALTER TABLE security_settings ADD COLUMN idle_minutes INTEGER NOT NULL DEFAULT 10
    CHECK (idle_minutes BETWEEN 0 AND 240);
