//! The outbox: what must leave the hall — a message to an applicant, a notice to another
//! system — is written here **in the same transaction as its cause** (by a reaction to a domain
//! event), and delivered afterwards by a job. So a message exists if and only if its cause
//! committed, and a crash between the commit and the delivery loses nothing.
//!
//! Contract:
//! - [`enqueue`] inside the writing transaction; the `dedupe` key is unique, so a cause
//!   enqueued twice (a retried operation) is one message, and it is the idempotency key the
//!   gateway sees.
//! - [`deliver`] first **claims** due messages for this worker for [`LEASE`] (a conditional
//!   update in one write transaction: with several hall servers on one database, exactly one
//!   claims each message), hands them to a [`Sink`] outside any transaction (a gateway may be
//!   slow), then records each result: sent, or failed with a back-off (30 s, doubling, at most an
//!   hour), and after [`MAX_ATTEMPTS`] failures dead (a supervisor retries it, [`retry`]).
//!   At least once: a worker killed after the gateway accepted a message and before it was
//!   marked sent leaves its claim to lapse, and the message is delivered again with the same
//!   key, which the gateway uses to drop the duplicate.
//! - **In order per recipient**: only the oldest pending message of a phone is deliverable, so
//!   "已受理" never overtakes the "一次性告知" sent before it, even across retries.
//! - **Quiet hours** (the hall's setting, [`Quiet`]): nothing is delivered then; messages wait
//!   for the morning. A message with an expiry (a "your turn" message, valid while the hall is
//!   open) that was not delivered in time is marked expired instead of sent late.
//! - The recipient (a phone number) is masked in every log line.

use jiff::{SignedDuration, Timestamp};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::Result;
use crate::kernel::ids::new_id;
use crate::kernel::store::{Store, Tx};

/// Failures before a message is dead.
pub const MAX_ATTEMPTS: u32 = 8;

/// Messages handed to the sink per run.
const BATCH: u32 = 50;

/// How long a worker's claim on a message lasts by default: a worker that dies mid-delivery
/// holds its messages no longer than this (a host may set its own, longer than a delivery
/// batch can take).
pub const LEASE: SignedDuration = SignedDuration::from_secs(60);

/// One queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Message {
    pub id: String,
    /// What it says, `capability.happened` (e.g. `case.accepted`).
    pub kind: String,
    pub recipient: String,
    /// The idempotency key: one per cause.
    pub dedupe: String,
    pub payload: serde_json::Value,
    /// The text as rendered from the hall's template when its cause committed.
    pub body: String,
    pub created_at: Timestamp,
    pub attempts: u32,
}

/// How the hall reaches applicants' phones (the messages capability keeps it, the job passes it
/// to the sink on every run, so a change takes effect without a restart).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct Gateway {
    /// `log` (no gateway: written to the log, counted as sent) or `http`.
    pub kind: GatewayKind,
    /// The HTTP gateway's URL (JSON POST).
    pub url: String,
    /// The HMAC-SHA256 key the request is signed with.
    pub secret: String,
    /// The JSON field names the gateway expects for the phone number and the text.
    pub phone_field: String,
    pub text_field: String,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GatewayKind {
    #[default]
    Log,
    Http,
}

impl GatewayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Log => "log",
            Self::Http => "http",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "http" { Self::Http } else { Self::Log }
    }
}

/// The hall's quiet hours, minutes after midnight Beijing time: `from` 21:00, `until` 08:00
/// (a span across midnight when `from > until`; none when equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quiet {
    pub from: u16,
    pub until: u16,
}

impl Quiet {
    pub const NONE: Quiet = Quiet { from: 0, until: 0 };
    pub fn contains(&self, minute: u16) -> bool {
        match self.from.cmp(&self.until) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => self.from <= minute && minute < self.until,
            std::cmp::Ordering::Greater => minute >= self.from || minute < self.until,
        }
    }
}

/// What [`enqueue`] writes.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub kind: &'a str,
    pub recipient: &'a str,
    pub dedupe: &'a str,
    pub payload: &'a serde_json::Value,
    pub body: &'a str,
    /// Not delivered after this (marked expired).
    pub expires_at: Option<Timestamp>,
}

