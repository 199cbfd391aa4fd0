//! The outbox: what must leave the hall — a message to an applicant, a notice to another
//! system — is written here **in the same transaction as its cause** (by a reaction to a domain
//! event), and delivered afterwards by a job. So a message exists if and only if its cause
//! committed, and a crash between the commit and the delivery loses nothing.
//!
//! Contract:
//! - [`enqueue`] inside the writing transaction; the `dedupe` key is unique, so a cause
//!   enqueued twice (a retried operation) is one message, and it is the idempotency key the
//!   gateway sees.
//! - [`deliver`] hands due messages to a [`Sink`] outside any transaction (a gateway may be
//!   slow), then records each result: sent, or failed with a back-off (30 s, doubling, at most an
//!   hour), and after [`MAX_ATTEMPTS`] failures dead (a supervisor retries it). At least once:
//!   a crash after the gateway accepted a message and before it was marked sent delivers it
//!   again, with the same key.
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
    pub created_at: Timestamp,
    pub attempts: u32,
}

/// Where messages go: a gateway, or the log for a hall without one.
pub trait Sink: Send + Sync {
    /// Deliver one message; `Err` with the gateway's reason to try again later.
    fn deliver(&self, message: &Message) -> std::result::Result<(), String>;
}

/// A hall without a message gateway: each message is written to the log and counts as sent.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSink;

impl Sink for LogSink {
    fn deliver(&self, m: &Message) -> std::result::Result<(), String> {
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
pub fn enqueue(
    tx: &Tx<'_>,
    kind: &str,
    recipient: &str,
    dedupe: &str,
    payload: &serde_json::Value,
    now: Timestamp,
) -> Result<bool> {
    let n = tx.execute(
        "INSERT INTO outbox (id, kind, recipient, dedupe, payload, created_at, next_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (dedupe) DO NOTHING",
        params![
            new_id(),
            kind,
            recipient,
            dedupe,
            serde_json::to_string(payload)?,
            to_ms(now)
        ],
    )?;
    Ok(n > 0)
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
}

/// The messages due at `now`, oldest first.
pub fn due(tx: &Tx<'_>, now: Timestamp, limit: u32) -> Result<Vec<Message>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, kind, recipient, dedupe, payload, created_at, attempts FROM outbox
         WHERE status = 'pending' AND next_at <= ?1 ORDER BY created_at, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![to_ms(now), limit], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, u32>(6)?,
        ))
    })?;
    let mut out = vec![];
    for row in rows {
        let (id, kind, recipient, dedupe, payload, created_at, attempts) = row?;
        out.push(Message {
            id,
            kind,
            recipient,
            dedupe,
            payload: serde_json::from_str(&payload)?,
            created_at: from_ms(created_at),
            attempts,
        });
    }
    Ok(out)
}

/// The wait before attempt `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: u32) -> SignedDuration {
    let secs = 30i64.saturating_mul(1i64 << attempts.min(12));
    SignedDuration::from_secs(secs.min(3600))
}

/// Deliver what is due (see the module docs).
pub fn deliver(store: &Store, now: Timestamp, sink: &dyn Sink) -> Result<Delivery> {
    let messages = store.read(|tx| due(tx, now, BATCH))?;
    if messages.is_empty() {
        return Ok(Delivery::default());
    }
    let results: Vec<(Message, std::result::Result<(), String>)> = messages
        .into_iter()
        .map(|m| {
            let r = sink.deliver(&m);
            (m, r)
        })
        .collect();
    store.write(|tx| {
        let mut d = Delivery::default();
        for (m, r) in &results {
            d.attempted += 1;
            match r {
                Ok(()) => {
                    d.sent += 1;
                    tx.execute(
                        "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1,
                            last_error = NULL WHERE id = ?1 AND status = 'pending'",
                        params![m.id, to_ms(now)],
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
                            status = CASE WHEN ?5 = 1 THEN 'dead' ELSE 'pending' END
                         WHERE id = ?1 AND status = 'pending'",
                        params![
                            m.id,
                            attempts,
                            e,
                            to_ms(now + backoff(attempts)),
                            i64::from(dead)
                        ],
                    )?;
                }
            }
        }
        Ok(d)
    })
}
