//! Posts (岗位) and the A/B post system (AB岗工作制, 同岗替代制): who holds each post, who backs it
//! up, who is away, and whether any post is left uncovered.
//!
//! Rules, as hall regulations write them (see `shared/glossary.md`):
//! 1. Every post has an A (holder) and a B (backup); assignments are stable, and a change needs a
//!    supervisor and is recorded (the current row is closed, a new one opened).
//! 2. A planned absence is requested at least [`PostSettings::notice_days`] working days ahead
//!    and approved by a supervisor; inside the notice period only a supervisor's explicit
//!    override lets it through, and the override is recorded.
//! 3. An emergency absence (illness, accident) starts at once, without notice.
//! 4. **A and B of one post are never away at the same time** ([`guard`]): an absence that would
//!    overlap the partner's is refused, unless the supervisor has named a third person for that
//!    post over the whole overlap.
//!
//! Handover sheets, takeovers and hand-back build on this: see [`crate::handover`].

pub mod guard;

use crate::calendar::CalendarOf;
use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::calendar::parse_date;
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, hall_date, hall_tz, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::{DomainEvent, Topic};
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;
use crate::staff::Role;

mod absences;
pub use absences::*;
mod settings;
pub use settings::*;
mod coverage;
pub use coverage::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PostView {
    pub id: String,
    pub name: String,
    pub window_id: Option<String>,
    pub window_number: Option<u32>,
    pub primary_id: Option<String>,
    pub primary_name: Option<String>,
    pub backup_id: Option<String>,
    pub backup_name: Option<String>,
}

