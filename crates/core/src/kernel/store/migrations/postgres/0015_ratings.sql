-- PostgreSQL's spelling of ../sqlite/0015_ratings.sql: the same tables, columns, indexes and
-- constraints (tests/core/store.rs compares the two schemas).
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;
ALTER TABLE devices ADD CONSTRAINT devices_kind_check
    CHECK (kind IN ('kiosk', 'display', 'rater', 'window_screen'));
ALTER TABLE devices ADD COLUMN window_id TEXT REFERENCES windows(id);
ALTER TABLE devices ADD COLUMN pairing_hash TEXT;
ALTER TABLE devices ADD COLUMN pairing_expires_at BIGINT;
CREATE UNIQUE INDEX devices_pairing ON devices(pairing_hash) WHERE pairing_hash IS NOT NULL;
ALTER TABLE devices ADD CONSTRAINT devices_window_check
    CHECK ((kind IN ('rater', 'window_screen')) = (window_id IS NOT NULL));

-- Each trip of an application names the ticket it came with, so a rating belongs to the
-- application and case its visit opened, supplemented or accepted.
ALTER TABLE application_visits ADD COLUMN ticket_id TEXT REFERENCES tickets(id);
UPDATE application_visits SET ticket_id = (SELECT a.ticket_id FROM applications a
    WHERE a.id = application_visits.application_id) WHERE seq = 1;
CREATE INDEX application_visits_ticket ON application_visits(ticket_id);

-- The one-time and acceptance notices carry a QR code to rate the visit later from a phone:
-- the notice's number and this short code are the key (no sign-in), one rating per visit.
ALTER TABLE documents ADD COLUMN rating_code TEXT;

-- What the rater shows of the clerk: the staff number (工号) and a photo (a small JPEG or
-- PNG as a data URL, uploaded in staff admin).
ALTER TABLE staff ADD COLUMN staff_number TEXT NOT NULL DEFAULT '';
ALTER TABLE staff ADD COLUMN photo TEXT;

ALTER TABLE ratings ADD COLUMN channel TEXT NOT NULL DEFAULT 'rater'
    CHECK (channel IN ('rater', 'paper', 'phone', 'qr'));
ALTER TABLE ratings ADD COLUMN reasons TEXT NOT NULL DEFAULT '[]';
ALTER TABLE ratings ADD COLUMN recorded_by TEXT REFERENCES staff(id);
ALTER TABLE ratings ADD COLUMN excluded_at BIGINT;
CREATE INDEX ratings_rated ON ratings(rated_at);

ALTER TABLE followups ADD COLUMN verify_days BIGINT NOT NULL DEFAULT 1;
ALTER TABLE followups ADD COLUMN rectify_days BIGINT NOT NULL DEFAULT 5;
ALTER TABLE followups ADD COLUMN verified_at BIGINT;
ALTER TABLE followups ADD COLUMN verified_by TEXT REFERENCES staff(id);
ALTER TABLE followups ADD COLUMN verify_note TEXT;
ALTER TABLE followups ADD COLUMN outcome_kind TEXT
    CHECK (outcome_kind IN ('fixed', 'plan', 'explained', 'dispute'));
ALTER TABLE followups ADD COLUMN plan_date TEXT;
ALTER TABLE followups ADD COLUMN applicant_satisfied BIGINT;
ALTER TABLE followups ADD COLUMN disputed_at BIGINT;
ALTER TABLE followups ADD COLUMN disputed_by TEXT REFERENCES staff(id);
ALTER TABLE followups ADD COLUMN dispute_reason TEXT;
ALTER TABLE followups ADD COLUMN dispute_decision TEXT CHECK (dispute_decision IN ('upheld', 'rejected'));
ALTER TABLE followups ADD COLUMN dispute_decided_at BIGINT;
ALTER TABLE followups ADD COLUMN dispute_decided_by TEXT REFERENCES staff(id);
UPDATE followups SET outcome_kind = 'fixed' WHERE status = 'closed';

CREATE TABLE rating_settings (
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    timeout_s     BIGINT NOT NULL CHECK (timeout_s BETWEEN 15 AND 600),
    verify_days   BIGINT NOT NULL CHECK (verify_days BETWEEN 1 AND 10),
    rectify_days  BIGINT NOT NULL CHECK (rectify_days BETWEEN 1 AND 30),
    reasons       TEXT    NOT NULL,
    promise       TEXT    NOT NULL,
    -- The hall server's address as applicants' phones reach it (the QR codes' links); empty:
    -- the notices' QR codes carry the case number only.
    public_url    TEXT    NOT NULL DEFAULT ''
);
INSERT INTO rating_settings (id, timeout_s, verify_days, rectify_days, reasons, promise)
VALUES (1, 60, 1, 5, '["态度不好","等候时间过长","多次跑腿","一次性告知不清","超时办理","其他"]',
        '一次告知 · 限时办结 · 热情服务 · 欢迎监督');
