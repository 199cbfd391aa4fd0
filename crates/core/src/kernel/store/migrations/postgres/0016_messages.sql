-- PostgreSQL's spelling of ../sqlite/0016_messages.sql: the same tables, columns, indexes and
-- constraints (tests/core/store.rs compares the two schemas).
ALTER TABLE queue_settings ADD COLUMN serve_days_off BIGINT NOT NULL DEFAULT 0
    CHECK (serve_days_off IN (0, 1));
-- From this age (by the birth date in the ID number read at the kiosk) the kiosk suggests the
-- green channel (老年人); 0: never.
ALTER TABLE queue_settings ADD COLUMN elderly_age BIGINT NOT NULL DEFAULT 70
    CHECK (elderly_age = 0 OR elderly_age BETWEEN 60 AND 100);

CREATE TABLE message_templates (
    kind        TEXT    PRIMARY KEY,
    enabled     BIGINT NOT NULL CHECK (enabled IN (0, 1)),
    body        TEXT    NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT    REFERENCES staff(id)
);
INSERT INTO message_templates (kind, enabled, body, updated_at) VALUES
    ('notice.supplement', 1, '【{hall}】您申请的“{item}”（申请号{application}）还需补正：{missing}。请于{until}前带齐以上材料到窗口，一次办好。', 0),
    ('notice.supplement_due', 1, '【{hall}】提醒：您的申请{application}（{item}）补正期限为{until}，还剩{days}个工作日，请及时带齐材料到窗口办理。', 0),
    ('case.accepted', 1, '【{hall}】您申请的“{item}”已受理，办件编号{case}，承诺于{promised}前办结。', 0),
    ('case.suspended', 1, '【{hall}】您的办件{case}（{item}）因{reason}暂停计时，预计需{days}个工作日，期间不计入办理时限。', 0),
    ('case.extended', 1, '【{hall}】您的办件{case}（{item}）经批准延长{days}个工作日办理，理由：{reason}。', 0),
    ('case.decided', 1, '【{hall}】您的办件{case}（{item}）已办理完毕，请携带身份证到{hall}领取结果。', 0);

-- The supplement deadline of the last one-time notice, kept so the applicant can be reminded
-- two working days before it (the sweep finds them by it).
ALTER TABLE applications ADD COLUMN supplement_until TEXT;
CREATE INDEX applications_supplement ON applications(supplement_until)
    WHERE status = 'awaiting_supplement';

CREATE TABLE message_settings (
    singleton       BIGINT PRIMARY KEY CHECK (singleton = 1),
    quiet_from      TEXT    NOT NULL,
    quiet_until     TEXT    NOT NULL,
    ahead_notify    BIGINT NOT NULL CHECK (ahead_notify BETWEEN 1 AND 50),
    gateway         TEXT    NOT NULL CHECK (gateway IN ('log', 'http')),
    gateway_url     TEXT    NOT NULL,
    gateway_secret  TEXT    NOT NULL,
    phone_field     TEXT    NOT NULL,
    text_field      TEXT    NOT NULL,
    updated_at      BIGINT NOT NULL
);
INSERT INTO message_settings VALUES (1, '21:00', '08:00', 3, 'log', '', '', 'phone', 'content', 0);

CREATE TABLE message_optouts (
    phone_hash  TEXT    PRIMARY KEY,
    source      TEXT    NOT NULL CHECK (source IN ('window', 'booking')),
    created_at  BIGINT NOT NULL,
    created_by  TEXT    REFERENCES staff(id)
);

ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sent', 'dead', 'expired'));
ALTER TABLE outbox ADD COLUMN body TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
ALTER TABLE outbox ADD COLUMN expires_at BIGINT;
CREATE INDEX outbox_recipient ON outbox(recipient, created_at) WHERE status = 'pending';
CREATE INDEX outbox_created ON outbox(created_at);
CREATE INDEX outbox_dead ON outbox(created_at) WHERE status = 'dead';