pub(crate) fn list_posts(tx: &Tx<'_>) -> Result<Vec<PostView>> {
    let mut stmt = tx.prepare(
        "SELECT p.id, p.name, p.window_id, w.number, a.primary_id, sa.name, a.backup_id, sb.name
         FROM posts p LEFT JOIN windows w ON w.id = p.window_id
         LEFT JOIN post_assignments a ON a.post_id = p.id AND a.valid_until IS NULL
         LEFT JOIN staff sa ON sa.id = a.primary_id LEFT JOIN staff sb ON sb.id = a.backup_id
         WHERE p.active = 1 ORDER BY w.number, p.name",
    )?;
    Ok(stmt
        .query_map([], |r| {
            Ok(PostView {
                id: r.get(0)?,
                name: r.get(1)?,
                window_id: r.get(2)?,
                window_number: r.get(3)?,
                primary_id: r.get(4)?,
                primary_name: r.get(5)?,
                backup_id: r.get(6)?,
                backup_name: r.get(7)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListPosts {}

impl Operation for ListPosts {
    const NAME: &'static str = "post.list";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<PostView>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<PostView>> {
        list_posts(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CreatePost {
    pub name: String,
    #[serde(default)]
    pub window_id: Option<String>,
}

pub(crate) fn insert_post(
    tx: &Tx<'_>,
    name: &str,
    window_id: Option<&str>,
    now: Timestamp,
) -> Result<String> {
    if let Some(w) = window_id {
        let taken: Option<String> = tx
            .query_row("SELECT name FROM posts WHERE window_id = ?1", [w], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(t) = taken {
            return Err(
                CoreError::new(ErrorCode::InvalidFormat, format!("该窗口已属于岗位“{t}”"))
                    .field("window_id"),
            );
        }
    }
    let id = new_id();
    tx.execute(
        "INSERT INTO posts (id, name, window_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![id, name, window_id, to_ms(now)],
    )?;
    Ok(id)
}

impl Operation for CreatePost {
    const NAME: &'static str = "post.create";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = PostView;
    fn run(self, cx: &mut Cx<'_>) -> Result<PostView> {
        let name = validate::text("name", "岗位名称", &self.name, 40)?;
        let window = match self.window_id.as_deref().filter(|w| !w.trim().is_empty()) {
            Some(w) => {
                let w = validate::id("window_id", "窗口", w)?;
                crate::hall::window_ref(cx.tx, &w)?;
                Some(w)
            }
            None => None,
        };
        let id = insert_post(cx.tx, &name, window.as_deref(), cx.now)?;
        cx.record(
            Topic::Staff,
            AuditDraft::new("post", Some(&id), format!("新增岗位 {name}")),
        )?;
        list_posts(cx.tx)?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| CoreError::internal("新岗位未找到"))
    }
}

pub(crate) fn staff_name(tx: &Tx<'_>, id: &str) -> Result<String> {
    tx.query_row(
        "SELECT name FROM staff WHERE id = ?1 AND active = 1",
        [id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| CoreError::not_found("人员", id))
}

pub(crate) fn assign(
    tx: &Tx<'_>,
    post_id: &str,
    primary: &str,
    backup: &str,
    reason: &str,
    by: &str,
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "UPDATE post_assignments SET valid_until = ?1 WHERE post_id = ?2 AND valid_until IS NULL",
        params![to_ms(now), post_id],
    )?;
    tx.execute(
        "INSERT INTO post_assignments (id, post_id, primary_id, backup_id, valid_from, reason, approved_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![new_id(), post_id, primary, backup, to_ms(now), reason, by],
    )?;
    Ok(())
}

/// Set a post's A and B (a supervisor's decision, recorded with its reason).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AssignPost {
    pub post_id: String,
    pub primary_id: String,
    pub backup_id: String,
    pub reason: String,
}

impl Operation for AssignPost {
    const NAME: &'static str = "post.assign";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = PostView;
    fn run(self, cx: &mut Cx<'_>) -> Result<PostView> {
        let post = validate::id("post_id", "岗位", &self.post_id)?;
        let a = validate::id("primary_id", "A 岗人员", &self.primary_id)?;
        let b = validate::id("backup_id", "B 岗人员", &self.backup_id)?;
        if a == b {
            return Err(
                CoreError::new(ErrorCode::InvalidFormat, "A 岗和 B 岗不能是同一人")
                    .field("backup_id"),
            );
        }
        let reason = validate::text("reason", "调整原因", &self.reason, 100)?;
        let (na, nb) = (staff_name(cx.tx, &a)?, staff_name(cx.tx, &b)?);
        let before = list_posts(cx.tx)?.into_iter().find(|p| p.id == post);
        let Some(before) = before else {
            return Err(CoreError::not_found("岗位", &post));
        };
        assign(
            cx.tx,
            &post,
            &a,
            &b,
            &reason,
            &cx.actor.display_name(),
            cx.now,
        )?;
        let after = list_posts(cx.tx)?
            .into_iter()
            .find(|p| p.id == post)
            .ok_or_else(|| CoreError::internal("岗位消失"))?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "post",
                Some(&post),
                format!("{}：A 岗 {na}，B 岗 {nb}（{reason}）", after.name),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

/// A takeover of `post_id` began (the handover capability tells): its A counts as away from
/// now until B's report, for the AB guard.
pub fn takeover_started(
    tx: &Tx<'_>,
    id: &str,
    post_id: &str,
    absent_id: &str,
    absence_id: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "INSERT INTO post_takeovers (id, post_id, absent_id, absence_id, starts_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, post_id, absent_id, absence_id, to_ms(now)],
    )?;
    Ok(())
}

/// B reported back: A is present again from now.
pub fn takeover_reported(tx: &Tx<'_>, id: &str, now: Timestamp) -> Result<()> {
    tx.execute(
        "UPDATE post_takeovers SET reported_at = ?2 WHERE id = ?1 AND reported_at IS NULL",
        params![id, to_ms(now)],
    )?;
    Ok(())
}

/// How the hall routes a window's queue during a takeover (a post setting).
pub fn routes_to_backup_window(tx: &Tx<'_>) -> Result<bool> {
    Ok(settings(tx)?.routing == TakeoverRouting::ToBackupWindow)
}