/// Where messages go: a gateway, or the log for a hall without one.
pub trait Sink: Send + Sync {
    /// Deliver one message; `Err` with the gateway's reason to try again later.
    fn deliver(&self, gateway: &Gateway, message: &Message) -> std::result::Result<(), String>;
}

/// A hall without a message gateway: each message is written to the log and counts as sent.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSink;

impl Sink for LogSink {
    fn deliver(&self, _: &Gateway, m: &Message) -> std::result::Result<(), String> {
        tracing::info!(
            kind = %m.kind,
            recipient = %crate::kernel::validate::mask_phone(&m.recipient),
            dedupe = %m.dedupe,
            "outbox message (no gateway configured: logged only)"
        );
        Ok(())
    }
}

/// Queue a message in `tx` (see the module docs). Returns false when a message with this
/// `dedupe` key already exists.
pub fn enqueue(tx: &Tx<'_>, d: &Draft<'_>, now: Timestamp) -> Result<bool> {
    let n = tx.execute(
        "INSERT INTO outbox (id, kind, recipient, dedupe, payload, created_at, next_at, body, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)
         ON CONFLICT (dedupe) DO NOTHING",
        params![
            new_id(),
            d.kind,
            d.recipient,
            d.dedupe,
            serde_json::to_string(d.payload)?,
            to_ms(now),
            d.body,
            d.expires_at.map(to_ms)
        ],
    )?;
    Ok(n > 0)
}

/// A message of a generated history, as its delivery left it: sent `sent_after` its creation
/// (one attempt), or dead after [`MAX_ATTEMPTS`] with `error`.
pub fn insert_past(
    tx: &Tx<'_>,
    d: &Draft<'_>,
    created_at: Timestamp,
    outcome: std::result::Result<SignedDuration, &str>,
) -> Result<()> {
    let (status, attempts, sent_at, error) = match outcome {
        Ok(after) => ("sent", 1, Some(to_ms(created_at + after)), None),
        Err(e) => ("dead", MAX_ATTEMPTS, None, Some(e)),
    };
    tx.prepare_cached(
        "INSERT INTO outbox (id, kind, recipient, dedupe, payload, created_at, next_at, body,
            expires_at, status, attempts, sent_at, last_error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, NULL, ?8, ?9, ?10, ?11)
         ON CONFLICT (dedupe) DO NOTHING",
    )?
    .execute(params![
        new_id(),
        d.kind,
        d.recipient,
        d.dedupe,
        serde_json::to_string(d.payload)?,
        to_ms(created_at),
        d.body,
        status,
        attempts,
        sent_at,
        error
    ])?;
    Ok(())
}

/// What one delivery run did.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct Delivery {
    pub attempted: u32,
    pub sent: u32,
    pub failed: u32,
    /// Failed for the last time: dead until a supervisor retries.
    pub dead: u32,
    /// Not delivered before their expiry.
    pub expired: u32,
}

const COLUMNS: &str = "id, kind, recipient, dedupe, payload, created_at, attempts, body";

fn message_row(r: &crate::kernel::store::Row<'_>) -> crate::kernel::store::StoreResult<Message> {
    let payload: String = r.get(4)?;
    Ok(Message {
        id: r.get(0)?,
        kind: r.get(1)?,
        recipient: r.get(2)?,
        dedupe: r.get(3)?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        created_at: from_ms(r.get(5)?),
        attempts: r.get(6)?,
        body: r.get(7)?,
    })
}

