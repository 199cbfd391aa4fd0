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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceKind {
    Leave,
    Meeting,
    Training,
    BusinessTrip,
    /// Illness, accident: starts at once, no notice.
    Emergency,
}

impl AbsenceKind {
    fn as_str(self) -> &'static str {
        match self {
            AbsenceKind::Leave => "leave",
            AbsenceKind::Meeting => "meeting",
            AbsenceKind::Training => "training",
            AbsenceKind::BusinessTrip => "business_trip",
            AbsenceKind::Emergency => "emergency",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Absence {
    pub id: String,
    pub staff_id: String,
    pub staff_name: String,
    pub kind: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reason: String,
    pub status: String,
    pub notice_override: bool,
}

pub(crate) fn absences(
    tx: &Tx<'_>,
    where_: &str,
    p: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Absence>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT a.id, a.staff_id, s.name, a.kind, a.starts_at, a.ends_at, a.reason, a.status, a.notice_override
         FROM absences a JOIN staff s ON s.id = a.staff_id WHERE {where_} ORDER BY a.starts_at"
    ))?;
    Ok(stmt
        .query_map(p, |r| {
            Ok(Absence {
                id: r.get(0)?,
                staff_id: r.get(1)?,
                staff_name: r.get(2)?,
                kind: r.get(3)?,
                starts_at: from_ms(r.get(4)?),
                ends_at: from_ms(r.get(5)?),
                reason: r.get(6)?,
                status: r.get(7)?,
                notice_override: r.get(8)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

pub(crate) fn absence(tx: &Tx<'_>, id: &str) -> Result<Absence> {
    absences(tx, "a.id = ?1", &[&id])?
        .pop()
        .ok_or_else(|| CoreError::not_found("离岗申请", id))
}

/// Everything the guard needs, from the database.
fn guard_inputs(
    tx: &Tx<'_>,
) -> Result<(Vec<guard::Assignment>, Vec<guard::Away>, Vec<guard::Cover>)> {
    let assignments = list_posts(tx)?
        .into_iter()
        .filter_map(|p| {
            Some(guard::Assignment {
                post_id: p.id,
                post_name: p.name,
                primary: p.primary_id?,
                backup: p.backup_id?,
            })
        })
        .collect();
    let mut away: Vec<guard::Away> = absences(tx, "a.status IN ('requested', 'approved')", &[])?
        .into_iter()
        .map(|a| guard::Away {
            staff_id: a.staff_id,
            start: to_ms(a.starts_at),
            end: to_ms(a.ends_at),
        })
        .collect();
    // A taken-over A is away from the takeover until B's report (or the end of the absence
    // it was for): an emergency takeover files no absence, yet B must not leave meanwhile.
    let mut taken = tx.prepare(
        "SELECT t.absent_id, t.starts_at, coalesce(t.reported_at, a.ends_at, ?1)
         FROM post_takeovers t LEFT JOIN absences a ON a.id = t.absence_id",
    )?;
    for row in taken.query_map([i64::MAX], |r| {
        Ok(guard::Away {
            staff_id: r.get(0)?,
            start: r.get(1)?,
            end: r.get(2)?,
        })
    })? {
        away.push(row?);
    }
    let mut stmt = tx.prepare("SELECT post_id, starts_at, ends_at FROM post_covers")?;
    let covers = stmt
        .query_map([], |r| {
            Ok(guard::Cover {
                post_id: r.get(0)?,
                start: r.get(1)?,
                end: r.get(2)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    Ok((assignments, away, covers))
}

fn check_guard(
    tx: &Tx<'_>,
    staff_id: &str,
    start: i64,
    end: i64,
    ignore: Option<&str>,
) -> Result<()> {
    let (assignments, mut away, covers) = guard_inputs(tx)?;
    if let Some(id) = ignore {
        // Re-checking an existing request: leave it out of "the others".
        let own = absences(tx, "a.id = ?1", &[&id])?;
        away.retain(|a| {
            !own.iter().any(|o| {
                o.staff_id == a.staff_id
                    && to_ms(o.starts_at) == a.start
                    && to_ms(o.ends_at) == a.end
            })
        });
    }
    let conflicts = guard::conflicts(
        &guard::Away {
            staff_id: staff_id.into(),
            start,
            end,
        },
        &assignments,
        &away,
        &covers,
    );
    if let Some(c) = conflicts.first() {
        let partner = staff_name(tx, &c.partner)?;
        let fmt = |ms: i64| {
            from_ms(ms)
                .to_zoned(hall_tz())
                .strftime("%m-%d %H:%M")
                .to_string()
        };
        return Err(CoreError::new(
            ErrorCode::BothAway,
            format!(
                "岗位“{}”的 {partner} 在 {} 至 {} 也不在岗：A、B 岗不能同时离岗，请先由分管领导指定第三人",
                c.post_name,
                fmt(c.start),
                fmt(c.end)
            ),
        )
        .param("post", &c.post_name)
        .param("partner", partner));
    }
    Ok(())
}

/// Where the queue of an absent clerk's window goes while B has taken over (a hall setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TakeoverRouting {
    /// A's window's categories (and tickets held or transferred there) are called at B's window.
    ToBackupWindow,
    /// B moves to A's window and works it; nothing is rerouted.
    BackupAtAWindow,
}

impl TakeoverRouting {
    fn as_str(self) -> &'static str {
        match self {
            TakeoverRouting::ToBackupWindow => "to_backup_window",
            TakeoverRouting::BackupAtAWindow => "backup_at_a_window",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PostSettings {
    /// Working days' notice a planned absence needs.
    pub notice_days: u32,
    pub routing: TakeoverRouting,
}

/// How a window's queue is routed during a takeover changed (see [`TakeoverRouting`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingChanged;

impl DomainEvent for RoutingChanged {
    fn name(&self) -> &'static str {
        "post.routing_changed"
    }
}

pub(crate) fn settings(tx: &Tx<'_>) -> Result<PostSettings> {
    Ok(
        tx.query_row("SELECT notice_days, routing FROM post_settings", [], |r| {
            Ok(PostSettings {
                notice_days: r.get(0)?,
                routing: if r.get::<_, String>(1)? == "backup_at_a_window" {
                    TakeoverRouting::BackupAtAWindow
                } else {
                    TakeoverRouting::ToBackupWindow
                },
            })
        })?,
    )
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetPostSettings {}

impl Operation for GetPostSettings {
    const NAME: &'static str = "post.settings";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = PostSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<PostSettings> {
        settings(cx.tx)
    }
}

/// The notice period and the takeover routing (supervisors).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdatePostSettings {
    pub settings: PostSettings,
}

impl Operation for UpdatePostSettings {
    const NAME: &'static str = "post.update_settings";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = PostSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<PostSettings> {
        let s = self.settings;
        validate::range_i64("notice_days", "提前报备工作日", s.notice_days.into(), 0, 30)?;
        let before = settings(cx.tx)?;
        cx.tx.execute(
            "UPDATE post_settings SET notice_days = ?1, routing = ?2, updated_at = ?3",
            params![s.notice_days, s.routing.as_str(), cx.ms()],
        )?;
        if before.routing != s.routing {
            // Takeovers in progress follow the new setting at once (the reactions re-route).
            cx.emit(RoutingChanged)?;
        }
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "post_settings",
                None,
                format!(
                    "AB岗设置：提前 {} 个工作日报备；顶岗时{}",
                    s.notice_days,
                    match s.routing {
                        TakeoverRouting::ToBackupWindow => "A 岗窗口的业务转到 B 岗窗口",
                        TakeoverRouting::BackupAtAWindow => "B 岗到 A 岗窗口办理",
                    }
                ),
            )
            .before(before)
            .after(s),
        )?;
        settings(cx.tx)
    }
}

/// Request an absence (a clerk for themselves, a supervisor for anyone). Planned absences wait for
/// approval; an emergency one is in force at once.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RequestAbsence {
    /// Whose absence; the caller's own when absent.
    #[serde(default)]
    pub staff_id: Option<String>,
    pub kind: AbsenceKind,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reason: String,
    /// A supervisor lets a planned absence through inside the notice period (recorded).
    #[serde(default)]
    pub notice_override: bool,
}

impl Operation for RequestAbsence {
    const NAME: &'static str = "absence.request";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Absence;
    fn run(self, cx: &mut Cx<'_>) -> Result<Absence> {
        let me = cx.actor.staff()?.clone();
        let supervisor = me.role >= Role::Supervisor;
        let staff_id = match self.staff_id.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => validate::id("staff_id", "人员", s)?,
            None => me.staff_id.clone(),
        };
        if staff_id != me.staff_id && !supervisor {
            return Err(CoreError::forbidden("只能为本人申请离岗").param("op", Self::NAME));
        }
        let name = staff_name(cx.tx, &staff_id)?;
        if self.ends_at <= self.starts_at {
            return Err(
                CoreError::new(ErrorCode::OutOfRange, "离岗结束时间须晚于开始时间")
                    .field("ends_at"),
            );
        }
        let reason = validate::text("reason", "离岗事由", &self.reason, 100)?;
        let emergency = self.kind == AbsenceKind::Emergency;
        if self.notice_override && !supervisor {
            return Err(CoreError::forbidden("只有分管领导可以准许未提前报备的离岗")
                .param("op", Self::NAME));
        }
        if !emergency {
            let need = settings(cx.tx)?.notice_days;
            let cal = cx.calendar()?;
            let ahead = cal.count_workdays(hall_date(cx.now), hall_date(self.starts_at))?;
            if ahead < need && !self.notice_override {
                return Err(CoreError::new(
                    ErrorCode::NoticePeriod,
                    format!("计划离岗须至少提前 {need} 个工作日报备（现在只提前 {ahead} 个）；如确有必要，请分管领导准许"),
                )
                .field("starts_at")
                .param("need", need)
                .param("ahead", ahead));
            }
        }
        check_guard(
            cx.tx,
            &staff_id,
            to_ms(self.starts_at),
            to_ms(self.ends_at),
            None,
        )?;
        let id = new_id();
        let status = if emergency { "approved" } else { "requested" };
        cx.tx.execute(
            "INSERT INTO absences (id, staff_id, kind, starts_at, ends_at, reason, status, notice_override, requested_by,
                                   decided_by, decided_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id,
                staff_id,
                self.kind.as_str(),
                to_ms(self.starts_at),
                to_ms(self.ends_at),
                reason,
                status,
                self.notice_override,
                me.name,
                emergency.then(|| me.name.clone()),
                emergency.then(|| cx.ms()),
                cx.ms()
            ],
        )?;
        let override_note = if self.notice_override {
            "，分管领导准许未提前报备"
        } else {
            ""
        };
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "absence",
                Some(&id),
                format!(
                    "{}离岗：{name}，{}（{reason}{override_note}）",
                    if emergency { "紧急" } else { "申请" },
                    self.kind.as_str()
                ),
            ),
        )?;
        absence(cx.tx, &id)
    }
}

/// A supervisor approves or rejects a requested absence (approval re-checks the guard).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DecideAbsence {
    pub id: String,
    pub approve: bool,
}

