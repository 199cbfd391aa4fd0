//! Staff notices (工作通知): what one staff member must hear of — a takeover asked of them, a
//! post left uncovered, a case of theirs rising a level while they are away. Any capability
//! above asks [`notify`] (or [`notify_supervisors`]); the counter shows them as a badge and a
//! desktop notification. One table, `staff_notices`, written only here; a notice with a dedupe
//! key is sent once.

use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::Result;
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::store::Tx;
use crate::kernel::validate;

/// A notification to one staff member. With a `dedupe` key, a second one with the same key is
/// not added (the sweep runs every minute).
pub fn notify(
    tx: &Tx<'_>,
    staff_id: &str,
    kind: &str,
    dedupe: Option<&str>,
    subject_id: Option<&str>,
    text: &str,
    now: Timestamp,
) -> Result<bool> {
    let n = tx.execute(
        "INSERT INTO staff_notices (id, staff_id, kind, dedupe, subject_id, text, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (staff_id, dedupe) WHERE dedupe IS NOT NULL DO NOTHING",
        params![
            new_id(),
            staff_id,
            kind,
            dedupe,
            subject_id,
            text,
            to_ms(now)
        ],
    )?;
    Ok(n > 0)
}

/// Notify every active supervisor and admin.
pub fn notify_supervisors(
    tx: &Tx<'_>,
    kind: &str,
    dedupe: Option<&str>,
    subject_id: Option<&str>,
    text: &str,
    now: Timestamp,
) -> Result<u32> {
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM staff WHERE active = 1 AND role IN ('supervisor', 'admin')")?
        .query_map([], |r| r.get(0))?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    let mut n = 0;
    for id in ids {
        n += u32::from(notify(tx, &id, kind, dedupe, subject_id, text, now)?);
    }
    Ok(n)
}

/// How many notices there are (the sweep reports how many it added).
pub fn count(tx: &Tx<'_>) -> Result<i64> {
    Ok(tx.query_row("SELECT count(*) FROM staff_notices", [], |r| r.get(0))?)
}

/// A notification to the signed-in staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct StaffNotice {
    pub id: String,
    /// `takeover_requested`, `takeover_started`, `handback_reported`, `cases_kept`,
    /// `post_uncovered`, `level_during_absence`.
    pub kind: String,
    pub subject_id: Option<String>,
    pub text: String,
    pub created_at: Timestamp,
    pub read: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListNotices {
    #[serde(default)]
    pub unread_only: bool,
}

impl Operation for ListNotices {
    const NAME: &'static str = "inbox.list";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<StaffNotice>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<StaffNotice>> {
        let me = cx.actor.staff()?.clone();
        let mut stmt = cx.tx.prepare(
            "SELECT id, kind, subject_id, text, created_at, read_at IS NOT NULL FROM staff_notices
             WHERE staff_id = ?1 AND (NOT ?2 OR read_at IS NULL) ORDER BY created_at DESC LIMIT 100",
        )?;
        Ok(stmt
            .query_map(params![me.staff_id, self.unread_only], |r| {
                Ok(StaffNotice {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    subject_id: r.get(2)?,
                    text: r.get(3)?,
                    created_at: from_ms(r.get(4)?),
                    read: r.get(5)?,
                })
            })?
            .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
    }
}

/// Mark one notice read, or all of the caller's.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct MarkNoticesRead {
    #[serde(default)]
    pub id: Option<String>,
}

impl Operation for MarkNoticesRead {
    const NAME: &'static str = "inbox.read";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = u32;
    fn run(self, cx: &mut Cx<'_>) -> Result<u32> {
        let me = cx.actor.staff()?.clone();
        let n = match self.id.as_deref().filter(|s| !s.is_empty()) {
            Some(id) => {
                let id = validate::id("id", "通知", id)?;
                cx.tx.execute(
                    "UPDATE staff_notices SET read_at = ?3 WHERE id = ?1 AND staff_id = ?2 AND read_at IS NULL",
                    params![id, me.staff_id, cx.ms()],
                )?
            }
            None => cx.tx.execute(
                "UPDATE staff_notices SET read_at = ?2 WHERE staff_id = ?1 AND read_at IS NULL",
                params![me.staff_id, cx.ms()],
            )?,
        };
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "staff_notice",
                self.id.as_deref(),
                format!("已读通知 {n} 条"),
            ),
        )?;
        Ok(n as u32)
    }
}