/// Claim for `worker` the messages deliverable at `now`: pending, due, not claimed by a live
/// lease, and each the oldest pending message of its recipient. Oldest first.
pub fn claim(
    tx: &Tx<'_>,
    worker: &str,
    now: Timestamp,
    lease: SignedDuration,
    limit: u32,
) -> Result<Vec<Message>> {
    let now_ms = to_ms(now);
    let sql = format!(
        "UPDATE outbox SET claimed_by = ?1, claimed_until = ?2
         WHERE id IN (
             SELECT o.id FROM outbox o
             WHERE o.status = 'pending' AND o.next_at <= ?3
               AND (o.claimed_until IS NULL OR o.claimed_until <= ?3)
               AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.recipient = o.recipient
                    AND e.status = 'pending' AND (e.created_at < o.created_at
                        OR (e.created_at = o.created_at AND e.id < o.id)))
             ORDER BY o.created_at, o.id LIMIT ?4)
           AND status = 'pending' AND (claimed_until IS NULL OR claimed_until <= ?3)
         RETURNING {COLUMNS}"
    );
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![worker, to_ms(now + lease), now_ms, limit],
        message_row,
    )?;
    let mut out = rows.collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(out)
}

/// Mark expired the pending messages whose expiry has passed; returns how many.
pub fn expire(tx: &Tx<'_>, now: Timestamp) -> Result<u32> {
    Ok(tx.execute(
        "UPDATE outbox SET status = 'expired', claimed_by = NULL, claimed_until = NULL
         WHERE status = 'pending' AND expires_at IS NOT NULL AND expires_at <= ?1",
        params![to_ms(now)],
    )? as u32)
}

/// The wait before attempt `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: u32) -> SignedDuration {
    let secs = 30i64.saturating_mul(1i64 << attempts.min(12));
    SignedDuration::from_secs(secs.min(3600))
}

/// Who delivers: this process's name on the messages it claims, and how long a claim lasts.
#[derive(Debug, Clone)]
pub struct Worker {
    pub name: String,
    pub lease: SignedDuration,
}

impl Worker {
    /// A worker with the default [`LEASE`].
    pub fn new(name: impl Into<String>) -> Worker {
        Worker {
            name: name.into(),
            lease: LEASE,
        }
    }
}

/// Deliver what is due (see the module docs), as `worker` (one per process).
pub fn deliver(
    store: &Store,
    now: Timestamp,
    worker: &Worker,
    gateway: &Gateway,
    quiet: Quiet,
    sink: &dyn Sink,
) -> Result<Delivery> {
    if quiet.contains(crate::kernel::clock::hall_minute(now)) {
        return Ok(Delivery::default());
    }
    let (expired, messages) = store.write(|tx| {
        Ok((
            expire(tx, now)?,
            claim(tx, &worker.name, now, worker.lease, BATCH)?,
        ))
    })?;
    if messages.is_empty() {
        return Ok(Delivery {
            expired,
            ..Delivery::default()
        });
    }
    let results: Vec<(Message, std::result::Result<(), String>)> = messages
        .into_iter()
        .map(|m| {
            let r = sink.deliver(gateway, &m);
            (m, r)
        })
        .collect();
    record(store, now, &worker.name, &results).map(|d| Delivery { expired, ..d })
}

/// Record what the sink said of each message this worker claimed.
pub fn record(
    store: &Store,
    now: Timestamp,
    worker: &str,
    results: &[(Message, std::result::Result<(), String>)],
) -> Result<Delivery> {
    store.write(|tx| {
        let mut d = Delivery::default();
        for (m, r) in results {
            d.attempted += 1;
            match r {
                Ok(()) => {
                    d.sent += 1;
                    tx.execute(
                        "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1,
                            last_error = NULL, claimed_by = NULL, claimed_until = NULL
                         WHERE id = ?1 AND status = 'pending' AND claimed_by = ?3",
                        params![m.id, to_ms(now), worker],
                    )?;
                }
                Err(e) => {
                    let attempts = m.attempts + 1;
                    let dead = attempts >= MAX_ATTEMPTS;
                    if dead {
                        d.dead += 1;
                    } else {
                        d.failed += 1;
                    }
                    tracing::warn!(
                        kind = %m.kind,
                        recipient = %crate::kernel::validate::mask_phone(&m.recipient),
                        attempts,
                        error = %e,
                        "outbox delivery failed"
                    );
                    tx.execute(
                        "UPDATE outbox SET attempts = ?2, last_error = ?3, next_at = ?4,
                            status = CASE WHEN ?5 = 1 THEN 'dead' ELSE 'pending' END,
                            claimed_by = NULL, claimed_until = NULL
                         WHERE id = ?1 AND status = 'pending' AND claimed_by = ?6",
                        params![
                            m.id,
                            attempts,
                            e,
                            to_ms(now + backoff(attempts)),
                            i64::from(dead),
                            worker
                        ],
                    )?;
                }
            }
        }
        Ok(d)
    })
}