impl Operation for DecideAbsence {
    const NAME: &'static str = "absence.decide";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Absence;
    fn run(self, cx: &mut Cx<'_>) -> Result<Absence> {
        let id = validate::id("id", "离岗申请", &self.id)?;
        let a = absence(cx.tx, &id)?;
        if a.status != "requested" {
            return Err(
                CoreError::new(ErrorCode::InvalidTransition, "该离岗申请已处理")
                    .param("status", &a.status),
            );
        }
        if self.approve {
            check_guard(
                cx.tx,
                &a.staff_id,
                to_ms(a.starts_at),
                to_ms(a.ends_at),
                Some(&id),
            )?;
        }
        cx.tx.execute(
            "UPDATE absences SET status = ?1, decided_by = ?2, decided_at = ?3 WHERE id = ?4",
            params![
                if self.approve { "approved" } else { "rejected" },
                cx.actor.display_name(),
                cx.ms(),
                id
            ],
        )?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "absence",
                Some(&id),
                format!(
                    "{}离岗：{}",
                    if self.approve { "批准" } else { "驳回" },
                    a.staff_name
                ),
            ),
        )?;
        absence(cx.tx, &id)
    }
}

/// A supervisor names a third person for a post while both A and B are away.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct NameCover {
    pub post_id: String,
    pub staff_id: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reason: String,
}

