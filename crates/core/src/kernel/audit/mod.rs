//! The audit log (操作日志): who did what, when, to which record, with a short before/after.
//!
//! Contract:
//! - Every write operation appends exactly one row, in the same transaction as the change
//!   (enforced by [`crate::Store::execute`]); a rolled-back change leaves no row.
//! - What a row says is never updated, and no row is deleted: no code path does, and database
//!   triggers refuse it. The one update is the row's seal, written once.
//! - Rows form a hash chain (`hash = SHA-256(prev_hash ‖ fields)`) in the order of their
//!   `link`, so an edit made outside the program with a SQL tool is detectable by [`verify`].
//!   SQLite seals a row as it is appended. PostgreSQL appends rows unsealed and [`seal`]s them
//!   right after the commit of every write (the store's
//!   [`AfterCommit`](crate::kernel::store::AfterCommit) hook), so that writes do not queue on
//!   one lock; a row is open to an undetected edit only between its commit and its seal
//!   (milliseconds, or until the next write when a server stopped in between), and [`verify`]
//!   counts such rows. A hall's records are legal evidence
//!   (《政务服务电子文件归档和电子档案管理办法》 expects integrity of process records).

pub mod export;

use crate::kernel::store::{Optional, Tx};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::Result;
use crate::kernel::ids::{new_id, sha256_hex};

/// The hash before the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an operation says about itself in the log.
#[derive(Debug, Clone, Default)]
pub struct AuditDraft {
    pub subject_kind: &'static str,
    pub subject_id: Option<String>,
    pub summary: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// The actor stood in for this person (AB岗 takeover): logged as "李娜（代张伟）".
    pub on_behalf_of: Option<String>,
}

impl AuditDraft {
    pub fn new(
        subject_kind: &'static str,
        subject_id: Option<&str>,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            subject_kind,
            subject_id: subject_id.map(str::to_owned),
            summary: summary.into(),
            before: None,
            after: None,
            on_behalf_of: None,
        }
    }
    pub fn on_behalf_of(mut self, absent_name: Option<&str>) -> Self {
        self.on_behalf_of = absent_name.map(str::to_owned);
        self
    }
    pub fn before(mut self, v: impl Serialize) -> Self {
        self.before = serde_json::to_value(v).ok();
        self
    }
    pub fn after(mut self, v: impl Serialize) -> Self {
        self.after = serde_json::to_value(v).ok();
        self
    }
}

#[allow(clippy::too_many_arguments)]
fn row_hash(
    prev: &str,
    id: &str,
    at: i64,
    actor_kind: &str,
    actor_id: Option<&str>,
    actor_name: &str,
    source: Option<&str>,
    op: &str,
    subject_kind: &str,
    subject_id: Option<&str>,
    summary: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    let fields = [
        prev,
        id,
        &at.to_string(),
        actor_kind,
        actor_id.unwrap_or("\u{0}"),
        actor_name,
        source.unwrap_or("\u{0}"),
        op,
        subject_kind,
        subject_id.unwrap_or("\u{0}"),
        summary,
        before.unwrap_or("\u{0}"),
        after.unwrap_or("\u{0}"),
    ];
    // Length-prefix every field so no two different rows serialise to the same bytes.
    let mut buf = Vec::new();
    for f in fields {
        buf.extend_from_slice(&(f.len() as u64).to_le_bytes());
        buf.extend_from_slice(f.as_bytes());
    }
    sha256_hex(&buf)
}

/// Who did something, as the audit log records it: the kernel's `op::Actor` is one.
pub trait Who {
    /// `staff`, `device`, `system` or `anonymous`.
    fn kind(&self) -> &'static str;
    fn id(&self) -> Option<String>;
    fn display_name(&self) -> String;
}