/// A supervisor retries a dead message: pending again, due now, its attempts counted afresh.
/// Returns false when no dead message has this id.
pub fn retry(tx: &Tx<'_>, id: &str, now: Timestamp) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_at = ?2, claimed_by = NULL,
            claimed_until = NULL WHERE id = ?1 AND status = 'dead'",
        params![id, to_ms(now)],
    )? > 0)
}

/// The state of a message as the supervisor's outbox screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Sent,
    Dead,
    Expired,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Dead => "dead",
            Self::Expired => "expired",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "sent" => Self::Sent,
            "dead" => Self::Dead,
            "expired" => Self::Expired,
            _ => Self::Pending,
        }
    }
}

/// One message as the outbox screen lists it: the phone masked, never in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    /// 138****0000
    pub recipient: String,
    pub body: String,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub next_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// Delivered again after a supervisor's retry or a lapsed claim carries the same key.
    pub dedupe: String,
}

/// Counts per state, for the outbox screen's filters.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct OutboxCounts {
    pub pending: u32,
    pub sent: u32,
    pub dead: u32,
    pub expired: u32,
}

/// The newest messages created since `since_ms`, optionally of one state and one kind.
pub fn list(
    tx: &Tx<'_>,
    status: Option<OutboxStatus>,
    kind: Option<&str>,
    since_ms: i64,
    limit: u32,
) -> Result<Vec<OutboxRow>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, kind, recipient, body, status, attempts, last_error, created_at, next_at,
                sent_at, dedupe
         FROM outbox WHERE created_at >= ?1
           AND (CAST(?2 AS TEXT) IS NULL OR status = CAST(?2 AS TEXT))
           AND (CAST(?3 AS TEXT) IS NULL OR kind = CAST(?3 AS TEXT))
         ORDER BY created_at DESC, id DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![since_ms, status.map(OutboxStatus::as_str), kind, limit],
        |r| {
            Ok(OutboxRow {
                id: r.get(0)?,
                kind: r.get(1)?,
                recipient: crate::kernel::validate::mask_phone(&r.get::<_, String>(2)?),
                body: r.get(3)?,
                status: OutboxStatus::parse(&r.get::<_, String>(4)?),
                attempts: r.get(5)?,
                last_error: r.get(6)?,
                created_at: from_ms(r.get(7)?),
                next_at: from_ms(r.get(8)?),
                sent_at: r.get::<_, Option<i64>>(9)?.map(from_ms),
                dedupe: r.get(10)?,
            })
        },
    )?;
    Ok(rows.collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

/// [`OutboxCounts`]: sent and expired among the messages created since `since_ms`; pending and
/// dead ones of any age (they wait for someone). Each count reads an index range or a partial
/// index, never the table's history.
pub fn counts(tx: &Tx<'_>, since_ms: i64) -> Result<OutboxCounts> {
    let mut c = OutboxCounts::default();
    let mut stmt = tx.prepare_cached(
        "SELECT status, count(*) FROM outbox
         WHERE created_at >= ?1 AND status IN ('sent', 'expired') GROUP BY status",
    )?;
    for row in stmt.query_map(params![since_ms], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (s, n) = row?;
        match OutboxStatus::parse(&s) {
            OutboxStatus::Sent => c.sent = n as u32,
            OutboxStatus::Expired => c.expired = n as u32,
            _ => {}
        }
    }
    c.pending = tx.query_row(
        "SELECT count(*) FROM outbox WHERE status = 'pending'",
        [],
        |r| r.get::<_, i64>(0),
    )? as u32;
    c.dead = tx.query_row(
        "SELECT count(*) FROM outbox WHERE status = 'dead'",
        [],
        |r| r.get::<_, i64>(0),
    )? as u32;
    Ok(c)
}
