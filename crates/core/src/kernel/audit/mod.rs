//! The audit log (操作日志): who did what, when, to which record, with a short before/after.
//!
//! Contract:
//! - Every write operation appends exactly one row, in the same transaction as the change
//!   (enforced by [`crate::Store::execute`]); a rolled-back change leaves no row.
//! - Rows are never updated or deleted: no code path does, and database triggers refuse it.
//! - Rows form a hash chain (`hash = SHA-256(prev_hash ‖ fields)`), so an edit made outside the
//!   program with a SQLite tool is detectable by [`verify`]. A hall's records are legal evidence
//!   (《政务服务电子文件归档和电子档案管理办法》 expects integrity of process records).

pub mod export;

use crate::kernel::store::Tx;
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

/// Append one row to the chain, in the writing transaction.
pub fn append(
    tx: &Tx<'_>,
    actor: &dyn Who,
    source: Option<&str>,
    op: &str,
    now: jiff::Timestamp,
    d: AuditDraft,
) -> Result<()> {
    // The chain orders every write. SQLite's writers are serialised already; on PostgreSQL the
    // append takes the audit lock (held to the commit; everything the write did before this ran
    // side by side with other writes), and only then reads the head — in a statement of its own,
    // whose snapshot is taken after the lock, so it sees the row of the writer before.
    tx.serialize_audit()?;
    let prev: Option<String> = tx.query_row(
        // The newest row by its key (`max` of the primary key is one index probe).
        "SELECT (SELECT hash FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log))",
        [],
        |r| r.get(0),
    )?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_owned());
    let id = new_id();
    let at = to_ms(now);
    let actor_id = actor.id();
    let actor_name = match &d.on_behalf_of {
        Some(a) => format!("{}（代{a}）", actor.display_name()),
        None => actor.display_name(),
    };
    let before = d.before.map(|v| v.to_string());
    let after = d.after.map(|v| v.to_string());
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
    tx.execute(
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, source, op, subject_kind, subject_id,
                                summary, before_json, after_json, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
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
            hash
        ],
    )?;
    Ok(())
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
    pub rows: i64,
    /// The first row whose link does not verify, if any.
    pub first_broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct BrokenLink {
    pub seq: i64,
    pub id: String,
    pub at: jiff::Timestamp,
}

/// Recompute the whole chain.
pub fn verify(tx: &Tx<'_>) -> Result<ChainReport> {
    let mut stmt = tx.prepare(
        "SELECT seq, id, at, actor_kind, actor_id, actor_name, source, op, subject_kind, subject_id,
                summary, before_json, after_json, prev_hash, hash FROM audit_log ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut prev = GENESIS.to_owned();
    let mut n = 0;
    while let Some(r) = rows.next()? {
        n += 1;
        let (seq, id, at): (i64, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let get = |i: usize| -> crate::kernel::store::StoreResult<Option<String>> { r.get(i) };
        let expected = row_hash(
            &prev,
            &id,
            at,
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
        );
        let (stored_prev, stored_hash): (String, String) = (r.get(13)?, r.get(14)?);
        if stored_prev != prev || stored_hash != expected {
            return Ok(ChainReport {
                rows: n,
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
        first_broken: None,
    })
}
