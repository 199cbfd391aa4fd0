-- OneTrip schema v15: 好差评 on the applicant's side of the window (国办发〔2019〕51号).
-- Append-only: never edit once released.
--
-- * Devices bound to a window: the rater (评价器, the screen the applicant holds or faces) and
--   the window screen (窗口屏). Kiosks and displays serve the hall and name no window.
-- * A rating says how it came in (窗口评价器 / 纸质 / 电话 / 扫码), the reasons picked for a bad
--   one, who recorded it when it came in on paper or by phone, and whether an upheld dispute
--   (申诉) took it out of the clerk's figures (it stays on record).
-- * A bad rating's rectification (差评整改) keeps the rules it opened under (working days to
--   verify and call back, to rectify and answer), so a later change of the hall's setting does
--   not move its clocks; its call back, its outcome and its dispute.
-- * Each trip of an application names its ticket; the staff have a number and a photo.
-- * The hall's rating settings: how long the rater waits before the visit counts as 未评价,
--   the reasons an applicant can pick, the clocks, the service promise the rater shows.
CREATE TABLE devices_v15 (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('kiosk', 'display', 'rater', 'window_screen')),
    name        TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    window_id   TEXT    REFERENCES windows(id),
    -- A one-time pairing code (its SHA-256) and until when it works: opening the pairing page
    -- with it on the tablet gives the device a fresh token, no command line needed.
    pairing_hash        TEXT,
    pairing_expires_at  INTEGER,
    CHECK ((kind IN ('rater', 'window_screen')) = (window_id IS NOT NULL))
) STRICT;
INSERT INTO devices_v15 (id, kind, name, token_hash, created_at, revoked_at)
    SELECT id, kind, name, token_hash, created_at, revoked_at FROM devices;
DROP TABLE devices;
ALTER TABLE devices_v15 RENAME TO devices;
CREATE UNIQUE INDEX devices_active_name ON devices(name) WHERE revoked_at IS NULL;
CREATE UNIQUE INDEX devices_pairing ON devices(pairing_hash) WHERE pairing_hash IS NOT NULL;

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
ALTER TABLE ratings ADD COLUMN excluded_at INTEGER;
CREATE INDEX ratings_rated ON ratings(rated_at);

ALTER TABLE followups ADD COLUMN verify_days INTEGER NOT NULL DEFAULT 1;
ALTER TABLE followups ADD COLUMN rectify_days INTEGER NOT NULL DEFAULT 5;
ALTER TABLE followups ADD COLUMN verified_at INTEGER;
ALTER TABLE followups ADD COLUMN verified_by TEXT REFERENCES staff(id);
ALTER TABLE followups ADD COLUMN verify_note TEXT;
ALTER TABLE followups ADD COLUMN outcome_kind TEXT
    CHECK (outcome_kind IN ('fixed', 'plan', 'explained', 'dispute'));
ALTER TABLE followups ADD COLUMN plan_date TEXT;
ALTER TABLE followups ADD COLUMN applicant_satisfied INTEGER;
ALTER TABLE followups ADD COLUMN disputed_at INTEGER;
ALTER TABLE followups ADD COLUMN disputed_by TEXT REFERENCES staff(id);
ALTER TABLE followups ADD COLUMN dispute_reason TEXT;
ALTER TABLE followups ADD COLUMN dispute_decision TEXT CHECK (dispute_decision IN ('upheld', 'rejected'));
ALTER TABLE followups ADD COLUMN dispute_decided_at INTEGER;
ALTER TABLE followups ADD COLUMN dispute_decided_by TEXT REFERENCES staff(id);
-- Follow-ups closed before v15 said what was done in words only.
UPDATE followups SET outcome_kind = 'fixed' WHERE status = 'closed';

CREATE TABLE rating_settings (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    timeout_s     INTEGER NOT NULL CHECK (timeout_s BETWEEN 15 AND 600),
    verify_days   INTEGER NOT NULL CHECK (verify_days BETWEEN 1 AND 10),
    rectify_days  INTEGER NOT NULL CHECK (rectify_days BETWEEN 1 AND 30),
    reasons       TEXT    NOT NULL,
    promise       TEXT    NOT NULL,
    -- The hall server's address as applicants' phones reach it (the QR codes' links); empty:
    -- the notices' QR codes carry the case number only.
    public_url    TEXT    NOT NULL DEFAULT ''
) STRICT;
INSERT INTO rating_settings (id, timeout_s, verify_days, rectify_days, reasons, promise)
VALUES (1, 60, 1, 5, '["态度不好","等候时间过长","多次跑腿","一次性告知不清","超时办理","其他"]',
        '一次告知 · 限时办结 · 热情服务 · 欢迎监督');