/// The newest sealed row: its place in the chain and its hash (0 and [`GENESIS`] before the
/// first).
fn head(tx: &Tx<'_>) -> Result<(i64, String)> {
    // `max` of an indexed column is one index probe.
    let head: Option<(i64, String)> = tx
        .query_row(
            "SELECT link, hash FROM audit_log WHERE link = (SELECT max(link) FROM audit_log)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(head.unwrap_or_else(|| (0, GENESIS.to_owned())))
}

/// Append one row, in the writing transaction.
///
/// SQLite has one writer: the row is chained at once (its `link` the head's plus one). On
/// PostgreSQL writes run side by side, and chaining in the write would mean holding one lock
/// from the append to the commit in every write of every hall server; the row is appended
/// unsealed instead (`link` NULL, hashes empty) and [`seal`] chains it after the commit (the
/// sealer is woken after every committed write: [`seal_committed`]).
pub fn append(
    tx: &Tx<'_>,
    actor: &dyn Who,
    source: Option<&str>,
    op: &str,
    now: jiff::Timestamp,
    d: AuditDraft,
) -> Result<()> {
    let id = new_id();
    let at = to_ms(now);
    let actor_id = actor.id();
    let actor_name = match &d.on_behalf_of {
        Some(a) => format!("{}（代{a}）", actor.display_name()),
        None => actor.display_name(),
    };
    let before = d.before.map(|v| v.to_string());
    let after = d.after.map(|v| v.to_string());
    let (link, prev, hash) = if tx.is_postgres() {
        (None, String::new(), String::new())
    } else {
        let (link, prev) = head(tx)?;
        let hash = row_hash(
            &prev,
            &id,
            at,
            actor.kind(),
            actor_id.as_deref(),
            &actor_name,
            source,
            op,
            d.subject_kind,
            d.subject_id.as_deref(),
            &d.summary,
            before.as_deref(),
            after.as_deref(),
        );
        (Some(link + 1), prev, hash)
    };
    tx.execute(
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, source, op, subject_kind, subject_id,
                                summary, before_json, after_json, prev_hash, hash, link)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            id,
            at,
            actor.kind(),
            actor_id,
            actor_name,
            source,
            op,
            d.subject_kind,
            d.subject_id,
            d.summary,
            before,
            after,
            prev,
            hash,
            link
        ],
    )?;
    Ok(())
}

/// The row's fields as the hash covers them, at columns 0–12.
const FIELDS: &str = "seq, id, at, actor_kind, actor_id, actor_name, source, op, subject_kind, \
                      subject_id, summary, before_json, after_json";

/// The hash of the row read with [`FIELDS`] at column 0, chained onto `prev`.
fn hash_of(r: &crate::kernel::store::Row<'_>, prev: &str) -> Result<String> {
    let get = |i: usize| -> crate::kernel::store::StoreResult<Option<String>> { r.get(i) };
    Ok(row_hash(
        prev,
        &r.get::<_, String>(1)?,
        r.get(2)?,
        &r.get::<_, String>(3)?,
        get(4)?.as_deref(),
        &r.get::<_, String>(5)?,
        get(6)?.as_deref(),
        &r.get::<_, String>(7)?,
        &r.get::<_, String>(8)?,
        get(9)?.as_deref(),
        &r.get::<_, String>(10)?,
        get(11)?.as_deref(),
        get(12)?.as_deref(),
    ))
}

/// How many unsealed rows one sealing statement chains at most.
const SEAL_BATCH: i64 = 500;

/// Chain every committed row that is not yet sealed, in the order they were appended (`seq`),
/// onto the head; the number sealed. Sealers take the audit lock (PostgreSQL: a
/// transaction-scoped advisory lock, held only by sealers, never by a write), so two servers'
/// sealers never fork the chain; under READ COMMITTED each statement after the lock sees
/// every row committed before it. A row appended after a sealer read the unsealed rows is
/// sealed by the next one. On SQLite every row is sealed when appended: nothing to do.
pub fn seal(tx: &Tx<'_>) -> Result<usize> {
    tx.serialize_audit()?;
    let (mut link, mut prev) = head(tx)?;
    let mut sealed = 0;
    loop {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {FIELDS} FROM audit_log WHERE link IS NULL ORDER BY seq LIMIT ?1"
        ))?;
        let mut rows = stmt.query([SEAL_BATCH])?;
        let mut batch = Vec::new();
        while let Some(r) = rows.next()? {
            let hash = hash_of(&r, &prev)?;
            link += 1;
            let seq: i64 = r.get(0)?;
            batch.push(serde_json::json!({ "seq": seq, "link": link, "prev": prev, "hash": hash }));
            prev = hash;
        }
        drop(rows);
        drop(stmt);
        if batch.is_empty() {
            return Ok(sealed);
        }
        let n = batch.len();
        // One statement for the batch: one round trip, however many rows.
        tx.execute(
            tx.pick(
                "UPDATE audit_log SET link = v.link, prev_hash = v.prev, hash = v.hash
                 FROM (SELECT json_extract(value, '$.seq') AS seq, json_extract(value, '$.link') AS link,
                              json_extract(value, '$.prev') AS prev, json_extract(value, '$.hash') AS hash
                       FROM json_each(?1)) AS v
                 WHERE audit_log.seq = v.seq",
                "UPDATE audit_log AS a SET link = v.link, prev_hash = v.prev, hash = v.hash
                 FROM json_to_recordset(CAST(?1 AS json)) AS v(seq bigint, link bigint, prev text, hash text)
                 WHERE a.seq = v.seq",
            ),
            [serde_json::Value::Array(batch).to_string()],
        )?;
        sealed += n;
        if (n as i64) < SEAL_BATCH {
            return Ok(sealed);
        }
    }
}

