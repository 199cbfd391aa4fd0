//! 差评整改: every bad rating is followed up to the end (国办发〔2019〕51号: “差评必整改、
//! 整改必反馈”; 实名差评回访整改率 is one of the figures a hall is ranked on).
//!
//! Contract:
//! - A 不满意 or 非常不满意 opens one rectification item with two clocks on the working-day
//!   calendar, counted from the day of the rating (that day not counted): **回访核实** within
//!   `verify_days` (1 by default) and **整改反馈** within `verify_days + rectify_days` (5 more by
//!   default). The item keeps the day counts it opened with, so its due dates are a pure function
//!   of its opening day, those counts and the calendar; a later change of the hall's settings
//!   moves no clock already running. Yellow on the due day, red once it has passed.
//! - The call back (`followup.verify`) records who called, when, and what was found.
//! - It ends with one outcome (`followup.close`, after the call back): 立行立改 (fixed),
//!   限期整改 (a dated plan), 解释说明 (explained: the complaint had no basis in the rules),
//!   with whether the applicant is satisfied with the answer.
//! - Or with 申诉: the rated clerk disputes a mistaken rating (`followup.dispute`, once), a
//!   supervisor decides (`followup.decide_dispute`). Upheld, the rating is taken out of the
//!   clerk's figures (`ratings.excluded_at`) but stays on record; rejected, the item goes on.

use crate::kernel::store::{Optional, Tx};
use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::rating::{RatingChannel, RatingLevel};
use crate::calendar::{CalendarOf, DayCount, WorkCalendar};
use crate::deadlines::WarningLevel;
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, hall_date, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

/// How a rectification ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FollowupOutcome {
    /// 立行立改.
    Fixed,
    /// 限期整改: a plan with a date.
    Plan,
    /// 解释说明: explained, the complaint had no basis.
    Explained,
    /// 申诉成立: the supervisor upheld the clerk's dispute.
    Dispute,
}

impl FollowupOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Plan => "plan",
            Self::Explained => "explained",
            Self::Dispute => "dispute",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "fixed" => Some(Self::Fixed),
            "plan" => Some(Self::Plan),
            "explained" => Some(Self::Explained),
            "dispute" => Some(Self::Dispute),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Fixed => "立行立改",
            Self::Plan => "限期整改",
            Self::Explained => "解释说明",
            Self::Dispute => "申诉成立",
        }
    }
}

/// One clock of a rectification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct FollowupClock {
    pub days: u32,
    #[ts(type = "string")]
    pub due_date: Date,
    pub done_at: Option<Timestamp>,
    /// Done by the end of its due date; `None` while running.
    pub on_time: Option<bool>,
    /// While running: yellow on the due day, red once it has passed.
    pub level: WarningLevel,
    /// The count passes a year whose holidays are not published yet.
    pub provisional: bool,
}

