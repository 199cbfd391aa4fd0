//! The audit log's screens (审计日志): a supervisor browses the kernel's hash-chained log with
//! filters and exports it, signed, for an inspector. The log itself — its rows, its chain, its
//! verification — is the kernel's ([`crate::kernel::audit`]); this capability only reads it.

pub mod export;

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::AuditEntry;
use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::Result;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

/// Browse the audit log, newest first, with filters. Supervisors and admins only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(default)]
pub struct ListAudit {
    pub from: Option<jiff::Timestamp>,
    pub until: Option<jiff::Timestamp>,
    pub actor_id: Option<String>,
    /// Operation name or prefix, e.g. `window.` or `auth.sign_in`.
    pub op: Option<String>,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    /// Free text searched in the summary and actor name.
    pub text: Option<String>,
    /// Only rows with `seq` below this (paging backwards).
    pub before_seq: Option<i64>,
    /// At most 500; default 100.
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before_seq` for the next page; absent on the last page.
    pub next_before_seq: Option<i64>,
}

impl Operation for ListAudit {
    const NAME: &'static str = "audit.list";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = AuditPage;

    fn run(self, cx: &mut Cx<'_>) -> Result<AuditPage> {
        let limit = i64::from(self.limit.unwrap_or(100).clamp(1, 500));
        if let Some(t) = &self.text {
            validate::optional_text("text", "搜索文字", t, 100)?;
        }
        let like = |s: &str| {
            format!(
                "%{}%",
                s.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        };
        let op_prefix = self
            .op
            .as_deref()
            .map(|o| format!("{}%", o.replace('%', "\\%").replace('_', "\\_")));
        // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE does the same.
        let mut stmt = cx.tx.prepare(cx.tx.pick(
            "SELECT seq, id, at, actor_kind, actor_id, actor_name, source, op, subject_kind, subject_id,
                    summary, before_json, after_json
             FROM audit_log
             WHERE (CAST(?1 AS BIGINT) IS NULL OR at >= ?1) AND (CAST(?2 AS BIGINT) IS NULL OR at < ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR actor_id = ?3)
               AND (CAST(?4 AS TEXT) IS NULL OR op LIKE ?4 ESCAPE '\\')
               AND (CAST(?5 AS TEXT) IS NULL OR subject_kind = ?5)
               AND (CAST(?6 AS TEXT) IS NULL OR subject_id = ?6)
               AND (CAST(?7 AS TEXT) IS NULL OR summary LIKE ?7 ESCAPE '\\' OR actor_name LIKE ?7 ESCAPE '\\')
               AND (CAST(?8 AS BIGINT) IS NULL OR seq < ?8)
             ORDER BY seq DESC LIMIT ?9",
            "SELECT seq, id, at, actor_kind, actor_id, actor_name, source, op, subject_kind, subject_id,
                    summary, before_json, after_json
             FROM audit_log
             WHERE (CAST(?1 AS BIGINT) IS NULL OR at >= ?1) AND (CAST(?2 AS BIGINT) IS NULL OR at < ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR actor_id = ?3)
               AND (CAST(?4 AS TEXT) IS NULL OR op ILIKE ?4 ESCAPE '\\')
               AND (CAST(?5 AS TEXT) IS NULL OR subject_kind = ?5)
               AND (CAST(?6 AS TEXT) IS NULL OR subject_id = ?6)
               AND (CAST(?7 AS TEXT) IS NULL OR summary ILIKE ?7 ESCAPE '\\' OR actor_name ILIKE ?7 ESCAPE '\\')
               AND (CAST(?8 AS BIGINT) IS NULL OR seq < ?8)
             ORDER BY seq DESC LIMIT ?9",
        ))?;
        let rows = stmt.query_map(
            params![
                self.from.map(to_ms),
                self.until.map(to_ms),
                self.actor_id,
                op_prefix,
                self.subject_kind,
                self.subject_id,
                self.text
                    .as_deref()
                    .filter(|t| !t.trim().is_empty())
                    .map(|t| like(t.trim())),
                self.before_seq,
                limit + 1
            ],
            |r| {
                Ok(AuditEntry {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    at: from_ms(r.get(2)?),
                    actor_kind: r.get(3)?,
                    actor_id: r.get(4)?,
                    actor_name: r.get(5)?,
                    source: r.get(6)?,
                    op: r.get(7)?,
                    subject_kind: r.get(8)?,
                    subject_id: r.get(9)?,
                    summary: r.get(10)?,
                    before: r.get(11)?,
                    after: r.get(12)?,
                })
            },
        )?;
        let mut entries = rows.collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
        let next_before_seq = if entries.len() as i64 > limit {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage {
            entries,
            next_before_seq,
        })
    }
}
