-- PostgreSQL's spelling of ../sqlite/0004_applications_notices.sql: the same tables, columns, indexes and constraints
-- (tests/core/store.rs compares the two schemas), in PostgreSQL's types — BIGINT for SQLite's
-- INTEGER, identity columns, append-only triggers calling onetrip_refuse().

-- OneTrip schema v4: applications checked against their item's materials (一次性告知), the
-- printed notices (文书) with their archive copies, and the notice templates.
-- Append-only: never edit this file once released.

-- An application (申请) from the first receipt of materials until it is accepted (→ a case),
-- rejected, or deemed accepted under art. 32(4).
CREATE TABLE applications (
    id                   TEXT    PRIMARY KEY,
    number               TEXT    NOT NULL UNIQUE,
    item_id              TEXT    NOT NULL REFERENCES service_items(id),
    applicant_name       TEXT    NOT NULL,
    applicant_id_number  TEXT    NOT NULL,
    applicant_phone      TEXT    NOT NULL,
    ticket_id            TEXT    REFERENCES tickets(id),
    window_id            TEXT    REFERENCES windows(id),
    clerk_id             TEXT    NOT NULL REFERENCES staff(id),
    received_at          BIGINT NOT NULL,
    -- The last day to issue the one-time notice (5 working days after receipt), ISO date.
    notice_due           TEXT    NOT NULL,
    status               TEXT    NOT NULL CHECK (status IN ('checking', 'awaiting_supplement', 'accepted', 'rejected')),
    -- How it ended: 'direct', 'after_supplement', 'deemed', 'rejected'.
    outcome              TEXT,
    case_id              TEXT    REFERENCES cases(id),
    visits               BIGINT NOT NULL DEFAULT 1,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX applications_open ON applications(status, notice_due);

-- The item's materials as they stood when the application was opened, and what was found.
CREATE TABLE application_materials (
    application_id  TEXT    NOT NULL REFERENCES applications(id),
    position        BIGINT NOT NULL,
    name            TEXT    NOT NULL,
    form            TEXT    NOT NULL,
    copies          BIGINT NOT NULL,
    requirement     TEXT    NOT NULL,
    condition       TEXT    NOT NULL,
    standard        TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'received', 'missing', 'not_applicable')),
    note            TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (application_id, position)
);

-- Every trip the applicant made for this application (the hall watches visits against the
-- item's "visits needed").
CREATE TABLE application_visits (
    application_id  TEXT    NOT NULL REFERENCES applications(id),
    seq             BIGINT NOT NULL,
    at              BIGINT NOT NULL,
    clerk_id        TEXT    NOT NULL REFERENCES staff(id),
    window_id       TEXT    REFERENCES windows(id),
    PRIMARY KEY (application_id, seq)
);

-- Every notice issued. `data` is the exact JSON the template rendered, `template_version` the
-- template used: a notice can be rendered again byte for byte. Rows are never changed.
CREATE TABLE documents (
    id                TEXT    PRIMARY KEY,
    number            TEXT    NOT NULL UNIQUE,
    kind              TEXT    NOT NULL CHECK (kind IN ('supplement_notice', 'acceptance_notice', 'rejection_notice')),
    application_id    TEXT    NOT NULL REFERENCES applications(id),
    case_id           TEXT    REFERENCES cases(id),
    paper             TEXT    NOT NULL CHECK (paper IN ('a4', 'a5')),
    template_version  BIGINT NOT NULL,
    data              TEXT    NOT NULL,
    archive_path      TEXT    NOT NULL,
    sha256            TEXT    NOT NULL,
    issued_at         BIGINT NOT NULL,
    issued_by         TEXT    NOT NULL REFERENCES staff(id)
);
CREATE TRIGGER documents_no_update BEFORE UPDATE ON documents
FOR EACH ROW EXECUTE FUNCTION onetrip_refuse('documents are append-only');
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents
FOR EACH ROW EXECUTE FUNCTION onetrip_refuse('documents are append-only');

-- Templates edited by the hall admin; the newest version of a kind is used. No row: the
-- build's default.
CREATE TABLE notice_templates (
    kind        TEXT    NOT NULL,
    version     BIGINT NOT NULL,
    source      TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT    NOT NULL,
    PRIMARY KEY (kind, version)
);

CREATE TABLE notice_settings (
    singleton        BIGINT PRIMARY KEY CHECK (singleton = 1),
    paper            TEXT    NOT NULL CHECK (paper IN ('a4', 'a5')),
    printer          TEXT    NOT NULL,          -- CUPS queue name; '' = none
    supplement_days  BIGINT NOT NULL CHECK (supplement_days BETWEEN 1 AND 180),
    review_body      TEXT    NOT NULL,          -- 行政复议机关
    court            TEXT    NOT NULL,          -- 行政诉讼管辖法院
    updated_at       BIGINT NOT NULL
);
INSERT INTO notice_settings VALUES (1, 'a4', '', 20, '本级人民政府', '本辖区人民法院', 0);