/// The clock that opened on `opened` for `days` working days (the opening day not counted).
pub fn clock(
    cal: &WorkCalendar,
    opened: Date,
    days: u32,
    done_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<FollowupClock> {
    let (due_date, provisional) = cal.add_workdays(opened, days, DayCount::NextDay)?;
    let today = hall_date(now);
    let (on_time, level) = match done_at {
        Some(d) => (Some(hall_date(d) <= due_date), WarningLevel::None),
        None if today > due_date => (None, WarningLevel::Red),
        None if today == due_date => (None, WarningLevel::Yellow),
        None => (None, WarningLevel::None),
    };
    Ok(FollowupClock {
        days,
        due_date,
        done_at,
        on_time,
        level,
        provisional,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Dispute {
    pub reason: String,
    pub by: Option<String>,
    pub at: Timestamp,
    /// `None` while the supervisor has not decided; `Some(true)` upheld.
    pub upheld: Option<bool>,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Followup {
    pub id: String,
    pub ticket_id: String,
    pub number: String,
    pub day: String,
    pub level: RatingLevel,
    pub reasons: Vec<String>,
    pub comment: String,
    pub channel: RatingChannel,
    pub window_number: Option<u32>,
    pub staff_id: Option<String>,
    pub staff_name: Option<String>,
    pub created_at: Timestamp,
    /// 回访核实.
    pub verify: FollowupClock,
    pub verified_by: Option<String>,
    pub verify_note: Option<String>,
    /// 整改反馈.
    pub rectify: FollowupClock,
    pub closed: bool,
    pub closed_at: Option<Timestamp>,
    pub closed_by: Option<String>,
    pub outcome_kind: Option<FollowupOutcome>,
    pub outcome: Option<String>,
    #[ts(type = "string | null")]
    pub plan_date: Option<Date>,
    pub applicant_satisfied: Option<bool>,
    pub dispute: Option<Dispute>,
    /// The rating no longer counts in the clerk's figures (an upheld dispute).
    pub excluded: bool,
    /// The worse of the running clocks.
    pub warning: WarningLevel,
}

const SELECT: &str = "SELECT f.id, f.ticket_id, t.number, t.day, r.level, r.comment, w.number, s.name,
        f.created_at, f.status = 'closed', f.closed_at, cb.name, f.outcome,
        r.reasons, r.channel, r.staff_id, f.verify_days, f.rectify_days, f.verified_at, vb.name,
        f.verify_note, f.outcome_kind, f.plan_date, f.applicant_satisfied, f.disputed_at,
        db.name, f.dispute_reason, f.dispute_decision, f.dispute_decided_at, dd.name,
        r.excluded_at IS NOT NULL
    FROM followups f JOIN ratings r ON r.ticket_id = f.ticket_id JOIN tickets t ON t.id = f.ticket_id
    LEFT JOIN windows w ON w.id = r.window_id LEFT JOIN staff s ON s.id = r.staff_id
    LEFT JOIN staff cb ON cb.id = f.closed_by LEFT JOIN staff vb ON vb.id = f.verified_by
    LEFT JOIN staff db ON db.id = f.disputed_by LEFT JOIN staff dd ON dd.id = f.dispute_decided_by";

/// A row before its clocks are computed.
struct Raw {
    f: Followup,
    verify_days: u32,
    rectify_days: u32,
    verified_at: Option<Timestamp>,
}

fn raw(r: &crate::kernel::store::Row<'_>) -> crate::kernel::store::StoreResult<Raw> {
    let created_at = from_ms(r.get(8)?);
    let closed_at = r.get::<_, Option<i64>>(10)?.map(from_ms);
    let reasons: String = r.get(13)?;
    let disputed_at = r.get::<_, Option<i64>>(24)?.map(from_ms);
    let decision: Option<String> = r.get(27)?;
    let placeholder = FollowupClock {
        days: 0,
        due_date: hall_date(created_at),
        done_at: None,
        on_time: None,
        level: WarningLevel::None,
        provisional: false,
    };
    Ok(Raw {
        verify_days: r.get::<_, i64>(16)? as u32,
        rectify_days: r.get::<_, i64>(17)? as u32,
        verified_at: r.get::<_, Option<i64>>(18)?.map(from_ms),
        f: Followup {
            id: r.get(0)?,
            ticket_id: r.get(1)?,
            number: r.get(2)?,
            day: r.get(3)?,
            level: RatingLevel::from_score(r.get(4)?).unwrap_or(RatingLevel::VeryDissatisfied),
            comment: r.get(5)?,
            window_number: r.get(6)?,
            staff_name: r.get(7)?,
            created_at,
            closed: r.get(9)?,
            closed_at,
            closed_by: r.get(11)?,
            outcome: r.get(12)?,
            reasons: serde_json::from_str(&reasons).unwrap_or_default(),
            channel: RatingChannel::parse(&r.get::<_, String>(14)?),
            staff_id: r.get(15)?,
            verify: placeholder.clone(),
            verified_by: r.get(19)?,
            verify_note: r.get(20)?,
            rectify: placeholder,
            outcome_kind: r
                .get::<_, Option<String>>(21)?
                .and_then(|k| FollowupOutcome::parse(&k)),
            plan_date: r.get::<_, Option<String>>(22)?.and_then(|d| d.parse().ok()),
            applicant_satisfied: r.get(23)?,
            dispute: disputed_at
                .map(|at| -> crate::kernel::store::StoreResult<Dispute> {
                    Ok(Dispute {
                        reason: r.get::<_, Option<String>>(26)?.unwrap_or_default(),
                        by: r.get(25)?,
                        at,
                        upheld: decision.as_deref().map(|d| d == "upheld"),
                        decided_by: r.get(29)?,
                        decided_at: r.get::<_, Option<i64>>(28)?.map(from_ms),
                    })
                })
                .transpose()?,
            excluded: r.get(30)?,
            warning: WarningLevel::None,
        },
    })
}

/// The row with its clocks as of `now`.
fn finish(cal: &WorkCalendar, raw: Raw, now: Timestamp) -> Result<Followup> {
    let mut f = raw.f;
    let opened = hall_date(f.created_at);
    // A closed item stops both clocks; the call back stops the first.
    let verify_done = raw.verified_at.or(f.closed_at);
    f.verify = clock(cal, opened, raw.verify_days, verify_done, now)?;
    f.rectify = clock(
        cal,
        opened,
        raw.verify_days + raw.rectify_days,
        f.closed_at,
        now,
    )?;
    // A dispute waiting for the supervisor stops no clock: disputes are decided fast.
    f.warning = f.verify.level.max(f.rectify.level);
    Ok(f)
}

fn get(cx: &Cx<'_>, id: &str) -> Result<Followup> {
    let r = cx
        .tx
        .query_row(&format!("{SELECT} WHERE f.id = ?1"), [id], raw)
        .optional()?
        .ok_or_else(|| CoreError::not_found("差评整改", id).field("id"))?;
    finish(&*cx.calendar()?, r, cx.now)
}

/// Every rectification matching a WHERE clause, with its clocks.
pub(crate) fn select(
    tx: &Tx<'_>,
    cal: &WorkCalendar,
    now: Timestamp,
    where_order: &str,
    args: impl crate::kernel::store::Args,
) -> Result<Vec<Followup>> {
    let mut stmt = tx.prepare(&format!("{SELECT} WHERE {where_order}"))?;
    let rows = stmt
        .query_map(args, raw)?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    rows.into_iter().map(|r| finish(cal, r, now)).collect()
}

/// The supervisor's board of rectifications, open ones first, the most urgent on top.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(default)]
pub struct ListFollowups {
    pub include_closed: bool,
}

impl Operation for ListFollowups {
    const NAME: &'static str = "followup.list";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = Vec<Followup>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<Followup>> {
        let cal = cx.calendar()?;
        let mut list = select(
            cx.tx,
            &cal,
            cx.now,
            "f.status = 'open' OR ?1 ORDER BY f.status = 'closed', f.created_at DESC LIMIT 500",
            [self.include_closed],
        )?;
        // Open first; among them red before yellow, then the oldest.
        list.sort_by(|a, b| {
            a.closed
                .cmp(&b.closed)
                .then(b.warning.cmp(&a.warning))
                .then(if a.closed {
                    b.created_at.cmp(&a.created_at)
                } else {
                    a.created_at.cmp(&b.created_at)
                })
        });
        Ok(list)
    }
}

/// A clerk's own bad ratings and where their rectification stands (the counter shows them, and
/// the clerk may dispute one from there).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct MyFollowups {}

impl Operation for MyFollowups {
    const NAME: &'static str = "followup.mine";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<Followup>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<Followup>> {
        let me = cx.actor.staff()?.staff_id.clone();
        let cal = cx.calendar()?;
        select(
            cx.tx,
            &cal,
            cx.now,
            "r.staff_id = ?1 AND (f.status = 'open' OR f.closed_at > ?2)
             ORDER BY f.created_at DESC LIMIT 50",
            rusqlite::params![me, to_ms(cx.now) - 30 * 86_400_000],
        )
    }
}

fn refuse_closed(f: &Followup, action: &str) -> Result<()> {
    if f.closed {
        return Err(CoreError::new(
            ErrorCode::InvalidTransition,
            format!("{} 的差评整改已办结", f.number),
        )
        .param("number", &f.number)
        .param("status", "closed")
        .param("action", action));
    }
    Ok(())
}

fn refuse_pending_dispute(f: &Followup, action: &str) -> Result<()> {
    if f.dispute.as_ref().is_some_and(|d| d.upheld.is_none()) {
        return Err(CoreError::new(
            ErrorCode::InvalidTransition,
            format!("{} 的申诉尚待裁定", f.number),
        )
        .param("number", &f.number)
        .param("status", "disputed")
        .param("action", action));
    }
    Ok(())
}

/// 回访核实: the applicant was called back; what was found.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct VerifyFollowup {
    pub id: String,
    pub note: String,
}

impl Operation for VerifyFollowup {
    const NAME: &'static str = "followup.verify";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Followup;
    fn run(self, cx: &mut Cx<'_>) -> Result<Followup> {
        let id = validate::id("id", "差评整改", &self.id)?;
        let note = validate::text("note", "回访核实情况", &self.note, 500)?;
        let before = get(cx, &id)?;
        refuse_closed(&before, "verify")?;
        if before.verify.done_at.is_some() {
            return Err(CoreError::new(
                ErrorCode::InvalidTransition,
                format!("{} 已回访核实", before.number),
            )
            .param("number", &before.number)
            .param("status", "verified")
            .param("action", "verify"));
        }
        let staff_id = cx.actor.staff().ok().map(|s| s.staff_id.clone());
        cx.tx.execute(
            "UPDATE followups SET verified_at = ?2, verified_by = ?3, verify_note = ?4 WHERE id = ?1",
            params![id, to_ms(cx.now), staff_id, note],
        )?;
        let after = get(cx, &id)?;
        cx.record(
            Topic::Queue,
            AuditDraft::new(
                "followup",
                Some(&id),
                format!("{} 差评回访核实", after.number),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

/// Close a rectification with its outcome (after the call back).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CloseFollowup {
    pub id: String,
    pub outcome_kind: FollowupOutcome,
    /// What was done, or the explanation given.
    pub outcome: String,
    /// 限期整改: the date the plan is due, `YYYY-MM-DD`.
    #[serde(default)]
    pub plan_date: Option<String>,
    /// Whether the applicant is satisfied with the answer (`None`: not reached).
    #[serde(default)]
    pub applicant_satisfied: Option<bool>,
}

impl Operation for CloseFollowup {
    const NAME: &'static str = "followup.close";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Followup;
    fn run(self, cx: &mut Cx<'_>) -> Result<Followup> {
        let id = validate::id("id", "差评整改", &self.id)?;
        let outcome = validate::text("outcome", "整改及反馈情况", &self.outcome, 500)?;
        if self.outcome_kind == FollowupOutcome::Dispute {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                "申诉须由被评价人提出、主管裁定，不能直接办结为申诉",
            )
            .field("outcome_kind"));
        }
        let plan_date = match (self.outcome_kind, self.plan_date.as_deref()) {
            (FollowupOutcome::Plan, None | Some("")) => {
                return Err(
                    CoreError::new(ErrorCode::Required, "限期整改须填写整改期限")
                        .field("plan_date"),
                );
            }
            (FollowupOutcome::Plan, Some(d)) => {
                let d = crate::calendar::parse_date("plan_date", d)?;
                if d < hall_date(cx.now) {
                    return Err(
                        CoreError::new(ErrorCode::OutOfRange, "整改期限不能早于今天")
                            .field("plan_date"),
                    );
                }
                Some(d)
            }
            (_, _) => None,
        };
        let before = get(cx, &id)?;
        refuse_closed(&before, "close")?;
        refuse_pending_dispute(&before, "close")?;
        if before.verify.done_at.is_none() {
            return Err(CoreError::new(
                ErrorCode::InvalidTransition,
                format!("{} 尚未回访核实，请先回访申请人", before.number),
            )
            .param("number", &before.number)
            .param("status", "open")
            .param("action", "close"));
        }
        let staff_id = cx.actor.staff().ok().map(|s| s.staff_id.clone());
        cx.tx.execute(
            "UPDATE followups SET status = 'closed', closed_at = ?2, closed_by = ?3, outcome = ?4,
                    outcome_kind = ?5, plan_date = ?6, applicant_satisfied = ?7 WHERE id = ?1",
            params![
                id,
                to_ms(cx.now),
                staff_id,
                outcome,
                self.outcome_kind.as_str(),
                plan_date.map(|d| d.to_string()),
                self.applicant_satisfied
            ],
        )?;
        let after = get(cx, &id)?;
        cx.record(
            Topic::Queue,
            AuditDraft::new(
                "followup",
                Some(&id),
                format!(
                    "办结 {} 的差评整改：{}",
                    after.number,
                    self.outcome_kind.label()
                ),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

/// 申诉: the rated clerk says the rating is mistaken (once per rating).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DisputeRating {
    /// The rectification the bad rating opened.
    pub id: String,
    pub reason: String,
}

impl Operation for DisputeRating {
    const NAME: &'static str = "followup.dispute";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Followup;
    fn run(self, cx: &mut Cx<'_>) -> Result<Followup> {
        let id = validate::id("id", "差评整改", &self.id)?;
        let reason = validate::text("reason", "申诉理由", &self.reason, 500)?;
        let staff_id = cx.actor.staff()?.staff_id.clone();
        let before = get(cx, &id)?;
        if before.staff_id.as_deref() != Some(staff_id.as_str()) {
            return Err(CoreError::forbidden("只有被评价的工作人员本人可以申诉"));
        }
        refuse_closed(&before, "dispute")?;
        if before.dispute.is_some() {
            return Err(CoreError::new(
                ErrorCode::InvalidTransition,
                format!("{} 的差评已申诉过", before.number),
            )
            .param("number", &before.number)
            .param("status", "disputed")
            .param("action", "dispute"));
        }
        cx.tx.execute(
            "UPDATE followups SET disputed_at = ?2, disputed_by = ?3, dispute_reason = ?4 WHERE id = ?1",
            params![id, to_ms(cx.now), staff_id, reason],
        )?;
        let after = get(cx, &id)?;
        cx.record(
            Topic::Queue,
            AuditDraft::new(
                "followup",
                Some(&id),
                format!("{} 的差评提出申诉", after.number),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

/// The supervisor's decision on a dispute.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DecideDispute {
    pub id: String,
    pub upheld: bool,
    /// The grounds of the decision.
    pub note: String,
}

impl Operation for DecideDispute {
    const NAME: &'static str = "followup.decide_dispute";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Followup;
    fn run(self, cx: &mut Cx<'_>) -> Result<Followup> {
        let id = validate::id("id", "差评整改", &self.id)?;
        let note = validate::text("note", "裁定理由", &self.note, 500)?;
        let before = get(cx, &id)?;
        refuse_closed(&before, "decide")?;
        if before.dispute.as_ref().is_none_or(|d| d.upheld.is_some()) {
            return Err(CoreError::new(
                ErrorCode::InvalidTransition,
                format!("{} 没有待裁定的申诉", before.number),
            )
            .param("number", &before.number)
            .param("status", "open")
            .param("action", "decide"));
        }
        let staff_id = cx.actor.staff().ok().map(|s| s.staff_id.clone());
        let now = to_ms(cx.now);
        cx.tx.execute(
            "UPDATE followups SET dispute_decision = ?2, dispute_decided_at = ?3, dispute_decided_by = ?4
             WHERE id = ?1",
            params![
                id,
                if self.upheld { "upheld" } else { "rejected" },
                now,
                staff_id
            ],
        )?;
        if self.upheld {
            // Out of the figures, kept on record; the item ends with the decision.
            cx.tx.execute(
                "UPDATE ratings SET excluded_at = ?2 WHERE ticket_id = ?1",
                params![before.ticket_id, now],
            )?;
            cx.tx.execute(
                "UPDATE followups SET status = 'closed', closed_at = ?2, closed_by = ?3, outcome = ?4,
                        outcome_kind = 'dispute' WHERE id = ?1",
                params![id, now, staff_id, note],
            )?;
        }
        let after = get(cx, &id)?;
        cx.record(
            Topic::Queue,
            AuditDraft::new(
                "followup",
                Some(&id),
                format!(
                    "{} 的申诉{}：{note}",
                    after.number,
                    if self.upheld {
                        "成立，该评价不计入统计"
                    } else {
                        "不成立"
                    }
                ),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}