/// Have what the writes before this call appended sealed, after their commit: on PostgreSQL
/// this server's sealer (one thread per open store, started by the first call) is woken and the
/// caller goes on at once — a write waits neither for the chain's lock nor for the seal's
/// commit. The sealer seals everything committed when it wakes, so writes arriving together
/// are sealed in one transaction. SQLite seals as it appends: nothing to do.
pub fn seal_committed(store: &crate::kernel::store::Store) {
    #[cfg(feature = "postgres")]
    if let Some(pool) = store.postgres() {
        store.shared().get_or_default::<Sealer>().wake(pool);
    }
    #[cfg(not(feature = "postgres"))]
    let _ = store;
}

/// Seal now, in a write transaction of the caller's (before verifying the chain).
pub fn seal_now(store: &crate::kernel::store::Store) -> Result<usize> {
    store.write(seal)
}

/// One server's sealer thread, kept beside its store; it stops when the store is dropped (its
/// channel closes).
#[cfg(feature = "postgres")]
#[derive(Default)]
struct Sealer(std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>>);

#[cfg(feature = "postgres")]
impl Sealer {
    fn wake(&self, pool: &crate::kernel::store::postgres::Pool) {
        let mut wake = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if wake.is_none() {
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let pool = pool.clone();
            let started = std::thread::Builder::new()
                .name("audit-sealer".into())
                .spawn(move || {
                    while rx.recv().is_ok() {
                        // Every wake-up so far is served by this one seal.
                        while rx.try_recv().is_ok() {}
                        if let Err(e) = pool.transaction(true, seal) {
                            tracing::warn!(error = %e.message, "sealing the audit chain failed; trying again at the next write");
                            std::thread::sleep(std::time::Duration::from_millis(200));
                        }
                    }
                });
            match started {
                Ok(_) => *wake = Some(tx),
                Err(e) => {
                    tracing::warn!(error = %e, "no sealer thread; the chain is sealed by the next verify");
                    return;
                }
            }
        }
        if let Some(w) = wake.as_ref() {
            let _ = w.send(());
        }
    }
}

/// One audit row as shown to a supervisor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub id: String,
    pub at: jiff::Timestamp,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub source: Option<String>,
    pub op: String,
    pub subject_kind: String,
    pub subject_id: Option<String>,
    pub summary: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The result of checking the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ChainReport {
    /// Sealed rows checked.
    pub rows: i64,
    /// Rows appended and not sealed yet (see [`seal`]).
    pub unsealed: i64,
    /// The first row whose link does not verify, if any.
    pub first_broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct BrokenLink {
    pub seq: i64,
    pub id: String,
    pub at: jiff::Timestamp,
}

/// Recompute the whole chain, in the order it was sealed. Rows not sealed yet (on PostgreSQL,
/// the writes of the last moment, or of a server that stopped between a commit and its seal)
/// are counted apart: they are not part of the chain until sealed.
pub fn verify(tx: &Tx<'_>) -> Result<ChainReport> {
    let unsealed: i64 = tx.query_row(
        "SELECT count(*) FROM audit_log WHERE link IS NULL",
        [],
        |r| r.get(0),
    )?;
    let mut stmt = tx.prepare(&format!(
        "SELECT {FIELDS}, prev_hash, hash, link FROM audit_log WHERE link IS NOT NULL ORDER BY link"
    ))?;
    let mut rows = stmt.query([])?;
    let mut prev = GENESIS.to_owned();
    let mut n = 0;
    while let Some(r) = rows.next()? {
        n += 1;
        let expected = hash_of(&r, &prev)?;
        let (stored_prev, stored_hash, link): (String, String, i64) =
            (r.get(13)?, r.get(14)?, r.get(15)?);
        if stored_prev != prev || stored_hash != expected || link != n {
            let (seq, id, at): (i64, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            return Ok(ChainReport {
                rows: n,
                unsealed,
                first_broken: Some(BrokenLink {
                    seq,
                    id,
                    at: from_ms(at),
                }),
            });
        }
        prev = stored_hash;
    }
    Ok(ChainReport {
        rows: n,
        unsealed,
        first_broken: None,
    })
}
