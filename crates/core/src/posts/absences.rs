//! Absences (离岗): requesting, deciding and listing them, and the AB guard that A and B of a
//! post are never away together unless a third person is named to cover (hall rule, AB岗工作制).

#[allow(unused_imports)]
use super::*;

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
pub(super) fn guard_inputs(
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