impl Operation for NameCover {
    const NAME: &'static str = "post.name_cover";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = ();
    fn run(self, cx: &mut Cx<'_>) -> Result<()> {
        let post = validate::id("post_id", "岗位", &self.post_id)?;
        let staff = validate::id("staff_id", "人员", &self.staff_id)?;
        let name = staff_name(cx.tx, &staff)?;
        if self.ends_at <= self.starts_at {
            return Err(
                CoreError::new(ErrorCode::OutOfRange, "结束时间须晚于开始时间").field("ends_at"),
            );
        }
        let reason = validate::text("reason", "原因", &self.reason, 100)?;
        let p = list_posts(cx.tx)?
            .into_iter()
            .find(|p| p.id == post)
            .ok_or_else(|| CoreError::not_found("岗位", &post))?;
        let id = new_id();
        cx.tx.execute(
            "INSERT INTO post_covers (id, post_id, staff_id, starts_at, ends_at, reason, named_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![id, post, staff, to_ms(self.starts_at), to_ms(self.ends_at), reason, cx.actor.display_name(), cx.ms()],
        )?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "post",
                Some(&post),
                format!("指定第三人：{} 由 {name} 顶岗（{reason}）", p.name),
            ),
        )?;
        Ok(())
    }
}

/// Who is on each post, day by day (business hours), with gaps marked.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetCoverage {
    pub from: String,
    pub days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CoverageCell {
    pub post_id: String,
    pub post_name: String,
    /// `a`, `b`, `third` or `gap`.
    pub on_duty: String,
    pub staff_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CoverageDay {
    #[ts(type = "string")]
    pub date: jiff::civil::Date,
    pub workday: bool,
    pub posts: Vec<CoverageCell>,
}

impl Operation for GetCoverage {
    const NAME: &'static str = "post.coverage";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<CoverageDay>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<CoverageDay>> {
        let from = parse_date("from", &self.from)?;
        let days = validate::range_i64("days", "天数", self.days.into(), 1, 31)? as u32;
        let cal = cx.calendar()?;
        let settings = crate::deadlines::load_settings(cx.tx)?;
        let day = crate::deadlines::business_day(cx.tx, &settings)?;
        let (assignments, away, covers) = guard_inputs(cx.tx)?;
        let mut cover_names = std::collections::BTreeMap::new();
        {
            let mut stmt = cx.tx.prepare(
                "SELECT c.post_id, c.starts_at, c.ends_at, s.name FROM post_covers c JOIN staff s ON s.id = c.staff_id",
            )?;
            for row in stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })? {
                let (p, s, e, n) = row?;
                cover_names
                    .entry(p)
                    .or_insert_with(Vec::new)
                    .push((s, e, n));
            }
        }
        let names: std::collections::BTreeMap<String, String> = list_posts(cx.tx)?
            .into_iter()
            .flat_map(|p| [(p.primary_id, p.primary_name), (p.backup_id, p.backup_name)])
            .filter_map(|(i, n)| Some((i?, n?)))
            .collect();
        let mut out = vec![];
        let mut d = from;
        for _ in 0..days {
            let at = |m: u16| -> Result<i64> {
                Ok(to_ms(
                    d.at((m / 60) as i8, (m % 60) as i8, 0, 0)
                        .to_zoned(hall_tz())
                        .map_err(|e| CoreError::internal(e.to_string()))?
                        .timestamp(),
                ))
            };
            let (start, end) = (at(day.start())?, at(day.end())?);
            let posts = assignments
                .iter()
                .map(|a| {
                    let who = guard::on_duty(a, &away, &covers, start, end);
                    let staff_name = match who {
                        "a" => names.get(&a.primary).cloned(),
                        "b" => names.get(&a.backup).cloned(),
                        "third" => cover_names.get(&a.post_id).and_then(|v| {
                            v.iter()
                                .find(|(s, e, _)| *s <= start && *e >= end)
                                .map(|x| x.2.clone())
                        }),
                        _ => None,
                    };
                    CoverageCell {
                        post_id: a.post_id.clone(),
                        post_name: a.post_name.clone(),
                        on_duty: who.into(),
                        staff_name,
                    }
                })
                .collect();
            out.push(CoverageDay {
                date: d,
                workday: cal.is_workday(d)?,
                posts,
            });
            d = d
                .tomorrow()
                .map_err(|e| CoreError::internal(e.to_string()))?;
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListAbsences {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Operation for ListAbsences {
    const NAME: &'static str = "absence.list";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<Absence>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<Absence>> {
        absences(
            cx.tx,
            "a.ends_at > ?1 AND a.starts_at < ?2",
            &[&to_ms(self.from), &to_ms(self.to)],
        )
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
