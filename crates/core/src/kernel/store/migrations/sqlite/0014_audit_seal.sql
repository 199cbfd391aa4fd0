-- OneTrip schema v14: the audit chain is sealed in an order of its own (`link`).
-- Append-only: never edit once released.
--
-- A row's hash covers the hash of the row before it, so the chain orders every write. On
-- PostgreSQL, appending under one lock held to the commit serialised every write of every hall
-- server (21 of 25 connections waited on it at full load). There a write now appends its row
-- unsealed (`link` NULL, hashes empty) and the sealer chains the committed rows right after the
-- commit, in batches (`kernel::audit::seal`). SQLite has one writer and seals each row as it is
-- appended. `link` is the row's place in the chain: 1, 2, 3 … with no gaps; `seq` stays the
-- order rows were appended in.
ALTER TABLE audit_log ADD COLUMN link INTEGER;

DROP TRIGGER audit_log_no_update;
-- The rows so far, sealed in the order they were appended (numbered without the gaps a
-- rolled-back PostgreSQL insert leaves in `seq`).
UPDATE audit_log SET link = r.n
FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM audit_log) AS r
WHERE audit_log.seq = r.seq;

CREATE UNIQUE INDEX audit_link ON audit_log(link);
-- The rows still to seal (none on SQLite, a few for a moment on PostgreSQL).
CREATE INDEX audit_unsealed ON audit_log(seq) WHERE link IS NULL;

-- What a row says is never updated; its seal is written once, by the sealer.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OF seq, id, at, actor_kind, actor_id, actor_name,
    source, op, subject_kind, subject_id, summary, before_json, after_json ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_sealed_once BEFORE UPDATE OF prev_hash, hash, link ON audit_log
WHEN OLD.link IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
